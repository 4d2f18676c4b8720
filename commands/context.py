"""The context object every command shares: the repo, the ledger, the settings, the output."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release_ledger.engine.secrets import scrub


@dataclass
class AppContext:
    """Global options, and what is built from them on first use."""

    repo: str = "."
    ledger_path: str | None = None
    config_path: str | None = None
    verbose: int = 0             # -v: HTTP and decisions; -vv: also SQL and tracebacks
    _ledger: Any = field(default=None, repr=False)
    _config: Any = field(default=None, repr=False)
    _root: Path | None = field(default=None, repr=False)

    @property
    def repo_path(self) -> Path:
        """The product checkout, found and checked on first use (see `check_product`)."""
        if self._root is None:
            self._root = self.check_product()
        return self._root

    def check_product(self) -> Path:
        """Find the product root from --repo (or the current folder) and check it before
        anything is recorded or written: a git work tree with VERSION, settings without unknown
        keys, and the git remote they name (DESIGN §8)."""
        from release_ledger.workflows.checkout import check_remote, find_product_root
        from release_ledger.workflows.settings_file import read_settings
        from release_ledger.workflows.settings_keys import check_keys, git_remote

        root = find_product_root(self.repo)
        if root != Path(self.repo).resolve():
            self.say(f"product: {root} (the checkout that holds {Path(self.repo).resolve()})")
        found = read_settings(root, Path(self.config_path) if self.config_path else None)
        remote = "origin"
        if found is not None:
            check_keys(*found)
            remote = git_remote(*found)
        self.say(f"settings: {found[1] if found else 'defaults (no release.toml)'}")
        check_remote(root, remote)
        return root

    def say(self, line: str) -> None:
        """Tell a decision on stderr under -v (never a secret: lines are scrubbed)."""
        if self.verbose:
            print(scrub(line), file=sys.stderr)

    @property
    def ledger_target(self) -> str:
        """Where the ledger lives: `--ledger`, else `[ledger] url` of the settings, else
        REPO/release_logs/ledger.sqlite; a file path (absolute) or a postgresql:// URL.

        Read without validating the settings (workflows.settings_file): `status` must not pay
        for pydantic just to learn where the ledger is.
        """
        from release_ledger.ledger.location import is_postgres

        if self.ledger_path:
            return self.ledger_path if is_postgres(self.ledger_path) \
                else str(Path(self.ledger_path).resolve())
        from release_ledger.workflows.settings_file import ledger_url

        url = ledger_url(self.repo_path, Path(self.config_path) if self.config_path else None)
        if url is None:
            return str(self.repo_path / "release_logs" / "ledger.sqlite")
        return url if is_postgres(url) else str((self.repo_path / url).resolve())

    @property
    def tracer(self):
        """The SQL tracer of `-vv` (each statement on stderr), or None."""
        return _sql_tracer if self.verbose >= 2 else None

    def ledger(self, readonly: bool = False, create: bool = False):
        """The ledger, opened once; a missing one is an error unless `create` (start, demo).

        Only `start` may create a ledger: any other command on a repo with no release would
        leave an empty one (and a .git/info/exclude line) behind.
        """
        if self._ledger is None:
            from release_ledger.engine.errors import ReleaseNotFound
            from release_ledger.ledger import LedgerMissing, is_postgres, open_ledger

            target = self.ledger_target
            try:
                self._ledger = open_ledger(target, tracer=self.tracer, readonly=readonly,
                                           create=create and not readonly)
            except LedgerMissing as err:
                raise ReleaseNotFound(f"no ledger at {err.where}",
                                      hint="start a release with `release start --increment minor`"
                                      ) from None
            if not readonly and not is_postgres(target):
                exclude_from_git(self.repo_path, Path(target))
        return self._ledger

    def config(self):
        """The target's settings (release.toml, [tool.release], or defaults)."""
        if self._config is None:
            from release_ledger.workflows.config import load_config

            self._config = load_config(self.repo_path,
                                       Path(self.config_path) if self.config_path else None)
        return self._config

    def services(self):
        """The adapters the steps use, wired from the settings (built lazily)."""
        from release_ledger.workflows.services import Services

        log = self.say if self.verbose else None
        return Services(self.config(), self.repo_path, log=log)

    def reporter(self):
        """Rich progress on a terminal, plain lines otherwise."""
        from release_ledger.engine.report import PlainReporter, RichReporter

        if sys.stderr.isatty() and not os.environ.get("CI"):
            return RichReporter()
        return PlainReporter(stream=sys.stderr)


def _sql_tracer(sql: str, params: Any) -> None:
    print(f"sql: {' '.join(sql.split())} {params!r}"[:400], file=sys.stderr)


def git_exclude_file(repo: Path) -> Path | None:
    """The checkout's `info/exclude`: in `.git/`, or where git keeps it for a linked worktree
    (`.git` is then a file naming the real git folder); None when there is no git folder."""
    git_dir = repo / ".git"
    if git_dir.is_dir():
        return git_dir / "info" / "exclude"
    if not git_dir.is_file():
        return None
    import subprocess

    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--git-path", "info/exclude"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    path = Path(proc.stdout.strip())
    return path if path.is_absolute() else repo / path


def exclude_from_git(repo: Path, ledger_file: Path) -> None:
    """Keep the SQLite file and its WAL companions out of `git status` (info/exclude)."""
    exclude = git_exclude_file(repo)
    if exclude is None:
        return
    try:
        rel = ledger_file.resolve().relative_to(repo.resolve())
    except ValueError:
        return  # the ledger lives outside the repo: nothing to hide
    pattern = f"/{rel.as_posix()}*"
    text = exclude.read_text() if exclude.exists() else ""
    if pattern not in text.splitlines():
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a") as f:
            f.write(("" if text.endswith("\n") or not text else "\n")
                    + "# the release ledger (events.jsonl is what gets committed)\n" + pattern + "\n")
