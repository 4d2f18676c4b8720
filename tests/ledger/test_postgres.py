"""What the PostgreSQL backend adds to the contract: locks across machines, append-only for the
team's tool role, where the password comes from (and that it is never shown), and one sentence
for each way the server can be out of reach."""

from __future__ import annotations

import multiprocessing
import socket
from urllib.parse import urlsplit

import psycopg
import pytest

from ledger_support import Backend
from pg_support import PASSWORD, PASSWORD_ROLE
from release_ledger.ledger import (LedgerError, LedgerMissing, LedgerUnreachable, LockHeld,
                                   NewEvent, open_ledger)

#: The grants docs/TEAM.md gives the role that `release` runs as.
TOOL_GRANTS = """
GRANT SELECT, INSERT ON events TO {role};
GRANT SELECT ON meta TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON locks, snapshots TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM {role};
"""


def _as(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@{parts.hostname}:{parts.port}{parts.path}"


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def test_a_killed_holder_on_another_machine_is_taken_over_once_its_session_ends(pg_url, postgres):
    """A holder on another host is not judged by its pid: the server ending its session frees it."""
    holder = Backend("postgres", pg_url).hold_lock("0.4.0", host="ci-runner-7")
    ledger = open_ledger(pg_url)
    assert ledger.holder("0.4.0").host == "ci-runner-7"
    holder.kill()
    holder.wait()
    ledger.close()
    postgres.wait_for_no_session(_database(pg_url))  # the server noticed the dead client
    ledger = open_ledger(pg_url)
    assert ledger.holder("0.4.0") is None
    with ledger.lock("0.4.0") as me:
        assert ledger.holder("0.4.0") == me


def test_a_live_holder_on_another_machine_blocks_with_its_name(pg_url):
    """Another machine's live holder (its pid means nothing here) gives LockHeld naming it."""
    first, second = open_ledger(pg_url), open_ledger(pg_url)
    with first.lock("0.4.0", pid=4_000_000, host="ci-runner-7"):
        with pytest.raises(LockHeld, match=r"locked by pid 4000000 on ci-runner-7 since"):
            with second.lock("0.4.0"):
                pass


def test_a_lock_given_back_is_free_for_the_next_taker(pg_url):
    """After the holder's block ends, another connection takes the lock at once."""
    first, second = open_ledger(pg_url), open_ledger(pg_url)
    with first.lock("0.4.0"):
        pass
    with second.lock("0.4.0", host="laptop") as me:
        assert first.holder("0.4.0") == me


def test_the_tool_role_appends_and_locks_but_cannot_change_an_event(pg_url, postgres):
    """With docs/TEAM.md's grants, the tool's role runs the ledger; UPDATE/DELETE are refused."""
    owner = open_ledger(pg_url)  # the owner creates the tables
    owner.append("0.4.0", [NewEvent("A", {})])
    postgres.sql(TOOL_GRANTS.format(role=PASSWORD_ROLE), database=_database(pg_url))
    tool = open_ledger(_as(pg_url, PASSWORD_ROLE, PASSWORD))
    with tool.lock("0.4.0"):
        tool.append("0.4.0", [NewEvent("B", {})], expected_release_seq=1)
    tool.save_snapshot("0.4.0", 2, "{}")
    assert tool.verify() is None and tool.count() == 2
    postgres.sql("ALTER TABLE events DISABLE TRIGGER ALL", database=_database(pg_url))
    with psycopg.connect(_as(pg_url, PASSWORD_ROLE, PASSWORD), autocommit=True) as raw:
        for sql in ("UPDATE events SET type = 'X'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(sql)
    assert [e.type for e in owner.events()] == ["A", "B"]


def test_a_role_without_insert_is_one_sentence_with_a_hint(pg_url, postgres):
    """A role that may only read gets the server's refusal as one sentence and a hint."""
    open_ledger(pg_url).close()
    postgres.sql(f"GRANT SELECT ON events, meta, locks, snapshots TO {PASSWORD_ROLE}",
                 database=_database(pg_url))
    reader = open_ledger(_as(pg_url, PASSWORD_ROLE, PASSWORD))
    with pytest.raises(LedgerError, match="refused: permission denied for table events") as err:
        reader.append("0.4.0", [NewEvent("A", {})])
    assert "docs/TEAM.md" in err.value.hint


def test_truncate_is_refused_too(pg_url):
    """TRUNCATE, which skips row triggers, is refused by the statement trigger."""
    open_ledger(pg_url).append("0.4.0", [NewEvent("A", {})])
    with psycopg.connect(pg_url, autocommit=True) as raw:
        with pytest.raises(psycopg.Error, match="append-only"):
            raw.execute("TRUNCATE events")


def test_a_password_in_the_url_is_never_shown(pg_url):
    """A URL holding a password works, but str(), repr() and path show it without."""
    url = _as(pg_url, PASSWORD_ROLE, PASSWORD)
    ledger = open_ledger(url)
    shown = f"{ledger} {ledger!r} {ledger.path}"
    assert PASSWORD not in shown
    assert ledger.path == _as(pg_url, PASSWORD_ROLE)


def test_a_wrong_password_is_one_sentence_without_it(pg_url):
    """A wrong password: LedgerUnreachable naming the URL without it, with a hint on PGPASSWORD."""
    wrong = "Wr0ng-Canary-Passw0rd"
    with pytest.raises(LedgerUnreachable) as err:
        open_ledger(_as(pg_url, PASSWORD_ROLE, wrong))
    text = f"{err.value} {err.value.hint} {err.value!r}"
    assert wrong not in text and err.value.__cause__ is None
    assert f"cannot reach the ledger {_as(pg_url, PASSWORD_ROLE)}: " in str(err.value)
    assert "password authentication failed" in str(err.value)
    assert "PGPASSWORD" in err.value.hint


def test_the_password_comes_from_PGPASSWORD(pg_url, monkeypatch):
    """With PGPASSWORD set, a URL without a password connects as the role that needs one."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    ledger = open_ledger(_as(pg_url, PASSWORD_ROLE))
    assert ledger.conn.info.user == PASSWORD_ROLE


def test_the_password_comes_from_a_pgpass_file(pg_url, monkeypatch, tmp_path):
    """With a ~/.pgpass line for the server, a URL without a password connects."""
    parts = urlsplit(pg_url)
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"{parts.hostname}:{parts.port}:*:{PASSWORD_ROLE}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert open_ledger(_as(pg_url, PASSWORD_ROLE)).conn.info.user == PASSWORD_ROLE


def test_a_server_not_running_is_one_sentence_with_a_hint():
    """Nothing listening: 'cannot reach the ledger URL: connection refused' and a hint."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://release:{PASSWORD}@127.0.0.1:{port}/release"
    with pytest.raises(LedgerUnreachable) as err:
        open_ledger(url)
    assert str(err.value) == (f"cannot reach the ledger postgresql://release@127.0.0.1:{port}"
                              "/release: connection refused")
    assert "check that the server runs" in err.value.hint


def test_a_missing_database_says_to_create_it(postgres):
    """A database that does not exist: one sentence naming it, and a hint to create it."""
    with pytest.raises(LedgerUnreachable, match='database "nosuchdb" does not exist') as err:
        open_ledger(postgres.url("nosuchdb"))
    assert "createdb" in err.value.hint


def test_only_a_creating_open_makes_the_tables(pg_url, postgres):
    """Opening an empty database without `create` raises LedgerMissing and creates nothing."""
    with pytest.raises(LedgerMissing, match=r"no ledger at postgresql://postgres@"):
        open_ledger(pg_url, create=False)
    with pytest.raises(LedgerMissing):
        open_ledger(pg_url, readonly=True)
    assert postgres.sql("SELECT to_regclass('events')", database=_database(pg_url)) == [(None,)]


def test_a_readonly_ledger_refuses_to_append(pg_url):
    """A ledger opened read-only reads, and refuses any append with one sentence."""
    open_ledger(pg_url).append("0.4.0", [NewEvent("A", {})])
    reader = open_ledger(pg_url, readonly=True)
    assert reader.count() == 1
    with pytest.raises(LedgerError, match="read-only"):
        reader.append("0.4.0", [NewEvent("B", {})])


def test_the_events_table_has_the_design_columns(pg_url, postgres):
    """events holds DESIGN §4's columns, in order, with payload kept as text (not jsonb)."""
    open_ledger(pg_url).close()
    rows = postgres.sql("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_name = 'events' ORDER BY ordinal_position",
                        database=_database(pg_url))
    assert rows == [("seq", "bigint"), ("release", "text"), ("release_seq", "bigint"),
                    ("type", "text"), ("payload", "text"), ("actor", "text"), ("at", "text"),
                    ("idempotency_key", "text"), ("prev_hash", "text"), ("hash", "text")]


def _open_and_append(url, worker):
    open_ledger(url).append(f"1.{worker}.0", [NewEvent("A", {})])


def test_first_opens_at_once_create_the_tables_once(pg_url):
    """Four processes opening a new database together: all succeed, the schema is made once."""
    procs = [multiprocessing.Process(target=_open_and_append, args=(pg_url, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    ledger = open_ledger(pg_url)
    assert ledger.count() == 4 and ledger.verify() is None


def test_a_search_path_in_the_url_puts_the_ledger_in_that_schema(pg_url, postgres):
    """`?options=-csearch_path%3Drelease` (docs/TEAM.md) keeps the ledger's tables in `release`."""
    postgres.sql("CREATE SCHEMA release", database=_database(pg_url))
    ledger = open_ledger(pg_url + "?options=-csearch_path%3Drelease")
    ledger.append("0.4.0", [NewEvent("A", {})])
    assert postgres.sql("SELECT count(*) FROM release.events", database=_database(pg_url)) == [(1,)]
    assert postgres.sql("SELECT to_regclass('public.events')",
                        database=_database(pg_url)) == [(None,)]
