"""Manifests and descriptors: the media types we speak and what a manifest references.

A manifest is kept as its exact bytes: its digest is the sha256 of those bytes, and re-serialising
JSON would change it (DESIGN §6: the top manifest is written with its exact bytes and media type).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from release_ledger.adapters.errors import AdapterError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"

# Every manifest kind we can copy, sent as Accept on every manifest request (DESIGN §6): a
# registry answers a narrower Accept by converting, which changes the digest.
MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)

# Layers a registry must not be asked for (Windows base layers served from their own URLs).
_FOREIGN = ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")


class InvalidManifest(AdapterError):
    """Manifest bytes that are not the JSON document their media type announces."""


def sha256_digest(data: bytes) -> str:
    """The content digest of some bytes, `sha256:<hex>`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Descriptor:
    """A pointer to content: media type, digest, size (and the platform for index children)."""

    media_type: str
    digest: str
    size: int
    platform: str | None = None

    @classmethod
    def from_json(cls, item: dict) -> Descriptor:
        """A descriptor from its OCI JSON form."""
        plat = item.get("platform") or None
        platform = None
        if plat:
            platform = "/".join(p for p in (plat.get("os"), plat.get("architecture"),
                                            plat.get("variant")) if p)
        return cls(item.get("mediaType", ""), item["digest"], int(item.get("size", 0)), platform)

    def to_json(self) -> dict:
        """The OCI JSON form (platform omitted: it is informational here)."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Manifest:
    """A manifest as stored: exact bytes, media type, and the digest of those bytes."""

    data: bytes
    media_type: str
    digest: str

    @classmethod
    def of(cls, data: bytes, media_type: str | None = None) -> Manifest:
        """Wrap manifest bytes; the media type defaults to the document's own `mediaType`."""
        return cls(data, media_type or media_type_of(data), sha256_digest(data))

    @property
    def is_index(self) -> bool:
        """Whether this manifest lists other manifests (one per platform)."""
        return self.media_type in INDEX_TYPES

    @property
    def descriptor(self) -> Descriptor:
        """The descriptor pointing at this manifest."""
        return Descriptor(self.media_type, self.digest, len(self.data))

    def json(self) -> dict:
        """The parsed document."""
        try:
            doc = json.loads(self.data)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidManifest(f"manifest {self.digest} is not valid JSON: {err}") from None
        if not isinstance(doc, dict):
            raise InvalidManifest(f"manifest {self.digest} is not a JSON object")
        return doc

    def children(self) -> list[Descriptor]:
        """The manifests an index lists (empty for an image manifest)."""
        if not self.is_index:
            return []
        return [Descriptor.from_json(m) for m in self.json().get("manifests", [])]

    def blobs(self) -> list[Descriptor]:
        """The config and layers an image manifest references, foreign layers left out."""
        if self.is_index:
            return []
        doc = self.json()
        items = ([doc["config"]] if doc.get("config") else []) + list(doc.get("layers", []))
        return [d for d in map(Descriptor.from_json, items) if d.media_type not in _FOREIGN]


def media_type_of(data: bytes) -> str:
    """The media type a manifest declares, else guessed from its shape (OCI allows omitting it)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidManifest("manifest bytes are not valid JSON") from None
    if not isinstance(doc, dict):
        raise InvalidManifest("manifest bytes are not a JSON object")
    declared = doc.get("mediaType")
    if declared:
        return declared
    return OCI_INDEX if "manifests" in doc else OCI_MANIFEST
