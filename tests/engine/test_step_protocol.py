"""The step protocol and advance: effects once, reconcile after a kill, waits, dry runs."""

from __future__ import annotations

from typing import ClassVar

import pytest

from release_ledger.engine.errors import Waiting
from release_ledger.engine.events import Event, ReleaseStarted
from release_ledger.engine.registry import register_step
from release_ledger.engine.releases import load_state, start_release
from release_ledger.engine.runner import advance
from release_ledger.engine.step import Outcome, Plan, StepContext


class ThingMade(Event):
    type: ClassVar[str] = "TestThingMade"
    name: str


@pytest.fixture
def release(fresh_ledger):
    start_release(fresh_ledger, ReleaseStarted(version="0.4.0", previous_version="0.3.0"))
    return fresh_ledger


def _ctx(ledger):
    return StepContext(ledger, load_state(ledger, "0.4.0"), step="collect")


def test_effect_runs_once_and_returns_its_recorded_outcome(release):
    """A second call with the same key does not act and returns the first outcome."""
    calls = []
    act = lambda: calls.append(1) or [ThingMade(name="a")]  # noqa: E731
    first = _ctx(release).effect("make:a", act)
    second = _ctx(release).effect("make:a", act)
    assert calls == [1]
    assert first == second == [ThingMade(name="a")]


def test_started_but_unfinished_effect_is_reconciled_not_repeated(release):
    """After a kill between StepStarted and the outcome, reconcile decides; act is not called."""
    from release_ledger.engine.events import StepStarted
    ctx = _ctx(release)
    ctx.record(StepStarted(key="make:a", step="collect"))  # what a killed process left
    acted = []
    out = _ctx(release).effect("make:a", lambda: acted.append(1) or [],
                               reconcile=lambda: [ThingMade(name="found")])
    assert acted == [] and out == [ThingMade(name="found")]
    assert _ctx(release).step_status("make:a") == "succeeded"


def test_failed_effect_is_recorded_and_does_not_move_the_state(release):
    """An exception records StepFailed and propagates; the state stays."""
    def boom():
        raise RuntimeError("registry said no")
    with pytest.raises(RuntimeError):
        _ctx(release).effect("make:a", boom)
    assert _ctx(release).step_status("make:a") == "failed"
    assert load_state(release, "0.4.0").state == "started"
    assert [e.payload.get("error") for e in release.events() if e.type == "StepFailed"] == \
        ["RuntimeError: registry said no"]


class _Step:
    def __init__(self, trigger, waits=False):
        self.trigger, self.waits, self.applied = trigger, waits, 0

    def plan(self, ctx):
        return Plan(lines=[f"would {self.trigger}"], waits_on="PR #1" if self.waits else None)

    def apply(self, ctx, plan):
        self.applied += 1
        ctx.effect(f"{self.trigger}:x", lambda: [ThingMade(name=self.trigger)])
        if self.waits:
            return Outcome(done=False, waits_on="waiting for PR #1 to be merged: http://pr/1")
        return Outcome()


@pytest.fixture
def steps():
    made = {t: _Step(t) for t in ("collect", "update_spec", "promote_dev", "open_pr",
                                  "promote_rc", "publish")}
    for s in made.values():
        register_step(s)
    yield made
    from release_ledger.workflows.steps import register_all
    register_all()


def test_advance_stops_at_to(release, steps):
    """--to stops once the state is reached; a second call says it is already there."""
    result = advance(release, "0.4.0", to="spec-updated")
    assert result.moved == ["collected", "spec-updated"]
    assert advance(release, "0.4.0", to="collected").already


def test_a_wait_leaves_the_state_and_records_the_reason_once(release, steps):
    """A waiting step raises Waiting (exit 3), keeps the state, and records the reason once."""
    steps["open_pr"].waits = True
    for _ in range(2):
        with pytest.raises(Waiting) as info:
            advance(release, "0.4.0")
        assert info.value.exit_code == 3
    state = load_state(release, "0.4.0")
    assert state.state == "dev-promoted"
    assert state.waiting_on == "waiting for PR #1 to be merged: http://pr/1"
    assert sum(e.type == "StepWaiting" for e in release.events()) == 1


def test_dry_run_writes_nothing(release, steps):
    """A dry run returns plans and appends no event."""
    before = release.count()
    result = advance(release, "0.4.0", dry_run=True)
    assert [t for t, _ in result.plans] == ["collect", "update_spec", "promote_dev", "open_pr",
                                            "promote_rc", "publish"]
    assert result.plans[0][1].lines == ["would collect"]
    assert release.count() == before and steps["collect"].applied == 0


def test_effects_after_a_rollback_are_new_effects(release, steps):
    """After rollback the same effect key runs again (the undone copy must be redone)."""
    from release_ledger.engine.runner import transition
    advance(release, "0.4.0", to="dev-promoted")
    ctx = StepContext(release, load_state(release, "0.4.0"), step="rollback")
    transition(ctx, "rollback")
    calls = []
    ctx = StepContext(release, load_state(release, "0.4.0"), step="promote_dev")
    ctx.effect("promote_dev:x", lambda: calls.append(1) or [])
    assert calls == [1]


def test_a_new_attempt_of_an_aborted_version_does_its_effects_again(release):
    """After abort and a new start of 0.4.0, an effect done in attempt 1 runs again, once."""
    from release_ledger.engine.runner import abort

    calls = []
    act = lambda: calls.append(1) or [ThingMade(name="a")]  # noqa: E731
    _ctx(release).effect("make:a", act)
    abort(release, "0.4.0", "bad CI night")
    state = start_release(release, ReleaseStarted(version="0.4.0", previous_version="0.3.0"))
    assert (state.state, state.attempt) == ("started", 2)
    _ctx(release).effect("make:a", act)
    _ctx(release).effect("make:a", act)
    assert calls == [1, 1]
    assert [e.type for e in release.events("0.4.0")].count("ReleaseStarted") == 2


def test_a_version_still_open_cannot_be_started_again(release):
    """Only an aborted version gets a new attempt: one still open is refused, named."""
    from release_ledger.engine.errors import ReleaseOpen

    with pytest.raises(ReleaseOpen, match="release 0.4.0 is still open"):
        start_release(release, ReleaseStarted(version="0.4.0"))
