"""`release verify`: the hash chain holds and every promoted tag is still at its digest."""

from __future__ import annotations

import click


@click.command()
@click.argument("version", required=False)
@click.pass_obj
def verify(app, version: str | None) -> None:
    """Check the ledger's hash chain, then every promoted image tag against its recorded digest.

    Exit 4 names the first broken event, or each drifted tag with both digests.

    \b
    Examples:
      release verify
      release verify 0.4.0 && echo "images are what the ledger says"
    """
    from release_ledger.engine.errors import VerificationFailed
    from release_ledger.engine.releases import pick_release
    from release_ledger.ledger import ChainBroken
    from release_ledger.workflows.promote.verify import check_release

    ledger = app.ledger(readonly=True)
    bad = ledger.verify()
    if bad is not None:
        raise ChainBroken(bad, ledger.path)
    click.echo(f"hash chain: ok ({ledger.count()} events)")
    state = pick_release(ledger, version)
    checked, drifted = check_release(ledger, state, app.services())
    for line in drifted:
        click.echo(f"drift: {line}", err=True)
    if drifted:
        raise VerificationFailed(f"{len(drifted)} of {checked} promoted tag(s) of release "
                                 f"{state.version} no longer hold their recorded digest")
    click.echo(f"images: ok ({checked} promoted tags at their recorded digests)")
