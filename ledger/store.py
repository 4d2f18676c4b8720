"""The SQLite event store: append-only events with a hash chain, per-release locks, snapshots.

The only module that speaks SQL. Every sqlite3 error is translated into a `LedgerError` here, so
callers never see SQL (STYLE §1). Writes go through `atomic()`: an outermost `BEGIN IMMEDIATE`
(the write lock is taken before reading the chain's tip, so two appenders serialise instead of
deadlocking) and savepoints for nested blocks (STYLE §2).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from release_ledger.ledger.canonical import GENESIS, canonical, event_hash
from release_ledger.ledger.errors import (ConcurrentAppend, DuplicateKey, LedgerCorrupt, LedgerError,
                           LockHeld)
from release_ledger.ledger.process import process_alive, process_start_time

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    release TEXT NOT NULL,
    release_seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (release, release_seq)
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE IF NOT EXISTS locks (
    release TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL,
    process_start TEXT
);
CREATE TABLE IF NOT EXISTS snapshots (
    release TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL
);
"""

_COLUMNS = "seq, release, release_seq, type, payload, actor, at, idempotency_key, prev_hash, hash"


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


_loads = json.loads


def _row_to_event(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(row[0], row[1], row[2], row[3], _loads(row[4]), *row[5:])


class Ledger:
    """An append-only event store in one SQLite file (or in memory)."""

    def __init__(self, conn: sqlite3.Connection, path: str, tracer: Callable | None = None,
                 readonly: bool = False):
        self.path, self.readonly = path, readonly
        self.conn, self.tracer = conn, tracer
        self._db = None

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
             tracer: Callable | None = None, readonly: bool = False) -> "Ledger":
        """Open a ledger from a path, ":memory:", or an existing connection; create its schema."""
        path = target if isinstance(target, str) else str(target)
        try:
            if isinstance(target, sqlite3.Connection):
                conn, path = target, "<connection>"
            elif readonly:
                if not Path(path).exists():
                    raise LedgerCorrupt(path, "the file does not exist")
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
        except sqlite3.DatabaseError as err:
            raise LedgerCorrupt(path, _reason(err)) from err

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
            for statement in _split_sql(_SCHEMA):
                self.db.execute(statement)
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                            [str(SCHEMA_VERSION)])

    def _check_schema(self) -> None:
        try:
            row = self._execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError as err:
            raise LedgerCorrupt(self.path, "it is not a release ledger (no meta table)") from err
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise LedgerCorrupt(self.path, f"unknown schema version {row and row[0]!r}")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- transactions --------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator["Ledger"]:
        """A transaction: all or nothing. A nested block is a savepoint that rolls back alone."""
        try:
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
        except sqlite3.IntegrityError:
            raise  # append() names the constraint
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise LedgerError(f"the ledger {self.path} stayed busy for "
                                  f"{BUSY_TIMEOUT_MS // 1000} s: another process is writing") from err
            raise LedgerCorrupt(self.path, _reason(err)) from err
        except sqlite3.DatabaseError as err:
            raise LedgerCorrupt(self.path, _reason(err)) from err

    # -- writing -------------------------------------------------------------------------------

    def append(self, release: str, events: Sequence[NewEvent],
               expected_release_seq: int | None = None, actor: str | None = None,
               at: str | None = None) -> list[StoredEvent]:
        """Append events to a release in one transaction; refuse if the release moved on.

        `expected_release_seq` is the release_seq of the last event the caller saw (0 for none):
        another writer having appended since raises ConcurrentAppend and nothing is written.
        """
        if self.readonly:
            raise LedgerError(f"the ledger {self.path} was opened read-only")
        actor = actor or default_actor()
        stored: list[StoredEvent] = []
        try:
            with self.atomic():
                tip = self.conn.execute(
                    "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (tip[0], tip[1]) if tip else (0, GENESIS)
                rseq = self.conn.execute("SELECT COALESCE(MAX(release_seq), 0) FROM events "
                                         "WHERE release = ?", (release,)).fetchone()[0]
                if expected_release_seq is not None and rseq != expected_release_seq:
                    raise ConcurrentAppend(release, expected_release_seq, rseq)
                for event in events:
                    seq, rseq = seq + 1, rseq + 1
                    when = at or utc_now()
                    text = canonical(event.payload)
                    digest = event_hash(seq, release, rseq, event.type, text, actor, when,
                                        event.idempotency_key, prev)
                    self._execute(f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                                    [seq, release, rseq, event.type, text, actor, when,
                                     event.idempotency_key, prev, digest])
                    stored.append(StoredEvent(seq, release, rseq, event.type,
                                              json.loads(text), actor, when,
                                              event.idempotency_key, prev, digest))
                    prev = digest
        except sqlite3.IntegrityError as err:
            message = str(err)
            if "idempotency_key" in message:
                key = next((e.idempotency_key for e in events if e.idempotency_key), "?")
                raise DuplicateKey(key) from err
            if "release_seq" in message:
                raise ConcurrentAppend(release, expected_release_seq or 0, -1) from err
            raise LedgerCorrupt(self.path, message) from err
        except ValueError as err:  # NaN or a non-JSON payload: refuse before anything is written
            raise LedgerError(f"an event payload is not JSON: {err}") from err
        return stored

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
        try:
            for row in self._execute(sql + " ORDER BY seq", params):
                yield _row_to_event(row)
        except sqlite3.DatabaseError as err:
            raise LedgerCorrupt(self.path, _reason(err)) from err
        except json.JSONDecodeError as err:
            raise LedgerCorrupt(self.path, f"an event payload is not JSON ({err})") from err

    def last(self, release: str) -> StoredEvent | None:
        """The newest event of a release, or None."""
        row = self._one(f"SELECT {_COLUMNS} FROM events WHERE release = ? "
                        "ORDER BY release_seq DESC LIMIT 1", [release])
        return _row_to_event(row) if row else None

    def count(self, release: str | None = None) -> int:
        """How many events (of one release, or in all)."""
        if release is None:
            return self._one("SELECT COUNT(*) FROM events", [])[0]
        return self._one("SELECT COUNT(*) FROM events WHERE release = ?", [release])[0]

    def releases(self) -> list[str]:
        """Every release version, in order of its first event."""
        rows = self._all("SELECT release, MIN(seq) AS first FROM events GROUP BY release "
                         "ORDER BY first", [])
        return [r[0] for r in rows]

    def find_key(self, idempotency_key: str) -> StoredEvent | None:
        """The event recorded under an idempotency key, or None."""
        row = self._one(f"SELECT {_COLUMNS} FROM events WHERE idempotency_key = ?",
                        [idempotency_key])
        return _row_to_event(row) if row else None

    def verify(self, upto_seq: int | None = None) -> int | None:
        """Check the whole hash chain; return the first bad seq, or None when it holds."""
        expected_seq, prev = 1, GENESIS
        sql = f"SELECT {_COLUMNS} FROM events"
        params: list[Any] = []
        if upto_seq is not None:
            sql, params = sql + " WHERE seq <= ?", [upto_seq]
        try:
            for row in self._execute(sql + " ORDER BY seq", params):
                seq, release, rseq, type_, payload, actor, at, key, prev_hash, digest = row
                if seq != expected_seq or prev_hash != prev:
                    return expected_seq if seq != expected_seq else seq
                try:
                    if event_hash(seq, release, rseq, type_, payload, actor, at, key,
                                  prev_hash) != digest:
                        return seq
                except (TypeError, ValueError):
                    return seq
                expected_seq, prev = seq + 1, digest
        except sqlite3.DatabaseError as err:
            raise LedgerCorrupt(self.path, _reason(err)) from err
        return None

    def export_jsonl(self, release: str, path: str | Path) -> Path:
        """Write a release's events, one JSON object a line, for review in the PR."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for event in self.events(release):
                out.write(canonical({**event.as_dict(), "idempotency_key": event.idempotency_key,
                                     "prev_hash": event.prev_hash}) + "\n")
        os.replace(tmp, target)
        return target

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
            return False  # another machine: we cannot know, so we never steal
        if current.pid == me.pid:
            return True
        return not process_alive(current.pid, current.process_start)

    # -- helpers -------------------------------------------------------------------------------

    def _one(self, sql: str, params: list[Any]) -> Any:
        try:
            return self._execute(sql, params).fetchone()
        except sqlite3.DatabaseError as err:
            raise LedgerCorrupt(self.path, _reason(err)) from err

    def _all(self, sql: str, params: list[Any]) -> list[Any]:
        try:
            return self._execute(sql, params).fetchall()
        except sqlite3.DatabaseError as err:
            raise LedgerCorrupt(self.path, _reason(err)) from err


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script (triggers keep their inner semicolons)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and (not joined.upper().startswith("CREATE TRIGGER")
                                     or joined.upper().endswith("END;")):
            statements.append(joined)
            current = []
    return statements


def _reason(err: sqlite3.Error) -> str:
    text = str(err)
    if "not a database" in text or "malformed" in text:
        return "the file is not a valid SQLite database (truncated or corrupt)"
    return text
