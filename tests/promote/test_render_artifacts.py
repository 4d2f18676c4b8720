"""The artifacts summaries: DOMAIN §5 keys and sections, checked against golden files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release_ledger.workflows.render.artifacts import (COPIED, EXISTING_WITH_CI, EXISTING_WITHOUT_CI, TO_BUILD,
                                        ArtifactRow, render_json, render_markdown)

GOLDEN = Path(__file__).parent / "golden"
D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64
DEV = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-dev-ubuntu-22.04-amd64"
CI = "ghcr.io/tenstorrent/tt-shield/vllm-tt-metal-src-dev-ubuntu-22.04-amd64"

ROWS = [
    ArtifactRow(f"{DEV}:0.4.0-e95ffa5-48eba14", COPIED,
                f"{CI}:0.3.0-e95ffa59adbe39237525161272141cbbb603c686-48eba14-55012345678", D1, D1),
    ArtifactRow("ghcr.io/tenstorrent/tt-media-inference-server:0.4.0-2496be4", EXISTING_WITH_CI,
                "ghcr.io/tenstorrent/tt-shield/tt-media-inference-server-dev:0.3.0-2496be4-1", D2, D2),
    ArtifactRow(f"{DEV}:0.4.0-9b67e09-a91b644", EXISTING_WITHOUT_CI, None, None, D2),
    ArtifactRow(f"{DEV}:0.4.0-v0.62.0-rc33-e3c3ae7", TO_BUILD),
    ArtifactRow(f"{DEV}:0.4.0-0000000-a91b644", TO_BUILD, waived=True),
]


def test_markdown_matches_golden():
    """The Markdown summary is byte for byte the reviewed golden file."""
    assert render_markdown(ROWS, "0.4.0", "dev") == (GOLDEN / "dev_artifacts_summary.md").read_text()


def test_json_matches_golden():
    """The JSON summary is byte for byte the reviewed golden file."""
    assert render_json(ROWS) == (GOLDEN / "dev_artifacts_summary.json").read_text()


def test_empty_summary_matches_golden():
    """A release with nothing to promote still has every section, each with a zero total."""
    assert render_markdown([], "0.4.0", "rc") == (GOLDEN / "empty_release_summary.md").read_text()


def test_json_has_domain_keys():
    """The JSON keeps upstream's keys, plus the digests."""
    assert list(json.loads(render_json(ROWS))) == [
        "images_to_build", "copied_images", "existing_with_ci_ref", "existing_without_ci_ref",
        "summary", "digests"]


def test_json_totals_count_rows():
    """The summary totals count each kind of image."""
    assert json.loads(render_json(ROWS))["summary"] == {
        "total_to_build": 2, "total_copied": 1, "total_existing_with_ci": 1,
        "total_existing_without_ci": 1}


def test_order_of_rows_does_not_change_bytes():
    """The same rows in another order give the same bytes."""
    assert render_json(reversed(ROWS)) == render_json(ROWS)


def test_unknown_kind_refused():
    """A row of an unknown kind is an error naming the kind."""
    with pytest.raises(ValueError, match="'moved'"):
        render_json([ArtifactRow("x", "moved")])
