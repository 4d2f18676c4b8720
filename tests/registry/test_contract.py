"""The Registry contract: one suite, run against docker-registry over HTTP and an OCI layout."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from release_ledger.adapters.errors import AdapterError, DigestMismatch, NotFound
from release_ledger.adapters.image_factory import build_image, build_index
from release_ledger.adapters.manifest import OCI_INDEX, OCI_MANIFEST, sha256_digest

pytestmark = pytest.mark.integration


def _opener(data: bytes):
    return lambda: contextlib.nullcontext(io.BytesIO(data))


def test_manifest_round_trips_exact_bytes(backend, repo):
    """A manifest read back by tag has the very bytes, media type and digest that were pushed."""
    pushed = build_image(backend, repo, "v1")
    got = backend.get_manifest(repo, "v1")
    assert (got.data, got.media_type, got.digest) == (pushed.data, OCI_MANIFEST, pushed.digest)


def test_manifest_by_digest(backend, repo):
    """A manifest can be read by its digest."""
    pushed = build_image(backend, repo, "v1")
    assert backend.get_manifest(repo, pushed.digest).data == pushed.data


def test_missing_tag_is_none(backend, repo):
    """An absent tag reads as None, not as an error."""
    build_image(backend, repo, "v1")
    assert backend.get_manifest(repo, "nope") is None


def test_missing_repository_is_none(backend, repo):
    """A repository that was never pushed has no manifests and no tags."""
    assert backend.get_manifest(repo, "v1") is None
    assert backend.list_tags(repo) == []


def test_head_manifest_gives_digest_and_type(backend, repo):
    """HEAD names the digest, media type and size of an index without reading it."""
    pushed = build_index(backend, repo, "multi")
    head = backend.head_manifest(repo, "multi")
    assert (head.digest, head.media_type, head.size) == (pushed.digest, OCI_INDEX, len(pushed.data))


def test_head_missing_is_none(backend, repo):
    """HEAD of an absent tag is None."""
    assert backend.head_manifest(repo, "absent") is None


def test_blob_upload_then_present(backend, repo):
    """An uploaded blob is present afterwards and reads back the same bytes."""
    data = b"layer bytes" * 1000
    digest = sha256_digest(data)
    assert not backend.has_blob(repo, digest)
    backend.upload_blob(repo, digest, len(data), _opener(data))
    assert backend.has_blob(repo, digest)
    with backend.open_blob(repo, digest) as stream:
        assert stream.read() == data


def test_upload_with_wrong_digest_is_refused(backend, repo):
    """Bytes that do not hash to the announced digest raise DigestMismatch and are not kept."""
    wrong = sha256_digest(b"other")
    with pytest.raises(DigestMismatch):
        backend.upload_blob(repo, wrong, 5, _opener(b"bytes"))
    assert not backend.has_blob(repo, wrong)


def test_missing_blob_read_raises_not_found(backend, repo):
    """Reading an absent blob raises NotFound naming the digest."""
    digest = sha256_digest(b"never pushed")
    with pytest.raises(NotFound, match=digest):
        with backend.open_blob(repo, digest):
            pass


def test_mount_links_a_blob_from_another_repository(backend, repo):
    """A blob mounted from a sibling repository is present in the destination."""
    data = b"shared layer"
    digest = sha256_digest(data)
    backend.upload_blob(repo, digest, len(data), _opener(data))
    assert backend.mount_blob(repo + "-dst", digest, repo) is True
    assert backend.has_blob(repo + "-dst", digest)


def test_mount_of_unknown_blob_declines(backend, repo):
    """Mounting a blob the source does not hold answers False (the caller uploads)."""
    assert backend.mount_blob(repo, sha256_digest(b"nowhere"), repo + "-src") is False


def test_manifest_with_missing_blob_is_refused(backend, repo):
    """A manifest referencing a blob the repository lacks cannot be pushed."""
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": sha256_digest(b"no config"), "size": 9}, "layers": []}
    with pytest.raises(AdapterError):
        backend.put_manifest(repo, "broken", json.dumps(doc).encode(), OCI_MANIFEST)


def test_put_by_wrong_digest_is_refused(backend, repo):
    """Putting a manifest under a digest that is not its own raises DigestMismatch."""
    pushed = build_image(backend, repo)
    with pytest.raises(DigestMismatch):
        backend.put_manifest(repo, sha256_digest(b"x"), pushed.data, OCI_MANIFEST)


def test_list_tags_sorted(backend, repo):
    """Tags are listed sorted, each once."""
    image = build_image(backend, repo, "b")
    backend.put_manifest(repo, "a", image.data, image.media_type)
    backend.put_manifest(repo, "0.4.0-v0.62.0-rc33-e3c3ae7", image.data, image.media_type)
    assert backend.list_tags(repo) == ["0.4.0-v0.62.0-rc33-e3c3ae7", "a", "b"]


def test_retag_moves_the_tag(backend, repo):
    """Putting another manifest under a tag moves the tag to it."""
    build_image(backend, repo, "t")
    second = build_image(backend, repo, "t")
    assert backend.get_manifest(repo, "t").digest == second.digest


def test_delete_manifest_removes_its_tags(backend, repo):
    """Deleting a manifest by digest removes it and the tags on it."""
    image = build_image(backend, repo, "gone")
    backend.delete_manifest(repo, image.digest)
    assert backend.get_manifest(repo, "gone") is None
    assert backend.get_manifest(repo, image.digest) is None


def test_delete_tag_leaves_manifest_or_declines(backend, repo):
    """delete_tag either removes only the tag, or says False and changes nothing."""
    image = build_image(backend, repo, "t1")
    removed = backend.delete_tag(repo, "t1")
    assert backend.get_manifest(repo, image.digest) is not None
    assert (backend.get_manifest(repo, "t1") is None) == removed
