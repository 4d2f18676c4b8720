"""`release verify` for images: every tag the ledger vouches for still holds its recorded digest.

An out-of-band push (crane, docker push) that overwrote a promoted tag is drift, named with both
digests (DESIGN §7: exit 4). Registry failures are not drift: an auth error or a timeout propagates
as itself, never taken for a missing image (DOMAIN §7.2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from release_ledger.adapters.image_ref import ImageRef
from release_ledger.workflows.promote.history import fold

ABSENT = "absent"


@dataclass(frozen=True)
class Drift:
    """A destination whose tag no longer holds what the ledger recorded (None = no tag)."""

    destination: str
    expected: str | None
    actual: str | None

    def __str__(self) -> str:
        return (f"{self.destination} holds {self.actual or ABSENT} but the ledger recorded "
                f"{self.expected or ABSENT}")


def current_digest(registry: Any, image: str) -> str | None:
    """The digest an image tag holds now, or None when the tag is absent."""
    ref = ImageRef.parse(image)
    desc = registry.head_manifest(ref.repo, ref.reference)
    return desc.digest if desc is not None else None


def verify_images(events: Iterable[object], registry_for: Callable[[str], Any]) -> list[Drift]:
    """Check every destination the ledger vouches for; the drifted ones, in recorded order."""
    drifts = []
    for image, expected in fold(events).expected.items():
        actual = current_digest(registry_for(ImageRef.parse(image).host), image)
        if actual != expected:
            drifts.append(Drift(image, expected, actual))
    return drifts


def check_release(ledger: Any, state: Any, services: Any) -> tuple[int, list[str]]:
    """For `release verify`: (tags checked, one sentence per drifted tag naming both digests).

    The tags of the release's current attempt: an aborted attempt's promotions may since have
    been overwritten by the next attempt, as `--allow-overwrite` recorded."""
    from release_ledger.engine.events import parse_event
    from release_ledger.engine.releases import attempt_events

    events = [parse_event(e) for e in attempt_events(ledger, state)]
    checked = len(fold(events).expected)
    return checked, [str(d) for d in verify_images(events, services.registry_for)]
