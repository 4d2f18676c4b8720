"""Two product checkouts on different paths (two engineers, or a laptop and a CI runner) sharing
one PostgreSQL ledger: one starts, the other advances; a SIGKILL of either during a step, then the
other resumes. The release ends as an uninterrupted one does, and no effect happens twice.

Effects are counted from the servers' own logs (harness.py), as in the crash suite. The other
checkout takes over once the first pull request exists: until then the steps' files live only
in the work tree that wrote them (a kill before it is resumed from the same checkout: the crash
suite); from then on they reach every clone through the remote.
"""

from __future__ import annotations

from collections import Counter

import pytest

from harness import World

#: Every PostgreSQL test here needs the server of tests/conftest.py.
pytestmark = pytest.mark.integration


def at(world: World, checkout: str) -> World:
    """Run the next commands in `checkout` (the same world: servers, remote, ledger)."""
    world.checkout = checkout
    return world


def advance(world: World, **env: str):
    """`release advance --skip-missing` in the current checkout; a wait for a PR merges it."""
    run = world.release("advance", "--skip-missing", **env)
    if run.code == 3:
        assert world.merge_open_pulls(), run.stderr
    return run


def assert_released_once(world: World, baseline: World) -> None:
    """Released; the remote, PRs, GitHub release and registry as in the uninterrupted run; each
    effect once; the shared ledger verifies from either checkout."""
    assert world.status()["state"] == "released"
    for part, value in (("remote", world.snapshot()["remote"]),
                        ("pulls", world.snapshot()["pulls"]),
                        ("releases", world.snapshot()["releases"]),
                        ("registry", world.registry_tags())):
        assert value == baseline.final[part], f"{part} differs from the uninterrupted run"
    effects, expected = world.effects(), baseline.effects()
    assert effects["tag_puts"] == expected["tag_puts"], "a tag was written more than once"
    assert effects["pulls_created"] == 2 and effects["releases_created"] == 1
    assert len(effects["tag_pushes"]) == 1
    assert effects["branch_pushes"] == expected["branch_pushes"]
    rows = _rows(world)
    keys = [key for _, key in rows if key]
    assert len(keys) == len(set(keys)), "an idempotency key was recorded twice"
    assert Counter(t for t, _ in rows)["StateChanged"] == 6
    for checkout in ("product", "laptop-b"):
        assert at(world, checkout).release("verify").code == 0


def _rows(world: World) -> list[tuple[str, str | None]]:
    from release_ledger.ledger import open_ledger

    ledger = open_ledger(world.ledger_url, readonly=True)
    try:
        return [(e.type, e.idempotency_key) for e in ledger.events()]
    finally:
        ledger.close()


@pytest.fixture
def shared(world_factory, pg_url) -> World:
    """A fresh world whose ledger is a new PostgreSQL database, with the first checkout's start."""
    world = world_factory(ledger_url=pg_url)
    assert world.release("start", "--increment", "minor").code == 0
    assert not world.ledger_file.exists()  # the ledger is the database, not a file
    return world


def test_a_killed_advance_is_resumed_from_another_checkout(shared, baseline) -> None:
    """A's advance is killed while promoting rc images; B, a clone on another path, resumes."""
    world = shared
    assert advance(world).code == 3                        # A: up to the PR to dev, merged
    killed = advance(world, RELEASE_FAILPOINT="promote_rc:*:after-effect")
    assert killed.code == -9, killed.stderr                  # A dies after its first rc copy
    world.clone("laptop-b")
    resumed = advance(at(world, "laptop-b"))                 # B takes the lock over, goes on
    assert resumed.code == 3, resumed.stderr
    assert advance(world).code == 0                          # B publishes
    assert_released_once(world, baseline)


def test_a_killed_advance_of_the_other_checkout_is_resumed_by_the_first(shared, baseline) -> None:
    """B advances and is killed while publishing; A (its checkout as it left it) finishes."""
    world = shared
    assert advance(world).code == 3                          # A: up to the PR to dev, merged
    world.clone("laptop-b")
    assert advance(at(world, "laptop-b")).code == 3          # B: rc images, PR to main, merged
    killed = advance(world, RELEASE_FAILPOINT="publish:*:after-effect")
    assert killed.code == -9, killed.stderr                  # B dies after its first effect
    finished = advance(at(world, "product"))                 # A resumes the publish step
    assert finished.code == 0 and "released" in finished.stdout, finished.stderr
    assert_released_once(world, baseline)


def test_a_hand_off_before_the_first_pull_request_changes_nothing(shared, baseline) -> None:
    """Killed before its PR, A's files are in A's tree only: B stops, records nothing; A ends."""
    # Issue 15's recorded inputs (the ReleaseView) would let B go on instead.
    world = shared
    killed = advance(world, RELEASE_FAILPOINT="promote_dev:*:after-effect")
    assert killed.code == -9, killed.stderr
    before = len(_rows(world))
    world.clone("laptop-b")
    refused = advance(at(world, "laptop-b"))
    assert refused.code == 1
    assert "holds no models_ci_last_good_X_to_Y.json" in refused.stderr
    assert len(_rows(world)) == before  # not even a StepFailed: it stopped before acting
    assert "Traceback" not in refused.stderr
    at(world, "product")
    for _ in range(4):
        if advance(world).code == 0:
            break
    assert_released_once(world, baseline)
