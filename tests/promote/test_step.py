"""PromoteDevStep through the engine: `advance` moves spec-updated -> dev-promoted, or waits."""

from __future__ import annotations

import pytest

from release_ledger.engine.errors import Waiting
from release_ledger.engine.registry import register_step
from release_ledger.engine.runner import advance
from .support import CI, PRODUCT, TT, Spec, entry
from release_ledger.workflows.promote.step import PromoteDevStep

DST = f"{PRODUCT}:0.4.0-e95ffa5-48eba14"
DEV = DST.replace("-release-", "-dev-")
SRC = f"{CI}:0.3.0-{TT}-48eba14-55012345678"


def inputs(ctx):
    """The catalogue and last-good of a one-model product."""
    return [Spec("id_a_n150", DST)], {"id_a_n150": entry(293, 1, image=SRC)}


@pytest.fixture
def step_world(world):
    """A release at spec-updated with the dev step registered on plain inputs."""
    register_step(PromoteDevStep(inputs=inputs))
    world.reach_spec_updated()
    return world


def run(world, **kwargs):
    return advance(world.ledger, "0.4.0", to="dev-promoted", services=world.services,
                   repo=world.repo, out=world.out, **kwargs)


def test_advance_reaches_dev_promoted(step_world):
    """With the CI image present, advance promotes it and the state is dev-promoted."""
    step_world.push(SRC, seed=1)
    assert run(step_world).state.state == "dev-promoted"


def test_advance_waits_for_missing_image(step_world):
    """A missing CI image makes advance wait (exit 3), naming it; the state stays."""
    with pytest.raises(Waiting) as err:
        run(step_world)
    assert (err.value.exit_code, DEV in err.value.reason, step_world.state.state) == (
        3, True, "spec-updated")


def test_skip_missing_moves_on(step_world):
    """With --skip-missing the waiver is recorded and the state moves on."""
    assert run(step_world, options={"skip_missing": True}).state.state == "dev-promoted"


def test_dry_run_plan_from_advance(step_world):
    """`advance --dry-run` returns the promotion plan without writing."""
    step_world.push(SRC, seed=1)
    result = run(step_world, dry_run=True)
    [(trigger, plan)] = result.plans
    assert (trigger, plan.lines[0].startswith("copy "), step_world.digest(DEV)) == (
        "promote_dev", True, None)
