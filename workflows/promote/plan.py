"""Which image goes where: the pure half of image promotion (DOMAIN §5, DESIGN §6 and §8).

Nothing here touches a registry or the ledger. `plan_dev` turns the catalogue and the last-good
entries into one `Destination` per distinct `-dev-` image; `plan_rc` turns the digests recorded at
dev promotion into the `-release-` destinations. Both give their destinations in catalogue order,
so every rendering of a plan is stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

DEV, RC = "dev", "rc"
_DEV_TOKEN, _RELEASE_TOKEN = "-dev-", "-release-"


class SpecLike(Protocol):
    """What planning needs of a catalogue entry (`workflows.model_spec.ModelSpec` has it)."""

    model_id: str
    docker_image: str


@dataclass(frozen=True)
class Candidate:
    """One model's Models CI image that could fill a destination."""

    model_id: str
    image: str
    tt_metal_commit: str | None
    vllm_commit: str | None
    run_number: int

    @property
    def commits(self) -> tuple[str | None, str | None]:
        """The commits CI tested, the key models sharing an image must agree on (DESIGN §8)."""
        return (_norm(self.tt_metal_commit), _norm(self.vllm_commit))


@dataclass(frozen=True)
class Destination:
    """One product image to make true, and where its bytes come from.

    `source` is None when the destination needs a build; `reason` then says why. For the rc stage
    `source` is the dev image and `source_digest` the digest recorded when it was promoted.
    """

    stage: str
    image: str
    models: tuple[str, ...]
    source: str | None = None
    source_digest: str | None = None
    source_model: str | None = None
    source_run: int | None = None
    others: tuple[str, ...] = ()
    reason: str | None = None
    waived: bool = False

    @property
    def needs_build(self) -> bool:
        """True when no source image can fill this destination."""
        return self.source is None


@dataclass(frozen=True)
class DevRecord:
    """What the ledger says about one dev destination: the digest it was left at, or a waiver."""

    image: str
    digest: str | None
    models: tuple[str, ...] = ()
    waived: bool = False


def _norm(commit: str | None) -> str | None:
    return commit.strip().lower() if isinstance(commit, str) and commit.strip() else None


def _split_name(image: str) -> tuple[str, str]:
    """Split an image reference into its name and its `:tag`/`@digest` suffix.

    The tag is only searched after the last `/`, so a registry port (`127.0.0.1:5000/x`) stays
    in the name; tags are never split on `-` (DOMAIN §3: git-tag commits hold dashes).
    """
    at = image.find("@")
    if at >= 0:
        return image[:at], image[at:]
    slash = image.rfind("/")
    colon = image.find(":", slash + 1)
    if colon < 0:
        return image, ""
    return image[:colon], image[colon:]


def _swap_token(image: str, old: str, new: str) -> str:
    name, suffix = _split_name(image)
    # Only the last occurrence in the repository name: the organisation part is left alone.
    head, sep, tail = name.rpartition(old)
    return (head + new + tail if sep else name) + suffix


def dev_name(image: str) -> str:
    """The `-dev-` twin of a product image; media images have no token and keep their name."""
    return _swap_token(image, _RELEASE_TOKEN, _DEV_TOKEN)


def release_name(image: str) -> str:
    """The `-release-` twin of a dev image; media images have no token and keep their name."""
    return _swap_token(image, _DEV_TOKEN, _RELEASE_TOKEN)


def candidate_from(model_id: str, entry: Mapping[str, Any] | None) -> Candidate | None:
    """The CI image of a last-good entry (DOMAIN §2), or None when CI has no data for the model."""
    if not entry or not entry.get("docker_image"):
        return None
    run = entry.get("ci_run_number")
    return Candidate(model_id=model_id, image=str(entry["docker_image"]),
                     tt_metal_commit=entry.get("tt_metal_commit"),
                     vllm_commit=entry.get("vllm_commit"),
                     run_number=int(run) if isinstance(run, int | str) and str(run).isdigit() else 0)


def plan_dev(specs: Iterable[SpecLike], last_good: Mapping[str, Mapping[str, Any]]) -> list[Destination]:
    """One dev destination per distinct image of the catalogue, with the CI image to copy into it.

    The spec's `docker_image` already carries the new version (the spec step ran first); its
    `-release-` token becomes `-dev-` (DOMAIN §5).
    """
    groups: dict[str, list[str]] = {}
    for spec in specs:
        groups.setdefault(dev_name(spec.docker_image), []).append(spec.model_id)
    return [_choose(dst, models, [candidate_from(m, last_good.get(m)) for m in models])
            for dst, models in groups.items()]


def _choose(dst: str, models: list[str], found: list[Candidate | None]) -> Destination:
    """Pick the source of one shared destination (DESIGN §8: agree on commits, newest run wins)."""
    cands = [c for c in found if c is not None]
    base = Destination(stage=DEV, image=dst, models=tuple(models))
    if not cands:
        return replace(base, reason="no Models CI data")
    commits = sorted({c.commits for c in cands}, key=lambda t: tuple(x or "" for x in t))
    if len(commits) > 1:
        told = "; ".join(f"{c.model_id} tested {_fmt(c.commits)}" for c in cands)
        return replace(base, reason=f"models disagree on commits: {told}")
    # Newest run first; among equals the catalogue order decides (max keeps the first maximum).
    best = max(cands, key=lambda c: c.run_number)
    others = tuple(dict.fromkeys(c.image for c in cands if c.image != best.image))
    return replace(base, source=best.image, source_model=best.model_id,
                    source_run=best.run_number, others=others)


def _fmt(commits: tuple[str | None, str | None]) -> str:
    tt, vllm = commits
    return f"tt-metal {tt}" + (f", vllm {vllm}" if vllm else "")


def plan_rc(dev_records: Iterable[DevRecord]) -> list[Destination]:
    """The release destinations: each dev image, pinned by its recorded digest, to its `-release-` name.

    A dev destination waived with `--skip-missing` stays waived (DESIGN §8: the waiver carries to
    the rc stage); one that was never filled needs a build.
    """
    out = []
    for rec in dev_records:
        base = Destination(stage=RC, image=release_name(rec.image), models=rec.models)
        if rec.waived:
            out.append(replace(base, reason="waived at dev promotion", waived=True))
        elif rec.digest is None:
            out.append(replace(base, reason="the dev image was never promoted"))
        else:
            out.append(replace(base, source=rec.image, source_digest=rec.digest))
    return out


@dataclass
class PlanSummary:
    """Counts of a plan, for the last progress line."""

    destinations: int = 0
    with_source: int = 0
    needs_build: int = 0
    waived: int = 0


def summarize(dests: Iterable[Destination]) -> PlanSummary:
    """Count destinations by kind."""
    s = PlanSummary()
    for d in dests:
        s.destinations += 1
        if d.waived:
            s.waived += 1
        elif d.needs_build:
            s.needs_build += 1
        else:
            s.with_source += 1
    return s
