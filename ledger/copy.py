"""Copying a ledger between backends (SQLite <-> PostgreSQL): the same events, seqs and hashes.

The destination must be empty or hold a prefix of the source (an earlier copy): then only the
rest is copied, so a copy can be repeated as the source grows. Both chains are verified before,
and the destination after; locks (a live process's) and snapshots (a cache) are not copied.
"""

from __future__ import annotations

from dataclasses import dataclass

from release_ledger.ledger.errors import ChainBroken, LedgerError
from release_ledger.ledger.interface import EventStore, StoredEvent


@dataclass(frozen=True)
class CopyResult:
    """What a copy found and did."""

    source_events: int
    already: int            # events the destination held before (a prefix of the source)
    copied: int
    head: StoredEvent | None  # the last event of both ledgers now


def copy_ledger(source: EventStore, destination: EventStore) -> CopyResult:
    """Copy every event of `source` that `destination` lacks, verifying both chains.

    Raises ChainBroken (exit 4) naming the ledger and seq when either chain does not verify, and
    LedgerError when the destination holds events that are not the source's first ones.
    """
    for store in (source, destination):
        bad = store.verify()
        if bad is not None:
            raise ChainBroken(bad, store.path)
    total, held = source.count(), destination.count()
    if held:
        # Both chains verify, so equal hashes at the destination's last seq mean equal prefixes.
        theirs = _at(destination, held)
        ours = _at(source, held) if held <= total else None
        if ours is None or ours.hash != theirs.hash:
            raise LedgerError(
                f"the ledger {destination.path} is not a copy of the start of {source.path}: "
                f"its event #{held} " + ("is past the source's end" if ours is None
                                         else "differs from the source's"),
                hint="copy into an empty ledger (a new file, or a new database)")
    copied = destination.import_events(source.events(after_seq=held)) if total > held else 0
    bad = destination.verify()
    if bad is not None:
        raise ChainBroken(bad, destination.path)
    return CopyResult(total, held, copied, _at(destination, total) if total else None)


def _at(store: EventStore, seq: int) -> StoredEvent | None:
    return next(iter(store.events(after_seq=seq - 1, upto_seq=seq)), None)
