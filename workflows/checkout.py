"""The product checkout a command works on: found the way git finds its top, and checked before
anything is recorded or written (DESIGN §8).

From the current folder (or `--repo`), each enclosing git work tree is tried, innermost first,
until one holds `VERSION` at its top: a command run in `product/release_logs/` works on
`product/`, and one run in a submodule of the product works on the product. The checkout must
have the git remote the settings name (`[github] remote`, default `origin`): a release pushes
branches and a tag there, so a checkout without it could only fail later, after files were
written and events recorded.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from release_ledger.workflows.errors import CheckoutError

_HINT = "run release in a clone of the product (the folder that holds VERSION), or pass --repo DIR"


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    # A GIT_DIR or GIT_WORK_TREE from the caller's shell would name another repository.
    for name in ("GIT_DIR", "GIT_WORK_TREE"):
        env.pop(name, None)
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                              env=env, check=False)
    except FileNotFoundError:
        raise CheckoutError("the git binary is not installed",
                            hint="install git: release commits, branches and tags with it") from None


def work_tree_top(folder: Path) -> Path | None:
    """The top of the git work tree that holds `folder`, or None when it is in none."""
    proc = _git(folder, "rev-parse", "--show-toplevel")
    if proc.returncode == 0 and proc.stdout.strip():
        return Path(proc.stdout.strip())
    reason = (proc.stderr.strip().splitlines() or [""])[-1]
    if "not a git repository" in reason or not reason or "--show-toplevel" in reason:
        return None
    # e.g. "detected dubious ownership": git's own reason says what to do.
    raise CheckoutError(f"git cannot read {folder}: {reason.removeprefix('fatal: ')}",
                        hint="fix what git says, then run release again")


def find_product_root(start: Path | str) -> Path:
    """The product checkout that holds `start`: the innermost work tree with VERSION at its top."""
    start = Path(start).absolute()
    if not start.exists():
        raise CheckoutError(f"--repo {start} does not exist", hint=_HINT)
    if not start.is_dir():
        raise CheckoutError(f"--repo {start} is not a folder", hint=_HINT)
    folder, tops = start, []
    while True:
        top = work_tree_top(folder)
        if top is None:
            break
        if (top / "VERSION").is_file():
            return top
        tops.append(top)
        if top.parent == top:
            break
        folder = top.parent
    if not tops:
        raise CheckoutError(f"{start} is not inside a git work tree",
                            hint="release commits, branches and tags with git: " + _HINT)
    raise CheckoutError(f"the git work tree {tops[0]} has no VERSION file at its top",
                        hint=_HINT)


def check_remote(root: Path, remote: str) -> None:
    """Refuse a checkout without the git remote `remote` (the URL is never printed: it may
    carry credentials)."""
    proc = _git(root, "remote", "get-url", remote)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise CheckoutError(f"the product checkout {root} has no git remote {remote!r} "
                            "([github] remote)",
                            hint=f"add it with `git -C {root} remote add {remote} URL`, or name "
                                 "another one with [github] remote in release.toml")
