"""Copying images by digest between real registries and OCI layouts (DESIGN §6)."""

from __future__ import annotations

import tracemalloc

import httpx
import pytest

from release_ledger.adapters.copy import CopyError, copy_image, plan_copy, resolve
from release_ledger.adapters.image_factory import build_image, build_index
from release_ledger.adapters.registry.oci_layout import OciLayout

from registry_server import http_registry

pytestmark = pytest.mark.integration


def test_single_image_keeps_its_digest_across_registries(client, registry, second_registry, repo):
    """A single-platform image copied to another registry has the source digest under the tag."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    image = build_image(src, repo, "ci", layers=3)
    result = copy_image(src, repo, image.digest, dst, "prod/app", "0.4.0-dev")
    assert result.digest == image.digest
    assert dst.get_manifest("prod/app", "0.4.0-dev").digest == image.digest


def test_index_keeps_its_digest_and_platforms(client, registry, second_registry, repo):
    """An amd64+arm64 index keeps its digest, and both platform manifests exist at the destination."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    index = build_index(src, repo, "multi")
    copy_image(src, repo, index.digest, dst, repo, "0.4.0-release")
    copied = dst.get_manifest(repo, "0.4.0-release")
    assert copied.digest == index.digest
    assert [dst.get_manifest(repo, c.digest) is not None for c in copied.children()] == [True, True]


def test_same_registry_promotion_mounts_every_blob(client, registry, repo):
    """Promotion inside one registry mounts every blob: no layer byte passes through the client."""
    reg = http_registry(client, registry)
    index = build_index(reg, repo + "/ci", "ci", layers=2, layer_size=200_000)
    mark = registry.mark()
    result = copy_image(reg, repo + "/ci", index.digest, reg, repo + "/dev", "0.4.0-dev")
    log = registry.access(since=mark)
    assert [r for r in log if r.method == "PATCH" or (r.method == "GET" and "/blobs/" in r.path)] == []
    mounts = [r for r in log if r.method == "POST"]
    assert mounts and all("mount=" in r.path and r.status == 201 for r in mounts)
    assert (result.bytes_uploaded, result.blobs_mounted) == (0, 6)


def test_copy_writes_the_tag_last(client, registry, second_registry, repo):
    """No tag exists at the destination before every blob and child manifest is there."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    index = build_index(src, repo, "multi")
    mark = second_registry.mark()
    copy_image(src, repo, index.digest, dst, repo, "tagged")
    writes = [r for r in second_registry.access(since=mark) if r.method in ("PUT", "PATCH", "POST")]
    assert writes[-1].path == f"/v2/{repo}/manifests/tagged"
    assert all("/manifests/tagged" not in r.path for r in writes[:-1])


def test_cross_registry_copy_streams_layers(client, registry, second_registry, repo):
    """A 16 MiB layer crosses registries without the client holding more than a few MiB."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    image = build_image(src, repo, "big", layers=1, layer_size=16 << 20)
    tracemalloc.start()
    try:
        result = copy_image(src, repo, image.digest, dst, repo, "big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.bytes_uploaded > 16 << 20
    assert peak < 6 << 20


def test_second_copy_moves_nothing(client, registry, second_registry, repo):
    """Copying again finds every blob present and uploads nothing."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    image = build_image(src, repo, "ci")
    copy_image(src, repo, image.digest, dst, repo, "dev")
    again = copy_image(src, repo, image.digest, dst, repo, "dev")
    assert (again.blobs_uploaded, again.bytes_uploaded, again.blobs_present) == (0, 0, 2 + 1)


def test_dry_run_plans_and_writes_nothing(client, registry, second_registry, repo):
    """A dry-run reports what would be uploaded and leaves the destination untouched."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    image = build_image(src, repo, "ci", layers=2, layer_size=10_000)
    planned = copy_image(src, repo, image.digest, dst, repo, "dev", dry_run=True)
    assert planned.dry_run and planned.blobs_uploaded == 3
    assert planned.bytes_uploaded == sum(d.size for d in image_blobs(src, repo, image.digest))
    assert dst.get_manifest(repo, "dev") is None
    assert dst.list_tags(repo) == []


def image_blobs(reg, repo, digest):
    return reg.get_manifest(repo, digest).blobs()


def test_plan_predicts_mounts_within_one_registry(client, registry, repo):
    """Within one registry the plan mounts instead of uploading."""
    reg = http_registry(client, registry)
    image = build_image(reg, repo + "/ci", "ci")
    plan = plan_copy(reg, repo + "/ci", image.digest, reg, repo + "/dev")
    assert (plan.count("mount"), plan.count("upload"), plan.bytes_for("upload")) == (3, 0, 0)


@pytest.mark.parametrize("direction", ["layout->http", "http->layout"])
def test_copy_between_layout_and_registry_keeps_digest(client, registry, tmp_path, repo, direction):
    """An index copied between an OCI layout and a registry keeps its digest either way."""
    layout, reg = OciLayout(tmp_path), http_registry(client, registry)
    src, dst = (layout, reg) if direction == "layout->http" else (reg, layout)
    index = build_index(src, repo, "ci")
    copy_image(src, repo, index.digest, dst, repo + "/out", "v")
    assert dst.get_manifest(repo + "/out", "v").digest == index.digest


def test_layout_promotion_links_blobs(tmp_path, repo):
    """Within one layout root, promotion mounts (links) every blob."""
    layout = OciLayout(tmp_path)
    image = build_image(layout, "ci/app", "ci", layers=2)
    result = copy_image(layout, "ci/app", image.digest, layout, "prod/app", "0.4.0-dev")
    assert (result.blobs_mounted, result.bytes_uploaded) == (3, 0)
    assert layout.get_manifest("prod/app", "0.4.0-dev").digest == image.digest


def test_missing_source_blob_fails_naming_it(client, registry, second_registry, repo):
    """A manifest whose layer was deleted from the source fails the copy naming the blob."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    image = build_image(src, repo, "ci", layers=1)
    layer = image_blobs(src, repo, image.digest)[1].digest
    httpx.delete(f"{registry.url}/v2/{repo}/blobs/{layer}").raise_for_status()
    with pytest.raises(CopyError, match=f"blob {layer}.*missing"):
        copy_image(src, repo, image.digest, dst, repo, "dev")
    assert dst.get_manifest(repo, "dev") is None


def test_missing_source_image_fails_naming_it(client, registry, second_registry, repo):
    """Copying a digest the source does not have fails naming the image."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    digest = "sha256:" + "0" * 64
    with pytest.raises(CopyError, match=f"{repo}@{digest} does not exist"):
        copy_image(src, repo, digest, dst, repo, "dev")


def test_resolve_pins_a_tag(client, registry, repo):
    """resolve() gives the digest behind a tag, None for an absent tag."""
    reg = http_registry(client, registry)
    image = build_image(reg, repo, "ci")
    assert (resolve(reg, repo, "ci"), resolve(reg, repo, "absent")) == (image.digest, None)


def test_progress_reports_each_blob_and_manifest(client, registry, second_registry, repo):
    """on_progress hears of every blob uploaded and every manifest written."""
    src, dst = http_registry(client, registry), http_registry(client, second_registry)
    index = build_index(src, repo, "ci", layers=1)
    events = []
    copy_image(src, repo, index.digest, dst, repo, "dev", on_progress=events.append)
    kinds = sorted(e.kind for e in events)
    assert kinds == ["manifest"] * 3 + ["uploaded"] * 4
