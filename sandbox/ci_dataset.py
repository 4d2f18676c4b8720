"""The recorded Models CI of the sandbox, generated deterministically (docs/SANDBOX.md).

`write_dataset(root)` writes, under `root/ci/{owner}/{repo}/`, what GitHub would answer for the
`on-nightly.yml` workflow of `tenstorrent/tt-shield`: runs, jobs, artifact lists, one zip per model
artifact and one log per model job. `adapters.sandbox.github_ci` serves it to our real client.

The scenario covers what a collection must survive (issue 3): several runs, a newer failing run,
more than 100 artifacts in one run, an expired artifact, a corrupt zip, a report with a missing
key, an unknown job-name shape, media models without vllm, a git-tag tt-metal ref, a device with
`_` (GALAXY_T3K), a catalogue model with no data at all (AFM-4.5B), job names of several shapes and
a newest run still in progress. `Scenario` is also how the benchmark builds its 90-run dataset.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

OWNER, REPO, WORKFLOW = "tenstorrent", "tt-shield", "on-nightly.yml"
WORKFLOW_ID = 112233445
CI_VERSION = "0.3.0"
LLM_IMAGE = "ghcr.io/tenstorrent/tt-shield/vllm-tt-metal-src-dev-ubuntu-22.04-amd64"
MEDIA_IMAGE = "ghcr.io/tenstorrent/tt-shield/tt-media-inference-server-dev"
_EPOCH = datetime(2025, 11, 3, 2, 0, tzinfo=timezone.utc)
_ZIP_TIME = (2025, 11, 3, 4, 0, 0)


@dataclass(frozen=True)
class CiModel:
    """One model CI tests: the names its artifact and job carry, and how its image is built."""

    impl_name: str
    model_name: str
    device: str          # as in the catalogue, e.g. "GALAXY_T3K"
    kind: str = "llm"    # "llm", "galaxy" (git-tag tt-metal ref) or "media" (no vllm)

    @property
    def model_id(self) -> str:
        return f"id_{self.impl_name}_{self.model_name}_{self.device.lower()}"

    @property
    def hw(self) -> str:
        return self.device.lower()


@dataclass
class Scenario:
    """The shape of a recorded CI: which runs, which models, what goes wrong where."""

    run_numbers: list[int]
    models: list[CiModel]
    # (run_number, model_id) -> "fail_acc" | "fail_perf" | "missing" | "expired" | "corrupt"
    #                           | "missing_key" | "odd_job"; absent = passes.
    outcomes: dict[tuple[int, str], str] = field(default_factory=dict)
    filler_jobs: int = 6
    filler_artifacts: int = 3
    big_run: int | None = None          # this run gets > 100 artifacts
    in_progress_run: int | None = None  # newest run, still running, nothing uploaded yet


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _ts(run_index: int, minutes: int = 0) -> str:
    moment = _EPOCH + timedelta(days=run_index, minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the sandbox scenario (docs/SANDBOX.md) --------------------------------------------------------

def _sandbox_models() -> list[CiModel]:
    tt = "tt-transformers"
    models = [CiModel(tt, "Llama-3.1-8B-Instruct", d) for d in ("N150", "N300", "T3K")]
    models += [CiModel(tt, "Qwen3-8B", d) for d in ("N150", "N300", "T3K")]
    models += [CiModel(tt, "Qwen3-32B", d) for d in ("T3K", "GALAXY_T3K")]
    models += [CiModel(tt, m, "T3K") for m in ("Llama-3.3-70B-Instruct", "Llama-3.1-70B-Instruct",
                                                "DeepSeek-R1-Distill-Llama-70B")]
    models += [CiModel("llama3-70b-galaxy", "Llama-3.3-70B-Instruct", "GALAXY", "galaxy")]
    models += [CiModel(tt, "Mistral-7B-Instruct-v0.3", d) for d in ("N150", "N300")]
    # AFM-4.5B: in the catalogue, never in CI (last-good {}).
    models += [CiModel(tt, "gemma-3-27b-it", d) for d in ("T3K", "GALAXY")]
    models += [CiModel(tt, "Qwen2.5-VL-7B-Instruct", d) for d in ("N150", "N300")]
    models += [CiModel("whisper", m, d, "media") for m in ("whisper-large-v3", "distil-large-v3")
               for d in ("N150", "GALAXY")]
    models += [CiModel("tt-sdxl", "stable-diffusion-xl-base-1.0", d, "media") for d in ("N150", "T3K")]
    models += [CiModel(tt, "Qwen2.5-72B-Instruct", d) for d in ("T3K", "GALAXY")]
    # CI also runs models the sample catalogue does not list.
    models += [CiModel(tt, "Llama-3.2-1B-Instruct", "N150"), CiModel(tt, "Llama-3.2-3B-Instruct", "N300")]
    return models


def sandbox_scenario() -> Scenario:
    """Runs 290..299 completed (299 newest and failing for some models), 300 in progress."""
    t = "id_tt-transformers_"
    outcomes = {
        # The newest run fails for several models: last-good must come from older runs.
        (299, t + "Llama-3.1-8B-Instruct_n150"): "fail_acc",
        (299, t + "Qwen3-8B_n150"): "fail_perf",
        (299, t + "Qwen3-8B_n300"): "fail_acc",
        (299, t + "Qwen3-8B_t3k"): "fail_acc",
        (299, t + "gemma-3-27b-it_t3k"): "fail_acc",
        (299, t + "Qwen2.5-VL-7B-Instruct_n300"): "missing_key",
        (299, t + "Qwen2.5-72B-Instruct_galaxy"): "odd_job",
        (299, "id_whisper_distil-large-v3_galaxy"): "missing",
        # gemma on T3K: failing, then not uploaded, then expired, then good in 296.
        (298, t + "gemma-3-27b-it_t3k"): "missing",
        (297, t + "gemma-3-27b-it_t3k"): "expired",
        (299, t + "Mistral-7B-Instruct-v0.3_n300"): "fail_acc",
        (298, t + "Mistral-7B-Instruct-v0.3_n300"): "corrupt",
        (298, t + "Qwen3-8B_n150"): "fail_perf",
    }
    # Galaxy T3K only appeared in CI from run 294 on.
    outcomes.update({(n, t + "Qwen3-32B_galaxy_t3k"): "missing" for n in range(290, 294)})
    return Scenario(run_numbers=list(range(290, 300)), models=_sandbox_models(), outcomes=outcomes,
                    big_run=297, in_progress_run=300)


# -- what one run holds ----------------------------------------------------------------------------

def run_id_of(number: int) -> int:
    """The run id of run `number` (ids grow with numbers, as on GitHub)."""
    return 19339000000 + number * 7919


def _commits(number: int) -> dict[str, str]:
    """The commits a run built its images from (they change every few runs, like a nightly)."""
    epoch = number // 3
    return {
        "metal": _hex(f"tt-metal-{epoch}", 40),
        "vllm": _hex(f"vllm-{epoch // 2}", 7),
        "metal_tag": "v0.63.0-rc5" if number >= 295 else "v0.62.0-rc33",
        "galaxy_vllm": _hex(f"vllm-galaxy-{epoch // 2}", 7),
        "media_metal": _hex(f"tt-metal-media-{epoch // 2}", 40),
        "media_server": _hex(f"media-server-{epoch}", 7),
    }


def image_of(model: CiModel, number: int) -> str:
    """The CI image run `number` built for `model` (one image per kind per run, shared)."""
    c, build_id = _commits(number), 55000000000 + number * 10007
    if model.kind == "media":
        return f"{MEDIA_IMAGE}:{CI_VERSION}-{c['media_metal']}-{c['media_server']}-{build_id + 2}"
    if model.kind == "galaxy":
        return f"{LLM_IMAGE}:{CI_VERSION}-{c['metal_tag']}-{c['galaxy_vllm']}-{build_id + 1}"
    return f"{LLM_IMAGE}:{CI_VERSION}-{c['metal']}-{c['vllm']}-{build_id}"


def job_name_of(model: CiModel, number: int, odd: bool = False) -> str:
    """The job name CI gave `model` in run `number`: its shape changed over time (DOMAIN.md §2)."""
    if odd:
        return f"nightly-{model.hw} / shard 3 of 7"
    if model.kind == "galaxy":
        return f"_ / vLLM / run-release-{model.model_name}-galaxy-{model.hw}"
    if number < 294:
        return f"run-release-{model.hw} / test (release, {model.model_name}, {model.hw}, {model.device})"
    return (f"run-release-{model.hw} / run-tests (release, with_server, {model.model_name}, "
            f"{model.hw}, {model.device})")


def report_for(model: CiModel, number: int, outcome: str | None) -> dict:
    """The report_data JSON of a model in a run: metadata, benchmarks_summary, evals."""
    c = _commits(number)
    checks = {"ttft_check": 2, "tput_user_check": 2, "tput_check": 2}
    perf_fail = {"ttft_check": 3, "tput_user_check": 2, "tput_check": 2}
    target_checks = {
        "functional": dict(perf_fail if outcome == "fail_perf" else checks),
        "complete": dict(checks if number % 2 == 0 and outcome != "fail_perf" else perf_fail),
        "target": {"ttft_check": 1, "tput_user_check": 3, "tput_check": 1},
    }
    evals = [{"task_name": "gsm8k", "score": 71.3, "accuracy_check": 3 if outcome == "fail_acc" else 2},
             {"task_name": "mmlu", "score": 64.0, "accuracy_check": 2}]
    report = {
        "metadata": {"model_id": model.model_id, "model_name": model.model_name, "device": model.hw,
                     "tt_metal_commit": c["metal_tag"] if model.kind == "galaxy" else c["metal"],
                     "vllm_commit": None if model.kind == "media" else c["vllm"],
                     "run_command": f"python3 run.py --model {model.model_name} --device {model.hw}"},
        "benchmarks_summary": [{"isl": 128, "osl": 128, "max_concurrency": 1, "ttft": 88.1,
                                "tput_user": 27.4, "target_checks": target_checks}],
        "evals": evals,
        "benchmarks": [{"isl": 128, "osl": 128, "samples": list(range(40))}],  # bulky, dropped
    }
    if outcome == "missing_key":
        del report["evals"]
    return report


def artifact_zip(model: CiModel, number: int, outcome: str | None = None) -> bytes:
    """The `workflow_logs_*` zip of a model in a run (fixed times: same input, same bytes)."""
    stamp = _ts(number - 290, 120).replace(":", "-")
    spec_dir = "runtime_model_specs" if number >= 295 else "run_specs"
    spec = {"model_id": model.model_id, "model_name": model.model_name, "impl": model.impl_name,
            "device_type": model.device, "docker_image": image_of(model, number)}
    members = {
        f"{spec_dir}/{model.model_id}_{stamp}.json": json.dumps(spec, indent=2),
        f"reports_output/release/data/report_data_{model.model_id}_{stamp}.json":
            json.dumps(report_for(model, number, outcome), indent=2),
        f"run_logs/run_{model.model_id}.log": f"starting {model.model_id}\n",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(zipfile.ZipInfo(name, _ZIP_TIME), text)
    data = buf.getvalue()
    if outcome == "corrupt":
        data = data[: len(data) // 2]  # a truncated download
    return data


def job_log(model: CiModel, number: int) -> str:
    """A job log with timestamps, ANSI colours and the tt-smi JSON after `tt-smi-metal -s`."""
    firmware = "18.8.0" if number >= 295 else "18.7.0"
    smi = {"time": _ts(number - 290), "host_info": {"OS": "Linux", "Driver": "TT-KMD 2.4.1"},
           "device_info": [{"board_info": {"board_type": model.hw},
                            "firmwares": {"fw_bundle_version": firmware, "arc_fw": "2.33.0"}}]}
    stamp = _ts(number - 290, 10).replace("Z", ".1234567Z")
    lines = [f"{stamp} \x1b[36;1m##[group]Run tt-smi\x1b[0m", f"{stamp} + tt-smi-metal -s"]
    lines += [f"{stamp} {line}" for line in json.dumps(smi, indent=4).splitlines()]
    lines += [f"{stamp} \x1b[32mPASSED\x1b[0m {model.model_id}", f"{stamp} ##[endgroup]"]
    return "\n".join(lines) + "\n"


# -- writing -------------------------------------------------------------------------------------

def ci_dir(root: Path) -> Path:
    """Where the recorded CI of the sandbox repository lives under a sandbox GitHub folder."""
    return Path(root) / "ci" / OWNER / REPO


def write_dataset(root: Path, scenario: Scenario | None = None) -> list[str]:
    """Write the recorded CI under `root`; return every CI image reference it uses (sorted)."""
    scenario = scenario or sandbox_scenario()
    base = ci_dir(root)
    for sub in ("runs", "artifacts", "logs"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    _write_json(base / "workflow.json", _workflow())
    images: set[str] = set()
    numbers = sorted(scenario.run_numbers + ([scenario.in_progress_run] if scenario.in_progress_run else []))
    for index, number in enumerate(numbers):
        images |= _write_run(base, scenario, number, index)
    return sorted(images)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")


def _workflow() -> dict:
    return {"id": WORKFLOW_ID, "node_id": "W_kwDOsandbox", "name": "On nightly",
            "path": f".github/workflows/{WORKFLOW}", "state": "active",
            "html_url": f"https://github.com/{OWNER}/{REPO}/blob/main/.github/workflows/{WORKFLOW}"}


def _write_run(base: Path, sc: Scenario, number: int, index: int) -> set[str]:
    run_id, running = run_id_of(number), number == sc.in_progress_run
    jobs, artifacts, images, failed = [], [], set(), False
    for k, model in enumerate(sc.models):
        outcome = sc.outcomes.get((number, model.model_id))
        job_id = 58000000000 + number * 100003 + k
        job_failed = outcome in ("fail_acc", "fail_perf", "missing")
        failed |= job_failed
        jobs.append(_job(run_id, job_id, job_name_of(model, number, outcome == "odd_job"), index,
                         k, "in_progress" if running else "completed",
                         None if running else ("failure" if job_failed else "success")))
        if running:
            continue
        (base / "logs" / f"{job_id}.log").write_text(job_log(model, number), encoding="utf-8")
        if outcome == "missing":
            continue
        art_id = 4500000000 + number * 10007 + k
        name = f"workflow_logs_release_{model.model_name}_{model.hw}"
        expired = outcome == "expired"
        if not expired:
            data = artifact_zip(model, number, outcome)
            (base / "artifacts" / f"{art_id}.zip").write_bytes(data)
        images.add(image_of(model, number))
        artifacts.append(_artifact(art_id, name, run_id, index,
                                   0 if expired else len(data), expired))
    fillers = 90 if number == sc.big_run else sc.filler_artifacts  # big run: > 100 artifacts
    for k in range(0 if running else fillers):
        art_id = 4600000000 + number * 10007 + k
        name = f"docker_build_logs_{k:03d}" if k % 2 else f"perf_trace_shard_{k:03d}"
        artifacts.append(_artifact(art_id, name, run_id, index, 2048 + k, False))
    for k in range(sc.filler_jobs):
        job_id = 58000000000 + number * 100003 + 5000 + k
        name = ["build-image / build (vllm-tt-metal-src)", "prepare / matrix", "report / summarize",
                f"lint-{k}", f"setup-runner-{k}", f"cleanup / node {k}"][k % 6]
        jobs.append(_job(run_id, job_id, name, index, k, "completed", "success"))
    run = _run(run_id, number, index, "in_progress" if running else "completed",
               None if running else ("failure" if failed else "success"))
    _write_json(base / "runs" / f"{run_id}.json", run)
    _write_json(base / "runs" / f"{run_id}.jobs.json", jobs)
    _write_json(base / "runs" / f"{run_id}.artifacts.json", artifacts)
    return images


def _run(run_id: int, number: int, index: int, status: str, conclusion: str | None) -> dict:
    api = f"https://api.github.com/repos/{OWNER}/{REPO}/actions/runs/{run_id}"
    return {"id": run_id, "name": "On nightly", "node_id": f"WFR_{run_id}", "head_branch": "main",
            "head_sha": _hex(f"shield-{number}", 40), "path": f".github/workflows/{WORKFLOW}",
            "run_number": number, "run_attempt": 1, "event": "schedule", "status": status,
            "conclusion": conclusion, "workflow_id": WORKFLOW_ID, "url": api,
            "html_url": f"https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}",
            "created_at": _ts(index), "updated_at": _ts(index, 300), "run_started_at": _ts(index),
            "jobs_url": f"{api}/jobs", "logs_url": f"{api}/logs", "artifacts_url": f"{api}/artifacts",
            "repository": {"full_name": f"{OWNER}/{REPO}", "name": REPO}}


def _job(run_id: int, job_id: int, name: str, index: int, k: int, status: str,
         conclusion: str | None) -> dict:
    return {"id": job_id, "run_id": run_id, "run_attempt": 1, "node_id": f"CR_{job_id}",
            "head_sha": _hex(f"shield-run-{run_id}", 40), "name": name, "status": status,
            "conclusion": conclusion, "workflow_name": "On nightly", "head_branch": "main",
            "url": f"https://api.github.com/repos/{OWNER}/{REPO}/actions/jobs/{job_id}",
            "html_url": f"https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}/job/{job_id}",
            "started_at": _ts(index, 5 + k), "completed_at": None if status != "completed"
            else _ts(index, 95 + k), "labels": ["in-service"], "runner_name": f"tt-runner-{k % 9}",
            "steps": []}


def _artifact(art_id: int, name: str, run_id: int, index: int, size: int, expired: bool) -> dict:
    api = f"https://api.github.com/repos/{OWNER}/{REPO}/actions/artifacts/{art_id}"
    return {"id": art_id, "node_id": f"MDg6QXJ0aWZhY3Q{art_id}", "name": name,
            "size_in_bytes": size, "url": api, "archive_download_url": f"{api}/zip",
            "expired": expired, "digest": None, "created_at": _ts(index, 100),
            "updated_at": _ts(index, 100), "expires_at": _ts(index + 90, 100),
            "workflow_run": {"id": run_id, "repository_id": 700001, "head_repository_id": 700001,
                             "head_branch": "main", "head_sha": _hex(f"shield-run-{run_id}", 40)}}
