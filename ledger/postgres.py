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

The lock lives in `ledger.postgres_lock`; every psycopg error becomes a `LedgerError` in one
place, `ledger.postgres_errors` (STYLE §1). The URL is kept only in its redacted form (`path`): a
password never appears in str(), repr() or a message.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg

from release_ledger.ledger import postgres_lock
from release_ledger.ledger.canonical import GENESIS
from release_ledger.ledger.chain import first_break, link, links, to_event, to_row
from release_ledger.ledger.errors import (ChainBroken, ConcurrentAppend, LedgerCorrupt, LedgerError,
                                          LedgerMissing)
from release_ledger.ledger.export import export_jsonl
from release_ledger.ledger.interface import (COLUMNS, LockHolder, NewEvent, StoredEvent,
                                             default_actor, utc_now)
from release_ledger.ledger.location import redact
from release_ledger.ledger.postgres_errors import LOCK_TIMEOUT_S, translated
from release_ledger.ledger.postgres_lock import advisory_key
from release_ledger.ledger.process import process_start_time

SCHEMA_VERSION = 1
CONNECT_TIMEOUT_S = 10
#: A page of events read at a time: memory stays bounded on any ledger size, and the connection
#: is free between pages (a caller may append while it iterates).
PAGE = 5000

_SCHEMA_SQL = Path(__file__).with_name("postgres_schema.sql")
_COLUMNS = ", ".join(COLUMNS)
_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"

#: Serialises appends (gapless seq) and the one-time schema creation.
_APPEND_KEY = advisory_key("append")
_SCHEMA_KEY = advisory_key("schema")


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
        with translated(where, url):
            conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name="release")
        ledger = cls(conn, where, tracer, readonly)
        with translated(where, url):
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
        with translated(self.path):
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
            with translated(self.path, events=events, release=release,
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
            with translated(self.path):
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
            with translated(self.path):
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
        with translated(self.path):
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
        return postgres_lock.holder(self, release)

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
        postgres_lock.take(self, me, token)
        self._held[release] = 1
        try:
            yield me
        finally:
            del self._held[release]
            with contextlib.suppress(LedgerError):
                postgres_lock.give_back(self, release, token)

    # -- helpers -------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> Any:
        with translated(self.path):
            return self._x(sql, params).fetchone()
