"""Reliability, all of it: every crash point, more random kills, more fault runs, ten times the
fuzz examples, every tampered cell. Prints the figures the README's "Reliability" section quotes.

    python benchmarks/reliability.py [--seed N]

It runs the suites of tests/reliability with RELIABILITY_FULL=1 (which un-skips the tests marked
`exhaustive` and raises the Hypothesis example counts), so the benchmark and CI assert the same
things; CI runs a seeded sample of the same cases in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the full reliability suites; print the figures and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20251120, help="seed of every sampled choice")
    parser.add_argument("--fault-rounds", type=int, default=3,
                        help="how many times the fault suite runs, each with its own seed")
    args = parser.parse_args()
    totals: dict[str, int] = {}
    failures = 0
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        rounds = [("all suites", args.seed, ["tests/reliability"])]
        rounds += [(f"faults, seed {args.seed + i}", args.seed + i,
                    ["tests/reliability/test_fault_injection.py"]) for i in range(1, args.fault_rounds)]
        for label, seed, paths in rounds:
            figures = Path(tmp) / f"figures-{seed}.json"
            env = {**os.environ, "RELIABILITY_FULL": "1", "RELIABILITY_SEED": str(seed),
                   "RELIABILITY_FIGURES": str(figures)}
            print(f"== {label}", flush=True)
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:logging",
                                   "-p", "no:cacheprovider", *paths], cwd=ROOT, env=env)
            failures += proc.returncode != 0
            if figures.is_file():
                for name, value in json.loads(figures.read_text()).items():
                    if name != "seed":
                        totals[name] = totals.get(name, 0) + value
    print(f"\nreliability figures (seed {args.seed}, {time.monotonic() - began:.0f} s):")
    for name, value in sorted(totals.items()):
        print(f"  {name}: {value}")
    print("result:", "all passed" if not failures else f"{failures} round(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
