"""The parser of one model's CI result, on realistic artifacts and logs and every bad case."""

from __future__ import annotations

import io
import zipfile

import pytest

from release_ledger.workflows.collect import results as ci_results
from release_ledger.workflows.collect.results import BadArtifact
from release_ledger.sandbox.ci_dataset import CiModel, artifact_zip, job_log

LLAMA = CiModel("tt-transformers", "Llama-3.1-8B-Instruct", "N150")
GALAXY = CiModel("llama3-70b-galaxy", "Llama-3.3-70B-Instruct", "GALAXY", "galaxy")
WHISPER = CiModel("whisper", "whisper-large-v3", "N150", "media")
METAL = "e95ffa59adbe39237525161272141cbbb603c686"


def _write(tmp_path, data: bytes, name="a.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_passing_artifact_summary(tmp_path):
    """A good artifact gives model_id, image, functional perf, accuracy and is_passing."""
    result = ci_results.read_artifact(_write(tmp_path, artifact_zip(LLAMA, 296)))
    summary = result.summary()
    assert summary["model_id"] == "id_tt-transformers_Llama-3.1-8B-Instruct_n150"
    assert summary["perf_status"] == "complete"
    assert summary["accuracy_status"] is True
    assert summary["is_passing"] is True
    assert len(summary["tt_metal_commit"]) == 40 and len(summary["vllm_commit"]) == 7


def test_runtime_model_specs_folder_is_read(tmp_path):
    """Newer artifacts keep the spec under runtime_model_specs/ and still parse."""
    result = ci_results.read_artifact(_write(tmp_path, artifact_zip(LLAMA, 297)))
    assert result.spec_path.startswith("runtime_model_specs/")


def test_failed_accuracy_is_not_passing(tmp_path):
    """An eval row with accuracy_check 3 makes accuracy false and the entry not passing."""
    summary = ci_results.read_artifact(_write(tmp_path, artifact_zip(LLAMA, 296, "fail_acc"))).summary()
    assert summary["accuracy_status"] is False and summary["is_passing"] is False


def test_perf_status_picks_the_best_level_without_a_fail():
    """target has a FAIL, complete passes: perf_status is complete."""
    checks = {"target": {"ttft_check": 3, "tput_user_check": 2, "tput_check": 2},
              "complete": {"ttft_check": 2, "tput_user_check": 1, "tput_check": 2},
              "functional": {"ttft_check": 2, "tput_user_check": 2, "tput_check": 2}}
    assert ci_results.perf_status([{"target_checks": checks}]) == "complete"


def test_perf_status_with_a_missing_check_is_experimental():
    """A level lacking one of the three checks does not count."""
    checks = {"functional": {"ttft_check": 2, "tput_check": 2}}
    assert ci_results.perf_status([{"target_checks": checks}]) == "experimental"


def test_no_evals_means_no_accuracy():
    """An empty evals list is not accurate."""
    assert ci_results.accuracy_status([]) is False


def test_benchmarks_not_completed_without_target_checks():
    """A summary row without a dict target_checks means the benchmark did not complete."""
    assert ci_results.benchmarks_completed([{"ttft": 1.0, "target_checks": None}]) is False


def test_git_tag_ref_is_read_from_the_image_tag():
    """A tt-metal git tag with dashes is kept whole; the vllm commit is the 7-hex after it."""
    image = "ghcr.io/t/s/vllm-tt-metal-src-dev-ubuntu-22.04-amd64:0.3.0-v0.62.0-rc33-e3c3ae7-55012345678"
    assert ci_results.commits_from_image(image) == ("v0.62.0-rc33", "e3c3ae7")


def test_media_image_has_no_vllm_commit():
    """A tt-media-inference-server tag's third token is not a vllm commit."""
    image = f"ghcr.io/tenstorrent/tt-shield/tt-media-inference-server-dev:0.3.0-{METAL}-9c3efcf-55002992095"
    assert ci_results.commits_from_image(image) == (METAL, None)


def test_image_without_commit_tag_is_a_bad_artifact():
    """An image tag that does not hold commits is reported, naming the image."""
    with pytest.raises(BadArtifact, match="latest"):
        ci_results.commits_from_image("ghcr.io/t/s/img:latest")


def test_corrupt_zip_is_a_bad_artifact(tmp_path):
    """A truncated zip is reported as unreadable, naming the artifact."""
    path = _write(tmp_path, artifact_zip(LLAMA, 296, "corrupt"))
    with pytest.raises(BadArtifact, match="workflow_logs_x"):
        ci_results.read_artifact(path, "workflow_logs_x")


def test_report_missing_a_key_is_a_bad_artifact(tmp_path):
    """A report without evals names the file and the key."""
    path = _write(tmp_path, artifact_zip(LLAMA, 296, "missing_key"))
    with pytest.raises(BadArtifact, match="'evals'"):
        ci_results.read_artifact(path)


def test_artifact_without_spec_is_a_bad_artifact(tmp_path):
    """An artifact holding only logs says the spec JSON is missing."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("run_logs/x.log", "hello")
    with pytest.raises(BadArtifact, match="run_specs"):
        ci_results.read_artifact(_write(tmp_path, buf.getvalue()))


def test_tt_smi_json_is_read_through_timestamps_and_colours():
    """Firmware bundle and driver (without TT-KMD) come from the log's tt-smi JSON."""
    info = ci_results.parse_tt_smi(job_log(LLAMA, 296))
    assert info == {"firmware_bundle": "18.8.0", "driver_version": "2.4.1"}


def test_log_without_tt_smi_gives_nothing():
    """A log without the tt-smi-metal line leaves firmware and driver unknown."""
    assert ci_results.parse_tt_smi("2025-11-03T04:00:00Z hello\n") == {
        "firmware_bundle": None, "driver_version": None}


@pytest.mark.parametrize("name", [
    "run-release-n150 / test (release, Llama-3.1-8B-Instruct, n150, N150)",
    "run-release-n150 / run-tests (release, with_server, Llama-3.1-8B-Instruct, n150, N150)",
    "_ / vLLM / run-release-Llama-3.1-8B-Instruct-wormhole-n150",
])
def test_job_name_shapes_match(name):
    """Every job-name shape seen upstream matches its model and device."""
    assert ci_results.job_matches(name, "Llama-3.1-8B-Instruct", "N150")


def test_unknown_job_name_shape_does_not_match():
    """An unknown shape matches nothing instead of raising."""
    assert not ci_results.job_matches("nightly-n150 / shard 3 of 7", "Llama-3.1-8B-Instruct", "N150")


def test_device_with_underscore_is_split_from_the_artifact_name():
    """`..._Qwen3-32B_galaxy_t3k` is Qwen3-32B on galaxy_t3k, not on t3k."""
    assert ci_results.split_artifact_name("workflow_logs_release_Qwen3-32B_galaxy_t3k") == (
        "release", "Qwen3-32B", "galaxy_t3k")
    assert not ci_results.artifact_matches("workflow_logs_release_Qwen3-32B_galaxy_t3k",
                                           "Qwen3-32B", "T3K")
