"""Is a lock holder's process still there? (Linux /proc, with a portable fallback.)"""

from __future__ import annotations

import os
from pathlib import Path


def process_start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, which tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid: int, start_time: str | None = None) -> bool:
    """True while `pid` runs (not a zombie) and, when given, started at `start_time`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    state = stat[stat.rfind(")") + 2:].split()[0]
    if state in ("Z", "X"):
        return False  # killed, waiting to be reaped: it will never let go of the lock itself
    return start_time is None or process_start_time(pid) == start_time
