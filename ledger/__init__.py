"""The event store: an append-only SQLite ledger with a hash chain and per-release locks."""

from ledger.errors import (ChainBroken, ConcurrentAppend, DuplicateKey, LedgerCorrupt,
                           LedgerError, LockHeld)
from ledger.interface import EventStore
from ledger.store import Ledger, LockHolder, NewEvent, StoredEvent

__all__ = ["ChainBroken", "ConcurrentAppend", "DuplicateKey", "EventStore", "Ledger", "LedgerCorrupt",
           "LedgerError", "LockHeld", "LockHolder", "NewEvent", "StoredEvent"]
