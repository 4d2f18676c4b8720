"""The event store's interface: what the engine needs from any backend (SQLite today; a shared
PostgreSQL ledger for teams could follow without touching the engine). tests/ledger holds the one
contract suite every backend must pass."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from release_ledger.ledger.store import LockHolder, NewEvent, StoredEvent


class EventStore(Protocol):
    """Append, read, verify, lock: the four things the engine asks of a ledger."""

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
