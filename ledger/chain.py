"""The hash chain, the same for every backend: linking a batch onto the tip, and checking links.

A backend only stores and fetches rows; what goes into a row (seq, release_seq, canonical payload,
prev_hash, hash) is decided here once, so a ledger copied from SQLite to PostgreSQL and back holds
the same bytes and verifies on both (DESIGN §4).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from release_ledger.ledger.canonical import GENESIS, canonical, event_hash
from release_ledger.ledger.errors import LedgerError
from release_ledger.ledger.interface import NewEvent, StoredEvent

#: One row as stored: the ten columns of DESIGN §4, payload as canonical JSON text.
Row = tuple[int, str, int, str, str, str, str, str | None, str, str]

_loads = json.loads


def link(release: str, events: Sequence[NewEvent], *, seq: int, prev_hash: str,
         release_seq: int, actor: str, at: str | None, now) -> list[Row]:
    """The rows that append `events` to a chain whose tip is (`seq`, `prev_hash`).

    `now()` stamps each event unless `at` is given. A payload that is not JSON (NaN, a set) is
    refused here, before anything is written.
    """
    rows: list[Row] = []
    for event in events:
        seq, release_seq = seq + 1, release_seq + 1
        when = at or now()
        try:
            text = canonical(event.payload)
        except (TypeError, ValueError) as err:
            raise LedgerError(f"an event payload is not JSON: {err}") from err
        digest = event_hash(seq, release, release_seq, event.type, text, actor, when,
                            event.idempotency_key, prev_hash)
        rows.append((seq, release, release_seq, event.type, text, actor, when,
                     event.idempotency_key, prev_hash, digest))
        prev_hash = digest
    return rows


def to_event(row: Sequence[Any]) -> StoredEvent:
    """A stored row as a StoredEvent, payload decoded."""
    return StoredEvent(row[0], row[1], row[2], row[3], _loads(row[4]), *row[5:])


def to_row(event: StoredEvent) -> Row:
    """A StoredEvent back as the row it was read from (its payload was canonical text)."""
    return (event.seq, event.release, event.release_seq, event.type, canonical(event.payload),
            event.actor, event.at, event.idempotency_key, event.prev_hash, event.hash)


def links(row: Sequence[Any], expected_seq: int, prev: str) -> bool:
    """True when `row` is the event that follows (`expected_seq` - 1, `prev`) and its hash holds."""
    seq, release, rseq, type_, payload, actor, at, key, prev_hash, digest = row
    if seq != expected_seq or prev_hash != prev:
        return False
    try:
        return event_hash(seq, release, rseq, type_, payload, actor, at, key, prev_hash) == digest
    except (TypeError, ValueError):
        return False


def first_break(rows: Iterable[Sequence[Any]]) -> int | None:
    """The first seq (rows in seq order) whose link or hash is wrong, or None when all hold."""
    expected_seq, prev = 1, GENESIS
    for row in rows:
        if not links(row, expected_seq, prev):
            # A missing seq is reported as the one that should have been there.
            return expected_seq if row[0] != expected_seq else row[0]
        expected_seq, prev = row[0] + 1, row[9]
    return None
