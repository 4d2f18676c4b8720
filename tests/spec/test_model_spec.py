"""Reading and expanding the catalogue (DOMAIN §3): a syntax tree, never executed."""

from __future__ import annotations

import pytest

from .support import PRODUCT
from release_ledger.workflows.errors import CatalogueError
from release_ledger.workflows.spec.catalogue import default_docker_image
from release_ledger.workflows.spec.reader import load_catalogue, parse_catalogue, read_catalogue

RELEASE_REPO = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"


def _source() -> str:
    return (PRODUCT / "workflows" / "model_spec.py").read_text(encoding="utf-8")


def test_sample_has_twelve_templates():
    """The sample catalogue reads as the 12 templates of docs/SANDBOX.md."""
    catalogue = read_catalogue(PRODUCT)
    assert [t.impl.impl_name for t in catalogue.templates] == [
        "tt-transformers"] * 4 + ["llama3-70b-galaxy"] + ["tt-transformers"] * 4 + [
        "whisper", "tt-sdxl", "tt-transformers"]


def test_expansion_is_weights_outer_devices_inner():
    """Model ids come in catalogue order: template, then weight, then device."""
    ids = [s.model_id for s in load_catalogue(PRODUCT)]
    assert ids[:3] == ["id_tt-transformers_Llama-3.1-8B-Instruct_n150",
                       "id_tt-transformers_Llama-3.1-8B-Instruct_n300",
                       "id_tt-transformers_Llama-3.1-8B-Instruct_t3k"]
    assert ids[8:11] == ["id_tt-transformers_Llama-3.3-70B-Instruct_t3k",
                         "id_tt-transformers_Llama-3.1-70B-Instruct_t3k",
                         "id_tt-transformers_DeepSeek-R1-Distill-Llama-70B_t3k"]
    assert ids[20:24] == ["id_whisper_whisper-large-v3_n150", "id_whisper_whisper-large-v3_galaxy",
                          "id_whisper_distil-large-v3_n150", "id_whisper_distil-large-v3_galaxy"]
    assert len(ids) == 28 == len(set(ids))


def test_device_token_with_underscore_is_lowercased_whole():
    """DeviceTypes.GALAXY_T3K gives the model id suffix `_galaxy_t3k`."""
    spec = next(s for s in load_catalogue(PRODUCT) if s.device == "GALAXY_T3K")
    assert spec.model_id == "id_tt-transformers_Qwen3-32B_galaxy_t3k"


def test_derived_image_uses_product_version_and_commits():
    """A template without docker_image gets the release image for VERSION and its commits."""
    spec = next(s for s in load_catalogue(PRODUCT) if s.model_name == "Qwen3-8B")
    assert spec.docker_image == f"{RELEASE_REPO}:0.3.0-9b67e09-a91b644"
    assert not spec.docker_image_explicit


def test_git_tag_ref_image_keeps_its_dashes():
    """A tt-metal git-tag ref appears whole in the derived tag."""
    spec = next(s for s in load_catalogue(PRODUCT) if s.impl_name == "llama3-70b-galaxy")
    assert spec.docker_image == f"{RELEASE_REPO}:0.3.0-v0.62.0-rc33-e3c3ae7"


def test_image_without_vllm_has_no_vllm_part():
    """Without a vllm commit, the derived tag is version and tt-metal commit only."""
    assert default_docker_image("0.4.0", "2496be4", None) == f"{RELEASE_REPO}:0.4.0-2496be4"


def test_explicit_media_image_is_kept():
    """A media template's explicit docker_image is used as written, with vllm_commit None."""
    spec = next(s for s in load_catalogue(PRODUCT) if s.impl_name == "tt-sdxl")
    assert spec.docker_image == "ghcr.io/tenstorrent/tt-media-inference-server:0.3.0-2496be4"
    assert spec.docker_image_explicit and spec.vllm_commit is None


def test_missing_status_expands_to_experimental():
    """A template without `status` expands with upstream's default EXPERIMENTAL."""
    catalogue = read_catalogue(PRODUCT)
    assert catalogue.templates[5].status is None
    spec = next(s for s in load_catalogue(PRODUCT) if s.model_name == "Mistral-7B-Instruct-v0.3")
    assert spec.status == "EXPERIMENTAL"


def test_literal_expressions_are_evaluated():
    """`64 * 1024`, json.dumps of a literal and enum members read as plain values."""
    specs = {s.model_id: s for s in load_catalogue(PRODUCT)}
    gemma = specs["id_tt-transformers_gemma-3-27b-it_t3k"].device_model_spec
    assert gemma.max_context == 131072
    assert gemma.vllm_args["mm-processor-kwargs"] == (
        '{"use_fast": true, "do_convert_rgb": true, "do_pan_and_scan": true}')
    seventy = specs["id_tt-transformers_Llama-3.1-70B-Instruct_t3k"]
    assert seventy.extra["system_requirements"]["firmware"] == {"specifier": ">=18.6.0",
                                                                "mode": "STRICT"}


def test_impl_variable_defined_with_a_constant_resolves():
    """`repo_url=TT_METAL_REPO` resolves through the module-level string constant."""
    assert read_catalogue(PRODUCT).templates[9].impl.repo_url == "https://github.com/tenstorrent/tt-metal"


def test_syntax_error_names_file_and_line():
    """A catalogue that does not parse is one sentence with file:line."""
    broken = _source().replace('        impl=whisper_impl,\n', '        impl=whisper_impl,,\n')
    line = broken.splitlines().index("        impl=whisper_impl,,") + 1
    with pytest.raises(CatalogueError, match=rf"^workflows/model_spec.py:{line}: syntax error"):
        parse_catalogue(broken, "workflows/model_spec.py")


def test_unknown_device_names_file_line_and_expression():
    """An unknown DeviceTypes member names file:line and the expression."""
    broken = _source().replace("device=DeviceTypes.P150", "x").replace(
        "device=DeviceTypes.GALAXY_T3K,", "device=DeviceTypes.GALAXY_T9K,")
    line = broken.splitlines().index("                device=DeviceTypes.GALAXY_T9K,") + 1
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(broken, "workflows/model_spec.py")
    assert str(err.value) == (f"workflows/model_spec.py:{line}: `DeviceTypes.GALAXY_T9K` "
                              "names an unknown device GALAXY_T9K")


def test_unresolvable_impl_names_file_line_and_expression():
    """An impl variable that is not an ImplSpec of the file names file:line and the name."""
    broken = _source().replace("impl=sdxl_impl,", "impl=make_impl('sdxl'),")
    line = broken.splitlines().index("        impl=make_impl('sdxl'),") + 1
    with pytest.raises(CatalogueError) as err:
        parse_catalogue(broken, "workflows/model_spec.py")
    assert str(err.value) == (f"workflows/model_spec.py:{line}: `make_impl('sdxl')` is a call "
                              "the catalogue reader cannot evaluate")


def test_undefined_impl_name_is_an_error():
    """A bare name that no top-level assignment defines is reported with its line."""
    broken = _source().replace("impl=sdxl_impl,", "impl=sd3_impl,")
    with pytest.raises(CatalogueError, match=r":\d+: `sd3_impl` is not a constant or ImplSpec"):
        parse_catalogue(broken, "workflows/model_spec.py")


def test_duplicate_model_id_is_an_error():
    """Two templates expanding to the same model_id are refused, naming both lines."""
    source = _source().replace('weights=["Qwen/Qwen3-8B"]', 'weights=["meta-llama/Llama-3.1-8B-Instruct"]')
    from release_ledger.workflows.spec.catalogue import expand

    with pytest.raises(CatalogueError, match="already defined by the template at line"):
        expand(parse_catalogue(source, "m.py"), "0.3.0")


def test_devices_declared_by_the_target_are_known(tmp_path):
    """A device added to the target's DeviceTypes (workflow_types.py) is accepted."""
    import shutil

    repo = tmp_path / "product"
    shutil.copytree(PRODUCT, repo)
    types = repo / "workflows" / "workflow_types.py"
    types.write_text(types.read_text().replace("    GPU = auto()\n", "    GPU = auto()\n    P300X4 = auto()\n"))
    catalogue = repo / "workflows" / "model_spec.py"
    catalogue.write_text(catalogue.read_text().replace("device=DeviceTypes.GALAXY_T3K,",
                                                       "device=DeviceTypes.P300X4,"))
    assert "id_tt-transformers_Qwen3-32B_p300x4" in [s.model_id for s in load_catalogue(repo)]
