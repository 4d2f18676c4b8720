"""The spec step (`collected -> spec-updated`): pin the catalogue, write VERSION once, regenerate.

DESIGN §3 / DOMAIN §4. `plan` computes the text of every file from the target as it is now, the
last-good data and the target version fixed at `release start`; `apply` writes each file that
differs, atomically, as one recorded effect (sha256 before and after). Everything is computed
from the inputs, so a re-run after a kill writes the same bytes, and VERSION is never bumped twice
(DOMAIN §7.1). The diff is computed against the catalogue recorded at `start`, so it is right on
every run, not only the first (DOMAIN §7.4); derived files use the NEW version (DOMAIN §7.5).

A person may edit the catalogue by hand after this step (upstream's "manual models"):
`notice_manual_edit(ctx)`, run before every later step, sees the changed hash, records the edit
and regenerates the derived files from the edited catalogue, leaving the edit itself alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from release_ledger.adapters.files import write_atomic
from release_ledger.engine.events import Event
from release_ledger.engine.step import Outcome, Plan, StepContext
from release_ledger.workflows.spec.edit import CatalogueUpdate, TemplateUpdate, plan_catalogue, update_catalogue
from release_ledger.workflows.errors import CatalogueError
from release_ledger.workflows.collect.last_good import load_last_good
from release_ledger.workflows.spec.catalogue import CATALOGUE_PATH, DEFAULT_RELEASE_REPO, Catalogue, expand
from release_ledger.workflows.spec.reader import known_devices, parse_catalogue
from release_ledger.workflows.render.diff import DIFF_FILE, diff_rows, render_models_diff
from release_ledger.workflows.render.readme import render_model_table, replace_model_table
from release_ledger.workflows.render.specs_output import OUTPUT_FILE, render_specs_output

README = "README.md"
LastGoodLoader = Callable[[Path, str], dict[str, Any]]


# --- events ----------------------------------------------------------------------------------

class SpecFileWritten(Event):
    """A file of the target was written by the spec step (or found already right)."""

    type: ClassVar[str] = "SpecFileWritten"
    path: str
    sha256_before: str | None
    sha256_after: str


class SpecUpdated(Event):
    """The catalogue was pinned and every derived file regenerated; `files` maps path -> sha256."""

    type: ClassVar[str] = "SpecUpdated"
    files: dict[str, str]
    templates_changed: int = 0
    conflicts: list[str] = []
    notes: list[str] = []


class CatalogueEditedByHand(Event):
    """The catalogue's hash differs from the one the release wrote: a person edited it."""

    type: ClassVar[str] = "CatalogueEditedByHand"
    path: str
    sha256_recorded: str
    sha256_found: str


class DerivedFilesRegenerated(Event):
    """The derived files were rewritten from a hand-edited catalogue; `files` maps path -> sha256."""

    type: ClassVar[str] = "DerivedFilesRegenerated"
    files: dict[str, str]


# --- pure planning ---------------------------------------------------------------------------

def sha256_text(text: str | None) -> str | None:
    """The sha256 of a file's UTF-8 text (None for a missing file)."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class SpecFiles:
    """Every file the step writes (relative path -> text), and what the update found."""

    files: dict[str, str]
    updates: list[TemplateUpdate] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed_templates: int = 0


def diff_path(version: str) -> str:
    """Where this release's diff lives: `release_logs/v{version}/release_models_diff.md`."""
    return f"release_logs/v{version}/{DIFF_FILE}"


def derived_files(catalogue_text: str, baseline_text: str | None, readme: str | None,
                  version: str, updates: list[TemplateUpdate], *, path: str = CATALOGUE_PATH,
                  devices: frozenset[str] | None = None,
                  release_repo: str = DEFAULT_RELEASE_REPO) -> SpecFiles:
    """The text of every file derived from a catalogue at `version` (pure)."""
    kwargs = {"devices": devices} if devices else {}
    current = parse_catalogue(catalogue_text, path, **kwargs)
    baseline = _parse_baseline(baseline_text, path, kwargs)
    rows = diff_rows(baseline, current, updates)
    conflicts = [c for u in updates for c in u.conflicts]
    notes = [n for u in updates for n in u.notes]
    files = {
        "VERSION": f"{version}\n",
        CATALOGUE_PATH: catalogue_text,
        OUTPUT_FILE: render_specs_output(expand(current, version, release_repo)),
        diff_path(version): render_models_diff(rows, conflicts, notes),
    }
    if readme is not None:
        files[README] = replace_model_table(readme, render_model_table(current, version,
                                                                       release_repo), README)
    return SpecFiles(files=files, updates=updates, conflicts=conflicts, notes=notes,
                     changed_templates=len(rows))


def _parse_baseline(text: str | None, path: str, kwargs: dict) -> Catalogue | None:
    if text is None:
        return None
    try:
        return parse_catalogue(text, f"{path} (as recorded at release start)", **kwargs)
    except CatalogueError:
        return None  # a baseline we cannot read makes every template show as new


def spec_files(catalogue_text: str, baseline_text: str | None, readme: str | None,
               last_good: dict[str, Any], version: str, *, path: str = CATALOGUE_PATH,
               devices: frozenset[str] | None = None,
               release_repo: str = DEFAULT_RELEASE_REPO) -> SpecFiles:
    """Pin the catalogue to last-good and derive every other file from it (pure)."""
    kwargs = {"devices": devices} if devices else {}
    update: CatalogueUpdate = update_catalogue(catalogue_text, last_good, version, path, **kwargs)
    return derived_files(update.text, baseline_text, readme, version, update.updates, path=path,
                         devices=devices, release_repo=release_repo)


# --- the world -------------------------------------------------------------------------------

def read_text(repo: Path, rel: str) -> str | None:
    """A target file's text, or None when it does not exist."""
    path = repo / rel
    return path.read_text(encoding="utf-8") if path.is_file() else None


def default_last_good(repo: Path, version: str) -> dict[str, Any]:
    """Last-good data of this release, as the collect step wrote it (DOMAIN §2)."""
    return load_last_good(repo, version)


def _baseline_text(ctx: StepContext, rel: str) -> str | None:
    baseline = ctx.started_event().get("baseline") or {}
    entry = baseline.get(rel)
    return entry.get("text") if isinstance(entry, dict) else None


def _release_repo(ctx: StepContext) -> str:
    config = getattr(ctx.services, "config", None)
    return config.images.release_repo if config is not None else DEFAULT_RELEASE_REPO


def _write_effect(ctx: StepContext, rel: str, text: str, scope: str = "spec") -> SpecFileWritten:
    """Write one file as a recorded effect; a file already holding the text is just recorded.

    The key holds the text's hash, so a re-run after a kill finds the same effect; `scope`
    separates regenerations, whose texts may repeat an earlier write the disk no longer holds.
    """
    path = ctx.repo / rel
    after = sha256_text(text)
    key = f"{scope}:write:{rel}@{after}"
    before = sha256_text(read_text(ctx.repo, rel))

    def found() -> list[Event] | None:
        # A killed attempt may have written the file already: its intent says what was there
        # before it wrote, which the disk no longer shows.
        if read_text(ctx.repo, rel) == text:
            meant = ctx.recorded_intent(key)
            return [SpecFileWritten(path=rel, sha256_before=meant.get("sha256_before", before),
                                    sha256_after=after)]
        return None

    def act() -> list[Event]:
        if sha256_text(read_text(ctx.repo, rel)) != after:
            write_atomic(path, text)
        return [SpecFileWritten(path=rel, sha256_before=before, sha256_after=after)]

    events = ctx.effect(key, act, reconcile=found,
                        intent={"path": rel, "sha256_before": before, "sha256_after": after})
    return events[0]  # type: ignore[return-value]


# --- the step --------------------------------------------------------------------------------

class SpecStep:
    """`update_spec`: collected -> spec-updated."""

    trigger = "update_spec"

    def __init__(self, load_last_good: LastGoodLoader | None = None):
        self.load_last_good = load_last_good or default_last_good

    def plan(self, ctx: StepContext) -> Plan:
        """Compute every file's new text; write nothing."""
        repo = ctx.repo
        source = read_text(repo, CATALOGUE_PATH)
        if source is None:
            raise CatalogueError(f"{repo / CATALOGUE_PATH} does not exist; the model catalogue "
                                 "is read from it")
        result = spec_files(
            source, _baseline_text(ctx, CATALOGUE_PATH), read_text(repo, README),
            self.load_last_good(repo, ctx.version), ctx.version,
            path=str(repo / CATALOGUE_PATH), devices=known_devices(repo),
            release_repo=_release_repo(ctx))
        lines = [f"{'write' if read_text(repo, rel) != text else 'keep '} {rel}"
                 for rel, text in result.files.items()]
        lines += [f"template {u.template_index + 1} ({u.impl_id} {u.weights[0]}): "
                  f"tt-metal {u.tt_metal_commit}, vllm {u.vllm_commit}, status {u.status} "
                  f"from {u.source_model_id}" for u in result.updates if u.source_model_id]
        lines += [f"conflict: {c}" for c in result.conflicts]
        lines += [f"note: {n}" for n in result.notes]
        return Plan(lines=lines, data=result)

    def apply(self, ctx: StepContext, plan: Plan) -> Outcome:
        """Write each file atomically as one effect, then report conflicts."""
        result: SpecFiles = plan.data
        written = {rel: _write_effect(ctx, rel, text).sha256_after
                   for rel, text in result.files.items()}
        for conflict in result.conflicts:
            ctx.out.line(f"conflict: {conflict}")
        for note in result.notes:
            ctx.out.line(f"note: {note}")
        ctx.out.line(f"catalogue pinned: {result.changed_templates} template(s) differ from "
                     f"the start of the release; VERSION = {ctx.version}")
        return Outcome(done=True, events=[SpecUpdated(
            files=written, templates_changed=result.changed_templates,
            conflicts=result.conflicts, notes=result.notes)])


# --- hand edits after the step ---------------------------------------------------------------

def recorded_catalogue_sha(ctx: StepContext) -> str | None:
    """The catalogue hash this release last wrote or regenerated from, or None before the step."""
    sha = None
    for row in ctx.history():
        if row.type in (SpecUpdated.type, DerivedFilesRegenerated.type):
            sha = row.payload.get("files", {}).get(CATALOGUE_PATH, sha)
    return sha


def detect_manual_edit(ctx: StepContext) -> bool:
    """Whether the catalogue on disk differs from the one the release recorded."""
    recorded = recorded_catalogue_sha(ctx)
    if recorded is None:
        return False
    return sha256_text(read_text(ctx.repo, CATALOGUE_PATH)) != recorded


def regenerate(ctx: StepContext, load_last_good: LastGoodLoader | None = None) -> dict[str, str]:
    """Record a hand edit of the catalogue and rewrite the derived files from it."""
    repo = ctx.repo
    source = read_text(repo, CATALOGUE_PATH)
    if source is None:
        raise CatalogueError(f"{repo / CATALOGUE_PATH} was deleted after the spec step")
    found = sha256_text(source)
    path, devices = str(repo / CATALOGUE_PATH), known_devices(repo)
    catalogue = parse_catalogue(source, path, devices)  # a broken edit stops here, nothing written
    last_good = (load_last_good or default_last_good)(repo, ctx.version)
    updates = plan_catalogue(catalogue, last_good, ctx.version)  # CI links and conflicts only
    result = derived_files(source, _baseline_text(ctx, CATALOGUE_PATH), read_text(repo, README),
                           ctx.version, updates, path=path, devices=devices,
                           release_repo=_release_repo(ctx))
    ctx.record(CatalogueEditedByHand(path=CATALOGUE_PATH,
                                     sha256_recorded=recorded_catalogue_sha(ctx) or "",
                                     sha256_found=found))
    scope = f"spec-regenerate-{len(ctx.events_of(CatalogueEditedByHand))}"
    written = {rel: _write_effect(ctx, rel, text, scope).sha256_after
               for rel, text in result.files.items() if rel != CATALOGUE_PATH}
    written[CATALOGUE_PATH] = found
    ctx.record(DerivedFilesRegenerated(files=written))
    ctx.out.line(f"{CATALOGUE_PATH} was edited by hand; derived files regenerated")
    return written


def notice_manual_edit(ctx: StepContext) -> bool:
    """Before a later step: regenerate the derived files if the catalogue was edited by hand."""
    if ctx.dry_run or not detect_manual_edit(ctx):
        return False
    regenerate(ctx)
    return True
