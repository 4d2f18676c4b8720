"""The `release` command group: global options, lazy subcommands, and errors as one sentence.

Subcommands are imported only when run (or listed by --help), so `release status` and
`release --help` pay for nothing they do not use.
"""

from __future__ import annotations

import importlib
import sys

import click

from release_ledger.commands.context import AppContext

COMMANDS = {
    "start": "release_ledger.commands.start:start",
    "advance": "release_ledger.commands.advance:advance",
    "status": "release_ledger.commands.status:status",
    "history": "release_ledger.commands.history:history",
    "replay": "release_ledger.commands.replay:replay",
    "verify": "release_ledger.commands.verify:verify",
    "rollback": "release_ledger.commands.rollback:rollback",
    "abort": "release_ledger.commands.abort:abort",
    "graph": "release_ledger.commands.graph:graph",
    "demo": "release_ledger.commands.demo:demo",
    "ledger": "release_ledger.commands.ledger:ledger",
    "collect": "release_ledger.commands.collect:collect",
}


def _our_errors() -> tuple[type[BaseException], ...]:
    from release_ledger.adapters.errors import AdapterError
    from release_ledger.engine.errors import EngineError
    from release_ledger.ledger.errors import LedgerError

    return (LedgerError, EngineError, AdapterError)


class ReleaseGroup(click.Group):
    """A group whose commands load lazily and whose errors become one sentence + exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return _with_verbose(getattr(importlib.import_module(module), attr))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # `release history | head`: the reader has all it wanted. Say nothing, as git does,
            # and keep the interpreter from complaining when it flushes stdout at exit.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing is lost; `release advance` resumes where it stopped",
                       err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
            app = ctx.find_object(AppContext)
            verbose = app.verbose if app else 0
            if isinstance(exc, _our_errors()):
                _print_error(exc, verbose)
                ctx.exit(getattr(exc, "exit_code", 1))
            if verbose >= 2:
                raise
            click.echo(f"error: unexpected {type(exc).__name__}: {_safe(exc)}", err=True)
            click.echo("hint: run again with -vv for the traceback; please report it", err=True)
            ctx.exit(1)


_VERBOSE_HELP = "Show details (-v: HTTP and decisions; -vv: also SQL and tracebacks)."


def _count_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    app = ctx.find_object(AppContext)
    if app is not None and value:
        app.verbose += value


def _with_verbose(cmd: click.Command) -> click.Command:
    """Let `-v` follow the subcommand too (`release status -v`), as it may precede it."""
    if not any(p.name == "verbose" for p in cmd.params):
        cmd.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False,
                                       callback=_count_verbose, help=_VERBOSE_HELP))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _with_verbose(sub)
    return cmd


def _safe(exc: BaseException) -> str:
    from release_ledger.engine.secrets import scrub

    return scrub(str(exc))


def _print_error(exc: BaseException, verbose: int) -> None:
    label = "waiting" if getattr(exc, "exit_code", 1) == 3 else "error"
    click.echo(f"{label}: {_safe(exc)}", err=True)
    hint = getattr(exc, "hint", None)
    if hint:
        click.echo(f"hint: {_safe(Exception(hint))}", err=True)
    if verbose >= 2:
        import traceback

        click.echo(_safe(Exception("".join(traceback.format_exception(exc)))), err=True)
    elif verbose:
        cause = exc.__cause__ or exc.__context__
        while cause is not None:  # -v: the chain of causes, one line each, no traceback
            click.echo(f"cause: {type(cause).__name__}: {_safe(cause)}", err=True)
            cause = cause.__cause__ or cause.__context__


@click.group(cls=ReleaseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", type=click.Path(file_okay=False, path_type=str), default=".",
              show_default=True,
              help="The product checkout, or any folder inside it (its git work tree with VERSION).")
@click.option("--ledger", "ledger_path", metavar="FILE|URL", default=None,
              help="The ledger: a file, or a team's postgresql://user@host/db URL (password "
                   "from PGPASSWORD or ~/.pgpass) [default: [ledger] url of the settings, "
                   "else REPO/release_logs/ledger.sqlite].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Settings file [default: REPO/release.toml, else [tool.release] in pyproject.toml].")
@click.option("-v", "--verbose", count=True, help=_VERBOSE_HELP)
@click.version_option(package_name="release-ledger", prog_name="release")
@click.pass_context
def cli(ctx: click.Context, repo: str, ledger_path: str | None, config_path: str | None,
        verbose: int) -> None:
    """Release container-based inference servers, one recorded step at a time.

    Every effect (files, image copies, branches, PRs, tags) is recorded in an append-only,
    hash-chained ledger, so a release can be stopped at any moment and resumed with
    `release advance`, without doing anything twice.

    \b
    A release, start to end:
      release start --increment minor     # fix the target version, record the baseline
      release advance                     # collect -> spec -> dev images -> PR (waits for merge)
      release advance                     # after the merge: rc images -> PR to main (waits)
      release advance                     # after the merge: tag and publish
      release status                      # where it is, what it waits on

    Try it offline first: `release demo` (or `release demo --setup-only` to drive the sandbox
    step by step). Only read Models CI: `release collect`.

    \b
    Exit codes: 0 done, 1 error, 2 usage, 3 waiting on a person, 4 verification failed.
    """
    ctx.obj = AppContext(repo=repo, ledger_path=ledger_path, config_path=config_path,
                         verbose=verbose)


def main() -> None:
    """Entry point for `python -m commands`."""
    cli(prog_name="release")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
