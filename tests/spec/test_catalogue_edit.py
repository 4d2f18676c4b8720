"""Pinning the catalogue to last-good data (DOMAIN §4, DESIGN §8) through the syntax tree."""

from __future__ import annotations

import difflib

from .support import PRODUCT, TT_A, entry, sample_last_good
from release_ledger.workflows.spec.edit import pin_commit, status_for, update_catalogue
from release_ledger.workflows.spec.reader import parse_catalogue

SOURCE = (PRODUCT / "workflows" / "model_spec.py").read_text(encoding="utf-8")


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(removed, added) line pairs and lone additions, as a unified diff shows them."""
    out = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm=""):
        if line.startswith(("---", "+++", "@@")):
            continue
        out.append(line)
    return out


def _update(source: str = SOURCE, last_good=None):
    return update_catalogue(source, sample_last_good() if last_good is None else last_good, "0.4.0")


def test_only_pinned_values_change():
    """Every line but the pinned values, added fields and rewritten images stays byte-identical."""
    changes = _changed_lines(SOURCE, _update().text)
    assert changes == [
        '-        tt_metal_commit="9b67e09",  # bumped by the release tool from CI',
        '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",  # bumped by the release tool from CI',
        '+        vllm_commit="48eba14",',
        '-        tt_metal_commit="9b67e09",', '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",', '+        vllm_commit="48eba14",',
        "-        status=ModelStatusTypes.EXPERIMENTAL,", "+        status=ModelStatusTypes.COMPLETE,",
        '-        tt_metal_commit="9b67e09",', '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",', '+        vllm_commit="48eba14",',
        "-        status=ModelStatusTypes.FUNCTIONAL,", "+        status=ModelStatusTypes.EXPERIMENTAL,",
        '-        tt_metal_commit="9b67e09",', '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",', '+        vllm_commit="48eba14",',
        "-        status=ModelStatusTypes.COMPLETE,", "+        status=ModelStatusTypes.FUNCTIONAL,",
        '-        tt_metal_commit="v0.62.0-rc33",', '-        vllm_commit="e3c3ae7",',
        '+        tt_metal_commit="v0.62.1-rc2",', '+        vllm_commit="f00ba47",',
        '-        tt_metal_commit="9b67e09",', '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",', '+        vllm_commit="48eba14",',
        "+        status=ModelStatusTypes.FUNCTIONAL,",
        '-        tt_metal_commit="9b67e09",', '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",', '+        vllm_commit="48eba14",',
        '-        tt_metal_commit="2496be4",', '+        tt_metal_commit="7c5e1d2",',
        '-        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.3.0-2496be4",',
        '+        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.4.0-7c5e1d2",',
        '-        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.3.0-2496be4",',
        '+        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.4.0-2496be4",',
        '-        tt_metal_commit="9b67e09",', '-        vllm_commit="a91b644",',
        '+        tt_metal_commit="e95ffa5",', '+        vllm_commit="48eba14",',
        "-        status=ModelStatusTypes.FUNCTIONAL,", "+        status=ModelStatusTypes.COMPLETE,",
    ]


def test_second_update_is_byte_identical():
    """Updating an already pinned catalogue with the same data changes no byte."""
    once = _update().text
    assert _update(once).text == once


def test_no_data_changes_nothing_but_media_version():
    """Without CI data only the explicit media images move to the new version."""
    changes = _changed_lines(SOURCE, _update(last_good={}).text)
    assert [c for c in changes if c.startswith("+")] == [
        '+        docker_image="ghcr.io/tenstorrent/tt-media-inference-server:0.4.0-2496be4",'] * 2


def test_first_weight_then_first_device_with_data_is_used():
    """The 70B template takes its values from its second weight, the first with data."""
    update = _update().updates[3]
    assert update.source_model_id == "id_tt-transformers_Llama-3.1-70B-Instruct_t3k"
    assert (update.ci_run_number, update.ci_job_url.rsplit("/", 1)[-1]) == (297, "6")


def test_conflicting_devices_are_reported():
    """Qwen3-8B's T3K entry disagrees with N300's: the conflict names both models."""
    assert _update().conflicts == [
        "tt_transformers Qwen3-8B: tt_metal_commit differs between devices: "
        "e95ffa5 (id_tt-transformers_Qwen3-8B_n300); 3d1f0c2 (id_tt-transformers_Qwen3-8B_t3k)"]


def test_missing_vllm_field_is_added_after_tt_metal_commit():
    """A template without vllm_commit gets one, on its own line after tt_metal_commit."""
    source = SOURCE.replace('        tt_metal_commit="9b67e09",\n        vllm_commit="a91b644",\n        '
                            'device_model_specs=[\n            DeviceModelSpec(\n                '
                            'device=DeviceTypes.T3K,\n                max_concurrency=32,\n'
                            '                max_context=128 * 1024,\n                default_impl=True,\n'
                            '                override_tt_config={\n                    "trace_region_size": 26000000,',
                            '        tt_metal_commit="9b67e09",\n        '
                            'device_model_specs=[\n            DeviceModelSpec(\n                '
                            'device=DeviceTypes.T3K,\n                max_concurrency=32,\n'
                            '                max_context=128 * 1024,\n                default_impl=True,\n'
                            '                override_tt_config={\n                    "trace_region_size": 26000000,')
    assert source != SOURCE
    after = _update(source).text
    assert '        tt_metal_commit="e95ffa5",\n        vllm_commit="48eba14",\n        device_model_specs=[' in after
    assert parse_catalogue(after).templates[11].vllm_commit == "48eba14"


def test_added_field_in_one_line_call_keeps_its_style():
    """In a one-line template the added status joins the line with ", "."""
    source = ('x = ImplSpec(impl_id="i", impl_name="i", repo_url="u", code_path="c")\n'
              "t = [ModelSpecTemplate(weights=['a/B'], impl=x, tt_metal_commit='1234567', "
              "device_model_specs=[DeviceModelSpec(device=DeviceTypes.N150)])]  # one line\n")
    after = _update(source, {"id_i_B_n150": entry("N150", TT_A, None, "complete")}).text
    assert after == ('x = ImplSpec(impl_id="i", impl_name="i", repo_url="u", code_path="c")\n'
                     "t = [ModelSpecTemplate(weights=['a/B'], impl=x, tt_metal_commit='e95ffa5', "
                     "device_model_specs=[DeviceModelSpec(device=DeviceTypes.N150)], "
                     "status=ModelStatusTypes.COMPLETE)]  # one line\n")


def test_other_explicit_image_is_left_and_reported():
    """An explicit image not of the form repo:version-commit is kept and named in a note."""
    source = SOURCE.replace("tt-media-inference-server:0.3.0-2496be4\",\n        model_type=ModelType.CNN",
                            "tt-media-inference-server:nightly\",\n        model_type=ModelType.CNN")
    result = _update(source)
    assert 'docker_image="ghcr.io/tenstorrent/tt-media-inference-server:nightly"' in result.text
    assert result.updates[10].notes == [
        "tt_sdxl stabilityai/stable-diffusion-xl-base-1.0: explicit docker_image "
        "ghcr.io/tenstorrent/tt-media-inference-server:nightly is not of the form "
        "repo:version-commit and was left as is"]


def test_pin_commit_shortens_hashes_and_keeps_tags():
    """40-hex commits become 7 characters; git-tag refs stay whole."""
    assert pin_commit(TT_A) == "e95ffa5"
    assert pin_commit("v0.62.0-rc33") == "v0.62.0-rc33"


def test_status_mapping_leaves_target_and_unknown():
    """experimental/functional/complete map to statuses; target and unknown values map to none."""
    assert [status_for(s) for s in ("experimental", "Functional", "complete", "target", "x", None)] == [
        "EXPERIMENTAL", "FUNCTIONAL", "COMPLETE", None, None, None]
