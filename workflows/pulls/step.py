"""The pull requests of a release, and the `open_pr` step (dev-promoted -> pr-open).

`open_pr` commits exactly the files the release wrote on `pre-release-vX.Y.Z` (branched from
the dev branch), pushes it with a lease, and opens or updates the PR to dev (DOMAIN §6).
The helpers here (branches, bodies, pushes, PRs, the merge gate) serve `promote_rc` too
(workflows/promote/rc.py), which opens the release PR to main. Every effect goes through `ctx.effect` with a key derived from the branch, so a
re-run (or a run after kill -9) pushes and opens nothing twice (DESIGN §5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from release_ledger.adapters.files import write_atomic
from release_ledger.adapters.git import Git
from release_ledger.adapters.github_repo import GitHubRepo
from release_ledger.engine.errors import Waiting
from release_ledger.engine.events import Event
from release_ledger.engine.step import Outcome, Plan, StepContext
from release_ledger.workflows.errors import WorkflowError
from release_ledger.workflows.render.pr_body import render_pr_body

PRE_RELEASE, RELEASE = "pre_release", "release"
DIFF_FILE = "release_models_diff.md"
SUMMARY_FILES = {PRE_RELEASE: "dev_artifacts_summary.md", RELEASE: "release_artifacts_summary.md"}
BODY_FILES = {PRE_RELEASE: "pre_release_pr_body.md", RELEASE: "release_pr_body.md"}
# Files a release writes outside its own folder (DESIGN §2, §8); the spec step's events add more.
RELEASE_FILES = ("VERSION", "workflows/model_spec.py", "model_specs_output.json", "README.md")
_SHOWN = 10  # dirty files named in a message before "and N more"
COLLECTED = "ModelsCiCollected"  # the collect step's event (workflows.collect), read by type


# -- events -------------------------------------------------------------------------------------

class BranchPushed(Event):
    """A release branch was pushed: `commit` on top of `base`."""

    type: ClassVar[str] = "BranchPushed"
    kind: str
    branch: str
    base: str
    commit: str
    files: list[str] = []


class PullRequestOpened(Event):
    """The release's PR for `head` exists (opened, found, or its body updated)."""

    type: ClassVar[str] = "PullRequestOpened"
    kind: str
    number: int
    url: str
    head: str
    base: str
    commit: str
    action: str


class PullRequestMerged(Event):
    """A person merged the release's PR; later steps start from `merge_commit_sha`."""

    type: ClassVar[str] = "PullRequestMerged"
    kind: str
    number: int
    url: str
    merge_commit_sha: str


# -- names and places ---------------------------------------------------------------------------

def tag_name(version: str) -> str:
    """`vX.Y.Z`."""
    return f"v{version.removeprefix('v')}"


def branch_name(kind: str, version: str) -> str:
    """`pre-release-vX.Y.Z` or `rc-vX.Y.Z`."""
    return f"{'pre-release' if kind == PRE_RELEASE else 'rc'}-{tag_name(version)}"


def logs_dir(version: str) -> str:
    """The release's own folder in the target: `release_logs/vX.Y.Z/`."""
    return f"release_logs/{tag_name(version)}/"


def repo_api(ctx: StepContext) -> GitHubRepo:
    """Pull requests and releases of the product repository, as the services wire them."""
    cfg = ctx.services.config.github
    return GitHubRepo(ctx.services.github_client(), cfg.repo, cfg.token_env)


def release_paths(ctx: StepContext) -> list[str]:
    """Every path this release wrote: the fixed files, its folder, and the spec step's files."""
    paths = set(RELEASE_FILES)
    for row in ctx.history():
        files = row.payload.get("files") if row.type in ("SpecUpdated",
                                                        "DerivedFilesRegenerated") else None
        if isinstance(files, dict):
            paths.update(files)
    return sorted(paths) + [logs_dir(ctx.version)]


def is_ledger_file(path: str) -> bool:
    """Whether `path` is the SQLite ledger or a companion of it (`-wal`, `-shm`)."""
    return path.startswith("release_logs/ledger.sqlite")


def written_by_release(path: str, release_files: list[str]) -> bool:
    """Whether `path` is one of `release_files` or lies under one of its folders (`.../`)."""
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in release_files)


def _ours(path: str, release_files: list[str]) -> bool:
    # The ledger stays out of git (DESIGN §2); commands/ excludes it, this is a second guard.
    # `release collect` writes into release_logs/ci/ outside any release: ours, never foreign.
    from release_ledger.workflows.collect.standalone import DEFAULT_OUT

    return (is_ledger_file(path) or path.startswith(f"{DEFAULT_OUT}/")
            or written_by_release(path, release_files))


def foreign_dirty_files(git: Git, release_files: list[str]) -> list[str]:
    """Uncommitted files the release did not write (its own are expected to be uncommitted)."""
    return [p for p in git.dirty_files() if not _ours(p, release_files)]


def refuse_dirty(git: Git, release_files: list[str]) -> None:
    """Stop when the work tree holds changes the release did not make, naming them."""
    dirty = foreign_dirty_files(git, release_files)
    if dirty:
        shown = ", ".join(dirty[:_SHOWN]) + (f" and {len(dirty) - _SHOWN} more"
                                             if len(dirty) > _SHOWN else "")
        raise WorkflowError(f"the work tree {git.path} has changes the release did not make: "
                            f"{shown}",
                            hint="commit or stash them, then run `release advance` again")


def refuse_moved_base(git: Git, base: str, release_files: list[str], branch: str) -> None:
    """Stop when the dev branch changed a file the release rewrote since this checkout.

    The release's files were computed from the checkout; committing them on a newer dev would
    silently revert what others merged there.
    """
    since = git.merge_base("HEAD", base)
    if since is None or since == base:
        return
    moved = git.changed_between(since, base, release_files)
    if moved:
        raise WorkflowError(f"{branch} changed {', '.join(moved[:_SHOWN])} since this checkout, "
                            "and the release rewrote those files from the older version",
                            hint=f"bring the checkout up to date with {branch}, keeping the "
                                 "release's edits (git stash; git pull; git stash pop), then "
                                 "`release advance`")


# -- the CI runs behind the metadata comment ----------------------------------------------------

@dataclass(frozen=True)
class RunUsed:
    """One Models CI run the release used."""

    id: int
    number: int | None
    url: str | None


def ci_runs_used(ctx: StepContext) -> list[RunUsed]:
    """The Models CI runs behind this release, newest first.

    From the collect step's `ModelsCiCollected` event (`runs: [{id, number, url}]`, the latest
    one wins), else from the entries of the last-good file it wrote (DOMAIN §2).
    """
    runs: dict[int, RunUsed] = {}
    for row in ctx.history():
        listed = row.payload.get("runs")
        if row.type == COLLECTED and isinstance(listed, list):
            runs = {}
            for r in listed:
                if isinstance(r, dict) and r.get("id") is not None:
                    runs[int(r["id"])] = RunUsed(int(r["id"]),
                                                 r.get("number") or r.get("run_number"),
                                                 r.get("url") or r.get("html_url"))
    if not runs:
        folder = Path(ctx.repo) / logs_dir(ctx.version)
        for path in sorted(folder.glob("models_ci_last_good_*_to_*.json"))[-1:]:
            for entry in json.loads(path.read_text(encoding="utf-8")).values():
                if isinstance(entry, dict) and entry.get("ci_run_id") is not None:
                    rid = int(entry["ci_run_id"])
                    runs[rid] = RunUsed(rid, entry.get("ci_run_number"), entry.get("ci_run_url"))
    return sorted(runs.values(), key=lambda r: (-(r.number or 0), -r.id))


def newest_run_id(ctx: StepContext) -> int | None:
    """The id of the newest CI run used, for the PR body's metadata comment."""
    runs = ci_runs_used(ctx)
    return runs[0].id if runs else None


def pr_body(ctx: StepContext, kind: str) -> str:
    """The PR body of `kind` from the release's files (pre-release: diff then dev summary)."""
    folder = Path(ctx.repo) / logs_dir(ctx.version)
    names = [DIFF_FILE, SUMMARY_FILES[kind]] if kind == PRE_RELEASE else [SUMMARY_FILES[kind],
                                                                          DIFF_FILE]
    sections = []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise WorkflowError(f"{path} does not exist; the PR body is made from it",
                                hint="run the earlier steps again (`release advance`)")
        sections.append(path.read_text(encoding="utf-8"))
    return render_pr_body(newest_run_id(ctx), ctx.version, sections, folder=logs_dir(ctx.version))


# -- effects shared by both PR steps ------------------------------------------------------------

def _last(ctx: StepContext, cls: type, **match: Any) -> Any:
    found = [e for e in ctx.events_of(cls) if all(getattr(e, k) == v for k, v in match.items())]
    return found[-1] if found else None


def push_release_branch(ctx: StepContext, kind: str, base: str, paths: list[str]) -> BranchPushed:
    """Commit `paths` on top of `base` and push the release branch, leased on the last push."""
    git, remote = ctx.services.git(), ctx.services.config.github.remote
    branch = branch_name(kind, ctx.version)
    key = f"{ctx.step}:push:{branch}"
    done = ctx.outcome_of(key)
    if done is not None:
        return done[0]
    jsonl = logs_dir(ctx.version) + "events.jsonl"
    meant = ctx.recorded_intent(key).get("commit")
    if meant and git.remote_branch(remote, branch) == meant:
        # Killed after the push: the remote holds the commit the killed attempt built. Put its
        # events.jsonl back instead of exporting the (longer) ledger again, so the checkout
        # matches what was pushed and nothing new is committed.
        write_atomic(Path(ctx.repo) / jsonl, git.show_file(meant, jsonl) or "")
        commit = meant
    else:
        ctx.ledger.export_jsonl(ctx.version, Path(ctx.repo) / jsonl)
        stage = "pre-release" if kind == PRE_RELEASE else "release candidate"
        message = f"Release {tag_name(ctx.version)}: {stage} files\n"
        commit = git.commit_paths(base, paths, message)
    previous = _last(ctx, BranchPushed, branch=branch)
    expected = previous.commit if previous else None  # DESIGN §5: lease on what we recorded
    event = BranchPushed(kind=kind, branch=branch, base=base, commit=commit, files=paths)

    def act() -> list[Event]:
        git.push_branch(remote, commit, branch, expected)
        return [event]

    def reconcile() -> list[Event] | None:
        # Killed mid-push: the remote at the commit we meant to push means the push happened.
        meant = ctx.recorded_intent(key).get("commit")
        now = git.remote_branch(remote, branch)
        if meant and now == meant:
            return [event.model_copy(update={"commit": meant})]
        return None

    return ctx.effect(key, act, reconcile,
                      intent={"branch": branch, "commit": commit, "expected": expected})[0]


def open_pull(ctx: StepContext, kind: str, pushed: BranchPushed,
              base_branch: str) -> PullRequestOpened:
    """Find or open the PR of `kind`, writing its body only when it changed."""
    body = pr_body(ctx, kind)
    title = (f"Pre-release {tag_name(ctx.version)}" if kind == PRE_RELEASE
             else f"Release {tag_name(ctx.version)}")
    api = repo_api(ctx)

    key = f"{ctx.step}:pull:{pushed.branch}@{pushed.commit}"
    # What the first attempt found decides what this effect did: a PR that a killed attempt
    # created (or whose body it rewrote) is found "unchanged" on resume, yet it was created.
    meant = ctx.recorded_intent(key).get("would")
    done = ctx.outcome_of(key) is not None
    would = meant or (None if done else _would(api.find_pull(pushed.branch), body))

    def act() -> list[Event]:
        pull, action = api.ensure_pull(pushed.branch, base_branch, title, body)
        if action == "unchanged" and meant in ("created", "updated"):
            action = meant
        return [PullRequestOpened(kind=kind, number=pull.number, url=pull.url, head=pushed.branch,
                                  base=base_branch, commit=pushed.commit, action=action)]

    # ensure_pull finds before it creates, so acting again after a kill is the reconciliation.
    opened = ctx.effect(key, act,
                        intent={"head": pushed.branch, "base": base_branch, "would": would})[0]
    ctx.out.line(f"pull request #{opened.number} ({opened.action}): {opened.url}")
    return opened


def _would(existing: Any, body: str) -> str:
    """What ensure_pull is about to do, given the PR found now (for the effect's intent)."""
    if existing is None or (existing.state == "closed" and not existing.merged):
        return "created"
    return "unchanged" if existing.merged or existing.body == body else "updated"


def write_body_file(ctx: StepContext, kind: str) -> None:
    """Keep the PR body beside the other outputs, so the branch holds what the PR shows."""
    path = Path(ctx.repo) / logs_dir(ctx.version) / BODY_FILES[kind]
    body = pr_body(ctx, kind)
    if not path.is_file() or path.read_text(encoding="utf-8") != body:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, body)


# -- the merge gate -----------------------------------------------------------------------------

def wait_for_merge(ctx: StepContext, kind: str, record: bool = True) -> str:
    """The merge commit of the release's PR of `kind`; Waiting (exit 3) until a person merges it.

    A PR closed without merge is a WorkflowError that suggests `release abort`. Nothing is
    recorded while waiting; the merge, once seen, is recorded once (not in a dry run).
    """
    merged = _last(ctx, PullRequestMerged, kind=kind)
    opened = _last(ctx, PullRequestOpened, kind=kind)
    if opened is None:
        raise WorkflowError(f"release {ctx.version} has no recorded {kind.replace('_', '-')} "
                            "pull request to wait for")
    if merged is not None and merged.number == opened.number:
        return merged.merge_commit_sha
    pull = repo_api(ctx).get_pull(opened.number)
    if pull.merged and pull.merge_commit_sha:
        if record and not ctx.dry_run:
            ctx.record(PullRequestMerged(kind=kind, number=pull.number, url=opened.url,
                                         merge_commit_sha=pull.merge_commit_sha))
        return pull.merge_commit_sha
    if pull.state == "closed":
        raise WorkflowError(f"pull request #{pull.number} ({opened.url}) was closed without "
                            "being merged, so the release cannot go on",
                            hint=f"reopen and merge it, then `release advance`; or `release abort "
                                 f"{ctx.version} --reason ...`")
    raise Waiting(f"waiting for PR #{pull.number} to be merged: {opened.url}",
                  hint="merge it on GitHub, then run `release advance` again")


def gate(ctx: StepContext, kind: str,
         record: bool = True) -> tuple[str | None, Outcome | None]:
    """`wait_for_merge` for a step: (merge commit, None), or (None, a waiting Outcome)."""
    try:
        return wait_for_merge(ctx, kind, record), None
    except Waiting as wait:
        return None, Outcome(done=False, waits_on=wait.reason, hint=wait.hint)


def fetch_commit(git: Git, remote: str, branch: str, commit: str) -> None:
    """Make sure `commit` (a merge on `branch` of the remote) is in the local repository."""
    if git.rev_parse(commit) is None:
        git.fetch_branch(remote, branch)
    if git.rev_parse(commit) is None:
        raise WorkflowError(f"commit {commit} is not on {remote}/{branch}; the merge the release "
                            "waited for cannot be found")


# -- the steps ----------------------------------------------------------------------------------

class OpenPrStep:
    """`open_pr`: dev-promoted -> pr-open."""

    trigger = "open_pr"

    def plan(self, ctx: StepContext) -> Plan:
        """Say which branch, files, push and PR the step would make; write nothing."""
        cfg, git = ctx.services.config.github, ctx.services.git()
        paths = release_paths(ctx)
        branch = branch_name(PRE_RELEASE, ctx.version)
        previous = _last(ctx, BranchPushed, branch=branch)
        lease = previous.commit if previous else "branch absent"
        lines = [f"branch {branch} from {cfg.remote}/{cfg.dev_branch}",
                 f"commit {', '.join(paths)} (with events.jsonl)",
                 f"push {branch} to {cfg.remote} with a lease on {lease}",
                 f"open or update the pull request {branch} -> {cfg.dev_branch}"]
        dirty = foreign_dirty_files(git, paths)
        if dirty:
            lines.append("would refuse: uncommitted changes the release did not make: "
                         + ", ".join(dirty))
        return Plan(lines=lines, waits_on=f"a person to merge the PR {branch} -> {cfg.dev_branch}")

    def apply(self, ctx: StepContext, plan: Plan) -> Outcome:
        """Branch, commit, push and open the pre-release PR, each effect once."""
        cfg, git = ctx.services.config.github, ctx.services.git()
        paths = release_paths(ctx)
        refuse_dirty(git, paths)
        branch = branch_name(PRE_RELEASE, ctx.version)
        previous = _last(ctx, BranchPushed, branch=branch)
        base = previous.base if previous else git.fetch_branch(cfg.remote, cfg.dev_branch)
        refuse_moved_base(git, base, [p for p in paths if not p.endswith("/")],
                          f"{cfg.remote}/{cfg.dev_branch}")
        write_body_file(ctx, PRE_RELEASE)
        pushed = push_release_branch(ctx, PRE_RELEASE, base, paths)
        ctx.out.line(f"pushed {pushed.branch} at {pushed.commit[:12]}")
        open_pull(ctx, PRE_RELEASE, pushed, cfg.dev_branch)
        return Outcome(done=True)
