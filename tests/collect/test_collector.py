"""The collection over the recorded sandbox CI, through the real GitHub client."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_ledger.workflows.collect.collector import Collector, summary_lines
from release_ledger.workflows.collect.last_good import LAST_GOOD_KEYS, span, targets_from_specs
from release_ledger.workflows.errors import CollectError
from release_ledger.workflows.spec.reader import load_catalogue

PRODUCT = Path(__file__).resolve().parents[2] / "sandbox" / "product"


REPO, WORKFLOW = "tenstorrent/tt-shield", "on-nightly.yml"
T = "id_tt-transformers_"


@pytest.fixture(scope="module")
def targets():
    return targets_from_specs(load_catalogue(PRODUCT))


def run_collect(client, tmp_path, targets, require_passing=True, full_history=False, **select):
    collector = Collector(client, REPO, WORKFLOW, tmp_path / "cache", require_passing=require_passing)
    runs = collector.runs(**select)
    return collector.collect(targets, runs, collector.artifacts(runs), full_history=full_history)


@pytest.fixture
def collection(make_client, tmp_path, targets):
    return run_collect(make_client(), tmp_path, targets)


def test_last_good_has_every_catalogue_model_in_order(collection, targets):
    """Keys are every catalogue model_id in catalogue order; AFM-4.5B, with no CI data, is {}."""
    assert list(collection.last_good) == [t.model_id for t in targets]
    assert collection.last_good[T + "AFM-4.5B_n150"] == {}
    assert collection.last_good[T + "AFM-4.5B_t3k"] == {}


def test_entries_have_the_exact_keys_in_order(collection):
    """Every non-empty entry has DOMAIN.md's keys in DOMAIN.md's order."""
    entries = [e for e in collection.last_good.values() if e]
    assert entries and all(tuple(e) == LAST_GOOD_KEYS for e in entries)


def test_newer_failing_run_is_passed_over(collection):
    """Qwen3-8B on N300 failed accuracy in run 299: last-good is its run 298."""
    assert collection.last_good[T + "Qwen3-8B_n300"]["ci_run_number"] == 298


def test_expired_artifact_falls_back_and_is_reported(collection):
    """gemma on T3K: 299 fails, 298 missing, 297 expired; 296 is used and the reason kept."""
    assert collection.last_good[T + "gemma-3-27b-it_t3k"]["ci_run_number"] == 296
    assert any("expired" in r for r in collection.problems[T + "gemma-3-27b-it_t3k"])


def test_corrupt_zip_falls_back_and_is_reported(collection):
    """Mistral on N300's run-298 zip is truncated: run 297 is used and the reason kept."""
    assert collection.last_good[T + "Mistral-7B-Instruct-v0.3_n300"]["ci_run_number"] == 297
    assert any("not a readable zip" in r for r in collection.problems[T + "Mistral-7B-Instruct-v0.3_n300"])


def test_unknown_job_name_falls_back_and_is_reported(collection):
    """Qwen2.5-72B on GALAXY has an unmatched job name in run 299: run 298 is used."""
    assert collection.last_good[T + "Qwen2.5-72B-Instruct_galaxy"]["ci_run_number"] == 298
    assert any("no job" in r for r in collection.problems[T + "Qwen2.5-72B-Instruct_galaxy"])


def test_galaxy_t3k_device_and_git_tag_ref(collection):
    """GALAXY_T3K keeps its underscore; the galaxy impl carries the git-tag tt-metal ref."""
    assert collection.last_good[T + "Qwen3-32B_galaxy_t3k"]["device"] == "GALAXY_T3K"
    galaxy = collection.last_good["id_llama3-70b-galaxy_Llama-3.3-70B-Instruct_galaxy"]
    assert galaxy["tt_metal_commit"] == "v0.63.0-rc5"


def test_media_model_has_null_vllm_and_firmware_from_log(collection):
    """whisper's entry has vllm_commit null and firmware/driver read from its job log."""
    entry = collection.last_good["id_whisper_whisper-large-v3_n150"]
    assert entry["vllm_commit"] is None
    assert (entry["firmware_bundle"], entry["driver_version"]) == ("18.8.0", "2.4.1")


def test_downloads_stop_at_each_models_last_good(collection):
    """Each model's artifacts are read only until its last-good; one job log per chosen entry."""
    with_data = sum(1 for e in collection.last_good.values() if e)
    read = sum(len(entries) for entries in collection.all_results.values())
    assert read < 40  # of ~250 model artifacts in the ten runs
    assert collection.counts["artifact_downloads"] == read + 2  # + the corrupt and no-evals zips
    assert collection.counts["log_downloads"] == with_data == 26


def test_warm_rerun_downloads_nothing(make_client, tmp_path, targets):
    """A second collection reuses cached artifacts and logs; every listing is a 304."""
    run_collect(make_client(), tmp_path, targets)
    again = run_collect(make_client(), tmp_path, targets)
    assert again.counts["artifact_downloads"] == 0 and again.counts["log_downloads"] == 0
    assert again.counts["not_modified"] == again.counts["requests"]


def test_every_page_of_a_big_run_is_listed(make_client, tmp_path):
    """Run 297 has 118 artifacts: all of them are listed, over two pages."""
    collector = Collector(make_client(), REPO, WORKFLOW, tmp_path / "cache")
    runs = [r for r in collector.runs(max_runs=10) if r["run_number"] == 297]
    assert len(collector.artifacts(runs)[runs[0]["id"]]) == 118


def test_max_runs_counts_completed_runs_only(make_client, tmp_path):
    """--max-runs 3 selects 297..299: run 300, still in progress, is not one of them."""
    collector = Collector(make_client(), REPO, WORKFLOW, tmp_path / "cache")
    assert span(collector.runs(max_runs=3)) == (297, 299)


def test_ci_run_id_selects_that_run_only(make_client, tmp_path, targets):
    """--ci-run-id reads one run: the span is that run and older data is not used."""
    from release_ledger.sandbox.ci_dataset import run_id_of

    collection = run_collect(make_client(), tmp_path, targets, ci_run_id=run_id_of(296))
    assert span(collection.runs) == (296, 296)
    assert {e["ci_run_number"] for e in collection.last_good.values() if e} == {296}


def test_without_require_passing_the_newest_run_wins(make_client, tmp_path, targets):
    """require_passing = false: Qwen3-8B on N300 takes its failing run 299."""
    collection = run_collect(make_client(), tmp_path, targets, require_passing=False)
    entry = collection.last_good[T + "Qwen3-8B_n300"]
    assert entry["ci_run_number"] == 299 and entry["accuracy_status"] is False


def test_full_history_parses_every_model_artifact(make_client, tmp_path, targets):
    """--full-history parses all runs' model artifacts, models outside the catalogue too."""
    collection = run_collect(make_client(), tmp_path, targets, full_history=True)
    assert len(collection.all_results[T + "Llama-3.1-8B-Instruct_n150"]) == 10
    assert T + "Llama-3.2-1B-Instruct_n150" in collection.all_results


def test_missing_workflow_stops_with_one_sentence(make_client, tmp_path):
    """A workflow that does not exist stops the collection naming it and the repository."""
    collector = Collector(make_client(), REPO, "nope.yml", tmp_path / "cache")
    with pytest.raises(CollectError, match="nope.yml.*tenstorrent/tt-shield"):
        collector.runs(max_runs=3)


def test_summary_explains_models_without_data(collection):
    """The end summary names each model left at {} and why."""
    text = "\n".join(summary_lines(collection))
    assert "26 of 28 models" in text
    assert "id_tt-transformers_AFM-4.5B_t3k: {} (no workflow_logs_* artifact" in text


def test_a_missing_workflow_asked_without_a_token_says_the_token_may_be_missing(recorded_ci, tmp_path):
    """A 404 to a call that carried no token blames the token, not only ci.repo/ci.workflow."""
    import httpx

    from release_ledger.adapters.github import GitHubClient
    from release_ledger.sandbox.transport import github_transport

    anonymous = GitHubClient(httpx.Client(transport=github_transport(recorded_ci)),
                             "https://api.github.com", None)
    collector = Collector(anonymous, REPO, "nope.yml", tmp_path / "cache")
    with pytest.raises(CollectError, match="for a call without a token .*the token may be missing"):
        collector.runs(max_runs=3)
