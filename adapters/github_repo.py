"""Pull requests and releases of the product repository, on top of `GitHubClient`.

Every write is find-first, so that any number of re-runs leaves one PR per head branch and one
release per tag (DESIGN §5): find the PR by its head branch, else create it, and a 422 "A pull
request already exists" (a PR another run just made, or a stale list) means find it and use it;
a release is found by tag (drafts too, which `releases/tags/{tag}` does not show), and a 422
`already_exists` on create means update it instead. Bodies are written only when they changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from release_ledger.adapters.errors import HttpError, NotFound, Unauthorized
from release_ledger.adapters.github import GitHubClient

T = TypeVar("T")

# What a token needs, per kind of write, in fine-grained permission and classic scope terms.
_NEEDS = {"pulls": "'pull_requests: write' (classic token: 'repo' scope)",
          "releases": "'contents: write' (classic token: 'repo' scope)"}


@dataclass(frozen=True)
class PullRequest:
    """What the release needs of a pull request."""

    number: int
    url: str
    state: str  # "open" | "closed"
    merged: bool
    merge_commit_sha: str | None
    head: str
    base: str
    head_sha: str | None
    body: str
    title: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PullRequest:
        """Read GitHub's pull-request object (from the list or the single endpoint)."""
        # The list endpoint has no `merged`; `merged_at` is set on both once merged.
        merged = bool(data.get("merged") or data.get("merged_at"))
        return cls(number=int(data["number"]), url=data.get("html_url") or data.get("url", ""),
                   state=data.get("state", "open"), merged=merged,
                   merge_commit_sha=data.get("merge_commit_sha") if merged else None,
                   head=(data.get("head") or {}).get("ref", ""),
                   base=(data.get("base") or {}).get("ref", ""),
                   head_sha=(data.get("head") or {}).get("sha"),
                   body=data.get("body") or "", title=data.get("title") or "")


@dataclass(frozen=True)
class Release:
    """What the release needs of a GitHub release."""

    id: int
    tag: str
    url: str
    draft: bool
    name: str
    body: str
    target: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        """Read GitHub's release object."""
        return cls(id=int(data["id"]), tag=data["tag_name"], url=data.get("html_url", ""),
                   draft=bool(data.get("draft")), name=data.get("name") or "",
                   body=data.get("body") or "", target=data.get("target_commitish") or "")


class GitHubRepo:
    """Pull requests and releases of one repository (`owner/name`)."""

    def __init__(self, client: GitHubClient, repo: str, token_env: str = "GH_PAT"):
        self.client, self.repo, self.token_env = client, repo, token_env
        self.owner = repo.split("/", 1)[0]

    def _path(self, tail: str) -> str:
        return f"/repos/{self.repo}/{tail}"

    def _scoped(self, kind: str, action: str, fn: Callable[[], T]) -> T:
        """Run fn; a 403 becomes a sentence naming the missing permission (never the token)."""
        try:
            return fn()
        except Unauthorized as err:
            if err.status != 403:
                raise
            msg = Unauthorized(err.method, err.url, err.status, err.body_excerpt,
                               f"the token in {self.token_env} lacks the permission to {action} in "
                               f"{self.repo} (GitHub answered 403); it needs {_NEEDS[kind]}")
            msg.hint = f"grant the token {_NEEDS[kind]} on {self.repo}, or use another token"
            raise msg from None

    # -- pull requests --------------------------------------------------------------------------

    def find_pull(self, head: str, base: str | None = None) -> PullRequest | None:
        """The PR whose head is `head` (this repository's branch): open first, else the newest."""
        params = {"head": f"{self.owner}:{head}", "state": "all"}
        if base:
            params["base"] = base
        pulls = self._scoped("pulls", "read pull requests", lambda: [
            PullRequest.from_json(p) for p in self.client.paginate(self._path("pulls"), params)])
        pulls = [p for p in pulls if p.head == head]  # GitHub ignores a malformed head filter
        if not pulls:
            return None
        # Open beats merged beats closed; among equals the newest (highest number).
        return max(pulls, key=lambda p: (p.state == "open", p.merged, p.number))

    def get_pull(self, number: int) -> PullRequest:
        """One PR by number, with its merge state."""
        resp = self._scoped("pulls", "read pull requests",
                            lambda: self.client.request("GET", self._path(f"pulls/{number}")))
        return PullRequest.from_json(resp.json())

    def create_pull(self, head: str, base: str, title: str, body: str) -> PullRequest:
        """Open a PR from `head` to `base`; if GitHub says one exists already, return that one."""
        payload = {"title": title, "head": head, "base": base, "body": body,
                   "maintainer_can_modify": True}
        resp = self._scoped("pulls", "open a pull request", lambda: self.client.request(
            "POST", self._path("pulls"), json=payload, ok=(422,)))
        if resp.status_code != 422:
            return PullRequest.from_json(resp.json())
        if "already exists" not in _messages(resp.json()):
            raise HttpError("POST", self.client.url(self._path("pulls")), 422, resp.text[:200],
                            f"GitHub refused to open a pull request from {head} to {base} in "
                            f"{self.repo}: {_messages(resp.json()) or 'HTTP 422'}")
        # DOMAIN §6: a duplicate POST /pulls is 422 "A pull request already exists for o:b".
        found = self.find_pull(head)
        if found is None:
            raise HttpError("POST", self.client.url(self._path("pulls")), 422, "",
                            f"GitHub says a pull request from {head} already exists in "
                            f"{self.repo} but none is listed for that branch")
        return found

    def update_pull_body(self, pull: PullRequest, body: str) -> PullRequest:
        """Write the PR's body, only when it differs from what the PR holds."""
        if pull.body == body:
            return pull
        resp = self._scoped("pulls", "edit a pull request", lambda: self.client.request(
            "PATCH", self._path(f"pulls/{pull.number}"), json={"body": body}))
        return PullRequest.from_json(resp.json())

    def ensure_pull(self, head: str, base: str, title: str, body: str) -> tuple[PullRequest, str]:
        """Find or open the PR from `head` to `base` with `body`; also say what was done.

        The action is "created", "updated" (body rewritten) or "unchanged". A merged PR is
        returned as it is: its body is history.
        """
        pull = self.find_pull(head)
        if pull is None or (pull.state == "closed" and not pull.merged):
            return self.create_pull(head, base, title, body), "created"
        if pull.merged or pull.body == body:
            return pull, "unchanged"
        return self.update_pull_body(pull, body), "updated"

    # -- releases -------------------------------------------------------------------------------

    def release_by_tag(self, tag: str) -> Release | None:
        """The release for `tag`, drafts included, or None."""
        def lookup() -> Release | None:
            try:
                resp = self.client.request("GET", self._path(f"releases/tags/{quote(tag)}"))
                return Release.from_json(resp.json())
            except NotFound:
                pass
            # Drafts have no tag yet, so `releases/tags/{tag}` cannot see them: scan the list.
            for item in self.client.paginate(self._path("releases")):
                if item.get("tag_name") == tag:
                    return Release.from_json(item)
            return None

        return self._scoped("releases", "read releases", lookup)

    def create_release(self, tag: str, target: str, name: str, body: str, draft: bool) -> Release:
        """Create the release for `tag`; if GitHub says it exists already, update that one."""
        payload = {"tag_name": tag, "target_commitish": target, "name": name, "body": body,
                   "draft": draft, "prerelease": False}
        resp = self._scoped("releases", "create a release", lambda: self.client.request(
            "POST", self._path("releases"), json=payload, ok=(422,)))
        if resp.status_code != 422:
            return Release.from_json(resp.json())
        if "already_exists" not in _codes(resp.json()):
            raise HttpError("POST", self.client.url(self._path("releases")), 422, resp.text[:200],
                            f"GitHub refused to create release {tag} in {self.repo}: "
                            f"{_messages(resp.json()) or 'HTTP 422'}")
        found = self.release_by_tag(tag)
        if found is None:
            raise HttpError("POST", self.client.url(self._path("releases")), 422, "",
                            f"GitHub says release {tag} already exists in {self.repo} "
                            "but it cannot be found by tag")
        return self.update_release(found, name, body, draft)

    def update_release(self, release: Release, name: str, body: str, draft: bool) -> Release:
        """Write the release's name, notes and draft flag, only when one of them differs."""
        if (release.name, release.body, release.draft) == (name, body, draft):
            return release
        resp = self._scoped("releases", "edit a release", lambda: self.client.request(
            "PATCH", self._path(f"releases/{release.id}"),
            json={"name": name, "body": body, "draft": draft}))
        return Release.from_json(resp.json())

    def ensure_release(self, tag: str, target: str, name: str, body: str,
                       draft: bool) -> tuple[Release, str]:
        """Find or create the release for `tag` with these notes; also say what was done.

        The action is "created", "updated" or "unchanged".
        """
        found = self.release_by_tag(tag)
        if found is None:
            return self.create_release(tag, target, name, body, draft), "created"
        updated = self.update_release(found, name, body, draft)
        return updated, ("unchanged" if updated is found else "updated")


def _messages(body: Any) -> str:
    """GitHub's 422 message and its `errors[].message` joined, for matching and for messages."""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message", ""))]
    parts += [str(e.get("message", "")) for e in body.get("errors", []) if isinstance(e, dict)]
    return "; ".join(p for p in parts if p)


def _codes(body: Any) -> set[str]:
    """The `errors[].code` values of a 422 answer (e.g. `already_exists`)."""
    if not isinstance(body, dict):
        return set()
    return {str(e.get("code")) for e in body.get("errors", []) if isinstance(e, dict)}
