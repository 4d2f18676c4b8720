"""The collect step (`started -> collected`): Models CI runs -> all-results and last-good JSON.

DOMAIN.md §2 and DESIGN.md §8. The reading of CI lives in `collect.collector` (`Collector`), the
choice of each model's last-good entry in `collect.last_good`; this module is the engine step and
its events, and the wiring `release collect` shares with it (`make_collector`,
`catalogue_targets`, `result_files`). The two files are written as one ledger effect that records the runs,
artifacts (ids, sha256) and both files' sha256.

One bad model never sinks the collection: its reason is recorded and it gets `{}` in last-good.
A bad token or a missing repository/workflow stops the step with one sentence.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar

from release_ledger.adapters.files import write_atomic
from release_ledger.engine.events import Event
from release_ledger.engine.step import Outcome, Plan, StepContext
from release_ledger.workflows.collect.collector import Collection, Collector, summary_lines
from release_ledger.workflows.collect.last_good import Target, file_names, render_json, span, targets_from_specs

WRITE_KEY = "collect:write-results"


# -- shared with `release collect` (workflows.collect.standalone) --------------------------------

def make_collector(services: Any, out: Any) -> Collector:
    """A Collector on the Models CI the settings name (`[ci]`), reporting progress to `out`."""
    cfg = services.config.ci
    return Collector(services.ci_client(), cfg.repo, cfg.workflow, Path(services.cache_dir),
                     require_passing=cfg.require_passing, out=out)


def catalogue_targets(repo: Path, services: Any) -> list[Target]:
    """The catalogue's models, in catalogue order: the keys of the last-good file."""
    from release_ledger.workflows.spec.reader import load_catalogue

    return targets_from_specs(load_catalogue(repo, services.config.images.release_repo))


def result_files(collection: Collection, folder: str) -> dict[str, tuple[str, str]]:
    """The all-results and last-good files of a collection: {kind: (path under folder, text)}."""
    x, y = span(collection.runs)
    all_name, good_name = file_names(x, y)
    return {"all_results": (f"{folder}/{all_name}", render_json(collection.all_results)),
            "last_good": (f"{folder}/{good_name}", render_json(collection.last_good))}


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
        runs = self._pinned(ctx, collector, runs)
        listed = collector.artifacts(runs)
        collection = collector.collect(targets, runs, listed, full_history=opts["full_history"])
        files = self._files(ctx, collection)
        events = self._events(ctx, cfg, collection, files, opts)

        def act() -> list[Event]:
            for path, text in files.values():
                write_atomic(ctx.repo / path, text)
            return events

        def reconcile() -> list[Event] | None:
            same = all((ctx.repo / p).is_file() and (ctx.repo / p).read_text(encoding="utf-8") == t
                       for p, t in files.values())
            return events if same else None

        ctx.effect(WRITE_KEY, act, reconcile,
                   intent={"files": [p for p, _ in files.values()],
                           "run_ids": [r["id"] for r in collection.runs]})
        for line in summary_lines(collection):
            collector.progress.line(line)
        return Outcome()

    @staticmethod
    def _pinned(ctx: StepContext, collector: Collector, runs: list[dict]) -> list[dict]:
        """The runs a killed attempt had selected, if there was one: a nightly run that landed
        since must not change the span, the files or the last-good entries of this release."""
        pinned = ctx.recorded_intent(WRITE_KEY).get("run_ids")
        if not pinned or [r["id"] for r in runs] == pinned:
            return runs
        known = {r["id"]: r for r in runs}
        return [known.get(i) or collector.runs(ci_run_id=i)[0] for i in pinned]

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
        return make_collector(ctx.services, ctx.out)

    @staticmethod
    def _targets(ctx: StepContext) -> list[Target]:
        return catalogue_targets(ctx.repo, ctx.services)

    @staticmethod
    def _files(ctx: StepContext, collection: Collection) -> dict[str, tuple[str, str]]:
        return result_files(collection, f"release_logs/v{ctx.version}")

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

