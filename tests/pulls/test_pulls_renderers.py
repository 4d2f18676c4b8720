"""PR bodies and release notes: pure renderers checked byte for byte against golden files."""

from __future__ import annotations

import os
from pathlib import Path

from release_ledger.workflows.render.notes import CiRun, NotesInput, PublishedImage, parse_diff, render_notes
from release_ledger.workflows.render.pr_body import MAX_BODY, render_pr_body

GOLDEN = Path(__file__).parent / "golden"
DEV = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"

DIFF = """# Model Spec Release Updates

| Impl | Model Arch | Weights | Devices | TT-Metal Commit Change | Status Change | CI Job Link |
|---|---|---|---|---|---|---|
| tt-transformers | Qwen3-8B | Qwen/Qwen3-8B | N150, N300, T3K | 9b67e09 → e95ffa5 | EXPERIMENTAL → FUNCTIONAL | [Run 293](https://github.com/tenstorrent/tt-shield/actions/runs/19339722549/job/55098765432) |
| whisper | whisper-large-v3 | openai/whisper-large-v3 | N150, GALAXY | same | same | [Run 291](https://github.com/tenstorrent/tt-shield/actions/runs/19339722000/job/55098700000) |
"""

SUMMARY = """# Release Artifacts Summary

Version v0.4.0, stage: dev (`-dev-` images).

## Images Promoted from Models CI

None.

**Total:** 0
"""


def check(name: str, text: str) -> None:
    """Compare with golden/NAME (REGEN_GOLDEN=1 rewrites it)."""
    path = GOLDEN / name
    if os.environ.get("REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def notes_input() -> NotesInput:
    """A release with changes, images, a build, a waiver and two runs."""
    return NotesInput(
        version="0.4.0", previous_version="0.3.0", changes=tuple(parse_diff(DIFF)),
        images=(PublishedImage(f"{DEV}:0.4.0-e95ffa5-48eba14", "sha256:" + "b" * 64),
                PublishedImage(f"{DEV}:0.4.0-9b67e09-a91b644", "sha256:" + "a" * 64,
                               kind="built")),
        built=(f"{DEV}:0.4.0-9b67e09-a91b644",),
        waived=("ghcr.io/tenstorrent/tt-media-inference-server:0.4.0-2496be4",),
        runs=(CiRun(19339722000, 291, "https://github.com/tenstorrent/tt-shield/actions/runs/19339722000"),
              CiRun(19339722549, 293, "https://github.com/tenstorrent/tt-shield/actions/runs/19339722549")))


def test_pre_release_body_matches_golden() -> None:
    """The pre-release PR body: metadata comment, diff, dev summary."""
    check("pre_release_body.md", render_pr_body(19339722549, "0.4.0", [DIFF, SUMMARY]))


def test_body_starts_with_the_metadata_comment() -> None:
    """Other tools parse the first line: it is the metadata comment with the v-prefixed version."""
    body = render_pr_body(19339722549, "v0.4.0", [DIFF])
    assert body.splitlines()[0] == "<!-- metadata:run_id=19339722549 metadata:version=v0.4.0 -->"


def test_oversized_body_is_cut_to_githubs_limit() -> None:
    """A body over GitHub's limit is cut at a line end and says where the full files are."""
    big = "\n".join(f"| row {i} | {'x' * 80} |" for i in range(2000))
    body = render_pr_body(1, "0.4.0", [big], folder="release_logs/v0.4.0/")
    assert len(body) <= MAX_BODY
    assert body.endswith("the full files are in `release_logs/v0.4.0/` on this branch._\n")


def test_notes_match_golden() -> None:
    """Notes with changes, digests, a build, a waiver and the runs used."""
    check("release_notes.md", render_notes(notes_input()))


def test_notes_of_an_empty_release_match_golden() -> None:
    """A release that changed nothing says so in every section."""
    check("release_notes_empty.md", render_notes(NotesInput(version="0.4.1")))


def test_notes_are_the_same_bytes_every_time() -> None:
    """Rendering twice gives identical text (so an unchanged release is not re-sent)."""
    assert render_notes(notes_input()) == render_notes(notes_input())


def test_no_updates_diff_has_no_rows() -> None:
    """The diff's "No updates were made." gives no model changes."""
    assert parse_diff("# Model Spec Release Updates\n\nNo updates were made.\n") == []
