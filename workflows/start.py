"""Starting a release: fix the target version once and record the baseline of every file it edits."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from release_ledger.engine.events import ReleaseStarted
from release_ledger.engine.releases import start_release
from release_ledger.engine.state import ReleaseState
from release_ledger.ledger import EventStore
from release_ledger.workflows.errors import WorkflowError

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
#: Files the release edits; their text at start is what the diff is computed against.
BASELINE_FILES = ("VERSION", "workflows/model_spec.py", "README.md", "model_specs_output.json")


def parse_version(text: str, source: str) -> tuple[int, int, int]:
    """X.Y.Z as numbers; one sentence naming `source` when it is not semver."""
    value = text.strip().removeprefix("v")
    match = SEMVER.match(value)
    if not match:
        raise WorkflowError(f"{source} holds {value!r}, which is not a version X.Y.Z",
                            hint="versions are three numbers, e.g. 0.4.0")
    return tuple(int(p) for p in match.groups())  # type: ignore[return-value]


def bump(version: str, increment: str) -> str:
    """The next version after `version` for a major, minor or patch increment."""
    major, minor, patch = parse_version(version, "VERSION")
    if increment == "major":
        return f"{major + 1}.0.0"
    if increment == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def read_current_version(repo: Path) -> str | None:
    """The product's VERSION, or None when the file is missing."""
    path = repo / "VERSION"
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip()


def baseline(repo: Path) -> dict[str, Any]:
    """The text and sha256 of every file the release edits, as it is now."""
    files: dict[str, Any] = {}
    for name in BASELINE_FILES:
        path = repo / name
        if path.is_file():
            data = path.read_bytes()
            files[name] = {"sha256": hashlib.sha256(data).hexdigest(),
                           "text": data.decode("utf-8", errors="replace")}
    return files


def prepare_start(repo: Path, *, version: str | None, increment: str | None,
                  options: dict[str, Any]) -> ReleaseStarted:
    """The ReleaseStarted a start would record, checked (reads the checkout, writes nothing)."""
    current = read_current_version(repo)
    if version is not None:
        parse_version(version, "--version")
        target = version.strip().removeprefix("v")
    else:
        if current is None:
            raise WorkflowError(f"{repo / 'VERSION'} does not exist, so --increment has nothing "
                                "to increment", hint="pass --version X.Y.Z")
        target = bump(current, increment or "patch")
    if current is not None and SEMVER.match(current) and target == current:
        raise WorkflowError(f"the target version {target} is the current VERSION",
                            hint="use --increment, or a --version above it")
    return ReleaseStarted(version=target, previous_version=current, increment=increment,
                          options=options, baseline=baseline(repo))


def start(ledger: EventStore, repo: Path, *, version: str | None, increment: str | None,
          options: dict[str, Any], actor: str | None = None) -> ReleaseState:
    """Record ReleaseStarted with the target version fixed now (VERSION is not touched)."""
    started = prepare_start(repo, version=version, increment=increment, options=options)
    return start_release(ledger, started, actor=actor)
