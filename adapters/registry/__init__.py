"""Registries: the `Registry` protocol both backends implement, and the primitives they share.

Backends: `http.HttpRegistry` (the OCI distribution API over httpx) and `oci_layout.OciLayout`
(image-layout directories, so promotions run offline); `factory.open_registry` picks one from a
`[registries."host"] url` value (DESIGN §9). One contract suite (tests/registry/test_contract.py)
holds both to the same rules: `None`/`False` means the registry said the thing is absent (404); a
refusal raises `Unauthorized`, a throttle `RateLimited`, a fault `ServerError`; bytes that do not
hash to their digest raise `DigestMismatch`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path
from contextlib import AbstractContextManager
from typing import IO, Protocol, runtime_checkable

from release_ledger.adapters.errors import AdapterError
from release_ledger.adapters.manifest import Descriptor, Manifest

__all__ = ["Registry", "BlobOpener", "InsecureRegistry", "CHUNK", "ChunkReader", "is_loopback",
           "LAYOUT_PREFIX", "layout_dir"]

LAYOUT_PREFIX = "oci-layout:"  # a registry URL naming an OCI image-layout folder (DESIGN §9)


def layout_dir(url: str) -> Path | None:
    """The folder of an `oci-layout:DIR` registry URL, or None for an HTTP(S) URL."""
    return Path(url.removeprefix(LAYOUT_PREFIX)) if url.startswith(LAYOUT_PREFIX) else None


CHUNK = 1 << 20  # 1 MiB: the unit every blob is streamed in; bounds memory per transfer
BlobOpener = Callable[[], AbstractContextManager[IO[bytes]]]


class InsecureRegistry(AdapterError):
    """A plain-HTTP registry URL whose host is not a loopback address."""


@runtime_checkable
class Registry(Protocol):
    """What promotion needs from a registry; HTTP and OCI layout backends both provide it."""

    key: str  # identity of the storage: equal keys mean blobs can be mounted across repositories

    def get_manifest(self, repo: str, ref: str) -> Manifest | None: ...
    def head_manifest(self, repo: str, ref: str) -> Descriptor | None: ...
    def has_blob(self, repo: str, digest: str) -> bool: ...
    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool: ...
    def upload_blob(self, repo: str, digest: str, size: int, open_stream: BlobOpener) -> None: ...
    def open_blob(self, repo: str, digest: str) -> AbstractContextManager[IO[bytes]]: ...
    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> str: ...
    def delete_tag(self, repo: str, tag: str) -> bool: ...
    def delete_manifest(self, repo: str, digest: str) -> None: ...
    def list_tags(self, repo: str) -> list[str]: ...


def is_loopback(host: str) -> bool:
    """Whether a host name (without port) is this machine: localhost or a loopback address."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ChunkReader:
    """A file-like view (`read(n)`) over a streamed response body, one chunk buffered at most."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._buf = chunks, b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buf += chunk
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out
