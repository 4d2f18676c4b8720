"""`model_specs_output.json`: every expanded ModelSpec by model_id, enums by name (DOMAIN §3).

The shape follows upstream's `ModelSpec.get_serialized_dict()` key names (`hf_model_repo`,
`device_type`, `device_model_spec`, ...) so tools that read upstream's file read ours. Pure: the
same specs give the same bytes (catalogue order, fixed key order, a final newline).
"""

from __future__ import annotations

import json
from typing import Any

from release_ledger.workflows.spec.catalogue import ModelSpec

OUTPUT_FILE = "model_specs_output.json"  # at the target's root, as upstream (DESIGN §8)


def spec_output(spec: ModelSpec) -> dict[str, Any]:
    """One fully expanded spec as upstream serialises it; template extras follow, sorted."""
    core: dict[str, Any] = {
        "model_id": spec.model_id,
        "impl": spec.impl.model_dump(),
        "hf_model_repo": spec.weight,
        "model_name": spec.model_name,
        "device_type": spec.device,
        "tt_metal_commit": spec.tt_metal_commit,
        "vllm_commit": spec.vllm_commit,
        "device_model_spec": spec.device_model_spec.model_dump(),
        "status": spec.status,
        "version": spec.version,
        "docker_image": spec.docker_image,
        "code_link": spec.code_link,
        "default_impl": spec.default_impl,
    }
    for key in sorted(spec.extra):
        core.setdefault(key, spec.extra[key])
    return core


def render_specs_output(specs: list[ModelSpec]) -> str:
    """The text of model_specs_output.json for specs in catalogue order."""
    data = {spec.model_id: spec_output(spec) for spec in specs}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
