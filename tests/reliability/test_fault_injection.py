"""Break the network: a proxy in front of the registry and the GitHub API injects 503s, 429s with
Retry-After, connection resets, lost answers and slow answers at a set rate; the release still
completes, `release verify` passes, and no PR or GitHub release is made twice. Rate limits are
waited out within --max-wait, or stop cleanly with one sentence saying when to retry.

These run `release` in-process (CliRunner) so retries do not sleep (adapters.http testing switch);
one test runs a child process to show a real Retry-After wait.
"""

from __future__ import annotations

import re
import time

import pytest

from release_ledger.adapters.http import set_testing
from harness import FAULT_KINDS, FaultProxy, World

RATE = 0.15


@pytest.fixture(autouse=True)
def _retries_at_once():
    """Retries happen at once and often enough for the injected rate (STYLE: no sleeping)."""
    set_testing(True, attempts=10)
    yield
    set_testing(False)


def _faulty_world(world_factory, seed: int, rate: float = RATE) -> World:
    return world_factory(github_faults=FaultProxy(upstream="", rate=rate, seed=seed),
                         registry_faults=FaultProxy(upstream="", rate=rate, seed=seed + 1))


def test_release_completes_and_verifies_through_faults(world_factory, seed, figures) -> None:
    """With 15% of requests failing (503, 429, reset, lost, slow) the release ends and verifies."""
    world = _faulty_world(world_factory, seed)
    world.drive(inprocess=True)
    verify = world.invoke("verify")
    assert verify.code == 0, verify.stderr
    injected = sum(p.total_injected for p in world.proxies)
    figures["faults injected"] += injected
    for proxy in world.proxies:
        for kind, n in proxy.injected.items():
            figures[f"faults injected: {kind}"] += n
    assert injected >= 15
    assert set(FAULT_KINDS) <= {k for p in world.proxies for k in p.injected}


def test_no_pull_request_or_release_twice_through_faults(world_factory, seed) -> None:
    """Lost answers to POST /pulls and /releases are retried without a second PR or release."""
    world = _faulty_world(world_factory, seed + 7)
    for proxy in world.proxies[:1]:
        proxy.kinds = ("lost",)
    world.drive(inprocess=True)
    assert world.github.count("POST", r"/pulls$", 201) == 2
    assert world.github.count("POST", r"/releases$", 201) == 1
    assert world.status()["state"] == "released"


def _limit(world: World, status: int, headers: dict[str, str]) -> None:
    world.proxies[0].answer_next("GET", "/actions/workflows", status, headers)


def _reset_in(seconds: int) -> dict[str, str]:
    return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + seconds)}


def _one_sentence_when(run) -> str:
    lines = [l for l in run.stderr.splitlines() if l.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert re.search(r"retry after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", lines[0]), lines[0]
    return lines[0]


def test_primary_rate_limit_beyond_max_wait_stops_cleanly_then_resumes(world_factory, seed) -> None:
    """403 with x-ratelimit-remaining 0 and a reset an hour ahead: exit 1 saying when; then resume."""
    world = _faulty_world(world_factory, seed, rate=0)
    assert world.invoke("start", "--increment", "minor").code == 0
    _limit(world, 403, _reset_in(3600))
    run = world.invoke("advance", "--skip-missing", "--max-wait", "60")
    assert run.code == 1
    assert "rate limit" in _one_sentence_when(run)
    assert world.status()["state"] == "started"
    world.drive(inprocess=True)
    assert world.status()["state"] == "released"


def test_secondary_rate_limit_beyond_max_wait_stops_cleanly_then_resumes(world_factory, seed) -> None:
    """429 with retry-after beyond --max-wait: exit 1 saying when to retry; the next advance resumes."""
    world = _faulty_world(world_factory, seed, rate=0)
    assert world.invoke("start", "--increment", "minor").code == 0
    _limit(world, 429, {"retry-after": "900"})
    run = world.invoke("advance", "--skip-missing", "--max-wait", "30")
    assert run.code == 1
    _one_sentence_when(run)
    world.drive(inprocess=True)
    assert world.status()["state"] == "released"


@pytest.mark.parametrize("status,headers", [(403, "primary"), (429, "secondary")])
def test_rate_limit_within_max_wait_is_waited_out(world_factory, seed, status, headers) -> None:
    """A rate limit that lifts within --max-wait is waited out: the same advance goes on."""
    world = _faulty_world(world_factory, seed, rate=0)
    assert world.invoke("start", "--increment", "minor").code == 0
    _limit(world, status, _reset_in(20) if headers == "primary" else {"retry-after": "20"})
    run = world.invoke("advance", "--to", "collected", "--max-wait", "60")
    assert run.code == 0, run.stderr
    assert world.proxies[0].injected[f"scripted {status}"] == 1


def test_retry_after_is_really_waited_in_a_child_process(world_factory, seed) -> None:
    """A child `release` (no testing switch) honours a 429 Retry-After: 1 and goes on."""
    world = _faulty_world(world_factory, seed, rate=0)
    assert world.release("start", "--increment", "minor").code == 0
    _limit(world, 429, {"retry-after": "1"})
    began = time.monotonic()
    run = world.release("advance", "--to", "collected", "--max-wait", "10")
    assert run.code == 0, run.stderr
    assert time.monotonic() - began >= 1.0
