"""The `promote_rc` step (pr-open -> rc-promoted): the dev images to their `-release-` names.

It waits for the pre-release PR to be merged, branches `rc-vX.Y.Z` from its merge commit,
promotes every dev image by the digest recorded at dev promotion (so dev and release images are
provably the same bytes, DESIGN §8), commits the release summary and opens or updates the PR to
main. The branch and PR helpers are the pre-release PR's (workflows/pulls/step.py).
"""

from __future__ import annotations

from release_ledger.engine.step import Outcome, Plan, StepContext
from release_ledger.workflows.promote.step import promote_images
from release_ledger.workflows.pulls.step import (PRE_RELEASE, RELEASE, branch_name, fetch_commit, gate,
                                                 logs_dir, open_pull, push_release_branch,
                                                 write_body_file)


class PromoteRcStep:
    """`promote_rc`: pr-open -> rc-promoted, once the pre-release PR is merged."""

    trigger = "promote_rc"

    def plan(self, ctx: StepContext) -> Plan:
        """Check the gate (reading GitHub only) and say what would follow."""
        cfg = ctx.services.config.github
        merge, waiting = gate(ctx, PRE_RELEASE, record=False)
        branch = branch_name(RELEASE, ctx.version)
        if waiting is not None:
            return Plan(lines=[waiting.waits_on], waits_on=waiting.waits_on)
        return Plan(lines=[f"branch {branch} from the merge commit {merge[:12]}",
                           "promote every dev image to its -release- name by recorded digest",
                           f"commit {logs_dir(ctx.version)}, push {branch}",
                           f"open or update the pull request {branch} -> {cfg.main_branch}"],
                    waits_on=f"a person to merge the PR {branch} -> {cfg.main_branch}")

    def apply(self, ctx: StepContext, plan: Plan) -> Outcome:
        """Wait for the merge, promote to rc, commit the summary and open the release PR."""
        cfg, git = ctx.services.config.github, ctx.services.git()
        merge, waiting = gate(ctx, PRE_RELEASE)
        if waiting is not None:
            return waiting
        fetch_commit(git, cfg.remote, cfg.dev_branch, merge)
        promoted = promote_images(ctx, "rc")
        if not promoted.done:
            return promoted
        write_body_file(ctx, RELEASE)
        # Only the release's own folder: the merge commit already holds everything else, and
        # committing work-tree copies of shared files could revert what others merged to dev.
        pushed = push_release_branch(ctx, RELEASE, merge, [logs_dir(ctx.version)])
        ctx.out.line(f"pushed {pushed.branch} at {pushed.commit[:12]}")
        open_pull(ctx, RELEASE, pushed, cfg.main_branch)
        return Outcome(done=True, events=promoted.events)
