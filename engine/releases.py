"""Finding releases in the ledger and reading their state (fast path: the snapshot cache)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from release_ledger.engine.errors import ReleaseNotFound, ReleaseOpen
from release_ledger.engine.state import ReleaseState, replay
from release_ledger.ledger import EventStore

if TYPE_CHECKING:
    from release_ledger.engine.events import ReleaseStarted

#: Replays at least this long leave a snapshot behind, so the next `status` reads one row.
SNAPSHOT_AFTER = 500


def load_state(ledger: EventStore, version: str, upto_seq: int | None = None) -> ReleaseState:
    """The release's state, from its snapshot plus newer events (never trusting a stale one)."""
    if upto_seq is None:
        snap = ledger.load_snapshot(version)
        if snap is not None:
            try:
                cached = ReleaseState.from_json(snap[1])
            except (TypeError, ValueError):
                cached = None  # a snapshot from another version of the code: rebuild
            if cached is not None and cached.seq == snap[0]:
                state = replay(ledger.events(version, after_seq=snap[0]), version, cached)
                if state.events:
                    return state
    state = replay(ledger.events(version, upto_seq=upto_seq), version)
    if upto_seq is None and state.events >= SNAPSHOT_AFTER and not ledger.readonly:
        _try_save(ledger, state)
    if state.events == 0:
        raise ReleaseNotFound(f"no release {version} in the ledger {ledger.path}",
                              hint="`release history` lists the releases; `release start` begins one")
    return state


def _try_save(ledger: EventStore, state: ReleaseState) -> None:
    """Cache a long replay for the next reader; a busy ledger just means no cache this time."""
    from release_ledger.ledger import LedgerError

    try:
        save_state(ledger, state)
    except LedgerError:
        pass


def save_state(ledger: EventStore, state: ReleaseState) -> None:
    """Cache the state (a projection, rebuilt from events whenever it is stale)."""
    ledger.save_snapshot(state.version, state.seq, state.to_json())


def open_release(ledger: EventStore) -> ReleaseState | None:
    """The release still open (neither released nor aborted), if any."""
    for version in reversed(ledger.releases()):
        state = load_state(ledger, version)
        if state.is_open:
            return state
    return None


def pick_release(ledger: EventStore, version: str | None) -> ReleaseState:
    """The release a command acts on: the one named, else the open one, else the newest."""
    if version:
        return load_state(ledger, version.removeprefix("v"))
    state = open_release(ledger)
    if state is not None:
        return state
    releases = ledger.releases()
    if not releases:
        raise ReleaseNotFound(f"the ledger {ledger.path} holds no release yet",
                              hint="start one with `release start --increment minor`")
    return load_state(ledger, releases[-1])


def start_release(ledger: EventStore, started: "ReleaseStarted", actor: str | None = None
                  ) -> ReleaseState:
    """Record a new release, or a new attempt of an aborted one; refuse while another is open
    or if the version was released before."""
    current = open_release(ledger)
    if current is not None:
        raise ReleaseOpen(f"release {current.version} is still open (state {current.state})",
                          hint=f"finish it with `release advance`, or `release abort "
                               f"{current.version} --reason ...`")
    prior = None
    if started.version in ledger.releases():
        prior = load_state(ledger, started.version)
        if prior.state != "aborted":
            raise ReleaseOpen(f"release {started.version} was already {prior.state} in this "
                              "ledger", hint="choose another version")
        # The same version again: a new attempt, in the same history (engine.state).
        started = started.model_copy(update={"attempt": prior.attempt + 1})
    key = f"{started.version}:start" + (f"#attempt-{started.attempt}" if prior else "")
    stored = ledger.append(started.version, [started.to_new(key)],
                           expected_release_seq=prior.release_seq if prior else 0, actor=actor)
    state = replay(stored, started.version, prior)
    save_state(ledger, state)
    return state


def attempt_events(ledger: Ledger, state: ReleaseState) -> list:
    """The events of the release's current attempt (all of them for a first attempt)."""
    return list(ledger.events(state.version, after_seq=max(0, state.attempt_seq - 1)))
