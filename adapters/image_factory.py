"""Build small (or large) random images and amd64+arm64 indexes into any `Registry`.

Used by the sandbox to seed CI images into its OCI layouts, by the integration tests and by the
benchmarks. Layers are real uncompressed tars (one file of pseudo-random bytes), generated as a
stream twice (once to hash, once to upload), so a 1 GB layer never sits in memory. The same seed
gives the same bytes, hence the same digests.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from release_ledger.adapters.manifest import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, Descriptor, Manifest
from release_ledger.adapters.registry import CHUNK, ChunkReader, Registry

_BLOCK = 512


@dataclass(frozen=True)
class LayerSpec:
    """A deterministic tar layer: `size` bytes of content derived from `seed`."""

    seed: int
    size: int

    @property
    def tar_size(self) -> int:
        """Bytes of the tar: header, content padded to 512, two zero blocks."""
        return _BLOCK + -(-self.size // _BLOCK) * _BLOCK + 2 * _BLOCK

    def chunks(self) -> Iterator[bytes]:
        """The tar's bytes, chunk by chunk (each content chunk unique: a counter prefixes it)."""
        info = tarfile.TarInfo(f"layer-{self.seed}.bin")
        info.size, info.mtime, info.mode = self.size, 0, 0o644
        yield info.tobuf(format=tarfile.USTAR_FORMAT)
        base = random.Random(self.seed).randbytes(CHUNK)
        left, n = self.size, 0
        while left > 0:
            chunk = (n.to_bytes(8, "big") + base[8:])[:left]
            left, n = left - len(chunk), n + 1
            yield chunk
        yield b"\0" * (-self.size % _BLOCK + 2 * _BLOCK)

    def digest(self) -> str:
        """sha256 of the tar (also its diff_id: the layer is not compressed)."""
        hasher = hashlib.sha256()
        for chunk in self.chunks():
            hasher.update(chunk)
        return "sha256:" + hasher.hexdigest()

    @contextlib.contextmanager
    def open(self) -> Iterator[ChunkReader]:
        """A fresh stream of the tar, as `Registry.upload_blob` wants."""
        yield ChunkReader(self.chunks())


def build_image(registry: Registry, repo: str, tag: str | None = None, *, layers: int = 2,
                layer_size: int = 1024, seed: int | None = None,
                platform: str = "linux/amd64") -> Manifest:
    """Push a random single-platform OCI image (config + `layers` tars); returns its manifest."""
    seed = _seed(seed)
    specs = [LayerSpec(seed * 1000 + i, layer_size) for i in range(layers)]
    layer_descs = []
    for spec in specs:
        digest = spec.digest()
        if not registry.has_blob(repo, digest):
            registry.upload_blob(repo, digest, spec.tar_size, spec.open)
        layer_descs.append(Descriptor(OCI_LAYER, digest, spec.tar_size))
    os_name, _, arch = platform.partition("/")
    config = _json({"architecture": arch, "os": os_name, "created": "1970-01-01T00:00:00Z",
                    "config": {"Labels": {"org.example.seed": str(seed)}},
                    "rootfs": {"type": "layers", "diff_ids": [d.digest for d in layer_descs]}})
    config_desc = _push_bytes(registry, repo, config, OCI_CONFIG)
    manifest = _json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc.to_json(),
                      "layers": [d.to_json() for d in layer_descs]})
    return _put(registry, repo, tag, manifest, OCI_MANIFEST)


def build_index(registry: Registry, repo: str, tag: str | None = None, *,
                platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64"), layers: int = 2,
                layer_size: int = 1024, seed: int | None = None) -> Manifest:
    """Push one image per platform (by digest) and an OCI index over them under `tag`."""
    seed = _seed(seed)
    entries = []
    for i, platform in enumerate(platforms):
        child = build_image(registry, repo, None, layers=layers, layer_size=layer_size,
                            seed=seed * 100 + i, platform=platform)
        os_name, _, arch = platform.partition("/")
        entries.append({**child.descriptor.to_json(),
                        "platform": {"architecture": arch, "os": os_name}})
    index = _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    return _put(registry, repo, tag, index, OCI_INDEX)


def stable_seed(text: str) -> int:
    """A seed derived from a name (e.g. an image reference): same name, same image bytes."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _seed(seed: int | None) -> int:
    return seed if seed is not None else int.from_bytes(os.urandom(4), "big")


def _json(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _push_bytes(registry: Registry, repo: str, data: bytes, media_type: str) -> Descriptor:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if not registry.has_blob(repo, digest):
        registry.upload_blob(repo, digest, len(data), lambda: contextlib.nullcontext(io.BytesIO(data)))
    return Descriptor(media_type, digest, len(data))


def _put(registry: Registry, repo: str, tag: str | None, data: bytes, media_type: str) -> Manifest:
    manifest = Manifest.of(data, media_type)
    registry.put_manifest(repo, tag or manifest.digest, data, media_type)
    return manifest
