"""`advance`: run the release's steps, under its lock, until a target state, a wait, or the end."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release_ledger.engine import failpoints
from release_ledger.engine.errors import EngineError, TransitionRefused, Waiting
from release_ledger.engine.events import ReleaseAborted, StateChanged
from release_ledger.engine.machine import ALL_STATES, STATES, next_state, next_trigger, reached
from release_ledger.engine.registry import get_step
from release_ledger.engine.releases import load_state, save_state
from release_ledger.engine.report import PlainReporter, Reporter
from release_ledger.engine.state import ReleaseState
from release_ledger.engine.step import Plan, StepContext
from release_ledger.ledger import EventStore


@dataclass
class AdvanceResult:
    """What `advance` did: the states passed, the final state, and dry-run plans."""

    state: ReleaseState
    moved: list[str] = field(default_factory=list)
    already: bool = False
    plans: list[tuple[str, Plan]] = field(default_factory=list)


def check_target(to: str | None) -> None:
    """Refuse a `--to` that names no state."""
    if to is not None and to not in ALL_STATES:
        raise EngineError(f"--to {to!r} is not a state; states are: {', '.join(STATES)}")


def advance(ledger: EventStore, version: str, *, to: str | None = None, dry_run: bool = False,
            options: dict[str, Any] | None = None, services: Any = None,
            repo: Path | None = None, out: Reporter | None = None,
            actor: str | None = None, before_step=None) -> AdvanceResult:
    """Run steps until `to` (or the end); raise Waiting when a person must act first.

    `before_step(ctx)` runs before every step under the lock (the workflows use it to notice hand
    edits of files the release wrote).
    """
    check_target(to)
    out = out or PlainReporter(quiet=True)
    state = load_state(ledger, version)
    if to is not None and reached(state.state, to):
        return AdvanceResult(state, already=True)
    if not state.is_open:
        return AdvanceResult(state, already=True)
    lock = contextlib.nullcontext() if dry_run else ledger.lock(version)
    with lock:
        state = load_state(ledger, version)  # what the previous holder left
        if dry_run:
            return _dry_run(ledger, state, to, options, services, repo, out, actor)
        result = AdvanceResult(state)
        try:
            while state.is_open and not (to is not None and reached(state.state, to)):
                trigger = next_trigger(state.state)
                if trigger is None:
                    break
                ctx = StepContext(ledger, state, step=trigger, repo=repo, services=services,
                                  options=options, out=out, actor=actor)
                if before_step is not None:
                    before_step(ctx)
                state = _run_step(ctx, trigger)
                result.moved.append(state.state)
        except Waiting as wait:
            wait.moved = list(result.moved)  # the states passed before the wait, for the CLI
            raise
        finally:
            save_state(ledger, load_state(ledger, version))
        result.state = state
        return result


def _run_step(ctx: StepContext, trigger: str) -> ReleaseState:
    step = get_step(trigger)
    source = ctx.state.state
    dest = next_state(source, trigger)
    plan = step.plan(ctx)
    outcome = step.apply(ctx, plan)
    if not outcome.done:
        if outcome.events:
            ctx.record(*outcome.events)
        reason = outcome.waits_on or f"{trigger} waits"
        ctx.wait(reason)
        raise Waiting(reason, hint=outcome.hint or "run `release advance` again once that is done")
    failpoints.hit(f"{trigger}:before-transition")
    ctx.record(*outcome.events, StateChanged(trigger=trigger, source=source, dest=dest))
    failpoints.hit(f"{trigger}:after-transition")
    return ctx.state


def _dry_run(ledger: EventStore, state: ReleaseState, to: str | None, options, services, repo,
             out: Reporter, actor) -> AdvanceResult:
    """Plan the next step (later ones depend on its effects), then list what would follow."""
    result = AdvanceResult(state)
    trigger = next_trigger(state.state)
    if trigger is None:
        return result
    ctx = StepContext(ledger, state, step=trigger, repo=repo, services=services,
                      options=options, dry_run=True, out=out, actor=actor)
    result.plans.append((trigger, get_step(trigger).plan(ctx)))
    current = next_state(state.state, trigger)
    while not (to is not None and reached(current, to)):
        trigger = next_trigger(current)
        if trigger is None:
            break
        result.plans.append((trigger, Plan(lines=["(planned once the steps before it are done)"])))
        current = next_state(current, trigger)
    return result


def abort(ledger: EventStore, version: str, reason: str, actor: str | None = None) -> ReleaseState:
    """Abandon the release (terminal); refused once released or already aborted."""
    if not reason.strip():
        raise EngineError("--reason must say why the release is aborted")
    with ledger.lock(version):
        state = load_state(ledger, version)
        if not state.is_open:
            raise TransitionRefused(f"release {version} is already {state.state}; "
                                    "it cannot be aborted")
        ctx = StepContext(ledger, state, step="abort", actor=actor)
        ctx.record(ReleaseAborted(reason=reason, source=state.state))
        save_state(ledger, ctx.state)
        return ctx.state


def transition(ctx: StepContext, trigger: str, *events) -> ReleaseState:
    """Record `events` and the transition `trigger` together (rollback uses it)."""
    source = ctx.state.state
    dest = next_state(source, trigger)
    ctx.record(*events, StateChanged(trigger=trigger, source=source, dest=dest))
    save_state(ctx.ledger, ctx.state)
    return ctx.state
