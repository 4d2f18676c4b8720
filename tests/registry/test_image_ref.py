"""Parsing image references without ever splitting a tag on '-'."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_ledger.adapters.image_ref import ImageRef, InvalidReference

DIGEST = "sha256:" + "ab" * 32


def test_ci_tag_with_dashes_stays_whole():
    """A CI tag full of dashes is one tag, the repository path is kept."""
    ref = ImageRef.parse("ghcr.io/tenstorrent/tt-shield/vllm-tt-metal-src-dev-ubuntu-22.04-amd64:"
                         "0.3.0-v0.62.0-rc33-e3c3ae7-55012345678")
    assert (ref.host, ref.repo, ref.tag) == (
        "ghcr.io", "tenstorrent/tt-shield/vllm-tt-metal-src-dev-ubuntu-22.04-amd64",
        "0.3.0-v0.62.0-rc33-e3c3ae7-55012345678")


def test_host_with_port_is_not_a_tag():
    """A registry port is part of the host, not a tag."""
    ref = ImageRef.parse("127.0.0.1:5000/org/img")
    assert (ref.host, ref.repo, ref.tag) == ("127.0.0.1:5000", "org/img", None)


def test_tag_and_digest_together():
    """`repo:tag@digest` keeps both; the digest is what is asked for."""
    ref = ImageRef.parse(f"localhost:5000/org/img:0.4.0@{DIGEST}")
    assert (ref.tag, ref.digest, ref.reference) == ("0.4.0", DIGEST, DIGEST)


def test_bare_name_is_on_docker_hub():
    """A name without a host is a docker.io library image."""
    assert ImageRef.parse("ubuntu:22.04").name == "docker.io/library/ubuntu"


@pytest.mark.parametrize("text", ["ghcr.io/Org/img:1", "ghcr.io/org/img:-bad", "ghcr.io/org/img@sha256:xyz",
                                  "ghcr.io/org//img", "ghcr.io/org/img:" + "x" * 129])
def test_invalid_references_name_the_part(text):
    """A malformed reference raises InvalidReference quoting it."""
    with pytest.raises(InvalidReference, match="image reference"):
        ImageRef.parse(text)


def test_with_digest_pins_and_keeps_tag():
    """Pinning keeps the tag for readers and adds the digest."""
    ref = ImageRef.parse("ghcr.io/org/img:1.0").with_digest(DIGEST)
    assert str(ref) == f"ghcr.io/org/img:1.0@{DIGEST}"


_component = st.from_regex(r"[a-z0-9]+(?:[._-][a-z0-9]+)?", fullmatch=True)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}", fullmatch=True)


@given(host=st.sampled_from(["ghcr.io", "127.0.0.1:5000", "localhost:8080", "reg.example.com"]),
       path=st.lists(_component, min_size=1, max_size=4), tag=st.one_of(st.none(), _tag),
       digest=st.one_of(st.none(), st.just(DIGEST)))
def test_round_trip(host, path, tag, digest):
    """parse(str(ref)) == ref for every valid reference."""
    ref = ImageRef(host, "/".join(path), tag, digest)
    assert ImageRef.parse(str(ref)) == ref
