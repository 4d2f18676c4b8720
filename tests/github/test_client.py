"""The GitHub client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import time

import pytest

from release_ledger.adapters.errors import NotFound, RateLimited, ServerError, Unauthorized
from release_ledger.adapters.github import GitHubClient, token_from_env

TOKEN = "ghp_s3cretTOKENvalue0123456789"
RUNS = "/repos/tenstorrent/tt-shield/actions/workflows/on-nightly.yml/runs"


def client(http, api, tmp_path=None, **kw):
    return GitHubClient(http, api.url, TOKEN, cache_dir=tmp_path, **kw)


def _page(api, path, page, last, items):
    link = []
    if page < last:
        link.append(f'<{api.url}{path}?per_page=100&page={page + 1}>; rel="next"')
    link.append(f'<{api.url}{path}?per_page=100&page={last}>; rel="last"')
    return (200, {"content-type": "application/json", "link": ", ".join(link)},
            json.dumps({"total_count": 250, "artifacts": items}).encode())


def test_paginate_follows_link_header_to_the_last_page(http, api):
    """All 250 artifacts of a run come back, not only the first page of 100."""
    path = "/repos/o/r/actions/runs/1/artifacts"
    pages = {1: range(0, 100), 2: range(100, 200), 3: range(200, 250)}

    def route(seen):
        match = re.search(r"[?&]page=(\d+)", seen.path)
        page = int(match[1]) if match else 1
        return _page(api, path, page, 3, [{"id": i} for i in pages[page]])

    api.routes[path] = route
    ids = [a["id"] for a in client(http, api).paginate(path, item_key="artifacts")]
    assert ids == list(range(250))


def test_requests_carry_token_accept_and_api_version(http, api):
    """The API gets the Bearer token and GitHub's Accept and version headers."""
    api.json("/user", {"login": "me"})
    client(http, api).get_json("/user")
    headers = api.seen[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"


def test_download_follows_redirect_to_storage_without_authorization(http, api, storage, tmp_path):
    """The artifact zip comes from the storage host, which never sees the token."""
    api.routes["/repos/o/r/actions/artifacts/7/zip"] = lambda s: (
        302, {"location": f"{storage.url}/blob/7.zip?sig=abc"}, b"")
    storage.routes["/blob/7.zip"] = lambda s: (200, {"content-type": "application/zip"}, b"PK-bytes")
    dest = client(http, api).download("/repos/o/r/actions/artifacts/7/zip", tmp_path / "a.zip")
    assert dest.read_bytes() == b"PK-bytes"
    assert "authorization" not in storage.seen[0].headers
    assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_unchanged_resource_costs_a_304_answered_from_cache(http, api, tmp_path):
    """A second GET sends the ETag, gets 304, and still returns the body."""
    body = json.dumps({"id": 1, "run_number": 299}).encode()

    def route(seen):
        if seen.headers.get("if-none-match") == '"v1"':
            return 304, {"etag": '"v1"'}, b""
        return 200, {"content-type": "application/json", "etag": '"v1"'}, body

    api.routes["/repos/o/r/actions/runs/1"] = route
    gh = client(http, api, tmp_path)
    first = gh.get_json("/repos/o/r/actions/runs/1")
    second = gh.get_json("/repos/o/r/actions/runs/1")
    assert first == second == {"id": 1, "run_number": 299}
    assert gh.stats.not_modified == 1


def test_etag_cache_files_never_hold_the_token(http, api, tmp_path):
    """Cache folders are named by a hash of the token and no file contains it."""
    api.json("/repos/o/r", {"full_name": "o/r"}, headers={"etag": '"x"'})
    client(http, api, tmp_path).get_json("/repos/o/r")
    files = [p for p in tmp_path.rglob("*")]
    assert files
    assert all(TOKEN not in str(p) for p in files)
    assert all(TOKEN not in p.read_text() for p in files if p.is_file())


def test_429_with_retry_after_is_retried(http, api):
    """A secondary rate limit answered with retry-after is waited out and the call succeeds."""
    api.script("/repos/o/r", [(429, {"retry-after": "1"}, b"slow down"),
                              (200, {"content-type": "application/json"}, b'{"ok": true}')])
    assert client(http, api).get_json("/repos/o/r") == {"ok": True}
    assert len(api.seen) == 2


def test_exhausted_rate_limit_beyond_max_wait_says_when_to_retry(http, api):
    """403 with x-ratelimit-remaining 0 and a reset an hour away stops with the time to retry."""
    reset = int(time.time()) + 3600
    api.script("/repos/o/r", [(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                               b'{"message": "API rate limit exceeded"}')])
    with pytest.raises(RateLimited) as err:
        client(http, api, max_wait=60).get_json("/repos/o/r")
    assert "retry after" in str(err.value)
    assert err.value.retry_at == pytest.approx(reset, abs=2)
    assert len(api.seen) == 1


def test_server_errors_are_retried_until_success(http, api):
    """Two 502s then a 200: the caller only sees the 200."""
    bad = (502, {}, b"bad gateway")
    api.script("/repos/o/r", [bad, bad, (200, {"content-type": "application/json"}, b"[]")])
    assert client(http, api).get_json("/repos/o/r") == []
    assert len(api.seen) == 3


def test_persistent_server_error_gives_up(http, api):
    """A server that keeps failing raises ServerError after the retry budget."""
    api.script("/repos/o/r", [(500, {}, b"boom")])
    with pytest.raises(ServerError):
        client(http, api).get_json("/repos/o/r")
    assert len(api.seen) == 4


def test_401_names_the_repository_without_the_token(http, api):
    """A bad token stops with one sentence naming the repository; the token is not in it."""
    api.json(RUNS, {"message": "Bad credentials"}, status=401)
    with pytest.raises(Unauthorized) as err:
        client(http, api).get_json(RUNS)
    text = str(err.value)
    assert "tenstorrent/tt-shield" in text and "401" in text
    assert TOKEN not in text


def test_404_names_the_missing_path(http, api):
    """A missing workflow stops with one sentence naming the path and the repository."""
    with pytest.raises(NotFound) as err:
        client(http, api).get_json(RUNS)
    assert "on-nightly.yml" in str(err.value)
    assert "tenstorrent/tt-shield" in str(err.value)


def test_expired_artifact_is_not_found(http, api, tmp_path):
    """Downloading an expired artifact (410) raises NotFound saying it expired."""
    api.json("/repos/o/r/actions/artifacts/9/zip", {"message": "Artifact has expired"}, status=410)
    with pytest.raises(NotFound) as err:
        client(http, api).download("/repos/o/r/actions/artifacts/9/zip", tmp_path / "x.zip")
    assert "expired" in str(err.value)
    assert not (tmp_path / "x.zip").exists()


def test_repr_hides_the_token(http, api):
    """Printing the client shows that a token is set, never the token."""
    assert TOKEN not in repr(client(http, api))
    assert "token=set" in repr(client(http, api))


def test_token_falls_back_to_github_token(monkeypatch):
    """Without GH_PAT the token comes from GITHUB_TOKEN."""
    monkeypatch.delenv("GH_PAT", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", "abc")
    assert token_from_env() == "abc"


def test_a_404_to_a_call_without_a_token_says_the_token_may_be_missing(http, api):
    """GitHub answers 404 to anonymous calls for private things: the message says so."""
    api.json(RUNS, {"message": "Not Found"}, status=404)
    with pytest.raises(NotFound) as err:
        GitHubClient(http, api.url, None).get_json(RUNS)
    assert "for a call without a token (HTTP 404): the token may be missing" in str(err.value)
    assert "GH_PAT, GITHUB_TOKEN or GH_TOKEN" in str(err.value)


def test_token_order_is_gh_pat_then_github_token_then_gh_token(monkeypatch):
    """GH_PAT wins over GITHUB_TOKEN, which wins over GH_TOKEN; GH_TOKEN alone is read too."""
    from release_ledger.adapters.tokens import find_token

    env = {"GH_TOKEN": "c", "GITHUB_TOKEN": "b", "GH_PAT": "a"}
    assert find_token("GH_PAT", env) == ("GH_PAT", "a")
    assert find_token("GH_PAT", {"GH_TOKEN": "c", "GITHUB_TOKEN": "b"}) == ("GITHUB_TOKEN", "b")
    assert find_token("GH_PAT", {"GH_TOKEN": "c"}) == ("GH_TOKEN", "c")
    assert find_token("CI_TOKEN", {"CI_TOKEN": "d", **env}) == ("CI_TOKEN", "d")
    assert find_token("GH_PAT", {"GH_PAT": "  "}) is None
