"""The ledger `start` creates, taken back whole when the start fails: nothing is left behind.

A start that is refused after the ledger file was created (a version already used, a tag that
exists, an interrupt) must not leave an empty ledger, a `release_logs/` folder or a line in
`.git/info/exclude` that the user never asked for (issue 13).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_COMPANIONS = ("", "-wal", "-shm", "-journal")


@contextlib.contextmanager
def ledger_or_nothing(app: Any) -> Iterator[Any]:
    """Open the ledger for `start`, creating it if needed; if the block fails, remove what this
    created (the file and its SQLite companions, new folders, the exclude line)."""
    from release_ledger.ledger import is_postgres

    target = app.ledger_target
    # A team's PostgreSQL ledger is shared, its tables made once: nothing of it is taken back.
    if is_postgres(target) or Path(target).exists():
        yield app.ledger(create=True)
        return
    from release_ledger.commands.context import git_exclude_file

    path = Path(target)
    new_dirs = [d for d in [path.parent, *path.parent.parents] if not d.exists()]
    exclude = git_exclude_file(Path(app.repo_path))
    exclude_before = exclude.read_bytes() if exclude is not None and exclude.is_file() else None
    ledger = app.ledger(create=True)
    try:
        yield ledger
    except BaseException:
        ledger.close()
        for suffix in _COMPANIONS:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        for folder in new_dirs:  # innermost first
            with contextlib.suppress(OSError):
                folder.rmdir()
        if exclude is not None and exclude_before is None:
            exclude.unlink(missing_ok=True)
        elif exclude is not None:
            exclude.write_bytes(exclude_before)
        raise
