"""`release demo`: a whole release offline against the embedded sandbox, or just the sandbox."""

from __future__ import annotations

import click


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="An empty folder for the sandbox [default: a new temporary folder, kept].")
@click.option("--setup-only", is_flag=True,
              help="Lay out the sandbox and print the commands that drive it step by step.")
@click.pass_obj
def demo(app, directory: str | None, setup_only: bool) -> None:
    """Run a whole release offline: recorded Models CI, OCI-layout registries, a local git
    remote and a local PR store, driven by the same workflows, engine and ledger as a real one.

    The demo merges its own pull requests when the release waits on them, and ends with a
    summary: the states passed, the PRs, the images, the tag, and where the sandbox is. With
    --setup-only it lays the sandbox out and prints the commands to drive it yourself, with
    DIR/merge-prs to play the reviewer (docs/SANDBOX.md walks through it).
    The ledger is DIR/product's release_logs/ledger.sqlite, unless the global `--ledger`
    names another (a team's empty PostgreSQL database, to try it out).

    \b
    Examples:
      release demo
      release demo --dir release-demo
      release --ledger postgresql://release@localhost/release_demo demo
      release demo --dir sandbox --setup-only && cd sandbox/product
    """
    import tempfile
    from pathlib import Path

    from release_ledger.sandbox.build import build_sandbox

    root = Path(directory or tempfile.mkdtemp(prefix="release-demo-")).resolve()
    repo = build_sandbox(root)
    if setup_only:
        click.echo(_setup_text(root, directory), nl=False)
        return
    click.echo(f"sandbox: {root}")
    _run(app, root, repo)


def _setup_text(root, given: str | None) -> str:
    """What --setup-only prints: the layout, then the commands of a release step by step."""
    where = given if given is not None else str(root)
    return "\n".join([
        f"sandbox: {root}",
        "  product/     the product checkout: git, VERSION 0.3.0, catalogue, README, release.toml",
        "  remote.git/  its origin (bare)",
        "  github/      recorded Models CI and the pull-request store, served to the GitHub client",
        "  registries/  OCI image-layout registries (ghcr.io)",
        "  merge-prs    play the reviewer: merges the open pull requests",
        "drive it step by step:",
        f"  cd {where}/product",
        "  release start --increment minor   # fixes 0.4.0",
        "  release advance --skip-missing    # collect, spec, dev images, PR to dev; waits (exit 3)",
        "  ../merge-prs                      # merge that PR, as a reviewer would",
        "  release advance                   # rc images, PR to main; waits (exit 3)",
        "  ../merge-prs",
        "  release advance                   # tag v0.4.0, publish the notes",
        "  release history                   # every event, one a line",
    ]) + "\n"


def _run(app, root, repo) -> None:
    """start, then advance until released, merging the PRs it waits on; then the summary."""
    from release_ledger.commands.context import AppContext
    from release_ledger.commands.render import render_demo_summary
    from release_ledger.engine.errors import Waiting
    from release_ledger.engine.runner import advance
    from release_ledger.sandbox.demo import merge_open_pulls
    from release_ledger.workflows.promote.verify import check_release
    from release_ledger.workflows.start import start
    from release_ledger.workflows.steps import before_step, register_all

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
            for dest in wait.moved:
                click.echo(f"-> {dest}")
            click.echo(f"waiting: {wait.reason}")
            merged = merge_open_pulls(root)
            if not merged:
                raise
            numbers = ", ".join(f"#{pull['number']}" for pull in merged)
            click.echo(f"demo: merged PR {numbers} as a reviewer would")
    checked, drifted = check_release(ledger, state, services)
    # The ledger's own name (a URL without its password), when it is not the checkout's file.
    where = f"--repo {repo}" + (f" --ledger {ledger.path}" if app.ledger_path else "")
    click.echo("")
    click.echo(render_demo_summary(list(ledger.events(state.version)), state,
                                   chain_ok=ledger.verify() is None, checked=checked,
                                   drifted=len(drifted), root=root,
                                   history=f"release {where} history"), nl=False)
