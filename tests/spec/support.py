"""Helpers of the spec step tests: the sample product, its last-good data, golden files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from release_ledger.engine.releases import load_state
from release_ledger.engine.step import StepContext
from release_ledger.workflows.spec.reader import load_catalogue

PRODUCT = Path(__file__).resolve().parents[2] / "sandbox" / "product"
GOLDEN = Path(__file__).parent / "golden"
VERSION = "0.4.0"
SHIELD = "https://github.com/tenstorrent/tt-shield/actions/runs"
CI_IMAGE = "ghcr.io/tenstorrent/tt-shield/vllm-tt-metal-src-dev-ubuntu-22.04-amd64"
MEDIA_CI_IMAGE = "ghcr.io/tenstorrent/tt-shield/tt-media-inference-server-dev"
TT_A = "e95ffa59adbe39237525161272141cbbb603c686"
TT_B = "3d1f0c2b9a8e7d6c5b4a39281706f5e4d3c2b1a0"
TT_MEDIA = "7c5e1d2f00112233445566778899aabbccddeeff"


def entry(device: str, tt: str, vllm: str | None, perf: str, run: int = 297,
          job: int = 55000000001) -> dict[str, Any]:
    """A last-good entry shaped like DOMAIN §2's."""
    image = (f"{MEDIA_CI_IMAGE}:0.3.0-{tt}-abc1234-{job}" if vllm is None
             else f"{CI_IMAGE}:0.3.0-{tt}-{vllm}-{job}")
    run_id = 19339700000 + run
    return {
        "device": device, "impl_name": "", "tt_metal_commit": tt, "vllm_commit": vllm,
        "docker_image": image, "perf_status": perf, "accuracy_status": True,
        "ci_run_id": run_id, "ci_run_number": run, "ci_run_url": f"{SHIELD}/{run_id}",
        "ci_job_id": job, "ci_job_url": f"{SHIELD}/{run_id}/job/{job}",
        "ci_job_name": f"run-release / test (release, model, {device.lower()}, {device})",
        "ci_job_status": "completed", "ci_job_conclusion": "success",
        "ci_job_started_at": "2025-11-13T04:12:09Z", "ci_job_completed_at": "2025-11-13T06:01:44Z",
        "firmware_bundle": "18.7.0", "driver_version": "2.4.1",
    }


def sample_last_good() -> dict[str, Any]:
    """Last-good data for the sample: every model_id, `{}` where CI has none."""
    data: dict[str, Any] = {s.model_id: {} for s in load_catalogue(PRODUCT)}
    data.update({
        "id_tt-transformers_Llama-3.1-8B-Instruct_n150": entry("N150", TT_A, "48eba14", "functional", job=1),
        "id_tt-transformers_Llama-3.1-8B-Instruct_n300": entry("N300", TT_A, "48eba14", "functional", job=2),
        # the first device with data is N300; T3K disagrees: a conflict to report
        "id_tt-transformers_Qwen3-8B_n300": entry("N300", TT_A, "48eba14", "complete", job=3),
        "id_tt-transformers_Qwen3-8B_t3k": entry("T3K", TT_B, "48eba14", "complete", run=295, job=4),
        "id_tt-transformers_Qwen3-32B_galaxy_t3k": entry("GALAXY_T3K", TT_A, "48eba14", "experimental", job=5),
        # the first weight has no data: the second weight's entry is used
        "id_tt-transformers_Llama-3.1-70B-Instruct_t3k": entry("T3K", TT_A, "48eba14", "functional", job=6),
        # a git-tag ref stays whole; `target` leaves the status as it is
        "id_llama3-70b-galaxy_Llama-3.3-70B-Instruct_galaxy": entry("GALAXY", "v0.62.1-rc2", "f00ba47", "target", job=7),
        # no status field in the template: one is added
        "id_tt-transformers_Mistral-7B-Instruct-v0.3_n300": entry("N300", TT_A, "48eba14", "functional", job=8),
        # an unknown perf_status leaves the status as it is
        "id_tt-transformers_gemma-3-27b-it_t3k": entry("T3K", TT_A, "48eba14", "unknown", job=9),
        "id_whisper_whisper-large-v3_n150": entry("N150", TT_MEDIA, None, "functional", run=296, job=10),
        "id_tt-transformers_Qwen2.5-72B-Instruct_t3k": entry("T3K", TT_A, "48eba14", "complete", job=11),
    })
    return data


def write_last_good(repo: Path, data: dict[str, Any], version: str = VERSION) -> Path:
    """Write the collect step's file, as DOMAIN §2 names it."""
    path = repo / "release_logs" / f"v{version}" / "models_ci_last_good_290_to_299.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def context(ledger, repo: Path, step: str = "update_spec") -> StepContext:
    """A step context on the release's current state."""
    return StepContext(ledger, load_state(ledger, VERSION), step=step, repo=repo)


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every file of the target, by relative path (the ledger file excluded)."""
    return {str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and "ledger.sqlite" not in p.name}


def golden(name: str, text: str) -> str:
    """The golden file's text; `UPDATE_GOLDEN=1 pytest` rewrites it from `text` (then review it)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")
