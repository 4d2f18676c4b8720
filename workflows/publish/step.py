"""The publish step (`rc-promoted -> released`): tag vX.Y.Z and publish the GitHub release.

Waits until the release PR to main is merged, then puts the annotated tag `vX.Y.Z` at its merge
commit (already there = done; at another commit = stop, DESIGN §8) and creates or updates the
GitHub release for the tag, published unless `github.draft_release`, with notes rendered from the
ledger and the diff (DOMAIN §6). Last, it tidies the work tree (workflows/publish/tidy.py) so that
`git pull` brings the released files. docs/PULL_REQUESTS.md tells the whole story.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from release_ledger.adapters.files import write_atomic
from release_ledger.engine.events import Event, parse_event
from release_ledger.engine.step import Outcome, Plan, StepContext
from release_ledger.workflows.promote.events import ImagesNeedBuild
from release_ledger.workflows.promote.history import fold
from release_ledger.workflows.pulls.step import (DIFF_FILE, RELEASE, BranchPushed, PullRequestMerged,
                                    ci_runs_used, fetch_commit, gate, logs_dir,
                                    release_paths, repo_api, tag_name)
from release_ledger.workflows.publish.tidy import (WorkTreeTidied, apply_tidy, plan_tidy, tidy_lines,
                                                  tidy_plan_lines, with_earlier)
from release_ledger.workflows.render.notes import (NOTES_FILE, CiRun, NotesInput, PublishedImage, parse_diff,
                                                   render_notes)

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


def released_commits(ctx: StepContext) -> list[str]:
    """The commits that hold the release's files: each branch's last push, then each merge."""
    pushed = {e.branch: e.commit for e in ctx.events_of(BranchPushed)}
    merged = [e.merge_commit_sha for e in ctx.events_of(PullRequestMerged)]
    return list(dict.fromkeys([*pushed.values(), *merged]))


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
        tidy = plan_tidy(ctx.services.git(), release_paths(ctx), released_commits(ctx))
        return Plan(lines=[f"tag {tag} (annotated) at {merge[:12]} and push it",
                           f"{'draft' if draft else 'publish'} the GitHub release {tag} "
                           f"with notes from {logs_dir(ctx.version)}{NOTES_FILE}",
                           *tidy_plan_lines(tidy)], data=tidy)

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
        for line in tidy_lines(self._tidy(ctx), ctx.services.config.github.remote):
            ctx.out.line(line)
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
        api = repo_api(ctx)
        key = f"publish:release:{tag}"
        # A release a killed attempt created is found on resume: it was still created by us.
        meant = ctx.recorded_intent(key).get("would")
        if meant is None and ctx.outcome_of(key) is None:
            meant_now = "created" if api.release_by_tag(tag) is None else None
        else:
            meant_now = None

        def act() -> list[Event]:
            # Rendered and written only while the effect is undone: the notes read the diff
            # from the work tree, which the tidy-up after this effect may have removed.
            notes = release_notes(ctx)
            path = Path(ctx.repo) / logs_dir(ctx.version) / NOTES_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, notes)
            # Find-or-create by tag (422 already_exists = update): acting again after a kill
            # is the reconciliation.
            release, action = api.ensure_release(tag, merge, tag, notes, cfg.draft_release)
            if meant == "created" and action != "created":
                action = "created"
            return [ReleasePublished(tag=tag, release_id=release.id, url=release.url,
                                     draft=release.draft, action=action)]

        return ctx.effect(key, act, intent={"tag": tag, "draft": cfg.draft_release,
                                            "would": meant or meant_now})[0]

    def _tidy(self, ctx: StepContext) -> WorkTreeTidied:
        git, tag = ctx.services.git(), tag_name(ctx.version)
        written, commits = release_paths(ctx), released_commits(ctx)
        key = f"publish:tidy:{tag}"
        earlier = ctx.recorded_intent(key)  # what a killed attempt meant to tidy, if there was one
        plan = plan_tidy(git, written, commits)

        def act() -> list[Event]:
            apply_tidy(git, plan)
            return [with_earlier(plan, earlier, git).event()]

        def reconcile() -> list[Event] | None:
            # Killed after tidying, before recording it: the world already shows the effect.
            if plan.restore or plan.remove:
                return None
            return [with_earlier(plan, earlier, git).event()]

        return ctx.effect(key, act, reconcile, intent={
            "commits": commits, "restore": list(plan.restore), "remove": list(plan.remove)})[0]
