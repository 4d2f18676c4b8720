"""A real HTTP server on 127.0.0.1 whose answers each test scripts, and retry waits switched off."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from release_ledger.adapters.http import set_testing

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class LocalServer:
    """Routes `path -> fn(seen) -> (status, headers, body)`; records every request it gets."""

    routes: dict[str, Callable[[Seen], Answer]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def json(self, path: str, body, status: int = 200, headers: dict | None = None) -> None:
        """Answer `path` with a fixed JSON body."""
        data = json.dumps(body).encode()
        self.routes[path] = lambda seen: (status, {"content-type": "application/json",
                                                   **(headers or {})}, data)

    def script(self, path: str, answers: list[Answer]) -> None:
        """Answer `path` with each answer in turn (the last one repeats)."""
        queue = list(answers)
        self.routes[path] = lambda seen: queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(server: LocalServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen = Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
            server.seen.append(seen)
            route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
            status, headers, body = route(seen) if route else (404, {}, b'{"message":"Not Found"}')
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def _serve():
    server = LocalServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    return server, httpd


@pytest.fixture
def api():
    """The GitHub API stand-in."""
    server, httpd = _serve()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def storage():
    """A second origin standing in for GitHub's artifact storage."""
    server, httpd = _serve()
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_retry_waits():
    """Retries happen at once: tests never sleep."""
    set_testing(True, attempts=4)
    yield
    set_testing(False)


@pytest.fixture
def http():
    with httpx.Client(timeout=10) as client:
        yield client
