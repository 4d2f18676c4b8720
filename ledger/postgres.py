"""The PostgreSQL backend of the ledger: a team's shared ledger, reached from any laptop or runner.

The same table, columns, canonical form and hash chain as the SQLite file (`ledger.chain`), so a
ledger copied between the two verifies on both with the same hashes (DESIGN §4). What the server
adds:

- Append-only in the database: a trigger refuses UPDATE, DELETE and TRUNCATE on `events` (and a
  team's tool role is granted neither: docs/TEAM.md, `postgres_schema.sql`).
- Gapless `seq` under concurrency: appends serialise on a transaction-level advisory lock and
  take `max(seq) + 1` inside the transaction (a SERIAL would leave gaps on rollback). An advisory
  lock needs no table privilege, where `LOCK TABLE ... EXCLUSIVE` would need UPDATE or DELETE.
- Locks across machines: the holder row (pid, host, since) is written in the transaction that
  takes a session-level advisory lock; the server frees that lock when the holder's session ends
  (process killed, laptop gone: TCP keepalives), so a dead holder is taken over with no person.

Every psycopg error becomes a `LedgerError` in one place, `_translate` (STYLE §1). The URL is
kept only in its redacted form (`path`): a password never appears in str(), repr() or a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors as pg_errors

from release_ledger.ledger.canonical import GENESIS
from release_ledger.ledger.chain import first_break, link, links, to_event, to_row
from release_ledger.ledger.errors import (ChainBroken, ConcurrentAppend, DuplicateKey, LedgerBusy,
                                          LedgerCorrupt, LedgerError, LedgerMissing,
                                          LedgerUnreachable, LockHeld)
from release_ledger.ledger.export import export_jsonl
from release_ledger.ledger.interface import (COLUMNS, LockHolder, NewEvent, StoredEvent,
                                             default_actor, utc_now)
from release_ledger.ledger.location import redact
from release_ledger.ledger.process import process_alive, process_start_time

SCHEMA_VERSION = 1
#: How long a writer waits for another one's transaction (the SQLite backend's busy timeout).
LOCK_TIMEOUT_S = 10
CONNECT_TIMEOUT_S = 10
#: A page of events read at a time: memory stays bounded on any ledger size, and the connection
#: is free between pages (a caller may append while it iterates).
PAGE = 5000
#: A holder on this host whose process is gone: its session ends within moments (the kernel
#: closed its socket); wait this long for the server to notice before calling the lock held.
DEAD_HOLDER_GRACE_S = 3.0

_SCHEMA_SQL = Path(__file__).with_name("postgres_schema.sql")
_COLUMNS = ", ".join(COLUMNS)
_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for `parts` (sha256: no collision between releases,
    unlike the 32-bit hashtext())."""
    digest = hashlib.sha256("\0".join(("release-ledger", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


#: Serialises appends (gapless seq) and the one-time schema creation.
_APPEND_KEY = _key("append")
_SCHEMA_KEY = _key("schema")


class PostgresLedger:
    """An append-only event store in a PostgreSQL database: an `EventStore`."""

    def __init__(self, conn: psycopg.Connection, path: str, tracer: Callable | None = None,
                 readonly: bool = False):
        self.path, self.readonly = path, readonly
        self.conn, self.tracer = conn, tracer
        self._held: dict[str, int] = {}  # release -> nesting depth of lock() in this session

    def __repr__(self) -> str:
        return f"<PostgresLedger {self.path}>"

    __str__ = __repr__

    def _x(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        if self.tracer is not None:
            self.tracer(sql, params)
        return self.conn.execute(sql, params)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, tracer: Callable | None = None, readonly: bool = False,
             create: bool = True) -> "PostgresLedger":
        """Connect to the database a postgresql:// URL names; create the schema if allowed.

        The password comes from the URL if someone put it there, else from PGPASSWORD or
        ~/.pgpass (libpq reads them); it is never kept or shown. `create=False` (and
        `readonly`) raise LedgerMissing on a database that holds no ledger yet.
        """
        where = redact(url)
        with _translated(where, url):
            conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name="release")
        ledger = cls(conn, where, tracer, readonly)
        with _translated(where, url):
            # READ COMMITTED whatever the server's default: each statement after the append
            # lock must see what the previous appender committed. Set here rather than through
            # the `options` parameter, which would replace a search_path given in the URL.
            ledger._x("SET default_transaction_isolation = 'read committed'; "
                      f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'"
                      + ("; SET default_transaction_read_only = on" if readonly else ""), None)
            if not ledger._has_schema():
                if readonly or not create:
                    conn.close()
                    raise LedgerMissing(where)
                ledger._create_schema()
        ledger._check_schema()
        return ledger

    def _has_schema(self) -> bool:
        return self._x("SELECT to_regclass('meta') IS NOT NULL AND "
                       "to_regclass('events') IS NOT NULL").fetchone()[0]

    def _create_schema(self) -> None:
        with self.conn.transaction():
            # Two first `start`s at once: the second waits here, then finds the tables made.
            self._x("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_KEY])
            if not self._has_schema():
                self._x(_SCHEMA_SQL.read_text(encoding="utf-8"), None)

    def _check_schema(self) -> None:
        row = self._one("SELECT value FROM meta WHERE key = 'schema'", [])
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise LedgerCorrupt(self.path, f"unknown schema version {row and row[0]!r}")

    def close(self) -> None:
        """Close the connection (the server frees any lock this session still held)."""
        self.conn.close()

    # -- transactions --------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator["PostgresLedger"]:
        """A transaction: all or nothing. A nested block is a savepoint that rolls back alone."""
        with _translated(self.path):
            with self.conn.transaction():
                yield self

    # -- writing -------------------------------------------------------------------------------

    def append(self, release: str, events: Sequence[NewEvent],
               expected_release_seq: int | None = None, actor: str | None = None,
               at: str | None = None) -> list[StoredEvent]:
        """Append events to a release in one transaction; refuse if the release moved on.

        `expected_release_seq` is the release_seq of the last event the caller saw (0 for none):
        another writer having appended since raises ConcurrentAppend and nothing is written.
        """
        self._writable()
        with self.atomic():
            seq, prev, rseq = self._take_tip(release)
            if expected_release_seq is not None and rseq != expected_release_seq:
                raise ConcurrentAppend(release, expected_release_seq, rseq)
            rows = link(release, events, seq=seq, prev_hash=prev, release_seq=rseq,
                        actor=actor or default_actor(), at=at, now=utc_now)
            with _translated(self.path, events=events, release=release,
                             expected=expected_release_seq):
                self._insert(rows)
        return [to_event(row) for row in rows]

    def import_events(self, events: Iterable[StoredEvent]) -> int:
        """Append already-hashed events verbatim, each checked to link onto the tip; one
        transaction. ChainBroken names the first that does not (nothing is written then)."""
        self._writable()
        count = 0
        with self.atomic():
            seq, prev, _ = self._take_tip(None)
            batch: list[tuple] = []
            for event in events:
                row = to_row(event)
                if not links(row, seq + 1, prev):
                    raise ChainBroken(event.seq, "the events to import")
                batch.append(row)
                seq, prev, count = row[0], row[9], count + 1
                if len(batch) >= PAGE:
                    self._insert(batch)
                    batch = []
            self._insert(batch)
        return count

    def _take_tip(self, release: str | None) -> tuple[int, str, int]:
        """Take the append lock (until the transaction ends), then read the chain's tip and the
        release's last release_seq in one round trip (a statement after the lock's: its snapshot
        holds what the previous appender committed)."""
        self._x("SELECT pg_advisory_xact_lock(%s)", [_APPEND_KEY])
        row = self._one("SELECT t.seq, t.hash, (SELECT COALESCE(MAX(release_seq), 0) FROM events "
                        "WHERE release = %s) FROM (SELECT seq, hash FROM events ORDER BY seq DESC "
                        "LIMIT 1) t RIGHT JOIN (SELECT 1) one ON true", [release])
        return (row[0] or 0, row[1] or GENESIS, row[2])

    def _insert(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        if self.tracer is not None:
            self.tracer(_INSERT, [f"... {len(rows)} rows"])
        with self.conn.cursor() as cur:
            cur.executemany(_INSERT, rows)

    def _writable(self) -> None:
        if self.readonly:
            raise LedgerError(f"the ledger {self.path} was opened read-only")

    # -- reading -------------------------------------------------------------------------------

    def events(self, release: str | None = None, after_seq: int = 0,
               upto_seq: int | None = None) -> Iterator[StoredEvent]:
        """Events in seq order: all of them, or one release's, after a seq and up to another."""
        for page in self._pages(release, after_seq, upto_seq):
            with _translated(self.path):
                for row in page:
                    yield to_event(row)

    def _pages(self, release: str | None, after_seq: int,
               upto_seq: int | None) -> Iterator[list[tuple]]:
        """Rows in seq order, PAGE at a time (keyset pagination: seq > the last one read)."""
        where, params = "", []
        if release is not None:
            where, params = where + " AND release = %s", params + [release]
        if upto_seq is not None:
            where, params = where + " AND seq <= %s", params + [upto_seq]
        sql = f"SELECT {_COLUMNS} FROM events WHERE seq > %s{where} ORDER BY seq LIMIT {PAGE}"
        last = after_seq
        while True:
            with _translated(self.path):
                rows = self._x(sql, [last, *params]).fetchall()
            if rows:
                yield rows
            if len(rows) < PAGE:
                return
            last = rows[-1][0]

    def last(self, release: str) -> StoredEvent | None:
        """The newest event of a release, or None."""
        row = self._one(f"SELECT {_COLUMNS} FROM events WHERE release = %s "
                        "ORDER BY release_seq DESC LIMIT 1", [release])
        return to_event(row) if row else None

    def count(self, release: str | None = None) -> int:
        """How many events (of one release, or in all)."""
        if release is None:
            return self._one("SELECT COUNT(*) FROM events", [])[0]
        return self._one("SELECT COUNT(*) FROM events WHERE release = %s", [release])[0]

    def releases(self) -> list[str]:
        """Every release version, in order of its first event."""
        with _translated(self.path):
            rows = self._x("SELECT release FROM events GROUP BY release "
                           "ORDER BY MIN(seq)").fetchall()
        return [r[0] for r in rows]

    def verify(self, upto_seq: int | None = None) -> int | None:
        """Check the whole hash chain; return the first bad seq, or None when it holds."""
        rows = (row for page in self._pages(None, 0, upto_seq) for row in page)
        return first_break(rows)

    def export_jsonl(self, release: str, path: str | Path) -> Path:
        """Write a release's events, one JSON object a line, for review in the PR."""
        return export_jsonl(self, release, path)

    # -- snapshots (a projection cache, never trusted over events) -----------------------------

    def save_snapshot(self, release: str, seq: int, state: str) -> None:
        """Cache a release's folded state as of seq (best effort; read-only ledgers skip it)."""
        if self.readonly:
            return
        with self.atomic():
            self._x("INSERT INTO snapshots (release, seq, state) VALUES (%s, %s, %s) "
                    "ON CONFLICT (release) DO UPDATE SET seq = EXCLUDED.seq, "
                    "state = EXCLUDED.state", [release, seq, state])

    def load_snapshot(self, release: str) -> tuple[int, str] | None:
        """The cached state of a release and the seq it was folded to, or None."""
        row = self._one("SELECT seq, state FROM snapshots WHERE release = %s", [release])
        return (row[0], row[1]) if row else None

    # -- locks ---------------------------------------------------------------------------------

    def holder(self, release: str) -> LockHolder | None:
        """Who holds the release's lock, or None (a row whose session has ended is nobody)."""
        classid, objid = _lock_ids(_key("lock", release))
        row = self._one(
            "SELECT release, pid, host, since, process_start FROM locks WHERE release = %s "
            "AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s AND objid = %s AND objsubid = 1)", [release, classid, objid])
        return LockHolder(*row) if row else None

    @contextlib.contextmanager
    def lock(self, release: str, pid: int | None = None, host: str | None = None
             ) -> Iterator[LockHolder]:
        """Hold the release's lock for the block, across machines; a live holder raises
        LockHeld at once, naming it. A holder whose session ended (killed, crashed, its machine
        gone) is taken over."""
        me = LockHolder(release, pid or os.getpid(), host or socket.gethostname(), utc_now(),
                        process_start_time(pid or os.getpid()))
        if release in self._held:  # this session has it already: a nested block
            self._held[release] += 1
            try:
                yield me
            finally:
                self._held[release] -= 1
            return
        token = uuid.uuid4().hex
        self._take(me, token)
        self._held[release] = 1
        try:
            yield me
        finally:
            del self._held[release]
            with contextlib.suppress(LedgerError):
                self._give_back(release, token)

    def _take(self, me: LockHolder, token: str) -> None:
        key, deadline = _key("lock", me.release), time.monotonic() + DEAD_HOLDER_GRACE_S
        self._keep_alive()
        while True:
            got, current = False, None
            try:
                with self.atomic():
                    # Takers and leavers of this release's lock go one at a time, so a taker
                    # that finds the lock busy always finds the holder's row committed.
                    self._x("SELECT pg_advisory_xact_lock(%s)", [_key("mutex", me.release)])
                    got = self._x("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
                    if not got:
                        current = self._one("SELECT release, pid, host, since, process_start "
                                            "FROM locks WHERE release = %s", [me.release])
                    else:
                        self._x("INSERT INTO locks (release, pid, host, since, process_start, "
                                "token) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (release) "
                                "DO UPDATE SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
                                "since = EXCLUDED.since, process_start = EXCLUDED.process_start, "
                                "token = EXCLUDED.token",
                                [me.release, me.pid, me.host, me.since, me.process_start, token])
            except BaseException:
                if got:  # a session lock outlives a rolled-back transaction: let it go
                    with contextlib.suppress(Exception):
                        self._x("SELECT pg_advisory_unlock(%s)", [key])
                raise
            if got:
                return
            holder = LockHolder(*current) if current else LockHolder(
                me.release, 0, "an unknown host", "an unknown time")
            if not (holder.host == me.host and holder.pid and time.monotonic() < deadline
                    and not process_alive(holder.pid, holder.process_start)):
                raise LockHeld(me.release, holder)
            # The holder ran here and is gone: the server is about to end its session.
            time.sleep(0.05)

    def _give_back(self, release: str, token: str) -> None:
        with self.atomic():
            self._x("SELECT pg_advisory_xact_lock(%s)", [_key("mutex", release)])
            self._x("DELETE FROM locks WHERE release = %s AND token = %s", [release, token])
            self._x("SELECT pg_advisory_unlock(%s)", [_key("lock", release)])

    def _keep_alive(self) -> None:
        """Ask the server to probe this connection, so that a holder whose machine vanished
        (no FIN ever arrives) loses its session, and so its lock, within about a minute rather
        than the system's two hours (ignored on a Unix socket)."""
        for name, value in (("tcp_keepalives_idle", 30), ("tcp_keepalives_interval", 10),
                            ("tcp_keepalives_count", 3)):
            self._x(f"SET {name} = {value}")

    # -- helpers -------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> Any:
        with _translated(self.path):
            return self._x(sql, params).fetchone()


def _lock_ids(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: (classid, objid), the high and low 32 bits."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


@contextlib.contextmanager
def _translated(where: str, url: str | None = None, events: Sequence[NewEvent] = (),
                release: str | None = None, expected: int | None = None) -> Iterator[None]:
    """Run a block with psycopg's errors turned into ours (the one place that reads them)."""
    try:
        yield
    except psycopg.Error as err:
        raise _translate(err, where, url, events, release, expected) from None
    except json.JSONDecodeError as err:  # a stored payload changed behind our back
        raise LedgerCorrupt(where, f"an event payload is not JSON ({err})") from err


_KEY_DETAIL = re.compile(r"Key \(idempotency_key\)=\((.*)\) already exists")


def _translate(err: psycopg.Error, where: str, url: str | None, events: Sequence[NewEvent],
               release: str | None, expected: int | None) -> LedgerError:
    """The ledger error that says what a psycopg error means for the user.

    Raised `from None` by the caller: psycopg's own text may quote the connection string, and
    the chained cause would print under -v.
    """
    text = _first_line(_without_secret(str(err), url))
    state = err.sqlstate or ""
    if isinstance(err, pg_errors.UniqueViolation):
        constraint = getattr(err.diag, "constraint_name", "") or ""
        if "idempotency_key" in constraint:
            found = _KEY_DETAIL.search(err.diag.message_detail or "")
            key = found.group(1) if found else next(
                (e.idempotency_key for e in events if e.idempotency_key), "?")
            return DuplicateKey(key)
        if release is not None:  # (release, release_seq) or seq: another writer was first
            return ConcurrentAppend(release, expected or 0, -1)
        return LedgerCorrupt(where, text)
    if isinstance(err, (pg_errors.LockNotAvailable, pg_errors.QueryCanceled)):
        return LedgerBusy(where, LOCK_TIMEOUT_S)
    if isinstance(err, pg_errors.InsufficientPrivilege):
        return LedgerError(f"the ledger {where} refused: {text}",
                           hint="grant the tool's role what docs/TEAM.md lists (SELECT, INSERT "
                                "on events; locks and snapshots in full)")
    if isinstance(err, pg_errors.ReadOnlySqlTransaction):
        return LedgerError(f"the ledger {where} cannot be written: {text}")
    if isinstance(err, pg_errors.UndefinedTable):
        return LedgerCorrupt(where, f"it is not a release ledger ({text})")
    if isinstance(err, psycopg.OperationalError):
        return _unreachable(where, text, state)
    return LedgerError(f"the ledger {where} refused a query: {text}")


def _unreachable(where: str, text: str, state: str) -> LedgerError:
    """A failed connection as one sentence, with the hint that fits its cause.

    libpq reports failures at connect time without an SQLSTATE, so the cause is read from its
    text: 'connection to server at "h", port p failed: FATAL:  REASON'.
    """
    if text.startswith("connection is bad: invalid"):
        return LedgerError(f"the ledger URL {where} is not valid: "
                           f"{text.removeprefix('connection is bad: ')}")
    reason = text.rsplit("failed:", 1)[-1].strip().removeprefix("FATAL:").strip() or "no answer"
    reason = reason[:1].lower() + reason[1:]
    if state == "3D000" or ("database" in reason and "does not exist" in reason):
        return LedgerUnreachable(where, reason, hint="create the database first (`createdb`, "
                                 "see docs/TEAM.md); release creates its tables")
    if state.startswith("28") or "password" in reason:
        return LedgerUnreachable(where, reason, hint="set PGPASSWORD, or add a line "
                                 "host:port:database:user:password to ~/.pgpass (mode 0600)")
    if "role" in reason and "does not exist" in reason:
        return LedgerUnreachable(where, reason, hint="create the role first (docs/TEAM.md), "
                                 "or name another user in the URL")
    if "terminat" in reason or "closed" in reason:
        return LedgerUnreachable(where, reason, hint="run the command again; a lock this "
                                 "command held was freed with its session")
    return LedgerUnreachable(where, reason)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else "no reason given"


def _without_secret(text: str, url: str | None) -> str:
    """`text` without the URL's password (libpq does not echo it; this makes sure)."""
    if not url:
        return text
    password = urlsplit(url).password
    if password:
        for form in {password, unquote(password)}:
            text = text.replace(form, "***")
    return text
