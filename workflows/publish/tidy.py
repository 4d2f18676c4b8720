"""The tidy-up after publishing: a checkout the engineer can `git pull`.

Every file the release wrote whose content a pushed commit holds goes back to the checkout's HEAD
version (or away, if HEAD lacks it), so `git pull` brings the released files instead of refusing
to overwrite their uncommitted copies. A file no pushed commit holds (edited by hand, or written
after the last push) is kept and named with the command that sets it aside. Files the release did
not write are never looked at; there is no `git clean` or `reset --hard`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import ClassVar

from release_ledger.adapters.git import Git
from release_ledger.engine.events import Event
from release_ledger.workflows.pulls.step import is_ledger_file, written_by_release
from release_ledger.workflows.render.notes import NOTES_FILE


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
