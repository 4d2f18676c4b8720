"""Fixtures of the spec step: a copy of the sample product and a release past its collect step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from release_ledger.engine.events import StateChanged
from release_ledger.engine.step import StepContext
from release_ledger.workflows.start import start

from .support import PRODUCT, VERSION, sample_last_good, write_last_good


@pytest.fixture
def product(tmp_path) -> Path:
    """A fresh copy of the sample product, with last-good data for release 0.4.0."""
    repo = tmp_path / "product"
    shutil.copytree(PRODUCT, repo)
    write_last_good(repo, sample_last_good())
    return repo


@pytest.fixture
def collected(fresh_ledger, product):
    """Release 0.4.0 started on the sample product and past its collect step."""
    state = start(fresh_ledger, product, version=VERSION, increment=None, options={})
    ctx = StepContext(fresh_ledger, state, step="collect", repo=product)
    ctx.record(StateChanged(trigger="collect", source="started", dest="collected"))
    return fresh_ledger
