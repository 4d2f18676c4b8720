"""Opening a registry from its configured URL: HTTP(S), loopback HTTP, or an OCI layout folder."""

from __future__ import annotations

import httpx

from release_ledger.adapters.registry import Registry, layout_dir
from release_ledger.adapters.registry.auth import Credentials

def open_registry(url_or_layout: str, host: str, client: httpx.Client | None = None, *,
                  credentials: Credentials | None | bool = True, push: bool = False,
                  max_wait: float = 300.0, concurrency: int = 4) -> Registry:
    """The backend for one registry host from its configured URL (`https://..`, `oci-layout:DIR`).

    `credentials=True` looks them up for `host` (adapters.credentials); `push=True` asks Bearer
    token servers for pull,push (a promotion destination) instead of pull.
    """
    layout = layout_dir(url_or_layout)
    if layout is not None:
        from release_ledger.adapters.registry.oci_layout import OciLayout

        return OciLayout(layout)
    if credentials is True:
        from release_ledger.adapters.credentials import credentials_for

        credentials = credentials_for(host)
    client = client or httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True)
    from release_ledger.adapters.registry.http import HttpRegistry

    return HttpRegistry(client, url_or_layout, credentials or None, push=push,
                        max_wait=max_wait, concurrency=concurrency)
