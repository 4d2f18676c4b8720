"""The facts image promotion records in the ledger: enough to verify and to undo every tag it wrote.

`DestinationInspected` is appended before a destination's tag is written (DESIGN §6, issue 5):
it holds the digest found there (None = the tag was absent) and that manifest's exact bytes, so a
rollback can put them back even after a registry garbage-collected untagged manifests.
"""

from __future__ import annotations

from typing import ClassVar

from release_ledger.engine.events import Event


class DestinationInspected(Event):
    """What a destination held before promotion wrote it (recorded before the tag is written)."""

    type: ClassVar[str] = "DestinationInspected"
    stage: str
    destination: str
    source: str | None = None
    source_digest: str | None = None
    previous_digest: str | None = None
    previous_media_type: str | None = None
    previous_manifest: str | None = None


class ImagePromoted(Event):
    """A destination now holds `digest`: copied, found already there, or built by the build command.

    `kind` is one of the summary's kinds (`copied`, `existing_with_ci`, `existing_without_ci`);
    `others` are the CI images of models sharing the destination that were not used (DESIGN §8).
    """

    type: ClassVar[str] = "ImagePromoted"
    stage: str
    destination: str
    kind: str
    digest: str
    source: str | None = None
    source_digest: str | None = None
    previous_digest: str | None = None
    models: list[str] = []
    others: list[str] = []
    bytes_uploaded: int = 0
    bytes_mounted: int = 0
    overwrote: bool = False


class ImagesNeedBuild(Event):
    """Destinations no source could fill; `reasons` says why for each."""

    type: ClassVar[str] = "ImagesNeedBuild"
    stage: str
    images: list[str]
    reasons: dict[str, str] = {}


class BuildCommandRan(Event):
    """`images.build_command` ran for these images and exited with `exit_code`."""

    type: ClassVar[str] = "BuildCommandRan"
    stage: str
    images: list[str]
    exit_code: int


class ImagesWaived(Event):
    """Missing images waived with `--skip-missing`; the waiver carries to the rc stage (DESIGN §8)."""

    type: ClassVar[str] = "ImagesWaived"
    stage: str
    images: list[str]


class ImageRolledBack(Event):
    """A destination was put back: `restored` to `to_digest`, its tag or manifest `deleted`, or `kept`.

    `kept` means the registry could delete neither the tag nor the manifest (another tag points to
    it): the tag still holds `from_digest` and the command reported it.
    """

    type: ClassVar[str] = "ImageRolledBack"
    stage: str
    destination: str
    from_digest: str | None
    to_digest: str | None
    action: str
    forced: bool = False


class PromotionRolledBack(Event):
    """The promotion of `stage` was undone; later rollbacks look past it."""

    type: ClassVar[str] = "PromotionRolledBack"
    stage: str
    destinations: list[str] = []
