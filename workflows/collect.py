"""The collect step (`started -> collected`): Models CI runs -> all-results and last-good JSON.

DOMAIN.md §2 and DESIGN.md §8: select the runs (`--max-runs N` across pages, or `--ci-run-id N`),
list each run's artifacts (all pages), then read them newest first: per catalogue model, download
its `workflow_logs_*` artifacts only until its last-good entry is found, and fetch job logs only
for the selected entries (upstream fetched every job's log of every run). `--full-history` parses
every model artifact of the selected runs instead. Downloads are cached by artifact id across
releases (atomic renames, so a killed run resumes where it stopped); the two files are written as
one ledger effect that records the runs, artifacts (ids, sha256) and both files' sha256.

One bad model never sinks the collection: its reason is recorded and it gets `{}` in last-good.
A bad token or a missing repository/workflow stops the step with one sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from adapters.errors import HttpError, NotFound, RateLimited, Unauthorized
from engine.events import Event
from engine.step import Outcome, Plan, StepContext
from workflows import ci_results
from workflows.ci_results import BadArtifact
from workflows.errors import CollectError

# DOMAIN.md §2: the exact keys of a last-good entry, in this order.
LAST_GOOD_KEYS = (
    "device", "impl_name", "tt_metal_commit", "vllm_commit", "docker_image", "perf_status",
    "accuracy_status", "ci_run_id", "ci_run_number", "ci_run_url", "ci_job_id", "ci_job_url",
    "ci_job_name", "ci_job_status", "ci_job_conclusion", "ci_job_started_at",
    "ci_job_completed_at", "firmware_bundle", "driver_version",
)
WRITE_KEY = "collect:write-results"
_FILE = re.compile(r"^models_ci_last_good_(\d+)_to_(\d+)\.json$")


# -- events ---------------------------------------------------------------------------------------

class ModelsCiCollected(Event):
    """Which Models CI runs and artifacts this release used, and what went wrong per model."""

    type: ClassVar[str] = "ModelsCiCollected"
    repo: str
    workflow: str
    runs: list[dict[str, Any]]          # {id, number, url}
    artifacts: list[dict[str, Any]]     # {id, name, run_id, model_id, sha256, size}
    problems: dict[str, list[str]]      # model_id -> reasons
    require_passing: bool
    full_history: bool


class CiResultsWritten(Event):
    """The all-results and last-good files were written (paths relative to the repo, sha256)."""

    type: ClassVar[str] = "CiResultsWritten"
    all_results: dict[str, str]         # {path, sha256}
    last_good: dict[str, str]
    span: list[int]                     # [X, Y]
    models_with_data: int
    models_without_data: int


# -- pure functions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A catalogue model to find in CI."""

    model_id: str
    model_name: str
    device: str
    impl_name: str


def targets_from_specs(specs: Iterable[Any]) -> list[Target]:
    """Targets from ModelSpecs (anything with model_id, model_name, device, impl_name), in order."""
    return [Target(s.model_id, s.model_name, s.device, s.impl_name) for s in specs]


def target_from_model_id(model_id: str) -> Target:
    """A target from `id_{impl_name}_{model_name}_{device}` (device may hold `_`)."""
    body = model_id.removeprefix("id_")
    impl, _, rest = body.partition("_")
    for device in sorted(ci_results.DEVICES, key=len, reverse=True):
        if rest.lower().endswith("_" + device):
            return Target(model_id, rest[: -len(device) - 1], device.upper(), impl)
    raise CollectError(f"model_id {model_id!r} does not end with a known device")


def select_runs(runs: Iterable[dict], max_runs: int) -> list[dict]:
    """The newest `max_runs` completed runs, newest first (a run still going has partial data)."""
    done = [r for r in runs if r.get("status") == "completed"]
    done.sort(key=lambda r: r["run_number"], reverse=True)
    return done[:max_runs]


def span(runs: list[dict]) -> tuple[int, int]:
    """X and Y of the file names: min and max run number of the runs selected (DESIGN.md §8)."""
    numbers = [r["run_number"] for r in runs]
    return min(numbers), max(numbers)


def file_names(x: int, y: int) -> tuple[str, str]:
    """(all-results, last-good) file names for the span X..Y."""
    return f"models_ci_all_results_{x}_to_{y}.json", f"models_ci_last_good_{x}_to_{y}.json"


def is_eligible(entry: dict, require_passing: bool) -> bool:
    """An entry can be last-good: it has a job, and passes when passing is required."""
    if entry["ci_metadata"].get("ci_job_metadata") is None:
        return False
    return entry["workflow_logs"]["summary"]["is_passing"] or not require_passing


def choose_last_good(entries: list[dict], require_passing: bool) -> dict | None:
    """Among eligible entries, the one with the highest run number (DOMAIN.md §2)."""
    eligible = [e for e in entries if is_eligible(e, require_passing)]
    return max(eligible, key=lambda e: e["ci_metadata"]["run_number"]) if eligible else None


def last_good_entry(entry: dict, target: Target) -> dict:
    """The flat last-good entry of a chosen all-results entry, keys in DOMAIN.md order."""
    summary, meta = entry["workflow_logs"]["summary"], entry["ci_metadata"]
    job, logs = meta.get("ci_job_metadata") or {}, entry.get("ci_logs") or {}
    values = {
        "device": target.device, "impl_name": target.impl_name,
        "tt_metal_commit": summary["tt_metal_commit"], "vllm_commit": summary["vllm_commit"],
        "docker_image": summary["docker_image"], "perf_status": summary["perf_status"],
        "accuracy_status": summary["accuracy_status"], "ci_run_id": meta["run_id"],
        "ci_run_number": meta["run_number"], "ci_run_url": meta["ci_run_url"],
        "ci_job_id": job.get("job_id"), "ci_job_url": job.get("job_url"),
        "ci_job_name": job.get("job_name"), "ci_job_status": job.get("job_status"),
        "ci_job_conclusion": job.get("job_conclusion"), "ci_job_started_at": job.get("started_at"),
        "ci_job_completed_at": job.get("completed_at"),
        "firmware_bundle": logs.get("firmware_bundle"), "driver_version": logs.get("kmd_version"),
    }
    return {key: values[key] for key in LAST_GOOD_KEYS}


def build_last_good(targets: list[Target], all_results: dict[str, list[dict]],
                    require_passing: bool) -> dict[str, dict]:
    """Every catalogue model_id in catalogue order: its last-good entry or `{}`."""
    out: dict[str, dict] = {}
    for target in targets:
        chosen = choose_last_good(all_results.get(target.model_id, []), require_passing)
        out[target.model_id] = last_good_entry(chosen, target) if chosen else {}
    return out


def render_json(data: Any) -> str:
    """The bytes of an output file: 2-space JSON, key order kept, newline at the end."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def make_entry(run: dict, artifact: dict, sha256: str, result: ci_results.ModelResult,
               job: dict | None, repo: str, workflow: str) -> dict:
    """The all-results entry of one parsed artifact (upstream's shape, `benchmarks` dropped)."""
    owner, _, name = repo.partition("/")
    job_meta = None if job is None else {
        "job_id": job.get("id"), "job_name": job.get("name"), "job_status": job.get("status"),
        "job_conclusion": job.get("conclusion"), "job_url": job.get("html_url"),
        "started_at": job.get("started_at"), "completed_at": job.get("completed_at"),
    }
    return {
        "job_run_datetimestamp": run.get("created_at"),
        "ci_metadata": {
            "run_id": run["id"], "run_number": run["run_number"], "owner": owner, "repo": name,
            "workflow_file": workflow, "created_at": run.get("created_at"),
            "ci_run_url": run.get("html_url"), "artifact_id": artifact["id"],
            "artifact_name": artifact["name"], "artifact_sha256": sha256,
            "ci_job_metadata": job_meta,
        },
        "ci_logs": {"firmware_bundle": None, "kmd_version": None},
        "workflow_logs": {"summary": result.summary(), "metadata": result.metadata,
                          "benchmarks_summary": result.benchmarks_summary, "evals": result.evals,
                          "spec_file": result.spec_path, "report_file": result.report_path},
    }


def load_last_good(repo: Path, version: str) -> dict[str, dict]:
    """Read back `release_logs/v{version}/models_ci_last_good_X_to_Y.json` (the newest span)."""
    folder = Path(repo) / "release_logs" / f"v{version}"
    found = sorted((tuple(int(g) for g in m.groups()), p) for p in folder.glob("models_ci_last_good_*.json")
                   if (m := _FILE.match(p.name)))
    if not found:
        raise CollectError(f"{folder} holds no models_ci_last_good_X_to_Y.json: run the collect step first")
    path = found[-1][1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise CollectError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise CollectError(f"{path} is not a JSON object of model_id -> entry")
    return data


# -- the collection -------------------------------------------------------------------------------

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
        except NotFound as err:
            raise CollectError(f"GitHub has no {what} in {self.repo} (HTTP {err.status}): check "
                               "ci.repo and ci.workflow in release.toml") from None

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


# -- the engine step ------------------------------------------------------------------------------

class CollectStep:
    """`collect`: read Models CI and write the all-results and last-good files."""

    trigger = "collect"

    def plan(self, ctx: StepContext) -> Plan:
        """Select the runs (reads GitHub, writes nothing) and say what apply would do."""
        collector, opts = self._collector(ctx), self._options(ctx)
        runs = collector.runs(max_runs=opts["max_runs"], ci_run_id=opts["ci_run_id"])
        x, y = span(runs)
        all_name, good_name = file_names(x, y)
        folder = f"release_logs/v{ctx.version}"
        targets = self._targets(ctx)
        lines = [f"read Models CI {self._config(ctx).repo} {self._config(ctx).workflow}: "
                 f"{len(runs)} runs, {x}..{y} (newest {runs[0]['id']})",
                 f"find last-good for {len(targets)} models "
                 + ("(every artifact: --full-history)" if opts["full_history"]
                    else "newest first, until each is found"),
                 f"write {folder}/{all_name}", f"write {folder}/{good_name}"]
        return Plan(lines=lines, data={"runs": runs})

    def apply(self, ctx: StepContext, plan: Plan) -> Outcome:
        """Collect, then write both files as one recorded effect."""
        if ctx.outcome_of(WRITE_KEY) is not None:
            return Outcome()  # written before a kill: nothing to redo
        collector, opts, cfg = self._collector(ctx), self._options(ctx), self._config(ctx)
        targets = self._targets(ctx)
        runs = (plan.data or {}).get("runs") or collector.runs(max_runs=opts["max_runs"],
                                                               ci_run_id=opts["ci_run_id"])
        listed = collector.artifacts(runs)
        collection = collector.collect(targets, runs, listed, full_history=opts["full_history"])
        files = self._files(ctx, collection)
        events = self._events(ctx, cfg, collection, files, opts)

        def act() -> list[Event]:
            for path, text in files.values():
                _write_atomic(ctx.repo / path, text)
            return events

        def reconcile() -> list[Event] | None:
            same = all((ctx.repo / p).is_file() and (ctx.repo / p).read_text(encoding="utf-8") == t
                       for p, t in files.values())
            return events if same else None

        ctx.effect(WRITE_KEY, act, reconcile,
                   intent={"files": [p for p, _ in files.values()]})
        for line in summary_lines(collection):
            collector.progress.line(line)
        return Outcome()

    # -- wiring ---------------------------------------------------------------------------------

    @staticmethod
    def _config(ctx: StepContext):
        return ctx.services.config.ci

    def _options(self, ctx: StepContext) -> dict[str, Any]:
        opts = dict(ctx.state.options or {})
        return {"max_runs": int(opts.get("max_runs") or self._config(ctx).max_runs),
                "ci_run_id": int(opts["ci_run_id"]) if opts.get("ci_run_id") else None,
                "full_history": bool(opts.get("full_history"))}

    def _collector(self, ctx: StepContext) -> Collector:
        cfg = self._config(ctx)
        return Collector(ctx.services.ci_client(), cfg.repo, cfg.workflow,
                         Path(ctx.services.cache_dir), require_passing=cfg.require_passing,
                         out=ctx.out)

    @staticmethod
    def _targets(ctx: StepContext) -> list[Target]:
        from workflows.model_spec import load_catalogue

        release_repo = ctx.services.config.images.release_repo
        return targets_from_specs(load_catalogue(ctx.repo, release_repo))

    @staticmethod
    def _files(ctx: StepContext, collection: Collection) -> dict[str, tuple[str, str]]:
        x, y = span(collection.runs)
        all_name, good_name = file_names(x, y)
        folder = f"release_logs/v{ctx.version}"
        return {"all_results": (f"{folder}/{all_name}", render_json(collection.all_results)),
                "last_good": (f"{folder}/{good_name}", render_json(collection.last_good))}

    @staticmethod
    def _events(ctx, cfg, collection: Collection, files, opts) -> list[Event]:
        def digest(text: str) -> str:
            return hashlib.sha256(text.encode("utf-8")).hexdigest()

        runs = [{"id": r["id"], "number": r["run_number"], "url": r.get("html_url")}
                for r in collection.runs]
        with_data = sum(1 for e in collection.last_good.values() if e)
        return [
            ModelsCiCollected(repo=cfg.repo, workflow=cfg.workflow, runs=runs,
                              artifacts=collection.artifacts, problems=collection.problems,
                              require_passing=cfg.require_passing,
                              full_history=opts["full_history"]),
            CiResultsWritten(
                all_results={"path": files["all_results"][0], "sha256": digest(files["all_results"][1])},
                last_good={"path": files["last_good"][0], "sha256": digest(files["last_good"][1])},
                span=list(span(collection.runs)), models_with_data=with_data,
                models_without_data=len(collection.last_good) - with_data),
        ]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
