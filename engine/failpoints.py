"""Named crash points for the crash suite: kill the process right there, only when asked.

`RELEASE_FAILPOINT=<name>` (a name, or a shell-style pattern such as `open_pr:*:after-effect` for
names that hold a commit id; or `*` with `RELEASE_FAILPOINT_NTH=N` for the N-th point reached) makes `hit(name)` SIGKILL the process, as a power cut would. Without the variable it is
a dictionary lookup and nothing else. `RELEASE_FAILPOINT_LOG=FILE` appends every point reached,
so the suite can list them.
"""

from __future__ import annotations

import os
import signal
from fnmatch import fnmatchcase

_count = 0


def hit(name: str) -> None:
    """Pass a named point: die here if the environment asks for it."""
    global _count
    wanted = os.environ.get("RELEASE_FAILPOINT")
    log = os.environ.get("RELEASE_FAILPOINT_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(name + "\n")
    if not wanted:
        return
    _count += 1
    nth = os.environ.get("RELEASE_FAILPOINT_NTH")
    if wanted == "*":
        hit_here = nth is not None and int(nth) == _count
    else:
        hit_here = wanted == name or fnmatchcase(name, wanted)
    if hit_here:
        os.kill(os.getpid(), signal.SIGKILL)
