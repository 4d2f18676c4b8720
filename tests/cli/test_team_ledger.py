"""A team's ledger from the CLI: `--ledger postgresql://…` and `[ledger] url`, `release ledger
copy` between SQLite and PostgreSQL (same seqs, same hashes), and no password in any output."""

from __future__ import annotations

import sqlite3
import subprocess
from urllib.parse import urlsplit

import psycopg
import pytest
from click.testing import CliRunner

from pg_support import PASSWORD, PASSWORD_ROLE
from release_ledger.commands.main import cli
from release_ledger.ledger import Ledger, NewEvent, open_ledger


@pytest.fixture
def product(tmp_path):
    """A minimal product checkout: a git repo with VERSION 0.3.0 and a bare `origin`."""
    repo = tmp_path / "product"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "remote.git")], check=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin",
                    str(tmp_path / "remote.git")], check=True)
    (repo / "VERSION").write_text("0.3.0\n")
    return repo


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def _rows_sqlite(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM events ORDER BY seq").fetchall()


def _rows_pg(url) -> list[tuple]:
    with psycopg.connect(url) as db:
        return db.execute("SELECT * FROM events ORDER BY seq").fetchall()


def _with_password(url: str) -> str:
    parts = urlsplit(url)
    return f"postgresql://{PASSWORD_ROLE}:{PASSWORD}@{parts.hostname}:{parts.port}{parts.path}"


def _a_ledger(path, releases=("0.4.0", "0.5.0"), n=30):
    ledger = Ledger.open(path)
    for release in releases:
        for i in range(0, n, 10):
            ledger.append(release, [NewEvent("E", {"i": j, "text": "é" * (j % 3)},
                                             f"{release}:{j}") for j in range(i, i + 10)])
    ledger.close()


def test_copy_sqlite_to_postgres_and_back_keeps_every_byte(tmp_path, pg_url):
    """SQLite -> PostgreSQL -> SQLite: the same rows (seqs, hashes) in all three; each verifies."""
    first, back = tmp_path / "first.sqlite", tmp_path / "back.sqlite"
    _a_ledger(first)
    there = run("ledger", "copy", first, pg_url)
    assert there.exit_code == 0, there.stderr
    assert f"destination: {pg_url}: held 0, copied 60" in there.output
    again = run("ledger", "copy", pg_url, back)
    assert again.exit_code == 0, again.stderr
    assert _rows_sqlite(first) == _rows_pg(pg_url) == _rows_sqlite(back)
    assert all(open_ledger(str(t)).verify() is None for t in (first, pg_url, back))


def test_copy_into_an_earlier_copy_adds_only_the_rest(tmp_path, pg_url):
    """Copying again after the source grew adds the new events to the earlier copy."""
    source = tmp_path / "ledger.sqlite"
    _a_ledger(source, releases=("0.4.0",))
    assert run("ledger", "copy", source, pg_url).exit_code == 0
    _a_ledger(source, releases=("0.5.0",), n=10)
    result = run("ledger", "copy", source, pg_url)
    assert result.exit_code == 0, result.stderr
    assert "held 30, copied 10" in result.output
    assert _rows_sqlite(source) == _rows_pg(pg_url)


def test_copy_into_another_ledger_is_refused(tmp_path, pg_url):
    """A destination holding other events is refused with one sentence; nothing is added."""
    source = tmp_path / "ledger.sqlite"
    _a_ledger(source)
    open_ledger(pg_url).append("9.9.9", [NewEvent("Other", {})])
    result = run("ledger", "copy", source, pg_url)
    assert result.exit_code == 1
    assert (f"error: the ledger {pg_url} is not a copy of the start of {source}: its event #1 "
            "differs from the source's") in result.stderr
    assert len(_rows_pg(pg_url)) == 1


def test_copy_of_a_broken_chain_exits_4(tmp_path, pg_url):
    """A source whose chain does not verify is not copied: exit 4 naming the seq."""
    source = tmp_path / "ledger.sqlite"
    _a_ledger(source)
    with sqlite3.connect(source) as db:
        db.execute("DROP TRIGGER events_append_only_update")
        db.execute("UPDATE events SET actor = 'mallory@host' WHERE seq = 7")
    result = run("ledger", "copy", source, pg_url)
    assert result.exit_code == 4
    assert f"the hash chain of {source} is broken at event seq 7" in result.stderr
    assert psycopg.connect(pg_url).execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_copy_from_a_missing_ledger_is_one_sentence(tmp_path, pg_url):
    """A SRC that does not exist: exit 1 naming it; no destination is created."""
    result = run("ledger", "copy", tmp_path / "none.sqlite", tmp_path / "dst.sqlite")
    assert result.exit_code == 1
    assert f"error: no ledger at {tmp_path / 'none.sqlite'}" in result.stderr
    assert not (tmp_path / "dst.sqlite").exists()


def test_start_and_status_on_a_postgres_ledger_leave_no_file(product, pg_url):
    """With --ledger postgresql://…, start records there and status reads it; no SQLite file."""
    assert run("--repo", product, "--ledger", pg_url, "start", "--version", "0.4.0").exit_code == 0
    status = run("--repo", product, "--ledger", pg_url, "status")
    assert status.exit_code == 0 and "release 0.4.0: started" in status.output
    assert not (product / "release_logs").exists()
    assert [r[3] for r in _rows_pg(pg_url)] == ["ReleaseStarted"]


def test_the_ledger_url_of_release_toml_is_used(product, pg_url):
    """`[ledger] url` in release.toml sends every command to that database."""
    (product / "release.toml").write_text(f'[ledger]\nurl = "{pg_url}"\n')
    assert run("--repo", product, "start", "--version", "0.4.0").exit_code == 0
    assert run("--repo", product, "history").output.count("ReleaseStarted") == 1
    assert not (product / "release_logs").exists()
    assert len(_rows_pg(pg_url)) == 1


def test_a_password_in_release_toml_is_refused_without_showing_it(product, pg_url):
    """release.toml must not carry the ledger's password: one sentence, the password not in it."""
    (product / "release.toml").write_text(f'[ledger]\nurl = "{_with_password(pg_url)}"\n')
    result = run("--repo", product, "status")
    assert result.exit_code == 1
    assert "key 'ledger.url' must not hold a password" in result.stderr
    assert "PGPASSWORD" in result.stderr
    assert PASSWORD not in result.stderr + result.output


def test_commands_never_print_the_password_of_a_ledger_url(product, pg_url):
    """A --ledger URL with a password: start, -v status, history and a lock error never show it."""
    url = _with_password(pg_url)
    outputs = [run("--repo", product, "--ledger", url, "start", "--version", "0.4.0"),
               run("--repo", product, "--ledger", url, "-v", "status"),
               run("--repo", product, "--ledger", url, "history", "--json")]
    ledger = open_ledger(pg_url)
    with ledger.lock("0.4.0", host="ci-runner-7"):
        outputs.append(run("--repo", product, "--ledger", url, "-v", "advance"))
    assert [r.exit_code for r in outputs] == [0, 0, 0, 1]
    assert "locked by pid" in outputs[-1].stderr
    for result in outputs:
        assert PASSWORD not in result.output + result.stderr


def test_advance_while_another_machine_holds_the_lock_names_it(product, pg_url):
    """A second advance exits 1 at once with the sentence naming the other machine's holder."""
    assert run("--repo", product, "--ledger", pg_url, "start", "--version", "0.4.0").exit_code == 0
    ledger = open_ledger(pg_url)
    with ledger.lock("0.4.0", pid=31337, host="ci-runner-7") as holder:
        result = run("--repo", product, "--ledger", pg_url, "advance")
    assert result.exit_code == 1
    assert (f"error: release 0.4.0 is locked by pid 31337 on ci-runner-7 since {holder.since}"
            in result.stderr)


def test_an_unreachable_ledger_is_one_sentence(product):
    """Nothing listening at the URL: exit 1, the URL (no password) named, a hint, no traceback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run("--repo", product, "--ledger",
                 f"postgresql://release:{PASSWORD}@127.0.0.1:{port}/release", "status")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot reach the ledger postgresql://release@127.0.0.1:{port}/release: "
        "connection refused",
        "hint: check that the server runs and that the URL names its host and port"]


def test_status_before_any_start_on_an_empty_database_creates_nothing(product, pg_url):
    """status on a database without a ledger says how to begin, and creates no table."""
    result = run("--repo", product, "--ledger", pg_url, "status")
    assert result.exit_code == 1
    assert f"no ledger at {pg_url}" in result.stderr and "release start" in result.stderr
    with psycopg.connect(pg_url) as db:
        assert db.execute("SELECT to_regclass('events')").fetchone() == (None,)


def test_demo_on_a_postgres_ledger_is_released_and_matches_its_sqlite_copy(tmp_path, pg_url):
    """`--ledger URL demo` is released and verified; its rows equal a SQLite copy's, hashes too."""
    result = run("--ledger", pg_url, "demo", "--dir", tmp_path / "demo")
    assert result.exit_code == 0, result.stderr
    assert "release 0.4.0: released (from 0.3.0)" in result.output
    assert "5 of 5 promoted tags at their recorded digests" in result.output
    assert "  ledger:  77 events, hash chain ok" in result.output
    assert f"history: release --repo {tmp_path / 'demo' / 'product'} --ledger " in result.output
    assert not (tmp_path / "demo" / "product" / "release_logs" / "ledger.sqlite").exists()
    repo = tmp_path / "demo" / "product"
    assert run("--repo", repo, "--ledger", pg_url, "verify").exit_code == 0
    copy = tmp_path / "copy.sqlite"
    assert run("ledger", "copy", pg_url, copy).exit_code == 0
    with psycopg.connect(pg_url) as db:
        columns = [r[0] for r in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'events' "
            "ORDER BY ordinal_position")]
    assert columns == ["seq", "release", "release_seq", "type", "payload", "actor", "at",
                       "idempotency_key", "prev_hash", "hash"]
    assert _rows_pg(pg_url) == _rows_sqlite(copy)
    assert run("--repo", repo, "--ledger", copy, "verify").exit_code == 0


def test_a_relative_ledger_url_is_a_file_of_the_checkout(product):
    """`[ledger] url = "ledgers/team.sqlite"` keeps the SQLite ledger there, under the checkout."""
    (product / "release.toml").write_text('[ledger]\nurl = "ledgers/team.sqlite"\n')
    assert run("--repo", product, "start", "--version", "0.4.0").exit_code == 0
    assert Ledger.open(product / "ledgers" / "team.sqlite").count() == 1
    assert not (product / "release_logs").exists()


def test_the_ledger_option_wins_over_release_toml(product, tmp_path, pg_url):
    """--ledger FILE is used even when release.toml names a database."""
    (product / "release.toml").write_text(f'[ledger]\nurl = "{pg_url}"\n')
    elsewhere = tmp_path / "mine.sqlite"
    result = run("--repo", product, "--ledger", elsewhere, "start", "--version", "0.4.0")
    assert result.exit_code == 0, result.stderr
    assert Ledger.open(elsewhere).count() == 1
    with psycopg.connect(pg_url) as db:
        assert db.execute("SELECT to_regclass('events')").fetchone() == (None,)


def test_status_of_a_sqlite_ledger_never_imports_psycopg(product):
    """On a file ledger, `release status` works without loading the PostgreSQL driver."""
    import sys

    assert run("--repo", product, "start", "--version", "0.4.0").exit_code == 0
    code = ("import sys\nfrom release_ledger.commands.main import cli\n"
            f"try:\n    cli(['--repo', {str(product)!r}, 'status'])\n"
            "except SystemExit:\n    pass\n"
            "print('psycopg' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False"), out.stdout + out.stderr


def test_a_postgres_url_without_the_driver_says_which_extra_to_install(product):
    """Without psycopg installed, a postgresql:// ledger is one sentence naming the extra."""
    import sys

    # The driver's absence, as Python sees it when the package is not installed.
    code = ("import sys\nsys.modules['psycopg'] = None\n"
            "from release_ledger.commands.main import cli\n"
            f"cli(['--repo', {str(product)!r}, '--ledger', "
            f"'postgresql://release:{PASSWORD}@127.0.0.1:1/release', 'status'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        "error: the ledger postgresql://release@127.0.0.1:1/release is a PostgreSQL database, "
        "and psycopg 3 (the PostgreSQL driver) is not installed",
        "hint: pip install 'release-ledger[postgres]'"]
