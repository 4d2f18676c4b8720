"""Fixtures for the git adapter: a real bare remote and a clone of it, built with the git binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.git import Git
from git_support import GIT_ENV, make_checkout, make_remote, sh  # noqa: F401



@pytest.fixture(name="sh")
def sh_fixture():
    """The `sh(cwd, *args)` helper, for tests that play another person pushing."""
    return sh


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare remote with `main` and `dev` holding VERSION 0.3.0 and a README."""
    return make_remote(tmp_path)


@pytest.fixture
def checkout(tmp_path: Path, remote: Path) -> Path:
    """A clone of the remote, on `dev`, with a committer identity."""
    return make_checkout(tmp_path, remote)


@pytest.fixture
def git(checkout: Path) -> Git:
    """The adapter over the clone."""
    return Git(checkout)
