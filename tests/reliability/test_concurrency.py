"""Two `release advance` on the same release at once, phase after phase: one runs, the other
exits 1 naming the lock's holder (or finds the work done); never an event or effect twice."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter

import pytest

from harness import World

PHASES = ["collected", "spec-updated", "dev-promoted", "pr-open", "rc-promoted", "released"]
HOLDER = re.compile(r"release 0\.4\.0 is locked by pid \d+ on \S+ since \S+")


def race(world: World, target: str) -> list[tuple[int, str]]:
    """Start two advances to `target` at the same moment; their exit codes and stderr."""
    procs = [world.spawn("advance", "--skip-missing", "--to", target) for _ in range(2)]
    return [(p.returncode, err) for p in procs for _, err in [p.communicate(timeout=120)]]


def race_release(world: World, figures) -> None:
    """A whole release, every phase raced by two advances."""
    assert world.release("start", "--increment", "minor").code == 0
    for target in PHASES:
        for _ in range(3):
            results = race(world, target)
            for code, err in results:
                assert code in (0, 1, 3), err
                if code == 1:
                    assert HOLDER.search(err), err
                    figures["concurrent advances refused (lock held)"] += 1
            figures["concurrent advance races"] += 1
            if any(code == 3 for code, _ in results):
                world.merge_open_pulls()
                continue
            break
    assert world.status()["state"] == "released"


def assert_nothing_twice(world: World) -> None:
    """Each transition once, each idempotency key once, each effect once on the servers."""
    with sqlite3.connect(world.ledger_file) as db:
        rows = db.execute("SELECT type, payload, idempotency_key FROM events").fetchall()
    keys = [k for _, _, k in rows if k]
    assert len(keys) == len(set(keys))
    changes = Counter(p for t, p, _ in rows if t == "StateChanged")
    assert all(n == 1 for n in changes.values())
    assert len(changes) == 6
    effects = world.effects()
    assert all(n == 1 for n in effects["tag_puts"].values())
    assert effects["pulls_created"] == 2 and effects["releases_created"] == 1
    assert len(effects["tag_pushes"]) == 1
    assert world.release("verify").code == 0


def test_two_advances_at_once_never_duplicate(world_factory, figures) -> None:
    """Racing advances through a whole release: a lock refusal names the holder; nothing twice."""
    world = world_factory()
    race_release(world, figures)
    assert_nothing_twice(world)


@pytest.mark.exhaustive
@pytest.mark.parametrize("round_", range(5))
def test_two_advances_at_once_never_duplicate_many_times(round_, world_factory, figures) -> None:
    """The same race through five more releases."""
    world = world_factory()
    race_release(world, figures)
    assert_nothing_twice(world)
