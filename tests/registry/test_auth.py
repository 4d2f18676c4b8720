"""Registry auth: htpasswd Basic and Bearer tokens, and refusals never read as 'missing'."""

from __future__ import annotations

import pytest

from release_ledger.adapters.copy import copy_image
from release_ledger.adapters.errors import Unauthorized
from release_ledger.adapters.image_factory import build_image
from release_ledger.adapters.registry.auth import Credentials

from registry_server import PASSWORD, USER, http_registry

pytestmark = pytest.mark.integration

GOOD = Credentials(USER, PASSWORD)
BAD = Credentials(USER, "wrong-password")


def test_htpasswd_login_pushes_and_reads(client, htpasswd_registry, repo):
    """With the htpasswd login, images can be pushed and read back."""
    reg = http_registry(client, htpasswd_registry, GOOD)
    image = build_image(reg, repo, "v1")
    assert reg.get_manifest(repo, "v1").digest == image.digest


def test_htpasswd_wrong_password_is_unauthorized_not_missing(client, htpasswd_registry, repo):
    """A wrong password raises Unauthorized; the image is never reported absent."""
    build_image(http_registry(client, htpasswd_registry, GOOD), repo, "v1")
    reg = http_registry(client, htpasswd_registry, BAD)
    with pytest.raises(Unauthorized):
        reg.get_manifest(repo, "v1")
    with pytest.raises(Unauthorized):
        reg.head_manifest(repo, "absent-tag")


def test_anonymous_on_htpasswd_registry_is_unauthorized(client, htpasswd_registry, repo):
    """Without credentials, a protected registry's answers raise Unauthorized, not None/False."""
    reg = http_registry(client, htpasswd_registry, None)
    with pytest.raises(Unauthorized):
        reg.has_blob(repo, "sha256:" + "1" * 64)


def test_unauthorized_message_has_no_secret(client, htpasswd_registry, repo):
    """The error for a refused login does not contain the password."""
    with pytest.raises(Unauthorized) as info:
        http_registry(client, htpasswd_registry, BAD).get_manifest(repo, "v1")
    assert "wrong-password" not in str(info.value)


def test_bearer_token_copy_into_token_registry(client, registry, token_registry, repo):
    """A copy into a Bearer-protected registry works with the token exchange."""
    src = http_registry(client, registry)
    dst = http_registry(client, token_registry, GOOD, push=True)
    image = build_image(src, repo, "ci")
    copy_image(src, repo, image.digest, dst, repo, "dev")
    assert dst.get_manifest(repo, "dev").digest == image.digest


def test_destination_asks_pull_push_scope(client, token_registry, token_server, repo):
    """A destination client asks the token server for pull,push on the repository."""
    build_image(http_registry(client, token_registry, GOOD, push=True), repo, "v1")
    assert f"repository:{repo}:pull,push" in _scopes(token_server)


def test_source_asks_pull_scope_only(client, token_registry, token_server, repo):
    """A source client asks only for pull on the repository it reads."""
    build_image(http_registry(client, token_registry, GOOD, push=True), repo, "v1")
    token_server.requests.clear()
    http_registry(client, token_registry, GOOD, push=False).get_manifest(repo, "v1")
    assert _scopes(token_server) == {f"repository:{repo}:pull"}


def test_tokens_are_reused_across_requests(client, token_registry, token_server, repo):
    """Pushing a whole image costs one token per repository, not one per request."""
    token_server.requests.clear()
    build_image(http_registry(client, token_registry, GOOD, push=True), repo, "v1", layers=3)
    assert len(token_server.requests) == 1


def test_same_registry_mount_with_bearer_tokens(client, token_registry, repo):
    """Within a Bearer-protected registry, promotion mounts (the token covers the source repo)."""
    reg = http_registry(client, token_registry, GOOD, push=True)
    image = build_image(reg, repo + "/ci", "ci")
    result = copy_image(reg, repo + "/ci", image.digest, reg, repo + "/dev", "dev")
    assert (result.blobs_mounted, result.bytes_uploaded) == (3, 0)


def test_bearer_wrong_password_is_unauthorized(client, token_registry, repo):
    """A token server refusing the login raises Unauthorized naming the token server."""
    reg = http_registry(client, token_registry, BAD)
    with pytest.raises(Unauthorized, match="token server"):
        reg.get_manifest(repo, "v1")


def test_anonymous_push_is_refused(client, token_registry, repo):
    """Anonymous tokens carry pull only: a push is refused with Unauthorized."""
    reg = http_registry(client, token_registry, None, push=True)
    with pytest.raises(Unauthorized):
        build_image(reg, repo, "v1")


def _scopes(token_server) -> set[str]:
    return {s for r in token_server.requests for s in r["scopes"]}
