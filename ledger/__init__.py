"""The event store: an append-only, hash-chained ledger with per-release locks, behind one
interface (`EventStore`) with two backends: SQLite (one file, the default) and PostgreSQL (a
team's shared ledger). `open_ledger(path_or_url)` chooses between them."""

from release_ledger.ledger.errors import (ChainBroken, ConcurrentAppend, DuplicateKey, LedgerBusy,
                                          LedgerCorrupt, LedgerError, LedgerMissing,
                                          LedgerUnreachable, LockHeld)
from release_ledger.ledger.interface import EventStore, LockHolder, NewEvent, StoredEvent
from release_ledger.ledger.location import is_postgres, open_ledger, redact
from release_ledger.ledger.sqlite import Ledger, SqliteLedger

__all__ = ["ChainBroken", "ConcurrentAppend", "DuplicateKey", "EventStore", "Ledger", "LedgerBusy",
           "LedgerCorrupt", "LedgerError", "LedgerMissing", "LedgerUnreachable", "LockHeld",
           "LockHolder", "NewEvent", "SqliteLedger", "StoredEvent", "is_postgres", "open_ledger",
           "redact"]
