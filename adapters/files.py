"""Whole-file writes that a reader, a crash or a kill never sees half done.

The one way `release` replaces a file it owns outright (spec files, collect results, the OCI layout
index, caches, the sandbox store): write a temporary file in the same folder, then `os.replace` it
over the target, which POSIX makes atomic within one file system. A release may be killed at any
moment and resumed (DESIGN.md, introduction), so each file must hold its old bytes or its new ones,
never a part. The ledger has its own export and does not use this (ledger never imports adapters).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, *, fsync: bool = True) -> None:
    """Replace `path` with `data` (str is written as UTF-8, newlines as given) all at once.

    The parent folder is created. An existing file keeps its permission bits; a new one gets what a
    plain `open()` would give (0666 less the umask). `fsync=True` flushes the bytes to disk before
    the rename, so a power loss after the rename cannot leave an empty file behind a recorded
    effect; callers writing caches or test doubles pass `fsync=False` for speed. On any error the
    temporary file is removed and the target is untouched.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temp(path: Path) -> tuple[Path, int]:
    """A new hidden file beside `path`, unique across threads and processes; (path, fd)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            # Mode 0o666 (not mkstemp's 0o600) so the umask decides, as for any new file.
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
