"""HTTP plumbing shared by every client: one response check, URL redaction, retries.

Modelled on go-containerregistry's `transport.CheckError`: one function turns an unusable answer
into an error that names method, redacted URL, status, whether it is temporary, and a short body
excerpt. Retries come from stamina, whose backoff hook lets a `Retry-After` answer set the wait.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from release_ledger.adapters.errors import HttpError, NotFound, RateLimited, ServerError, Unauthorized

T = TypeVar("T")

# Query parameters that carry credentials in presigned storage URLs (S3, Azure, GitHub's
# artifact storage): their values never reach a message, a log or the ledger.
_SECRET_PARAMS = re.compile(r"^(x-amz-.*|sig|signature|token|access_token|se|sp|sv|sr|skoid|sktid|"
                            r"skt|ske|sks|skv|jwt|code|key|client_secret|password)$", re.I)
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-registry-auth"}
_TEMPORARY = {408, 425, 429, 500, 502, 503, 504}
# Credentials a server or proxy may echo back in an error body (a request dump, "Bad credentials:
# Bearer ..."): the excerpt goes into messages and, through StepFailed, into the immutable ledger.
_ECHOED_SECRETS = re.compile(
    r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})")
_BODY_EXCERPT = 200


def redact(url: str | httpx.URL) -> str:
    """Return the URL without user info and with secret query values replaced by `***`."""
    parts = urlsplit(str(url))
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode([(k, "***" if _SECRET_PARAMS.match(k) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str) -> str:
    """Text with credentials that servers echo (Bearer/Basic values, GitHub tokens) as `***`."""
    return _ECHOED_SECRETS.sub(lambda m: f"{m[1]}{m[2]}***" if m[1] else "***", text)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers safe to log: credentials replaced by `***`."""
    return {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers}


def retry_after(resp: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait as the server asked (`Retry-After` in seconds or HTTP-date, or a GitHub reset)."""
    now = time.time() if now is None else now
    value = resp.headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - now)
    if resp.headers.get("x-ratelimit-remaining") == "0" and resp.headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(resp.headers["x-ratelimit-reset"]) - now)
        except ValueError:
            return None
    return None


def _excerpt(resp: httpx.Response) -> str:
    try:
        text = resp.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""
    text = redact_text(" ".join(text.split()))
    return text[:_BODY_EXCERPT] + ("…" if len(text) > _BODY_EXCERPT else "")


def error_for(resp: httpx.Response, message: str | None = None) -> HttpError:
    """The error that an unusable response stands for (without raising it)."""
    method, url, status = resp.request.method, redact(resp.request.url), resp.status_code
    body = _excerpt(resp)
    wait = retry_after(resp)
    retry_at = time.time() + wait if wait is not None else None
    limited = status == 429 or (status == 403 and resp.headers.get("x-ratelimit-remaining") == "0")
    if limited or (status == 403 and "secondary rate limit" in body.lower()):
        return RateLimited(method, url, status, body, message, retry_at=retry_at)
    if status in (401, 403):
        return Unauthorized(method, url, status, body, message)
    if status in (404, 410):
        return NotFound(method, url, status, body, message)
    if status in _TEMPORARY or status >= 500:
        return ServerError(method, url, status, body, message, retry_at=retry_at)
    return HttpError(method, url, status, body, message)


def check_response(resp: httpx.Response, ok: Iterable[int] = ()) -> httpx.Response:
    """Return the response if it succeeded (2xx, 304 or a status in `ok`), else raise its error."""
    if resp.is_success or resp.status_code == 304 or resp.status_code in ok:
        return resp
    if not resp.is_stream_consumed:
        try:
            resp.read()
        except httpx.HTTPError:
            pass
    raise error_for(resp)


def connection_error(exc: httpx.TransportError, request: httpx.Request | None = None) -> ServerError:
    """A transport failure (reset, timeout, refused) as a temporary ServerError, URL redacted."""
    try:
        req = request or exc.request
        method, url = req.method, redact(req.url)
    except RuntimeError:
        method, url = "?", "?"
    detail = str(exc).strip()
    reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    error = ServerError(method, url, None, "",
                        f"{method} {url} failed: no answer from {urlsplit(url).netloc} "
                        f"({redact_text(reason)[:160]})")
    error.hint = "check the network, and the URLs in release.toml ([ci] / [github] api_url, [registries])"
    return error


class RetryPolicy:
    """How long and how often to retry temporary failures; `max_wait` bounds any single wait."""

    def __init__(self, attempts: int = 6, max_wait: float = 300.0, wait_initial: float = 0.5,
                 wait_max: float = 30.0):
        self.attempts, self.max_wait = attempts, max_wait
        self.wait_initial, self.wait_max = wait_initial, wait_max

    def backoff(self, exc: Exception) -> bool | float:
        """stamina's hook: False stops, True backs off, a number waits that many seconds."""
        if not isinstance(exc, HttpError) or not exc.temporary:
            return False
        if exc.retry_at is not None:
            wait = max(0.0, exc.retry_at - time.time())
            if wait > self.max_wait:
                return False  # longer than allowed: the caller gets RateLimited and says when
            return wait + 0.05
        return True


def _say_retry(details) -> None:
    """stamina's retry hook: one plain line per scheduled retry, so a slow step says why."""
    import sys

    print(f"retrying in {details.wait_for:.1f} s (attempt {details.retry_num + 1}): "
          f"{details.caused_by}", file=sys.stderr, flush=True)


def _install_retry_hook() -> None:
    import stamina.instrumentation

    # The default hook logs a bare "stamina.retry_scheduled" through `logging`; ours says what
    # failed (already redacted) and how long the wait is.
    stamina.instrumentation.set_on_retry_hooks([_say_retry])


def retrying(fn: Callable[[], T], policy: RetryPolicy | None = None) -> T:
    """Call `fn` until it succeeds, retrying temporary HttpErrors with backoff (Retry-After wins)."""
    import stamina

    _install_retry_hook()
    policy = policy or RetryPolicy()
    for attempt in stamina.retry_context(on=policy.backoff, attempts=policy.attempts,
                                         timeout=None, wait_initial=policy.wait_initial,
                                         wait_max=policy.wait_max):
        with attempt:
            return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def logging_hooks(write: Callable[[str], None]) -> dict[str, list[Callable]]:
    """httpx event hooks that say each answer (`-v`): method, redacted URL, status. Headers and
    bodies are never logged, so no credential can reach the log."""

    def on_response(response: httpx.Response) -> None:
        request = response.request
        write(f"http: {request.method} {redact(request.url)} -> {response.status_code}")

    return {"response": [on_response]}


def set_testing(on: bool = True, attempts: int = 6) -> None:
    """Switch retry waits off (tests): failures are retried at once, `attempts` times."""
    import stamina

    stamina.set_testing(on, attempts=attempts)
