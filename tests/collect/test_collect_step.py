"""The collect step through the engine: files written once, recorded, and never redone."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from release_ledger.engine.runner import advance
from release_ledger.ledger import Ledger
from release_ledger.workflows.collect.step import CiResultsWritten, ModelsCiCollected
from release_ledger.workflows.collect.last_good import load_last_good
from release_ledger.workflows.config import Config
from release_ledger.workflows.services import Services
from release_ledger.workflows.start import start
from release_ledger.workflows.steps import register_all

PRODUCT = Path(__file__).resolve().parents[2] / "sandbox" / "product"


@pytest.fixture
def release(recorded_ci, tmp_path):
    """A sandbox product at 0.3.0 with a release 0.4.0 started, reading the last 30 runs."""
    repo = tmp_path / "product"
    shutil.copytree(PRODUCT, repo)
    shutil.copytree(recorded_ci, tmp_path / "github")
    ledger = Ledger.open(tmp_path / "ledger.sqlite")
    start(ledger, repo, version="0.4.0", increment=None,
          options={"max_runs": 30, "ci_run_id": None, "full_history": False})
    register_all()
    services = Services(Config(sandbox=True), repo, cache_dir=tmp_path / "cache")
    return ledger, repo, services


def _advance(release):
    ledger, repo, services = release
    return advance(ledger, "0.4.0", to="collected", services=services, repo=repo)


def _events(ledger, cls):
    return [e.payload for e in ledger.events("0.4.0") if e.type == cls.type]


def test_advance_writes_both_files(release):
    """Reaching `collected` writes all-results and last-good for runs 290..299 under v0.4.0."""
    _advance(release)
    folder = release[1] / "release_logs" / "v0.4.0"
    assert sorted(p.name for p in folder.iterdir()) == [
        "models_ci_all_results_290_to_299.json", "models_ci_last_good_290_to_299.json"]


def test_ledger_records_runs_artifacts_and_file_hashes(release):
    """The ledger names the runs and artifacts used and the sha256 of both files."""
    _advance(release)
    ledger, repo, _ = release
    written = _events(ledger, CiResultsWritten)[0]
    data = (repo / written["last_good"]["path"]).read_bytes()
    assert written["last_good"]["sha256"] == hashlib.sha256(data).hexdigest()
    collected = _events(ledger, ModelsCiCollected)[0]
    assert [r["number"] for r in collected["runs"]] == list(range(299, 289, -1))
    assert all(len(a["sha256"]) == 64 for a in collected["artifacts"])


def test_load_last_good_reads_the_file_back(release):
    """The promotion step reads the same last-good the collect step wrote."""
    _advance(release)
    last_good = load_last_good(release[1], "0.4.0")
    written = json.loads(next((release[1] / "release_logs" / "v0.4.0").glob("*last_good*")).read_text())
    assert last_good == written and last_good["id_tt-transformers_AFM-4.5B_n150"] == {}


def test_second_advance_changes_nothing(release):
    """Advancing again to `collected` is already done: no new event, no new download."""
    _advance(release)
    ledger, _, services = release
    before = list(ledger.events("0.4.0"))
    result = _advance(release)
    assert result.already
    assert list(ledger.events("0.4.0")) == before


def test_token_never_reaches_the_ledger_or_files(release, monkeypatch):
    """With GH_PAT set, neither the ledger nor the written files nor the cache contain it."""
    monkeypatch.setenv("GH_PAT", "ghp_neverWriteMe123")
    _advance(release)
    ledger, repo, services = release
    assert all("ghp_neverWriteMe123" not in json.dumps(e.payload) for e in ledger.events("0.4.0"))
    files = list((repo / "release_logs").rglob("*")) + list(Path(services.cache_dir).rglob("*"))
    assert all("ghp_neverWriteMe123" not in p.read_text(errors="ignore") for p in files if p.is_file())


def test_resume_after_a_kill_keeps_the_runs_the_killed_attempt_selected(release):
    """A kill mid-write, then a new nightly run: the resume uses the runs chosen before the kill."""
    from release_ledger.engine.events import StepStarted
    from release_ledger.engine.releases import load_state
    from release_ledger.engine.step import StepContext
    from release_ledger.workflows.collect.step import WRITE_KEY

    ledger, repo, services = release
    # What a killed attempt left: the intent names runs 290..298 only (299 "landed later").
    collector_runs = services.ci_client().get_json(
        "/repos/tenstorrent/tt-shield/actions/workflows/on-nightly.yml/runs",
        {"per_page": 100})["workflow_runs"]
    older = [r["id"] for r in collector_runs if r["status"] == "completed"
             and r["run_number"] != 299]
    ctx = StepContext(ledger, load_state(ledger, "0.4.0"), step="collect")
    ctx.record(StepStarted(key=WRITE_KEY, step="collect", intent={"run_ids": older}))
    _advance(release)
    written = _events(ledger, CiResultsWritten)[-1]
    assert written["span"] == [290, 298]
    assert sorted(p.name for p in (repo / "release_logs" / "v0.4.0").iterdir()) == [
        "models_ci_all_results_290_to_298.json", "models_ci_last_good_290_to_298.json"]
