"""The event store: an append-only SQLite ledger with a hash chain and per-release locks."""

from release_ledger.ledger.errors import (ChainBroken, ConcurrentAppend, DuplicateKey, LedgerCorrupt,
                           LedgerError, LockHeld)
from release_ledger.ledger.interface import EventStore
from release_ledger.ledger.store import Ledger, LockHolder, NewEvent, StoredEvent

__all__ = ["ChainBroken", "ConcurrentAppend", "DuplicateKey", "EventStore", "Ledger", "LedgerCorrupt",
           "LedgerError", "LockHeld", "LockHolder", "NewEvent", "StoredEvent"]
