"""Fixtures of the promotion tests: a started release with OCI-layout registries."""

from __future__ import annotations

import pytest

from .support import World


@pytest.fixture
def world(tmp_path):
    """A started release with empty OCI-layout registries."""
    w = World(tmp_path)
    yield w
    w.ledger.close()


@pytest.fixture
def make_world(tmp_path):
    """Build a World with settings (e.g. a build command)."""
    made = []

    def make(**kwargs):
        made.append(World(tmp_path, **kwargs))
        return made[-1]

    yield make
    for w in made:
        w.ledger.close()
