"""`release graph`: the state machine as a Mermaid diagram."""

from __future__ import annotations

import click


@click.command()
def graph() -> None:
    """Print the release state machine as Mermaid (paste it into a PR or docs).

    \b
    Example:
      release graph > machine.mmd
    """
    from release_ledger.engine.machine import mermaid

    click.echo(mermaid(), nl=False)
