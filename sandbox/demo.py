"""The demo's stand-in for reviewers: merge the sandbox's open pull requests for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def merge_open_pulls(services: Any, root: Path) -> list[int]:
    """Merge every open PR of the product repo in the sandbox (real merge commits in the remote)."""
    from release_ledger.sandbox.github_repo import merge_pull

    repo = services.config.github.repo
    client = services.github_client()
    numbers = [p["number"] for p in client.paginate(f"/repos/{repo}/pulls",
                                                    params={"state": "open", "per_page": 100})]
    for number in sorted(numbers):
        merge_pull(root / "github", number, root / "remote.git", repo)
    return sorted(numbers)
