"""Where steps say what they do: plain lines, or rich progress bars on a terminal.

Steps call `out.line(text)` and `with out.progress(description, total) as bar: bar.advance(n)`;
the CLI picks the implementation (rich on a TTY, plain lines otherwise, nothing in tests).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Protocol


class Progress(Protocol):
    """A running progress indicator."""

    def advance(self, n: float = 1, note: str | None = None) -> None:
        """Move on by n units (and optionally say what was just done)."""


class Reporter(Protocol):
    """The output sink of steps."""

    def line(self, text: str) -> None:
        """Say one line."""

    def progress(self, description: str, total: float | None = None
                 ) -> contextlib.AbstractContextManager[Progress]:
        """A progress indicator for the block."""


class _PlainProgress:
    def __init__(self, out: "PlainReporter", description: str, total: float | None):
        self.out, self.description, self.total, self.done = out, description, total, 0.0

    def advance(self, n: float = 1, note: str | None = None) -> None:
        self.done += n
        if note:
            of = f"/{self.total:g}" if self.total is not None else ""
            self.out.line(f"{self.description} [{self.done:g}{of}] {note}")


class PlainReporter:
    """Plain lines on a stream (not a terminal, CI logs); `quiet` drops everything."""

    def __init__(self, stream: IO[str] | None = None, quiet: bool = False):
        self.stream, self.quiet = stream, quiet
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        """Write one line (and keep it, for tests and summaries)."""
        self.lines.append(text)
        if not self.quiet:
            print(text, file=self.stream or sys.stderr, flush=True)

    @contextlib.contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator[Progress]:
        """Progress as plain lines, one per noted advance."""
        yield _PlainProgress(self, description, total)


class RichReporter(PlainReporter):
    """Lines through rich, and live progress bars (terminal only)."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console

        self.console = Console(stderr=True)

    def line(self, text: str) -> None:
        """Print one line above any live bar."""
        self.lines.append(text)
        self.console.print(text, markup=False, highlight=False)

    @contextlib.contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator[Progress]:
        """A rich progress bar for the block."""
        from rich.progress import Progress as RichProgress

        with RichProgress(console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=total)

            class _P:
                def advance(self, n: float = 1, note: str | None = None) -> None:
                    bar.advance(task, n)
                    if note:
                        bar.update(task, description=f"{description}: {note}")

            yield _P()
