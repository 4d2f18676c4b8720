"""Fixtures for PRs, gates and publishing: a GitHub server on 127.0.0.1, a bare remote, a clone,
and a release standing at dev-promoted on the real engine (helpers live in pulls_support.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from release_ledger.adapters import http as http_mod
from release_ledger.adapters.github import GitHubClient
from release_ledger.adapters.github_repo import GitHubRepo
from pulls_support import (DEV_SUMMARY, DIFF, LAST_GOOD, REPO, TOKEN, VERSION, WAIVED, FakeGitHub,
                           Release, serve)



@pytest.fixture(autouse=True)
def _a_token(monkeypatch) -> None:
    """The product's GitHub needs a token (workflows.services says a missing one up front)."""
    monkeypatch.setenv("GH_PAT", TOKEN)


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    http_mod.set_testing(True, attempts=2)
    yield
    http_mod.set_testing(False)


@pytest.fixture
def github(tmp_path: Path) -> Iterator[FakeGitHub]:
    """A GitHub REST server for pulls and releases on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeGitHub(url=f"http://127.0.0.1:{server.server_address[1]}", root=tmp_path / "github")
    server.RequestHandlerClass = serve(fake)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["http", "sandbox"])
def client(request, github: FakeGitHub) -> Iterator[GitHubClient]:
    """Our real GitHub client, on the server at 127.0.0.1 or on the sandbox transport.

    The contract tests of `GitHubRepo` run against both backends (STYLE §11).
    """
    if request.param == "http":
        with httpx.Client(timeout=10) as http:
            yield GitHubClient(http, github.url, TOKEN)
    else:
        with httpx.Client(transport=github.transport()) as http:
            yield GitHubClient(http, "https://api.github.com", TOKEN)


@pytest.fixture
def repo_api(client: GitHubClient) -> GitHubRepo:
    """Pull requests and releases of the product repository."""
    return GitHubRepo(client, REPO)



@pytest.fixture
def release(tmp_path: Path, checkout: Path, remote: Path, github: FakeGitHub,
            monkeypatch) -> Iterator[Release]:
    """A release 0.4.0 whose earlier steps wrote VERSION and release_logs/v0.4.0/, at dev-promoted."""
    from release_ledger.engine.events import ReleaseStarted, StateChanged
    from release_ledger.engine.registry import register_step
    from release_ledger.ledger import Ledger
    from release_ledger.workflows.config import Config, GitHubConfig, RegistryConfig
    from release_ledger.workflows.promote.events import ImagesWaived
    from release_ledger.workflows.publish.step import PublishStep
    from release_ledger.workflows.promote.rc import PromoteRcStep
    from release_ledger.workflows.pulls.step import OpenPrStep
    from release_ledger.workflows.services import Services

    monkeypatch.setenv("GH_PAT", TOKEN)
    for step in (OpenPrStep(), PromoteRcStep(), PublishStep()):
        register_step(step)
    ledger = Ledger.open(checkout / "release_logs" / "ledger.sqlite")
    events = [ReleaseStarted(version=VERSION, previous_version="0.3.0", increment="minor"),
              StateChanged(trigger="collect", source="started", dest="collected"),
              StateChanged(trigger="update_spec", source="collected", dest="spec-updated"),
              ImagesWaived(stage="dev", images=[WAIVED]),
              StateChanged(trigger="promote_dev", source="spec-updated", dest="dev-promoted")]
    ledger.append(VERSION, [e.to_new() for e in events])
    (checkout / "VERSION").write_text(f"{VERSION}\n")
    logs = checkout / "release_logs" / f"v{VERSION}"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "release_models_diff.md").write_text(DIFF)
    (logs / "dev_artifacts_summary.md").write_text(DEV_SUMMARY)
    (logs / "models_ci_last_good_291_to_293.json").write_text(json.dumps(LAST_GOOD, indent=2))
    # An empty OCI layout stands for ghcr.io: the rc stage only looks the waived image up.
    layout = tmp_path / "registries" / "ghcr.io"
    config = Config(github=GitHubConfig(api_url=github.url, repo=REPO),
                    registries={"ghcr.io": RegistryConfig(url=f"oci-layout:{layout}")})
    services = Services(config, checkout, cache_dir=tmp_path / "cache")
    yield Release(ledger, checkout, remote, github, services)
    ledger.close()
