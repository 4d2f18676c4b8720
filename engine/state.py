"""The release's state, folded from its events: `evolve(state, event)` and `replay(events)`.

Effect keys are not part of the state (a release may hold tens of thousands): the step protocol
reads them from the history when it runs (`engine.step.step_statuses`). A ReleaseStarted after a
ReleaseAborted begins a new attempt of the same version: the fold starts afresh from it (state,
waits, rollbacks), counting attempts, while the release keeps one history (docs/ARCHITECTURE.md,
"Attempts"). The fold works on the raw rows (type + payload), so reading the state needs neither pydantic nor
the workflows' event classes: `release status` stays fast, and a ledger written by a newer version
still replays. `evolve` is pure; `replay` folds into one private mutable copy for speed and is
tested to equal folding `evolve` one event at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from release_ledger.engine.errors import InvalidEventSequence
from release_ledger.engine.machine import next_state
from release_ledger.ledger import StoredEvent


@dataclass(frozen=True)
class ReleaseState:
    """What one release is: its version, machine state, and what its steps have done."""

    version: str
    state: str = "started"
    seq: int = 0                 # global seq of the last event folded
    release_seq: int = 0         # release_seq of the last event folded
    events: int = 0
    last_event: dict[str, Any] | None = None
    started_at: str | None = None
    previous_version: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    waiting_on: str | None = None
    rollbacks: int = 0           # how many rollbacks so far: effects after one are new effects
    abort_reason: str | None = None
    attempt: int = 1             # a start of an aborted version is attempt 2, 3, ...
    attempt_seq: int = 0         # global seq of the current attempt's ReleaseStarted

    def to_json(self) -> str:
        """The state as JSON (the snapshot cache)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "ReleaseState":
        """A state read back from its JSON."""
        return cls(**json.loads(text))

    @property
    def is_open(self) -> bool:
        """True until the release is released or aborted."""
        return self.state not in ("released", "aborted")


def _fold(fields: dict[str, Any], event: StoredEvent) -> None:
    """Apply one event to a mutable dict of ReleaseState fields (the one place the rules live)."""
    if event.release_seq != fields["release_seq"] + 1:
        raise InvalidEventSequence(
            f"event seq {event.seq} of release {event.release} has release_seq "
            f"{event.release_seq}, expected {fields['release_seq'] + 1}")
    p, t = event.payload, event.type
    if t == "ReleaseStarted":
        # A new attempt may only follow an abort; it folds afresh, keeping the event count.
        if fields["events"] and fields["state"] != "aborted":
            raise InvalidEventSequence(f"event seq {event.seq}: release started twice "
                                       "(a new attempt may only follow ReleaseAborted)")
        attempt = fields["attempt"] + 1 if fields["events"] else 1
        if p.get("attempt", attempt) != attempt:
            raise InvalidEventSequence(f"event seq {event.seq}: attempt {p.get('attempt')} "
                                       f"of release {event.release} follows attempt "
                                       f"{attempt - 1}")
        fields.update(state="started", waiting_on=None, rollbacks=0, abort_reason=None,
                      attempt=attempt, attempt_seq=event.seq, started_at=event.at,
                      previous_version=p.get("previous_version"),
                      options=dict(p.get("options") or {}))
    elif fields["events"] == 0:
        raise InvalidEventSequence(f"event seq {event.seq}: the first event of a release must "
                                   f"be ReleaseStarted, not {t}")
    elif t == "StepWaiting":
        fields["waiting_on"] = p.get("reason")
    elif t == "StateChanged":
        source, dest = p.get("source"), next_state(fields["state"], p.get("trigger", ""))
        if source != fields["state"] or dest != p.get("dest"):
            raise InvalidEventSequence(
                f"event seq {event.seq}: {p.get('trigger')} from {source} to {p.get('dest')} "
                f"does not follow state {fields['state']}")
        fields["state"], fields["waiting_on"] = dest, None
        if p.get("trigger") == "rollback":
            fields["rollbacks"] += 1
    elif t == "ReleaseAborted":
        next_state(fields["state"], "abort")
        fields.update(state="aborted", waiting_on=None, abort_reason=p.get("reason"))
    fields.update(seq=event.seq, release_seq=event.release_seq, events=fields["events"] + 1,
                  last_event={"seq": event.seq, "type": t, "at": event.at})


def evolve(state: ReleaseState, event: StoredEvent) -> ReleaseState:
    """The state after one more event (pure: `state` is left as it was)."""
    fields = asdict(state)
    _fold(fields, event)
    return ReleaseState(**fields)


def replay(events: Iterable[StoredEvent], version: str | None = None,
           start: ReleaseState | None = None) -> ReleaseState:
    """Fold a release's events (from `start`, or from nothing) into its state."""
    fields: dict[str, Any] | None = asdict(start) if start else None
    for event in events:
        if fields is None:
            fields = asdict(ReleaseState(version=version or event.release))
        _fold(fields, event)
    if fields is None:
        return ReleaseState(version=version or "")
    return ReleaseState(**fields)


def with_state(state: ReleaseState, **changes: Any) -> ReleaseState:
    """A copy with some fields changed (for dry-run previews)."""
    return replace(state, **changes)
