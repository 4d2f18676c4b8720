"""`release demo`: a whole release, offline, against the embedded sandbox."""

from __future__ import annotations

import click


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="An empty folder for the sandbox [default: a new temporary folder, kept].")
@click.pass_obj
def demo(app, directory: str | None) -> None:
    """Run a whole release offline: recorded Models CI, OCI-layout registries, a local git
    remote and a local PR store, driven by the same workflows, engine and ledger as a real one.

    The demo merges its own pull requests when the release waits on them, and prints the
    history at the end. Everything stays in the folder for you to inspect (`release --repo
    DIR/product history`, `git -C DIR/product log --all`). The ledger is DIR/product's
    release_logs/ledger.sqlite, unless the global `--ledger` names another (a team's empty
    PostgreSQL database, to try it out).

    \b
    Examples:
      release demo
      release demo --dir /tmp/release-demo
      release --ledger postgresql://release@localhost/release_demo demo
    """
    import tempfile
    from pathlib import Path

    from release_ledger.commands.context import AppContext
    from release_ledger.commands.render import render_history, render_status
    from release_ledger.engine.errors import Waiting
    from release_ledger.engine.runner import advance
    from release_ledger.sandbox.demo import merge_open_pulls
    from release_ledger.sandbox.build import build_sandbox
    from release_ledger.workflows.start import start
    from release_ledger.workflows.steps import before_step, register_all
    from release_ledger.workflows.promote.verify import check_release

    root = Path(directory or tempfile.mkdtemp(prefix="release-demo-")).resolve()
    repo = build_sandbox(root)
    click.echo(f"sandbox: {root}")
    sandbox = AppContext(repo=str(repo), ledger_path=app.ledger_path, verbose=app.verbose)
    ledger = sandbox.ledger(create=True)
    state = start(ledger, repo, version=None, increment="minor",
                  options={"ci_run_id": None, "max_runs": None, "full_history": False})
    click.echo(f"started release {state.version} (from {state.previous_version})")
    register_all()
    services, out = sandbox.services(), sandbox.reporter()
    for _ in range(5):  # each round ends at a PR merge; a release has two
        try:
            result = advance(ledger, state.version, services=services, repo=repo, out=out,
                             options={"skip_missing": True}, before_step=before_step)
            for dest in result.moved:
                click.echo(f"-> {dest}")
            state = result.state
            break
        except Waiting as wait:
            click.echo(f"waiting: {wait.reason}")
            merged = merge_open_pulls(services, root)
            if not merged:
                raise
            click.echo(f"demo: merged PR {', '.join(f'#{n}' for n in merged)} as a reviewer would")
    click.echo("")
    click.echo(render_history(ledger.events(state.version)), nl=False)
    click.echo("")
    click.echo(render_status(state), nl=False)
    checked, drifted = check_release(ledger, state, services)
    click.echo(f"verify: hash chain {'ok' if ledger.verify() is None else 'BROKEN'}; "
               f"{checked - len(drifted)} of {checked} promoted tags at their recorded digests")
    # The ledger's own name (a URL without its password), when it is not the checkout's file.
    where = f"--repo {repo}" + (f" --ledger {ledger.path}" if app.ledger_path else "")
    click.echo(f"next: `release {where} history`, `release {where} verify`, "
               f"`git -C {repo} log --all --oneline`")
