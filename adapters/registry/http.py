"""The OCI distribution client (DESIGN §6): `HttpRegistry`, the `Registry` protocol over httpx.

It speaks the distribution API over a caller-built `httpx.Client`. Digests are computed from the
bytes; the `Docker-Content-Digest` header is only cross-checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from typing import IO
from urllib.parse import urlsplit

import httpx

from release_ledger.adapters.errors import DigestMismatch, HttpError, NotFound
from release_ledger.adapters.http import RetryPolicy, check_response, connection_error, error_for, redact, retrying
from release_ledger.adapters.image_ref import is_digest
from release_ledger.adapters.manifest import (MANIFEST_TYPES, Descriptor, Manifest, media_type_of,
                               sha256_digest)
from release_ledger.adapters.registry import CHUNK, BlobOpener, ChunkReader, InsecureRegistry, is_loopback
from release_ledger.adapters.registry.auth import Credentials, RegistryAuth

ACCEPT = ", ".join(MANIFEST_TYPES)
_TEMPORARY = {408, 425, 429}


class HttpRegistry:
    """A registry spoken to over the OCI distribution API."""

    # One semaphore per host:port, shared by every client of the process (DESIGN §6: bounded
    # concurrency per host; ghcr.io throttles bursts with 429s).
    _slots: dict[str, threading.BoundedSemaphore] = {}
    _slots_lock = threading.Lock()

    def __init__(self, client: httpx.Client, base_url: str, credentials: Credentials | None = None,
                 *, push: bool = False, max_wait: float = 300.0, concurrency: int = 4):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InsecureRegistry(f"registry URL {redact(base_url)!r} is not an http(s) URL")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise InsecureRegistry(f"registry URL {redact(base_url)!r} uses plain HTTP on a host that "
                                   "is not loopback; use https://")
        self._client = client
        self.base_url = base_url.rstrip("/")
        self.host = parts.netloc.rpartition("@")[2]
        self.key = f"{parts.scheme}://{self.host}"
        self._auth = RegistryAuth(credentials, "pull,push" if push else "pull")
        self._policy = RetryPolicy(max_wait=max_wait)
        with self._slots_lock:
            self._slot = self._slots.setdefault(self.host, threading.BoundedSemaphore(concurrency))

    def __repr__(self) -> str:
        return f"HttpRegistry({self.key!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _url(self, repo: str, kind: str, ref: str = "") -> str:
        return f"{self.base_url}/v2/{repo}/{kind}/{ref}"

    def _send_once(self, method: str, url: str | httpx.URL, *, stream: bool = False,
                   **kwargs) -> httpx.Response:
        """One request under the host's concurrency bound; temporary failures raise."""
        request = self._client.build_request(method, url, **kwargs)
        with self._slot:
            try:
                response = self._client.send(request, auth=self._auth, stream=stream)
            except httpx.TransportError as exc:
                raise connection_error(exc, request) from exc
        if response.status_code in _TEMPORARY or response.status_code >= 500:
            response.read()
            raise error_for(response)
        return response

    def _send(self, method: str, url: str | httpx.URL, **kwargs) -> httpx.Response:
        """A request retried on 408/429/5xx and resets, honouring Retry-After (adapters.http)."""
        return retrying(lambda: self._send_once(method, url, **kwargs), self._policy)

    def _check_digest(self, what: str, resp: httpx.Response, digest: str) -> None:
        """Cross-check the server's Docker-Content-Digest against the digest of the bytes."""
        header = resp.headers.get("docker-content-digest", "")
        if header.startswith("sha256:") and header != digest:
            raise DigestMismatch(f"{what} (Docker-Content-Digest from {self.host})", header, digest)

    # -- manifests --------------------------------------------------------------------------

    def get_manifest(self, repo: str, ref: str) -> Manifest | None:
        """The manifest at a tag or digest with its exact bytes, or None if the registry has none."""
        resp = self._send("GET", self._url(repo, "manifests", ref), headers={"Accept": ACCEPT})
        if resp.status_code == 404:
            return None
        check_response(resp)
        data = resp.content
        digest = sha256_digest(data)
        what = f"manifest {self.host}/{repo}@{ref}" if is_digest(ref) else f"manifest {self.host}/{repo}:{ref}"
        if is_digest(ref) and ref != digest:
            raise DigestMismatch(what, ref, digest)
        self._check_digest(what, resp, digest)
        media_type = resp.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in MANIFEST_TYPES:
            media_type = media_type_of(data)
        return Manifest(data, media_type, digest)

    def head_manifest(self, repo: str, ref: str) -> Descriptor | None:
        """Media type, digest and size of the manifest at `ref`, or None if absent."""
        resp = self._send("HEAD", self._url(repo, "manifests", ref), headers={"Accept": ACCEPT})
        if resp.status_code == 404:
            return None
        check_response(resp)
        digest = resp.headers.get("docker-content-digest", "")
        media_type = resp.headers.get("content-type", "").split(";")[0].strip()
        if not digest.startswith("sha256:") or media_type not in MANIFEST_TYPES:
            manifest = self.get_manifest(repo, ref)  # the header is optional: hash the bytes
            return manifest.descriptor if manifest else None
        if is_digest(ref) and digest != ref:
            raise DigestMismatch(f"manifest {self.host}/{repo}@{ref} (HEAD)", ref, digest)
        return Descriptor(media_type, digest, int(resp.headers.get("content-length", 0)))

    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> str:
        """Store manifest bytes exactly as given under a tag or digest; returns their digest."""
        digest = sha256_digest(data)
        if is_digest(ref) and ref != digest:
            raise DigestMismatch(f"manifest for {self.host}/{repo}@{ref}", ref, digest)
        resp = self._send("PUT", self._url(repo, "manifests", ref), content=data,
                          headers={"Content-Type": media_type})
        check_response(resp)
        self._check_digest(f"manifest {self.host}/{repo}:{ref}", resp, digest)
        return digest

    def delete_tag(self, repo: str, tag: str) -> bool:
        """Remove a tag only; False when this registry cannot delete tags (distribution 2.x, ghcr)."""
        resp = self._send("DELETE", self._url(repo, "manifests", tag))
        if resp.status_code in (400, 405, 501):
            resp.read()
            return False
        if resp.status_code == 404:
            return True  # the tag is already gone: what the caller wanted
        check_response(resp)
        return True

    def delete_manifest(self, repo: str, digest: str) -> None:
        """Delete a manifest by digest (and every tag on it); absent already counts as done."""
        resp = self._send("DELETE", self._url(repo, "manifests", digest))
        if resp.status_code == 404:
            return
        if resp.status_code == 405:
            resp.read()
            raise error_for(resp, f"registry {self.host} has deletion disabled: cannot delete "
                                  f"{repo}@{digest}")
        check_response(resp)

    def list_tags(self, repo: str) -> list[str]:
        """Every tag of a repository (all pages), sorted; [] when the repository does not exist."""
        tags: list[str] = []
        url: str | httpx.URL | None = httpx.URL(self._url(repo, "tags", "list"), params={"n": 1000})
        while url is not None:
            resp = self._send("GET", url)
            if resp.status_code == 404:
                return []
            check_response(resp)
            tags.extend(resp.json().get("tags") or [])
            nxt = resp.links.get("next", {}).get("url")  # `Link: <...>; rel="next"`
            url = resp.request.url.join(nxt) if nxt else None
        return sorted(set(tags))

    # -- blobs ------------------------------------------------------------------------------

    def has_blob(self, repo: str, digest: str) -> bool:
        """Whether the repository holds the blob (HEAD)."""
        resp = self._send("HEAD", self._url(repo, "blobs", digest))
        if resp.status_code == 404:
            return False
        check_response(resp)
        return True

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Link a blob from another repository of this registry; False if the registry declined."""
        resp = self._send("POST", self._url(repo, "blobs", "uploads/"),
                          params={"mount": digest, "from": from_repo})
        if resp.status_code == 201:
            return True
        check_response(resp)
        # 202: the registry opened an upload session instead of mounting; close it, the caller
        # uploads (distribution spec: "Mounting a blob from another repository").
        self._cancel(resp)
        return False

    def upload_blob(self, repo: str, digest: str, size: int, open_stream: BlobOpener) -> None:
        """Upload a blob streamed from `open_stream()`; the bytes must hash to `digest`."""
        retrying(lambda: self._upload_once(repo, digest, size, open_stream), self._policy)

    def _upload_once(self, repo: str, digest: str, size: int, open_stream: BlobOpener) -> None:
        """POST a session, PATCH the stream, check its hash, PUT ?digest= to commit."""
        start = self._send("POST", self._url(repo, "blobs", "uploads/"))
        check_response(start)
        location = self._location(start)
        hasher, sent = hashlib.sha256(), [0]

        def body(stream: IO[bytes]) -> Iterator[bytes]:
            while chunk := stream.read(CHUNK):
                hasher.update(chunk)
                sent[0] += len(chunk)
                yield chunk

        with open_stream() as stream:
            patch = self._send_once("PATCH", location, content=body(stream),
                                    headers={"Content-Type": "application/octet-stream",
                                             "Content-Length": str(size)})
        check_response(patch)
        actual = "sha256:" + hasher.hexdigest()
        if actual != digest or sent[0] != size:
            self._cancel(patch)
            raise DigestMismatch(f"blob for {self.host}/{repo} ({sent[0]} of {size} bytes)",
                                 digest, actual)
        commit = self._send("PUT", httpx.URL(self._location(patch)).copy_merge_params({"digest": digest}),
                            headers={"Content-Length": "0"})
        check_response(commit)

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[IO[bytes]]:
        """Stream a blob's bytes (`read(n)`); a missing blob raises NotFound naming it."""
        resp = self._send("GET", self._url(repo, "blobs", digest), stream=True)
        try:
            if resp.status_code == 404:
                resp.read()
                raise NotFound("GET", redact(resp.request.url), 404, "",
                               f"blob {digest} is missing from {self.host}/{repo}")
            check_response(resp)
            yield ChunkReader(resp.iter_bytes(CHUNK))  # type: ignore[misc]
        finally:
            resp.close()

    def _location(self, resp: httpx.Response) -> str:
        location = resp.headers.get("location")
        if not location:
            raise HttpError(resp.request.method, redact(resp.request.url), resp.status_code, "",
                            f"{self.host} answered an upload without a Location header")
        return str(resp.request.url.join(location))

    def _cancel(self, resp: httpx.Response) -> None:
        """Close an upload session; best effort (an abandoned session expires on its own)."""
        try:
            self._send_once("DELETE", self._location(resp)).close()
        except HttpError:
            pass
