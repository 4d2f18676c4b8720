"""psycopg's errors as the ledger's own, in one place (STYLE §1): a unique key that is an
idempotency key or a lost race, a busy lock, a refused privilege, and each way a server can be out
of reach, as one sentence with the hint that fits. No message carries the URL's password.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors as pg_errors

from release_ledger.ledger.errors import (ConcurrentAppend, DuplicateKey, LedgerBusy,
                                          LedgerCorrupt, LedgerError, LedgerUnreachable)
from release_ledger.ledger.interface import NewEvent

#: How long a writer waits for another one's transaction (the SQLite backend's busy timeout);
#: each session sets it as `lock_timeout`, and a wait that runs out is reported with it.
LOCK_TIMEOUT_S = 10


@contextlib.contextmanager
def translated(where: str, url: str | None = None, events: Sequence[NewEvent] = (),
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
