"""`release rollback`: undo the latest promotion, tag by tag, as planned and recorded."""

from __future__ import annotations

import click


@click.command()
@click.argument("version", required=False)
@click.option("--dry-run", is_flag=True, help="Print the rollback plan; change nothing.")
@click.option("--force", is_flag=True,
              help="Also roll back tags that drifted since the promotion (named in the plan).")
@click.pass_obj
def rollback(app, version: str | None, dry_run: bool, force: bool) -> None:
    """Undo the latest promotion not yet undone (rc if any, else dev).

    Each destination tag goes back to the digest it held before, or is removed where it did not
    exist. The plan comes first: if a tag changed since the promotion, nothing is touched unless
    --force. The state steps back (rc-promoted -> pr-open, dev-promoted/pr-open -> spec-updated),
    and `release verify` passes afterwards.

    \b
    Examples:
      release rollback --dry-run
      release rollback 0.4.0
    """
    from release_ledger.engine.releases import pick_release
    from release_ledger.workflows.promote.rollback import run_rollback

    ledger = app.ledger(readonly=dry_run)
    state = pick_release(ledger, version)
    for line in run_rollback(ledger, state, app.services(), repo=app.repo_path,
                             dry_run=dry_run, force=force, out=app.reporter()):
        click.echo(line)
