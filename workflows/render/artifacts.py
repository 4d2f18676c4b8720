"""The artifacts summaries: `dev_artifacts_summary.{md,json}` and `release_artifacts_summary.{md,json}`.

Pure renderers (DOMAIN §5): the keys and sections of upstream's summary, plus the source and
destination digest of every image, because a copy may not keep the bytes it was given (DOMAIN §7.9).
Same rows in, same bytes out: every mapping is sorted, every file ends with a newline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

COPIED = "copied"
EXISTING_WITH_CI = "existing_with_ci"
EXISTING_WITHOUT_CI = "existing_without_ci"
TO_BUILD = "to_build"
KINDS = (COPIED, EXISTING_WITH_CI, EXISTING_WITHOUT_CI, TO_BUILD)

SUMMARY_FILES = {"dev": "dev_artifacts_summary", "rc": "release_artifacts_summary"}


@dataclass(frozen=True)
class ArtifactRow:
    """One destination image as the summary shows it."""

    destination: str
    kind: str
    source: str | None = None
    source_digest: str | None = None
    digest: str | None = None
    waived: bool = False


def summary_data(rows: Iterable[ArtifactRow]) -> dict[str, Any]:
    """The summary as JSON-ready data, with DOMAIN §5's keys and a `digests` table."""
    rows = sorted(rows, key=lambda r: r.destination)
    by = {k: [r for r in rows if r.kind == k] for k in KINDS}
    unknown = [r.kind for r in rows if r.kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown artifact kind {unknown[0]!r}")
    return {
        "images_to_build": [r.destination for r in by[TO_BUILD]],
        "copied_images": {r.destination: r.source for r in by[COPIED]},
        "existing_with_ci_ref": {r.destination: r.source for r in by[EXISTING_WITH_CI]},
        "existing_without_ci_ref": [r.destination for r in by[EXISTING_WITHOUT_CI]],
        "summary": {
            "total_to_build": len(by[TO_BUILD]),
            "total_copied": len(by[COPIED]),
            "total_existing_with_ci": len(by[EXISTING_WITH_CI]),
            "total_existing_without_ci": len(by[EXISTING_WITHOUT_CI]),
        },
        "digests": {r.destination: {"source": r.source_digest, "destination": r.digest}
                    for r in rows if r.kind != TO_BUILD},
    }


def render_json(rows: Iterable[ArtifactRow]) -> str:
    """The summary JSON file's text."""
    return json.dumps(summary_data(rows), indent=2, ensure_ascii=False) + "\n"


def _code(value: str | None) -> str:
    return f"`{value}`" if value else "—"


def _sourced_table(rows: list[ArtifactRow]) -> list[str]:
    lines = ["| Image | Models CI source | Source digest | Destination digest |",
             "|---|---|---|---|"]
    lines += [f"| {_code(r.destination)} | {_code(r.source)} | {_code(r.source_digest)} "
              f"| {_code(r.digest)} |" for r in rows]
    return lines


def _section(title: str, rows: list[ArtifactRow], body: list[str]) -> list[str]:
    lines = [f"## {title}", ""]
    lines += (body + [""]) if rows else ["None.", ""]
    return lines + [f"**Total:** {len(rows)}", ""]


def render_markdown(rows: Iterable[ArtifactRow], version: str, stage: str) -> str:
    """The summary Markdown file's text: DOMAIN §5's four sections, each ending `**Total:** N`."""
    rows = sorted(rows, key=lambda r: r.destination)
    by = {k: [r for r in rows if r.kind == k] for k in KINDS}
    label = "dev (`-dev-` images)" if stage == "dev" else "release candidate (`-release-` images)"
    lines = ["# Release Artifacts Summary", "", f"Version v{version}, stage: {label}.", ""]
    lines += _section("Images Promoted from Models CI", by[COPIED], _sourced_table(by[COPIED]))
    lines += _section("Existing Images with Models CI reference", by[EXISTING_WITH_CI],
                      _sourced_table(by[EXISTING_WITH_CI]))
    lines += _section("Existing Images without Models CI reference", by[EXISTING_WITHOUT_CI],
                      ["| Image | Digest |", "|---|---|"]
                      + [f"| {_code(r.destination)} | {_code(r.digest)} |"
                         for r in by[EXISTING_WITHOUT_CI]])
    lines += _section("Docker Images Requiring New Builds", by[TO_BUILD],
                      [f"- {_code(r.destination)}" + (" (waived with `--skip-missing`)"
                                                      if r.waived else "")
                       for r in by[TO_BUILD]])
    return "\n".join(lines).rstrip("\n") + "\n"
