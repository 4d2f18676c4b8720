"""The outside world's failures, told apart: missing, refused, limited, broken, or wrong bytes."""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every adapter error; `exit_code` is what the CLI exits with."""

    exit_code = 1
    hint: str | None = None


class HttpError(AdapterError):
    """An HTTP answer we could not use; carries method, redacted URL, status and a body excerpt."""

    temporary = False
    anonymous = False  # True when the request carried no credentials (set by the client)

    def __init__(self, method: str, url: str, status: int | None, body_excerpt: str = "",
                 message: str | None = None, retry_at: float | None = None):
        self.method, self.url, self.status = method, url, status
        self.body_excerpt = body_excerpt
        self.retry_at = retry_at
        what = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(message or f"{method} {url} failed with {what}"
                         + (f": {body_excerpt}" if body_excerpt else ""))


class NotFound(HttpError):
    """404 or 410: the resource is not there (never said of an auth failure)."""


class Unauthorized(HttpError):
    """401 or 403: the credentials are missing, wrong, or lack a scope."""


class RateLimited(HttpError):
    """429, or 403 with x-ratelimit-remaining 0; `retry_at` is when to try again (epoch seconds)."""

    temporary = True


class ServerError(HttpError):
    """5xx, 408, or a connection that failed: worth a retry."""

    temporary = True


class DigestMismatch(AdapterError):
    """Bytes whose sha256 is not the digest they were asked for or announced with."""

    def __init__(self, what: str, expected: str, actual: str):
        self.expected, self.actual = expected, actual
        super().__init__(f"{what}: expected digest {expected} but the bytes hash to {actual}")


class GitError(AdapterError):
    """A git command failed or the work tree is not as required."""


class CredentialError(AdapterError):
    """Credentials could not be read (bad docker config, failing credential helper)."""


class MissingToken(AdapterError):
    """A call needs a GitHub token and no variable holds one (the message names the variables)."""
