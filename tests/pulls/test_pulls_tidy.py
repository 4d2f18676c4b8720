"""The end of a release: a checkout the engineer can simply `git pull`, with nothing lost.

Each test runs a whole sandbox release through the CLI in-process (`release demo --dir`, or
`start` + `advance` with the sandbox's PRs merged as a reviewer would), then uses real git on
the product checkout, exactly as the engineer would afterwards.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_ledger.sandbox.github_repo import merge_pull
from release_ledger.commands.main import cli
from release_ledger.ledger import Ledger
from pulls_support import GIT_ENV, REPO, VERSION

NOTES = f"release_logs/v{VERSION}/release_notes.md"
DIFF = f"release_logs/v{VERSION}/release_models_diff.md"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `cwd` as the engineer would (the result, for its exit code and output)."""
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})


def release(*args: str) -> str:
    """Run `release ARGS` in-process; return its output (exit 0 or 3 expected)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output
    return result.output


def up_to_publish(root: Path, before_publish: Callable[[Path], None] | None = None) -> Path:
    """A sandbox release up to its merged release PR; `before_publish(repo)` runs before that merge.

    Returns the product checkout.
    """
    from release_ledger.sandbox.build import build_sandbox

    repo = build_sandbox(root)
    release("--repo", str(repo), "start", "--increment", "minor")
    for number in (1, 2):
        assert "waiting for PR" in release("--repo", str(repo), "advance", "--skip-missing")
        if number == 2 and before_publish is not None:
            before_publish(repo)
        merge_pull(root / "github", number, root / "remote.git", REPO)
    return repo


def drive(root: Path, before_publish: Callable[[Path], None] | None = None) -> tuple[Path, str]:
    """A whole sandbox release: the product checkout and the output of the publishing `advance`."""
    repo = up_to_publish(root, before_publish)
    return repo, release("--repo", str(repo), "advance", "--skip-missing")


def tree_digest(repo: Path) -> dict[str, str]:
    """sha256 of every file of the checkout outside .git and the ledger."""
    return {p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts
            and not p.name.startswith("ledger.sqlite")}


def count_events(repo: Path) -> int:
    """How many events the product's ledger holds."""
    ledger = Ledger.open(repo / "release_logs" / "ledger.sqlite")
    try:
        return ledger.count()
    finally:
        ledger.close()


def tidied_event(repo: Path) -> dict:
    """The payload of the release's one WorkTreeTidied event."""
    ledger = Ledger.open(repo / "release_logs" / "ledger.sqlite")
    try:
        [payload] = [e.payload for e in ledger.events(VERSION) if e.type == "WorkTreeTidied"]
        return payload
    finally:
        ledger.close()


def edit_by_hand(repo: Path) -> None:
    """A person edits a tracked and an untracked release file after the release committed them."""
    with (repo / "README.md").open("a") as f:
        f.write("\nA note by hand.\n")
    with (repo / DIFF).open("a") as f:
        f.write("\nReviewed by hand.\n")


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The product checkout of a finished `release demo --dir`, for tests that change it."""
    release("demo", "--dir", str(tmp_path))
    return tmp_path / "product"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, str]:
    """One finished `release demo --dir` (checkout, output), for tests that only read it."""
    root = tmp_path_factory.mktemp("finished")
    return root / "product", release("demo", "--dir", str(root))


def test_git_pull_on_dev_succeeds_after_a_release(demo: Path) -> None:
    """After `release demo`, `git pull origin dev` succeeds and brings the released VERSION."""
    pulled = git(demo, "pull", "origin", "dev", check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert (demo / "VERSION").read_text() == f"{VERSION}\n"


def test_main_can_be_checked_out_and_pulled_after_a_release(demo: Path) -> None:
    """After `release demo`, `git checkout main` and `git pull origin main` both succeed."""
    assert git(demo, "checkout", "main", check=False).returncode == 0
    pulled = git(demo, "pull", "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert git(demo, "describe", "--tags").stdout.strip() == f"v{VERSION}"


def test_only_the_release_notes_stay_uncommitted(finished: tuple[Path, str]) -> None:
    """After a release the checkout shows one untracked file, the notes no commit holds."""
    status = git(finished[0], "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    assert status == [f"?? {NOTES}"]


def test_tidy_up_is_one_line_that_says_git_pull_works(finished: tuple[Path, str]) -> None:
    """The publishing `advance` says what it tidied and that `git pull` now brings the files."""
    line = next(ln for ln in finished[1].splitlines() if ln.startswith("tidied the work tree"))
    assert line == ("tidied the work tree: 3 file(s) back to HEAD, 11 removed, each held by a "
                    "pushed commit; `git pull` now brings the released files from origin")


def test_tidy_up_is_recorded_with_the_paths(finished: tuple[Path, str]) -> None:
    """The ledger records which files went back to HEAD, which were removed and which stayed."""
    event = tidied_event(finished[0])
    assert event["restored"] == ["README.md", "VERSION", "workflows/model_spec.py"]
    assert "model_specs_output.json" in event["removed"]
    assert f"release_logs/v{VERSION}/events.jsonl" in event["removed"]
    assert list(event["kept"]) == [NOTES] and event["commands"] == {}


def test_hand_edited_release_files_are_kept_and_named(tmp_path: Path) -> None:
    """A release file edited after its commit stays as edited, named with the command to run."""
    repo, output = drive(tmp_path, edit_by_hand)
    assert (repo / "README.md").read_text().endswith("\nA note by hand.\n")
    assert (repo / DIFF).read_text().endswith("\nReviewed by hand.\n")
    assert ("kept README.md: differs from the version the release committed in "
            in output)
    assert "before `git pull`: git stash push -- README.md  (after `git pull`: git stash pop)" \
        in output
    assert f"before `git pull`: mv {DIFF} {DIFF}.mine" in output
    assert "once the kept files below are set aside" in output
    assert set(tidied_event(repo)["kept"]) == {"README.md", DIFF, NOTES}


def test_named_commands_make_the_pull_work_and_keep_the_edits(tmp_path: Path) -> None:
    """Running the commands the tidy-up names, then `git pull`, keeps both edits and the release."""
    repo, _ = drive(tmp_path, edit_by_hand)
    git(repo, "stash", "push", "--", "README.md")
    (repo / DIFF).rename(repo / f"{DIFF}.mine")
    pulled = git(repo, "pull", "origin", "dev", check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert git(repo, "stash", "pop", check=False).returncode == 0
    readme = (repo / "README.md").read_text()
    assert readme.endswith("\nA note by hand.\n") and f"{VERSION}-" in readme
    assert (repo / f"{DIFF}.mine").read_text().endswith("\nReviewed by hand.\n")


def test_files_the_release_did_not_write_are_left_alone(tmp_path: Path) -> None:
    """An untracked file and an edit of a file the release never wrote survive the tidy-up."""
    def edit(repo: Path) -> None:
        (repo / "scratch.txt").write_text("mine\n")
        with (repo / "workflows" / "workflow_types.py").open("a") as f:
            f.write("# a local experiment\n")

    repo, _ = drive(tmp_path, edit)
    assert (repo / "scratch.txt").read_text() == "mine\n"
    assert (repo / "workflows/workflow_types.py").read_text().endswith("# a local experiment\n")
    status = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
    assert " M workflows/workflow_types.py" in status and "?? scratch.txt" in status


def test_advance_after_the_release_changes_nothing(demo: Path) -> None:
    """Running `advance` again once released leaves every file and the ledger as they were."""
    before, status = tree_digest(demo), git(demo, "status", "--porcelain").stdout
    events = count_events(demo)
    output = release("--repo", str(demo), "advance")
    assert "nothing to do" in output
    assert tree_digest(demo) == before
    assert git(demo, "status", "--porcelain").stdout == status
    assert count_events(demo) == events


def test_dry_run_prints_the_tidy_up_and_touches_nothing(tmp_path: Path) -> None:
    """`advance --dry-run` before publishing lists what the tidy-up would put back and keep."""
    repo = up_to_publish(tmp_path)
    before = tree_digest(repo)
    output = release("--repo", str(repo), "advance", "--dry-run")
    assert ("  put README.md, VERSION, workflows/model_spec.py back to HEAD (a pushed commit "
            "holds them)") in output
    assert "  remove model_specs_output.json, " in output
    assert "  keep release_notes.md (written after the last push" in output
    assert tree_digest(repo) == before


def test_killed_right_after_tidying_resumes_and_records_it_once(tmp_path: Path) -> None:
    """SIGKILL after the tidy-up, before its record: `advance` records every path, pull works."""
    repo = up_to_publish(tmp_path)
    point = f"publish:publish:tidy:v{VERSION}:after-effect"
    killed = subprocess.run([sys.executable, "-m", "release_ledger.commands", "--repo", str(repo), "advance"],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True,
                            text=True, env={**os.environ, "RELEASE_FAILPOINT": point})
    assert killed.returncode == -9, killed.stderr
    release("--repo", str(repo), "advance")
    event = tidied_event(repo)
    assert event["restored"] == ["README.md", "VERSION", "workflows/model_spec.py"]
    assert len(event["removed"]) == 11
    assert git(repo, "pull", "origin", "dev", check=False).returncode == 0
