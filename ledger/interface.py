"""The event store's interface, owned by the ledger: the event types, the lock holder, and the
`EventStore` protocol every backend implements (`ledger.sqlite`, `ledger.postgres`).

The engine types against `EventStore`, never against a backend; tests/ledger holds the one
contract suite each backend must pass. The errors a store raises live in `ledger.errors` and are
re-exported here, so a caller needs this module alone.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

from release_ledger.ledger.errors import (ChainBroken, ConcurrentAppend, DuplicateKey,
                                          LedgerCorrupt, LedgerError, LedgerMissing,
                                          LedgerUnreachable, LockHeld)

__all__ = ["ChainBroken", "ConcurrentAppend", "DuplicateKey", "EventStore", "LedgerCorrupt",
           "LedgerError", "LedgerMissing", "LedgerUnreachable", "LockHeld", "LockHolder",
           "NewEvent", "StoredEvent", "default_actor", "utc_now"]

#: The columns of the events table, in the order every backend reads and writes them (DESIGN §4).
COLUMNS = ("seq", "release", "release_seq", "type", "payload", "actor", "at", "idempotency_key",
           "prev_hash", "hash")


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended: its type, payload and optional idempotency key."""

    type: str
    payload: dict[str, Any]
    idempotency_key: str | None = None


class StoredEvent(NamedTuple):
    """One row of the events table, payload decoded (a tuple: immutable and cheap to build,
    which matters when replay reads 100,000 of them)."""

    seq: int
    release: str
    release_seq: int
    type: str
    payload: dict[str, Any]
    actor: str
    at: str
    idempotency_key: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The row as `history --json` shows it."""
        return {"seq": self.seq, "release": self.release, "release_seq": self.release_seq,
                "type": self.type, "payload": self.payload, "actor": self.actor, "at": self.at,
                "hash": self.hash}


@dataclass(frozen=True)
class LockHolder:
    """Who holds a release's lock: process id, host, and since when (UTC ISO-8601)."""

    release: str
    pid: int
    host: str
    since: str
    process_start: str | None = None


def utc_now() -> str:
    """The current UTC time as ISO-8601 with a Z, to the microsecond."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_actor() -> str:
    """user@host of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@runtime_checkable
class EventStore(Protocol):
    """Append, read, verify, lock: the four things the engine asks of a ledger.

    `path` names the store in messages (a file path, or a postgresql:// URL without its
    password); `readonly` stores refuse appends and skip the snapshot cache.
    """

    path: str
    readonly: bool

    def append(self, release: str, events: Sequence[NewEvent],
               expected_release_seq: int | None = None, actor: str | None = None,
               at: str | None = None) -> list[StoredEvent]:
        """Append events to a release in one transaction; ConcurrentAppend if it moved on."""

    def events(self, release: str | None = None, after_seq: int = 0,
               upto_seq: int | None = None) -> Iterator[StoredEvent]:
        """Events in seq order."""

    def last(self, release: str) -> StoredEvent | None:
        """The newest event of a release."""

    def count(self, release: str | None = None) -> int:
        """How many events."""

    def releases(self) -> list[str]:
        """Every release, in order of its first event."""

    def verify(self, upto_seq: int | None = None) -> int | None:
        """The first seq whose hash or link is wrong, or None."""

    def lock(self, release: str, pid: int | None = None,
             host: str | None = None) -> AbstractContextManager[LockHolder]:
        """Hold the release's lock (LockHeld when a live process has it)."""

    def holder(self, release: str) -> LockHolder | None:
        """Who holds the lock."""

    def atomic(self) -> AbstractContextManager[object]:
        """A transaction; nested blocks are savepoints."""

    def export_jsonl(self, release: str, path: str | Path) -> Path:
        """The release's events as JSON lines."""

    def save_snapshot(self, release: str, seq: int, state: str) -> None:
        """Cache a folded state (never trusted over events)."""

    def load_snapshot(self, release: str) -> tuple[int, str] | None:
        """The cached state and its seq."""

    def import_events(self, events: Iterable[StoredEvent]) -> int:
        """Append already-hashed events verbatim (same seq, same hash): `release ledger copy`."""

    def close(self) -> None:
        """Let go of the connection (and with it any lock still held)."""
