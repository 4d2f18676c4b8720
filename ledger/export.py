"""`events.jsonl`: a release's events as canonical JSON lines, from any backend (DESIGN §2)."""

from __future__ import annotations

import os
from pathlib import Path

from release_ledger.ledger.canonical import canonical


def export_jsonl(store, release: str, path: str | Path) -> Path:
    """Write a release's events, one canonical JSON object a line; atomically (tmp + rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for event in store.events(release):
            out.write(canonical({**event.as_dict(), "idempotency_key": event.idempotency_key,
                                 "prev_hash": event.prev_hash}) + "\n")
    os.replace(tmp, target)
    return target
