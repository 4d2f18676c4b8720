"""Fixtures of the ledger suites: a backend that more than one connection or process can reach."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger_support import Backend


@pytest.fixture(params=["file", "postgres"])
def backend(request, tmp_path) -> Iterator[Backend]:
    """Each backend whose ledger other connections and processes share (not :memory:)."""
    if request.param == "postgres":
        yield Backend("postgres", request.getfixturevalue("pg_url"))
    else:
        yield Backend("file", str(tmp_path / "release_logs" / "ledger.sqlite"))
