"""Faults from a proxy in front of the registry are retried and the copy still verifies."""

from __future__ import annotations

import email.utils
import time

import pytest

from release_ledger.adapters.copy import copy_image
from release_ledger.adapters.errors import RateLimited, ServerError
from release_ledger.adapters.image_factory import build_image
from release_ledger.adapters.registry.http import HttpRegistry

from registry_server import http_registry

pytestmark = pytest.mark.integration


@pytest.fixture
def promoted(client, registry, repo):
    """A source image in the registry; returns (source client, digest)."""
    src = http_registry(client, registry)
    return src, build_image(src, repo, "ci").digest


def _copy_through(client, proxy, promoted, repo):
    src, digest = promoted
    dst = http_registry(client, proxy.url)
    result = copy_image(src, repo, digest, dst, repo + "-dst", "dev")
    assert dst.get_manifest(repo + "-dst", "dev").digest == digest
    return result


def test_503_on_manifest_put_is_retried(client, fault_proxy, promoted, repo):
    """A 503 answering the tag's manifest PUT is retried and the tag verifies."""
    fault_proxy.inject("PUT", "/manifests/dev", "503")
    _copy_through(client, fault_proxy, promoted, repo)
    assert ("PUT", f"/v2/{repo}-dst/manifests/dev", 503) in fault_proxy.seen


def test_429_with_retry_after_seconds_is_retried(client, fault_proxy, promoted, repo):
    """A 429 with Retry-After in seconds on a blob upload is retried."""
    fault_proxy.inject("PATCH", "/blobs/uploads/", "429", retry_after="1")
    _copy_through(client, fault_proxy, promoted, repo)
    assert [s for m, _, s in fault_proxy.seen if m == "PATCH"].count(429) == 1


def test_429_with_retry_after_date_is_retried(client, fault_proxy, promoted, repo):
    """A 429 with Retry-After as an HTTP-date is retried."""
    fault_proxy.inject("HEAD", "/blobs/", "429", retry_after=email.utils.formatdate(time.time() + 2,
                                                                                      usegmt=True))
    _copy_through(client, fault_proxy, promoted, repo)


def test_dropped_connection_during_upload_is_retried(client, fault_proxy, promoted, repo):
    """A connection dropped on a blob PATCH restarts that upload; the copy verifies."""
    fault_proxy.inject("PATCH", "/blobs/uploads/", "drop")
    result = _copy_through(client, fault_proxy, promoted, repo)
    assert result.blobs_uploaded == 3
    assert [s for m, _, s in fault_proxy.seen if m == "PATCH"].count(0) == 1


def test_dropped_connection_on_read_back_is_retried(client, fault_proxy, promoted, repo):
    """A connection dropped while reading the tag back is retried."""
    fault_proxy.inject("GET", "/manifests/dev", "drop")
    _copy_through(client, fault_proxy, promoted, repo)
    assert ("GET", f"/v2/{repo}-dst/manifests/dev", 0) in fault_proxy.seen


def test_persistent_503_raises_server_error_not_missing(client, fault_proxy, repo):
    """A registry that keeps failing raises ServerError; the image is not called absent."""
    for _ in range(10):
        fault_proxy.inject("GET", "/manifests/", "503")
    with pytest.raises(ServerError):
        http_registry(client, fault_proxy.url).get_manifest(repo, "ci")


def test_retry_after_beyond_max_wait_raises_rate_limited(client, fault_proxy, repo):
    """A Retry-After longer than max_wait gives up at once with RateLimited saying when."""
    fault_proxy.inject("HEAD", "/manifests/", "429", retry_after="3600")
    reg = HttpRegistry(client, fault_proxy.url, max_wait=60)
    with pytest.raises(RateLimited) as info:
        reg.head_manifest(repo, "ci")
    assert info.value.retry_at > time.time() + 3000
