"""The build command for images CI did not provide, and the rc stage from recorded dev digests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .support import CI, MEDIA, PRODUCT, TT, Spec, entry
from release_ledger.workflows.promote.step import plan_promotion, promote_images
from release_ledger.workflows.promote.events import BuildCommandRan, ImagePromoted, ImagesWaived
from release_ledger.workflows.promote.plan import plan_dev

DST = f"{PRODUCT}:0.4.0-e95ffa5-48eba14"
DEV = DST.replace("-release-", "-dev-")
SRC = f"{CI}:0.3.0-{TT}-48eba14-55012345678"
NEW = f"{PRODUCT}:0.4.0-0000000-a91b644"
NEW_DEV = NEW.replace("-release-", "-dev-")
FAKE_BUILD = Path(__file__).parent / "fake_build.py"


@pytest.fixture
def built(make_world, tmp_path, monkeypatch):
    """A world whose build command pushes the images it is given."""
    record = tmp_path / "build.json"
    monkeypatch.setenv("PROMOTE_TEST_LAYOUTS", str(tmp_path / "registries"))
    monkeypatch.setenv("PROMOTE_TEST_RECORD", str(record))
    world = make_world(build_command=f"{sys.executable} {FAKE_BUILD}")
    world.record = record
    return world


def run(world, stage, specs=(), last_good=None, **options):
    """Run one stage's promotion; the dev stage on plain catalogue data."""
    ctx = world.ctx(step="promote_dev" if stage == "dev" else "promote_rc", **options)
    dests = plan_dev(list(specs), last_good or {}) if stage == "dev" else None
    return promote_images(ctx, stage, plan_promotion(ctx, stage, dests))


def test_build_command_gets_images_and_stage(built):
    """The build command receives the missing images as arguments, and version and stage."""
    run(built, "dev", [Spec("id_afm_n150", NEW)], {"id_afm_n150": {}})
    assert json.loads(built.record.read_text()) == {"args": [NEW_DEV], "version": "0.4.0",
                                                    "stage": "dev"}


def test_built_image_recorded_with_digest(built):
    """An image the build command pushed is checked again and recorded with its digest."""
    outcome = run(built, "dev", [Spec("id_afm_n150", NEW)], {"id_afm_n150": {}})
    [ev] = built.events(ImagePromoted)
    assert (outcome.done, ev.kind, ev.digest) == (True, "existing_without_ci",
                                                  built.digest(NEW_DEV))


def test_still_missing_after_build_waits(built):
    """An image the build command did not produce still makes the step wait."""
    img = f"{PRODUCT}:0.4.0-unbuildable-a91b644"
    outcome = run(built, "dev", [Spec("id_afm_n150", img)], {"id_afm_n150": {}})
    assert (outcome.done, outcome.waits_on) == (
        False, f"1 image(s) need a build: {img.replace('-release-', '-dev-')}")


def test_build_command_exit_recorded(built):
    """The build command's run is recorded with its exit code."""
    run(built, "dev", [Spec("id_afm_n150", NEW)], {"id_afm_n150": {}})
    [ev] = built.events(BuildCommandRan)
    assert (ev.images, ev.exit_code) == ([NEW_DEV], 0)


def promoted_dev(world):
    """Dev-promote one CI image and one media image; returns the dev digest."""
    digest = world.push(SRC, seed=1)
    media_ci = "ghcr.io/tenstorrent/tt-shield/tt-media-inference-server-dev:0.3.0-2496be4-7"
    world.push(media_ci, seed=3)
    specs = [Spec("id_a_n150", DST), Spec("id_w_n150", f"{MEDIA}:0.4.0-2496be4")]
    assert run(world, "dev", specs, {"id_a_n150": entry(293, 1, image=SRC),
                                     "id_w_n150": entry(293, 7, image=media_ci)}).done
    return digest


def test_rc_copies_dev_digest_to_release_name(world):
    """The rc stage gives the `-release-` name the very digest recorded at dev promotion."""
    digest = promoted_dev(world)
    run(world, "rc")
    assert world.digest(DST) == digest


def test_rc_pins_recorded_digest_not_the_dev_tag(world):
    """A dev tag moved after dev promotion does not change what rc copies."""
    digest = promoted_dev(world)
    world.push(DEV, seed=8)  # someone pushes over the dev tag
    run(world, "rc")
    assert world.digest(DST) == digest


def test_rc_media_image_is_existing(world):
    """A media image (same name for dev and release) is recorded as existing at rc."""
    promoted_dev(world)
    run(world, "rc")
    rc = {e.destination: e.kind for e in world.events(ImagePromoted) if e.stage == "rc"}
    assert rc == {DST: "copied", f"{MEDIA}:0.4.0-2496be4": "existing_with_ci"}


def test_rc_writes_release_summary(world):
    """The rc stage writes release_artifacts_summary.json with the dev image as source."""
    promoted_dev(world)
    run(world, "rc")
    data = json.loads((world.repo / "release_logs/v0.4.0/release_artifacts_summary.json")
                      .read_text())
    assert data["copied_images"] == {DST: DEV}


def test_waiver_carries_to_rc(world):
    """An image waived at dev is waived at rc too: rc does not wait for it."""
    run(world, "dev", [Spec("id_afm_n150", NEW)], {"id_afm_n150": {}}, skip_missing=True)
    outcome = run(world, "rc")
    waived = [e.images for e in world.events(ImagesWaived) if e.stage == "rc"]
    assert (outcome.done, waived) == (True, [[NEW]])


def test_rc_summary_lists_waived_as_to_build(world):
    """The release summary lists a carried waiver under images to build."""
    run(world, "dev", [Spec("id_afm_n150", NEW)], {"id_afm_n150": {}}, skip_missing=True)
    run(world, "rc")
    data = json.loads((world.repo / "release_logs/v0.4.0/release_artifacts_summary.json")
                      .read_text())
    assert data["images_to_build"] == [NEW]
