"""The SQLite backend of the ledger: one file (WAL) or memory, append-only, with per-release locks.

The embedded default (DESIGN §4). Every sqlite3 error becomes a `LedgerError` in one place,
`_translate` (STYLE §1), so callers never see SQL. Writes go through `atomic()`: an outermost
`BEGIN IMMEDIATE` (the write lock is taken before reading the chain's tip, so two appenders
serialise instead of deadlocking) and savepoints for nested blocks (STYLE §2).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from release_ledger.ledger.canonical import GENESIS
from release_ledger.ledger.chain import first_break, link, links, to_event, to_row
from release_ledger.ledger.errors import (ChainBroken, ConcurrentAppend, DuplicateKey, LedgerBusy,
                                          LedgerCorrupt, LedgerError, LedgerMissing,
                                          LockHeld)
from release_ledger.ledger.export import export_jsonl
from release_ledger.ledger.interface import (COLUMNS, LockHolder, NewEvent, StoredEvent,
                                             default_actor, utc_now)
from release_ledger.ledger.process import process_alive, process_start_time

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

#: The tables and triggers (a file of their own, beside postgres_schema.sql).
_SCHEMA_SQL = Path(__file__).with_name("sqlite_schema.sql")

_COLUMNS = ", ".join(COLUMNS)
_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"


class SqliteLedger:
    """An append-only event store in one SQLite file (or in memory): an `EventStore`."""

    def __init__(self, conn: sqlite3.Connection, path: str, tracer: Callable | None = None,
                 readonly: bool = False):
        self.path, self.readonly = path, readonly
        self.conn, self.tracer = conn, tracer
        self._db = None

    def __repr__(self) -> str:
        return f"<SqliteLedger {self.path}>"

    @property
    def db(self):
        """The sqlite-utils view of the connection (schema work); built on first use, since
        importing sqlite-utils costs more than a whole `release status` may take."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn, tracer=self.tracer, execute_plugins=False)
        return self._db

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self.tracer is not None:
            self.tracer(sql, params)
        return self.conn.execute(sql, params)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path | sqlite3.Connection = ":memory:",
             tracer: Callable | None = None, readonly: bool = False,
             create: bool = True) -> "SqliteLedger":
        """Open a ledger from a path, ":memory:", or an existing connection; create its schema.

        `create=False` (and `readonly`) refuse a file that does not exist yet with
        LedgerMissing: only `start` makes a ledger.
        """
        path = target if isinstance(target, str) else str(target)
        if isinstance(target, sqlite3.Connection):
            path = "<connection>"
        elif (readonly or not create) and path != ":memory:" and not Path(path).exists():
            raise LedgerMissing(path)
        with _translated(path):
            if isinstance(target, sqlite3.Connection):
                conn = target
            elif readonly:
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                       check_same_thread=False)
            else:
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.isolation_level = None  # we say BEGIN ourselves (see atomic)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            ledger = cls(conn, path, tracer, readonly)
            if not readonly and not ledger._has_schema():
                ledger._create_schema()
            ledger._check_schema()
            return ledger

    def _has_schema(self) -> bool:
        row = self._execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
        return row.fetchone() is not None

    def _create_schema(self) -> None:
        if self.path not in (":memory:", "<connection>"):
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode and mode[0].lower() != "wal":
                raise LedgerCorrupt(self.path, f"journal mode WAL refused ({mode[0]})")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        with self.atomic():
            for statement in _split_sql(_SCHEMA_SQL.read_text(encoding="utf-8")):
                self.db.execute(statement)
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                            [str(SCHEMA_VERSION)])

    def _check_schema(self) -> None:
        row = self._one("SELECT value FROM meta WHERE key = 'schema'", [])
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise LedgerCorrupt(self.path, f"unknown schema version {row and row[0]!r}")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- transactions --------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator["SqliteLedger"]:
        """A transaction: all or nothing. A nested block is a savepoint that rolls back alone."""
        with _translated(self.path):
            if self.conn.in_transaction:
                name = f"sp_{os.urandom(6).hex()}"
                self.conn.execute(f"SAVEPOINT {name}")
                try:
                    yield self
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                        self.conn.execute(f"RELEASE SAVEPOINT {name}")
                    raise
                else:
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

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
            tip = self._one("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", [])
            rseq = self._one("SELECT COALESCE(MAX(release_seq), 0) FROM events "
                             "WHERE release = ?", [release])[0]
            if expected_release_seq is not None and rseq != expected_release_seq:
                raise ConcurrentAppend(release, expected_release_seq, rseq)
            rows = link(release, events, seq=tip[0] if tip else 0,
                        prev_hash=tip[1] if tip else GENESIS, release_seq=rseq,
                        actor=actor or default_actor(), at=at, now=utc_now)
            with _translated(self.path, events, release, expected_release_seq):
                for row in rows:
                    self._execute(_INSERT, row)
        return [to_event(row) for row in rows]

    def import_events(self, events: Iterable[StoredEvent]) -> int:
        """Append already-hashed events verbatim, each checked to link onto the tip; one
        transaction. ChainBroken names the first that does not (nothing is written then)."""
        self._writable()
        count = 0
        with self.atomic():
            tip = self._one("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", [])
            seq, prev = (tip[0], tip[1]) if tip else (0, GENESIS)
            with _translated(self.path):
                for event in events:
                    row = to_row(event)
                    if not links(row, seq + 1, prev):
                        raise ChainBroken(event.seq, "the events to import")
                    self._execute(_INSERT, row)
                    seq, prev, count = row[0], row[9], count + 1
        return count

    def _writable(self) -> None:
        if self.readonly:
            raise LedgerError(f"the ledger {self.path} was opened read-only")

    # -- reading -------------------------------------------------------------------------------

    def events(self, release: str | None = None, after_seq: int = 0,
               upto_seq: int | None = None) -> Iterator[StoredEvent]:
        """Events in seq order: all of them, or one release's, after a seq and up to another."""
        sql = f"SELECT {_COLUMNS} FROM events WHERE seq > ?"
        params: list[Any] = [after_seq]
        if release is not None:
            sql += " AND release = ?"
            params.append(release)
        if upto_seq is not None:
            sql += " AND seq <= ?"
            params.append(upto_seq)
        with _translated(self.path):
            for row in self._execute(sql + " ORDER BY seq", params):
                yield to_event(row)

    def last(self, release: str) -> StoredEvent | None:
        """The newest event of a release, or None."""
        row = self._one(f"SELECT {_COLUMNS} FROM events WHERE release = ? "
                        "ORDER BY release_seq DESC LIMIT 1", [release])
        return to_event(row) if row else None

    def count(self, release: str | None = None) -> int:
        """How many events (of one release, or in all)."""
        if release is None:
            return self._one("SELECT COUNT(*) FROM events", [])[0]
        return self._one("SELECT COUNT(*) FROM events WHERE release = ?", [release])[0]

    def releases(self) -> list[str]:
        """Every release version, in order of its first event."""
        with _translated(self.path):
            rows = self._execute("SELECT release, MIN(seq) AS first FROM events "
                                 "GROUP BY release ORDER BY first").fetchall()
        return [r[0] for r in rows]

    def verify(self, upto_seq: int | None = None) -> int | None:
        """Check the whole hash chain; return the first bad seq, or None when it holds."""
        sql = f"SELECT {_COLUMNS} FROM events"
        params: list[Any] = []
        if upto_seq is not None:
            sql, params = sql + " WHERE seq <= ?", [upto_seq]
        with _translated(self.path):
            return first_break(self._execute(sql + " ORDER BY seq", params))

    def export_jsonl(self, release: str, path: str | Path) -> Path:
        """Write a release's events, one JSON object a line, for review in the PR."""
        return export_jsonl(self, release, path)

    # -- snapshots (a projection cache, never trusted over events) -----------------------------

    def save_snapshot(self, release: str, seq: int, state: str) -> None:
        """Cache a release's folded state as of seq (best effort; read-only ledgers skip it)."""
        if self.readonly:
            return
        with self.atomic():
            self._execute("INSERT OR REPLACE INTO snapshots (release, seq, state) VALUES (?,?,?)",
                          [release, seq, state])

    def load_snapshot(self, release: str) -> tuple[int, str] | None:
        """The cached state of a release and the seq it was folded to, or None."""
        row = self._one("SELECT seq, state FROM snapshots WHERE release = ?", [release])
        return (row[0], row[1]) if row else None

    # -- locks ---------------------------------------------------------------------------------

    def holder(self, release: str) -> LockHolder | None:
        """Who holds the release's lock, or None."""
        row = self._one("SELECT release, pid, host, since, process_start FROM locks "
                        "WHERE release = ?", [release])
        return LockHolder(*row) if row else None

    @contextlib.contextmanager
    def lock(self, release: str, pid: int | None = None, host: str | None = None
             ) -> Iterator[LockHolder]:
        """Hold the release's lock for the block; a live holder raises LockHeld at once.

        The holder row is written in the same transaction that checks for one, so two
        processes can never both think they hold it. A holder on this host whose process is
        gone (killed, crashed) is taken over.
        """
        me = LockHolder(release, pid or os.getpid(), host or socket.gethostname(), utc_now(),
                        process_start_time(pid or os.getpid()))
        with self.atomic():
            current = self.holder(release)
            if current is not None and not self._stale(current, me):
                raise LockHeld(release, current)
            self._execute("INSERT OR REPLACE INTO locks (release, pid, host, since, "
                          "process_start) VALUES (?,?,?,?,?)",
                          [me.release, me.pid, me.host, me.since, me.process_start])
        try:
            yield me
        finally:
            with contextlib.suppress(LedgerError):
                with self.atomic():
                    self._execute("DELETE FROM locks WHERE release = ? AND pid = ? AND host = ?",
                                  [release, me.pid, me.host])

    @staticmethod
    def _stale(current: LockHolder, me: LockHolder) -> bool:
        if current.host != me.host:
            return False  # another machine: SQLite cannot know, so it never steals
        if current.pid == me.pid:
            return True
        return not process_alive(current.pid, current.process_start)

    # -- helpers -------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> Any:
        with _translated(self.path):
            return self._execute(sql, params).fetchone()


#: The name the tests and older callers know the SQLite backend by.
Ledger = SqliteLedger


@contextlib.contextmanager
def _translated(path: str, events: Sequence[NewEvent] = (), release: str | None = None,
                expected: int | None = None) -> Iterator[None]:
    """Run a block with sqlite3's errors turned into ours (the one place that reads them)."""
    try:
        yield
    except sqlite3.Error as err:
        raise _translate(err, path, events, release, expected) from err
    except json.JSONDecodeError as err:  # a stored payload changed behind our back
        raise LedgerCorrupt(path, f"an event payload is not JSON ({err})") from err


def _translate(err: sqlite3.Error, path: str, events: Sequence[NewEvent], release: str | None,
               expected: int | None) -> LedgerError:
    """The ledger error that says what an sqlite3 error means for the user."""
    text = str(err)
    if isinstance(err, sqlite3.IntegrityError):
        if "idempotency_key" in text:
            return DuplicateKey(next((e.idempotency_key for e in events if e.idempotency_key), "?"))
        if "release_seq" in text and release is not None:
            return ConcurrentAppend(release, expected or 0, -1)
        return LedgerCorrupt(path, text)
    if isinstance(err, sqlite3.OperationalError):
        if "locked" in text or "busy" in text:
            return LedgerBusy(path, BUSY_TIMEOUT_MS / 1000)
        if "no such table" in text:
            return LedgerCorrupt(path, f"it is not a release ledger ({text})")
        if "readonly" in text:
            return LedgerError(f"the ledger {path} cannot be written: {text}")
    if "not a database" in text or "malformed" in text:
        return LedgerCorrupt(path, "the file is not a valid SQLite database (truncated or corrupt)")
    return LedgerCorrupt(path, text)


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script (comment lines dropped; triggers keep their inner
    semicolons)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        if line.lstrip().startswith("--"):
            continue
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and (not joined.upper().startswith("CREATE TRIGGER")
                                     or joined.upper().endswith("END;")):
            statements.append(joined)
            current = []
    return statements
