"""Fixtures for the reliability suites: a release template built once, a fresh world per test.

Tests marked `exhaustive` (every crash point, long fuzz) run only with RELIABILITY_FULL=1;
benchmarks/reliability.py runs them all and prints the figures.
"""

from __future__ import annotations

import json
import os
from collections import Counter
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import World, build_template, close_world, new_world  # noqa: E402

#: Seed of every sampled choice (crash points, faults, kill times); printed so a failure replays.
SEED = int(os.environ.get("RELIABILITY_SEED", "20251120"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "exhaustive: long reliability runs (RELIABILITY_FULL=1)")


def pytest_report_header(config) -> str:
    return f"reliability seed: {SEED} (replay with RELIABILITY_SEED={SEED})"


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("RELIABILITY_FULL"):
        return
    skip = pytest.mark.skip(reason="exhaustive: run with RELIABILITY_FULL=1 or benchmarks/reliability.py")
    for item in items:
        if "exhaustive" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def seed() -> int:
    """The suite's seed."""
    print(f"reliability seed: {SEED}")
    return SEED


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """Recorded CI, product + bare remote, and a seeded registry storage, built once."""
    return build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def baseline(template, tmp_path_factory) -> Iterator[World]:
    """An uninterrupted release, with the list of failpoints it passed."""
    world = new_world(template, tmp_path_factory.mktemp("baseline"))
    world.drive(always_env={"RELEASE_FAILPOINT_LOG": str(world.root / "failpoints.log")})
    world.final = world.snapshot()
    yield world
    close_world(world)


@pytest.fixture
def world_factory(template, tmp_path) -> Iterator:
    """Fresh worlds from the template (optionally behind fault proxies); stopped after the test."""
    made: list[World] = []
    count = [0]

    def make(**kwargs) -> World:
        count[0] += 1
        world = new_world(template, tmp_path / f"world{count[0]}", **kwargs)
        made.append(world)
        return world

    yield make
    for world in made:
        close_world(world)


_FIGURES: Counter = Counter()


@pytest.fixture(scope="session")
def figures() -> Counter:
    """Counts the suites report (crash points tried, faults injected, fuzz cases, tamperings)."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.write_line(f"reliability figures (seed {SEED}):")
        for name, value in sorted(_FIGURES.items()):
            terminalreporter.write_line(f"  {name}: {value}")
    path = os.environ.get("RELIABILITY_FIGURES")
    if path:
        Path(path).write_text(json.dumps({"seed": SEED, **_FIGURES}, indent=1, sort_keys=True))
