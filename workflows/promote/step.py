"""Image promotion: Models CI images to `-dev-` names, then dev images to `-release-` names.

DESIGN §6 and §8, DOMAIN §5. `plan_promotion` reads the ledger and the registries and decides,
per destination, one action; `promote_images` makes it true:

- each source is resolved to a digest ONCE and pinned (in the `DestinationInspected` event, so a
  re-run after a kill copies the same bytes even if the CI tag moved meanwhile);
- a destination already at that digest is done; one at another digest stops the step before any
  write (exit 1) unless `--allow-overwrite`;
- what a destination held is recorded BEFORE its tag is written, so rollback can put it back;
- every copy is one engine effect `promote:{dst}@{digest}`: a killed run reconciles (the tag
  already holds the digest: record it) instead of copying again;
- destinations no source can fill go to `images.build_command`, are checked again, and those
  still missing make the step wait (exit 3) unless `--skip-missing` waives them (recorded; the
  waiver carries to rc).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_ledger.adapters.files import write_atomic
from release_ledger.adapters.copy import CopyPlan, copy_image, plan_copy, resolve
from release_ledger.adapters.image_ref import ImageRef
from release_ledger.engine.events import parse_event
from release_ledger.engine.step import Outcome, Plan
from release_ledger.workflows.errors import PromotionError
from release_ledger.workflows.promote.events import (BuildCommandRan, DestinationInspected, ImagePromoted,
                                        ImagesNeedBuild, ImagesWaived)
from release_ledger.workflows.promote.history import StagePromotion, fold
from release_ledger.workflows.promote.plan import DEV, RC, Destination, DevRecord, plan_dev, plan_rc
from release_ledger.workflows.render.artifacts import (COPIED, EXISTING_WITH_CI, EXISTING_WITHOUT_CI,
                                        SUMMARY_FILES, TO_BUILD, ArtifactRow, render_json,
                                        render_markdown)

# What planning decided for one destination.
DONE = "done"              # this promotion already recorded it (a re-run)
COPY = "copy"              # copy the pinned source digest (also: finish a killed copy)
OVERWRITE = "overwrite"    # copy over another digest (--allow-overwrite)
SAME = "same"              # already holds the source digest: record (existing with CI ref)
PRESENT = "present"        # no source, but the image exists: record (existing without CI ref)
CONFLICT = "conflict"      # holds another digest: stop
BUILD = "build"            # nothing can fill it: build command, then wait or waive
WAIVED = "waived"          # waived at dev promotion: carried, not waited on


@dataclass
class Target:
    """One destination with what the registries and the ledger say about it now."""

    dest: Destination
    action: str
    source_digest: str | None = None
    current: str | None = None
    reason: str | None = None
    inspected: DestinationInspected | None = None
    copy_plan: CopyPlan | None = None

    @property
    def image(self) -> str:
        """The destination image reference."""
        return self.dest.image


# -- planning --------------------------------------------------------------------------------

def _events(ctx: Any) -> list[object]:
    return [parse_event(e) for e in ctx.history()]


Inputs = Callable[[Any], tuple[list[Any], dict[str, Any]]]


def destinations_for(ctx: Any, stage: str, live_dev: StagePromotion | None = None,
                     inputs: Inputs | None = None) -> list[Destination]:
    """The destinations of a stage: from the catalogue and last-good (dev) or the ledger (rc)."""
    if stage == DEV:
        specs, last_good = (inputs or dev_inputs)(ctx)
        return plan_dev(specs, last_good)
    live_dev = live_dev or fold(_events(ctx)).stage(DEV)
    return plan_rc(dev_records(live_dev))


def dev_records(live_dev: StagePromotion) -> list[DevRecord]:
    """What the dev promotion left: each destination's recorded digest, or its waiver."""
    records = [DevRecord(dst, ev.digest, tuple(ev.models)) for dst, ev in live_dev.promoted.items()]
    records += [DevRecord(img, None, waived=True) for img in live_dev.waived
                if img not in live_dev.promoted]
    return records


def dev_inputs(ctx: Any) -> tuple[list[Any], dict[str, Any]]:
    """The catalogue (already at the new version) and this release's last-good entries."""
    from release_ledger.workflows.collect.last_good import load_last_good
    from release_ledger.workflows.spec.reader import load_catalogue

    config = getattr(ctx.services, "config", None)
    kwargs = {"release_repo": config.images.release_repo} if config is not None else {}
    return load_catalogue(ctx.repo, **kwargs), load_last_good(ctx.repo, ctx.version)


def plan_promotion(ctx: Any, stage: str, destinations: list[Destination] | None = None,
                   inputs: Inputs | None = None) -> Plan:
    """Decide every destination's action; reads registries and the ledger, writes nothing.

    `destinations` (plain data from `promotion_plan`) replaces reading the catalogue and CI data.
    """
    history = fold(_events(ctx))
    live = history.stage(stage)
    dests = (destinations if destinations is not None
             else destinations_for(ctx, stage, history.stage(DEV), inputs))
    overwrite = bool(ctx.options.get("allow_overwrite"))
    targets = [_target(ctx, d, live, overwrite) for d in dests]
    if ctx.dry_run:
        for t in targets:
            if t.action in (COPY, OVERWRITE):
                t.copy_plan = _plan_copy(ctx, t)
    return Plan(lines=plan_lines(targets, stage, ctx), waits_on=_would_wait(targets, ctx),
                data=targets)


def _registry(ctx: Any, image: str) -> Any:
    return ctx.services.registry_for(ImageRef.parse(image).host)


def _digest_at(ctx: Any, image: str) -> str | None:
    ref = ImageRef.parse(image)
    return resolve(_registry(ctx, image), ref.repo, ref.reference)


def _target(ctx: Any, dest: Destination, live: StagePromotion, overwrite: bool) -> Target:
    if dest.image in live.promoted:
        return Target(dest, DONE, live.promoted[dest.image].source_digest,
                      live.promoted[dest.image].digest)
    inspected = live.inspected.get(dest.image)
    current = _digest_at(ctx, dest.image)
    pinned = (inspected.source_digest if inspected and inspected.source_digest
              else dest.source_digest)
    if dest.source and not pinned:
        pinned = _digest_at(ctx, dest.source)
    t = Target(dest, BUILD, pinned, current, dest.reason, inspected)
    if not dest.source or pinned is None:
        t.reason = dest.reason or f"the source image {dest.source} does not exist"
        t.action = PRESENT if current else (WAIVED if dest.waived else BUILD)
        t.source_digest = None
        return t
    before = inspected.previous_digest if inspected else current
    if current is None or (inspected and current == pinned and before != pinned):
        t.action = COPY  # nothing there yet, or our own copy that a kill left unrecorded
    elif current == pinned:
        t.action = SAME
    else:
        t.action = OVERWRITE if overwrite else CONFLICT
    return t


def _plan_copy(ctx: Any, t: Target) -> CopyPlan:
    src, dst = ImageRef.parse(t.dest.source), ImageRef.parse(t.image)
    return plan_copy(_registry(ctx, t.dest.source), src.repo, t.source_digest,
                     _registry(ctx, t.image), dst.repo)


def size(n: int) -> str:
    """Bytes for people: `0 B`, `512 B`, `1.5 kB`, `200.0 MB` (decimal, as registries show)."""
    if n < 1000:
        return f"{n} B"
    value, unit = float(n), "B"
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


def plan_lines(targets: list[Target], stage: str, ctx: Any) -> list[str]:
    """The dry-run plan: one line per destination, then what a real run would build or wait on."""
    lines = []
    for t in targets:
        lines.append(_plan_line(t))
    builds = [t.image for t in targets if t.action == BUILD]
    command = _build_command(ctx)
    if builds and command:
        lines.append(f"would run the build command for {len(builds)} image(s): {command}")
    lines.append(_totals(targets, stage))
    return lines


def _plan_line(t: Target) -> str:
    src = f"{t.dest.source}@{t.source_digest}"
    if t.action in (COPY, OVERWRITE):
        verb = "overwrite" if t.action == OVERWRITE else "copy"
        extra = f" (replacing {t.current})" if t.action == OVERWRITE else ""
        moved = ""
        if t.copy_plan is not None:
            p = t.copy_plan
            moved = (f": mount {p.count('mount')} blob(s) ({size(p.bytes_for('mount'))}), "
                     f"upload {p.count('upload')} blob(s) ({size(p.bytes_for('upload'))}), "
                     f"{p.count('present')} already there")
        return f"{verb} {src} -> {t.image}{extra}{moved}"
    if t.action == DONE:
        return f"done {t.image} at {t.current} (recorded)"
    if t.action == SAME:
        return f"exists {t.image} at {t.current}, same as {t.dest.source}"
    if t.action == PRESENT:
        return f"exists {t.image} at {t.current} (no Models CI source: {t.reason})"
    if t.action == CONFLICT:
        return f"stop: {t.image} holds {t.current}, not the source's {t.source_digest}"
    if t.action == WAIVED:
        return f"waived {t.image} ({t.reason})"
    return f"needs build {t.image}: {t.reason}"


def _totals(targets: list[Target], stage: str) -> str:
    count = {a: sum(1 for t in targets if t.action == a) for a in
             (COPY, OVERWRITE, SAME, PRESENT, DONE, BUILD, WAIVED, CONFLICT)}
    return (f"{stage} promotion: {len(targets)} destination(s): "
            f"{count[COPY] + count[OVERWRITE]} to copy, {count[SAME] + count[PRESENT]} existing, "
            f"{count[DONE]} done before, {count[BUILD]} need a build, {count[WAIVED]} waived, "
            f"{count[CONFLICT]} in conflict")


def _build_command(ctx: Any) -> str:
    config = getattr(ctx.services, "config", None)
    return config.images.build_command.strip() if config is not None else ""


def _would_wait(targets: list[Target], ctx: Any) -> str | None:
    builds = [t.image for t in targets if t.action == BUILD]
    if not builds or ctx.options.get("skip_missing"):
        return None
    return waiting_sentence(builds)


def waiting_sentence(images: list[str]) -> str:
    """What the step waits on when images are still missing."""
    return f"{len(images)} image(s) need a build: {', '.join(images)}"


# -- applying --------------------------------------------------------------------------------

def promote_images(ctx: Any, stage: str, plan: Plan | None = None) -> Outcome:
    """Promote every destination of the stage; the Outcome waits when images are still missing."""
    plan = plan if plan is not None else plan_promotion(ctx, stage)
    if ctx.dry_run:
        return Outcome(done=plan.waits_on is None, waits_on=plan.waits_on)
    targets: list[Target] = plan.data
    _refuse_conflicts(targets)
    for t in targets:
        _apply_one(ctx, stage, t)
    missing = _build_missing(ctx, stage, [t for t in targets if t.action == BUILD])
    waived = [t.image for t in targets if t.action == WAIVED]
    if missing and ctx.options.get("skip_missing"):
        waived += missing
    live = fold(_events(ctx)).stage(stage)
    new_waivers = [i for i in waived if i not in live.waived]
    if new_waivers:
        ctx.record(ImagesWaived(stage=stage, images=new_waivers))
    write_summaries(ctx, stage, missing)
    ctx.out.line(_totals_done(ctx, stage, missing))
    if missing and not ctx.options.get("skip_missing"):
        return Outcome(done=False, waits_on=waiting_sentence(missing),
                       hint="build them (or set images.build_command), or pass --skip-missing "
                            "to waive them")
    return Outcome(done=True)


def _refuse_conflicts(targets: list[Target]) -> None:
    """Stop before any write when a destination holds another digest (DESIGN §8)."""
    conflicts = [t for t in targets if t.action == CONFLICT]
    if conflicts:
        told = "; ".join(f"{t.image} holds {t.current}, the source {t.dest.source} is "
                         f"{t.source_digest}" for t in conflicts)
        raise PromotionError(f"{len(conflicts)} destination(s) already hold another image: {told}",
                             hint="nothing was written; pass --allow-overwrite to replace them "
                                  "(their digests are recorded for rollback)")


def _inspect(ctx: Any, stage: str, t: Target) -> None:
    """Record what the destination holds before anything writes its tag (once per promotion)."""
    if t.inspected is not None:
        return
    manifest_text, media_type = None, None
    if t.current is not None:
        ref = ImageRef.parse(t.image)
        found = _registry(ctx, t.image).get_manifest(ref.repo, t.current)
        if found is not None:
            media_type = found.media_type
            try:
                manifest_text = found.data.decode("utf-8")
            except UnicodeDecodeError:
                manifest_text = None  # rollback reads it back from the registry by digest
    t.inspected = DestinationInspected(
        stage=stage, destination=t.image, source=t.dest.source, source_digest=t.source_digest,
        previous_digest=t.current, previous_media_type=media_type, previous_manifest=manifest_text)
    ctx.record(t.inspected)


def _promoted(stage: str, t: Target, kind: str, digest: str, **extra: Any) -> ImagePromoted:
    previous = t.inspected.previous_digest if t.inspected else t.current
    return ImagePromoted(stage=stage, destination=t.image, kind=kind, digest=digest,
                         source=t.dest.source if kind != EXISTING_WITHOUT_CI else None,
                         source_digest=t.source_digest if kind != EXISTING_WITHOUT_CI else None,
                         previous_digest=previous, models=list(t.dest.models),
                         others=list(t.dest.others), **extra)


def _apply_one(ctx: Any, stage: str, t: Target) -> None:
    if t.action == DONE:
        ctx.out.line(f"done {t.image} at {t.current} (recorded before)")
    elif t.action in (SAME, PRESENT):
        _inspect(ctx, stage, t)
        kind = EXISTING_WITH_CI if t.action == SAME else EXISTING_WITHOUT_CI
        ctx.record(_promoted(stage, t, kind, t.current))
        ctx.out.line(f"exists {t.image} at {t.current}")
    elif t.action in (COPY, OVERWRITE):
        _inspect(ctx, stage, t)
        [ev] = ctx.effect(f"promote:{t.image}@{t.source_digest}",
                          lambda: [_copy(ctx, stage, t)],
                          reconcile=lambda: _reconcile(ctx, stage, t),
                          intent={"source": f"{t.dest.source}@{t.source_digest}",
                                  "previous": t.inspected.previous_digest})
        ctx.out.line(f"copied {t.image} from {t.dest.source}@{ev.source_digest}: "
                     f"{size(ev.bytes_mounted)} mounted, {size(ev.bytes_uploaded)} uploaded")


def _copy(ctx: Any, stage: str, t: Target) -> ImagePromoted:
    src, dst = ImageRef.parse(t.dest.source), ImageRef.parse(t.image)
    # A live bar on a terminal (bytes as blobs land); plain output keeps to one line per image.
    with ctx.out.progress(f"copy {dst.repo}:{dst.tag}") as bar:
        result = copy_image(_registry(ctx, t.dest.source), src.repo, t.source_digest,
                            _registry(ctx, t.image), dst.repo, dst.tag,
                            on_progress=lambda ev: bar.advance(
                                ev.size if ev.kind in ("mounted", "uploaded") else 0))
    return _promoted(stage, t, COPIED, result.digest, bytes_uploaded=result.bytes_uploaded,
                     bytes_mounted=result.bytes_mounted,
                     overwrote=t.inspected.previous_digest is not None)


def _reconcile(ctx: Any, stage: str, t: Target) -> list[ImagePromoted] | None:
    """A killed copy whose tag already holds the pinned digest is done: record it, copy nothing."""
    if _digest_at(ctx, t.image) != t.source_digest:
        return None
    return [_promoted(stage, t, COPIED, t.source_digest,
                      overwrote=t.inspected.previous_digest is not None)]


def _build_missing(ctx: Any, stage: str, builds: list[Target]) -> list[str]:
    """Run the build command for the missing images, record what appeared; return the rest."""
    if not builds:
        return []
    command = _build_command(ctx)
    if command:
        for t in builds:
            _inspect(ctx, stage, t)  # the build command writes their tags
        images = [t.image for t in builds]
        code = run_build_command(command, images, ctx.version, stage, ctx.repo, ctx.out.line)
        ctx.record(BuildCommandRan(stage=stage, images=images, exit_code=code))
        for t in builds:
            t.current = _digest_at(ctx, t.image)
            if t.current is not None:
                ctx.record(_promoted(stage, t, EXISTING_WITHOUT_CI, t.current))
                ctx.out.line(f"built {t.image} at {t.current}")
    missing = [t for t in builds if t.current is None]
    if missing:
        need = ImagesNeedBuild(stage=stage, images=[t.image for t in missing],
                               reasons={t.image: t.reason or "" for t in missing})
        # An observation, not an effect: a re-run (after a kill, or while waiting on builds)
        # that sees the same missing images records nothing new.
        if _last_need_build(ctx, stage) != need:
            ctx.record(need)
    return [t.image for t in missing]


def _last_need_build(ctx: Any, stage: str) -> ImagesNeedBuild | None:
    found = [e for e in ctx.events_of(ImagesNeedBuild) if e.stage == stage]
    return found[-1] if found else None


def run_build_command(command: str, images: list[str], version: str, stage: str, cwd: Path,
                      say: Callable[[str], None]) -> int:
    """Run `images.build_command` through the shell with the images as arguments (DESIGN §8)."""
    env = dict(os.environ, RELEASE_VERSION=version, RELEASE_STAGE=stage)
    say(f"running the build command for {len(images)} image(s): {command}")
    # `sh -c 'CMD "$@"' name args...`: the images arrive as separate, unquoted-safe arguments.
    proc = subprocess.run(["/bin/sh", "-c", f'{command} "$@"', "build_command", *images],
                          cwd=cwd, env=env, capture_output=True, text=True)
    for line in (proc.stdout + proc.stderr).splitlines():
        say(f"  build: {line}")
    if proc.returncode != 0:
        say(f"the build command exited with {proc.returncode}")
    return proc.returncode


# -- summaries -------------------------------------------------------------------------------

def summary_rows(live: StagePromotion, missing: list[str]) -> list[ArtifactRow]:
    """The artifacts summary rows of a stage's promotion as the ledger now records it."""
    rows = [ArtifactRow(ev.destination, ev.kind, ev.source, ev.source_digest, ev.digest)
            for ev in live.promoted.values()]
    rows += [ArtifactRow(i, TO_BUILD, waived=True) for i in live.waived if i not in live.promoted]
    rows += [ArtifactRow(i, TO_BUILD) for i in missing
             if i not in live.promoted and i not in live.waived]
    return rows


def write_summaries(ctx: Any, stage: str, missing: list[str]) -> list[Path]:
    """Write `{dev,release}_artifacts_summary.{md,json}` into release_logs/v{version}/."""
    rows = summary_rows(fold(_events(ctx)).stage(stage), missing)
    folder = Path(ctx.repo) / "release_logs" / f"v{ctx.version}"
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / SUMMARY_FILES[stage]
    md, js = base.with_suffix(".md"), base.with_suffix(".json")
    write_atomic(md, render_markdown(rows, ctx.version, stage))
    write_atomic(js, render_json(rows))
    return [md, js]


def _totals_done(ctx: Any, stage: str, missing: list[str]) -> str:
    live = fold(_events(ctx)).stage(stage)
    kinds = [ev.kind for ev in live.promoted.values()]
    up = sum(ev.bytes_uploaded for ev in live.promoted.values())
    mounted = sum(ev.bytes_mounted for ev in live.promoted.values())
    return (f"{stage} promotion: {kinds.count(COPIED)} copied ({size(mounted)} mounted, "
            f"{size(up)} uploaded), {kinds.count(EXISTING_WITH_CI)} existing with CI ref, "
            f"{kinds.count(EXISTING_WITHOUT_CI)} existing without, {len(live.waived)} waived, "
            f"{len([m for m in missing if m not in live.waived])} missing")


class PromoteDevStep:
    """`spec-updated -> dev-promoted`: the CI images to their `-dev-` names."""

    trigger = "promote_dev"

    def __init__(self, inputs: Inputs | None = None):
        # `inputs(ctx) -> (specs, last_good)`; by default the target's catalogue and last-good.
        self.inputs = inputs

    def plan(self, ctx: Any) -> Plan:
        """Plan the dev promotion (reads registries, writes nothing)."""
        return plan_promotion(ctx, DEV, inputs=self.inputs)

    def apply(self, ctx: Any, plan: Plan) -> Outcome:
        """Promote, build or wait, and write the dev artifacts summary."""
        return promote_images(ctx, DEV, plan)


__all__ = ["PromoteDevStep", "promote_images", "plan_promotion", "write_summaries",
           "run_build_command", "DEV", "RC"]
