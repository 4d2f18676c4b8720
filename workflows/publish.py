"""The publish step (`rc-promoted -> released`): tag vX.Y.Z and publish the GitHub release.

Waits until the release PR to main is merged, then puts the annotated tag `vX.Y.Z` at its merge
commit (already there = done; at another commit = stop, DESIGN §8) and creates or updates the
GitHub release for the tag, published unless `github.draft_release`, with notes rendered from the
ledger and the diff (DOMAIN §6).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from engine.events import Event, parse_event
from engine.step import Outcome, Plan, StepContext
from workflows.promotion_events import ImagesNeedBuild
from workflows.promotion_history import fold
from workflows.pull_request import (DIFF_FILE, RELEASE, ci_runs_used, fetch_commit, gate,
                                    logs_dir, repo_api, tag_name)
from workflows.render_notes import CiRun, NotesInput, PublishedImage, parse_diff, render_notes

NOTES_FILE = "release_notes.md"


class ReleaseTagged(Event):
    """The annotated tag is on the remote at the release PR's merge commit."""

    type: ClassVar[str] = "ReleaseTagged"
    tag: str
    commit: str
    created: bool


class ReleasePublished(Event):
    """The GitHub release for the tag exists with the rendered notes."""

    type: ClassVar[str] = "ReleasePublished"
    tag: str
    release_id: int
    url: str
    draft: bool
    action: str


def notes_input(ctx: StepContext) -> NotesInput:
    """Gather what the notes show from the ledger and the release's files."""
    diff_path = Path(ctx.repo) / logs_dir(ctx.version) / DIFF_FILE
    changes = parse_diff(diff_path.read_text(encoding="utf-8")) if diff_path.is_file() else []
    events = [parse_event(e) for e in ctx.history()]
    rc = fold(events).stage("rc")
    needed = {i for e in events if isinstance(e, ImagesNeedBuild) and e.stage == "rc"
              for i in e.images}
    images = [PublishedImage(p.destination, p.digest,
                             "built" if p.destination in needed else p.kind)
              for p in rc.promoted.values()]
    return NotesInput(
        version=ctx.version, previous_version=ctx.state.previous_version,
        changes=tuple(changes), images=tuple(images),
        built=tuple(sorted(needed & set(rc.promoted))), waived=tuple(sorted(set(rc.waived))),
        runs=tuple(CiRun(r.id, r.number, r.url) for r in ci_runs_used(ctx)))


def release_notes(ctx: StepContext) -> str:
    """The notes Markdown of this release (pure over what `notes_input` gathers)."""
    return render_notes(notes_input(ctx))


class PublishStep:
    """`publish`: rc-promoted -> released, once the release PR is merged."""

    trigger = "publish"

    def plan(self, ctx: StepContext) -> Plan:
        """Check the gate (reading GitHub only) and say what would be tagged and published."""
        merge, waiting = gate(ctx, RELEASE, record=False)
        if waiting is not None:
            return Plan(lines=[waiting.waits_on], waits_on=waiting.waits_on)
        draft = ctx.services.config.github.draft_release
        tag = tag_name(ctx.version)
        return Plan(lines=[f"tag {tag} (annotated) at {merge[:12]} and push it",
                           f"{'draft' if draft else 'publish'} the GitHub release {tag} "
                           f"with notes from {logs_dir(ctx.version)}{NOTES_FILE}"])

    def apply(self, ctx: StepContext, plan: Plan) -> Outcome:
        """Tag the merge commit and create or update the GitHub release, each once."""
        merge, waiting = gate(ctx, RELEASE)
        if waiting is not None:
            return waiting
        tagged = self._tag(ctx, merge)
        ctx.out.line(f"tag {tagged.tag} at {tagged.commit[:12]}"
                     + ("" if tagged.created else " (already there)"))
        published = self._release(ctx, merge)
        ctx.out.line(f"GitHub release {published.tag} ({published.action}"
                     f"{', draft' if published.draft else ''}): {published.url}")
        return Outcome(done=True)

    def _tag(self, ctx: StepContext, merge: str) -> ReleaseTagged:
        cfg, git = ctx.services.config.github, ctx.services.git()
        tag = tag_name(ctx.version)

        def act() -> list[Event]:
            fetch_commit(git, cfg.remote, cfg.main_branch, merge)
            made = git.ensure_tag(tag, merge, f"Release {tag}\n")
            pushed = git.push_tag(cfg.remote, tag)
            return [ReleaseTagged(tag=tag, commit=merge, created=made or pushed)]

        def reconcile() -> list[Event] | None:
            if git.remote_tag_target(cfg.remote, tag) == merge:
                return [ReleaseTagged(tag=tag, commit=merge, created=True)]
            return None

        return ctx.effect(f"publish:tag:{tag}@{merge}", act, reconcile,
                          intent={"tag": tag, "commit": merge})[0]

    def _release(self, ctx: StepContext, merge: str) -> ReleasePublished:
        cfg = ctx.services.config.github
        tag = tag_name(ctx.version)
        notes = release_notes(ctx)
        path = Path(ctx.repo) / logs_dir(ctx.version) / NOTES_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notes, encoding="utf-8")
        api = repo_api(ctx)

        def act() -> list[Event]:
            # Find-or-create by tag (422 already_exists = update): acting again after a kill
            # is the reconciliation.
            release, action = api.ensure_release(tag, merge, tag, notes, cfg.draft_release)
            return [ReleasePublished(tag=tag, release_id=release.id, url=release.url,
                                     draft=release.draft, action=action)]

        return ctx.effect(f"publish:release:{tag}", act,
                          intent={"tag": tag, "draft": cfg.draft_release})[0]
