"""The engine's exceptions: refused transitions, waits and failed verifications."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every engine (and workflow) error; `exit_code` is what the CLI exits with."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class TransitionRefused(EngineError):
    """A trigger that the machine does not allow from the current state."""


class InvalidEventSequence(EngineError):
    """Events that cannot follow each other (gap in release_seq, unknown transition)."""


class ReleaseNotFound(EngineError):
    """No release with that version (or none at all) in the ledger."""


class ReleaseOpen(EngineError):
    """A release is still open where a new one was asked for."""


class Waiting(EngineError):
    """The release waits on a person (a PR to merge, an image to build): exit 3."""

    exit_code = 3

    def __init__(self, reason: str, hint: str | None = None):
        self.reason = reason
        self.moved: list[str] = []  # states passed before the wait (set by `advance`)
        super().__init__(reason, hint)


class VerificationFailed(EngineError):
    """The hash chain or a promoted digest does not verify: exit 4."""

    exit_code = 4
