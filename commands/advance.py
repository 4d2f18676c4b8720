"""`release advance`: do the next steps of the open release, resumable at any point."""

from __future__ import annotations

import click

from release_ledger.engine.machine import ALL_STATES


@click.command()
@click.option("--to", "to", type=click.Choice(ALL_STATES), metavar="STATE",
              help="Stop once the release reaches STATE (e.g. collected, spec-updated).")
@click.option("--dry-run", is_flag=True,
              help="Print the plan of the next step, and what it would wait for; write nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before overwriting tags (--allow-overwrite).")
@click.option("--skip-missing", is_flag=True,
              help="Waive images that still need a build (recorded; carries to the rc stage).")
@click.option("--allow-overwrite", is_flag=True,
              help="Overwrite a destination tag that holds another digest (the old one is recorded).")
@click.option("--max-wait", type=click.FloatRange(min=0), default=300.0, show_default=True,
              metavar="SECONDS", help="Longest wait for a rate limit or Retry-After before stopping.")
@click.pass_obj
def advance(app, to, dry_run, yes, skip_missing, allow_overwrite, max_wait) -> None:
    """Run the release's next steps until STATE, a wait on a person (exit 3), or the end.

    Stop it at any moment (Ctrl-C, kill -9): the next `advance` reconciles what was under way
    against the world and goes on, never doing an effect twice.

    \b
    Examples:
      release advance                      # as far as it can go
      release advance --to collected       # just read Models CI
      release advance --dry-run            # what would happen next
      release advance --skip-missing       # waive images that need a build
    """
    from release_ledger.commands.render import render_status
    from release_ledger.engine.errors import Waiting
    from release_ledger.engine.releases import pick_release
    from release_ledger.engine.runner import advance as run, check_target
    from release_ledger.workflows.steps import before_step, register_all

    check_target(to)
    if allow_overwrite and not yes and not dry_run and _interactive():
        click.confirm("--allow-overwrite replaces tags that hold other digests; go on?",
                      abort=True)
    ledger = app.ledger(readonly=dry_run)
    state = pick_release(ledger, None)
    if not state.is_open:
        click.echo(f"release {state.version} is {state.state}: nothing to do")
        return
    register_all()
    services = app.services()
    services.max_wait = max_wait
    services.dry_run = dry_run
    options = {"skip_missing": skip_missing, "allow_overwrite": allow_overwrite,
               "max_wait": max_wait, "yes": yes}
    try:
        result = run(ledger, state.version, to=to, dry_run=dry_run, options=options,
                     services=services, repo=app.repo_path, out=app.reporter(),
                     before_step=before_step)
    except Waiting as wait:
        for dest in wait.moved:  # what this run did before it had to wait
            click.echo(f"-> {dest}")
        raise
    if result.already:
        click.echo(f"already at {result.state.state}" if to else
                   f"release {result.state.version} is {result.state.state}: nothing to do")
        return
    if dry_run:
        click.echo(_render_plans(result.plans), nl=False)
        return
    for dest in result.moved:
        click.echo(f"-> {dest}")
    click.echo(render_status(result.state), nl=False)


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty()


def _render_plans(plans) -> str:
    lines = ["dry run: nothing was written"]
    for trigger, plan in plans:
        lines.append(f"plan: {trigger}")
        lines += [f"  {line}" for line in plan.lines]
        if plan.waits_on:
            lines.append(f"  would wait: {plan.waits_on}")
    return "\n".join(lines) + "\n"
