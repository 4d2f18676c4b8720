"""A whole release against local parts, driven as a user would: `release` as a child process.

The parts are real: docker-registry 2.8 on a loopback port, a bare git remote (with an `update`
hook that logs every ref a push changes), and a GitHub REST server on 127.0.0.1 that serves the
sandbox handlers (recorded Models CI, the PR/release store) over real HTTP and logs every request.
Artifact storage is a second origin, as on GitHub, so the token must never travel there.

Effects are counted from the servers' own logs, never from our code: the registry's access log,
the GitHub server's request log, the remote's ref-update log.

Used by the reliability suites (tests/reliability/) and by benchmarks/reliability.py.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "registry"))
from registry_server import RegistryServer  # noqa: E402  (shared with tests/registry)

#: A distinctive token: any byte of it found outside the GitHub server's request headers is a leak.
TOKEN = "ghp_R3liab1lityCanaryT0ken9f8e7d6c5b4a"
PRODUCT_REPO = "tenstorrent/tt-inference-server"
VERSION = "0.4.0"
#: Fixed git dates, so every world's commits (ours, the release's, the merges) have the same ids.
GIT_DATES = {"GIT_AUTHOR_DATE": "2025-11-20T12:00:00Z", "GIT_COMMITTER_DATE": "2025-11-20T12:00:00Z"}

UPDATE_HOOK = """#!/bin/sh
# Logs every ref a push changes: the remote's own record of branch and tag writes.
echo "$1 $2 $3" >> "$GIT_DIR/ref-updates.log"
"""


# -- the GitHub server ------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One request the GitHub server (API or storage) answered."""

    origin: str  # "api" or "storage"
    method: str
    path: str
    status: int
    authorization: str | None


@dataclass
class GitHubServer:
    """GitHub's REST API and its artifact storage on two loopback ports, from a sandbox folder."""

    root: Path
    hits: list[Hit] = field(default_factory=list)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)
    api_url: str = ""
    storage_url: str = ""

    def start(self) -> "GitHubServer":
        """Serve on two free ports until `stop()`."""
        api = ThreadingHTTPServer(("127.0.0.1", 0), _github_handler(self, "api"))
        storage = ThreadingHTTPServer(("127.0.0.1", 0), _github_handler(self, "storage"))
        self.api_url = f"http://127.0.0.1:{api.server_address[1]}"
        self.storage_url = f"http://127.0.0.1:{storage.server_address[1]}"
        for server in (api, storage):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def answer(self, request: httpx.Request) -> httpx.Response:
        """The sandbox handlers' answer (recorded CI first, then pulls/releases), else a 404."""
        from release_ledger.sandbox import github_ci, github_repo

        response = github_ci.handle(request, self.root, storage_url=self.storage_url)
        if response is None:
            response = github_repo.handle(request, self.root)
        if response is None:
            body = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
            response = httpx.Response(404, json=body)
        return response

    def count(self, method: str, pattern: str, status: int | None = None) -> int:
        """Requests with this method whose path matches `pattern` (and status, if given)."""
        rx = re.compile(pattern)
        return sum(1 for h in list(self.hits) if h.method == method and rx.search(h.path)
                   and (status is None or h.status == status))


def _github_handler(server: GitHubServer, origin: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:  # noqa: C901 - one request, start to end
            body = _read_body(self)
            base = server.api_url if origin == "api" else server.storage_url
            headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
            request = httpx.Request(self.command, base + self.path, headers=headers, content=body)
            response = server.answer(request)
            data = response.content
            server.hits.append(Hit(origin, self.command, self.path.split("?")[0],
                                   response.status_code, self.headers.get("Authorization")))
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                       "content-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, *args) -> None:
            pass

    return Handler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, whether sent with Content-Length or chunked."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


# -- the fault proxy --------------------------------------------------------------------------

FAULT_KINDS = ("503", "429", "reset", "lost", "slow")


@dataclass
class FaultProxy:
    """A proxy to `upstream` that fails a share (`rate`) of requests, chosen by a seeded RNG.

    Kinds: `503` and `429` (with Retry-After) answered without forwarding; `reset` closes the
    connection before forwarding; `lost` forwards, then drops the answer (the effect happened,
    the client does not know); `slow` answers late. `script` holds one-off answers for the next
    requests matching a path part (rate limits with chosen headers).
    """

    upstream: str  # http://127.0.0.1:PORT
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 0.05
    retry_after: str = "0"
    injected: Counter = field(default_factory=Counter)
    forwarded: int = 0
    script: list[tuple] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def start(self) -> "FaultProxy":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer_next(self, method: str, path_part: str, status: int, headers: dict[str, str],
                    body: str | None = None) -> None:
        """Answer the next request matching method and path part with `status` and `headers`.

        `{authorization}` in `body` is replaced by the request's Authorization header, as a
        careless server or proxy that echoes requests in its errors would do.
        """
        with self._lock:
            self.script.append((method, path_part, status, headers, body))

    def choose(self, method: str, path: str) -> tuple[str, tuple | None]:
        with self._lock:
            for entry in self.script:
                if entry[0] == method and entry[1] in path:
                    self.script.remove(entry)
                    self.injected[f"scripted {entry[2]}"] += 1
                    return "scripted", entry
            if self.rate and self._rng.random() < self.rate:
                kind = self._rng.choice(self.kinds)
                self.injected[kind] += 1
                return kind, None
            self.forwarded += 1
            return "forward", None

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())


def _proxy_handler(proxy: FaultProxy):
    up = httpx.URL(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            body = _read_body(self)
            kind, scripted = proxy.choose(self.command, self.path)
            if kind == "reset":
                return self._drop()
            if kind in ("503", "429"):
                extra = {"Retry-After": proxy.retry_after} if kind == "429" else {}
                return self._reply(int(kind), extra, b"")
            if kind == "scripted":
                _, _, status, headers, body_text = scripted
                text = (body_text or json.dumps({"message": "API rate limit exceeded (injected)"}))
                text = text.replace("{authorization}", self.headers.get("Authorization") or "")
                return self._reply(status, headers, text.encode())
            if kind == "slow":
                time.sleep(proxy.slow_seconds)  # the injected latency itself, not a test wait
            status, headers, data = self._forward(body)
            if kind == "lost":
                return self._drop()
            self._reply(status, dict(headers), data)

        def _forward(self, body: bytes):
            conn = http.client.HTTPConnection(up.host, up.port, timeout=60)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "transfer-encoding", "content-length")}
            if body or self.command in ("PUT", "POST", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp.status, resp.getheaders(), data

        def _reply(self, status: int, headers: dict, data: bytes) -> None:
            self.send_response(status)
            for key, value in (headers.items() if isinstance(headers, dict) else headers):
                if key.lower() not in ("connection", "transfer-encoding", "content-length",
                                       "date", "server"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, *args) -> None:
            pass

    return Handler


# -- templates built once, copied per world ---------------------------------------------------


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build_template(root: Path) -> Path:
    """Dataset, product + bare remote, and a seeded registry storage under `root` (once)."""
    from release_ledger.adapters.image_factory import build_image
    from release_ledger.adapters.image_ref import ImageRef
    from release_ledger.adapters.registry.http import HttpRegistry
    from release_ledger.sandbox.build import build_product
    from release_ledger.sandbox.ci_dataset import write_dataset

    root.mkdir(parents=True, exist_ok=True)
    images = write_dataset(root / "github")
    with _env(GIT_DATES):
        build_product(root)
    registry = RegistryServer(root / "registry").start()
    try:
        with httpx.Client(timeout=30) as client:
            reg = HttpRegistry(client, registry.url, None, push=True)
            for text in images:
                ref = ImageRef.parse(text)
                seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
                build_image(reg, ref.repo, ref.tag, layers=2, layer_size=4096, seed=seed)
    finally:
        registry.stop()
    (root / "images.json").write_text(json.dumps(images))
    return root


# -- one world: one release ---------------------------------------------------------------------


@dataclass
class Run:
    """One `release` process: its arguments, exit code and output."""

    args: list[str]
    code: int
    stdout: str
    stderr: str


@dataclass
class World:
    """Everything one release touches, fresh from the template, plus the servers' logs."""

    root: Path
    github: GitHubServer
    registry: RegistryServer
    github_url: str = ""    # where release.toml sends GitHub traffic (the server or a proxy)
    registry_url: str = ""  # where release.toml sends registry traffic (the server or a proxy)
    runs: list[Run] = field(default_factory=list)
    proxies: list[FaultProxy] = field(default_factory=list)
    #: A team's PostgreSQL ledger instead of the checkout's SQLite file (tests/pg_support.py).
    ledger_url: str | None = None
    #: The checkout commands run in: "product", or another clone of the remote (`clone`).
    checkout: str = "product"

    @property
    def repo(self) -> Path:
        return self.root / self.checkout

    @property
    def remote(self) -> Path:
        return self.root / "remote.git"

    @property
    def config_file(self) -> Path:
        return self.root / "release.toml"

    @property
    def ledger_file(self) -> Path:
        return self.repo / "release_logs" / "ledger.sqlite"

    def env(self, **extra: str) -> dict[str, str]:
        """The child's environment: the token, a private cache, fixed git dates."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("RELEASE_FAILPOINT") and k not in ("GITHUB_TOKEN",)}
        env.update(GIT_DATES, GH_PAT=TOKEN, RELEASE_CACHE_DIR=str(self.root / "cache"),
                   DOCKER_CONFIG=str(self.root / "docker"), PYTHONPATH=str(ROOT), CI="1")
        env.update(extra)
        return env

    def write_config(self) -> None:
        """release.toml outside the repo (passed with --config), so every world's repo is the same."""
        self.config_file.write_text(
            "# The reliability harness: every endpoint is a local server.\n"
            "sandbox = false\n\n[ci]\n"
            f'api_url = "{self.github_url}"\n\n[github]\n'
            f'api_url = "{self.github_url}"\n\n[images]\nbuild_command = ""\n\n'
            f'[registries."ghcr.io"]\nurl = "{self.registry_url}"\n')

    def argv(self, *args: str, verbose: bool = False) -> list[str]:
        ledger = ["--ledger", self.ledger_url] if self.ledger_url else []
        return [sys.executable, "-m", "release_ledger.commands", "--repo", str(self.repo),
                "--config", str(self.config_file), *ledger, *(["-v"] if verbose else []), *args]

    def has_ledger(self) -> bool:
        """True once `start` has made the ledger (the file, or the tables in the database)."""
        if self.ledger_url is None:
            return self.ledger_file.exists()
        from release_ledger.ledger import LedgerMissing, open_ledger

        try:
            open_ledger(self.ledger_url, readonly=True).close()
        except LedgerMissing:
            return False
        return True

    def clone(self, name: str) -> Path:
        """Another engineer's checkout of the remote, on another path (on `dev`, like ours)."""
        path = self.root / name
        subprocess.run(["git", "clone", "-q", "-b", "dev", str(self.remote), str(path)],
                       check=True, env={**os.environ, **GIT_DATES})
        for key, value in (("user.name", "release sandbox"),
                           ("user.email", "sandbox@release.invalid")):
            subprocess.run(["git", "config", key, value], cwd=path, check=True)
        return path

    def release(self, *args: str, verbose: bool = False, timeout: float = 120,
                **env: str) -> Run:
        """Run `release ARGS` as a child process and record it."""
        argv = self.argv(*args, verbose=verbose)
        proc = subprocess.run(argv, cwd=ROOT, env=self.env(**env), capture_output=True,
                              text=True, timeout=timeout)
        run = Run(list(args), proc.returncode, proc.stdout, proc.stderr)
        self.runs.append(run)
        return run

    def invoke(self, *args: str, verbose: bool = False, **env: str) -> Run:
        """Run `release ARGS` in this process (CliRunner): retry waits follow adapters.http's
        testing switch, so faults cost no sleeping."""
        from click.testing import CliRunner

        from release_ledger.commands.main import cli

        argv = self.argv(*args, verbose=verbose)[3:]
        child_env = self.env(**env)
        overrides = {k: v for k, v in child_env.items() if os.environ.get(k) != v}
        result = CliRunner().invoke(cli, argv, env=overrides, catch_exceptions=True)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            stderr += "".join(traceback.format_exception(result.exception))
        run = Run(list(args), result.exit_code, result.stdout, stderr)
        self.runs.append(run)
        return run

    def spawn(self, *args: str, **env: str) -> subprocess.Popen:
        """Start `release ARGS` without waiting (concurrency, kills at random times)."""
        return subprocess.Popen(self.argv(*args), cwd=ROOT, env=self.env(**env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def merge_open_pulls(self) -> list[int]:
        """Press "Merge" on every open PR, as a reviewer would (real merge commits in the remote)."""
        from release_ledger.sandbox.github_repo import merge_pull

        numbers = [p["number"] for p in self.store().get("repos", {}).get(PRODUCT_REPO, {})
                   .get("pulls", []) if p["state"] == "open"]
        with _env(GIT_DATES):
            for number in sorted(numbers):
                merge_pull(self.root / "github", number, self.remote, PRODUCT_REPO)
        return numbers

    def store(self) -> dict:
        path = self.root / "github" / "repo_store.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def drive(self, *, first_env: dict[str, str] | None = None, always_env: dict[str, str] | None = None,
              kill_after: list[float] | None = None, max_rounds: int = 12,
              verbose: bool = False, inprocess: bool = False) -> list[Run]:
        """start (if needed), then advance until released.

        `first_env` applies to every process until one is killed (a failpoint); `kill_after`
        SIGKILLs the first advances after those many seconds each. A killed process is followed
        by the next `advance`, as a person would do after a crash; exit 3 merges the open PRs.
        """
        env, always = dict(first_env or {}), dict(always_env or {})
        delays = list(kill_after or [])
        call = self.invoke if inprocess else self.release
        done: list[Run] = []
        for _ in range(3):
            if self.has_ledger() and self.status_code() == 0:
                break
            run = call("start", "--increment", "minor", verbose=verbose, **always, **env)
            done.append(run)
            if run.code == -9:
                env = {}
            elif run.code != 0:
                raise AssertionError(f"start failed: {run.stderr}")
        for _ in range(max_rounds):
            if delays:
                run = self.timed("advance", "--skip-missing", delay=delays.pop(0), **always, **env)
            else:
                run = call("advance", "--skip-missing", verbose=verbose, **always, **env)
            done.append(run)
            if run.code == -9:
                env = {}
                continue
            if run.code == 0 and "released" in run.stdout:
                return done
            if run.code == 3 and self.merge_open_pulls():
                continue
            if run.code == 0:
                continue
            raise AssertionError(f"advance exited {run.code}: {run.stdout}\n{run.stderr}")
        raise AssertionError(f"not released after {max_rounds} rounds")

    def status_code(self) -> int:
        """Exit code of `release status` (0 once a release exists)."""
        return subprocess.run(self.argv("status"), cwd=ROOT, env=self.env(),
                              capture_output=True).returncode

    def timed(self, *args: str, delay: float, **env: str) -> Run:
        """Run `release ARGS`, SIGKILLed after `delay` seconds if still running (a power cut)."""
        proc = self.spawn(*args, **env)
        try:
            out, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        run = Run(list(args), proc.returncode, out, err)
        self.runs.append(run)
        return run

    def failpoints(self) -> list[str]:
        path = self.root / "failpoints.log"
        return path.read_text().splitlines() if path.is_file() else []

    # -- what the world looks like, normalised --------------------------------------------------

    def status(self) -> dict:
        run = self.release("status", "--json")
        return json.loads(run.stdout)

    def snapshot(self) -> dict:
        """Final state and files, with volatile fields (times, ids of events) taken out."""
        return {"state": self.status()["state"],
                "files": working_files(self.repo),
                "remote": remote_refs(self.remote),
                "pulls": normal_pulls(self.store()),
                "releases": normal_releases(self.store()),
                "registry": self.registry_tags()}

    def registry_tags(self) -> dict[str, str]:
        """Every product destination tag and its digest, read from the registry."""
        out: dict[str, str] = {}
        base = self.registry.url
        with httpx.Client(timeout=30) as client:
            for repo in ("tenstorrent/tt-inference-server/vllm-tt-metal-src-dev-ubuntu-22.04-amd64",
                         "tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64",
                         "tenstorrent/tt-media-inference-server"):
                resp = client.get(f"{base}/v2/{repo}/tags/list")
                for tag in (resp.json().get("tags") or []) if resp.status_code == 200 else []:
                    head = client.head(f"{base}/v2/{repo}/manifests/{tag}", headers={
                        "Accept": "application/vnd.oci.image.manifest.v1+json"})
                    out[f"{repo}:{tag}"] = head.headers.get("docker-content-digest", "")
        return out

    def effects(self, since: int = 0) -> dict:
        """Effects counted from the servers' own logs."""
        access = self.registry.access(since)
        tag_puts = Counter(r.path for r in access if r.method == "PUT" and "/manifests/" in r.path
                           and r.status in (200, 201))
        updates = self.remote_updates()
        return {
            "tag_puts": dict(tag_puts),
            "pulls_created": self.github.count("POST", r"/pulls$", 201),
            "releases_created": self.github.count("POST", r"/releases$", 201),
            "tag_pushes": [u for u in updates if u.startswith("refs/tags/")],
            "branch_pushes": Counter(u.split()[0] for u in updates if u.startswith("refs/heads/")),
        }

    def remote_file(self, ref: str, path: str) -> str:
        """A file's text on a branch or tag of the remote."""
        return subprocess.run(["git", "show", f"{ref}:{path}"], cwd=self.remote,
                              capture_output=True, text=True, check=True).stdout

    def tagged_commit(self, tag: str) -> str:
        """The commit the remote's tag points at."""
        return subprocess.run(["git", "rev-parse", f"{tag}^{{commit}}"], cwd=self.remote,
                              capture_output=True, text=True, check=True).stdout.strip()

    def remote_updates(self) -> list[str]:
        path = self.remote / "ref-updates.log"
        return path.read_text().splitlines() if path.is_file() else []


def working_files(repo: Path) -> dict[str, str]:
    """sha256 of each file of the checkout (not .git, not the SQLite ledger); events.jsonl normalised."""
    out: dict[str, str] = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if not path.is_file() or rel.startswith(".git/") or "/ledger.sqlite" in f"/{rel}":
            continue
        data = path.read_bytes()
        if path.name == "events.jsonl":
            data = json.dumps(normal_events(data.decode()), sort_keys=True).encode()
        out[rel] = hashlib.sha256(data).hexdigest()
    return out


#: Bookkeeping of the step protocol: a killed run legitimately has more of these.
PROTOCOL_EVENTS = {"StepStarted", "StepSucceeded", "StepFailed", "StepWaiting"}


def normal_events(jsonl: str) -> list:
    """The facts of an events export: protocol bookkeeping, times, actors and hashes left out."""
    facts = []
    for line in jsonl.splitlines():
        event = json.loads(line)
        if event["type"] in PROTOCOL_EVENTS:
            continue
        facts.append([event["type"], _strip_volatile(event["payload"])])
    return facts


_VOLATILE_KEYS = {"at", "created_at", "updated_at", "published_at", "merged_at", "closed_at",
                  # What one process moved, not what the world holds: a copy reconciled after a
                  # kill moved nothing itself (the registry log proves the tag was written once).
                  "bytes_mounted", "bytes_uploaded"}
#: Commits whose tree holds events.jsonl (which holds times) have ids that differ from run to
#: run; their trees are compared file by file instead (`remote_refs`).
_COMMIT_KEYS = {"commit", "base", "merge_commit_sha", "head_sha", "target_commitish"}
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def _strip_volatile(value):
    if isinstance(value, dict):
        return {k: ("<commit>" if k in _COMMIT_KEYS and isinstance(v, str) and _SHA1.match(v)
                    else _strip_volatile(v))
                for k, v in value.items() if k not in _VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def remote_refs(remote: Path) -> dict[str, dict[str, str]]:
    """Each branch and tag of the remote: its files (blob ids), events.jsonl normalised."""
    out: dict[str, dict[str, str]] = {}
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)"], cwd=remote,
                          capture_output=True, text=True, check=True).stdout.split()
    for ref in refs:
        listing = subprocess.run(["git", "ls-tree", "-r", ref], cwd=remote, capture_output=True,
                                 text=True, check=True).stdout.splitlines()
        files: dict[str, str] = {}
        for line in listing:
            meta, path = line.split("\t", 1)
            blob = meta.split()[2]
            if path.endswith("events.jsonl"):
                text = subprocess.run(["git", "cat-file", "blob", blob], cwd=remote,
                                      capture_output=True, text=True, check=True).stdout
                blob = hashlib.sha256(json.dumps(normal_events(text)).encode()).hexdigest()
            files[path] = blob
        out[ref] = files
    return out


def normal_pulls(store: dict) -> list[dict]:
    pulls = store.get("repos", {}).get(PRODUCT_REPO, {}).get("pulls", [])
    keep = ("number", "head", "base", "title", "body", "state", "merged")
    return [{k: p[k] for k in keep} for p in pulls]


def normal_releases(store: dict) -> list[dict]:
    releases = store.get("repos", {}).get(PRODUCT_REPO, {}).get("releases", [])
    keep = ("id", "tag_name", "target_commitish", "name", "body", "draft", "prerelease")
    return [_strip_volatile({k: r[k] for k in keep}) for r in releases]


def new_world(template: Path, root: Path, *, github_faults: FaultProxy | None = None,
              registry_faults: FaultProxy | None = None, ledger_url: str | None = None) -> World:
    """A fresh world from the template: servers started, release.toml written."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / "github", root / "github")
    shutil.copytree(template / "product", root / "product", symlinks=True)
    shutil.copytree(template / "remote.git", root / "remote.git", symlinks=True)
    shutil.copytree(template / "registry" / "storage", root / "registry" / "storage")
    subprocess.run(["git", "remote", "set-url", "origin", str(root / "remote.git")],
                   cwd=root / "product", check=True)
    hook = root / "remote.git" / "hooks" / "update"
    hook.write_text(UPDATE_HOOK)
    hook.chmod(0o755)
    github = GitHubServer(root / "github").start()
    registry = RegistryServer(root / "registry").start()
    world = World(root, github, registry, github_url=github.api_url, registry_url=registry.url,
                  ledger_url=ledger_url)
    for proxy, attr, upstream in ((github_faults, "github_url", github.api_url),
                                  (registry_faults, "registry_url", registry.url)):
        if proxy is not None:
            proxy.upstream = upstream
            proxy.start()
            world.proxies.append(proxy)
            setattr(world, attr, proxy.url)
    world.write_config()
    return world


def close_world(world: World) -> None:
    """Stop the world's servers."""
    for proxy in world.proxies:
        proxy.stop()
    world.github.stop()
    world.registry.stop()
