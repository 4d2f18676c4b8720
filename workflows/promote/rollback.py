"""`release rollback`: undo the latest promotion not yet undone (DESIGN §8).

Planned first, from the ledger and the registries: each destination the promotion touched goes
back to the digest it held before (its manifest put back by its exact bytes), or loses its tag
where it had none. A destination someone changed since the promotion has drifted: then nothing is
changed and the command fails naming them, unless `--force`. Each undo is an effect of its own
(`ctx.effect`), so a killed rollback resumes without undoing twice. The caller records the
`rollback` transition with the returned `PromotionRolledBack` event (engine.runner.transition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from release_ledger.adapters.image_ref import ImageRef
from release_ledger.adapters.manifest import Manifest, sha256_digest
from release_ledger.engine.events import parse_event
from release_ledger.workflows.errors import PromotionError
from release_ledger.workflows.promote.events import DestinationInspected, ImageRolledBack, PromotionRolledBack
from release_ledger.workflows.promote.history import StagePromotion, fold, latest_live
from release_ledger.workflows.promote.verify import ABSENT, current_digest

RESTORE, DELETE, NOTHING = "restore", "delete", "nothing"


@dataclass(frozen=True)
class Undo:
    """One destination to put back: from what promotion wrote to what it held before."""

    destination: str
    written: str | None         # the digest promotion wrote (or was about to write)
    previous: str | None        # the digest to put back; None: remove the tag
    current: str | None         # what the tag holds now
    inspected: DestinationInspected | None = None

    @property
    def drifted(self) -> bool:
        """Someone changed the tag since the promotion (neither ours nor already back)."""
        return self.current not in (self.written, self.previous)

    @property
    def action(self) -> str:
        """What undoing means here: restore a manifest, delete a tag, or nothing."""
        if self.current == self.previous:
            return NOTHING
        return DELETE if self.previous is None else RESTORE

    def line(self) -> str:
        """The plan line for this destination."""
        if self.action == NOTHING:
            return f"keep {self.destination}: already at {self.previous or ABSENT}"
        what = (f"restore {self.previous}" if self.action == RESTORE else "remove the tag")
        drift = " (drifted: holds {}, promotion wrote {})".format(
            self.current or ABSENT, self.written or ABSENT) if self.drifted else ""
        return f"{what} on {self.destination}{drift}"


@dataclass
class RollbackPlan:
    """The promotion to undo and one Undo per destination, in reverse promotion order."""

    stage: str
    undos: list[Undo] = field(default_factory=list)

    @property
    def drifted(self) -> list[Undo]:
        """Destinations changed by someone else since the promotion."""
        return [u for u in self.undos if u.drifted]

    def lines(self) -> list[str]:
        """What a rollback would do, one line per destination."""
        head = f"rollback of the {self.stage} promotion: {len(self.undos)} destination(s)"
        return [head] + ["  " + u.line() for u in self.undos]


def plan_rollback(events: list[object], registry_for: Callable[[str], Any]) -> RollbackPlan:
    """Plan the undo of the latest promotion not yet undone; reads registries, writes nothing."""
    live = latest_live(fold(events))
    if live is None:
        raise PromotionError("there is no promotion to roll back in this release",
                             hint="rollback undoes the dev or rc image promotion once it ran")
    undos = [_undo(live, dst, registry_for) for dst in _touched(live)]
    return RollbackPlan(live.stage, list(reversed(undos)))


def _touched(live: StagePromotion) -> list[str]:
    return list(dict.fromkeys([*live.inspected, *live.promoted]))


def _undo(live: StagePromotion, dst: str, registry_for: Callable[[str], Any]) -> Undo:
    inspected = live.inspected.get(dst)
    promoted = live.promoted.get(dst)
    written = promoted.digest if promoted else (inspected.source_digest if inspected else None)
    previous = (inspected.previous_digest if inspected
                else promoted.previous_digest if promoted else None)
    current = current_digest(registry_for(ImageRef.parse(dst).host), dst)
    return Undo(dst, written, previous, current, inspected)


def check_drift(plan: RollbackPlan, force: bool) -> None:
    """Refuse a rollback over drifted destinations unless forced (DESIGN §8: change nothing)."""
    drifted = plan.drifted
    if drifted and not force:
        names = "; ".join(f"{u.destination} holds {u.current or ABSENT}, promotion wrote "
                          f"{u.written or ABSENT}" for u in drifted)
        raise PromotionError(f"{len(drifted)} destination(s) changed since the {plan.stage} "
                             f"promotion, so nothing was rolled back: {names}",
                             hint="check who pushed them; `release rollback --force` puts them "
                                  "back anyway")


def apply_rollback(ctx: Any, plan: RollbackPlan, force: bool = False
                   ) -> tuple[list[str], PromotionRolledBack]:
    """Undo every destination of the plan; returns the lines to print and the closing event.

    The caller records the closing event with the `rollback` transition, in one transaction.
    """
    check_drift(plan, force)
    registry_for = ctx.services.registry_for
    lines = []
    for undo in plan.undos:
        key = f"rollback:{plan.stage}:{undo.destination}@{undo.written}"
        [done] = ctx.effect(key, lambda u=undo: [_act(u, plan.stage, registry_for, force)],
                            reconcile=lambda u=undo: _reconcile(u, plan.stage, registry_for),
                            intent={"destination": undo.destination, "to": undo.previous})
        lines.append(_describe(done))  # printed by the command, not through ctx.out
    closing = PromotionRolledBack(stage=plan.stage, destinations=[u.destination for u in plan.undos])
    removed = [u for u in plan.undos if u.action == DELETE]
    lines.append(f"rolled back the {plan.stage} promotion: {len(plan.undos)} destination(s)"
                 + (f", {len(removed)} tag(s) removed" if removed else ""))
    return lines, closing


def _event(undo: Undo, stage: str, action: str, force: bool) -> ImageRolledBack:
    return ImageRolledBack(stage=stage, destination=undo.destination, from_digest=undo.current,
                           to_digest=undo.previous if action != "kept" else undo.current,
                           action=action, forced=force and undo.drifted)


def _act(undo: Undo, stage: str, registry_for: Callable[[str], Any], force: bool) -> ImageRolledBack:
    ref = ImageRef.parse(undo.destination)
    registry = registry_for(ref.host)
    if undo.action == NOTHING:
        return _event(undo, stage, "unchanged", force)
    if undo.action == RESTORE:
        manifest = _previous_manifest(undo, registry, ref)
        registry.put_manifest(ref.repo, ref.tag, manifest.data, manifest.media_type)
        return _event(undo, stage, "restored", force)
    return _event(undo, stage, _remove_tag(registry, ref, undo.current), force)


def _previous_manifest(undo: Undo, registry: Any, ref: ImageRef) -> Manifest:
    """The manifest to put back: the bytes recorded at promotion, else read by digest."""
    rec = undo.inspected
    if rec is not None and rec.previous_manifest is not None:
        data = rec.previous_manifest.encode("utf-8")
        if sha256_digest(data) == undo.previous:
            return Manifest(data, rec.previous_media_type or "", undo.previous)
    found = registry.get_manifest(ref.repo, undo.previous)
    if found is None:
        raise PromotionError(f"cannot restore {undo.destination} to {undo.previous}: the ledger "
                             "has no copy of that manifest and the registry no longer holds it")
    return found


def _remove_tag(registry: Any, ref: ImageRef, digest: str | None) -> str:
    """Delete a tag; where the registry cannot, delete its manifest if no other tag needs it."""
    if registry.delete_tag(ref.repo, ref.tag):
        return "tag_deleted"
    others = [t for t in registry.list_tags(ref.repo) if t != ref.tag]
    for tag in others:
        desc = registry.head_manifest(ref.repo, tag)
        if desc is not None and desc.digest == digest:
            return "kept"  # deleting the manifest would take `tag` with it
    registry.delete_manifest(ref.repo, digest)
    return "manifest_deleted"


def _reconcile(undo: Undo, stage: str, registry_for: Callable[[str], Any]) -> list | None:
    """After a kill: the tag already back where it belongs means the undo happened."""
    now = current_digest(registry_for(ImageRef.parse(undo.destination).host), undo.destination)
    if now != undo.previous:
        return None
    action = "restored" if undo.previous else "tag_deleted"
    return [ImageRolledBack(stage=stage, destination=undo.destination, from_digest=undo.current,
                            to_digest=undo.previous, action=action)]


def _describe(ev: Any) -> str:
    if ev.action == "restored":
        return f"restored {ev.destination} to {ev.to_digest}"
    if ev.action in ("tag_deleted", "manifest_deleted"):
        how = "tag" if ev.action == "tag_deleted" else "manifest (the registry cannot delete tags)"
        return f"removed {ev.destination}: deleted its {how}"
    if ev.action == "kept":
        return (f"kept {ev.destination}: the registry cannot delete tags and another tag points "
                f"to {ev.from_digest}; delete it by hand")
    return f"unchanged {ev.destination}: already at {ev.to_digest or ABSENT}"


def rollback_promotion(ctx: Any, force: bool = False
                       ) -> tuple[list[str], PromotionRolledBack | None]:
    """Plan, and unless `ctx.dry_run`, apply the rollback; returns lines and the closing event.

    On a dry run the lines are the plan (drift included) and no event is returned.
    """
    events = [parse_event(e) for e in ctx.history()]
    plan = plan_rollback(events, ctx.services.registry_for)
    if ctx.dry_run:
        lines = plan.lines()
        if plan.drifted and not force:
            lines.append(f"would stop: {len(plan.drifted)} destination(s) drifted "
                         "(use --force to roll them back too)")
        return lines, None
    return apply_rollback(ctx, plan, force)


def run_rollback(ledger: Any, state: Any, services: Any, *, repo: Any = None,
                 dry_run: bool = False, force: bool = False, out: Any = None) -> list[str]:
    """`release rollback`: under the release's lock, undo its latest promotion and step back.

    Refused before anything is read from a registry when the state allows no rollback.
    """
    from release_ledger.engine.machine import next_state
    from release_ledger.engine.releases import load_state
    from release_ledger.engine.runner import transition
    from release_ledger.engine.step import StepContext

    def context(current: Any, dry: bool) -> Any:
        return StepContext(ledger, current, step="rollback", repo=repo, services=services,
                           options={"force": force}, dry_run=dry, out=out)

    if dry_run:
        next_state(state.state, "rollback")
        lines, _ = rollback_promotion(context(state, True), force)
        return lines
    with ledger.lock(state.version):
        current = load_state(ledger, state.version)
        dest = next_state(current.state, "rollback")  # TransitionRefused names the state
        ctx = context(current, False)
        lines, closing = rollback_promotion(ctx, force)
        transition(ctx, "rollback", closing)
    return lines + [f"state: {current.state} -> {dest}"]
