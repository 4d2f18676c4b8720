"""The model catalogue as data: templates, their expansion into ModelSpecs, and the product version.

The file is parsed with libcst and never executed (DESIGN §2): a release must not run the
product's code, and the same tree is what `workflows.catalogue_edit` edits. What is read:
module-level `ImplSpec(...)` variables and string constants, then every `ModelSpecTemplate(...)`
call in source order. Enum members are kept by name (`DeviceTypes.GALAXY_T3K` -> "GALAXY_T3K").
Anything that cannot be read statically is a `CatalogueError` naming file:line and the expression.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from release_ledger.workflows.errors import CatalogueError

CATALOGUE_PATH = "workflows/model_spec.py"

# DOMAIN §3: the devices of the seed era plus the later Blackhole boxes. A target that defines
# more in its own `class DeviceTypes` (here or in workflows/workflow_types.py) extends the list.
KNOWN_DEVICES = frozenset({
    "CPU", "E150", "N150", "P100", "P150", "P150X4", "P150X8", "N150X4", "N300", "T3K",
    "GALAXY", "GALAXY_T3K", "GPU", "P300", "P300X2",
})
STATUSES = ("EXPERIMENTAL", "FUNCTIONAL", "COMPLETE", "TOP_PERF")
DEFAULT_STATUS = "EXPERIMENTAL"  # the ModelSpecTemplate default upstream
DEFAULT_RELEASE_REPO = (
    "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"
)
# Dataclasses of the seed file that carry only data: read as dicts of their keyword arguments.
_DATA_CALLS = frozenset({"SystemRequirements", "VersionRequirement", "PerformanceTarget"})
_OTHER_ENUMS = frozenset({"ModelType", "VersionMode"})
_REQUIRED = ("weights", "impl", "tt_metal_commit", "device_model_specs")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ImplSpec(_Frozen):
    """Where a model's implementation lives (an `ImplSpec(...)` of the catalogue)."""

    impl_id: str
    impl_name: str
    repo_url: str
    code_path: str


class DeviceModelSpec(_Frozen):
    """One device entry of a template; `device` is the DeviceTypes member name."""

    device: str
    max_concurrency: int | None = None
    max_context: int | None = None
    default_impl: bool = False
    perf_targets_map: dict[str, Any] = {}
    vllm_args: dict[str, Any] = {}
    override_tt_config: dict[str, Any] = {}
    env_vars: dict[str, Any] = {}


class ModelSpecTemplate(_Frozen):
    """One `ModelSpecTemplate(...)` call as written; `status` is None when the field is absent."""

    index: int
    line: int
    impl: ImplSpec
    impl_var: str | None
    weights: list[str]
    tt_metal_commit: str
    vllm_commit: str | None = None
    device_model_specs: list[DeviceModelSpec]
    status: str | None = None
    docker_image: str | None = None
    extra: dict[str, Any] = {}  # every other keyword, evaluated (env_vars, model_type, ...)
    fields: tuple[str, ...] = ()  # the keywords present in the source, in order


class Catalogue(_Frozen):
    """Every template of one catalogue file, in source order."""

    path: str
    templates: list[ModelSpecTemplate]
    impls: dict[str, ImplSpec] = {}


class ModelSpec(_Frozen):
    """One expanded (weight, device) model, as DOMAIN §3 names it."""

    model_id: str
    model_name: str
    weight: str
    impl: ImplSpec
    impl_name: str
    impl_id: str
    device: str
    device_model_spec: DeviceModelSpec
    template_index: int
    tt_metal_commit: str
    vllm_commit: str | None
    status: str
    docker_image: str
    docker_image_explicit: bool
    default_impl: bool
    version: str
    code_link: str
    extra: dict[str, Any] = {}


# --- expansion -----------------------------------------------------------------------------

def model_name_of(weight: str) -> str:
    """The model name of a Hugging Face repo: its last path segment."""
    return weight.rstrip("/").rsplit("/", 1)[-1]


def model_id_of(impl_name: str, weight: str, device: str) -> str:
    """`id_{impl_name}_{model_name}_{device.lower()}` (DOMAIN §3)."""
    return f"id_{impl_name}_{model_name_of(weight)}_{device.lower()}"


def default_docker_image(version: str, tt_metal_commit: str, vllm_commit: str | None,
                         repo: str = DEFAULT_RELEASE_REPO) -> str:
    """The derived release image: `{repo}:{version}-{tt[:12]}[-{vllm[:12]}]` as upstream does."""
    # Upstream's generate_docker_tag cuts at 12 characters; a git-tag ref such as v0.62.0-rc33
    # is exactly 12 and stays whole (and keeps its dashes).
    tag = f"{version}-{tt_metal_commit[:12]}"
    if vllm_commit:
        tag += f"-{vllm_commit[:12]}"
    return f"{repo}:{tag}"


def expand_template(template: ModelSpecTemplate, version: str,
                    release_repo: str = DEFAULT_RELEASE_REPO) -> list[ModelSpec]:
    """One ModelSpec per (weight, device), weights outer and devices inner (DESIGN §8)."""
    explicit = template.docker_image is not None
    image = template.docker_image or default_docker_image(
        version, template.tt_metal_commit, template.vllm_commit, release_repo)
    spec_version = template.extra.get("version")
    impl = template.impl
    return [
        ModelSpec(
            model_id=model_id_of(impl.impl_name, weight, dms.device),
            model_name=model_name_of(weight), weight=weight, impl=impl,
            impl_name=impl.impl_name, impl_id=impl.impl_id, device=dms.device,
            device_model_spec=dms, template_index=template.index,
            tt_metal_commit=template.tt_metal_commit, vllm_commit=template.vllm_commit,
            status=template.status or DEFAULT_STATUS, docker_image=image,
            docker_image_explicit=explicit, default_impl=dms.default_impl,
            version=spec_version if isinstance(spec_version, str) else version,
            code_link=f"{impl.repo_url}/tree/{template.tt_metal_commit}/{impl.code_path}",
            extra={k: v for k, v in template.extra.items() if k != "version"},
        )
        for weight in template.weights
        for dms in template.device_model_specs
    ]


def expand(catalogue: Catalogue, version: str,
           release_repo: str = DEFAULT_RELEASE_REPO) -> list[ModelSpec]:
    """Every ModelSpec of the catalogue in catalogue order; duplicate model_ids are an error."""
    specs: list[ModelSpec] = []
    seen: dict[str, int] = {}
    for template in catalogue.templates:
        for spec in expand_template(template, version, release_repo):
            if spec.model_id in seen:
                raise CatalogueError(
                    f"{catalogue.path}:{template.line}: model_id {spec.model_id} is already "
                    f"defined by the template at line {seen[spec.model_id]}")
            seen[spec.model_id] = template.line
            specs.append(spec)
    return specs


def read_version(repo: Path) -> str:
    """The product version: the one line of the target's VERSION file."""
    path = repo / "VERSION"
    try:
        version = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise CatalogueError(f"{path} does not exist; the product version is read from it") from None
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise CatalogueError(f"{path} holds {version!r}, not a version X.Y.Z")
    return version
