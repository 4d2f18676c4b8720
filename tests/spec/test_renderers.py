"""The spec step's renderers against golden files: same input, same bytes."""

from __future__ import annotations

import json

import pytest

from .support import PRODUCT, golden, sample_last_good
from release_ledger.workflows.spec.edit import update_catalogue
from release_ledger.workflows.errors import CatalogueError
from release_ledger.workflows.spec.catalogue import expand
from release_ledger.workflows.spec.reader import parse_catalogue
from release_ledger.workflows.render.diff import diff_rows, render_models_diff
from release_ledger.workflows.render.readme import TABLE_HEADER, render_model_table, replace_model_table
from release_ledger.workflows.render.specs_output import render_specs_output

SOURCE = (PRODUCT / "workflows" / "model_spec.py").read_text(encoding="utf-8")
README = (PRODUCT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pinned():
    """The sample catalogue pinned for 0.4.0, parsed, with its update plan."""
    update = update_catalogue(SOURCE, sample_last_good(), "0.4.0")
    return parse_catalogue(update.text), update


def test_models_diff_matches_golden(pinned):
    """release_models_diff.md lists every changed template against the start baseline."""
    catalogue, update = pinned
    rows = diff_rows(parse_catalogue(SOURCE), catalogue, update.updates)
    text = render_models_diff(rows, update.conflicts, [n for u in update.updates for n in u.notes])
    assert text == golden("release_models_diff.md", text)


def test_models_diff_without_changes_says_so():
    """With nothing changed, the diff says "No updates were made."."""
    catalogue = parse_catalogue(SOURCE)
    assert render_models_diff(diff_rows(catalogue, catalogue)) == (
        "# Model Spec Release Updates\n\nNo updates were made.\n")


def test_models_diff_without_baseline_marks_everything_new():
    """A template absent from the baseline shows `New:` values."""
    catalogue = parse_catalogue(SOURCE)
    row = diff_rows(None, catalogue)[4]
    assert "| New: `v0.62.0-rc33` | New: TOP_PERF | N/A |" in render_models_diff([row])


def test_readme_table_matches_golden(pinned):
    """The Model Support table for 0.4.0: one row per template, NEW version in every tag."""
    catalogue, _ = pinned
    table = render_model_table(catalogue, "0.4.0") + "\n"
    assert table == golden("readme_table.md", table)
    assert "0.3.0" not in table


def test_readme_table_is_replaced_in_place(pinned):
    """Everything around the table keeps its bytes; only the table changes."""
    catalogue, _ = pinned
    table = render_model_table(catalogue, "0.4.0")
    after = replace_model_table(README, table)
    start = README.index(TABLE_HEADER)
    assert after.startswith(README[:start] + table + "\n\nStatus: 🛠️ Experimental")
    assert after.endswith(README[README.index("\n\nStatus: "):])


def test_readme_without_table_is_an_error():
    """A README without the table header is refused with the file named."""
    with pytest.raises(CatalogueError, match="^README.md has no Model Support table"):
        replace_model_table("# Product\n\nNo table here.\n", "| x |")


def test_template_without_default_device_has_no_row():
    """A template whose devices are all non-default is left out of the table."""
    source = SOURCE.replace("default_impl=True", "default_impl=False")
    assert render_model_table(parse_catalogue(source), "0.4.0").count("\n") == 1


def test_specs_output_matches_golden(pinned):
    """model_specs_output.json holds every expanded spec by model_id, enums by name."""
    catalogue, _ = pinned
    text = render_specs_output(expand(catalogue, "0.4.0"))
    assert text == golden("model_specs_output.json", text)
    data = json.loads(text)
    assert len(data) == 28
    assert data["id_tt-transformers_Qwen3-32B_galaxy_t3k"]["device_type"] == "GALAXY_T3K"
