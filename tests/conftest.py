"""Shared fixtures: a fresh ledger per test, no real clock waits, no real credentials or caches."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_support import make_checkout, make_remote, sh
from pg_support import PostgresCluster, find_bindir
from release_ledger.ledger import Ledger, open_ledger


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test sees the developer's tokens, docker config or cache; retries never sleep."""
    for name in ("GH_PAT", "GITHUB_TOKEN", "RELEASE_FAILPOINT", "RELEASE_FAILPOINT_NTH"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(home / "docker"))
    monkeypatch.delenv("RELEASE_CACHE_DIR", raising=False)
    from release_ledger.adapters.http import set_testing

    set_testing(True)
    yield
    set_testing(False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL server for the whole session (initdb + pg_ctl, 127.0.0.1 only)."""
    bindir = find_bindir()
    if bindir is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                  "`apt-get install postgresql` (scripts/test does)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI installs them, so this is a broken CI setup")
        pytest.skip(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: pip install -e '.[test,postgres]'")
    cluster = PostgresCluster(bindir).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(postgres) -> Iterator[str]:
    """The URL of a new, empty database on the test server (dropped after the test)."""
    name = postgres.database()
    yield postgres.url(name)
    postgres.drop(name)


@pytest.fixture(params=["memory", "file", "postgres"])
def fresh_ledger(request, tmp_path):
    """An empty ledger, once per backend and way of opening one: the contract each must pass."""
    if request.param == "postgres":
        ledger = open_ledger(request.getfixturevalue("pg_url"))
    else:
        ledger = Ledger.open(":memory:" if request.param == "memory" else tmp_path / "ledger.sqlite")
    yield ledger
    ledger.close()


@pytest.fixture
def ledger_file(tmp_path):
    """A path for an on-disk ledger (WAL mode)."""
    return tmp_path / "release_logs" / "ledger.sqlite"


@pytest.fixture(name="sh")
def sh_fixture():
    """The `sh(cwd, *args)` git helper, for tests that play another person pushing."""
    return sh


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare remote with `main` and `dev` holding VERSION 0.3.0 and a README."""
    return make_remote(tmp_path)


@pytest.fixture
def checkout(tmp_path: Path, remote: Path) -> Path:
    """A clone of the remote, on `dev`, with a committer identity."""
    return make_checkout(tmp_path, remote)
