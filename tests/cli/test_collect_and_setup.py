"""`release collect` (read CI, write two files, record nothing) and `demo --setup-only`."""

from __future__ import annotations

import json
import subprocess

from click.testing import CliRunner

from release_ledger.commands.main import cli
from release_ledger.ledger import Ledger


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_collect_writes_both_files_and_creates_no_ledger(tmp_path):
    """In a fresh sandbox: the all-results and last-good files under release_logs/ci/, no ledger."""
    from release_ledger.sandbox.build import build_sandbox

    repo = build_sandbox(tmp_path / "sandbox")
    result = run("--repo", str(repo), "collect")
    assert result.exit_code == 0, result.stderr
    ci = repo / "release_logs" / "ci"
    assert sorted(p.name for p in ci.iterdir()) == ["models_ci_all_results_290_to_299.json",
                                                    "models_ci_last_good_290_to_299.json"]
    assert f"wrote {ci / 'models_ci_last_good_290_to_299.json'}" in result.output
    last_good = json.loads((ci / "models_ci_last_good_290_to_299.json").read_text())
    assert "id_tt-transformers_Qwen3-8B_n150" in last_good
    assert not (repo / "release_logs" / "ledger.sqlite").exists()


def test_collect_beside_an_open_release_records_no_event(tmp_path):
    """With a release open, collect --max-runs 2 --out DIR writes there; the ledger is unchanged."""
    from release_ledger.sandbox.build import build_sandbox

    repo = build_sandbox(tmp_path / "sandbox")
    assert run("--repo", str(repo), "start", "--increment", "minor").exit_code == 0
    ledger_file = repo / "release_logs" / "ledger.sqlite"

    def rows():
        return [e.as_dict() for e in Ledger.open(ledger_file, readonly=True).events()]

    before = rows()
    out = tmp_path / "ci-files"
    result = run("--repo", str(repo), "collect", "--max-runs", "2", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["models_ci_all_results_298_to_299.json",
                                                     "models_ci_last_good_298_to_299.json"]
    assert rows() == before and len(before) == 1


def test_setup_only_lays_out_the_sandbox_and_prints_the_steps(tmp_path):
    """--setup-only builds product, remote, CI, registries and merge-prs; starts no release."""
    root = tmp_path / "sb"
    result = run("demo", "--dir", str(root), "--setup-only")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["github", "merge-prs", "product",
                                                      "registries", "remote.git"]
    assert f"  cd {root}/product" in result.output
    assert "  ../merge-prs " in result.output
    assert not (root / "product" / "release_logs" / "ledger.sqlite").exists()


def test_merge_prs_merges_the_open_pull_request_like_a_reviewer(tmp_path):
    """Driven by hand: advance waits on PR #1; ../merge-prs merges it; the next advance goes on."""
    root = tmp_path / "sb"
    run("demo", "--dir", str(root), "--setup-only")
    repo = root / "product"
    run("--repo", str(repo), "start", "--increment", "minor")
    assert run("--repo", str(repo), "advance", "--skip-missing").exit_code == 3
    merged = subprocess.run([str(root / "merge-prs")], capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout == "merged PR #1 (pre-release-v0.4.0 -> dev) as a reviewer would\n"
    after = run("--repo", str(repo), "advance")
    assert after.exit_code == 3 and "-> rc-promoted" in after.output


def test_merge_prs_outside_a_sandbox_is_one_sentence(tmp_path):
    """The reviewer script run on a folder that is no sandbox says so and exits 1."""
    from release_ledger.sandbox.demo import main

    assert main([str(tmp_path)]) == 1


def test_files_of_release_collect_never_block_a_release(tmp_path):
    """collect, then a release: its PR step does not take release_logs/ci/ for a foreign change."""
    from release_ledger.sandbox.build import build_sandbox

    repo = build_sandbox(tmp_path / "sandbox")
    assert run("--repo", str(repo), "collect", "--max-runs", "3").exit_code == 0
    run("--repo", str(repo), "start", "--increment", "minor")
    result = run("--repo", str(repo), "advance", "--skip-missing")
    assert result.exit_code == 3, result.stderr
    assert "waiting: waiting for PR #1 to be merged" in result.stderr
