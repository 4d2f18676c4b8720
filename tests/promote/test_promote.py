"""Dev and rc promotion on OCI-layout registries: digests pinned, recorded, never overwritten."""

from __future__ import annotations

import json

import pytest

from release_ledger.adapters.image_factory import build_index
from release_ledger.adapters.image_ref import ImageRef
from release_ledger.engine.events import StepStarted
from .support import CI, MEDIA, PRODUCT, TT, Spec, entry
from release_ledger.workflows.errors import PromotionError
from release_ledger.workflows.promote.step import plan_promotion, promote_images
from release_ledger.workflows.promote.events import DestinationInspected, ImagePromoted, ImagesWaived
from release_ledger.workflows.promote.plan import plan_dev

DST = f"{PRODUCT}:0.4.0-e95ffa5-48eba14"
DEV = DST.replace("-release-", "-dev-")
SRC = f"{CI}:0.3.0-{TT}-48eba14-55012345678"
MISSING = f"{PRODUCT}:0.4.0-0000000-a91b644"


def dev(world, specs, last_good, **options):
    """Run the dev promotion on plain catalogue data; returns the Outcome."""
    ctx = world.ctx(**options)
    return promote_images(ctx, "dev", plan_promotion(ctx, "dev", plan_dev(specs, last_good)))


def one(world, **options):
    """Dev-promote the single model whose CI image is SRC."""
    return dev(world, [Spec("id_a_n150", DST)], {"id_a_n150": entry(293, 1, image=SRC)}, **options)


def test_copy_lands_the_source_digest(world):
    """The dev destination ends up holding exactly the CI image's digest."""
    digest = world.push(SRC, seed=1)
    one(world)
    assert world.digest(DEV) == digest


def test_copy_recorded_with_both_digests(world):
    """The ledger records source, destination and previous digest of the copy."""
    digest = world.push(SRC, seed=1)
    one(world)
    [ev] = world.events(ImagePromoted)
    assert (ev.kind, ev.source, ev.source_digest, ev.digest, ev.previous_digest) == (
        "copied", SRC, digest, digest, None)


def test_previous_digest_recorded_before_the_write(world):
    """What the destination held is in the ledger before the copy's effect starts."""
    world.push(SRC, seed=1)
    one(world)
    types = [type(e).__name__ for e in world.events() if isinstance(e, (DestinationInspected,
                                                                         StepStarted))]
    assert types == ["DestinationInspected", "StepStarted"]


def test_same_registry_copy_mounts_every_blob(world):
    """Promotion inside one registry moves no layer bytes: every blob is mounted."""
    world.push(SRC, seed=1)
    one(world)
    [ev] = world.events(ImagePromoted)
    assert (ev.bytes_uploaded, ev.bytes_mounted > 0) == (0, True)


def test_shared_destination_copied_once(world):
    """Three models sharing one image give one copy, from the newest run."""
    world.push(SRC, seed=1)
    older = f"{CI}:0.3.0-{TT}-48eba14-1"
    world.push(older, seed=2)
    specs = [Spec("id_a_n150", DST), Spec("id_a_n300", DST), Spec("id_b_t3k", DST)]
    lg = {"id_a_n150": entry(290, 1, image=older), "id_a_n300": entry(293, 2, image=SRC),
          "id_b_t3k": {}}
    dev(world, specs, lg)
    [ev] = world.events(ImagePromoted)
    assert (ev.source, ev.others, ev.models) == (SRC, [older], ["id_a_n150", "id_a_n300", "id_b_t3k"])


def test_index_keeps_its_digest(world):
    """An amd64+arm64 index is promoted with its digest unchanged."""
    ref = ImageRef.parse(SRC)
    index = build_index(world.registry(SRC), ref.repo, ref.tag, seed=5)
    one(world)
    assert world.digest(DEV) == index.digest


def test_existing_same_digest_is_done(world):
    """A destination already at the source digest is recorded as existing, not copied."""
    digest = world.push(SRC, seed=1)
    world.push(DEV, seed=1)
    one(world)
    [ev] = world.events(ImagePromoted)
    assert (ev.kind, ev.digest, world.events(StepStarted)) == ("existing_with_ci", digest, [])


def test_other_digest_stops(world):
    """A destination holding another digest stops the step naming it and both digests."""
    src = world.push(SRC, seed=1)
    there = world.push(DEV, seed=9)
    with pytest.raises(PromotionError) as err:
        one(world)
    assert DEV in str(err.value) and src in str(err.value) and there in str(err.value)


def test_other_digest_left_untouched(world):
    """A refused promotion writes neither the tag nor any ledger event."""
    world.push(SRC, seed=1)
    there = world.push(DEV, seed=9)
    before = len(world.events())
    with pytest.raises(PromotionError):
        one(world)
    assert (world.digest(DEV), len(world.events())) == (there, before)


def test_allow_overwrite_records_previous(world):
    """--allow-overwrite writes the tag and records the digest it replaced."""
    src = world.push(SRC, seed=1)
    there = world.push(DEV, seed=9)
    one(world, allow_overwrite=True)
    [ev] = world.events(ImagePromoted)
    assert (world.digest(DEV), ev.previous_digest, ev.overwrote) == (src, there, True)


def test_allow_overwrite_keeps_previous_manifest(world):
    """The replaced manifest's exact bytes are in the ledger, for rollback."""
    world.push(SRC, seed=1)
    there = world.push(DEV, seed=9)
    one(world, allow_overwrite=True)
    [ins] = world.events(DestinationInspected)
    assert (ins.previous_digest, "sha256:" + __import__("hashlib").sha256(
        ins.previous_manifest.encode()).hexdigest()) == (there, there)


def test_missing_ci_image_waits(world):
    """A CI image missing from the registry makes the step wait, naming the destination."""
    outcome = one(world)
    assert (outcome.done, DEV in outcome.waits_on) == (False, True)


def test_missing_does_not_stop_the_rest(world):
    """Images that can be promoted are, while another one waits for a build."""
    world.push(SRC, seed=1)
    specs = [Spec("id_a_n150", DST), Spec("id_afm_n150", MISSING)]
    outcome = dev(world, specs, {"id_a_n150": entry(293, 1, image=SRC), "id_afm_n150": {}})
    assert (outcome.done, world.digest(DEV) is not None) == (False, True)


def test_skip_missing_waives(world):
    """--skip-missing records a waiver and lets the state move on."""
    outcome = one(world, skip_missing=True)
    [ev] = world.events(ImagesWaived)
    assert (outcome.done, ev.images) == (True, [DEV])


def test_rerun_records_nothing_new(world):
    """Running the promotion again after it succeeded adds no event."""
    world.push(SRC, seed=1)
    one(world)
    before = len(world.events())
    one(world)
    assert len(world.events()) == before


def test_source_pinned_across_reruns(world):
    """A re-run copies the digest pinned first, even if the CI tag moved since."""
    pinned = world.push(SRC, seed=1)
    specs = [Spec("id_a_n150", DST), Spec("id_afm_n150", MISSING)]
    lg = {"id_a_n150": entry(293, 1, image=SRC), "id_afm_n150": {}}
    world.ctx().record(DestinationInspected(stage="dev", destination=DEV, source=SRC,
                                            source_digest=pinned))
    world.push(SRC, seed=2)  # the CI tag moves after the first run looked
    dev(world, specs, lg)
    assert world.digest(DEV) == pinned


def test_dry_run_writes_nothing(world):
    """A dry run changes no tag, appends no event and writes no file."""
    world.push(SRC, seed=1)
    before = len(world.events())
    ctx = world.ctx(dry_run=True)
    plan_promotion(ctx, "dev", plan_dev([Spec("id_a_n150", DST)],
                                        {"id_a_n150": entry(293, 1, image=SRC)}))
    assert (world.digest(DEV), len(world.events()),
            (world.repo / "release_logs").exists()) == (None, before, False)


def test_dry_run_plan_shows_mounts_and_bytes(world):
    """The dry-run plan says what would be copied, mounted and uploaded."""
    world.push(SRC, seed=1, layers=2, layer_size=2000)
    plan = plan_promotion(world.ctx(dry_run=True), "dev",
                          plan_dev([Spec("id_a_n150", DST)], {"id_a_n150": entry(293, 1, image=SRC)}))
    assert plan.lines[0].startswith(f"copy {SRC}@sha256:") and (
        "mount 3 blob(s) (7.5 kB), upload 0 blob(s) (0 B)" in plan.lines[0])


def test_dry_run_says_what_it_would_wait_for(world):
    """The dry-run plan names the images a real run would wait on."""
    plan = plan_promotion(world.ctx(dry_run=True), "dev",
                          plan_dev([Spec("id_a_n150", DST)], {"id_a_n150": {}}))
    assert plan.waits_on == f"1 image(s) need a build: {DEV}"


def test_summary_files_written(world):
    """The dev summary JSON lists the copied image with its source and digests."""
    digest = world.push(SRC, seed=1)
    one(world)
    data = json.loads((world.repo / "release_logs/v0.4.0/dev_artifacts_summary.json").read_text())
    assert (data["copied_images"], data["digests"][DEV]) == (
        {DEV: SRC}, {"source": digest, "destination": digest})


def test_summary_markdown_written(world):
    """The dev summary Markdown is written beside the JSON."""
    world.push(SRC, seed=1)
    one(world)
    text = (world.repo / "release_logs/v0.4.0/dev_artifacts_summary.md").read_text()
    assert text.startswith("# Release Artifacts Summary")


def test_progress_line_per_image(world):
    """Each copied image gets one progress line with the bytes mounted and uploaded."""
    world.push(SRC, seed=1, layers=1, layer_size=100)
    one(world)
    assert any(line.startswith(f"copied {DEV} from {SRC}@sha256:") and "mounted, 0 B uploaded"
               in line for line in world.out.lines)


def test_summary_line_at_the_end(world):
    """The promotion ends with one summary line of counts and bytes."""
    world.push(SRC, seed=1)
    one(world)
    assert world.out.lines[-1].startswith("dev promotion: 1 copied (")


def test_media_image_keeps_its_name(world):
    """A media image is promoted under its own name (no dev token)."""
    media_ci = "ghcr.io/tenstorrent/tt-shield/tt-media-inference-server-dev:0.3.0-2496be4-7"
    digest = world.push(media_ci, seed=3)
    dst = f"{MEDIA}:0.4.0-2496be4"
    dev(world, [Spec("id_whisper_n150", dst)],
        {"id_whisper_n150": entry(293, 7, tt="2496be4" * 5 + "a" * 5, vllm=None, image=media_ci)})
    assert world.digest(dst) == digest


def test_dry_run_plan_names_conflict(world):
    """The dry-run plan says a destination with another digest would stop the step."""
    src = world.push(SRC, seed=1)
    there = world.push(DEV, seed=9)
    plan = plan_promotion(world.ctx(dry_run=True), "dev",
                          plan_dev([Spec("id_a_n150", DST)], {"id_a_n150": entry(293, 1, image=SRC)}))
    assert plan.lines[0] == f"stop: {DEV} holds {there}, not the source's {src}"


def test_overwrite_after_refusal(world):
    """After a refused run, --allow-overwrite writes the tag and records what it replaced."""
    src = world.push(SRC, seed=1)
    there = world.push(DEV, seed=9)
    with pytest.raises(PromotionError):
        one(world)
    one(world, allow_overwrite=True)
    [ev] = world.events(ImagePromoted)
    assert (world.digest(DEV), ev.previous_digest) == (src, there)


def test_existing_without_source_recorded(world):
    """An image with no CI data that already exists is recorded as existing without CI ref."""
    digest = world.push(MISSING.replace("-release-", "-dev-"), seed=4)
    outcome = dev(world, [Spec("id_afm_n150", MISSING)], {"id_afm_n150": {}})
    [ev] = world.events(ImagePromoted)
    assert (outcome.done, ev.kind, ev.digest, ev.source) == (
        True, "existing_without_ci", digest, None)
