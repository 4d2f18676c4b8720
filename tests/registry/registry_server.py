"""Start the real Debian `docker-registry` (distribution 2.8) on a free loopback port.

Shared by the integration tests' fixtures and by benchmarks/promote.py. The server writes its
config, storage, htpasswd file and logs under one directory; its access log (combined format,
on stdout/stderr) is what tests read to prove which requests reached the registry.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from release_ledger.adapters.registry.http import HttpRegistry
from release_ledger.adapters.registry.auth import Credentials

BINARY = "/usr/bin/docker-registry"
USER, PASSWORD = "promoter", "s3cret-pass"  # the htpasswd / token-server login of the tests
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<bytes>\d+|-)')


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def htpasswd_line(user: str, password: str) -> str:
    """One bcrypt htpasswd line (the only hash distribution's htpasswd auth accepts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # libxcrypt does bcrypt; removed in 3.13, fine on our 3.11

        return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))}"


@dataclass(frozen=True)
class AccessRecord:
    """One request as the registry logged it."""

    method: str
    path: str
    status: int


@dataclass
class RegistryServer:
    """A running docker-registry; `url` is its base URL, `host` its host:port."""

    workdir: Path
    htpasswd: dict[str, str] | None = None
    token: dict | None = None  # {"realm", "service", "issuer", "rootcertbundle"}
    delete: bool = True
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    def config(self) -> dict:
        """The registry's configuration (YAML is a superset of JSON, so JSON it is)."""
        conf: dict = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "storage")},
                        "delete": {"enabled": self.delete},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": self.host, "secret": "test-secret"},
        }
        if self.htpasswd is not None:
            path = self.workdir / "htpasswd"
            path.write_text("".join(htpasswd_line(u, p) + "\n" for u, p in self.htpasswd.items()))
            conf["auth"] = {"htpasswd": {"realm": "test", "path": str(path)}}
        elif self.token is not None:
            conf["auth"] = {"token": self.token}
        return conf

    def start(self, timeout: float = 10.0) -> RegistryServer:
        """Write the config, start the process, wait until /v2/ answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.yml"
        config.write_text(json.dumps(self.config(), indent=2))
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([BINARY, "serve", str(config)], stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}/v2/", timeout=1.0)
                return self
            except httpx.TransportError:
                time.sleep(0.05)  # startup poll of a real process, not a test wait
        raise RuntimeError(f"docker-registry did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def mark(self) -> int:
        """A position in the access log; `access(since=mark)` lists what came after it."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def access(self, since: int = 0) -> list[AccessRecord]:
        """Requests the registry logged after `since` (its access log is written synchronously)."""
        with self.log_path.open("rb") as f:
            f.seek(since)
            text = f.read().decode("utf-8", "replace")
        return [AccessRecord(m["method"], m["path"], int(m["status"])) for m in _ACCESS.finditer(text)]


def http_registry(client: httpx.Client, server: RegistryServer | str,
                  credentials: Credentials | None = None, push: bool = True) -> HttpRegistry:
    """Our client for a test server (or a proxy URL), opened as a promotion destination."""
    url = server if isinstance(server, str) else server.url
    return HttpRegistry(client, url, credentials, push=push)
