"""`release replay`: rebuild a release's state from the ledger alone and check the hash chain."""

from __future__ import annotations

import click


@click.command()
@click.argument("version", required=False)
@click.option("--at", "at_seq", type=click.IntRange(min=1), metavar="SEQ",
              help="Stop at this global event seq: the state as it was then.")
@click.pass_obj
def replay(app, version: str | None, at_seq: int | None) -> None:
    """Fold every event again (no cache) and check the hash chain; exit 4 if it is broken.

    \b
    Examples:
      release replay
      release replay 0.4.0 --at 42     # the state right after event #42
    """
    from release_ledger.commands.render import render_status
    from release_ledger.engine.releases import load_state, pick_release
    from release_ledger.ledger import ChainBroken

    ledger = app.ledger(readonly=True)
    bad = ledger.verify(upto_seq=at_seq)
    if bad is not None:
        raise ChainBroken(bad, ledger.path)
    version = pick_release(ledger, version).version
    state = load_state(ledger, version, upto_seq=at_seq or 10**18)
    click.echo(f"hash chain: ok ({ledger.count()} events)")
    click.echo(render_status(state), nl=False)
