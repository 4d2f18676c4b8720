"""A GitHub REST client on httpx: auth headers, Link pagination, ETag cache, safe redirects, limits.

Every step that talks to GitHub goes through `GitHubClient` (DOMAIN.md §2):

- `Authorization: Bearer`, `Accept: application/vnd.github+json` and `X-GitHub-Api-Version`
  go to the API origin only; a redirect to another host (artifact and log storage) is followed
  WITHOUT the token, as GitHub's presigned storage URLs require.
- Pages are followed by the `Link` header, never by guessing page sizes (upstream read one page
  of runs and one of artifacts and silently lost the rest, DOMAIN.md §7.6).
- Temporary failures (5xx, resets) are retried with backoff; rate limits (`retry-after`,
  `x-ratelimit-remaining: 0` until `x-ratelimit-reset`) are waited out up to `max_wait`, then the
  call stops with `RateLimited` saying when to retry.
- GET answers are cached on disk with their ETag, one folder per token hash (ETags are per token
  and a 304 does not count against the limit), so an unchanged resource costs a 304.
- The token never appears in `repr`, messages, cache files or logs.
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from release_ledger.adapters.errors import HttpError, RateLimited
from release_ledger.adapters.files import write_atomic
from release_ledger.adapters.http import RetryPolicy, connection_error, error_for, redact, retrying
from release_ledger.adapters.tokens import TOKEN_VARS, find_token

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
_MAX_REDIRECTS = 5
_REPO_PATH = re.compile(r"^/(?:api/v3/)?repos/([^/]+)/([^/]+)")


def token_from_env(name: str = "GH_PAT") -> str | None:
    """The GitHub token from env var `name`, else GH_PAT, GITHUB_TOKEN, GH_TOKEN (adapters.tokens);
    None when none is set."""
    found = find_token(name)
    return found[1] if found else None


def next_link(link_header: str | None) -> str | None:
    """The `rel="next"` URL of a GitHub `Link` header, or None on the last page."""
    if not link_header:
        return None
    # httpx parses Link headers; the header may come from the ETag cache, not a live response.
    return httpx.Response(200, headers={"link": link_header}).links.get("next", {}).get("url")


@dataclass
class Stats:
    """What the client sent: requests over the network, 304 answers, files downloaded."""

    requests: int = 0
    not_modified: int = 0
    downloads: int = 0
    bytes_downloaded: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to the counters (thread-safe: downloads run in parallel)."""
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)


class GitHubClient:
    """GitHub REST over a caller-built `httpx.Client` (real network, a local server, or the sandbox)."""

    def __init__(self, client: httpx.Client, api_url: str, token: str | None, *,
                 cache_dir: Path | None = None, max_wait: float = 300, concurrency: int = 8,
                 read_only_cache: bool = False):
        self._client = client
        # A dry run may use the cache but never writes to it (DESIGN §8: it writes nothing).
        self.read_only_cache = read_only_cache
        self.api_url = api_url.rstrip("/")
        self._origin = _origin(httpx.URL(self.api_url))
        self.__token = token
        self.max_wait = max_wait
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._policy = RetryPolicy(max_wait=max_wait)
        self.stats = Stats()
        # ETags are per token (DOMAIN.md §2): one cache folder per token hash, never the token.
        self._etag_dir = None
        if cache_dir is not None:
            self._etag_dir = Path(cache_dir) / "etags" / token_key(token)

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self.api_url!r}, token={'set' if self.__token else 'none'})"

    # -- plumbing -----------------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        """The absolute URL of an API path (`/repos/o/r/...`) or the URL itself if absolute."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.api_url}/{path_or_url.lstrip('/')}"

    def _headers(self, url: httpx.URL, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION}
        # The token only ever goes to the API origin: storage hosts get presigned URLs instead.
        if self.__token and _origin(url) == self._origin:
            headers["Authorization"] = f"Bearer {self.__token}"
        headers.update(extra or {})
        return headers

    def _send(self, method: str, url: str, *, params: Any = None, json: Any = None,
              headers: dict[str, str] | None = None) -> httpx.Response:
        """One logical request, following redirects by hand (auth dropped off-origin); streamed."""
        target = httpx.URL(url)
        if params:
            target = target.copy_merge_params(params)
        for _ in range(_MAX_REDIRECTS + 1):
            request = self._client.build_request(method, target, json=json,
                                                 headers=self._headers(target, headers))
            try:
                resp = self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TransportError as exc:
                raise connection_error(exc, request) from None
            self.stats.add(requests=1)
            if not (resp.is_redirect and "location" in resp.headers):
                return resp
            resp.close()
            target = target.join(resp.headers["location"])
            if resp.status_code == 303:
                method, json = "GET", None
        raise HttpError(method, redact(target), None, "",
                        f"{method} {redact(url)} redirected more than {_MAX_REDIRECTS} times")

    def _retry(self, fn, method: str, url: str):
        try:
            return retrying(fn, self._policy)
        except RateLimited as exc:
            raise _limited(exc, method, url, self.max_wait) from None

    def _check(self, resp: httpx.Response, ok=()) -> httpx.Response:
        if resp.is_success or resp.status_code == 304 or resp.status_code in ok:
            return resp
        resp.read()
        err = error_for(resp)
        if isinstance(err, RateLimited):
            raise err
        err = error_for(resp, _sentence(resp))
        # GitHub answers 404, not 401, to an anonymous call for what only a token may see.
        err.anonymous = "authorization" not in resp.request.headers
        raise err

    # -- public API ---------------------------------------------------------------------------

    def request(self, method: str, path_or_url: str, *, params: Any = None, json: Any = None,
                headers: dict[str, str] | None = None, ok=()) -> httpx.Response:
        """Send one API request (retried, rate limits honoured); raise `adapters.errors` on failure."""
        url = self.url(path_or_url)

        def once() -> httpx.Response:
            with self._slots:
                resp = self._send(method, url, params=params, json=json, headers=headers)
                try:
                    resp.read()
                except httpx.TransportError as exc:
                    raise connection_error(exc, resp.request) from None
                finally:
                    resp.close()
            if resp.status_code == 304:
                self.stats.add(not_modified=1)
            return self._check(resp, ok)

        return self._retry(once, method, url)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON resource; an unchanged one is answered from the ETag cache (a 304)."""
        return self._get_cached(self.url(path), params)[0]

    def paginate(self, path: str, params: dict[str, Any] | None = None,
                 item_key: str | None = None) -> Iterator[dict]:
        """Yield every item of a list resource, page after page by the `Link` header."""
        url: str | None = self.url(path)
        query = {"per_page": 100, **(params or {})}
        while url:
            body, link = self._get_cached(url, query)
            yield from _items(body, item_key, url)
            url, query = next_link(link), None  # the next link carries the whole query

    def download(self, path_or_url: str, dest: Path) -> Path:
        """Stream a file (artifact zip, job log) to `dest`, following a 302 to storage without auth."""
        url, dest = self.url(path_or_url), Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")

        def once() -> Path:
            # Each attempt asks the API again: the storage URL it redirects to lives one minute.
            with self._slots:
                resp = self._send("GET", url)
                try:
                    self._check(resp)
                    size = 0
                    with open(part, "wb") as fh:
                        for chunk in resp.iter_bytes(1 << 16):
                            fh.write(chunk)
                            size += len(chunk)
                except httpx.TransportError as exc:
                    raise connection_error(exc, resp.request) from None
                finally:
                    resp.close()
            os.replace(part, dest)
            self.stats.add(downloads=1, bytes_downloaded=size)
            return dest

        return self._retry(once, "GET", url)

    # -- ETag cache ---------------------------------------------------------------------------

    def _get_cached(self, url: str, params: dict[str, Any] | None) -> tuple[Any, str | None]:
        full = httpx.URL(url)
        if params:
            full = full.copy_merge_params(params)
        entry_path = self._entry_path(str(full))
        entry = _read_entry(entry_path)
        headers = {"If-None-Match": entry["etag"]} if entry else None
        resp = self.request("GET", str(full), headers=headers)
        if resp.status_code == 304 and entry:
            return entry["body"], entry.get("link")
        try:
            body = resp.json()
        except ValueError:
            raise HttpError("GET", redact(full), resp.status_code, "",
                            f"GET {redact(full)} did not answer JSON") from None
        link = resp.headers.get("link")
        if entry_path is not None and resp.headers.get("etag") and not self.read_only_cache:
            _write_entry(entry_path, {"etag": resp.headers["etag"], "link": link, "body": body})
        return body, link

    def _entry_path(self, full_url: str) -> Path | None:
        if self._etag_dir is None:
            return None
        return self._etag_dir / f"{hashlib.sha256(full_url.encode()).hexdigest()[:40]}.json"


def token_key(token: str | None) -> str:
    """A stable, non-reversible name for a token (its sha256 prefix) for per-token caches."""
    return hashlib.sha256((token or "anonymous").encode()).hexdigest()[:16]


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def _items(body: Any, item_key: str | None, url: str) -> list[dict]:
    if item_key is not None:
        return body.get(item_key, []) if isinstance(body, dict) else []
    if isinstance(body, list):
        return body
    # GitHub wraps some lists as {"total_count": N, "<things>": [...]}: take the one list.
    lists = [v for v in body.values() if isinstance(v, list)] if isinstance(body, dict) else []
    if len(lists) == 1:
        return lists[0]
    raise HttpError("GET", redact(url), 200, "", f"GET {redact(url)} did not answer a list")


def _read_entry(path: Path | None) -> dict | None:
    if path is None or not path.is_file():
        return None
    try:
        entry = jsonlib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a torn cache file is only a cache miss
    return entry if isinstance(entry, dict) and "etag" in entry else None


def _write_entry(path: Path, entry: dict) -> None:
    # No fsync: a cache entry lost to a power cut is only a cache miss.
    write_atomic(path, jsonlib.dumps(entry), fsync=False)


def _subject(url: httpx.URL) -> str:
    match = _REPO_PATH.match(url.path)
    return f"repository {match[1]}/{match[2]}" if match else url.path


def _sentence(resp: httpx.Response) -> str | None:
    """One sentence for the statuses a person must act on; None keeps the generic message."""
    url = resp.request.url
    what = f"{resp.request.method} {url.path}"
    status = resp.status_code
    if status == 401:
        return (f"GitHub rejected the token for {what} (HTTP 401): it is missing, expired or "
                f"wrong for {_subject(url)}")
    if status == 403:
        return f"GitHub denied {what} (HTTP 403): the token has no access to {_subject(url)}"
    if status == 404 and "authorization" not in resp.request.headers:
        return (f"GitHub has no {url.path} for a call without a token (HTTP 404): the token may "
                f"be missing (set {', '.join(TOKEN_VARS[:-1])} or {TOKEN_VARS[-1]}); else check "
                f"the names in {_subject(url)}")
    if status == 404:
        return (f"GitHub has no {url.path} (HTTP 404): check the names in {_subject(url)} "
                "and that the token can see it")
    if status == 410:
        return f"GitHub no longer has {url.path} (HTTP 410): it has expired"
    return None


def _limited(exc: RateLimited, method: str, url: str, max_wait: float) -> RateLimited:
    path = httpx.URL(url).path
    if exc.retry_at is not None:
        when = datetime.fromtimestamp(exc.retry_at, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        wait = max(0, round(exc.retry_at - time.time()))
        advice = f"retry after {when} (in {wait} s; --max-wait is {max_wait:g} s)"
    else:
        advice = "retry in a few minutes"
    return RateLimited(exc.method, exc.url, exc.status, exc.body_excerpt,
                       f"GitHub rate limit reached for {method} {path}; {advice}",
                       retry_at=exc.retry_at)
