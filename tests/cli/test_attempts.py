"""An aborted version can be started again: a new attempt, the same history, a whole release."""

from __future__ import annotations

import json

from click.testing import CliRunner

from release_ledger.commands.main import cli
from release_ledger.sandbox.demo import merge_open_pulls


def run(repo, *args):
    return CliRunner().invoke(cli, ["--repo", str(repo), *args])


def test_abort_then_start_of_the_same_version_is_a_second_attempt_that_completes(tmp_path):
    """abort, start --increment minor again: exit 0, attempt 2, and advance reaches released."""
    from release_ledger.sandbox.build import build_sandbox

    root = tmp_path / "sandbox"
    repo = build_sandbox(root)
    assert run(repo, "start", "--increment", "minor").exit_code == 0
    assert run(repo, "advance", "--to", "collected").exit_code == 0
    assert run(repo, "abort", "--reason", "bad CI night").exit_code == 0

    again = run(repo, "start", "--increment", "minor")
    assert again.exit_code == 0, again.stderr
    assert "started release 0.4.0 (from 0.3.0)" in again.output
    assert "release 0.4.0: started (from 0.3.0), attempt 2" in again.output
    codes = []
    for _ in range(3):
        result = run(repo, "advance", "--skip-missing")
        codes.append(result.exit_code)
        if result.exit_code != 3:
            break
        merge_open_pulls(root)
    assert codes == [3, 3, 0], result.stderr
    status = json.loads(run(repo, "status", "--json").output)
    assert status["state"] == "released"


def test_history_shows_both_attempts(tmp_path):
    """`history` of the version lists the first attempt, its abort, and the second start."""
    from release_ledger.sandbox.build import build_sandbox

    repo = build_sandbox(tmp_path / "sandbox")
    run(repo, "start", "--increment", "minor")
    run(repo, "abort", "--reason", "bad CI night")
    run(repo, "start", "--increment", "minor")
    events = json.loads(run(repo, "history", "--json").output)
    assert [e["type"] for e in events] == ["ReleaseStarted", "ReleaseAborted", "ReleaseStarted"]
    assert {e["release"] for e in events} == {"0.4.0"}
    assert "attempt" not in events[0]["payload"] and events[2]["payload"]["attempt"] == 2
    assert "version=0.4.0 attempt=2" in run(repo, "history").output


def test_a_released_version_is_not_started_again(tmp_path):
    """Only an aborted version gets a new attempt: a released one is refused naming it."""
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.stderr
    again = run(tmp_path / "demo" / "product", "start", "--version", "0.4.0")
    assert again.exit_code == 1
    assert "release 0.4.0 was already released in this ledger" in again.stderr
