"""Helpers of the PR and publish tests: a GitHub server on 127.0.0.1, git setup, a release.

The server answers from the sandbox store (`adapters.sandbox.github_repo.handle`), so the same
rules are exercised over real HTTP through our real `GitHubClient`; `faults` lets a test answer
one request differently (a recorded 403, a stale empty list) before the store sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx

from release_ledger.sandbox import github_repo as store

REPO = "tenstorrent/tt-inference-server"
TOKEN = "ghp_test_token_never_shown"
from git_support import GIT_ENV, sh  # noqa: E402,F401  (shared with tests/git)

Fault = Callable[[httpx.Request], "httpx.Response | None"]


@dataclass
class FakeGitHub:
    """The running server: its URL, the requests it saw, one-shot faults, and its store folder."""

    url: str
    root: Path
    seen: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def answer(self, request: httpx.Request, backend) -> httpx.Response:
        """Note the request, let a pending fault answer it, else the backend (404 if silent)."""
        self.seen.append((request.method, request.url.path))
        for fault in list(self.faults):
            response = fault(request)
            if response is not None:
                self.faults.remove(fault)
                return response
        return backend(request) or httpx.Response(404, json={"message": "Not Found"})

    def transport(self) -> httpx.BaseTransport:
        """The sandbox's own transport (adapters.sandbox.github_transport), faults first."""
        from release_ledger.sandbox.transport import github_transport

        sandbox = github_transport(self.root)
        return httpx.MockTransport(lambda r: self.answer(r, sandbox.handle_request))

    def count(self, method: str, path_suffix: str) -> int:
        """How many requests with this method had a path ending in `path_suffix`."""
        return sum(1 for m, p in self.seen if m == method and p.endswith(path_suffix))


def serve(github: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    """The request handler class of the server behind `github`."""
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(self.command, f"{github.url}{self.path}",
                                    headers=dict(self.headers), content=body)
            response = github.answer(request, lambda r: store.handle(r, github.root))
            payload = response.read()
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                    self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    return Handler


def recorded(status: int, name: str) -> Fault:
    """A fault answering the next request with the recorded JSON `recorded/{name}.json`."""
    body = json.loads((Path(__file__).parent / "recorded" / f"{name}.json").read_text())

    def fault(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return fault



# -- a release standing at dev-promoted, on the real engine and ledger ---------------------------

VERSION = "0.4.0"
DIFF = """# Model Spec Release Updates

| Impl | Model Arch | Weights | Devices | TT-Metal Commit Change | Status Change | CI Job Link |
|---|---|---|---|---|---|---|
| tt-transformers | Qwen3-8B | Qwen/Qwen3-8B | N150, N300, T3K | 9b67e09 → e95ffa5 | EXPERIMENTAL → FUNCTIONAL | [Run 293](https://github.com/tenstorrent/tt-shield/actions/runs/19339722549/job/55098765432) |
"""
DEV_SUMMARY = "# Release Artifacts Summary\n\nVersion v0.4.0, stage: dev (`-dev-` images).\n"
WAIVED = "ghcr.io/tenstorrent/tt-media-inference-server:0.4.0-2496be4"
LAST_GOOD = {
    "id_tt-transformers_Qwen3-8B_n150": {
        "ci_run_id": 19339722549, "ci_run_number": 293,
        "ci_run_url": "https://github.com/tenstorrent/tt-shield/actions/runs/19339722549"},
    "id_whisper_whisper-large-v3_n150": {
        "ci_run_id": 19339722000, "ci_run_number": 291,
        "ci_run_url": "https://github.com/tenstorrent/tt-shield/actions/runs/19339722000"},
    "id_tt-transformers_AFM-4.5B_n150": {},
}


@dataclass
class Release:
    """A release at dev-promoted: its ledger, checkout, services, and `advance(to)`."""

    ledger: object
    repo: Path
    remote: Path
    github: FakeGitHub
    services: object

    def advance(self, to: str | None = None, dry_run: bool = False):
        """Run `release advance [--to STATE] [--dry-run]` in process; returns the result."""
        from release_ledger.engine.runner import advance

        result = advance(self.ledger, VERSION, to=to, dry_run=dry_run, services=self.services,
                         repo=self.repo)
        return result if dry_run else result.state.state

    def state(self) -> str:
        """The release's state as the ledger says."""
        from release_ledger.engine.releases import load_state

        return load_state(self.ledger, VERSION).state

    def types(self) -> list[str]:
        """Every event type of the release, in order."""
        return [e.type for e in self.ledger.events(VERSION)]

