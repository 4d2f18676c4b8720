"""Every example of every `--help` runs against the sandbox, in a state where it makes sense.

An example is a line of a help text's Example(s) section that starts with `release `. Each runs
in a bash shell (pipes and `&&` as written, `pipefail` on) inside a fresh copy of a sandbox at
the state its command needs, and must exit 0 (3, waiting on a person, for `advance`) and print
something (or fill the file it redirects to): a jq filter on an event type that does not exist
prints nothing, and fails here. Examples naming a `postgresql://` server (a team's, not ours) are
the one exception: tests/cli/test_team_ledger.py runs the same commands against a throw-away
server.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from doc_console import session_env
from release_ledger.commands.main import COMMANDS, cli

#: The sandbox state each command's examples run in.
STATE_FOR = {"start": "fresh", "collect": "fresh", "graph": "fresh", "demo": "empty",
             "advance": "started", "abort": "started", "rollback": "pr-open",
             "status": "released", "history": "released", "replay": "released",
             "verify": "released", "ledger": "released"}
#: Exit codes an example of a command may end with.
EXIT_OK = {"advance": {0, 3}}


def _helps() -> list[tuple[str, str]]:
    """(command path, help text) of the group and of every command, groups' subcommands too."""
    found = [("release", cli.get_help(click.Context(cli, info_name="release")))]

    def walk(cmd: click.Command, path: str, parent: click.Context) -> None:
        ctx = click.Context(cmd, info_name=path.split()[-1], parent=parent)
        found.append((path, cmd.get_help(ctx)))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}", ctx)

    root = click.Context(cli, info_name="release")
    for name in COMMANDS:
        walk(cli.get_command(root, name), f"release {name}", root)
    return found


def help_examples() -> list[tuple[str, str]]:
    """(where, command line) of every example in every help text."""
    examples = []
    for path, text in _helps():
        in_examples = False
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.rstrip(":") in ("Example", "Examples", "A release, start to end"):
                in_examples = True
                continue
            if in_examples and not stripped:
                in_examples = False
            elif in_examples and stripped.startswith("release "):
                examples.append((path, stripped))
    return examples


def _command_of(line: str) -> str:
    """The subcommand an example runs (after `release` and its global options)."""
    words = shlex.split(line.split("|")[0].split("&&")[0], comments=True)[1:]
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in ("--repo", "--ledger", "--config") else words[1:]
    return words[0]


@pytest.fixture(scope="session")
def sandboxes(tmp_path_factory):
    """One sandbox per state, made once through the CLI: fresh, started, pr-open, released."""
    root = tmp_path_factory.mktemp("help-sandboxes")
    env = session_env(root, Path(sys.executable).parent)

    def release(cwd: Path, *args: str) -> None:
        subprocess.run(["release", *args], cwd=cwd, env=env, capture_output=True, check=False)

    made = {}
    for state in ("fresh", "started", "pr-open"):
        release(root, "demo", "--dir", state, "--setup-only")
        made[state] = root / state
    release(made["started"] / "product", "start", "--increment", "minor")
    release(made["pr-open"] / "product", "start", "--increment", "minor")
    release(made["pr-open"] / "product", "advance", "--skip-missing")
    release(root, "demo", "--dir", "released")
    made["released"] = root / "released"
    return made, env


def _copy(sandbox: Path, dest: Path) -> Path:
    """A copy of a sandbox whose checkout pushes to the copy's own remote."""
    shutil.copytree(sandbox, dest, symlinks=True)
    subprocess.run(["git", "-C", str(dest / "product"), "remote", "set-url", "origin",
                    str(dest / "remote.git")], check=True)
    return dest / "product"


EXAMPLES = help_examples()


def test_every_command_has_examples_that_are_run():
    """Each command's examples are found here, and each command has a state to run them in."""
    commands = {_command_of(line) for _, line in EXAMPLES}
    assert set(COMMANDS) <= commands
    assert commands <= set(STATE_FOR), f"add a state for {commands - set(STATE_FOR)}"


@pytest.mark.parametrize("where,line", EXAMPLES, ids=[line for _, line in EXAMPLES])
def test_each_help_example_runs_in_the_sandbox(where, line, sandboxes, tmp_path):
    """The example exits as a user would expect and prints (or writes) something."""
    if "postgresql://" in line:
        pytest.skip("names a team's PostgreSQL server: tests/cli/test_team_ledger.py runs it")
    made, env = sandboxes
    command = _command_of(line)
    state = STATE_FOR[command]
    if state == "empty":
        cwd = tmp_path / "empty"
        cwd.mkdir()
    else:
        cwd = _copy(made[state], tmp_path / "sandbox")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    allowed = EXIT_OK.get(command, {0})
    assert proc.returncode in allowed, f"{where}: `{line}` exited {proc.returncode}:\n{proc.stderr}"
    assert "error: unexpected" not in proc.stderr
    if ">" in shlex.split(line, comments=True):
        target = shlex.split(line, comments=True)[-1]
        assert (cwd / target).stat().st_size > 0, f"{where}: `{line}` wrote an empty {target}"
    else:
        assert (proc.stdout + proc.stderr).strip(), f"{where}: `{line}` printed nothing"
