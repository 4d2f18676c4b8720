"""The git adapter against a real bare remote: commits of exact paths, leased pushes, tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_ledger.adapters.errors import GitError
from release_ledger.adapters.git import Git


def test_dirty_files_lists_modified_and_untracked(git: Git, checkout: Path) -> None:
    """A modified tracked file and a new file both show as dirty, sorted."""
    (checkout / "README.md").write_text("changed\n")
    (checkout / "notes").mkdir()
    (checkout / "notes" / "a.txt").write_text("x")
    assert git.dirty_files() == ["README.md", "notes/a.txt"]


def test_clean_tree_has_no_dirty_files(git: Git) -> None:
    """A fresh clone is clean."""
    assert git.dirty_files() == []


def test_commit_paths_takes_exactly_the_given_paths(git: Git, checkout: Path) -> None:
    """Only the named paths enter the commit; other edits stay uncommitted in the work tree."""
    (checkout / "VERSION").write_text("0.4.0\n")
    (checkout / "README.md").write_text("unrelated edit\n")
    logs = checkout / "release_logs" / "v0.4.0"
    logs.mkdir(parents=True)
    (logs / "events.jsonl").write_text("{}\n")
    base = git.head()
    commit = git.commit_paths(base, ["VERSION", "release_logs/v0.4.0/"], "Release v0.4.0")
    assert git.show_file(commit, "VERSION") == "0.4.0\n"
    assert git.show_file(commit, "release_logs/v0.4.0/events.jsonl") == "{}\n"
    assert git.show_file(commit, "README.md") == "# product\n"
    assert git.parents(commit) == [base]


def test_commit_paths_leaves_head_and_checkout_alone(git: Git, checkout: Path) -> None:
    """Building the release commit does not move HEAD nor clean the work tree."""
    (checkout / "VERSION").write_text("0.4.0\n")
    base = git.head()
    git.commit_paths(base, ["VERSION"], "Release v0.4.0")
    assert git.head() == base
    assert git.dirty_files() == ["VERSION"]


def test_commit_paths_without_change_returns_base(git: Git) -> None:
    """Paths identical to the base make no empty commit."""
    base = git.head()
    assert git.commit_paths(base, ["VERSION"], "Release v0.4.0") == base


def test_commit_paths_is_deterministic_with_a_fixed_date(git: Git, checkout: Path) -> None:
    """The same content, message, identity and date give the same commit id (safe re-runs)."""
    (checkout / "VERSION").write_text("0.4.0\n")
    who = git.identity(date="2025-11-20T10:00:00+00:00")
    first = git.commit_paths(git.head(), ["VERSION"], "Release v0.4.0", who)
    again = git.commit_paths(git.head(), ["VERSION"], "Release v0.4.0", who)
    assert first == again


def test_push_creates_a_branch_that_did_not_exist(git: Git, checkout: Path, remote: Path) -> None:
    """Pushing with an empty lease creates the branch on the remote."""
    (checkout / "VERSION").write_text("0.4.0\n")
    commit = git.commit_paths(git.head(), ["VERSION"], "Release v0.4.0")
    git.push_branch("origin", commit, "pre-release-v0.4.0", expected=None)
    assert Git(remote).rev_parse("refs/heads/pre-release-v0.4.0") == commit


def test_push_again_with_the_same_commit_is_a_no_op(git: Git, checkout: Path) -> None:
    """A re-run pushing what the remote already has succeeds, whatever lease it holds."""
    (checkout / "VERSION").write_text("0.4.0\n")
    commit = git.commit_paths(git.head(), ["VERSION"], "Release v0.4.0")
    git.push_branch("origin", commit, "pre-release-v0.4.0", expected=None)
    git.push_branch("origin", commit, "pre-release-v0.4.0", expected=None)
    assert git.remote_branch("origin", "pre-release-v0.4.0") == commit


def test_push_refused_when_someone_moved_the_branch(git: Git, checkout: Path,
                                                    tmp_path: Path, remote: Path, sh) -> None:
    """A branch moved by someone else since the recorded commit is never overwritten."""
    (checkout / "VERSION").write_text("0.4.0\n")
    ours = git.commit_paths(git.head(), ["VERSION"], "Release v0.4.0")
    git.push_branch("origin", ours, "pre-release-v0.4.0", expected=None)
    other = tmp_path / "other"
    sh(tmp_path, "clone", "-q", "-b", "pre-release-v0.4.0", str(remote), str(other))
    (other / "README.md").write_text("review fix\n")
    sh(other, "commit", "-q", "-am", "review fix")
    sh(other, "push", "-q", "origin", "pre-release-v0.4.0")
    theirs = sh(other, "rev-parse", "HEAD")
    (checkout / "VERSION").write_text("0.4.1\n")
    newer = git.commit_paths(ours, ["VERSION"], "Release v0.4.1")
    with pytest.raises(GitError, match="someone else moved it"):
        git.push_branch("origin", newer, "pre-release-v0.4.0", expected=ours)
    assert git.remote_branch("origin", "pre-release-v0.4.0") == theirs


def test_fetch_branch_returns_the_remote_commit(git: Git, remote: Path) -> None:
    """Fetching dev gives the commit the remote holds."""
    assert git.fetch_branch("origin", "dev") == Git(remote).rev_parse("refs/heads/dev")


def test_fetch_of_a_missing_branch_names_it(git: Git) -> None:
    """A branch the remote lacks is one GitError naming the command."""
    with pytest.raises(GitError, match="git fetch"):
        git.fetch_branch("origin", "no-such-branch")


def test_tag_created_once(git: Git) -> None:
    """The annotated tag is made the first time and found done the second."""
    head = git.head()
    assert git.ensure_tag("v0.4.0", head, "Release v0.4.0") is True
    assert git.ensure_tag("v0.4.0", head, "Release v0.4.0") is False
    assert git.out("cat-file", "-t", "refs/tags/v0.4.0") == "tag"


def test_tag_at_another_commit_is_refused(git: Git, checkout: Path) -> None:
    """A tag already pointing elsewhere is never moved, and the error says where it is."""
    old = git.head()
    git.ensure_tag("v0.4.0", old, "Release v0.4.0")
    (checkout / "VERSION").write_text("0.4.0\n")
    new = git.commit_paths(old, ["VERSION"], "Release v0.4.0")
    with pytest.raises(GitError, match=f"already exists at commit {old}"):
        git.ensure_tag("v0.4.0", new, "Release v0.4.0")


def test_push_tag_once(git: Git, remote: Path) -> None:
    """A tag is pushed the first time and found on the remote the second."""
    git.ensure_tag("v0.4.0", git.head(), "Release v0.4.0")
    assert git.push_tag("origin", "v0.4.0") is True
    assert git.push_tag("origin", "v0.4.0") is False
    assert git.remote_tag_target("origin", "v0.4.0") == git.head()


def test_push_tag_refused_when_the_remote_tag_is_elsewhere(git: Git, checkout: Path,
                                                           tmp_path: Path, remote: Path, sh) -> None:
    """A remote tag at another commit stops the push and names both commits."""
    other = tmp_path / "other"
    sh(tmp_path, "clone", "-q", "-b", "main", str(remote), str(other))
    (other / "README.md").write_text("elsewhere\n")
    sh(other, "commit", "-q", "-am", "elsewhere")
    sh(other, "tag", "-a", "-m", "x", "v0.4.0")
    sh(other, "push", "-q", "origin", "v0.4.0")
    git.ensure_tag("v0.4.0", git.head(), "Release v0.4.0")
    with pytest.raises(GitError, match="already exists on origin at commit"):
        git.push_tag("origin", "v0.4.0")


def test_errors_never_show_credentials_in_remote_urls(git: Git) -> None:
    """A failing fetch from a URL with a token does not repeat the token."""
    git.run("remote", "add", "secret", "https://user:s3cr3t-token@127.0.0.1:1/o/r.git")
    with pytest.raises(GitError) as err:
        git.fetch_branch("secret", "dev")
    assert "s3cr3t-token" not in str(err.value)
