"""Fixtures for PRs, gates and publishing: a GitHub server on 127.0.0.1, a bare remote, a clone.

The server answers from the sandbox store (`adapters.sandbox.github_repo.handle`), so the same
rules are exercised over real HTTP through our real `GitHubClient`; `faults` lets a test answer
one request differently (a recorded 403, a stale empty list) before the store sees it.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from adapters import http as http_mod
from adapters.github import GitHubClient
from adapters.github_repo import GitHubRepo
from adapters.sandbox import github_repo as store

REPO = "tenstorrent/tt-inference-server"
TOKEN = "ghp_test_token_never_shown"
GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}

Fault = Callable[[httpx.Request], "httpx.Response | None"]


@dataclass
class FakeGitHub:
    """The running server: its URL, the requests it saw, one-shot faults, and its store folder."""

    url: str
    root: Path
    seen: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def count(self, method: str, path_suffix: str) -> int:
        """How many requests with this method had a path ending in `path_suffix`."""
        return sum(1 for m, p in self.seen if m == method and p.endswith(path_suffix))


def _serve(github: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(self.command, f"{github.url}{self.path}",
                                    headers=dict(self.headers), content=body)
            github.seen.append((self.command, request.url.path))
            response = None
            for fault in list(github.faults):
                response = fault(request)
                if response is not None:
                    github.faults.remove(fault)
                    break
            if response is None:
                response = store.handle(request, github.root)
            if response is None:
                response = httpx.Response(404, json={"message": "Not Found"})
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


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    http_mod.set_testing(True, attempts=2)
    yield
    http_mod.set_testing(False)


@pytest.fixture
def github(tmp_path: Path) -> Iterator[FakeGitHub]:
    """A GitHub REST server for pulls and releases on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeGitHub(url=f"http://127.0.0.1:{server.server_address[1]}", root=tmp_path / "github")
    server.RequestHandlerClass = _serve(fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(github: FakeGitHub) -> Iterator[GitHubClient]:
    """Our real GitHub client pointed at the local server."""
    with httpx.Client(timeout=10) as http:
        yield GitHubClient(http, github.url, TOKEN)


@pytest.fixture
def repo_api(client: GitHubClient) -> GitHubRepo:
    """Pull requests and releases of the product repository."""
    return GitHubRepo(client, REPO)


def recorded(status: int, name: str) -> Fault:
    """A fault answering the next request with the recorded JSON `recorded/{name}.json`."""
    body = json.loads((Path(__file__).parent / "recorded" / f"{name}.json").read_text())

    def fault(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return fault


def sh(cwd: Path, *args: str) -> str:
    """Run git in `cwd` for test setup and return its output."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


@pytest.fixture(name="sh")
def sh_fixture():
    """The `sh(cwd, *args)` helper."""
    return sh


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare remote with `main` and `dev` holding VERSION 0.3.0 and a README."""
    seed = tmp_path / "seed"
    seed.mkdir()
    sh(seed, "init", "-q", "-b", "main")
    (seed / "VERSION").write_text("0.3.0\n")
    (seed / "README.md").write_text("# product\n")
    sh(seed, "add", "VERSION", "README.md")
    sh(seed, "commit", "-q", "-m", "seed")
    sh(seed, "branch", "dev")
    bare = tmp_path / "remote.git"
    sh(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


@pytest.fixture
def checkout(tmp_path: Path, remote: Path) -> Path:
    """A clone of the remote, on `dev`."""
    work = tmp_path / "product"
    sh(tmp_path, "clone", "-q", "-b", "dev", str(remote), str(work))
    sh(work, "config", "user.name", "Test")
    sh(work, "config", "user.email", "test@example.invalid")
    return work
