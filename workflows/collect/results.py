"""Read one model's Models CI result: its `workflow_logs_*` artifact and its job's log.

Everything here follows DOMAIN.md §2: the artifact layout (spec JSON under `run_specs/` or
`runtime_model_specs/`, report under `reports_output/{release|benchmarks|evals}/data/`), the
check codes (1 N/A, 2 PASS, 3 FAIL), the perf/accuracy rules, the commits in the CI image tag and
the tt-smi JSON in the job log. A bad artifact raises `BadArtifact` with one sentence; the caller
records it for that model and goes on (one bad model never sinks the collection).
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_ledger.workflows.errors import WorkflowError

NA, PASS, FAIL = 1, 2, 3
PERF_LEVELS = ("target", "complete", "functional")  # best first
PERF_CHECKS = ("ttft_check", "tput_user_check", "tput_check")
ARTIFACT_PREFIX = "workflow_logs_"
# Known device tokens (DOMAIN.md §3); some hold `_`, so names are split on known suffixes.
DEVICES = ("cpu", "e150", "n150", "p100", "p150", "p150x4", "p150x8", "n150x4", "n300", "t3k",
           "galaxy", "galaxy_t3k", "gpu", "p300", "p300x2")

_SPEC = re.compile(r"(?:^|/)(run_specs|runtime_model_specs)/[^/]+\.json$")
_REPORT = re.compile(r"(?:^|/)reports_output/(release|benchmarks|evals)/data/report_data_[^/]*\.json$")
_REPORT_RANK = {"release": 0, "benchmarks": 1, "evals": 2}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_LOG_STAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
# {version}-{tt-metal ref}-{7-hex}-{numeric id}; the tt-metal ref may be a git tag with dashes
# (`v0.62.0-rc33`), so the tag is read from both ends, never split on `-` blindly (DOMAIN.md §3).
_IMAGE_TAG = re.compile(r"^(?P<version>\d+\.\d+\.\d+(?:rc\d+)?)-(?P<metal>.+)-(?P<third>[0-9a-f]{7,40})"
                        r"-(?P<id>\d+)$")


class BadArtifact(WorkflowError):
    """One model's CI result cannot be used; the message is the reason recorded for it."""


@dataclass(frozen=True)
class ModelResult:
    """What one artifact says about one model."""

    model_id: str
    docker_image: str | None
    metadata: dict
    benchmarks_summary: list
    evals: list
    spec_path: str
    report_path: str

    def summary(self) -> dict[str, Any]:
        """The parsed verdict: commits, image, perf/accuracy status, is_passing."""
        tt_metal, vllm = commits_from_image(self.docker_image) if self.docker_image else (None, None)
        done = benchmarks_completed(self.benchmarks_summary)
        accuracy = accuracy_status(self.evals)
        return {
            "model_id": self.model_id,
            "device": self.metadata.get("device"),
            "tt_metal_commit": tt_metal,
            "vllm_commit": vllm,
            "docker_image": self.docker_image,
            "perf_status": perf_status(self.benchmarks_summary),
            "accuracy_status": accuracy,
            "benchmarks_completed": done,
            "is_passing": done and accuracy,
        }


# -- check codes ----------------------------------------------------------------------------------

def perf_status(benchmarks_summary: list) -> str:
    """The best of target/complete/functional whose three checks are present and none FAIL."""
    checks = _target_checks(benchmarks_summary)
    for level in PERF_LEVELS:
        row = checks.get(level)
        if not isinstance(row, dict):
            continue
        values = [row.get(name) for name in PERF_CHECKS]
        if all(v is not None for v in values) and FAIL not in values:
            return level
    return "experimental"


def accuracy_status(evals: list) -> bool:
    """True when there are evals and every row has an `accuracy_check` that is not FAIL."""
    if not evals:
        return False
    return all(isinstance(row, dict) and row.get("accuracy_check") not in (None, FAIL)
               for row in evals)


def benchmarks_completed(benchmarks_summary: list) -> bool:
    """True when a summary row carries a dict `target_checks` (the benchmark ran to the end)."""
    return any(isinstance(row, dict) and isinstance(row.get("target_checks"), dict)
               for row in benchmarks_summary or [])


def _target_checks(benchmarks_summary: list) -> dict:
    if not benchmarks_summary or not isinstance(benchmarks_summary[0], dict):
        return {}
    checks = benchmarks_summary[0].get("target_checks")
    return checks if isinstance(checks, dict) else {}


# -- image tags -----------------------------------------------------------------------------------

def is_media_image(image: str) -> bool:
    """True for tt-media-inference-server images, whose tag holds no vllm commit."""
    return "tt-media-inference-server" in image.rsplit(":", 1)[0]


def commits_from_image(image: str) -> tuple[str, str | None]:
    """(tt_metal_commit, vllm_commit) from a CI image tag; vllm is None for media images."""
    repo, _, tag = image.rpartition(":")
    match = _IMAGE_TAG.match(tag) if repo and "/" not in tag else None
    if not match:
        raise BadArtifact(f"CI image {image!r} has no tag of the form "
                          "{version}-{tt-metal commit}-{vllm commit}-{id}")
    metal = match["metal"]
    if not (_HEX40.match(metal) or metal.startswith("v")):
        raise BadArtifact(f"CI image {image!r}: {metal!r} is neither a 40-hex commit nor a git tag")
    return metal, (None if is_media_image(image) else match["third"][:7])


# -- the artifact ---------------------------------------------------------------------------------

def read_artifact(path: Path, name: str = "") -> ModelResult:
    """Parse a `workflow_logs_*` zip: its spec JSON and its newest report; BadArtifact if unusable."""
    label = name or Path(path).name
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            spec_name = _pick_spec(names, label)
            report_name = _pick_report(names, label)
            spec = _load_json(zf, spec_name, label)
            report = _load_json(zf, report_name, label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as err:
        raise BadArtifact(f"artifact {label} is not a readable zip ({err})") from None
    return _result(spec, report, spec_name, report_name, label)


def validate_zip(path: Path, name: str = "") -> None:
    """Check a downloaded zip's CRCs; BadArtifact (naming `name`, else the file) if it is broken.

    Callers that download to a temporary file pass the artifact's name: the message is recorded
    in the ledger and the release files, so it must not carry a per-process temporary name.
    """
    label = name or Path(path).name
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise BadArtifact(f"artifact {label} is not a readable zip ({err})") from None
    if bad is not None:
        raise BadArtifact(f"artifact {label} has a corrupt member {bad}")


def _pick_spec(names: list[str], label: str) -> str:
    specs = sorted(n for n in names if _SPEC.search(n))
    # Newer runs write runtime_model_specs/; prefer it when both exist.
    specs.sort(key=lambda n: 0 if "runtime_model_specs/" in n else 1)
    if not specs:
        raise BadArtifact(f"artifact {label} has no spec JSON under run_specs/ or runtime_model_specs/")
    return specs[0]


def _pick_report(names: list[str], label: str) -> str:
    reports = [n for n in names if _REPORT.search(n)]
    if not reports:
        raise BadArtifact(f"artifact {label} has no reports_output/*/data/report_data_*.json")
    # The release report first, then the newest timestamp (names end with it): two stable sorts.
    reports.sort(key=lambda n: Path(n).name, reverse=True)
    reports.sort(key=lambda n: _REPORT_RANK[_REPORT.search(n)[1]])
    return reports[0]


def _load_json(zf: zipfile.ZipFile, member: str, label: str) -> dict:
    try:
        data = json.loads(zf.read(member).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise BadArtifact(f"artifact {label}: {member} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise BadArtifact(f"artifact {label}: {member} is not a JSON object")
    return data


def _result(spec: dict, report: dict, spec_name: str, report_name: str, label: str) -> ModelResult:
    model_id = spec.get("model_id")
    if not isinstance(model_id, str) or not model_id:
        raise BadArtifact(f"artifact {label}: {spec_name} has no model_id")
    for key in ("metadata", "benchmarks_summary", "evals"):
        if key not in report:
            raise BadArtifact(f"artifact {label}: {report_name} has no {key!r}")
    if not isinstance(report["metadata"], dict):
        raise BadArtifact(f"artifact {label}: {report_name} 'metadata' is not an object")
    for key in ("benchmarks_summary", "evals"):
        if not isinstance(report[key], list):
            raise BadArtifact(f"artifact {label}: {report_name} {key!r} is not a list")
    image = spec.get("docker_image") or report["metadata"].get("docker_image")
    return ModelResult(model_id, image, report["metadata"], report["benchmarks_summary"],
                       report["evals"], spec_name, report_name)


# -- artifact names and job names -----------------------------------------------------------------

def split_artifact_name(name: str) -> tuple[str, str, str] | None:
    """(workflow, model_name, hardware) of `workflow_logs_{workflow}_{model}_{hardware}`, or None."""
    if not name.startswith(ARTIFACT_PREFIX):
        return None
    workflow, _, rest = name[len(ARTIFACT_PREFIX):].partition("_")
    # Longest device first: `_galaxy_t3k` must win over `_t3k`.
    for device in sorted(DEVICES, key=len, reverse=True):
        if rest.lower().endswith("_" + device) and len(rest) > len(device) + 1:
            return workflow, rest[: -len(device) - 1], device
    return None


def artifact_matches(name: str, model_name: str, device: str) -> bool:
    """True when an artifact name is `workflow_logs_{wf}_{model_name}_{device}` (case-tolerant)."""
    parts = split_artifact_name(name)
    return bool(parts) and parts[1] == model_name and parts[2] == device.lower()


def job_matches(job_name: str, model_name: str, device: str) -> bool:
    """True when a CI job name is about `model_name` on `device`, whatever its shape.

    Shapes seen upstream: `X / test (wf, model, hw_name, hw)`,
    `X / run-tests (wf, with_server, model, hw_name, device)` and
    `_ / vLLM / run-release-{model}-{hw_name}-{hw}`; unknown shapes simply do not match.
    """
    norm_dev = _norm(device)
    paren = re.search(r"\(([^()]*)\)\s*$", job_name)
    if paren:
        tokens = [_norm(t) for t in paren[1].split(",")]
        return _norm(model_name) in tokens and norm_dev in tokens
    last = _norm(job_name.rsplit("/", 1)[-1])
    needle = f"-{_norm(model_name)}-"
    return needle in last and last.endswith("-" + norm_dev)


def _norm(text: str) -> str:
    return text.strip().lower().replace("_", "-")


def find_job(jobs: list[dict], model_name: str, device: str) -> dict | None:
    """The job of `model_name` on `device` among a run's jobs (the latest attempt wins)."""
    found = [j for j in jobs if job_matches(j.get("name", ""), model_name, device)]
    return max(found, key=lambda j: (j.get("run_attempt") or 0, j.get("id") or 0)) if found else None


# -- the job log ----------------------------------------------------------------------------------

def parse_tt_smi(log_text: str) -> dict[str, str | None]:
    """firmware_bundle and driver_version from the JSON printed after `tt-smi-metal -s`."""
    lines = [_LOG_STAMP.sub("", _ANSI.sub("", line)) for line in log_text.splitlines()]
    for i, line in enumerate(lines):
        if "tt-smi-metal -s" not in line and "tt-smi -s" not in line:
            continue
        info = _json_after(lines[i + 1:])
        if info is not None:
            return _firmware_and_driver(info)
    return {"firmware_bundle": None, "driver_version": None}


def _json_after(lines: list[str]) -> dict | None:
    text = "\n".join(lines)
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _firmware_and_driver(info: dict) -> dict[str, str | None]:
    firmware = None
    devices = info.get("device_info")
    if isinstance(devices, list) and devices and isinstance(devices[0], dict):
        firmware = (devices[0].get("firmwares") or {}).get("fw_bundle_version")
    driver = (info.get("host_info") or {}).get("Driver")
    if isinstance(driver, str):
        driver = driver.removeprefix("TT-KMD ").strip()
    return {"firmware_bundle": firmware, "driver_version": driver}
