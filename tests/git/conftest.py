"""Fixtures for the git adapter (the remote and its clone come from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_ledger.adapters.git import Git


@pytest.fixture
def git(checkout: Path) -> Git:
    """The adapter over the clone."""
    return Git(checkout)
