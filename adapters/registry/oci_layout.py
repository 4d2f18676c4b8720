"""The `Registry` protocol over OCI image-layout directories, so promotions run offline.

One layout per repository under a root: `root/<repo>/{oci-layout,index.json,blobs/sha256/<hex>}`
(OCI image-layout spec). Tags are `org.opencontainers.image.ref.name` annotations on the entries of
`index.json`, as skopeo's `oci:DIR:tag` writes them. Writes are atomic (temp file + rename) and
`index.json` updates hold a lock, so a killed run never leaves half a blob or half an index.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from release_ledger.adapters.errors import AdapterError, DigestMismatch, NotFound
from release_ledger.adapters.files import write_atomic
from release_ledger.adapters.image_ref import is_digest, is_repository
from release_ledger.adapters.manifest import OCI_INDEX, Descriptor, Manifest, media_type_of, sha256_digest
from release_ledger.adapters.registry import CHUNK, BlobOpener

REF_NAME = "org.opencontainers.image.ref.name"
_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


class LayoutError(AdapterError):
    """An image-layout directory that is damaged or asked for something it cannot hold."""


class OciLayout:
    """Repositories stored as OCI image-layout directories under one root."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.key = f"oci-layout:{self.root.resolve()}"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OciLayout({str(self.root)!r})"

    # -- paths and index --------------------------------------------------------------------

    def _repo_dir(self, repo: str) -> Path:
        if not is_repository(repo):
            raise LayoutError(f"{repo!r} is not a valid repository name for layout {self.root}")
        return self.root / repo

    def _blob_path(self, repo: str, digest: str) -> Path:
        algo, _, hexpart = digest.partition(":")
        if not is_digest(digest) or "/" in hexpart:
            raise LayoutError(f"{digest!r} is not a valid digest")
        return self._repo_dir(repo) / "blobs" / algo / hexpart

    def _read_index(self, repo: str) -> dict:
        path = self._repo_dir(repo) / "index.json"
        if not path.is_file():
            return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        try:
            return json.loads(path.read_bytes())
        except ValueError as err:
            raise LayoutError(f"{path} is not valid JSON: {err}") from None

    @contextlib.contextmanager
    def _index_update(self, repo: str) -> Iterator[dict]:
        """Read-modify-write `index.json` under a thread lock and an flock on the repo directory."""
        repo_dir = self._ensure_repo(repo)
        with self._lock:
            fd = os.open(repo_dir, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                index = self._read_index(repo)
                yield index
                _atomic_write(repo_dir / "index.json", json.dumps(index, indent=2).encode())
            finally:
                os.close(fd)  # closing releases the flock

    def _ensure_repo(self, repo: str) -> Path:
        repo_dir = self._repo_dir(repo)
        (repo_dir / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        if not (repo_dir / "oci-layout").is_file():
            _atomic_write(repo_dir / "oci-layout", _LAYOUT)
        return repo_dir

    def _tagged(self, repo: str, tag: str) -> dict | None:
        for entry in self._read_index(repo).get("manifests", []):
            if (entry.get("annotations") or {}).get(REF_NAME) == tag:
                return entry
        return None

    # -- manifests --------------------------------------------------------------------------

    def get_manifest(self, repo: str, ref: str) -> Manifest | None:
        """The manifest at a tag or digest with its exact bytes, or None if absent."""
        if is_digest(ref):
            digest, media_type = ref, None
        else:
            entry = self._tagged(repo, ref)
            if entry is None:
                return None
            digest, media_type = entry["digest"], entry.get("mediaType")
        path = self._blob_path(repo, digest)
        if not path.is_file():
            if is_digest(ref):
                return None
            raise LayoutError(f"{self.root / repo}: tag {ref!r} points at {digest}, whose blob is missing")
        data = path.read_bytes()
        actual = sha256_digest(data)
        if actual != digest:
            raise DigestMismatch(f"manifest blob {path}", digest, actual)
        return Manifest(data, media_type or media_type_of(data), digest)

    def head_manifest(self, repo: str, ref: str) -> Descriptor | None:
        """Media type, digest and size of the manifest at `ref`, or None if absent."""
        manifest = self.get_manifest(repo, ref)
        return manifest.descriptor if manifest else None

    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> str:
        """Store manifest bytes; a tag becomes (or moves) the index entry carrying its ref name."""
        digest = sha256_digest(data)
        if is_digest(ref) and ref != digest:
            raise DigestMismatch(f"manifest for {self.root / repo}@{ref}", ref, digest)
        self._check_references(repo, Manifest(data, media_type, digest))
        self._ensure_repo(repo)
        path = self._blob_path(repo, digest)
        if not path.is_file():
            _atomic_write(path, data)
        if not is_digest(ref):
            with self._index_update(repo) as index:
                kept = [e for e in index.get("manifests", [])
                        if (e.get("annotations") or {}).get(REF_NAME) != ref]
                kept.append({"mediaType": media_type, "digest": digest, "size": len(data),
                             "annotations": {REF_NAME: ref}})
                index["manifests"] = kept
        return digest

    def _check_references(self, repo: str, manifest: Manifest) -> None:
        """Refuse a manifest whose blobs or child manifests are not here (as registries do)."""
        for d in [*manifest.blobs(), *manifest.children()]:
            if not self._blob_path(repo, d.digest).is_file():
                raise LayoutError(f"manifest {manifest.digest} for {self.root / repo} references "
                                  f"{d.digest}, which is not in the repository")

    def delete_tag(self, repo: str, tag: str) -> bool:
        """Remove the index entry of a tag (the manifest blob stays); always possible here."""
        if not (self._repo_dir(repo) / "index.json").is_file():
            return True
        with self._index_update(repo) as index:
            index["manifests"] = [e for e in index.get("manifests", [])
                                  if (e.get("annotations") or {}).get(REF_NAME) != tag]
        return True

    def delete_manifest(self, repo: str, digest: str) -> None:
        """Delete a manifest and every tag on it; absent already counts as done."""
        if (self._repo_dir(repo) / "index.json").is_file():
            with self._index_update(repo) as index:
                index["manifests"] = [e for e in index.get("manifests", []) if e.get("digest") != digest]
        self._blob_path(repo, digest).unlink(missing_ok=True)

    def list_tags(self, repo: str) -> list[str]:
        """Every tag of a repository, sorted; [] when the repository does not exist."""
        return sorted({(e.get("annotations") or {}).get(REF_NAME)
                       for e in self._read_index(repo).get("manifests", [])} - {None})

    # -- blobs ------------------------------------------------------------------------------

    def has_blob(self, repo: str, digest: str) -> bool:
        """Whether the repository's layout holds the blob."""
        return self._blob_path(repo, digest).is_file()

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Hard-link (else copy on disk) a blob from another repository under this root."""
        source = self._blob_path(from_repo, digest)
        if not source.is_file():
            return False
        self._ensure_repo(repo)
        target = self._blob_path(repo, digest)
        if target.is_file():
            return True
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)  # another file system: copied by the kernel, not by us
        os.replace(tmp, target)
        return True

    def upload_blob(self, repo: str, digest: str, size: int, open_stream: BlobOpener) -> None:
        """Write a blob streamed from `open_stream()`; kept only if it hashes to `digest`."""
        self._ensure_repo(repo)
        target = self._blob_path(repo, digest)
        hasher, written = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, open_stream() as stream:
                while chunk := stream.read(CHUNK):
                    hasher.update(chunk)
                    written += len(chunk)
                    out.write(chunk)
            actual = "sha256:" + hasher.hexdigest()
            if actual != digest or written != size:
                raise DigestMismatch(f"blob for {self.root / repo} ({written} of {size} bytes)",
                                     digest, actual)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str) -> Iterator[IO[bytes]]:
        """Stream a blob's bytes; a missing blob raises NotFound naming it."""
        path = self._blob_path(repo, digest)
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise NotFound("GET", f"oci-layout:{path}", 404, "",
                           f"blob {digest} is missing from {self.root / repo}") from None
        with stream:
            yield stream


def _atomic_write(path: Path, data: bytes) -> None:
    """Write a layout file (index, manifest, marker) so readers see the old or the new content."""
    # No fsync, as before: blobs are written without one too, so syncing the small files alone
    # would cost time and buy no durability.
    write_atomic(path, data, fsync=False)
