"""The GitHub release notes for tag vX.Y.Z (DOMAIN §6), from what the ledger and the diff record.

Sections: model support and status changes (rows of `release_models_diff.md`), the published
`-release-` images with their digests, images built for the release or waived, and the Models
CI runs the release used. Pure: same inputs, same bytes (checked against golden files).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NOTES_FILE = "release_notes.md"  # release_logs/vX.Y.Z/: the GitHub release body

_DIFF_HEADER = ("Impl", "Model Arch", "Weights", "Devices", "TT-Metal Commit Change",
                "Status Change", "CI Job Link")


@dataclass(frozen=True)
class ModelChange:
    """One row of `release_models_diff.md`."""

    impl: str
    model_arch: str
    weights: str
    devices: str
    commit_change: str
    status_change: str
    ci_link: str = ""


@dataclass(frozen=True)
class PublishedImage:
    """An image the release published (or found in place) and the digest it holds."""

    image: str
    digest: str
    kind: str = "copied"  # copied | existing_with_ci | existing_without_ci | built


@dataclass(frozen=True)
class CiRun:
    """A Models CI run whose results the release used."""

    id: int
    number: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class NotesInput:
    """Everything the notes show."""

    version: str
    previous_version: str | None = None
    changes: tuple[ModelChange, ...] = ()
    images: tuple[PublishedImage, ...] = ()
    built: tuple[str, ...] = ()
    waived: tuple[str, ...] = ()
    runs: tuple[CiRun, ...] = ()


def parse_diff(markdown: str) -> list[ModelChange]:
    """The rows of a `release_models_diff.md` table (none for "No updates were made.")."""
    rows: list[ModelChange] = []
    header: list[str] | None = None
    for line in markdown.splitlines():
        line = line.strip()
        if not (line.startswith("|") and line.endswith("|")):
            continue
        cells = [c.strip() for c in line[1:-1].split("|")]
        if header is None:
            header = cells
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the separator row
        row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
        rows.append(ModelChange(*(row.get(h, "") for h in _DIFF_HEADER)))
    return rows


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _changes(changes: Iterable[ModelChange]) -> list[str]:
    changes = list(changes)
    lines = ["## Model support changes", ""]
    if not changes:
        return lines + ["No model support changes.", ""]
    lines += ["| Impl | Model Arch | Weights | Devices | Status | tt-metal commit | CI |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {c.impl} | {c.model_arch} | {c.weights} | {c.devices} | {c.status_change} "
              f"| {c.commit_change} | {c.ci_link} |" for c in changes]
    return lines + [""]


def _images(images: Iterable[PublishedImage]) -> list[str]:
    images = sorted(images, key=lambda i: i.image)
    lines = ["## Images", ""]
    if not images:
        return lines + ["No images were published.", ""]
    lines += ["| Image | Digest |", "|---|---|"]
    lines += [f"| `{_md(i.image)}` | `{i.digest}` |" for i in images]
    return lines + [""]


def _listed(title: str, empty: str, names: Iterable[str], note: str = "") -> list[str]:
    names = sorted(set(names))
    lines = [f"### {title}", ""]
    if not names:
        return lines + [empty, ""]
    return lines + ([note, ""] if note else []) + [f"- `{n}`" for n in names] + [""]


def _runs(runs: Iterable[CiRun]) -> list[str]:
    runs = sorted(set(runs), key=lambda r: (-(r.number or 0), -r.id))
    lines = ["## Models CI runs used", ""]
    if not runs:
        return lines + ["None recorded.", ""]
    for r in runs:
        label = f"Run {r.number}" if r.number is not None else f"Run id {r.id}"
        lines.append(f"- [{label}]({r.url}) (id {r.id})" if r.url else f"- {label} (id {r.id})")
    return lines + [""]


def render_notes(notes: NotesInput) -> str:
    """The release notes Markdown for `notes.version`."""
    version = notes.version.removeprefix("v")
    since = f" (previous release: v{notes.previous_version.removeprefix('v')})" \
        if notes.previous_version else ""
    lines = [f"# v{version}", "", f"Release v{version}{since}.", ""]
    lines += _changes(notes.changes)
    lines += _images(notes.images)
    lines += _listed("Built for this release", "No image needed a build.", notes.built)
    lines += _listed("Waived", "No image was waived.", notes.waived,
                     "These images could not be produced and were waived with `--skip-missing`; "
                     "the models that use them have no release image in this version.")
    lines += _runs(notes.runs)
    return "\n".join(lines).rstrip("\n") + "\n"
