"""`release abort`: abandon a release (terminal)."""

from __future__ import annotations

import click


@click.command()
@click.argument("version", required=False)
@click.option("--reason", required=True, help="Why the release is abandoned (recorded).")
@click.pass_obj
def abort(app, version: str | None, reason: str) -> None:
    """Abandon a release: it stays in the ledger, and a new one may start.

    Nothing is undone: run `release rollback` first to take promoted images back.

    \b
    Example:
      release abort 0.4.0 --reason "CI regression in Llama-3.1-8B on N150"
    """
    from release_ledger.engine.releases import pick_release
    from release_ledger.engine.runner import abort as abort_release

    ledger = app.ledger()
    state = pick_release(ledger, version)
    state = abort_release(ledger, state.version, reason)
    click.echo(f"release {state.version} aborted: {reason}")
