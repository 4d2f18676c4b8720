"""The sandbox GitHub: an httpx transport over a local folder, served to our real GitHub client.

Each module here handles one part of the API (`github_ci`: recorded Models CI; `github_repo`: the
pull-request and release store) with `handle(request, root) -> httpx.Response | None`; the first
module that answers wins, and anything unanswered is a 404 like GitHub's.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import httpx

_HANDLERS = ("release_ledger.sandbox.github_ci", "release_ledger.sandbox.github_repo")


def github_transport(root: Path) -> httpx.BaseTransport:
    """A transport that answers GitHub REST requests from the sandbox folder `root`."""

    def handler(request: httpx.Request) -> httpx.Response:
        for name in _HANDLERS:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            response = module.handle(request, Path(root))
            if response is not None:
                return response
        body = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        return httpx.Response(404, content=json.dumps(body).encode(),
                              headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)
