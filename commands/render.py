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


def render_demo_summary(events: list[StoredEvent], state: ReleaseState, *, chain_ok: bool,
                        checked: int, drifted: int, root: Any, history: str) -> str:
    """The end of `release demo`: states passed, PRs, images, tag, and where to look next."""
    states = [state_ for state_ in ["started"] + [e.payload.get("dest") for e in events
              if e.type == "StateChanged"]]
    pulls: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.type in ("PullRequestOpened", "PullRequestMerged"):
            pull = pulls.setdefault(e.payload["number"], {})
            pull.update(e.payload, merged=pull.get("merged") or e.type == "PullRequestMerged")
    promoted: dict[str, int] = {}
    for e in events:
        if e.type == "ImagePromoted":
            promoted[e.payload.get("stage", "?")] = promoted.get(e.payload.get("stage", "?"), 0) + 1
    tags = [e.payload["tag"] for e in events if e.type == "ReleaseTagged"]
    lines = [f"release {state.version}: {state.state}"
             + (f" (from {state.previous_version})" if state.previous_version else ""),
             f"  states:  {' -> '.join(states)}"]
    for number, pull in sorted(pulls.items()):
        lines.append(f"  PR #{number}:   {pull.get('head')} -> {pull.get('base')}"
                     + (" (merged)" if pull.get("merged") else ""))
    images = " and ".join(f"{n} {stage}" for stage, n in promoted.items()) or "no"
    lines.append(f"  images:  {images} promotions; {checked - drifted} of {checked} promoted "
                 "tags at their recorded digests")
    lines.append(f"  tag:     {', '.join(tags) or 'none'}")
    lines.append(f"  ledger:  {len(events)} events, hash chain {'ok' if chain_ok else 'BROKEN'}")
    lines.append(f"sandbox: {root}")
    lines.append(f"history: {history}")
    return "\n".join(lines) + "\n"
