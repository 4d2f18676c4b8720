"""`release status`: where the release is, what comes next, what it waits on."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON object instead.")
@click.argument("version", required=False)
@click.pass_obj
def status(app, as_json: bool, version: str | None) -> None:
    """Show a release's state (the open one unless VERSION is given).

    Reads the ledger only: no network, fast on any ledger size.

    \b
    Examples:
      release status
      release status 0.4.0 --json | jq .waiting_on
    """
    from release_ledger.commands.render import render_status, status_dict
    from release_ledger.engine.releases import pick_release

    state = pick_release(app.ledger(), version)
    if as_json:
        click.echo(json.dumps(status_dict(state), indent=2))
    else:
        click.echo(render_status(state), nl=False)
