"""Copy one image between registries by digest, bottom-up, and prove the result (DESIGN §6).

Order matters: blobs first (present at the destination, else mounted across repositories of the
same registry, else streamed), then child manifests by digest, then the top manifest with its
exact bytes and media type under the tag, last, so a reader never sees a tag whose content is
missing. The tag is then read back and hashed: the copy is done only when the destination serves
the pinned digest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from release_ledger.adapters.errors import AdapterError, DigestMismatch, HttpError, NotFound
from release_ledger.adapters.manifest import Descriptor, Manifest
from release_ledger.adapters.registry import Registry

# Blob transfers in flight per copy; each HttpRegistry also bounds requests per host.
WORKERS = 4

Action = Literal["present", "mount", "upload"]


class CopyError(AdapterError):
    """An image that cannot be copied as asked (source missing, blob missing, bad manifest)."""


@dataclass(frozen=True)
class BlobStep:
    """One blob of the image and what the copy will do with it."""

    descriptor: Descriptor
    action: Action


@dataclass(frozen=True)
class CopyPlan:
    """What a copy would move, computed by reads only (for `--dry-run` and progress totals)."""

    digest: str
    media_type: str
    top: Manifest
    children: tuple[Manifest, ...]
    blobs: tuple[BlobStep, ...]

    def bytes_for(self, action: Action) -> int:
        """Total size of the blobs planned for `action`."""
        return sum(b.descriptor.size for b in self.blobs if b.action == action)

    def count(self, action: Action) -> int:
        """How many blobs are planned for `action`."""
        return sum(1 for b in self.blobs if b.action == action)


@dataclass(frozen=True)
class CopyEvent:
    """Progress of a copy: a blob found, mounted or uploaded, or a manifest written."""

    kind: Literal["present", "mounted", "uploaded", "manifest"]
    digest: str
    size: int


@dataclass
class CopyResult:
    """What a copy did (or, dry-run, would do): the digest now at the tag and what moved."""

    digest: str
    media_type: str
    blobs_mounted: int = 0
    blobs_uploaded: int = 0
    blobs_present: int = 0
    bytes_uploaded: int = 0
    bytes_mounted: int = 0
    manifests: int = 0
    dry_run: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, event: CopyEvent) -> None:
        """Count one progress event (thread-safe)."""
        with self._lock:
            if event.kind == "present":
                self.blobs_present += 1
            elif event.kind == "mounted":
                self.blobs_mounted += 1
                self.bytes_mounted += event.size
            elif event.kind == "uploaded":
                self.blobs_uploaded += 1
                self.bytes_uploaded += event.size
            else:
                self.manifests += 1


def resolve(registry: Registry, repo: str, tag: str) -> str | None:
    """The digest a tag points at now, or None when the tag does not exist (auth errors raise)."""
    descriptor = registry.head_manifest(repo, tag)
    return descriptor.digest if descriptor else None


def same_storage(src: Registry, dst: Registry) -> bool:
    """Whether blobs can be mounted from `src` into `dst` (one registry, or one layout root)."""
    return getattr(src, "key", None) is not None and getattr(src, "key", None) == getattr(dst, "key", None)


def plan_copy(src: Registry, src_repo: str, src_digest: str, dst: Registry, dst_repo: str) -> CopyPlan:
    """Read the source image and the destination's blobs; decide present/mount/upload per blob."""
    top = _source_manifest(src, src_repo, src_digest, src_digest)
    children = tuple(_source_manifest(src, src_repo, c.digest, src_digest) for c in top.children())
    wanted = _unique(b for m in (top, *children) for b in m.blobs())
    mountable = same_storage(src, dst) and src_repo != dst_repo
    with ThreadPoolExecutor(WORKERS) as pool:
        present = list(pool.map(lambda d: dst.has_blob(dst_repo, d.digest), wanted))
    steps = tuple(BlobStep(d, "present" if here else ("mount" if mountable else "upload"))
                  for d, here in zip(wanted, present))
    return CopyPlan(src_digest, top.media_type, top, children, steps)


def copy_image(src: Registry, src_repo: str, src_digest: str, dst: Registry, dst_repo: str,
               dst_tag: str, on_progress: Callable[[CopyEvent], None] | None = None,
               dry_run: bool = False) -> CopyResult:
    """Copy the image `src_repo@src_digest` to `dst_repo:dst_tag` and verify the digest read back."""
    plan = plan_copy(src, src_repo, src_digest, dst, dst_repo)
    if dry_run:
        return _predicted(plan)
    result = CopyResult(plan.digest, plan.media_type)

    def report(event: CopyEvent) -> None:
        result.add(event)
        if on_progress is not None:
            with result._lock:  # callers need not be thread-safe
                on_progress(event)

    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(_move_blob, src, src_repo, dst, dst_repo, step, plan)
                       for step in plan.blobs]:
            report(future.result())
    for child in plan.children:
        _put(dst, dst_repo, child.digest, child)
        report(CopyEvent("manifest", child.digest, len(child.data)))
    _put(dst, dst_repo, dst_tag, plan.top)
    report(CopyEvent("manifest", plan.digest, len(plan.top.data)))
    verify_tag(dst, dst_repo, dst_tag, plan.digest)
    return result


def verify_tag(registry: Registry, repo: str, tag: str, digest: str) -> None:
    """Read the tag back and hash its bytes; DigestMismatch unless they are `digest`."""
    back = registry.get_manifest(repo, tag)
    actual = back.digest if back else "nothing"
    if actual != digest:
        raise DigestMismatch(f"{repo}:{tag} read back after the copy", digest, actual)


def _source_manifest(src: Registry, repo: str, digest: str, top: str) -> Manifest:
    manifest = src.get_manifest(repo, digest)
    if manifest is None:
        what = "source image" if digest == top else f"platform manifest of {repo}@{top}"
        raise CopyError(f"{what} {repo}@{digest} does not exist in the source registry")
    return manifest


def _unique(descriptors: Iterable[Descriptor]) -> list[Descriptor]:
    seen: dict[str, Descriptor] = {}
    for d in descriptors:
        seen.setdefault(d.digest, d)
    return list(seen.values())


def _move_blob(src: Registry, src_repo: str, dst: Registry, dst_repo: str, step: BlobStep,
               plan: CopyPlan) -> CopyEvent:
    """Make one blob present at the destination: nothing, a mount, or a streamed upload."""
    d = step.descriptor
    if step.action == "present":
        return CopyEvent("present", d.digest, d.size)
    if step.action == "mount":
        try:
            if dst.mount_blob(dst_repo, d.digest, src_repo):
                return CopyEvent("mounted", d.digest, d.size)
        except HttpError as err:
            if err.temporary:
                raise  # already retried by the registry client: give up
            # any other mount refusal falls back to an upload (DESIGN §6)
    try:
        dst.upload_blob(dst_repo, d.digest, d.size, lambda: src.open_blob(src_repo, d.digest))
    except NotFound as err:
        raise CopyError(f"cannot copy {src_repo}@{plan.digest}: blob {d.digest} ({d.size} bytes) "
                        f"is missing from the source repository") from err
    return CopyEvent("uploaded", d.digest, d.size)


def _put(dst: Registry, repo: str, ref: str, manifest: Manifest) -> None:
    written = dst.put_manifest(repo, ref, manifest.data, manifest.media_type)
    if written != manifest.digest:
        raise DigestMismatch(f"manifest written to {repo}:{ref}", manifest.digest, written)


def _predicted(plan: CopyPlan) -> CopyResult:
    """The result a copy following `plan` would have (mounts assumed to succeed)."""
    return CopyResult(plan.digest, plan.media_type, blobs_mounted=plan.count("mount"),
                      blobs_uploaded=plan.count("upload"), blobs_present=plan.count("present"),
                      bytes_uploaded=plan.bytes_for("upload"), bytes_mounted=plan.bytes_for("mount"),
                      manifests=1 + len(plan.children), dry_run=True)
