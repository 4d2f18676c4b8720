"""Where a ledger lives, and opening it: a file path or ':memory:' (SQLite), or a
`postgresql://` URL (PostgreSQL, a team's shared ledger); named in messages without its password.

psycopg is imported only when a URL asks for PostgreSQL, so `release status` on a file never
pays for it (and works without the `postgres` extra installed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from release_ledger.ledger.errors import LedgerError
from release_ledger.ledger.interface import EventStore

#: The URL schemes libpq accepts; both mean PostgreSQL.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    """True when `target` is a PostgreSQL URL rather than a file path."""
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


def redact(target: str | Path) -> str:
    """The ledger's name for messages: a path as given, a URL with any password taken out.

    `postgresql://release:s3cret@db/ledger?password=x` -> `postgresql://release@db/ledger`: the
    password belongs in PGPASSWORD or ~/.pgpass, and must never reach a terminal, a CI log or
    the ledger itself, even when someone put it in the URL.
    """
    if not is_postgres(target):
        return str(target)
    parts = urlsplit(str(target))
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo.split(':', 1)[0]}@{hostport}" if at else hostport
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def open_ledger(target: str | Path, *, tracer: Callable | None = None, readonly: bool = False,
                create: bool = True) -> EventStore:
    """Open the ledger `target` names, choosing the backend from it.

    `create=False` (and `readonly`) raise LedgerMissing where no ledger exists yet, instead of
    making an empty one: only `start` (and `demo`) create a ledger (DESIGN §8).
    """
    if is_postgres(target):
        try:
            from release_ledger.ledger.postgres import PostgresLedger
        except ImportError as err:
            if not (err.name or "").startswith("psycopg"):
                raise
            raise LedgerError(f"the ledger {redact(target)} is a PostgreSQL database, and "
                              "psycopg 3 (the PostgreSQL driver) is not installed",
                              hint="pip install 'release-ledger[postgres]'") from None

        return PostgresLedger.open(str(target), tracer=tracer, readonly=readonly, create=create)
    from release_ledger.ledger.sqlite import SqliteLedger

    return SqliteLedger.open(target, tracer=tracer, readonly=readonly, create=create)
