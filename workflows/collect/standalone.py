"""`release collect`: the collect step alone, outside any release (no ledger, no event).

The seed's first use needs only read access: read Models CI and write the all-results and
last-good files. This reads the runs and writes the files exactly as the collect step does (the
same Collector, the same catalogue targets, the same renderers); it only records nothing, so it
can run before any release, in CI, or beside an open one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_ledger.adapters.files import write_atomic
from release_ledger.workflows.collect.collector import summary_lines
from release_ledger.workflows.collect.step import catalogue_targets, make_collector, result_files

#: Where the files go unless `--out` says otherwise (relative to the product root).
DEFAULT_OUT = "release_logs/ci"


@dataclass(frozen=True)
class Collected:
    """What `release collect` wrote: both files, the run span, and the summary lines."""

    all_results: Path
    last_good: Path
    span: tuple[int, int]
    runs: int
    summary: list[str]


def collect_only(services: Any, repo: Path, *, out_dir: Path | None = None,
                 max_runs: int | None = None, ci_run_id: int | None = None,
                 progress: Any = None) -> Collected:
    """Read Models CI and write the all-results and last-good files into `out_dir`."""
    from release_ledger.workflows.collect.last_good import span

    folder = Path(out_dir) if out_dir is not None else Path(repo) / DEFAULT_OUT
    collector = make_collector(services, progress)
    targets = catalogue_targets(Path(repo), services)
    runs = collector.runs(max_runs=max_runs or services.config.ci.max_runs, ci_run_id=ci_run_id)
    collection = collector.collect(targets, runs, collector.artifacts(runs), full_history=False)
    files = result_files(collection, str(folder))
    for path, text in files.values():
        write_atomic(Path(path), text)
    return Collected(all_results=Path(files["all_results"][0]),
                     last_good=Path(files["last_good"][0]), span=span(collection.runs),
                     runs=len(collection.runs), summary=list(summary_lines(collection)))
