"""How a console example is read and matched: commands, outputs and the two placeholders."""

from __future__ import annotations

from doc_console import Example, mismatch, parse_examples, shown

DOC = """Text.

```console
$ release start --increment minor   # a comment
started release 0.4.0 (from 0.3.0)
$ echo $?
0
```

```bash
$ not an example
```

```console
$ git log \\
  --oneline
...
$ release status
release 0.4.0: started
  last event: #1 ReleaseStarted at <...>
```
"""


def test_console_blocks_give_commands_with_their_output():
    """Only ```console blocks count; a trailing backslash continues the command."""
    examples = parse_examples(DOC, "X.md")
    assert [e.command for e in examples] == ["release start --increment minor   # a comment",
                                             "echo $?", "git log \\\n  --oneline",
                                             "release status"]
    assert examples[0].expected == ("started release 0.4.0 (from 0.3.0)",)
    assert examples[0].line == 4 and examples[2].expected == ("...",)


def _ex(*expected: str) -> Example:
    return Example("X.md", 1, "cmd", expected)


def test_any_text_matches_within_one_line_only():
    """`<...>` stands for any text of one line, not for a line break."""
    assert mismatch(_ex("at <...>Z"), "at 2026-11-26T23:26:14.160798Z\n") is None
    assert mismatch(_ex("at <...>Z"), "at 2026\nZ\n") is not None


def test_a_dots_line_matches_any_lines_even_none():
    """A `...` line stands for zero or more whole lines."""
    assert mismatch(_ex("a", "...", "b"), "a\nb\n") is None
    assert mismatch(_ex("a", "...", "b"), "a\nx\ny\nb\n") is None
    assert mismatch(_ex("a", "...", "b"), "a\nx\n") is not None


def test_a_different_line_is_reported_with_a_diff():
    """A mismatch names the document line and shows what was printed instead."""
    message = mismatch(_ex("started release 0.4.0"), "started release 0.5.0\n")
    assert message.startswith("X.md:1: `$ cmd` printed otherwise:")
    assert "+started release 0.5.0" in message and "-started release 0.4.0" in message


def test_progress_lines_and_trailing_blanks_are_not_compared():
    """Lines a terminal shows as a passing bar, and trailing blank lines, are left out."""
    assert shown("reading artifacts [3/254] run 299 x\nwrote a\n\n\n") == ["wrote a"]
    assert mismatch(_ex("wrote a"), "listing artifacts [1/10] run 299: 30 artifacts\nwrote a\n") is None
