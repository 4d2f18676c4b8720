"""Ledger figures: append throughput, `release status` and `--help` wall time, replay + verify.

Run: python benchmarks/ledger.py [--events 100000] [--ledger sqlite|postgres|postgresql://URL]

Prints one figure a line with its goal (DESIGN issue 2). Wall times of commands include Python
start-up, measured as the best of several runs of a fresh process.

`--ledger sqlite` (the default) measures a file in a temp folder. `--ledger postgres` starts a
throw-away PostgreSQL server of its own (initdb + pg_ctl on a free loopback port, as the tests
do: tests/pg_support.py; needs Debian's `postgresql` package) and measures it over TCP on
127.0.0.1. `--ledger postgresql://user@host/db` measures that database, which must hold no
events yet (the password from PGPASSWORD or ~/.pgpass).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from release_ledger.engine.releases import load_state  # noqa: E402
from release_ledger.engine.state import replay  # noqa: E402
from release_ledger.ledger import NewEvent, is_postgres, open_ledger  # noqa: E402

SINGLE = 2000  # events appended one transaction each, before the batched ones

DIGEST = "sha256:" + "ab" * 32


def _payloads(n: int):
    """Events shaped like a promotion's: start, outcome, success, per image."""
    yield NewEvent("ReleaseStarted", {"version": "0.4.0", "previous_version": "0.3.0",
                                      "options": {"max_runs": 30}})
    i = 1
    while i < n:
        key = f"promote:ghcr.io/tenstorrent/tt-inference-server/vllm-dev:0.4.0-{i:07d}@{DIGEST}"
        for event in (NewEvent("StepStarted", {"key": key, "step": "promote_dev"}),
                      NewEvent("ImagePromoted", {"destination": key[8:], "digest": DIGEST,
                                                 "previous_digest": None, "bytes_uploaded": 0}),
                      NewEvent("StepSucceeded", {"key": key, "step": "promote_dev", "outcomes": 1})):
            if i >= n:
                return
            yield event
            i += 1


def _best_wall(cmd: list[str], runs: int = 5, cwd: str | None = None) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t)
    return best


@contextmanager
def _target(choice: str, tmp: Path):
    """The ledger to measure: a file, a server of our own, or the URL given."""
    if choice == "sqlite":
        yield str(tmp / "repo" / "release_logs" / "ledger.sqlite")
    elif choice == "postgres":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from pg_support import PostgresCluster, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("error: PostgreSQL server binaries not found: apt-get install postgresql")
        cluster = PostgresCluster(bindir).start()
        try:
            cluster.sql("CREATE DATABASE bench")
            yield cluster.url("bench")
        finally:
            cluster.stop()
    elif is_postgres(choice):
        yield choice
    else:
        sys.exit(f"error: --ledger must be sqlite, postgres or a postgresql:// URL, not {choice!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--ledger", default="sqlite",
                        help="sqlite (a temp file), postgres (a server of our own) or a URL")
    args = parser.parse_args()
    n = args.events
    release = [sys.executable, "-m", "release_ledger.commands"]
    with tempfile.TemporaryDirectory() as tmp, _target(args.ledger, Path(tmp)) as target:
        # A product checkout, as every command checks for one: git, VERSION, an origin.
        repo = Path(tmp) / "repo"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", "--bare", str(Path(tmp) / "remote.git")], check=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        subprocess.run(["git", "-C", str(repo), "remote", "add", "origin",
                        str(Path(tmp) / "remote.git")], check=True)
        (repo / "VERSION").write_text("0.3.0
")
        ledger = open_ledger(target)
        if ledger.count():
            sys.exit(f"error: the ledger {ledger.path} already holds events; give an empty one")
        events = list(_payloads(n))
        # Single appends: one transaction (a WAL write, or a server round trip and commit) each.
        t = time.perf_counter()
        for event in events[:SINGLE]:
            ledger.append("0.4.0", [event])
        single_rate = SINGLE / (time.perf_counter() - t)

        t = time.perf_counter()
        for start in range(SINGLE, n, 1000):
            ledger.append("0.4.0", events[start:start + 1000])
        batched_rate = (n - SINGLE) / (time.perf_counter() - t)

        t = time.perf_counter()
        state = replay(ledger.events("0.4.0"), "0.4.0")
        bad = ledger.verify()
        replay_verify = time.perf_counter() - t
        assert bad is None and state.events == n

        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        where = ["--repo", str(repo), "--ledger", target]
        cold = time.perf_counter()
        subprocess.run(release + where + ["status"], check=True, capture_output=True, env=env)
        cold = time.perf_counter() - cold
        status = _best_wall(release + where + ["status", "--json"])
        help_ = _best_wall(release + ["--help"])
        python = _best_wall([sys.executable, "-c", "pass"])
        assert load_state(ledger, "0.4.0").events == n
        name = ledger.path
        ledger.close()

    print(f"ledger: {'SQLite file' if not is_postgres(target) else 'PostgreSQL ' + name}")
    print(f"append, single events:            {single_rate:10,.0f} events/s")
    print(f"append, batches of 1000:          {batched_rate:10,.0f} events/s "
          f"({batched_rate / single_rate:.0f}x single)")
    print(f"replay + verify, {n:,} events:  {replay_verify:10.2f} s   (goal <= 2 s)")
    print(f"release status, {n:,} events, first call (builds the snapshot): {cold:.2f} s")
    print(f"release status --json, {n:,} events: {status:8.3f} s   (goal <= 0.3 s, "
          f"incl. Python start-up {python:.3f} s)")
    print(f"release --help:                   {help_:10.3f} s   (goal <= 0.2 s)")


if __name__ == "__main__":
    main()
