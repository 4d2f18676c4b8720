"""open_pr, promote_rc and publish on the real engine, a bare git remote and a GitHub on 127.0.0.1."""

from __future__ import annotations

import pytest

from release_ledger.adapters.errors import GitError, Unauthorized
from release_ledger.adapters.git import Git
from release_ledger.sandbox.github_repo import close_pull, merge_pull
from release_ledger.engine.errors import Waiting
from release_ledger.workflows.errors import WorkflowError

from pulls_support import REPO, TOKEN, VERSION, WAIVED, recorded

PR1 = f"https://github.com/{REPO}/pull/1"


def test_open_pr_pushes_the_release_files_and_opens_a_pr_to_dev(release) -> None:
    """The pre-release branch holds VERSION and the release folder, and a PR targets dev."""
    assert release.advance(to="pr-open") == "pr-open"
    remote = Git(release.remote)
    head = remote.rev_parse("refs/heads/pre-release-v0.4.0")
    assert remote.show_file(head, "VERSION") == "0.4.0\n"
    assert remote.show_file(head, "release_logs/v0.4.0/events.jsonl")
    assert remote.parents(head) == [remote.rev_parse("refs/heads/dev")]
    pull = release.services.github_client().request("GET", f"/repos/{REPO}/pulls/1").json()
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("pre-release-v0.4.0", "dev")


def test_the_ledger_never_enters_the_commit(release) -> None:
    """ledger.sqlite beside the outputs is neither dirty nor committed."""
    release.advance(to="pr-open")
    remote = Git(release.remote)
    head = remote.rev_parse("refs/heads/pre-release-v0.4.0")
    assert remote.show_file(head, "release_logs/ledger.sqlite") is None


def test_pr_body_starts_with_metadata_of_the_newest_run(release) -> None:
    """The PR body begins with the metadata comment naming the newest CI run and the version."""
    release.advance(to="pr-open")
    body = release.services.github_client().request("GET", f"/repos/{REPO}/pulls/1").json()["body"]
    assert body.startswith("<!-- metadata:run_id=19339722549 metadata:version=v0.4.0 -->\n\n"
                           "# Model Spec Release Updates")


def test_one_pr_per_branch_however_often_advance_runs(release) -> None:
    """Advancing again and again while waiting never opens a second PR nor pushes again."""
    release.advance(to="pr-open")
    pushes = Git(release.remote).rev_parse("refs/heads/pre-release-v0.4.0")
    for _ in range(3):
        with pytest.raises(Waiting):
            release.advance()
    assert release.github.count("POST", "/pulls") == 1
    assert Git(release.remote).rev_parse("refs/heads/pre-release-v0.4.0") == pushes


def test_unmerged_pr_waits_with_exit_3_and_its_url(release) -> None:
    """An open PR stops advance with exit 3 naming the PR; the state stays pr-open."""
    release.advance(to="pr-open")
    with pytest.raises(Waiting) as wait:
        release.advance()
    assert (wait.value.exit_code, str(wait.value)) == (3, f"waiting for PR #1 to be merged: {PR1}")
    assert release.state() == "pr-open"


def test_pr_closed_without_merge_suggests_abort(release) -> None:
    """A rejected PR is one clear sentence, with `release abort` in the hint."""
    release.advance(to="pr-open")
    close_pull(release.github.root, 1)
    with pytest.raises(WorkflowError) as err:
        release.advance()
    assert str(err.value).startswith("pull request #1 (" + PR1 + ") was closed without being merged")
    assert "release abort" in err.value.hint
    assert release.state() == "pr-open"


def test_dirty_tree_is_refused_naming_the_files(release) -> None:
    """A change the release did not make stops open_pr before any branch is pushed."""
    (release.repo / "notes.txt").write_text("mine\n")
    with pytest.raises(WorkflowError, match="changes the release did not make: notes.txt$"):
        release.advance(to="pr-open")
    assert Git(release.remote).rev_parse("refs/heads/pre-release-v0.4.0") is None
    assert release.state() == "dev-promoted"


def test_token_without_scope_is_named(release) -> None:
    """A 403 on opening the PR names the missing permission, never the token; state unchanged."""
    release.github.faults.append(lambda r: recorded(403, "forbidden_pulls")(r)
                                 if r.method == "POST" else None)
    with pytest.raises(Unauthorized) as err:
        release.advance(to="pr-open")
    assert "lacks the permission to open a pull request" in str(err.value)
    assert TOKEN not in str(err.value)
    assert release.state() == "dev-promoted"
    assert "StepFailed" in release.types()


def test_rerun_after_a_failed_pr_does_not_push_again(release) -> None:
    """After a failure at the PR, the next run reuses the recorded push and opens the PR."""
    release.github.faults.append(lambda r: recorded(403, "forbidden_pulls")(r)
                                 if r.method == "POST" else None)
    with pytest.raises(Unauthorized):
        release.advance(to="pr-open")
    assert release.advance(to="pr-open") == "pr-open"
    assert release.types().count("BranchPushed") == 1


def test_merged_pre_release_leads_to_the_rc_branch_and_a_pr_to_main(release) -> None:
    """After the merge, rc-v0.4.0 starts at the merge commit and a PR to main is opened."""
    release.advance(to="pr-open")
    merge = merge_pull(release.github.root, 1, release.remote)
    assert release.advance(to="rc-promoted") == "rc-promoted"
    remote = Git(release.remote)
    rc = remote.rev_parse("refs/heads/rc-v0.4.0")
    assert remote.parents(rc) == [merge]
    assert remote.show_file(rc, "release_logs/v0.4.0/release_artifacts_summary.md")
    pull = release.services.github_client().request("GET", f"/repos/{REPO}/pulls/2").json()
    assert (pull["head"]["ref"], pull["base"]["ref"]) == ("rc-v0.4.0", "main")


def test_release_pr_waits_for_its_merge(release) -> None:
    """At rc-promoted, publish waits on the PR to main with exit 3."""
    release.advance(to="pr-open")
    merge_pull(release.github.root, 1, release.remote)
    release.advance(to="rc-promoted")
    with pytest.raises(Waiting, match=f"waiting for PR #2 to be merged: https://github.com/{REPO}/pull/2"):
        release.advance()
    assert release.state() == "rc-promoted"


def _to_rc(release) -> str:
    release.advance(to="pr-open")
    merge_pull(release.github.root, 1, release.remote)
    release.advance(to="rc-promoted")
    return merge_pull(release.github.root, 2, release.remote)


def test_publish_tags_the_merge_commit_and_creates_the_release(release) -> None:
    """Once merged to main: annotated v0.4.0 at the merge commit, one published release."""
    merge = _to_rc(release)
    assert release.advance() == "released"
    remote = Git(release.remote)
    assert remote.out("cat-file", "-t", "refs/tags/v0.4.0") == "tag"
    assert remote.rev_parse("refs/tags/v0.4.0") == merge
    got = release.services.github_client().request("GET", f"/repos/{REPO}/releases/tags/v0.4.0").json()
    assert (got["draft"], got["target_commitish"]) == (False, merge)
    assert release.github.count("POST", "/releases") == 1


def test_release_notes_name_waivers_and_runs(release) -> None:
    """The published notes carry the diff's change, the waived image and the CI runs."""
    _to_rc(release)
    release.advance()
    body = release.services.github_client().request(
        "GET", f"/repos/{REPO}/releases/tags/v0.4.0").json()["body"]
    assert "| tt-transformers | Qwen3-8B |" in body
    assert f"- `{WAIVED}`" in body
    assert "- [Run 293](https://github.com/tenstorrent/tt-shield/actions/runs/19339722549)" in body


def test_tag_already_at_the_merge_commit_is_done(release, sh) -> None:
    """A v0.4.0 tag already on the remote at the merge commit is accepted, not recreated."""
    merge = _to_rc(release)
    sh(release.remote, "tag", "-a", "-m", "by hand", "v0.4.0", merge)
    assert release.advance() == "released"
    assert Git(release.remote).rev_parse("refs/tags/v0.4.0") == merge


def test_tag_at_another_commit_is_refused(release, sh) -> None:
    """A v0.4.0 tag elsewhere stops publish, naming the commit; nothing is released."""
    _to_rc(release)
    other = Git(release.remote).rev_parse("refs/heads/dev")
    sh(release.remote, "tag", "-a", "-m", "wrong", "v0.4.0", other)
    with pytest.raises(GitError, match=f"tag v0.4.0 already exists on origin at commit {other}"):
        release.advance()
    assert release.state() == "rc-promoted"
    assert release.github.count("POST", "/releases") == 0


def test_metadata_names_the_newest_run_the_collect_step_recorded(release) -> None:
    """The run ids come from ModelsCiCollected when collect recorded it, newest run first."""
    from release_ledger.workflows.collect.step import ModelsCiCollected

    runs = [{"id": 19400000000, "number": 294, "url": "https://example.invalid/294"},
            {"id": 19339722549, "number": 293, "url": "https://example.invalid/293"}]
    event = ModelsCiCollected(repo="tenstorrent/tt-shield", workflow="on-nightly.yml", runs=runs,
                              artifacts=[], problems={}, require_passing=True, full_history=False)
    release.ledger.append(VERSION, [event.to_new()])
    release.advance(to="pr-open")
    body = release.services.github_client().request("GET", f"/repos/{REPO}/pulls/1").json()["body"]
    assert body.startswith("<!-- metadata:run_id=19400000000 metadata:version=v0.4.0 -->")


def test_dry_run_plans_without_writing(release) -> None:
    """A dry run at dev-promoted lists the branch and PR, and writes no file, event or branch."""
    before = (release.types(), Git(release.repo).dirty_files())
    result = release.advance(to="pr-open", dry_run=True)
    trigger, plan = result.plans[0]
    assert trigger == "open_pr"
    assert "open or update the pull request pre-release-v0.4.0 -> dev" in plan.lines
    assert (release.types(), Git(release.repo).dirty_files()) == before
    assert Git(release.repo).rev_parse("refs/heads/pre-release-v0.4.0") is None
    assert release.github.count("POST", "/pulls") == 0


def test_release_pr_body_has_the_summary_before_the_diff(release) -> None:
    """The PR to main shows the metadata, then the release summary, then the diff (DOMAIN §6)."""
    release.advance(to="pr-open")
    merge_pull(release.github.root, 1, release.remote)
    release.advance(to="rc-promoted")
    body = release.services.github_client().request("GET", f"/repos/{REPO}/pulls/2").json()["body"]
    first, summary, diff = body.index("<!-- metadata:"), body.index("# Release Artifacts Summary"), \
        body.index("# Model Spec Release Updates")
    assert first == 0 and summary < diff
    assert (release.repo / "release_logs/v0.4.0/release_pr_body.md").read_text() == body


KILLED_RUN = """
import sys
from release_ledger.engine.runner import advance
from release_ledger.engine.registry import register_step
from release_ledger.ledger import Ledger
from release_ledger.workflows.config import Config, GitHubConfig
from release_ledger.workflows.pulls.step import OpenPrStep
from release_ledger.workflows.services import Services
repo, url, cache = sys.argv[1:4]
register_step(OpenPrStep())
config = Config(github=GitHubConfig(api_url=url, repo="tenstorrent/tt-inference-server"))
advance(Ledger.open(repo + "/release_logs/ledger.sqlite"), "0.4.0", to="pr-open",
        services=Services(config, repo, cache_dir=cache), repo=repo)
"""


def test_killed_after_the_push_is_reconciled_not_pushed_again(release, tmp_path) -> None:
    """kill -9 right after the push: the re-run finds the branch at the meant commit and goes on."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "RELEASE_FAILPOINT": "open_pr:open_pr:push:pre-release-v0.4.0:after-effect"}
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN, str(release.repo), release.github.url,
                           str(tmp_path / "cache2")], env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pushed = Git(release.remote).rev_parse("refs/heads/pre-release-v0.4.0")
    assert pushed is not None
    assert release.advance(to="pr-open") == "pr-open"
    recorded_push = [e.payload for e in release.ledger.events(VERSION) if e.type == "BranchPushed"]
    assert [p["commit"] for p in recorded_push] == [pushed]
    assert Git(release.remote).rev_parse("refs/heads/pre-release-v0.4.0") == pushed


def test_dev_moved_under_a_release_file_is_refused(release, tmp_path, sh) -> None:
    """A README change merged to dev after the checkout is never reverted by the release commit."""
    other = tmp_path / "colleague"
    sh(tmp_path, "clone", "-q", "-b", "dev", str(release.remote), str(other))
    (other / "README.md").write_text("# product\n\nA colleague's section.\n")
    sh(other, "commit", "-q", "-am", "docs")
    sh(other, "push", "-q", "origin", "dev")
    with pytest.raises(WorkflowError, match="origin/dev changed README.md since this checkout"):
        release.advance(to="pr-open")
    assert Git(release.remote).rev_parse("refs/heads/pre-release-v0.4.0") is None
