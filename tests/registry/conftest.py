"""Fixtures for the registry tests: the real docker-registry, a token server, a faulty proxy.

Everything binds to 127.0.0.1 on free ports. The plain registry is started once per session
(tests use their own repository names); registries with auth start on first use.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from release_ledger.adapters.http import set_testing
from release_ledger.adapters.registry.oci_layout import OciLayout

from registry_server import PASSWORD, USER, RegistryServer, free_port, http_registry



@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Retries happen at once in tests (STYLE: no sleeping)."""
    set_testing(True, attempts=6)
    yield
    set_testing(False)


@pytest.fixture(scope="session")
def registry_factory(tmp_path_factory) -> Iterator[Callable[..., RegistryServer]]:
    """Start a docker-registry with options (htpasswd users, token auth, deletion); stopped at exit."""
    started: list[RegistryServer] = []

    def start(*, htpasswd: dict[str, str] | None = None, token: dict | None = None,
              delete: bool = True) -> RegistryServer:
        server = RegistryServer(tmp_path_factory.mktemp("registry"), htpasswd=htpasswd,
                                token=token, delete=delete).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def registry(registry_factory) -> RegistryServer:
    """An open docker-registry with deletion enabled, shared by the session."""
    return registry_factory()


@pytest.fixture(scope="session")
def second_registry(registry_factory) -> RegistryServer:
    """Another open docker-registry: the destination of cross-registry copies."""
    return registry_factory()


@pytest.fixture(scope="session")
def htpasswd_registry(registry_factory) -> RegistryServer:
    """A docker-registry that wants Basic auth from USER/PASSWORD."""
    return registry_factory(htpasswd={USER: PASSWORD})


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The httpx client the caller builds (STYLE 8)."""
    with httpx.Client(timeout=30.0, follow_redirects=True) as c:
        yield c


@pytest.fixture
def repo() -> str:
    """A repository name no other test uses."""
    return f"test/{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["http", "oci-layout"])
def backend(request, client, registry, tmp_path):
    """Each Registry backend in turn: the contract suite runs against both (STYLE 11)."""
    if request.param == "http":
        return http_registry(client, registry)
    return OciLayout(tmp_path / "layout")


# -- the token server (distribution token auth, docs/spec/auth/token.md) ----------------------


@dataclass
class TokenServer:
    """Issues ES256 JWTs the registry trusts; records every scope it was asked for."""

    workdir: Path
    users: dict[str, str]
    service: str = "test-registry"
    issuer: str = "test-issuer"
    anonymous_pull: bool = True
    requests: list[dict] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import datetime as dt

        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(1)
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .sign(self.key, hashes.SHA256()))
        self.certfile = self.workdir / "token.crt"
        self.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        spki = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _libtrust_key_id(spki)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def registry_config(self) -> dict:
        return {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                "rootcertbundle": str(self.certfile)}

    def grant(self, user: str | None, scopes: list[str]) -> list[dict]:
        """Users get what they ask for; anonymous callers get pull only (if allowed)."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            allowed = wanted if user else (["pull"] if self.anonymous_pull and "pull" in wanted else [])
            access.append({"type": kind, "name": name, "actions": allowed})
        return access

    def token(self, user: str | None, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": self.grant(user, scopes)}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def serve(self) -> socketserver.BaseServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                url = httpx.URL(self.path)
                user = owner.check(self.headers.get("Authorization"))
                scopes = url.params.get_list("scope")
                owner.requests.append({"user": user, "scopes": scopes,
                                       "service": url.params.get("service")})
                if user is False:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": owner.token(user, scopes), "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return server

    def check(self, header: str | None) -> str | None | bool:
        """The authenticated user, None for anonymous, False for wrong credentials."""
        if not header:
            return None
        user, _, password = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
        return user if self.users.get(user) == password else False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _libtrust_key_id(spki_der: bytes) -> str:
    """docker/libtrust's key ID: base32 of the first 240 bits of sha256(SPKI), in groups of 4."""
    import hashlib

    encoded = base64.b32encode(hashlib.sha256(spki_der).digest()[:30]).decode()
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


@pytest.fixture(scope="session")
def token_server(tmp_path_factory) -> Iterator[TokenServer]:
    """A running token server knowing USER/PASSWORD."""
    server = TokenServer(tmp_path_factory.mktemp("token"), {USER: PASSWORD})
    httpd = server.serve()
    yield server
    httpd.shutdown()


@pytest.fixture(scope="session")
def token_registry(registry_factory, token_server) -> RegistryServer:
    """A docker-registry that trusts only the token server's Bearer tokens."""
    return registry_factory(token=token_server.registry_config())


# -- the fault-injecting proxy -----------------------------------------------------------------


@dataclass
class Fault:
    """One failure to inject into the next request matching `method` and `path_part`."""

    method: str
    path_part: str
    kind: str  # "503", "429", "drop"
    retry_after: str | None = None


@dataclass
class FaultProxy:
    """An HTTP proxy in front of a registry that fails chosen requests once each."""

    upstream: RegistryServer
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status (0 = dropped)
    port: int = field(default_factory=free_port)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, method: str, path_part: str, kind: str, retry_after: str | None = None) -> None:
        self.faults.append(Fault(method, path_part, kind, retry_after))

    def take(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.path_part in path:
                    self.faults.remove(fault)
                    return fault
        return None

    def serve(self) -> socketserver.BaseServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = owner.take(self.command, self.path)
                if fault is not None:
                    return self.fail(fault)
                conn = http.client.HTTPConnection("127.0.0.1", owner.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                owner.seen.append((self.command, self.path, resp.status))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length", "date",
                                         "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            def fail(self, fault: Fault) -> None:
                if fault.kind == "drop":
                    owner.seen.append((self.command, self.path, 0))
                    self.close_connection = True
                    return
                status = int(fault.kind)
                owner.seen.append((self.command, self.path, status))
                self.send_response(status)
                if fault.retry_after:
                    self.send_header("Retry-After", fault.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

            def log_message(self, *args) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return server


@pytest.fixture
def fault_proxy(registry) -> Iterator[FaultProxy]:
    """A proxy in front of the session registry; `inject()` chooses the next failures."""
    proxy = FaultProxy(registry)
    httpd = proxy.serve()
    yield proxy
    httpd.shutdown()
    httpd.server_close()
