"""The spec step through the engine: files written once, recorded, and right on every re-run."""

from __future__ import annotations

import hashlib

import pytest

from release_ledger.engine.registry import register_step
from release_ledger.engine.releases import load_state
from release_ledger.engine.runner import advance
from .support import VERSION, context, golden, snapshot
from release_ledger.workflows.errors import CatalogueError
from release_ledger.workflows.spec.step import (
    CatalogueEditedByHand,
    DerivedFilesRegenerated,
    SpecFileWritten,
    SpecStep,
    SpecUpdated,
    detect_manual_edit,
    notice_manual_edit,
)

DIFF = f"release_logs/v{VERSION}/release_models_diff.md"
WRITTEN = ["workflows/model_spec.py", "VERSION", "model_specs_output.json", DIFF, "README.md"]


@pytest.fixture(autouse=True)
def _registered():
    register_step(SpecStep())


def _advance(ledger, repo):
    return advance(ledger, VERSION, to="spec-updated", repo=repo, before_step=notice_manual_edit)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_advance_reaches_spec_updated(collected, product):
    """`advance` moves the release from collected to spec-updated."""
    assert _advance(collected, product).state.state == "spec-updated"


def test_version_is_the_target_fixed_at_start(collected, product):
    """VERSION holds the release's version after the step."""
    _advance(collected, product)
    assert (product / "VERSION").read_text() == f"{VERSION}\n"


def test_outputs_match_the_golden_files(collected, product):
    """The diff and model_specs_output.json written to the target equal the golden files."""
    _advance(collected, product)
    for rel, name in ((DIFF, "release_models_diff.md"),
                      ("model_specs_output.json", "model_specs_output.json")):
        text = (product / rel).read_text(encoding="utf-8")
        assert text == golden(name, text)
    assert golden("readme_table.md", "") in (product / "README.md").read_text(encoding="utf-8") + "\n"


def test_each_file_is_recorded_with_hashes_before_and_after(collected, product):
    """The ledger holds sha256 before and after for every file written."""
    before = snapshot(product)
    _advance(collected, product)
    after = snapshot(product)
    events = {e.path: e for e in context(collected, product).events_of(SpecFileWritten)}
    assert sorted(events) == sorted(WRITTEN)
    for rel, event in events.items():
        assert event.sha256_after == _sha(after[rel])
        assert event.sha256_before == (_sha(before[rel]) if rel in before else None)


def test_second_advance_leaves_every_file_identical(collected, product):
    """A second `advance` after the step changes no byte of the target."""
    _advance(collected, product)
    once = snapshot(product)
    result = _advance(collected, product)
    assert result.already and snapshot(product) == once


def test_rerun_after_kill_before_transition_writes_the_same_bytes(collected, product):
    """Files written by a run killed before its transition are found right, not rewritten."""
    ctx = context(collected, product)
    step = SpecStep()
    step.apply(ctx, step.plan(ctx))  # effects recorded, state still collected
    once = snapshot(product)
    assert load_state(collected, VERSION).state == "collected"
    _advance(collected, product)
    assert snapshot(product) == once


def test_replanning_after_the_step_changes_nothing(collected, product):
    """Planning again after the step finds every file already right, the diff included."""
    _advance(collected, product)
    plan = SpecStep().plan(context(collected, product))
    assert [line.split()[0] for line in plan.lines[:5]] == ["keep"] * 5
    assert "No updates were made." not in (product / DIFF).read_text()


def test_conflicts_are_recorded_in_the_outcome(collected, product):
    """The device conflict of Qwen3-8B is in the SpecUpdated event."""
    _advance(collected, product)
    [updated] = context(collected, product).events_of(SpecUpdated)
    assert [c.split(":")[0] for c in updated.conflicts] == ["tt_transformers Qwen3-8B"]


def test_bad_catalogue_fails_naming_file_line_and_changes_nothing(collected, product):
    """An unknown device stops the step with file:line; no file and no state change."""
    catalogue = product / "workflows" / "model_spec.py"
    catalogue.write_text(catalogue.read_text().replace("DeviceTypes.GALAXY_T3K,",
                                                       "DeviceTypes.GALAXY_T9K,"))
    before = snapshot(product)
    with pytest.raises(CatalogueError, match=r"model_spec.py:\d+: `DeviceTypes.GALAXY_T9K`"):
        _advance(collected, product)
    assert snapshot(product) == before
    assert load_state(collected, VERSION).state == "collected"


def test_hand_edit_is_noticed_recorded_and_regenerated(collected, product):
    """A hand edit after the step is recorded and the derived files follow it."""
    _advance(collected, product)
    catalogue = product / "workflows" / "model_spec.py"
    catalogue.write_text(catalogue.read_text().replace(
        'weights=["arcee-ai/AFM-4.5B"],\n        impl=tt_transformers_impl,\n        tt_metal_commit="9b67e09"',
        'weights=["arcee-ai/AFM-4.5B"],\n        impl=tt_transformers_impl,\n        tt_metal_commit="0123abc"'))
    ctx = context(collected, product, step="promote_dev")
    assert notice_manual_edit(ctx)
    assert [e.sha256_found for e in ctx.events_of(CatalogueEditedByHand)] == [_sha(catalogue.read_bytes())]
    assert "`9b67e09` → `0123abc` | same | N/A |" in (product / DIFF).read_text()
    assert "0.4.0-0123abc-a91b644" in (product / "README.md").read_text()
    assert ctx.events_of(DerivedFilesRegenerated)


def test_hand_edit_is_handled_once(collected, product):
    """After regeneration the catalogue matches the ledger again: nothing more to do."""
    _advance(collected, product)
    catalogue = product / "workflows" / "model_spec.py"
    catalogue.write_text(catalogue.read_text().replace("max_concurrency=16", "max_concurrency=8"))
    notice_manual_edit(context(collected, product, step="promote_dev"))
    ctx = context(collected, product, step="promote_dev")
    assert not detect_manual_edit(ctx) and not notice_manual_edit(ctx)


def test_untouched_catalogue_is_not_a_hand_edit(collected, product):
    """Right after the step the catalogue is the one recorded."""
    _advance(collected, product)
    assert not detect_manual_edit(context(collected, product, step="promote_dev"))


def test_dry_run_writes_nothing(collected, product):
    """`advance --dry-run` plans the writes and leaves files and ledger alone."""
    before, events = snapshot(product), len(list(collected.events(VERSION)))
    result = advance(collected, VERSION, to="spec-updated", repo=product, dry_run=True)
    [(trigger, plan)] = result.plans
    assert trigger == "update_spec" and "write VERSION" in plan.lines
    assert snapshot(product) == before and len(list(collected.events(VERSION))) == events


def test_broken_hand_edit_stops_with_file_line_and_writes_nothing(collected, product):
    """A hand edit that no longer parses is reported with file:line; derived files stay."""
    _advance(collected, product)
    catalogue = product / "workflows" / "model_spec.py"
    catalogue.write_text(catalogue.read_text().replace("impl=sdxl_impl,", "impl=sdxl_impl(),"))
    before = snapshot(product)
    with pytest.raises(CatalogueError, match=r"model_spec.py:\d+: `sdxl_impl\(\)`"):
        notice_manual_edit(context(collected, product, step="promote_dev"))
    assert snapshot(product) == before
