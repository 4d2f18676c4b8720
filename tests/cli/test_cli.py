"""The CLI in-process: help, start, status/history JSON, verify, locks, config errors, abort."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from release_ledger.commands.main import COMMANDS, cli
from release_ledger.ledger import Ledger


@pytest.fixture
def product(tmp_path):
    """A minimal product checkout: a git repo with VERSION 0.3.0 and a bare `origin`."""
    repo = tmp_path / "product"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "remote.git")], check=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin",
                    str(tmp_path / "remote.git")], check=True)
    (repo / "VERSION").write_text("0.3.0\n")
    return repo


def run(repo, *args, input=None):
    return CliRunner().invoke(cli, ["--repo", str(repo), *args], input=input)


def test_help_lists_every_command_of_the_contract():
    """`release --help` names each command of DESIGN §7."""
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in ("start", "advance", "status", "history", "replay", "verify", "rollback",
                 "abort", "graph", "demo"):
        assert f"  {name}" in out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_with_an_example(name):
    """Each command's --help explains itself and shows an example."""
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_start_fixes_the_version_and_leaves_VERSION_alone(product):
    """start --increment minor records 0.4.0; VERSION still says 0.3.0."""
    result = run(product, "start", "--increment", "minor")
    assert result.exit_code == 0, result.output
    assert "started release 0.4.0 (from 0.3.0)" in result.output
    assert (product / "VERSION").read_text() == "0.3.0\n"


def test_second_start_while_one_is_open_is_refused(product):
    """Starting while 0.4.0 is open exits 1 naming it, and records nothing."""
    run(product, "start", "--increment", "minor")
    result = run(product, "start", "--increment", "major")
    assert result.exit_code == 1
    assert "error: release 0.4.0 is still open (state started)" in result.stderr
    assert Ledger.open(product / "release_logs/ledger.sqlite").count() == 1


def test_start_needs_exactly_one_version_source(product):
    """Neither --version nor --increment is a usage error (exit 2)."""
    assert run(product, "start").exit_code == 2


def test_start_rejects_a_bad_version(product):
    """--version that is not X.Y.Z is one sentence naming it."""
    result = run(product, "start", "--version", "4.0")
    assert result.exit_code == 1
    assert "--version holds '4.0', which is not a version X.Y.Z" in result.stderr


def test_status_json_has_the_documented_shape(product):
    """status --json is the stable object of DESIGN §8."""
    run(product, "start", "--version", "0.4.0")
    data = json.loads(run(product, "status", "--json").output)
    assert list(data) == ["version", "state", "next", "waiting_on", "last_event", "events"]
    assert data["version"] == "0.4.0" and data["state"] == "started"
    assert data["next"] == "collect" and data["waiting_on"] is None
    assert list(data["last_event"]) == ["seq", "type", "at"] and data["events"] == 1


def test_history_json_is_an_array_of_events(product):
    """history --json lists each event with the documented keys."""
    run(product, "start", "--version", "0.4.0")
    data = json.loads(run(product, "history", "--json").output)
    assert [list(e) for e in data] == [["seq", "release", "release_seq", "type", "payload",
                                        "actor", "at", "hash"]]
    assert data[0]["type"] == "ReleaseStarted" and data[0]["payload"]["version"] == "0.4.0"


def test_ledger_is_kept_out_of_git(product):
    """The SQLite file never makes the work tree dirty."""
    run(product, "start", "--version", "0.4.0")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=product, text=True,
                            capture_output=True).stdout
    assert "release_logs" not in status


def test_verify_exit_4_names_the_tampered_seq(product):
    """A byte changed in a stored event makes verify and replay exit 4 naming its seq."""
    run(product, "start", "--version", "0.4.0")
    run(product, "abort", "--reason", "test")
    db = sqlite3.connect(product / "release_logs/ledger.sqlite")
    db.execute("DROP TRIGGER events_append_only_update")
    db.execute("UPDATE events SET payload = replace(payload, 'test', 'tess') WHERE seq = 2")
    db.commit()
    for command in ("verify", "replay"):
        result = run(product, command)
        assert result.exit_code == 4
        assert "broken at event seq 2" in result.stderr


def test_advance_while_locked_names_the_holder(product):
    """A second advance exits 1 at once with the holder's pid and host."""
    run(product, "start", "--version", "0.4.0")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ledger = Ledger.open(product / "release_logs/ledger.sqlite")
        with ledger.lock("0.4.0", pid=holder.pid):
            result = run(product, "advance")
        assert result.exit_code == 1
        assert f"error: release 0.4.0 is locked by pid {holder.pid} on " in result.stderr
        assert " since 20" in result.stderr
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("toml,sentence", [
    ("[ci]\nrepo = 'a/b'\nbogus = 1\n", "release.toml: unknown key 'ci.bogus'"),
    ("[ci]\nmax_runs = 'many'\n", "release.toml: key 'ci.max_runs' input should be a valid integer"),
    ("[github\n", "release.toml is not valid TOML"),
])
def test_bad_config_is_one_sentence_naming_the_key(product, toml, sentence):
    """An unknown key, a wrong type or broken TOML: exit 1, the key named, nothing recorded."""
    run(product, "start", "--version", "0.4.0")
    (product / "release.toml").write_text(toml)
    result = run(product, "advance")
    assert result.exit_code == 1
    assert sentence in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # error + hint, no traceback
    assert Ledger.open(product / "release_logs/ledger.sqlite").count() == 1


def test_advance_to_a_state_already_reached(product):
    """--to a state already reached exits 0 saying so."""
    run(product, "start", "--version", "0.4.0")
    result = run(product, "advance", "--to", "started")
    assert result.exit_code == 0 and "already at started" in result.output


def test_advance_to_an_unknown_state_is_a_usage_error(product):
    """--to must name a state."""
    run(product, "start", "--version", "0.4.0")
    assert run(product, "advance", "--to", "shipped").exit_code == 2


def test_abort_ends_the_release_and_allows_a_new_one(product):
    """After abort, status says aborted and a new release can start."""
    run(product, "start", "--version", "0.4.0")
    assert run(product, "abort", "--reason", "bad CI night").exit_code == 0
    assert json.loads(run(product, "status", "--json", "0.4.0").output)["next"] is None
    assert run(product, "start", "--version", "0.4.1").exit_code == 0


def test_replay_at_shows_the_past_state(product):
    """replay --at 1 shows the state right after the first event."""
    run(product, "start", "--version", "0.4.0")
    run(product, "abort", "--reason", "x")
    result = run(product, "replay", "0.4.0", "--at", "1")
    assert result.exit_code == 0
    assert "release 0.4.0: started" in result.output


def test_graph_is_mermaid():
    """graph prints a Mermaid state diagram with every forward transition."""
    out = CliRunner().invoke(cli, ["graph"]).output
    assert out.startswith("stateDiagram-v2\n")
    assert "pr_open --> rc_promoted: promote_rc" in out


def test_status_without_a_ledger_is_one_sentence(product):
    """status before any start explains how to begin."""
    result = run(product, "status")
    assert result.exit_code == 1
    assert "no ledger at" in result.stderr and "release start" in result.stderr


@pytest.mark.parametrize("args", [["advance"], ["abort", "--reason", "x"], ["rollback"]])
def test_commands_other_than_start_create_no_ledger(product, args):
    """advance, abort and rollback before any start fail and leave no ledger file behind."""
    result = run(product, *args)
    assert result.exit_code == 1
    assert "no ledger at" in result.stderr
    assert not (product / "release_logs").exists()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_documented_in_the_readme(name):
    """The README's Commands section names every command the CLI has."""
    from pathlib import Path
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    commands = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    assert f"\n  {name} " in commands


def test_verbose_shows_each_http_answer_without_credentials(tmp_path, monkeypatch):
    """-v says each HTTP answer (method, URL, status) and never the token."""
    from release_ledger.sandbox.build import build_sandbox

    monkeypatch.setenv("GH_PAT", "ghp_" + "S3cr3t" * 6)
    repo = build_sandbox(tmp_path / "sandbox")
    assert run(repo, "start", "--increment", "minor").exit_code == 0
    result = run(repo, "-v", "advance", "--to", "collected")
    assert result.exit_code == 0, result.stderr
    assert ("http: GET https://api.github.com/repos/tenstorrent/tt-shield/actions/workflows/"
            "on-nightly.yml/runs?per_page=100 -> 200") in result.stderr
    assert "S3cr3t" not in result.stderr + result.stdout


def test_unreachable_github_says_each_retry_and_ends_in_one_sentence(product, monkeypatch):
    """With nothing listening, each retry is announced and the error names the host and a hint."""
    import socket

    monkeypatch.setenv("GH_PAT", "ghp_" + "unreachable" * 3)
    with socket.socket() as s:  # a free loopback port with no server behind it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (product / "release.toml").write_text(f'[ci]\napi_url = "http://127.0.0.1:{port}"\n')
    run(product, "start", "--version", "0.4.0")
    result = run(product, "advance", "--to", "collected")
    assert result.exit_code == 1
    assert "retrying in " in result.stderr and "(attempt 2)" in result.stderr
    assert f"failed: no answer from 127.0.0.1:{port} (ConnectError" in result.stderr
    assert "hint: check the network" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_writes_no_file_anywhere(tmp_path, monkeypatch):
    """advance --dry-run leaves the checkout, the remote, the registries and the caches as they were."""
    import hashlib
    from release_ledger.sandbox.build import build_sandbox

    repo = build_sandbox(tmp_path / "sandbox")
    assert run(repo, "start", "--increment", "minor").exit_code == 0

    def tree():
        return {str(p.relative_to(tmp_path)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(tmp_path.rglob("*")) if p.is_file()
                and not p.name.endswith(("-wal", "-shm"))}  # SQLite's own companions

    before = tree()
    result = run(repo, "advance", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "dry run: nothing was written" in result.output
    assert tree() == before


def test_demo_runs_a_whole_release_and_proves_it(tmp_path):
    """`release demo` ends released, with the hash chain and every promoted tag verified."""
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.stderr
    assert "release 0.4.0: released (from 0.3.0)" in result.output
    assert "demo: merged PR #1 as a reviewer would" in result.output
    assert "5 of 5 promoted tags at their recorded digests" in result.output
    assert "  ledger:  77 events, hash chain ok" in result.output
    tags = subprocess.run(["git", "tag", "-n1"], cwd=tmp_path / "demo" / "remote.git",
                          capture_output=True, text=True).stdout
    assert tags.startswith("v0.4.0")


def test_start_with_bad_settings_records_nothing(product):
    """A release.toml with an unknown key stops `start` with one sentence; no ledger is created."""
    (product / "release.toml").write_text("[images]\nrelease_rpeo = 'x'\n")
    result = run(product, "start", "--increment", "minor")
    assert result.exit_code == 1
    assert "release.toml: unknown key 'images.release_rpeo'" in result.stderr
    assert not (product / "release_logs").exists()


def test_demo_ends_with_a_summary_not_the_history(tmp_path):
    """The demo's last lines: states, PRs, images, tag, the sandbox and the history command."""
    root = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(root)])
    tail = result.output.split("\n\n")[-1]
    assert tail.splitlines() == [
        "release 0.4.0: released (from 0.3.0)",
        "  states:  started -> collected -> spec-updated -> dev-promoted -> pr-open -> "
        "rc-promoted -> released",
        "  PR #1:   pre-release-v0.4.0 -> dev (merged)",
        "  PR #2:   rc-v0.4.0 -> main (merged)",
        "  images:  3 dev and 3 rc promotions; 5 of 5 promoted tags at their recorded digests",
        "  tag:     v0.4.0",
        "  ledger:  77 events, hash chain ok",
        f"sandbox: {root}",
        f"history: release --repo {root / 'product'} history"]
    assert "StepStarted" not in result.output
