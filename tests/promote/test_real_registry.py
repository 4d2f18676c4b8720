"""Promotion, verify and rollback against the real docker-registry 2.8 on a loopback port."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from release_ledger.engine.events import StateChanged
from .support import TT, Spec, entry
from release_ledger.workflows.promote.step import plan_promotion, promote_images
from release_ledger.workflows.promote.events import ImagePromoted, ImageRolledBack
from release_ledger.workflows.promote.plan import plan_dev
from release_ledger.workflows.promote.rollback import run_rollback
from release_ledger.workflows.promote.verify import verify_images

sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))
from registry_server import RegistryServer  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One docker-registry (deletion enabled, as ghcr allows package deletion) for this module."""
    if not Path("/usr/bin/docker-registry").exists():
        pytest.skip("docker-registry is not installed (the project's set-up installs it)")
    srv = RegistryServer(tmp_path_factory.mktemp("registry")).start()
    yield srv
    srv.stop()


@pytest.fixture
def names(server):
    """Source and destination references in repositories no other test uses."""
    org = uuid.uuid4().hex[:8]
    src = f"{server.host}/{org}/ci/vllm-tt-metal-src-dev-ubuntu-22.04-amd64:0.3.0-{TT}-48eba14-5"
    dst = f"{server.host}/{org}/product/vllm-tt-metal-src-release-ubuntu-22.04-amd64:0.4.0-e95ffa5-48eba14"
    return src, dst, dst.replace("-release-", "-dev-")


def promote(world, src, dst):
    """Dev-promote src for one model, and move the state as the engine would."""
    world.reach_spec_updated()
    ctx = world.ctx()
    plan = plan_promotion(ctx, "dev", plan_dev([Spec("id_a_n150", dst)],
                                               {"id_a_n150": entry(293, 5, image=src)}))
    assert promote_images(ctx, "dev", plan).done
    ctx.record(StateChanged(trigger="promote_dev", source="spec-updated", dest="dev-promoted"))


def test_same_registry_promotion_moves_no_layer_bytes(world, server, names):
    """Promotion inside one registry mounts every blob: no upload reaches the registry."""
    src, dst, dev = names
    world.push(src, seed=11, layers=2, layer_size=4096)
    mark = server.mark()
    promote(world, src, dst)
    uploads = [r for r in server.access(mark) if r.method in ("PATCH", "PUT") and "/blobs/" in r.path]
    [ev] = world.events(ImagePromoted)
    assert (uploads, ev.bytes_uploaded, world.digest(dev)) == ([], 0, ev.source_digest)


def test_verify_catches_overwrite_on_registry(world, names):
    """A tag pushed over after promotion is reported with both digests."""
    src, dst, dev = names
    world.push(src, seed=11)
    promote(world, src, dst)
    pushed = world.push(dev, seed=12)
    [drift] = verify_images(world.events(), world.services.registry_for)
    assert (drift.destination, drift.actual) == (dev, pushed)


def test_rollback_removes_tag_without_tag_deletion(world, names):
    """On a registry that cannot delete tags, rollback deletes the manifest no other tag uses."""
    src, dst, dev = names
    world.push(src, seed=11)
    promote(world, src, dst)
    run_rollback(world.ledger, world.state, world.services, repo=world.repo, out=world.out)
    [ev] = world.events(ImageRolledBack)
    assert (world.digest(dev), ev.action) == (None, "manifest_deleted")


def test_rollback_keeps_manifest_another_tag_needs(world, names):
    """Rollback leaves a manifest another tag points to, and says so."""
    src, dst, dev = names
    world.push(src, seed=11)
    promote(world, src, dst)
    repo = dev.split("/", 1)[1].rsplit(":", 1)[0]
    manifest = world.registry(dev).get_manifest(repo, world.digest(dev))
    world.registry(dev).put_manifest(repo, "alias", manifest.data, manifest.media_type)
    lines = run_rollback(world.ledger, world.state, world.services, repo=world.repo, out=world.out)
    assert lines[0].startswith(f"kept {dev}: the registry cannot delete tags")


def test_verify_passes_after_rollback_on_registry(world, names):
    """After the rollback on a real registry, verify finds no drift."""
    src, dst, dev = names
    world.push(src, seed=11)
    promote(world, src, dst)
    run_rollback(world.ledger, world.state, world.services, repo=world.repo, out=world.out)
    assert verify_images(world.events(), world.services.registry_for) == []
