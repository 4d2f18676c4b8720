"""Which CI image fills which product image (DOMAIN §5, DESIGN §8 sharing rules)."""

from __future__ import annotations

from .support import CI, MEDIA, PRODUCT, TT, TT_OTHER, Spec, entry
from release_ledger.workflows.promote.plan import DevRecord, dev_name, plan_dev, plan_rc, release_name

DST = f"{PRODUCT}:0.4.0-e95ffa5-48eba14"
DEV_DST = DST.replace("-release-", "-dev-")


def test_dev_name_swaps_release_token():
    """The dev destination is the spec image with `-release-` replaced by `-dev-`."""
    assert dev_name(DST) == ("ghcr.io/tenstorrent/tt-inference-server/"
                             "vllm-tt-metal-src-dev-ubuntu-22.04-amd64:0.4.0-e95ffa5-48eba14")


def test_dev_name_keeps_media_image():
    """A media image has no dev/release token and keeps its name."""
    assert dev_name(f"{MEDIA}:0.4.0-2496be4") == f"{MEDIA}:0.4.0-2496be4"


def test_dev_name_leaves_tag_alone():
    """A `-release-` inside the tag (a git-tag commit) is not touched."""
    img = "127.0.0.1:5000/org/img-release-x:0.4.0-v0.62.0-release-rc33"
    assert dev_name(img) == "127.0.0.1:5000/org/img-dev-x:0.4.0-v0.62.0-release-rc33"


def test_release_name_undoes_dev_name():
    """The rc destination is the dev image's `-release-` name."""
    assert release_name(DEV_DST) == DST


def test_shared_destination_planned_once():
    """Many models sharing one image give one destination listing all of them."""
    specs = [Spec("id_a_n150", DST), Spec("id_a_n300", DST), Spec("id_b_t3k", DST)]
    lg = {m.model_id: entry(293, 1) for m in specs}
    [dest] = plan_dev(specs, lg)
    assert (dest.image, dest.models) == (DEV_DST, ("id_a_n150", "id_a_n300", "id_b_t3k"))


def test_newest_run_wins_and_others_recorded():
    """Among agreeing sources the newest run's image is used; the others are kept."""
    specs = [Spec("id_a_n150", DST), Spec("id_a_n300", DST)]
    lg = {"id_a_n150": entry(291, 11), "id_a_n300": entry(295, 22)}
    [dest] = plan_dev(specs, lg)
    assert (dest.source, dest.others) == (lg["id_a_n300"]["docker_image"],
                                          (lg["id_a_n150"]["docker_image"],))


def test_disagreeing_commits_need_build():
    """Models sharing a destination but tested at other commits make it need a build."""
    specs = [Spec("id_a_n150", DST), Spec("id_a_t3k", DST)]
    lg = {"id_a_n150": entry(291, 11), "id_a_t3k": entry(295, 22, tt=TT_OTHER)}
    [dest] = plan_dev(specs, lg)
    assert dest.needs_build and "id_a_t3k tested tt-metal 9b67e09" in dest.reason


def test_no_ci_data_needs_build():
    """A destination no model has CI data for needs a build."""
    [dest] = plan_dev([Spec("id_afm_n150", DST)], {"id_afm_n150": {}})
    assert (dest.needs_build, dest.reason) == (True, "no Models CI data")


def test_models_without_data_do_not_block_others():
    """Only the models with data must agree: one without data does not stop the copy."""
    specs = [Spec("id_a_n150", DST), Spec("id_a_t3k", DST)]
    [dest] = plan_dev(specs, {"id_a_n150": entry(291, 11), "id_a_t3k": {}})
    assert dest.source == entry(291, 11)["docker_image"]


def test_destinations_in_catalogue_order():
    """Destinations come in the order their first model appears in the catalogue."""
    media = f"{MEDIA}:0.4.0-2496be4"
    specs = [Spec("id_w_n150", media), Spec("id_a_n150", DST), Spec("id_s_n150", media)]
    assert [d.image for d in plan_dev(specs, {})] == [media, DEV_DST]


def test_rc_pins_dev_digest():
    """The rc source is the dev image pinned by the digest recorded at dev promotion."""
    [dest] = plan_rc([DevRecord(DEV_DST, "sha256:" + "a" * 64)])
    assert (dest.image, dest.source, dest.source_digest) == (DST, DEV_DST, "sha256:" + "a" * 64)


def test_rc_carries_waiver():
    """A destination waived at dev promotion stays waived at rc."""
    [dest] = plan_rc([DevRecord(DEV_DST, None, waived=True)])
    assert dest.waived and dest.needs_build


def test_ci_entry_without_image_needs_build():
    """A last-good entry with no docker_image counts as no CI data."""
    [dest] = plan_dev([Spec("id_a_n150", DST)], {"id_a_n150": {"ci_run_number": 3}})
    assert dest.needs_build


def test_vllm_commit_compared_too():
    """Models agreeing on tt-metal but not on vLLM disagree."""
    specs = [Spec("id_a_n150", DST), Spec("id_a_t3k", DST)]
    lg = {"id_a_n150": entry(291, 11), "id_a_t3k": entry(291, 12, vllm="1234567")}
    assert plan_dev(specs, lg)[0].needs_build


def test_ci_image_name_is_the_source():
    """The source is the CI image from last-good, unchanged."""
    [dest] = plan_dev([Spec("id_a_n150", DST)], {"id_a_n150": entry(293, 5)})
    assert dest.source == f"{CI}:0.3.0-{TT}-48eba14-5"
