"""Last-good selection (DOMAIN.md §2): which CI entry of each catalogue model is its last good one.

Pure functions of the collect step: choose the runs and the file names of a span, turn a parsed
artifact into an all-results entry, pick and flatten each model's last-good entry, render the
output files, and read a written last-good file back (spec, promote and the pull request use it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_ledger.workflows.collect import results as ci_results
from release_ledger.workflows.errors import CollectError

# DOMAIN.md §2: the exact keys of a last-good entry, in this order.
LAST_GOOD_KEYS = (
    "device", "impl_name", "tt_metal_commit", "vllm_commit", "docker_image", "perf_status",
    "accuracy_status", "ci_run_id", "ci_run_number", "ci_run_url", "ci_job_id", "ci_job_url",
    "ci_job_name", "ci_job_status", "ci_job_conclusion", "ci_job_started_at",
    "ci_job_completed_at", "firmware_bundle", "driver_version",
)
_FILE = re.compile(r"^models_ci_last_good_(\d+)_to_(\d+)\.json$")


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
