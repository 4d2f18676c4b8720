"""`release collect`: read Models CI and write the all-results and last-good files; no release."""

from __future__ import annotations

import click


@click.command()
@click.option("--max-runs", type=click.IntRange(min=1), metavar="N",
              help="Read the N newest Models CI runs [default: ci.max_runs, 30].")
@click.option("--ci-run-id", type=int, metavar="N", help="Use this one Models CI run.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Where to write both files [default: REPO/release_logs/ci].")
@click.pass_obj
def collect(app, max_runs: int | None, ci_run_id: int | None, out_dir: str | None) -> None:
    """Read Models CI only: write the all-results and last-good files, and say where.

    The collect step of a release, alone: no release is started, no event recorded, and no
    ledger is opened or created. It needs only read access to Models CI (a token in GH_PAT,
    GITHUB_TOKEN or GH_TOKEN).

    \b
    Examples:
      release collect                          # the 30 newest runs -> release_logs/ci/
      release collect --max-runs 5 --out ci-files
      release collect --ci-run-id 19341367781
    """
    if ci_run_id is not None and max_runs is not None:
        raise click.UsageError("--ci-run-id and --max-runs exclude each other")
    from pathlib import Path

    from release_ledger.workflows.collect.standalone import collect_only

    result = collect_only(app.services(), app.repo_path,
                          out_dir=Path(out_dir).resolve() if out_dir else None,
                          max_runs=max_runs, ci_run_id=ci_run_id, progress=app.reporter())
    for line in result.summary:
        click.echo(line, err=True)
    x, y = result.span
    click.echo(f"read {result.runs} Models CI run(s), {x}..{y}; no release, no event")
    click.echo(f"wrote {result.all_results}")
    click.echo(f"wrote {result.last_good}")
