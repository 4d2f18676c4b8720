"""Every console example of README.md and docs/*.md is run and its output compared
(tests/docs/doc_console.py says how an example is written and matched)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from doc_console import Example, mismatch, parse_examples, run_examples, session_env

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
WITH_EXAMPLES = [d for d in DOCS if parse_examples((ROOT / d).read_text(), d)]


@pytest.fixture(scope="session")
def doc_runs(tmp_path_factory):
    """Each document's examples run once, in a session of their own: {doc: [(example, output)]}."""
    runs: dict[str, list[tuple[Example, str]]] = {}

    def run(doc: str) -> list[tuple[Example, str]]:
        if doc not in runs:
            examples = parse_examples((ROOT / doc).read_text(), doc)
            home = tmp_path_factory.mktemp("docs-" + Path(doc).stem)
            work = home / "work"
            work.mkdir()
            outputs = run_examples(examples, work, session_env(home, Path(sys.executable).parent))
            runs[doc] = list(zip(examples, outputs))
        return runs[doc]

    return run


def test_the_docs_have_console_examples():
    """README.md and docs/SANDBOX.md carry runnable examples (a parser bug would find none)."""
    assert {"README.md", "docs/SANDBOX.md"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("doc", WITH_EXAMPLES)
def test_each_console_example_prints_what_the_doc_says(doc, doc_runs):
    """Run the document's `$` commands in order; each prints what the document shows."""
    problems = [m for example, output in doc_runs(doc) if (m := mismatch(example, output))]
    assert not problems, "\n\n".join(problems)


def test_a_changed_example_output_makes_the_check_fail(doc_runs):
    """The comparison has teeth: one character changed in a README example's output is caught."""
    runs = [(e, out) for e, out in doc_runs("README.md") if any(
        line.strip() and "<...>" not in line and line.strip() != "..." for line in e.expected)]
    assert runs
    for example, output in runs:
        assert mismatch(example, output) is None
        i = next(i for i, line in enumerate(example.expected)
                 if line.strip() and "<...>" not in line and line.strip() != "...")
        line = example.expected[i]
        changed = line[:-1] + ("X" if line[-1] != "X" else "Y")
        mutated = Example(example.doc, example.line, example.command,
                          example.expected[:i] + (changed,) + example.expected[i + 1:])
        assert mismatch(mutated, output) is not None, example.where()
