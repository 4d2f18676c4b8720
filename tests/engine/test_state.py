"""Folding events into state: replay equals evolve one by one; bad sequences are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release_ledger.engine.errors import InvalidEventSequence
from release_ledger.engine.machine import FORWARD, STATES, next_state
from release_ledger.engine.state import ReleaseState, evolve, replay
from release_ledger.ledger import Ledger, NewEvent


@st.composite
def release_events(draw):
    """A random valid event sequence: started, then steps, waits, transitions, rollbacks, abort,
    and after an abort maybe a new attempt of the same version."""
    events = [NewEvent("ReleaseStarted", {"version": "0.4.0", "previous_version": "0.3.0",
                                          "options": {"max_runs": draw(st.integers(1, 90))}})]
    state, attempt = "started", 1
    for _ in range(draw(st.integers(0, 40))):
        if state == "aborted":
            if not draw(st.booleans()):
                break
            attempt += 1
            events.append(NewEvent("ReleaseStarted", {"version": "0.4.0", "attempt": attempt,
                                                      "previous_version": "0.3.0"}))
            state = "started"
            continue
        kind = draw(st.sampled_from(["step", "fail", "wait", "forward", "rollback", "abort"]))
        key = f"k{draw(st.integers(0, 5))}"
        if kind == "step":
            events += [NewEvent("StepStarted", {"key": key, "step": "x"}),
                       NewEvent("StepSucceeded", {"key": key, "step": "x", "outcomes": 0})]
        elif kind == "fail":
            events += [NewEvent("StepStarted", {"key": key, "step": "x"}),
                       NewEvent("StepFailed", {"key": key, "step": "x", "error": "boom"})]
        elif kind == "wait":
            events.append(NewEvent("StepWaiting", {"step": "x", "reason": f"PR #{key}"}))
        elif kind == "forward" and state in STATES[:-1]:
            trigger = FORWARD[STATES.index(state)]
            dest = next_state(state, trigger)
            events.append(NewEvent("StateChanged", {"trigger": trigger, "source": state, "dest": dest}))
            state = dest
        elif kind == "rollback" and state in ("dev-promoted", "pr-open", "rc-promoted"):
            dest = next_state(state, "rollback")
            events.append(NewEvent("StateChanged", {"trigger": "rollback", "source": state, "dest": dest}))
            state = dest
        elif kind == "abort" and state not in ("released", "aborted"):
            events.append(NewEvent("ReleaseAborted", {"reason": "r", "source": state}))
            state = "aborted"
    return events, state, attempt


@settings(max_examples=150, deadline=None)
@given(release_events())
def test_replay_equals_evolving_one_event_at_a_time(case):
    """replay(events) is the same state as evolve applied event by event."""
    new_events, final, attempt = case
    ledger = Ledger.open(":memory:")
    stored = ledger.append("0.4.0", new_events)
    state = ReleaseState(version="0.4.0")
    for event in stored:
        state = evolve(state, event)
    assert replay(stored) == state
    assert state.state == final and state.attempt == attempt
    assert state.events == len(stored)


@settings(max_examples=50, deadline=None)
@given(release_events(), st.integers(min_value=1))
def test_replay_from_a_snapshot_equals_full_replay(case, cut):
    """Folding the rest of the events onto a mid-way state gives the full replay."""
    ledger = Ledger.open(":memory:")
    stored = ledger.append("0.4.0", case[0])
    cut = cut % len(stored) + 1
    middle = ReleaseState.from_json(replay(stored[:cut]).to_json())
    assert replay(stored[cut:], start=middle) == replay(stored)


def test_evolve_does_not_change_its_input():
    """evolve is pure: the state passed in is unchanged."""
    ledger = Ledger.open(":memory:")
    stored = ledger.append("0.4.0", [NewEvent("ReleaseStarted", {"version": "0.4.0"}),
                                     NewEvent("StepStarted", {"key": "a", "step": "x"})])
    first = evolve(ReleaseState(version="0.4.0"), stored[0])
    evolve(first, stored[1])
    assert first.events == 1


def test_a_gap_in_release_seq_is_refused():
    """An event whose release_seq is not the previous plus one cannot be folded."""
    ledger = Ledger.open(":memory:")
    stored = ledger.append("0.4.0", [NewEvent("ReleaseStarted", {"version": "0.4.0"}),
                                     NewEvent("StepStarted", {"key": "a", "step": "x"}),
                                     NewEvent("StepSucceeded", {"key": "a", "step": "x"})])
    with pytest.raises(InvalidEventSequence, match="release_seq 3, expected 2"):
        replay([stored[0], stored[2]])


def test_a_transition_from_the_wrong_state_is_refused():
    """A StateChanged that does not follow the machine is an error naming the event."""
    ledger = Ledger.open(":memory:")
    stored = ledger.append("0.4.0", [
        NewEvent("ReleaseStarted", {"version": "0.4.0"}),
        NewEvent("StateChanged", {"trigger": "publish", "source": "started", "dest": "released"})])
    with pytest.raises(Exception, match="not allowed from state 'started'"):
        replay(stored)


def _aborted(ledger: Ledger) -> list:
    return ledger.append("0.4.0", [NewEvent("ReleaseStarted", {"version": "0.4.0"}),
                                   NewEvent("ReleaseAborted", {"reason": "r", "source": "started"})])


def test_a_start_after_an_abort_is_a_fresh_second_attempt():
    """ReleaseStarted after ReleaseAborted folds afresh: state started, attempt 2, events kept."""
    ledger = Ledger.open(":memory:")
    _aborted(ledger)
    again = ledger.append("0.4.0", [NewEvent("ReleaseStarted", {"version": "0.4.0", "attempt": 2})])
    state = replay(ledger.events("0.4.0"))
    assert (state.state, state.attempt, state.events) == ("started", 2, 3)
    assert state.attempt_seq == again[0].seq and state.abort_reason is None


def test_a_second_start_of_an_open_release_is_refused():
    """ReleaseStarted while the release is still open cannot be folded."""
    ledger = Ledger.open(":memory:")
    stored = ledger.append("0.4.0", [NewEvent("ReleaseStarted", {"version": "0.4.0"}),
                                     NewEvent("ReleaseStarted", {"version": "0.4.0"})])
    with pytest.raises(InvalidEventSequence, match="release started twice"):
        replay(stored)


def test_an_attempt_number_that_skips_is_refused():
    """A new attempt must be numbered one more than the last."""
    ledger = Ledger.open(":memory:")
    _aborted(ledger)
    ledger.append("0.4.0", [NewEvent("ReleaseStarted", {"version": "0.4.0", "attempt": 3})])
    with pytest.raises(InvalidEventSequence, match="attempt 3 of release 0.4.0 follows attempt 1"):
        replay(ledger.events("0.4.0"))
