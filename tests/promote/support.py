"""Test data of the promotion tests: catalogue and last-good entries, and a release World."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from release_ledger.adapters.image_factory import build_image
from release_ledger.adapters.image_ref import ImageRef
from release_ledger.engine.events import ReleaseStarted, StateChanged
from release_ledger.engine.releases import load_state, start_release
from release_ledger.engine.report import PlainReporter
from release_ledger.engine.step import StepContext
from release_ledger.ledger import Ledger
from release_ledger.workflows.config import parse_config
from release_ledger.workflows.services import Services

TT = "e95ffa59adbe39237525161272141cbbb603c686"
TT_OTHER = "9b67e09aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
PRODUCT = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"
CI = "ghcr.io/tenstorrent/tt-shield/vllm-tt-metal-src-dev-ubuntu-22.04-amd64"
MEDIA = "ghcr.io/tenstorrent/tt-media-inference-server"


@dataclass(frozen=True)
class Spec:
    """A catalogue entry reduced to what promotion reads (the shape of ModelSpec)."""

    model_id: str
    docker_image: str
    tt_metal_commit: str = TT[:7]
    vllm_commit: str | None = "48eba14"


def entry(run: int, job: int, tt: str = TT, vllm: str | None = "48eba14",
          image: str | None = None) -> dict:
    """A last-good entry shaped like DOMAIN §2's (only the fields promotion reads matter)."""
    return {"device": "N150", "impl_name": "tt-transformers", "tt_metal_commit": tt,
            "vllm_commit": vllm,
            "docker_image": image or f"{CI}:0.3.0-{tt}-{vllm}-{job}",
            "ci_run_number": run, "ci_run_id": 19339722000 + run}


# --- a release in a ledger, registries as OCI layouts ----------------------------------------



VERSION = "0.4.0"
# The states a release passes before dev promotion, as the engine records them.
_TO_SPEC_UPDATED = [("collect", "started", "collected"), ("update_spec", "collected", "spec-updated")]


class World:
    """One release in a fresh ledger, its product checkout, and OCI-layout registries."""

    def __init__(self, root: Path, build_command: str = ""):
        self.root = root
        self.repo = root / "product"
        self.repo.mkdir(parents=True, exist_ok=True)
        self.config = parse_config({
            "images": {"build_command": build_command},
            "registries": {"ghcr.io": {"url": f"oci-layout:{root / 'registries' / 'ghcr.io'}"}},
        }, "test release.toml")
        self.services = Services(self.config, self.repo)
        self.ledger = Ledger.open(root / "ledger.sqlite")
        start_release(self.ledger, ReleaseStarted(version=VERSION, previous_version="0.3.0"))
        self.out = PlainReporter(quiet=True)

    @property
    def state(self):
        """The release's state as the ledger says now."""
        return load_state(self.ledger, VERSION)

    def ctx(self, step: str = "promote_dev", dry_run: bool = False, **options) -> StepContext:
        """A step context on the release's current state."""
        return StepContext(self.ledger, self.state, step=step, repo=self.repo,
                           services=self.services, options=options, dry_run=dry_run, out=self.out)

    def reach_spec_updated(self) -> None:
        """Record the transitions before dev promotion (as collect and update_spec would)."""
        ctx = self.ctx()
        for trigger, source, dest in _TO_SPEC_UPDATED:
            ctx.record(StateChanged(trigger=trigger, source=source, dest=dest))

    def registry(self, image: str = "ghcr.io/x/y"):
        """The registry serving an image's host."""
        return self.services.registry_for(ImageRef.parse(image).host)

    def push(self, image: str, seed: int, **kwargs) -> str:
        """Push a small random image under `image`; returns its digest."""
        ref = ImageRef.parse(image)
        return build_image(self.registry(image), ref.repo, ref.tag, seed=seed, **kwargs).digest

    def digest(self, image: str) -> str | None:
        """What the image's tag holds now (None: absent)."""
        ref = ImageRef.parse(image)
        found = self.registry(image).head_manifest(ref.repo, ref.tag)
        return found.digest if found else None

    def events(self, cls=None) -> list:
        """The release's parsed events (of one class)."""
        from release_ledger.engine.events import parse_event
        parsed = [parse_event(e) for e in self.ledger.events(VERSION)]
        return [e for e in parsed if cls is None or isinstance(e, cls)]
