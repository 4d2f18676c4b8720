"""Pure renderers of the CLI's reports: the same state or events always give the same text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from release_ledger.engine.machine import TRANSITIONS, next_trigger
from release_ledger.engine.state import ReleaseState
from release_ledger.ledger import StoredEvent

_DOCS = {t["trigger"]: t["doc"] for t in TRANSITIONS}


def status_dict(state: ReleaseState) -> dict[str, Any]:
    """The stable `status --json` object (documented in the README)."""
    return {"version": state.version, "state": state.state,
            "next": next_trigger(state.state) if state.is_open else None,
            "waiting_on": state.waiting_on,
            "last_event": ({k: state.last_event[k] for k in ("seq", "type", "at")}
                           if state.last_event else None),
            "events": state.events}


def render_status(state: ReleaseState) -> str:
    """Status for people: state, last event, what comes next, what it waits on."""
    info = status_dict(state)
    lines = [f"release {state.version}: {state.state}"]
    if state.previous_version:
        lines[0] += f" (from {state.previous_version})"
    if state.attempt > 1:
        lines[0] += f", attempt {state.attempt}"
    last = info["last_event"]
    if last:
        lines.append(f"  last event: #{last['seq']} {last['type']} at {last['at']}")
    lines.append(f"  events:     {state.events}")
    if info["next"]:
        lines.append(f"  next:       {info['next']} ({_DOCS[info['next']]})")
    elif state.state == "aborted":
        lines.append(f"  aborted:    {state.abort_reason}")
    if state.waiting_on:
        lines.append(f"  waiting on: {state.waiting_on}")
    return "\n".join(lines) + "\n"


def _summary(payload: dict[str, Any]) -> str:
    keys = ("key", "trigger", "dest", "reason", "error", "path", "destination", "version",
            "attempt")
    parts = [f"{k}={payload[k]}" for k in keys if k in payload and payload[k] not in (None, "")]
    if not parts:
        parts = [f"{k}={v}" for k, v in list(payload.items())[:3]
                 if isinstance(v, (str, int, float, bool))]
    text = " ".join(parts)
    return text if len(text) <= 140 else text[:139] + "…"


def render_history(events: Iterable[StoredEvent]) -> str:
    """The audit trail, one event a line."""
    lines = [f"#{e.seq:<6} {e.at}  {e.release:<8} {e.type:<22} {_summary(e.payload)}".rstrip()
             for e in events]
    return "\n".join(lines) + ("\n" if lines else "")


def history_json(events: Iterable[StoredEvent]) -> str:
    """The stable `history --json` array (documented in the README)."""
    return json.dumps([e.as_dict() for e in events], indent=2, ensure_ascii=False) + "\n"
