"""`release verify` for images and `release rollback`, on OCI-layout registries."""

from __future__ import annotations

import pytest

from release_ledger.adapters.image_ref import ImageRef
from release_ledger.engine.errors import TransitionRefused
from release_ledger.engine.events import StateChanged, StepStarted, StepSucceeded
from .support import CI, PRODUCT, TT, Spec, entry
from release_ledger.workflows.errors import PromotionError
from release_ledger.workflows.promote.step import plan_promotion, promote_images
from release_ledger.workflows.promote.events import ImagePromoted, ImageRolledBack, PromotionRolledBack
from release_ledger.workflows.promote.plan import plan_dev
from release_ledger.workflows.promote.rollback import run_rollback
from release_ledger.workflows.promote.verify import check_release, verify_images

DST = f"{PRODUCT}:0.4.0-e95ffa5-48eba14"
DEV = DST.replace("-release-", "-dev-")
SRC = f"{CI}:0.3.0-{TT}-48eba14-55012345678"


def promote(world, stage="dev", **options):
    """Promote SRC at `stage` and record the state transition as the engine would."""
    step = "promote_dev" if stage == "dev" else "promote_rc"
    ctx = world.ctx(step=step, **options)
    dests = plan_dev([Spec("id_a_n150", DST)], {"id_a_n150": entry(293, 1, image=SRC)}) \
        if stage == "dev" else None
    assert promote_images(ctx, stage, plan_promotion(ctx, stage, dests)).done
    moves = {"dev": [("promote_dev", "spec-updated", "dev-promoted")],
             "rc": [("open_pr", "dev-promoted", "pr-open"),
                    ("promote_rc", "pr-open", "rc-promoted")]}[stage]
    ctx.record(*[StateChanged(trigger=t, source=s, dest=d) for t, s, d in moves])


@pytest.fixture
def dev_promoted(world):
    """A release at dev-promoted whose one destination had no tag before."""
    world.push(SRC, seed=1)
    world.reach_spec_updated()
    promote(world)
    return world


def drifts(world):
    return verify_images(world.events(), world.services.registry_for)


def rollback(world, **kwargs):
    return run_rollback(world.ledger, world.state, world.services, repo=world.repo,
                        out=world.out, **kwargs)


def test_verify_passes_after_promotion(dev_promoted):
    """Right after promotion every promoted tag is at its recorded digest."""
    assert drifts(dev_promoted) == []


def test_verify_catches_out_of_band_overwrite(dev_promoted):
    """A tag overwritten outside release is drift naming both digests."""
    recorded = dev_promoted.digest(DEV)
    pushed = dev_promoted.push(DEV, seed=77)
    assert [str(d) for d in drifts(dev_promoted)] == [
        f"{DEV} holds {pushed} but the ledger recorded {recorded}"]


def test_verify_catches_deleted_tag(dev_promoted):
    """A promoted tag deleted outside release is drift: it holds nothing."""
    ref = ImageRef.parse(DEV)
    dev_promoted.registry(DEV).delete_tag(ref.repo, ref.tag)
    [promoted] = dev_promoted.events(ImagePromoted)
    [drift] = drifts(dev_promoted)
    assert (drift.expected, drift.actual) == (promoted.digest, None)


def test_check_release_counts_tags(dev_promoted):
    """`release verify` learns how many tags were checked and which drifted."""
    assert check_release(dev_promoted.ledger, dev_promoted.state, dev_promoted.services) == (1, [])


def test_rollback_removes_new_tag(dev_promoted):
    """Rolling back a promotion removes a tag that did not exist before it."""
    rollback(dev_promoted)
    assert dev_promoted.digest(DEV) is None


def test_rollback_steps_state_back(dev_promoted):
    """After the dev rollback the release is back at spec-updated."""
    lines = rollback(dev_promoted)
    assert (dev_promoted.state.state, lines[-1]) == ("spec-updated",
                                                     "state: dev-promoted -> spec-updated")


def test_verify_passes_after_rollback(dev_promoted):
    """`verify` passes once the promotion is rolled back."""
    rollback(dev_promoted)
    assert drifts(dev_promoted) == []


def test_rollback_restores_overwritten_digest(world):
    """A tag overwritten with --allow-overwrite gets its previous digest back."""
    world.push(SRC, seed=1)
    before = world.push(DEV, seed=9)
    world.reach_spec_updated()
    promote(world, allow_overwrite=True)
    rollback(world)
    assert world.digest(DEV) == before


def test_rollback_refuses_drift(dev_promoted):
    """A destination changed since the promotion stops the rollback, naming it."""
    pushed = dev_promoted.push(DEV, seed=77)
    with pytest.raises(PromotionError) as err:
        rollback(dev_promoted)
    assert DEV in str(err.value) and pushed in str(err.value)


def test_refused_rollback_changes_nothing(dev_promoted):
    """A refused rollback leaves tags, state and ledger as they were."""
    pushed = dev_promoted.push(DEV, seed=77)
    before = len(dev_promoted.events())
    with pytest.raises(PromotionError):
        rollback(dev_promoted)
    assert (dev_promoted.digest(DEV), dev_promoted.state.state, len(dev_promoted.events())) == (
        pushed, "dev-promoted", before)


def test_force_rolls_back_drift(dev_promoted):
    """--force rolls a drifted destination back too."""
    dev_promoted.push(DEV, seed=77)
    rollback(dev_promoted, force=True)
    [ev] = dev_promoted.events(ImageRolledBack)
    assert (dev_promoted.digest(DEV), ev.forced) == (None, True)


def test_rollback_dry_run_changes_nothing(dev_promoted):
    """A dry-run rollback prints the plan and changes no tag and no event."""
    before = len(dev_promoted.events())
    lines = rollback(dev_promoted, dry_run=True)
    assert (lines[1].strip(), dev_promoted.digest(DEV) is not None,
            len(dev_promoted.events())) == (f"remove the tag on {DEV}", True, before)


def test_rc_rolled_back_before_dev(dev_promoted):
    """With both stages promoted, rollback undoes rc and leaves the dev tag."""
    promote(dev_promoted, "rc")
    rollback(dev_promoted)
    assert (dev_promoted.digest(DST), dev_promoted.digest(DEV) is not None,
            dev_promoted.state.state) == (None, True, "pr-open")


def test_second_rollback_undoes_dev(dev_promoted):
    """After rc was undone, the next rollback undoes dev."""
    promote(dev_promoted, "rc")
    rollback(dev_promoted)
    rollback(dev_promoted)
    assert [e.stage for e in dev_promoted.events(PromotionRolledBack)] == ["rc", "dev"]


def test_nothing_to_roll_back(world):
    """Rolling back a release that promoted nothing is refused by its state."""
    with pytest.raises(TransitionRefused):
        rollback(world)


def test_repromote_after_rollback_copies_again(dev_promoted):
    """After a rollback the same promotion runs again and writes the tag."""
    rollback(dev_promoted)
    promote(dev_promoted)
    assert dev_promoted.digest(DEV) is not None and drifts(dev_promoted) == []


def test_killed_copy_is_reconciled(world):
    """A copy that landed before a kill is recorded on resume, not copied again."""
    from release_ledger.adapters.copy import copy_image
    from release_ledger.adapters.image_ref import ImageRef
    from release_ledger.workflows.promote.events import DestinationInspected

    digest = world.push(SRC, seed=1)
    key = f"promote:{DEV}@{digest}"
    world.ctx().record(DestinationInspected(stage="dev", destination=DEV, source=SRC,
                                            source_digest=digest),
                       StepStarted(key=key, step="promote_dev"))
    src, dst = ImageRef.parse(SRC), ImageRef.parse(DEV)
    copy_image(world.registry(SRC), src.repo, digest, world.registry(DEV), dst.repo, dst.tag)
    world.reach_spec_updated()
    promote(world)
    [done] = [e for e in world.events(StepSucceeded) if e.key == key]
    assert done.reconciled


def test_killed_rollback_is_reconciled(dev_promoted):
    """A rollback killed after it removed a tag records it on resume instead of acting again."""
    from release_ledger.workflows.promote.events import ImagePromoted as Promoted

    [ev] = dev_promoted.events(Promoted)
    ref = ImageRef.parse(DEV)
    dev_promoted.ctx(step="rollback").record(
        StepStarted(key=f"rollback:dev:{DEV}@{ev.digest}", step="rollback"))
    dev_promoted.registry(DEV).delete_tag(ref.repo, ref.tag)
    rollback(dev_promoted)
    [done] = [e for e in dev_promoted.events(StepSucceeded) if e.key.startswith("rollback:")]
    assert done.reconciled


def test_drift_refusal_names_force(dev_promoted):
    """The refusal's hint tells how to roll drifted tags back anyway."""
    dev_promoted.push(DEV, seed=77)
    with pytest.raises(PromotionError) as err:
        rollback(dev_promoted)
    assert "--force" in err.value.hint
