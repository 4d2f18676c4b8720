"""What the ledger says about image promotion: a pure fold over a release's events.

Promote (re-runs, the rc stage's pinned sources), verify and rollback all read the same view, so
they can never disagree on what was promoted, what a tag held before, and what was undone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from release_ledger.workflows.promote.events import (DestinationInspected, ImagePromoted, ImageRolledBack,
                                        ImagesWaived, PromotionRolledBack)

STAGES = ("dev", "rc")


@dataclass
class StagePromotion:
    """One stage's promotion since it was last rolled back (its `generation` counts rollbacks)."""

    stage: str
    generation: int = 0
    inspected: dict[str, DestinationInspected] = field(default_factory=dict)
    promoted: dict[str, ImagePromoted] = field(default_factory=dict)
    waived: list[str] = field(default_factory=list)

    @property
    def touched(self) -> bool:
        """Whether this promotion wrote or was about to write any tag."""
        return bool(self.inspected or self.promoted)


@dataclass
class PromotionHistory:
    """The live promotion of each stage, and the digest every destination should hold now."""

    stages: dict[str, StagePromotion]
    # destination -> digest it should hold (None: absent); missing when the ledger claims nothing
    expected: dict[str, str | None]

    def stage(self, name: str) -> StagePromotion:
        """The live promotion of a stage (empty when there is none)."""
        return self.stages[name]


def fold(events: Iterable[object]) -> PromotionHistory:
    """Fold a release's parsed events (any types; others are skipped) into its promotion view."""
    stages = {s: StagePromotion(s) for s in STAGES}
    expected: dict[str, str | None] = {}
    for ev in events:
        if isinstance(ev, DestinationInspected):
            # The FIRST inspection holds the digest from before any write of this generation:
            # a re-run after a kill must not take the copy it made for the previous state.
            stages[ev.stage].inspected.setdefault(ev.destination, ev)
        elif isinstance(ev, ImagePromoted):
            stages[ev.stage].promoted[ev.destination] = ev
            expected[ev.destination] = ev.digest
        elif isinstance(ev, ImagesWaived):
            live = stages[ev.stage].waived
            live.extend(i for i in ev.images if i not in live)
        elif isinstance(ev, ImageRolledBack):
            if ev.action == "kept":
                expected.pop(ev.destination, None)  # reported, no longer ours to vouch for
            else:
                expected[ev.destination] = ev.to_digest
        elif isinstance(ev, PromotionRolledBack):
            stages[ev.stage] = StagePromotion(ev.stage, stages[ev.stage].generation + 1)
    return PromotionHistory(stages, expected)


def latest_live(history: PromotionHistory) -> StagePromotion | None:
    """The latest promotion not yet undone: rc if it touched anything, else dev (DESIGN §8)."""
    for name in reversed(STAGES):
        if history.stages[name].touched:
            return history.stages[name]
    return None
