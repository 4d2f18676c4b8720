"""`release start`: fix the target version and open a release in the ledger."""

from __future__ import annotations

import click


@click.command()
@click.option("--version", "version", metavar="X.Y.Z", help="The exact version to release.")
@click.option("--increment", type=click.Choice(["major", "minor", "patch"]),
              help="Bump the target's VERSION by this part (read once, now).")
@click.option("--ci-run-id", type=int, metavar="N", help="Use this one Models CI run.")
@click.option("--max-runs", type=click.IntRange(min=1), metavar="N",
              help="Read the N newest Models CI runs [default: ci.max_runs, 30].")
@click.option("--full-history", is_flag=True,
              help="Parse every model artifact of the selected runs (for analysis).")
@click.pass_obj
def start(app, version, increment, ci_run_id, max_runs, full_history) -> None:
    """Start a release: fix its version now, so that no re-run ever bumps it twice.

    VERSION itself is written later, by the spec step, with this fixed version. The text of
    every file the release edits is recorded now, so the diff is always against the start.

    \b
    Examples:
      release start --increment minor             # 0.3.0 -> 0.4.0
      release start --version 1.0.0 --max-runs 10
      release start --increment patch --ci-run-id 19341367781
    """
    if (version is None) == (increment is None):
        raise click.UsageError("give exactly one of --version X.Y.Z and --increment PART")
    if ci_run_id is not None and max_runs is not None:
        raise click.UsageError("--ci-run-id and --max-runs exclude each other")
    from release_ledger.commands.fresh_ledger import ledger_or_nothing
    from release_ledger.commands.render import render_status
    from release_ledger.engine.releases import start_release
    from release_ledger.workflows.start import prepare_start

    options = {"ci_run_id": ci_run_id, "max_runs": max_runs, "full_history": full_history}
    app.config()  # the checkout and its settings are checked here, before anything is written
    started = prepare_start(app.repo_path, version=version, increment=increment, options=options)
    with ledger_or_nothing(app) as ledger:
        state = start_release(ledger, started)
    click.echo(f"started release {state.version}"
               + (f" (from {state.previous_version})" if state.previous_version else ""))
    click.echo(render_status(state), nl=False)
