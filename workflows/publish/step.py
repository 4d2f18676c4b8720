"""The publish step (`rc-promoted -> released`): tag vX.Y.Z and publish the GitHub release.

Waits until the release PR to main is merged, then puts the annotated tag `vX.Y.Z` at its merge
commit (already there = done; at another commit = stop, DESIGN §8) and creates or updates the
GitHub release for the tag, published unless `github.draft_release`, with notes rendered from the
ledger and the diff (DOMAIN §6). Last, it tidies the work tree: every file the release wrote whose
content a pushed commit holds goes back to the checkout's HEAD version (or away, if HEAD lacks
it), so `git pull` brings the released files instead of refusing to overwrite their uncommitted
copies. A file no pushed commit holds (edited by hand, or written after the last push) is kept
and named with the command that sets it aside. docs/PULL_REQUESTS.md tells the whole story.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from release_ledger.adapters.files import write_atomic
from release_ledger.adapters.git import Git
from release_ledger.engine.events import Event, parse_event
from release_ledger.engine.step import Outcome, Plan, StepContext
from release_ledger.workflows.promote.events import ImagesNeedBuild
from release_ledger.workflows.promote.history import fold
from release_ledger.workflows.pulls.step import (DIFF_FILE, RELEASE, BranchPushed, PullRequestMerged,
                                    ci_runs_used, fetch_commit, gate, is_ledger_file, logs_dir,
                                    release_paths, repo_api, tag_name,
                                    written_by_release)
from release_ledger.workflows.render.notes import CiRun, NotesInput, PublishedImage, parse_diff, render_notes

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


class WorkTreeTidied(Event):
    """The release's files that pushed commits hold were put back to HEAD or removed.

    `kept` names each file left in place with the reason, `commands` the command that sets a
    kept file aside before `git pull` (only for those that would make the pull refuse).
    """

    type: ClassVar[str] = "WorkTreeTidied"
    restored: list[str]
    removed: list[str]
    kept: dict[str, str] = {}
    commands: dict[str, str] = {}
    commits: list[str] = []


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


# -- the tidy-up: a checkout the engineer can `git pull` ---------------------------------------

@dataclass(frozen=True)
class KeptFile:
    """A file the release wrote that the tidy-up leaves in place, and why."""

    path: str
    reason: str
    command: str | None = None  # sets it aside before `git pull`; None: it does not block a pull


@dataclass(frozen=True)
class TidyPlan:
    """What the tidy-up does: files back to HEAD, files removed, files kept."""

    restore: tuple[str, ...]
    remove: tuple[str, ...]
    kept: tuple[KeptFile, ...]
    commits: tuple[str, ...]

    def event(self) -> WorkTreeTidied:
        """The ledger's record of this plan, once applied."""
        return WorkTreeTidied(restored=list(self.restore), removed=list(self.remove),
                              kept={k.path: k.reason for k in self.kept},
                              commands={k.path: k.command for k in self.kept if k.command},
                              commits=list(self.commits))


def released_commits(ctx: StepContext) -> list[str]:
    """The commits that hold the release's files: each branch's last push, then each merge."""
    pushed = {e.branch: e.commit for e in ctx.events_of(BranchPushed)}
    merged = [e.merge_commit_sha for e in ctx.events_of(PullRequestMerged)]
    return list(dict.fromkeys([*pushed.values(), *merged]))


def _kept(path: str, work: str | None, head: str | None, index: str | None,
          held: dict[str, str | None]) -> KeptFile:
    quoted = shlex.quote(path)
    if head is None and all(blob is None for blob in held.values()):
        # No pushed commit and no upstream branch holds it, so `git pull` never writes it: it
        # stays, as the only copy on disk (release_notes.md: the GitHub release shows the text).
        return KeptFile(path, "no commit of the release holds it (written after the last push); "
                              "`git pull` leaves it alone")
    where = next((c for c, blob in reversed(held.items()) if blob is not None), None)
    reason = ("has staged changes no commit holds" if index not in (work, head)
              else f"differs from the version the release committed in {where[:12]}"
              if where else "differs from every commit of the release")
    if head is not None:
        return KeptFile(path, reason, f"git stash push -- {quoted}  (after `git pull`: "
                                      "git stash pop)")
    return KeptFile(path, reason, f"mv {quoted} {shlex.quote(path + '.mine')}  (after `git pull`, "
                                  "compare the two)")


def plan_tidy(git: Git, written: list[str], commits: list[str]) -> TidyPlan:
    """Decide, for each uncommitted file the release wrote, whether a pushed commit holds it.

    Reads only. Held with the same content (and nothing else staged): back to HEAD's version
    when HEAD tracks it, else removed. Anything else is kept, so nothing that lives only in the
    work tree is ever lost. Files the release did not write are not looked at.
    """
    known = [c for c in commits if git.rev_parse(c) is not None]
    restore: list[str] = []
    remove: list[str] = []
    kept: list[KeptFile] = []
    for path in git.dirty_files():
        if is_ledger_file(path) or not written_by_release(path, written):
            continue
        work, head, index = git.worktree_blob(path), git.blob_at("HEAD", path), git.index_blob(path)
        held = {c: git.blob_at(c, path) for c in known}
        if work in held.values() and index in (work, head):
            (restore if head is not None else remove).append(path)
        else:
            kept.append(_kept(path, work, head, index, held))
    return TidyPlan(tuple(restore), tuple(remove), tuple(kept), tuple(known))


def with_earlier(plan: TidyPlan, earlier: dict, git: Git) -> TidyPlan:
    """`plan` plus what a killed attempt (its recorded intent) already tidied, for the record."""
    clean = set(earlier.get("restore", []) + earlier.get("remove", [])) - set(git.dirty_files())
    return TidyPlan(tuple(sorted(set(plan.restore) | clean & set(earlier.get("restore", [])))),
                    tuple(sorted(set(plan.remove) | clean & set(earlier.get("remove", [])))),
                    plan.kept, plan.commits)


def apply_tidy(git: Git, plan: TidyPlan) -> None:
    """Put the planned files back to HEAD and remove the planned untracked ones (nothing else)."""
    git.restore_from_head(list(plan.restore))
    git.remove_untracked(list(plan.remove))


def _some(paths: list[str]) -> str:
    shown = ", ".join(paths[:5])
    return shown + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def tidy_lines(tidied: WorkTreeTidied, remote: str) -> list[str]:
    """What the tidy-up did, one line, then one line per kept file (pure)."""
    n = len(tidied.restored) + len(tidied.removed)
    head = (f"tidied the work tree: {len(tidied.restored)} file(s) back to HEAD, "
            f"{len(tidied.removed)} removed, each held by a pushed commit" if n
            else "the work tree holds no uncommitted copy of a released file")
    pull = (f"`git pull` brings the released files from {remote} once the kept files below "
            "are set aside" if tidied.commands
            else f"`git pull` now brings the released files from {remote}")
    lines = [f"{head}; {pull}"]
    for path, reason in tidied.kept.items():
        command = tidied.commands.get(path)
        lines.append(f"kept {path}: {reason}"
                     + (f"; before `git pull`: {command}" if command else ""))
    return lines


def tidy_plan_lines(plan: TidyPlan) -> list[str]:
    """The dry run's view of the tidy-up (pure over the plan)."""
    lines = []
    if plan.restore:
        lines.append(f"put {_some(list(plan.restore))} back to HEAD (a pushed commit holds them)")
    if plan.remove:
        lines.append(f"remove {_some(list(plan.remove))} (a pushed commit holds them)")
    lines += [f"keep {k.path}: {k.reason}" for k in plan.kept]
    return lines + [f"keep {NOTES_FILE} (written after the last push; `git pull` leaves it "
                    "alone); then `git pull` brings the released files"]


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
