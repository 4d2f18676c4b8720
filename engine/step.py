"""The step protocol (DESIGN §5): intent -> effect -> outcome, recorded so a kill never repeats one.

A step plans (reads the world, writes nothing) and applies. Each side effect of `apply` runs
through `StepContext.effect(key, act, reconcile)`:

1. `key` already succeeded -> return the outcome events recorded then; do nothing.
2. `key` started but never finished (the process was killed) -> `reconcile()`: events mean the
   world already shows the effect (record them, do not act); None means act again.
3. otherwise append `StepStarted(key)`, `act()`, then the outcome events and `StepSucceeded(key)`
   in ONE transaction. An exception appends `StepFailed(key, error)` and propagates.

Keys are deterministic (`promote:<dst>@<digest>`); after a rollback they are scoped by the rollback
count, because undone effects must be done again, and in a new attempt of an aborted version by
the attempt number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from release_ledger.engine import failpoints
from release_ledger.engine.events import (Event, StepFailed, StepStarted, StepSucceeded, StepWaiting,
                           parse_event)
from release_ledger.engine.report import PlainReporter, Reporter
from release_ledger.engine.secrets import scrub
from release_ledger.engine.state import ReleaseState, evolve
from release_ledger.ledger import EventStore, StoredEvent

E = TypeVar("E", bound=Event)


@dataclass
class Plan:
    """What a step would do: lines for `--dry-run`, what it would wait on, and data for apply."""

    lines: list[str] = field(default_factory=list)
    waits_on: str | None = None
    data: Any = None


@dataclass
class Outcome:
    """What a step did: done (the state moves on) or waiting; events to record with it."""

    done: bool = True
    waits_on: str | None = None
    events: list[Event] = field(default_factory=list)
    hint: str | None = None


class Step(Protocol):
    """One forward transition of the release, provided by `workflows/`."""

    trigger: str

    def plan(self, ctx: "StepContext") -> Plan:
        """What applying would do, computed without writing anything."""

    def apply(self, ctx: "StepContext", plan: Plan) -> Outcome:
        """Make the plan true, every effect through `ctx.effect`."""


_STATUS = {"StepStarted": "started", "StepSucceeded": "succeeded", "StepFailed": "failed"}


def step_statuses(events: list[StoredEvent]) -> dict[str, str]:
    """Each effect key's latest status (started, succeeded or failed) in a release's events."""
    statuses: dict[str, str] = {}
    for event in events:
        status = _STATUS.get(event.type)
        if status:
            statuses[event.payload["key"]] = status
    return statuses


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return scrub(f"{type(exc).__name__}: {text}")[:1000]


class StepContext:
    """Everything a step needs: the ledger, the release's state, the repo, services, options."""

    def __init__(self, ledger: EventStore, state: ReleaseState, *, step: str = "",
                 repo: Path | None = None, services: Any = None,
                 options: dict[str, Any] | None = None, dry_run: bool = False,
                 out: Reporter | None = None, actor: str | None = None):
        self.ledger, self.state, self.step = ledger, state, step
        self.repo = Path(repo) if repo is not None else Path.cwd()
        self.services, self.options = services, dict(options or {})
        self.dry_run, self.actor = dry_run, actor
        self.out: Reporter = out or PlainReporter(quiet=True)
        self._history: list[StoredEvent] | None = None
        self._statuses: dict[str, str] | None = None

    @property
    def version(self) -> str:
        """The release's target version (fixed at start)."""
        return self.state.version

    # -- reading ----------------------------------------------------------------------------

    def history(self) -> list[StoredEvent]:
        """The events of this release's current attempt, oldest first (cached; refreshed after
        each append): an aborted attempt's effects are not this attempt's."""
        if self._history is None:
            after = max(0, self.state.attempt_seq - 1)
            self._history = list(self.ledger.events(self.version, after_seq=after))
        return self._history

    def step_status(self, key: str) -> str | None:
        """started, succeeded or failed for an effect key (already scoped), or None."""
        if self._statuses is None:
            self._statuses = step_statuses(self.history())
        return self._statuses.get(key)

    def events_of(self, cls: type[E]) -> list[E]:
        """This release's recorded events of one class, parsed, oldest first."""
        return [parse_event(e) for e in self.history() if e.type == cls.type]  # type: ignore

    def started_event(self) -> dict[str, Any]:
        """The payload of the release's ReleaseStarted event."""
        return self.history()[0].payload

    # -- writing ----------------------------------------------------------------------------

    def record(self, *events: Event, keys: list[str | None] | None = None) -> list[StoredEvent]:
        """Append events together (one transaction) and fold them into `state`."""
        if self.dry_run:
            raise RuntimeError("a dry run records nothing")  # a bug in the step, not user error
        keys = keys or [None] * len(events)
        stored = self.ledger.append(self.version, [e.to_new(k) for e, k in zip(events, keys)],
                                    expected_release_seq=self.state.release_seq, actor=self.actor)
        for row in stored:
            self.state = evolve(self.state, row)
        if self._history is not None:
            self._history.extend(stored)
        if self._statuses is not None:
            self._statuses.update(step_statuses(stored))
        return stored

    def scoped(self, key: str) -> str:
        """The ledger key of an effect: after a rollback, or in a new attempt of an aborted
        version, the same effect is a new one."""
        if self.state.rollbacks:
            key = f"{key}#after-rollback-{self.state.rollbacks}"
        return key if self.state.attempt == 1 else f"{key}#attempt-{self.state.attempt}"

    def outcome_of(self, key: str) -> list[Event] | None:
        """The outcome events recorded when `key` succeeded, or None if it has not."""
        scoped = self.scoped(key)
        if self.step_status(scoped) != "succeeded":
            return None
        history = self.history()
        for i in range(len(history) - 1, -1, -1):
            row = history[i]
            if row.type == StepSucceeded.type and row.payload["key"] == scoped:
                n = row.payload.get("outcomes", 0)
                return [parse_event(e) for e in history[i - n:i]]
        return None

    def recorded_intent(self, key: str) -> dict[str, Any]:
        """The intent recorded by the latest StepStarted of effect `key` ({} when none).

        After a kill, this is what the killed attempt saw and meant (e.g. a file's hash before
        it wrote it), which the world may no longer show.
        """
        scoped = self.scoped(key)
        for event in reversed(self.history()):
            if event.type == StepStarted.type and event.payload.get("key") == scoped:
                return dict(event.payload.get("intent") or {})
        return {}

    def effect(self, key: str, act: Callable[[], list[Event]],
               reconcile: Callable[[], list[Event] | None] | None = None,
               intent: dict[str, Any] | None = None) -> list[Event]:
        """Run one side effect at most once (see the module docstring); return its outcome events."""
        done = self.outcome_of(key)
        if done is not None:
            return done
        scoped = self.scoped(key)
        if self.step_status(scoped) == "started" and reconcile is not None:
            found = reconcile()
            if found is not None:
                self._succeed(scoped, found, reconciled=True)
                return found
        self.record(StepStarted(key=scoped, step=self.step, intent=intent or {}))
        failpoints.hit(f"{self.step}:{key}:before-effect")
        try:
            outcome = list(act())
        except BaseException as exc:
            if isinstance(exc, Exception):
                self.record(StepFailed(key=scoped, step=self.step, error=_error_text(exc)))
            raise
        failpoints.hit(f"{self.step}:{key}:after-effect")
        self._succeed(scoped, outcome)
        return outcome

    def _succeed(self, scoped: str, outcome: list[Event], reconciled: bool = False) -> None:
        done = StepSucceeded(key=scoped, step=self.step, outcomes=len(outcome),
                             reconciled=reconciled)
        self.record(*outcome, done,
                    keys=[None] * len(outcome) + [f"{self.version}:{scoped}"])

    def wait(self, reason: str) -> None:
        """Record that the step waits on `reason` (once per distinct reason)."""
        if self.state.waiting_on != reason:
            self.record(StepWaiting(step=self.step, reason=reason))
