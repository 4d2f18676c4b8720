"""`release verify` for images: each promoted tag still at the digest the ledger recorded."""

from __future__ import annotations

from typing import Any

from engine.state import ReleaseState
from ledger import Ledger


def verify_images(ledger: Ledger, state: ReleaseState, services: Any) -> tuple[int, list[str]]:
    """(tags checked, one sentence per drifted tag naming both digests)."""
    try:
        from workflows.verify_images import check_release
    except ImportError:  # promotion not built into this version
        return 0, []
    return check_release(ledger, state, services)
