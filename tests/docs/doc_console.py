"""Console examples in the docs, run and compared (the way sqlite-utils checks its docs).

A ```console block holds `$ command` lines, each followed by the output it prints (stdout and
stderr as a terminal shows them). The blocks of one document run in order in ONE bash session,
started in an empty temporary folder, so `cd` and `$?` carry over from one command to the next.
In expected output:

- a line `...` stands for any number of lines (none included);
- `<...>` stands for any text within one line (times, hashes, temporary paths);
- progress lines (`reading artifacts [3/254] ...`), which a terminal shows as a passing bar, are
  left out of the comparison;
- trailing spaces and trailing empty lines do not count.

A command may go on over several lines, each but the last ending with a backslash.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
ANY_LINES = "..."
ANY_TEXT = "<...>"
PROGRESS = re.compile(r"^(listing artifacts|reading artifacts|reading job logs|copy \S+) "
                      r"\[[\d./]+\]( |$)")


@dataclass(frozen=True)
class Example:
    """One `$ command` of a document and the output it is documented to print."""

    doc: str
    line: int            # 1-based line of the `$` in the document
    command: str
    expected: tuple[str, ...]

    def where(self) -> str:
        """`README.md:23`, for messages."""
        return f"{self.doc}:{self.line}"


def parse_examples(text: str, doc: str) -> list[Example]:
    """Every `$ command` of the document's ```console blocks, in order, with its output."""
    examples: list[Example] = []
    in_console, current = False, None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        fence = FENCE.match(raw)
        if fence and not in_console and fence[1] == "console":
            in_console, i = True, i + 1
            continue
        if fence and in_console:
            if current:
                examples.append(_example(doc, *current))
            in_console, current, i = False, None, i + 1
            continue
        if in_console and raw.startswith("$ "):
            if current:
                examples.append(_example(doc, *current))
            start, command = i + 1, raw[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command += "\n" + lines[i]
            current = (start, command, [])
        elif in_console and current is not None:
            current[2].append(raw)
        i += 1
    return examples


def _example(doc: str, line: int, command: str, expected: list[str]) -> Example:
    while expected and not expected[-1].strip():
        expected.pop()
    return Example(doc, line, command, tuple(line.rstrip() for line in expected))


def run_examples(examples: list[Example], workdir: Path, env: dict[str, str],
                 timeout: float = 900) -> list[str]:
    """Run the commands in one bash session in `workdir`; the output of each, in order."""
    mark = f"@@doc-example-{secrets.token_hex(6)}@@"
    script = ["exec 2>&1 </dev/null", f"cd {_quote(str(workdir))}"]
    for example in examples:
        script += [example.command, f"__rc=$?; printf '\\n%s\\n' '{mark}'; (exit $__rc)"]
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
                          env=env, capture_output=True, text=True, timeout=timeout)
    chunks = proc.stdout.split(f"\n{mark}\n")
    outputs = chunks[:len(examples)]
    outputs += [f"(not run: the session ended early)\n{chunks[-1]}"] * (len(examples) - len(outputs))
    return outputs


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def shown(output: str) -> list[str]:
    """The lines of an output a terminal would keep: progress lines out, trailing space off."""
    lines = [line.rstrip() for line in output.splitlines() if not PROGRESS.match(line)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def pattern(expected: tuple[str, ...]) -> re.Pattern[str]:
    """The regular expression an output must match in whole (see the module docstring)."""
    parts = []
    for line in expected:
        if line.strip() == ANY_LINES:
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            text = ".*?".join(re.escape(piece) for piece in line.split(ANY_TEXT))
            parts.append(text + r"\n")
    return re.compile("".join(parts))


def mismatch(example: Example, output: str) -> str | None:
    """None when the output is as documented; else a message with the difference."""
    actual = shown(output)
    if pattern(example.expected).fullmatch("".join(line + "\n" for line in actual)):
        return None
    diff = "\n".join(difflib.unified_diff(list(example.expected), actual, "documented", "printed",
                                          lineterm=""))
    return f"{example.where()}: `$ {example.command}` printed otherwise:\n{diff}"


def session_env(home: Path, bin_dir: Path) -> dict[str, str]:
    """The environment of a docs session: our `release` first on PATH, no tokens, no terminal."""
    keep = ("PATH", "LANG", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", HOME=str(home),
               TMPDIR=str(home), RELEASE_CACHE_DIR=str(home / "cache"), CI="1", TERM="dumb",
               PYTHONUNBUFFERED="1", PYTHONUTF8="1", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="docs", GIT_AUTHOR_EMAIL="docs@release.invalid",
               GIT_COMMITTER_NAME="docs", GIT_COMMITTER_EMAIL="docs@release.invalid")
    return env
