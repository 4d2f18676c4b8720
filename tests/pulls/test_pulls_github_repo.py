"""Pull requests and releases through the real GitHub client against a server on 127.0.0.1."""

from __future__ import annotations

import pytest

from release_ledger.adapters.errors import Unauthorized
from release_ledger.adapters.github_repo import GitHubRepo
from release_ledger.sandbox.github_repo import close_pull

from pulls_support import TOKEN, recorded  # noqa: E402  (pytest puts this folder on sys.path)


def test_ensure_pull_opens_one_pr_per_branch(repo_api: GitHubRepo, github) -> None:
    """However often it runs, one head branch has one PR."""
    first, action = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
    for _ in range(3):
        again, _ = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
        assert again.number == first.number
    assert action == "created"
    assert github.count("POST", "/pulls") == 1


def test_ensure_pull_updates_a_changed_body_once(repo_api: GitHubRepo, github) -> None:
    """A new body is written; the same body again is not sent."""
    repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "old")
    pull, action = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "new")
    _, again = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "new")
    assert (action, again, pull.body) == ("updated", "unchanged", "new")
    assert github.count("PATCH", f"/pulls/{pull.number}") == 1


def test_duplicate_pr_422_uses_the_existing_pr(repo_api: GitHubRepo, github) -> None:
    """When the list misses a PR that exists, the 422 'already exists' leads to that PR."""
    made, _ = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
    github.faults.append(recorded(200, "empty_list"))
    found, _ = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
    assert found.number == made.number
    assert github.count("POST", "/pulls") == 2


def test_closed_unmerged_pr_is_replaced_by_a_new_one(repo_api: GitHubRepo, github) -> None:
    """A PR closed without merge does not block opening a fresh one for the branch."""
    old, _ = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
    close_pull(github.root, old.number)
    new, action = repo_api.ensure_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
    assert action == "created" and new.number != old.number


def test_get_pull_reports_open_and_unmerged(repo_api: GitHubRepo) -> None:
    """A fresh PR is open, not merged, and has a browser URL."""
    made, _ = repo_api.ensure_pull("rc-v0.4.0", "main", "Release v0.4.0", "body")
    pull = repo_api.get_pull(made.number)
    assert (pull.state, pull.merged, pull.url) == (
        "open", False, f"https://github.com/tenstorrent/tt-inference-server/pull/{made.number}")


def test_missing_scope_403_is_named(repo_api: GitHubRepo, github) -> None:
    """A token without write permission gets a sentence naming the permission, not the token."""
    github.faults.append(recorded(403, "forbidden_pulls"))
    with pytest.raises(Unauthorized) as err:
        repo_api.create_pull("pre-release-v0.4.0", "dev", "Release v0.4.0", "body")
    message = str(err.value)
    assert "lacks the permission to open a pull request" in message
    assert "pull_requests: write" in message
    assert TOKEN not in message


def test_release_created_once(repo_api: GitHubRepo, github) -> None:
    """Two runs make one release for the tag."""
    first, action = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "notes", draft=False)
    again, second = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "notes", draft=False)
    assert (action, second, again.id) == ("created", "unchanged", first.id)
    assert github.count("POST", "/releases") == 1


def test_draft_release_is_found_again_by_tag(repo_api: GitHubRepo, github) -> None:
    """A draft, invisible to releases/tags/{tag}, is still found and not duplicated."""
    first, _ = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "notes", draft=True)
    again, action = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "notes", draft=True)
    assert (again.id, action, again.draft) == (first.id, "unchanged", True)


def test_release_already_exists_422_updates_it(repo_api: GitHubRepo, github) -> None:
    """A create answered 422 already_exists updates the existing release's notes."""
    first, _ = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "old notes", draft=False)
    updated = repo_api.create_release("v0.4.0", "abc", "v0.4.0", "new notes", draft=False)
    assert (updated.id, updated.body) == (first.id, "new notes")


def test_release_notes_change_is_written(repo_api: GitHubRepo) -> None:
    """Changed notes are written to the same release."""
    first, _ = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "old", draft=False)
    again, action = repo_api.ensure_release("v0.4.0", "abc", "v0.4.0", "new", draft=False)
    assert (again.id, action, again.body) == (first.id, "updated", "new")
