"""The docs point only inside the repository, and their tables match the code they describe."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "release_logs" / "README.md",
        *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _block(text: str, info: str) -> str:
    match = re.search(rf"^```{info}\n(.*?)^```", text, re.S | re.M)
    assert match, f"no ```{info} block"
    return match[1]


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_link_resolves_inside_the_repository(doc):
    """Relative links name a file of the repository; #anchors name a heading of the page."""
    text = doc.read_text()
    anchors = {_slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        if not path:
            assert anchor in anchors, f"{doc.name}: no heading for #{anchor}"
            continue
        resolved = (doc.parent / path).resolve()
        assert resolved.is_relative_to(ROOT), f"{doc.name}: {target} points outside the repository"
        assert resolved.exists(), f"{doc.name}: {target} does not exist"


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_no_doc_names_a_path_outside_the_repository(doc):
    """No `../shared/...` (or other ../ escapes) in the text, linked or not."""
    assert not re.search(r"\.\./shared\b", doc.read_text())


def test_the_readme_graph_is_what_release_graph_prints():
    """The README's Mermaid diagram is the output of `release graph`."""
    from release_ledger.engine.machine import mermaid

    assert _block((ROOT / "README.md").read_text(), "mermaid") == mermaid()


def test_the_readme_configuration_names_every_setting_and_no_other():
    """The README's release.toml lists exactly the keys the settings have."""
    from release_ledger.workflows.settings_keys import NAMED_SECTIONS, SECTIONS, TOP_KEYS, check_keys

    table = tomllib.loads(_block((ROOT / "README.md").read_text(), "toml"))
    check_keys(table, "README.md")  # no key the settings do not have
    assert set(table) == TOP_KEYS | set(SECTIONS) | set(NAMED_SECTIONS)
    for section, keys in SECTIONS.items():
        assert set(table[section]) == keys, section
