# SPDX-License-Identifier: Apache-2.0
#
# SPDX-FileCopyrightText: © 2025 Tenstorrent AI ULC
#
# Sample product catalogue for the `release` sandbox, in the seed-era format of
# tt-inference-server's workflows/model_spec.py. `release` reads and edits this file
# as a syntax tree and never runs it: keep it plain data inside `spec_templates`.

import json
from dataclasses import dataclass, field
from enum import IntEnum, auto
from pathlib import Path
from typing import Dict, List, Optional

from workflows.utils import get_version
from workflows.workflow_types import DeviceTypes, ModelStatusTypes, VersionMode

VERSION = get_version()

# The repository every impl below lives in.
TT_METAL_REPO = "https://github.com/tenstorrent/tt-metal"


def generate_docker_tag(version: str, tt_metal_commit: str, vllm_commit: str) -> str:
    # Tags hold at most 12 characters of each commit; git-tag refs keep their dashes.
    max_tag_len = 12
    if vllm_commit:
        return f"{version}-{tt_metal_commit[:max_tag_len]}-{vllm_commit[:max_tag_len]}"
    else:
        return f"{version}-{tt_metal_commit[:max_tag_len]}"


def generate_default_docker_link(
    version: str, tt_metal_commit: str, vllm_commit: str
) -> str:
    _default_docker_tag = generate_docker_tag(version, tt_metal_commit, vllm_commit)
    _default_docker_repo = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"
    return f"{_default_docker_repo}:{_default_docker_tag}"


def model_weights_to_model_name(model_weights: str) -> str:
    return Path(model_weights).name


def get_model_id(impl_name: str, model_name: str, device: str) -> str:
    # e.g. id_tt-transformers_Qwen3-32B_galaxy_t3k
    return f"id_{impl_name}_{model_name}_{device}"


class ModelType(IntEnum):
    LLM = auto()
    CNN = auto()
    AUDIO = auto()


@dataclass(frozen=True)
class ImplSpec:
    impl_id: str
    impl_name: str
    repo_url: str
    code_path: str


# --- Implementations -------------------------------------------------------------------

# The generic transformer stack, used by most LLMs.
tt_transformers_impl = ImplSpec(
    impl_id="tt_transformers",
    impl_name="tt-transformers",
    repo_url="https://github.com/tenstorrent/tt-metal",
    code_path="models/tt_transformers",
)
# Hand-tuned Llama 70B for the 32-chip Galaxy.
llama3_70b_galaxy_impl = ImplSpec(
    impl_id="llama3_70b_galaxy",
    impl_name="llama3-70b-galaxy",
    repo_url="https://github.com/tenstorrent/tt-metal",
    code_path="models/demos/llama3_70b_galaxy",
)
# Media models are served by tt-media-inference-server, not vLLM.
whisper_impl = ImplSpec(
    impl_id="whisper",
    impl_name="whisper",
    repo_url=TT_METAL_REPO,
    code_path="models/demos/whisper",
)
sdxl_impl = ImplSpec(
    impl_id="tt_sdxl",
    impl_name="tt-sdxl",
    repo_url=TT_METAL_REPO,
    code_path="models/experimental/stable_diffusion_xl_base",
)


@dataclass(frozen=True)
class VersionRequirement:
    """Represents a software version requirement with a specific mode."""

    specifier: str
    mode: VersionMode


@dataclass(frozen=True)
class SystemRequirements:
    """Represents system software version requirements."""

    firmware: VersionRequirement = None
    kmd: VersionRequirement = None


@dataclass(frozen=True)
class DeviceModelSpec:
    """Model-specific specification for a specific device."""

    device: DeviceTypes
    max_concurrency: int
    max_context: int
    perf_targets_map: Dict[str, float] = field(default_factory=dict)
    default_impl: bool = False
    vllm_args: Dict[str, str] = field(default_factory=dict)
    override_tt_config: Dict[str, str] = field(default_factory=dict)
    env_vars: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpecTemplate:
    """Expanded into one ModelSpec per (weight, device): weights outer, devices inner."""

    weights: List[str]
    impl: ImplSpec
    tt_metal_commit: str
    device_model_specs: List[DeviceModelSpec]
    system_requirements: Optional[SystemRequirements] = None
    vllm_commit: Optional[str] = None
    status: str = ModelStatusTypes.EXPERIMENTAL
    env_vars: Dict[str, str] = field(default_factory=dict)
    supported_modalities: List[str] = field(default_factory=lambda: ["text"])
    version: str = VERSION
    docker_image: Optional[str] = None
    model_type: Optional[ModelType] = ModelType.LLM
    min_disk_gb: Optional[int] = None
    min_ram_gb: Optional[int] = None
    display_name: Optional[str] = None


# Model specification templates - these get expanded into individual specs
spec_templates = [
    # 1. Llama 3.1 8B: the reference model, on every Wormhole card.
    ModelSpecTemplate(
        weights=["meta-llama/Llama-3.1-8B-Instruct"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",  # bumped by the release tool from CI
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=32,
                max_context=64 * 1024,
                default_impl=True,
                override_tt_config={
                    "trace_region_size": 60000000,
                },
            ),
            DeviceModelSpec(
                device=DeviceTypes.N300,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
            ),
        ],
        status=ModelStatusTypes.FUNCTIONAL,
    ),
    # 2. Qwen3 8B.
    ModelSpecTemplate(
        weights=["Qwen/Qwen3-8B"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=32,
                max_context=40960,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.N300,
                max_concurrency=32,
                max_context=40960,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=40960,
                default_impl=True,
            ),
        ],
        status=ModelStatusTypes.EXPERIMENTAL,
    ),
    # 3. Qwen3 32B, also on a T3K-shaped slice of a Galaxy (device name with `_`).
    ModelSpecTemplate(
        weights=["Qwen/Qwen3-32B"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.GALAXY_T3K,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
                env_vars={
                    "TT_MM_THROTTLE_PERF": 2,
                    "TT_MESH_GRAPH_DESC_PATH": "../../tt-metal/tt_metal/fabric/mesh_graph_descriptors/t3k_mesh_graph_descriptor.yaml",
                },
            ),
        ],
        status=ModelStatusTypes.FUNCTIONAL,
        env_vars={
            "VLLM_ALLOW_LONG_MAX_MODEL_LEN": 1,
        },
    ),
    # 4. The 70B family shares one implementation and one image on T3K.
    ModelSpecTemplate(
        weights=[
            "meta-llama/Llama-3.3-70B-Instruct",
            "meta-llama/Llama-3.1-70B-Instruct",
            "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        ],
        impl=tt_transformers_impl,
        system_requirements=SystemRequirements(
            firmware=VersionRequirement(
                specifier=">=18.6.0",
                mode=VersionMode.STRICT,
            ),
            kmd=VersionRequirement(
                specifier=">=2.1.0",
                mode=VersionMode.STRICT,
            ),
        ),
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
                env_vars={
                    "MAX_PREFILL_CHUNK_SIZE": "32",
                    "VLLM_ALLOW_LONG_MAX_MODEL_LEN": 1,
                },
            ),
        ],
        status=ModelStatusTypes.COMPLETE,
    ),
    # 5. Galaxy Llama 70B is pinned to a tt-metal release tag, not a commit.
    ModelSpecTemplate(
        weights=["meta-llama/Llama-3.3-70B-Instruct"],
        impl=llama3_70b_galaxy_impl,
        tt_metal_commit="v0.62.0-rc33",
        vllm_commit="e3c3ae7",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.GALAXY,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
                vllm_args={
                    "num_scheduler_steps": 1,
                },
                override_tt_config={
                    "dispatch_core_axis": "col",
                    "sample_on_device_mode": "all",
                    "fabric_config": "FABRIC_1D_RING",
                    "worker_l1_size": 1345000,
                    "trace_region_size": 192441344,
                },
            ),
        ],
        status=ModelStatusTypes.TOP_PERF,
    ),
    # 6. Mistral 7B: no explicit status yet (defaults to EXPERIMENTAL when expanded).
    ModelSpecTemplate(
        weights=["mistralai/Mistral-7B-Instruct-v0.3"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=32,
                max_context=32 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.N300,
                max_concurrency=32,
                max_context=32 * 1024,
                default_impl=True,
            ),
        ],
        env_vars={
            "VLLM_ALLOW_LONG_MAX_MODEL_LEN": 1,
        },
    ),
    # 7. AFM 4.5B: not yet in Models CI, so a release leaves it untouched.
    ModelSpecTemplate(
        weights=["arcee-ai/AFM-4.5B"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=32,
                max_context=64 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=64 * 1024,
                default_impl=True,
            ),
        ],
        status=ModelStatusTypes.EXPERIMENTAL,
    ),
    # 8. Gemma 3 27B (multimodal).
    ModelSpecTemplate(
        weights=["google/gemma-3-27b-it"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
                vllm_args={
                    "mm-processor-kwargs": json.dumps(
                        {
                            "use_fast": True,
                            "do_convert_rgb": True,
                            "do_pan_and_scan": True,
                        }
                    ),
                },
                override_tt_config={
                    "l1_small_size": 768,
                    "fabric_config": "FABRIC_1D",
                },
            ),
            DeviceModelSpec(
                device=DeviceTypes.GALAXY,
                max_concurrency=32 * 4,
                max_context=128 * 1024,
                default_impl=True,
                override_tt_config={
                    "data_parallel": 4,
                },
            ),
        ],
        status=ModelStatusTypes.EXPERIMENTAL,
        supported_modalities=["text", "image"],
    ),
    # 9. Qwen2.5-VL 7B (vision-language).
    ModelSpecTemplate(
        weights=["Qwen/Qwen2.5-VL-7B-Instruct"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=16,
                max_context=32 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.N300,
                max_concurrency=16,
                max_context=32 * 1024,
                default_impl=True,
            ),
        ],
        status=ModelStatusTypes.EXPERIMENTAL,
        supported_modalities=["text", "image"],
    ),
    # 10. Whisper (audio) runs in the media server: explicit image, no vLLM.
    ModelSpecTemplate(
        weights=["openai/whisper-large-v3", "distil-whisper/distil-large-v3"],
        tt_metal_commit="2496be4",
        impl=whisper_impl,
        min_disk_gb=15,
        min_ram_gb=6,
        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.3.0-2496be4",
        model_type=ModelType.AUDIO,
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=1,
                max_context=64 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.GALAXY,
                max_concurrency=32,
                max_context=64 * 1024,
                default_impl=True,
            ),
        ],
        vllm_commit=None,
        status=ModelStatusTypes.FUNCTIONAL,
    ),
    # 11. Stable Diffusion XL (image generation), same media server image.
    ModelSpecTemplate(
        weights=["stabilityai/stable-diffusion-xl-base-1.0"],
        tt_metal_commit="2496be4",
        impl=sdxl_impl,
        min_disk_gb=15,
        min_ram_gb=6,
        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.3.0-2496be4",
        model_type=ModelType.CNN,
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.N150,
                max_concurrency=1,
                max_context=64 * 1024,
                default_impl=True,
            ),
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=8,
                max_context=64 * 1024,
                default_impl=True,
            ),
        ],
        vllm_commit=None,
        status=ModelStatusTypes.EXPERIMENTAL,
    ),
    # 12. Qwen2.5 72B on T3K and Galaxy (data parallel).
    ModelSpecTemplate(
        weights=["Qwen/Qwen2.5-72B-Instruct"],
        impl=tt_transformers_impl,
        tt_metal_commit="9b67e09",
        vllm_commit="a91b644",
        device_model_specs=[
            DeviceModelSpec(
                device=DeviceTypes.T3K,
                max_concurrency=32,
                max_context=128 * 1024,
                default_impl=True,
                override_tt_config={
                    "trace_region_size": 26000000,
                },
            ),
            DeviceModelSpec(
                device=DeviceTypes.GALAXY,
                max_concurrency=32 * 4,
                max_context=128 * 1024,
                default_impl=True,
                override_tt_config={
                    "trace_region_size": 27381760,
                    "data_parallel": 4,
                },
            ),
        ],
        status=ModelStatusTypes.FUNCTIONAL,
        env_vars={
            "VLLM_ALLOW_LONG_MAX_MODEL_LEN": 1,
            "MAX_PREFILL_CHUNK_SIZE": "16",
        },
    ),
]


def get_model_spec_map(templates: List[ModelSpecTemplate]) -> Dict[str, "ModelSpec"]:
    """Expand every template (weights outer, devices inner) into a map by model_id."""
    raise NotImplementedError("the sandbox catalogue is read, never executed")


# Final model specifications generated from templates
MODEL_SPECS = {}
