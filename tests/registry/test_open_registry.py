"""Choosing a backend from a `[registries."host"] url` value (DESIGN §9)."""

from __future__ import annotations

import httpx
import pytest

from release_ledger.adapters.registry.oci_layout import OciLayout
from release_ledger.adapters.registry import InsecureRegistry
from release_ledger.adapters.registry.factory import open_registry
from release_ledger.adapters.registry.http import HttpRegistry


def test_oci_layout_url_opens_a_layout(tmp_path):
    """`oci-layout:DIR` opens the image-layout backend rooted at DIR."""
    reg = open_registry(f"oci-layout:{tmp_path}", "ghcr.io")
    assert isinstance(reg, OciLayout) and reg.root == tmp_path


def test_https_url_opens_the_http_client():
    """An https URL opens the distribution client."""
    reg = open_registry("https://ghcr.io", "ghcr.io", httpx.Client(), credentials=None)
    assert isinstance(reg, HttpRegistry) and reg.key == "https://ghcr.io"


def test_loopback_plain_http_is_allowed():
    """Plain HTTP is fine on a loopback address."""
    assert open_registry("http://127.0.0.1:5000", "127.0.0.1:5000", httpx.Client(), credentials=None)


def test_plain_http_elsewhere_is_refused():
    """Plain HTTP to a non-loopback host is refused, naming the URL."""
    with pytest.raises(InsecureRegistry, match="registry.example.com"):
        open_registry("http://registry.example.com", "registry.example.com", httpx.Client(),
                      credentials=None)
