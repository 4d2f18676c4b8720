"""`release ledger copy SRC DST`: copy a ledger between backends (a file and a team's database)."""

from __future__ import annotations

import click


@click.group()
def ledger() -> None:
    """Work on the ledger itself: copy it between a file and a team's PostgreSQL database.

    \b
    Example:
      release ledger copy release_logs/ledger.sqlite postgresql://release@db.example.com/release
    """


@ledger.command()
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.pass_obj
def copy(app, source: str, destination: str) -> None:
    """Copy every event of SRC into DST (a file path or a postgresql:// URL), with the same
    seq and hash, so the copy verifies on its own and anchors (events.jsonl, tags) still match.

    DST must be empty (a new file or database: its tables are created) or an earlier copy of
    SRC, whose missing events are then added. Both hash chains are checked before, and DST's
    after; a broken chain exits 4. Passwords come from PGPASSWORD or ~/.pgpass and are never
    printed.

    \b
    Examples:
      release ledger copy release_logs/ledger.sqlite postgresql://release@db.example.com/release
      release ledger copy postgresql://release@db.example.com/release backup.sqlite
    """
    from pathlib import Path

    from release_ledger.engine.errors import ReleaseNotFound
    from release_ledger.ledger import LedgerMissing, is_postgres, open_ledger
    from release_ledger.ledger.copy import copy_ledger

    def where(target: str) -> str:
        return target if is_postgres(target) else str(Path(target).resolve())

    try:
        src = open_ledger(where(source), tracer=app.tracer, readonly=True)
    except LedgerMissing as err:
        raise ReleaseNotFound(f"no ledger at {err.where}", hint="SRC must be an existing ledger") \
            from None
    dst = open_ledger(where(destination), tracer=app.tracer)
    if not is_postgres(destination):
        _exclude(app, Path(where(destination)))
    result = copy_ledger(src, dst)
    click.echo(f"source: {src.path}: {result.source_events} events, hash chain ok")
    click.echo(f"destination: {dst.path}: held {result.already}, copied {result.copied}")
    if result.head is not None:
        click.echo(f"verify: both chains hold, head seq {result.head.seq} "
                   f"sha256 {result.head.hash}")


def _exclude(app, destination) -> None:
    """Keep a copy made inside a product checkout out of git; elsewhere there is nothing to do.

    `ledger copy` works on two ledgers, not on a product: it runs in any folder."""
    from release_ledger.commands.context import exclude_from_git
    from release_ledger.workflows.errors import CheckoutError

    try:
        exclude_from_git(app.repo_path, destination)
    except CheckoutError:
        app.say(f"ledger copy: {destination} is in no product checkout; nothing to exclude from git")
