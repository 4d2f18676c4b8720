"""Shared fixtures: a fresh ledger per test, no real clock waits, no real credentials or caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_support import make_checkout, make_remote, sh
from release_ledger.ledger import Ledger


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


@pytest.fixture(params=["memory", "file"])
def fresh_ledger(request, tmp_path):
    """An empty ledger, once per way of opening one: the contract every backend must pass."""
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
