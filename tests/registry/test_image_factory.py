"""Test images: deterministic when seeded, and real OCI content other tools accept."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from release_ledger.adapters.image_factory import build_image, build_index, stable_seed
from release_ledger.adapters.registry.oci_layout import OciLayout


def test_same_seed_same_digest(tmp_path):
    """The same name-derived seed builds the same image bytes in two places."""
    seed = stable_seed("ghcr.io/org/app:0.3.0-abc")
    one = build_index(OciLayout(tmp_path / "a"), "org/app", "t", seed=seed)
    two = build_index(OciLayout(tmp_path / "b"), "org/app", "t", seed=seed)
    assert one.digest == two.digest


def test_unseeded_images_differ(tmp_path):
    """Without a seed, each build is a new image."""
    layout = OciLayout(tmp_path)
    assert build_image(layout, "org/app").digest != build_image(layout, "org/app").digest


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_skopeo_reads_our_layout(tmp_path):
    """skopeo inspects an index we wrote into an OCI layout and sees both platforms."""
    build_index(OciLayout(tmp_path), "org/app", "0.4.0-dev")
    out = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{tmp_path / 'org/app'}:0.4.0-dev"],
                         capture_output=True, text=True, check=True).stdout
    platforms = [m["platform"]["architecture"] for m in json.loads(out)["manifests"]]
    assert platforms == ["amd64", "arm64"]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_we_read_a_layout_skopeo_wrote(tmp_path, client, registry, repo):
    """An image skopeo copied into an OCI layout reads back with its registry digest."""
    from registry_server import http_registry

    image = build_index(http_registry(client, registry), repo, "ci")
    (tmp_path / repo).parent.mkdir(parents=True)
    subprocess.run(["skopeo", "copy", "--all", "--preserve-digests", "--quiet",
                    "--src-tls-verify=false", f"docker://{registry.host}/{repo}:ci", f"oci:{tmp_path / repo}:ci"],
                   check=True, capture_output=True)
    assert OciLayout(tmp_path).get_manifest(repo, "ci").digest == image.digest
