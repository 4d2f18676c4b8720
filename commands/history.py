"""`release history`: the audit trail, one event a line."""

from __future__ import annotations

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of events instead.")
@click.argument("version", required=False)
@click.pass_obj
def history(app, as_json: bool, version: str | None) -> None:
    """List every event of a release (the open one unless VERSION is given).

    \b
    Examples:
      release history
      release history 0.4.0 --json | jq '.[] | select(.type == "ImagePromoted")'
    """
    from release_ledger.commands.render import history_json, render_history
    from release_ledger.engine.releases import pick_release

    ledger = app.ledger(readonly=True)
    state = pick_release(ledger, version)
    events = ledger.events(state.version)
    click.echo(history_json(events) if as_json else render_history(events), nl=False)
