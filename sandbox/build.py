"""Builds the sandbox of docs/SANDBOX.md: a product checkout, its bare remote, recorded Models CI,
and OCI image-layout registries holding a small image for every CI image the recorded runs name.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

PRODUCT = Path(__file__).parent / "product"
GIT_ENV_IDENTITY = ("-c", "user.name=release sandbox", "-c", "user.email=sandbox@release.invalid")

RELEASE_TOML = """\
# The sandbox: GitHub is served from ../github, registries are OCI layouts in ../registries.
# Everything else (workflows, engine, ledger) is the same as in a real release.
sandbox = true

[images]
build_command = ""

[registries."ghcr.io"]
url = "oci-layout:../registries/ghcr.io"
"""


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *GIT_ENV_IDENTITY, *args], cwd=cwd, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def build_product(root: Path) -> Path:
    """Copy the sample product to root/product, commit it, and push main and dev to root/remote.git."""
    repo, remote = root / "product", root / "remote.git"
    shutil.copytree(PRODUCT, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (repo / "release.toml").write_text(RELEASE_TOML)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    _git(root, "init", "-q", "-b", "main", str(repo))
    # The sandbox commits as itself; a real checkout uses the engineer's own identity.
    _git(repo, "config", "user.name", "release sandbox")
    _git(repo, "config", "user.email", "sandbox@release.invalid")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Product at v0.3.0")
    _git(repo, "branch", "dev")
    _git(repo, "remote", "add", "origin", str(remote))
    _git(repo, "push", "-q", "origin", "main", "dev")
    _git(repo, "checkout", "-q", "dev")
    return repo


def seed_registry(layout_root: Path, images: list[str]) -> int:
    """Write a small deterministic OCI image for each reference into the host's layout."""
    from release_ledger.adapters.image_factory import build_image
    from release_ledger.adapters.image_ref import ImageRef
    from release_ledger.adapters.registry.oci_layout import OciLayout

    registries: dict[str, OciLayout] = {}
    for text in images:
        ref = ImageRef.parse(text)
        registry = registries.setdefault(ref.host, OciLayout(layout_root / ref.host))
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        build_image(registry, ref.repo, ref.tag, layers=2, layer_size=4096, seed=seed)
    return len(images)


def build_sandbox(root: Path) -> Path:
    """Lay out the whole sandbox under `root`; return the product checkout."""
    from release_ledger.sandbox.ci_dataset import write_dataset

    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        from release_ledger.workflows.errors import WorkflowError

        raise WorkflowError(f"{root} is not empty; the demo needs an empty or new folder")
    from release_ledger.sandbox.demo import write_reviewer

    images = write_dataset(root / "github")
    seed_registry(root / "registries", images)
    write_reviewer(root)
    return build_product(root)
