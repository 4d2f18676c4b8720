"""Reading Models CI (DESIGN.md §8): list runs and artifacts, download, parse, fetch job logs.

The `Collector` selects the runs (`--max-runs N` across pages, or `--ci-run-id N`), lists each run's
artifacts (all pages), then reads them newest first: per catalogue model, it downloads its
`workflow_logs_*` artifacts only until its last-good entry is found, and fetches job logs only for
the selected entries (upstream fetched every job's log of every run). `--full-history` parses every
model artifact of the selected runs instead. Downloads are cached by artifact id across releases
(atomic renames, so a killed run resumes where it stopped).

One bad model never sinks the collection: its reason is recorded and it gets `{}` in last-good.
A bad token or a missing repository/workflow stops the collection with one sentence.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release_ledger.adapters.errors import HttpError, NotFound, RateLimited, Unauthorized
from release_ledger.workflows.collect import results as ci_results
from release_ledger.workflows.collect.results import BadArtifact
from release_ledger.workflows.errors import CollectError
from release_ledger.workflows.collect.last_good import (
    Target,
    choose_last_good,
    is_eligible,
    last_good_entry,
    make_entry,
    select_runs,
)


@dataclass
class Collection:
    """What a collection found: runs, parsed entries, last-good, problems, artifacts used."""

    runs: list[dict]
    all_results: dict[str, list[dict]]
    last_good: dict[str, dict]
    problems: dict[str, list[str]]
    artifacts: list[dict]
    counts: dict[str, int] = field(default_factory=dict)


class Collector:
    """Reads Models CI through a GitHubClient; `out` gets progress (see `_Progress`)."""

    def __init__(self, client: Any, repo: str, workflow: str, cache_dir: Path, *,
                 require_passing: bool = True, out: Any = None):
        self.client, self.repo, self.workflow = client, repo, workflow
        self.cache_dir = Path(cache_dir)
        self.require_passing = require_passing
        self.progress = _Progress(out)
        self._jobs: dict[int, list[dict]] = {}
        self._lock = threading.Lock()
        self.counts = {"artifact_downloads": 0, "artifact_cache_hits": 0, "log_downloads": 0,
                       "log_cache_hits": 0}

    # -- runs and listings ----------------------------------------------------------------------

    def runs(self, *, max_runs: int = 30, ci_run_id: int | None = None) -> list[dict]:
        """The selected runs, newest first."""
        if ci_run_id is not None:
            run = self._whole(lambda: self.client.get_json(
                f"/repos/{self.repo}/actions/runs/{ci_run_id}"), f"run {ci_run_id}")
            return [run]
        path = f"/repos/{self.repo}/actions/workflows/{self.workflow}/runs"
        picked: list[dict] = []

        def walk() -> None:
            # Pages until enough completed runs: never one page only (DOMAIN.md §7.6).
            for run in self.client.paginate(path, item_key="workflow_runs"):
                picked.append(run)
                if len(select_runs(picked, max_runs)) >= max_runs:
                    return

        self._whole(walk, f"workflow {self.workflow}")
        runs = select_runs(picked, max_runs)
        if not runs:
            raise CollectError(f"workflow {self.workflow} in {self.repo} has no completed run")
        return runs

    def artifacts(self, runs: list[dict]) -> dict[int, list[dict]]:
        """Every artifact of every run (all pages), listed in parallel."""
        def one(run: dict) -> list[dict]:
            return self._whole(lambda: list(self.client.paginate(
                f"/repos/{self.repo}/actions/runs/{run['id']}/artifacts", item_key="artifacts")),
                f"run {run['run_number']}")

        with self.progress.bar("listing artifacts", len(runs)) as bar, self._pool() as pool:
            listed = {}
            for run, arts in zip(runs, pool.map(one, runs)):
                listed[run["id"]] = arts
                bar.advance(1, f"run {run['run_number']}: {len(arts)} artifacts")
        return listed

    def jobs(self, run: dict) -> list[dict]:
        """Every job of a run (all pages), listed once per collection."""
        with self._lock:
            if run["id"] in self._jobs:
                return self._jobs[run["id"]]
        jobs = self._whole(lambda: list(self.client.paginate(
            f"/repos/{self.repo}/actions/runs/{run['id']}/jobs", item_key="jobs")),
            f"jobs of run {run['run_number']}")
        with self._lock:
            self._jobs[run["id"]] = jobs
        return jobs

    def _whole(self, fn: Callable[[], Any], what: str) -> Any:
        """Call fn; a bad token or a missing repo/workflow stops everything with one sentence."""
        try:
            return fn()
        except Unauthorized as err:
            raise CollectError(f"GitHub refused access to {self.repo} while reading {what} "
                               f"(HTTP {err.status}): check the token in the ci.token_env variable "
                               "and that it can read Actions") from None
        except NotFound as err:  # without a token, GitHub answers 404 for a private repo
            if not err.anonymous:
                raise CollectError(f"GitHub has no {what} in {self.repo} (HTTP {err.status}): "
                                   "check ci.repo and ci.workflow in release.toml") from None
            raise CollectError(f"GitHub has no {what} in {self.repo} for a call without a token "
                               f"(HTTP {err.status}): the token may be missing",
                               hint="set GH_PAT, GITHUB_TOKEN or GH_TOKEN") from None

    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=getattr(self.client, "concurrency", 8))

    # -- one artifact ---------------------------------------------------------------------------

    def fetch(self, artifact: dict) -> tuple[Path, str]:
        """The artifact's zip from the cache by id, else downloaded and validated; (path, sha256)."""
        path = self.cache_dir / "artifacts" / f"{artifact['id']}.zip"
        bad = path.with_suffix(".bad")
        if bad.is_file():
            # Artifacts never change once uploaded: a broken one is remembered, not re-fetched.
            with self._lock:
                self.counts["artifact_cache_hits"] += 1
            raise BadArtifact(bad.read_text(encoding="utf-8"))
        if path.is_file():
            with self._lock:
                self.counts["artifact_cache_hits"] += 1
        else:
            tmp = path.with_name(f"{path.name}.{threading.get_ident()}.download")
            self.client.download(f"/repos/{self.repo}/actions/artifacts/{artifact['id']}/zip", tmp)
            with self._lock:
                self.counts["artifact_downloads"] += 1
            try:
                ci_results.validate_zip(tmp, artifact["name"])
            except BadArtifact as err:
                tmp.unlink(missing_ok=True)  # never cache a broken zip as good
                bad.write_text(str(err), encoding="utf-8")
                raise
            tmp.replace(path)
        return path, _sha256(path)

    def evaluate(self, run: dict, artifact: dict, target: Target | None) -> tuple[dict | None, str | None]:
        """Parse one artifact into an all-results entry; (entry, None) or (None, reason)."""
        where = f"run {run['run_number']}: {artifact['name']}"
        if artifact.get("expired"):
            return None, f"{where} has expired (GitHub keeps artifacts 90 days)"
        try:
            path, sha = self.fetch(artifact)
            result = ci_results.read_artifact(path, artifact["name"])
            result.summary()  # the image tag must parse: a bad one is this model's problem only
        except BadArtifact as err:
            return None, f"run {run['run_number']}: {err}"
        except (Unauthorized, RateLimited):
            raise
        except HttpError as err:
            return None, f"{where} could not be downloaded (HTTP {err.status or 'error'})"
        if target is not None and result.model_id != target.model_id:
            return None, f"{where} is for {result.model_id}, not {target.model_id}"
        parts = ci_results.split_artifact_name(artifact["name"])
        model_name, device = (target.model_name, target.device) if target else (
            (parts[1], parts[2]) if parts else (result.metadata.get("model_name", ""),
                                                str(result.metadata.get("device", ""))))
        job = ci_results.find_job(self.jobs(run), model_name, device)
        entry = make_entry(run, artifact, sha, result, job, self.repo, self.workflow)
        if job is None:
            return entry, f"{where}: no job of this run is named after {model_name} on {device}"
        return entry, None

    def add_log(self, entry: dict) -> str | None:
        """Fill firmware and driver from the entry's job log (cached by job id); a reason or None."""
        job_id = entry["ci_metadata"]["ci_job_metadata"]["job_id"]
        path = self.cache_dir / "logs" / f"{job_id}.log"
        if path.is_file():
            with self._lock:
                self.counts["log_cache_hits"] += 1
        else:
            try:
                self.client.download(f"/repos/{self.repo}/actions/jobs/{job_id}/logs", path)
            except (Unauthorized, RateLimited):
                raise
            except HttpError as err:
                return f"job {job_id} log could not be read (HTTP {err.status or 'error'})"
            with self._lock:
                self.counts["log_downloads"] += 1
        info = ci_results.parse_tt_smi(path.read_text(encoding="utf-8", errors="replace"))
        entry["ci_logs"] = {"firmware_bundle": info["firmware_bundle"],
                            "kmd_version": info["driver_version"]}
        return None if info["firmware_bundle"] else f"job {job_id} log has no tt-smi-metal -s JSON"

    # -- the whole collection -------------------------------------------------------------------

    def collect(self, targets: list[Target], runs: list[dict], listed: dict[int, list[dict]],
                *, full_history: bool = False) -> Collection:
        """Read the runs newest first and build all-results and last-good."""
        problems: dict[str, list[str]] = {}
        results: dict[str, list[dict]] = {}
        if full_history:
            found = self._everything(runs, listed, targets, problems)
        else:
            found = self._until_last_good(runs, listed, targets, problems)
        for entry in found:
            results.setdefault(entry["workflow_logs"]["summary"]["model_id"], []).append(entry)
        for entries in results.values():
            entries.sort(key=lambda e: e["ci_metadata"]["run_number"], reverse=True)
        last_good = self._with_logs(targets, results, problems)
        order = [t.model_id for t in targets]
        ordered = {m: results[m] for m in order if m in results}
        ordered.update({m: results[m] for m in sorted(results) if m not in ordered})
        used = sorted({(e["ci_metadata"]["artifact_id"], e["ci_metadata"]["artifact_name"],
                        e["ci_metadata"]["run_id"], m, e["ci_metadata"]["artifact_sha256"])
                       for m, es in ordered.items() for e in es})
        artifacts = [{"id": a, "name": n, "run_id": r, "model_id": m, "sha256": s}
                     for a, n, r, m, s in used]
        for target in targets:
            if not last_good[target.model_id] and not problems.get(target.model_id):
                problems[target.model_id] = [f"no {ci_results.ARTIFACT_PREFIX}* artifact for "
                                             f"{target.model_name} on {target.device} in the runs read"]
        return Collection(runs, ordered, last_good, problems, artifacts,
                          dict(self.counts, requests=self.client.stats.requests,
                               not_modified=self.client.stats.not_modified))

    def _until_last_good(self, runs, listed, targets, problems) -> list[dict]:
        """Per model, newest first, only until its last-good entry is found (DESIGN.md §8)."""
        queues = {t.model_id: deque((run, art) for run in runs for art in listed[run["id"]]
                                    if ci_results.artifact_matches(art["name"], t.model_name, t.device))
                  for t in targets}
        by_id = {t.model_id: t for t in targets}
        found: list[dict] = []
        total = sum(len(q) for q in queues.values())
        with self.progress.bar("reading artifacts", total) as bar, self._pool() as pool:
            while any(queues.values()):
                wave = [(by_id[m], *q.popleft()) for m, q in queues.items() if q]
                outcomes = list(pool.map(lambda w: self.evaluate(w[1], w[2], w[0]), wave))
                for (target, run, art), (entry, reason) in zip(wave, outcomes):
                    bar.advance(1, f"run {run['run_number']} {art['name']}")
                    if reason:
                        problems.setdefault(target.model_id, []).append(reason)
                    if entry is None:
                        continue
                    found.append(entry)
                    if is_eligible(entry, self.require_passing):
                        bar.advance(len(queues[target.model_id]))
                        queues[target.model_id].clear()
        return found

    def _everything(self, runs, listed, targets, problems) -> list[dict]:
        """Every model artifact of every selected run (`--full-history`, for analysis)."""
        work = [(run, art) for run in runs for art in listed[run["id"]]
                if art["name"].startswith(ci_results.ARTIFACT_PREFIX)]
        by_name = {}
        for t in targets:
            by_name.setdefault((t.model_name, t.device.lower()), t)
        found = []
        with self.progress.bar("reading artifacts", len(work)) as bar, self._pool() as pool:
            def one(item):
                run, art = item
                parts = ci_results.split_artifact_name(art["name"])
                target = by_name.get((parts[1], parts[2])) if parts else None
                return target, *self.evaluate(run, art, target)

            for (run, art), (target, entry, reason) in zip(work, pool.map(one, work)):
                bar.advance(1, f"run {run['run_number']} {art['name']}")
                key = target.model_id if target else art["name"]
                if reason:
                    problems.setdefault(key, []).append(reason)
                if entry is not None:
                    found.append(entry)
        return found

    def _with_logs(self, targets, results, problems) -> dict[str, dict]:
        """Choose last-good, fetch job logs only for the chosen entries, then flatten."""
        chosen = {t.model_id: choose_last_good(results.get(t.model_id, []), self.require_passing)
                  for t in targets}
        picked = [(m, e) for m, e in chosen.items() if e is not None]
        with self.progress.bar("reading job logs", len(picked)) as bar, self._pool() as pool:
            for (model_id, _), reason in zip(picked, pool.map(lambda p: self.add_log(p[1]), picked)):
                bar.advance(1, model_id)
                if reason:
                    problems.setdefault(model_id, []).append(reason)
        return {t.model_id: last_good_entry(chosen[t.model_id], t) if chosen[t.model_id] else {}
                for t in targets}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Progress:
    """The one place that speaks to the reporter: `out.progress`/`out.line`, else nothing."""

    def __init__(self, out: Any):
        self.out = out

    def bar(self, description: str, total: int):
        if self.out is not None and hasattr(self.out, "progress"):
            return self.out.progress(description, total)
        return _NoBar()

    def line(self, text: str) -> None:
        if self.out is not None and hasattr(self.out, "line"):
            self.out.line(text)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def advance(self, n: float = 1, note: str | None = None) -> None:
        pass


def summary_lines(collection: Collection) -> list[str]:
    """The end-of-step summary: models with data, and why the others have none."""
    with_data = [m for m, e in collection.last_good.items() if e]
    without = [m for m, e in collection.last_good.items() if not e]
    lines = [f"{len(with_data)} of {len(collection.last_good)} models have a last-good entry; "
             f"{collection.counts.get('artifact_downloads', 0)} artifacts downloaded, "
             f"{collection.counts.get('artifact_cache_hits', 0)} from cache"]
    for model_id in without:
        reasons = collection.problems.get(model_id) or ["no data"]
        lines.append(f"  {model_id}: {{}} ({'; '.join(reasons)})")
    skipped = {m: r for m, r in collection.problems.items() if m in with_data}
    for model_id, reasons in skipped.items():
        lines.append(f"  {model_id}: newer results skipped ({'; '.join(reasons)})")
    return lines
