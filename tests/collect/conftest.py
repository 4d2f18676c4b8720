"""Fixtures of the collect tests: the recorded sandbox CI served to the real GitHub client."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from release_ledger.adapters.github import GitHubClient
from release_ledger.adapters.http import set_testing
from release_ledger.sandbox.transport import github_transport
from release_ledger.sandbox.ci_dataset import write_dataset

PRODUCT = Path(__file__).resolve().parents[2] / "sandbox" / "product"


@pytest.fixture(autouse=True)
def no_retry_waits():
    """Retries happen at once: tests never sleep."""
    set_testing(True, attempts=3)
    yield
    set_testing(False)


@pytest.fixture(scope="session")
def recorded_ci(tmp_path_factory) -> Path:
    """The sandbox GitHub folder with the recorded CI (written once, read-only in tests)."""
    root = tmp_path_factory.mktemp("github")
    write_dataset(root)
    return root


@pytest.fixture
def github_dir(recorded_ci, tmp_path) -> Path:
    """A private copy of the recorded CI that a test may damage."""
    root = tmp_path / "github"
    shutil.copytree(recorded_ci, root)
    return root


@pytest.fixture
def make_client(recorded_ci, tmp_path):
    """Build a real GitHubClient over the sandbox transport (a fresh one per call, shared cache)."""
    def make(root: Path | None = None) -> GitHubClient:
        http = httpx.Client(transport=github_transport(root or recorded_ci))
        return GitHubClient(http, "https://api.github.com", "ghp_testtoken",
                            cache_dir=tmp_path / "cache" / "http")
    return make
