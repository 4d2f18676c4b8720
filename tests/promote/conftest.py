"""Fixtures of the promotion tests: catalogue entries and last-good entries as plain data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

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


@pytest.fixture
def spec():
    """Build a Spec."""
    return Spec
