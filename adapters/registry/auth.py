"""Registry authentication as an `httpx.Auth` flow: answer the `WWW-Authenticate` challenge.

Follows the distribution token spec (docs/spec/auth/token.md): a 401 names a scheme. `Basic`
gets the docker login; `Bearer` names a realm and a service, and we fetch a token for the scopes
the request needs (pull on a source, pull,push on a destination, pull on a mount's `from`
repository, plus whatever scope the challenge itself asks for). Tokens are cached per scope set
and sent up front on later requests, so a copy pays the 401 round trip once per repository.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Generator
from typing import NamedTuple

import httpx

from release_ledger.adapters.errors import Unauthorized
from release_ledger.adapters.http import error_for, redact

_PATH = re.compile(r"^/v2/(?P<name>.+)/(?:manifests/[^/]+|blobs/uploads/.*|blobs/[^/]+|tags/list)$")
_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
# Tokens live 60 s unless the server says otherwise (token spec, `expires_in`); renew early.
_DEFAULT_TTL = 60.0
_MARGIN = 10.0


class Credentials(NamedTuple):
    """A user name and its secret (password or token); the secret never shows in a repr."""

    username: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, secret='***')"

    __str__ = __repr__


class Challenge(NamedTuple):
    """A parsed `WWW-Authenticate` header: the scheme and its parameters."""

    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """Parse `Bearer realm="..",service="..",scope=".."` (or `Basic realm=".."`)."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
              for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def scopes_for(request: httpx.Request, actions: str) -> dict[str, set[str]]:
    """The repository scopes a request needs: `actions` on its repository, pull on a mount source."""
    scopes: dict[str, set[str]] = {}
    match = _PATH.match(request.url.path)
    if match:
        scopes[f"repository:{match['name']}"] = set(actions.split(","))
    source = request.url.params.get("from")
    if source:
        scopes.setdefault(f"repository:{source}", set()).add("pull")
    return scopes


def merge_scope(scopes: dict[str, set[str]], text: str) -> None:
    """Add a challenge's `scope` (space-separated `type:name:actions`) to `scopes`."""
    for item in text.split():
        resource, _, acts = item.rpartition(":")
        if resource:
            scopes.setdefault(resource, set()).update(a for a in acts.split(",") if a)


def render_scopes(scopes: dict[str, set[str]]) -> tuple[str, ...]:
    """Scopes as the token endpoint wants them, in a stable order (also the cache key)."""
    return tuple(f"{res}:{','.join(sorted(acts))}" for res, acts in sorted(scopes.items()))


class RegistryAuth(httpx.Auth):
    """Basic or Bearer auth for one registry, learned from its first challenge."""

    # Upload bodies are streamed: never buffer them to be able to replay after a 401.
    requires_request_body = False
    requires_response_body = False

    def __init__(self, credentials: Credentials | None, actions: str = "pull"):
        self._credentials = credentials
        self._actions = actions
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with what we know; on a 401 challenge, authenticate and send once more."""
        scopes = scopes_for(request, self._actions)
        self._authorize(request, scopes)
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None or not _replayable(request):
            return
        with self._lock:
            self._challenge = challenge
        if challenge.scheme == "basic":
            if self._credentials is None:
                return
            request.headers["Authorization"] = self._basic()
        elif challenge.scheme == "bearer":
            own = render_scopes(scopes)
            merge_scope(scopes, challenge.params.get("scope", ""))
            token_response = yield self._token_request(challenge, scopes)
            # Kept under the request's own scopes too, so the next request finds it up front.
            self._store_token(token_response, {own, render_scopes(scopes)})
            self._authorize(request, scopes)
        else:
            return
        yield request

    def _authorize(self, request: httpx.Request, scopes: dict[str, set[str]]) -> None:
        """Attach the cached token (or Basic header) this request's scopes call for, if any."""
        challenge = self._challenge
        if challenge is None:
            return
        if challenge.scheme == "basic" and self._credentials is not None:
            request.headers["Authorization"] = self._basic()
            return
        with self._lock:
            cached = self._tokens.get(render_scopes(scopes))
        if cached and cached[1] > time.time():
            request.headers["Authorization"] = f"Bearer {cached[0]}"
        else:
            request.headers.pop("Authorization", None)

    def _basic(self) -> str:
        assert self._credentials is not None
        raw = f"{self._credentials.username}:{self._credentials.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _token_request(self, challenge: Challenge, scopes: dict[str, set[str]]) -> httpx.Request:
        """The GET to the realm for a token covering `scopes` (Basic-authenticated when we can)."""
        realm = challenge.params.get("realm")
        if not realm:
            raise Unauthorized("GET", "?", 401, "", "the registry's Bearer challenge names no realm")
        params = [("scope", s) for s in render_scopes(scopes)]
        if challenge.params.get("service"):
            params.insert(0, ("service", challenge.params["service"]))
        headers = {"Authorization": self._basic()} if self._credentials else {}
        return httpx.Request("GET", realm, params=params, headers=headers)

    def _store_token(self, response: httpx.Response, keys: set[tuple[str, ...]]) -> None:
        """Keep the token from the realm's answer; a refusal is Unauthorized, never 'missing'."""
        response.read()
        if response.status_code != 200:
            raise error_for(response, f"the token server {redact(response.request.url.copy_with(query=None))} "
                                      f"refused a token (HTTP {response.status_code})")
        try:
            body = response.json()
            token = body.get("token") or body.get("access_token")
            ttl = float(body.get("expires_in") or _DEFAULT_TTL)
        except (ValueError, AttributeError):
            token, ttl = None, 0.0
        if not token:
            raise Unauthorized("GET", redact(response.request.url.copy_with(query=None)), 200, "",
                               "the token server answered without a token")
        expires = time.time() + max(ttl - _MARGIN, 1.0)
        with self._lock:
            for key in keys:
                self._tokens[key] = (token, expires)


def _replayable(request: httpx.Request) -> bool:
    """Whether the request can be sent again (no streamed body already consumed)."""
    return isinstance(request.stream, httpx.ByteStream)
