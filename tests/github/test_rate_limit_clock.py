"""Rate-limit stops say when to retry, computed from the server's reset time and our clock."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from freezegun import freeze_time

from release_ledger.adapters.errors import RateLimited
from release_ledger.adapters.github import GitHubClient

NOW = dt.datetime(2026, 11, 20, 4, 0, 0, tzinfo=dt.timezone.utc)


def _limited(reset_in: int):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"message": "API rate limit exceeded for user ID 1."},
                              headers={"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000",
                                       "x-ratelimit-reset": str(int(NOW.timestamp()) + reset_in)})
    return httpx.MockTransport(handler)


@freeze_time(NOW)
def test_primary_limit_beyond_max_wait_names_the_reset_time():
    """A reset an hour away with --max-wait 60 stops at once, naming the UTC time to retry."""
    client = GitHubClient(httpx.Client(transport=_limited(3600)), "https://api.github.com",
                          "ghp_" + "x" * 36, max_wait=60)
    with pytest.raises(RateLimited) as info:
        client.get_json("/repos/tenstorrent/tt-shield/actions/workflows/on-nightly.yml/runs")
    message = str(info.value)
    assert "retry after 2026-11-20 05:00:00 UTC (in 3600 s; --max-wait is 60 s)" in message
    assert "ghp_" not in message

