"""The sandbox's pull requests and releases: GitHub's REST shapes over a JSON store in a folder.

The store (`repo_store.json` in the sandbox root) persists between processes, so successive
`release` commands see the PRs and releases earlier ones made. It answers like GitHub where the
release depends on it: 422 "A pull request already exists for owner:branch" on a duplicate open
PR, 422 `already_exists` on a duplicate release tag, drafts invisible to `releases/tags/{tag}`,
`merged` only on the single-PR endpoint. `merge_pull` stands in for the person pressing "Merge":
it makes a real merge commit in the bare remote with git plumbing.
"""

from __future__ import annotations

import fcntl
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from release_ledger.adapters.errors import GitError
from release_ledger.adapters.files import write_atomic
from release_ledger.adapters.git import Git

STORE = "repo_store.json"
_ROUTE = re.compile(r"^(?P<prefix>(?:/api/v3)?)/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/"
                    r"(?P<kind>pulls|releases)(?:/(?P<rest>.+))?$")
_LOCK = threading.Lock()


def handle(request: httpx.Request, root: Path) -> httpx.Response | None:
    """Answer a pulls/releases request from the store in `root`; None for anything else."""
    match = _ROUTE.match(request.url.path)
    if match is None:
        return None
    repo = f"{match['owner']}/{match['name']}"
    api = f"{request.url.scheme}://{request.url.netloc.decode()}{match['prefix']}/repos/{repo}"
    rest = unquote(match["rest"] or "")
    with _store(Path(root)) as store:
        data = store.setdefault("repos", {}).setdefault(repo, {"pulls": [], "releases": []})
        if match["kind"] == "pulls":
            return _pulls(request, store, data, repo, api, rest)
        return _releases(request, store, data, repo, api, rest)


# -- pull requests ------------------------------------------------------------------------------

def _pulls(request: httpx.Request, store: dict, data: dict, repo: str, api: str,
           rest: str) -> httpx.Response | None:
    method = request.method
    if rest == "" and method == "GET":
        q = request.url.params
        found = [p for p in data["pulls"] if _pull_matches(p, q.get("head"), q.get("base"),
                                                           q.get("state", "open"))]
        found.sort(key=lambda p: -p["number"])  # GitHub's default: newest first
        return _json(200, [_pull_view(p, api, repo, single=False) for p in found])
    if rest == "" and method == "POST":
        return _create_pull(_body(request), store, data, repo, api)
    if rest.isdigit():
        pull = next((p for p in data["pulls"] if p["number"] == int(rest)), None)
        if pull is None:
            return None
        if method == "PATCH":
            body = _body(request)
            for key in ("title", "body", "state"):
                if key in body and not pull["merged"]:
                    pull[key] = body[key]
            pull["updated_at"] = _now()
        return _json(200, _pull_view(pull, api, repo, single=True))
    return None


def _pull_matches(pull: dict, head: str | None, base: str | None, state: str) -> bool:
    if head is not None and head not in (f"{pull['owner']}:{pull['head']}",):
        return False
    if base is not None and base != pull["base"]:
        return False
    return state == "all" or pull["state"] == state


def _create_pull(body: dict, store: dict, data: dict, repo: str, api: str) -> httpx.Response:
    missing = [k for k in ("head", "base", "title") if not body.get(k)]
    if missing:
        return _invalid(f"{missing[0]} wasn't supplied.", "PullRequest", missing[0], "missing_field")
    head = body["head"].split(":", 1)[-1]
    owner = repo.split("/")[0]
    if head == body["base"]:
        return _invalid(f"No commits between {body['base']} and {head}", "PullRequest", "head",
                        "custom")
    if any(p["head"] == head and p["base"] == body["base"] and p["state"] == "open"
           for p in data["pulls"]):
        return _invalid(f"A pull request already exists for {owner}:{head}.", "PullRequest",
                        None, "custom")
    store["next_number"] = number = store.get("next_number", 0) + 1
    now = _now()
    pull = {"number": number, "owner": owner, "head": head, "base": body["base"],
            "title": body["title"], "body": body.get("body") or "", "state": "open",
            "merged": False, "merged_at": None, "merge_commit_sha": None, "head_sha": None,
            "created_at": now, "updated_at": now, "closed_at": None}
    data["pulls"].append(pull)
    return _json(201, _pull_view(pull, api, repo, single=True))


def _pull_view(pull: dict, api: str, repo: str, single: bool) -> dict:
    """GitHub's pull-request object; `merged` is only on the single-PR endpoint, as upstream."""
    def ref(branch: str, sha: str | None) -> dict:
        return {"label": f"{pull['owner']}:{branch}", "ref": branch, "sha": sha,
                "repo": {"full_name": repo}}

    view = {"url": f"{api}/pulls/{pull['number']}", "id": 1000 + pull["number"],
            "html_url": f"https://github.com/{repo}/pull/{pull['number']}",
            "number": pull["number"], "state": pull["state"], "locked": False,
            "title": pull["title"], "user": {"login": "release-bot"}, "body": pull["body"],
            "created_at": pull["created_at"], "updated_at": pull["updated_at"],
            "closed_at": pull["closed_at"], "merged_at": pull["merged_at"],
            "merge_commit_sha": pull["merge_commit_sha"], "draft": False,
            "head": ref(pull["head"], pull["head_sha"]), "base": ref(pull["base"], None)}
    if single:
        view |= {"merged": pull["merged"], "mergeable": None}
    return view


# -- releases -----------------------------------------------------------------------------------

def _releases(request: httpx.Request, store: dict, data: dict, repo: str, api: str,
              rest: str) -> httpx.Response | None:
    method = request.method
    if rest == "" and method == "GET":
        items = sorted(data["releases"], key=lambda r: -r["id"])
        return _json(200, [_release_view(r, api, repo) for r in items])
    if rest == "" and method == "POST":
        body = _body(request)
        tag = body.get("tag_name")
        if not tag:
            return _invalid("tag_name wasn't supplied.", "Release", "tag_name", "missing_field")
        if any(r["tag_name"] == tag for r in data["releases"]):
            return _invalid("Validation Failed", "Release", "tag_name", "already_exists")
        store["next_release"] = rid = store.get("next_release", 0) + 1
        release = {"id": rid, "tag_name": tag,
                   "target_commitish": body.get("target_commitish") or "main",
                   "name": body.get("name") or tag, "body": body.get("body") or "",
                   "draft": bool(body.get("draft")), "prerelease": bool(body.get("prerelease")),
                   "created_at": _now(), "published_at": None if body.get("draft") else _now()}
        data["releases"].append(release)
        return _json(201, _release_view(release, api, repo))
    if rest.startswith("tags/") and method == "GET":
        tag = rest[len("tags/"):]
        # As on GitHub, a draft is not found by its tag.
        found = next((r for r in data["releases"] if r["tag_name"] == tag and not r["draft"]), None)
        return _json(200, _release_view(found, api, repo)) if found else None
    if rest.isdigit():
        release = next((r for r in data["releases"] if r["id"] == int(rest)), None)
        if release is None:
            return None
        if method == "PATCH":
            body = _body(request)
            for key in ("name", "body", "draft", "prerelease", "target_commitish"):
                if key in body:
                    release[key] = body[key]
            if not release["draft"] and release["published_at"] is None:
                release["published_at"] = _now()
        return _json(200, _release_view(release, api, repo))
    return None


def _release_view(release: dict, api: str, repo: str) -> dict:
    tag = release["tag_name"]
    html = (f"https://github.com/{repo}/releases/tag/{tag}" if not release["draft"]
            else f"https://github.com/{repo}/releases/tag/untagged-{release['id']}")
    return {"url": f"{api}/releases/{release['id']}", "id": release["id"], "html_url": html,
            "tag_name": tag, "target_commitish": release["target_commitish"],
            "name": release["name"], "body": release["body"], "draft": release["draft"],
            "prerelease": release["prerelease"], "created_at": release["created_at"],
            "published_at": release["published_at"], "author": {"login": "release-bot"},
            "assets": []}


# -- the demo's merge button --------------------------------------------------------------------

def merge_pull(root: Path, number: int, remote_git_dir: Path, repo: str | None = None) -> str:
    """Merge PR `number` in the bare remote (a real merge commit), mark it merged, return the commit.

    Stands in for a reviewer pressing "Merge" on GitHub. Merging an already merged PR returns
    its merge commit again.
    """
    remote = Git(remote_git_dir)
    with _store(Path(root)) as store:
        pull = _find_pull(store, number, repo)
        if pull["merged"]:
            return pull["merge_commit_sha"]
        if pull["state"] != "open":
            raise GitError(f"pull request #{number} is closed and cannot be merged")
        base_ref, head_ref = f"refs/heads/{pull['base']}", f"refs/heads/{pull['head']}"
        base, head = remote.rev_parse(base_ref), remote.rev_parse(head_ref)
        if base is None or head is None:
            missing = pull["base"] if base is None else pull["head"]
            raise GitError(f"pull request #{number}: branch {missing} is missing in {remote_git_dir}")
        proc = remote.run("merge-tree", "--write-tree", base, head, ok=(0, 1))
        if proc.returncode == 1:
            raise GitError(f"pull request #{number} has conflicts between {pull['head']} "
                           f"and {pull['base']}")
        tree = proc.stdout.split()[0]
        who = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.com",
               "GIT_COMMITTER_NAME": "GitHub", "GIT_COMMITTER_EMAIL": "noreply@github.com"}
        message = (f"Merge pull request #{number} from {pull['owner']}/{pull['head']}\n\n"
                   f"{pull['title']}\n")
        commit = remote.run("commit-tree", tree, "-p", base, "-p", head, "-F", "-", env=who,
                            input=message).stdout.strip()
        remote.run("update-ref", base_ref, commit, base)
        now = _now()
        pull.update(state="closed", merged=True, merged_at=now, closed_at=now, updated_at=now,
                    merge_commit_sha=commit, head_sha=head)
        return commit


def open_pulls(root: Path, repo: str | None = None) -> list[dict]:
    """The open pull requests in the store (of `repo`, or of every repository), by number."""
    path = Path(root) / STORE
    store = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    pulls = [p for name, data in store.get("repos", {}).items() if repo in (None, name)
             for p in data.get("pulls", []) if p.get("state") == "open"]
    return sorted(pulls, key=lambda p: p["number"])


def close_pull(root: Path, number: int, repo: str | None = None) -> None:
    """Close PR `number` without merging it (a reviewer rejecting the release)."""
    with _store(Path(root)) as store:
        pull = _find_pull(store, number, repo)
        if not pull["merged"]:
            pull.update(state="closed", closed_at=_now(), updated_at=_now())


def _find_pull(store: dict, number: int, repo: str | None) -> dict:
    for name, data in store.get("repos", {}).items():
        if repo not in (None, name):
            continue
        for pull in data["pulls"]:
            if pull["number"] == number:
                return pull
    raise GitError(f"the sandbox has no pull request #{number}")


# -- plumbing -----------------------------------------------------------------------------------

@contextmanager
def _store(root: Path) -> Iterator[dict]:
    """The store, locked against other threads and processes, written back atomically."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / STORE
    with _LOCK, open(root / f".{STORE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        store = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        before = json.dumps(store, sort_keys=True)
        yield store
        after = json.dumps(store, sort_keys=True, indent=1)
        if json.dumps(store, sort_keys=True) != before:
            # No fsync, as before: the sandbox is a stand-in for GitHub in tests and demos.
            write_atomic(path, after + "\n", fsync=False)


def _body(request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"content-type": "application/json; charset=utf-8"})


def _invalid(message: str, resource: str, field: str | None, code: str) -> httpx.Response:
    error = {"resource": resource, "code": code}
    if field:
        error["field"] = field
    if code == "custom":
        error["message"] = message
    return _json(422, {"message": "Validation Failed", "errors": [error],
                       "documentation_url": "https://docs.github.com/rest"})


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
