"""A release's lock on PostgreSQL, across machines: a session-level advisory lock held by the
holder's connection, and a row naming the holder (pid, host, since) written in the transaction
that takes it (DESIGN §8).

The server frees a session's advisory locks when the session ends, so a holder that died
(killed, crashed, its machine gone) gives its lock back by itself, and the row left behind names
nobody: `holder()` only reports a row whose advisory lock is still held.
"""

from __future__ import annotations

import contextlib
import hashlib
import time

from release_ledger.ledger.errors import LockHeld
from release_ledger.ledger.interface import LockHolder
from release_ledger.ledger.process import process_alive

#: A holder on this host whose process is gone: its session ends within moments (the kernel
#: closed its socket); wait this long for the server to notice before calling the lock held.
DEAD_HOLDER_GRACE_S = 3.0

_HOLDER = "SELECT release, pid, host, since, process_start FROM locks WHERE release = %s"


def advisory_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for `parts` (sha256: no collision between releases,
    unlike the 32-bit hashtext())."""
    digest = hashlib.sha256("\0".join(("release-ledger", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_ids(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: (classid, objid), the high and low 32 bits."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def holder(store, release: str) -> LockHolder | None:
    """Who holds the release's lock: the row, if a live session holds its advisory lock."""
    classid, objid = lock_ids(advisory_key("lock", release))
    row = store._one(
        _HOLDER + " AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid = %s AND objid = %s AND objsubid = 1)", [release, classid, objid])
    return LockHolder(*row) if row else None


def take(store, me: LockHolder, token: str) -> None:
    """Take the release's lock for this session, or raise LockHeld naming the live holder."""
    key, deadline = advisory_key("lock", me.release), time.monotonic() + DEAD_HOLDER_GRACE_S
    keep_alive(store)
    while True:
        got, current = False, None
        try:
            with store.atomic():
                # Takers and leavers of this release's lock go one at a time, so a taker that
                # finds the lock busy always finds the holder's row committed.
                store._x("SELECT pg_advisory_xact_lock(%s)", [advisory_key("mutex", me.release)])
                got = store._x("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
                if not got:
                    current = store._one(_HOLDER, [me.release])
                else:
                    store._x("INSERT INTO locks (release, pid, host, since, process_start, token) "
                             "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (release) DO UPDATE "
                             "SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
                             "since = EXCLUDED.since, process_start = EXCLUDED.process_start, "
                             "token = EXCLUDED.token",
                             [me.release, me.pid, me.host, me.since, me.process_start, token])
        except BaseException:
            if got:  # a session lock outlives a rolled-back transaction: let it go
                with contextlib.suppress(Exception):
                    store._x("SELECT pg_advisory_unlock(%s)", [key])
            raise
        if got:
            return
        found = LockHolder(*current) if current else LockHolder(
            me.release, 0, "an unknown host", "an unknown time")
        if not (found.host == me.host and found.pid and time.monotonic() < deadline
                and not process_alive(found.pid, found.process_start)):
            raise LockHeld(me.release, found)
        # The holder ran here and is gone: the server is about to end its session.
        time.sleep(0.05)


def give_back(store, release: str, token: str) -> None:
    """Delete this taking's row and release the advisory lock, in one transaction."""
    with store.atomic():
        store._x("SELECT pg_advisory_xact_lock(%s)", [advisory_key("mutex", release)])
        store._x("DELETE FROM locks WHERE release = %s AND token = %s", [release, token])
        store._x("SELECT pg_advisory_unlock(%s)", [advisory_key("lock", release)])


def keep_alive(store) -> None:
    """Ask the server to probe this connection, so that a holder whose machine vanished (no FIN
    ever arrives) loses its session, and so its lock, within about a minute rather than the
    system's two hours (ignored on a Unix socket)."""
    store._x("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; "
             "SET tcp_keepalives_count = 3", None)
