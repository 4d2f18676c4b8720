"""The ledger's exceptions: callers never see sqlite3 or psycopg errors, only these."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error; `exit_code` is what the CLI exits with."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, *args: object, hint: str | None = None):
        super().__init__(*args)
        if hint is not None:
            self.hint = hint


class ConcurrentAppend(LedgerError):
    """Another writer appended to the same release first (optimistic concurrency)."""

    def __init__(self, release: str, expected: int, actual: int):
        self.release, self.expected, self.actual = release, expected, actual
        super().__init__(
            f"release {release} moved on while this command ran "
            f"(it had seen event #{expected}, the ledger holds #{actual})"
            if actual >= 0 else f"release {release} moved on while this command ran"
        )
        self.hint = "another command wrote to this release; run it again"


class DuplicateKey(LedgerError):
    """An event with this idempotency key is already recorded."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"an event with idempotency key {key!r} is already recorded")


class ChainBroken(LedgerError):
    """The hash chain does not verify; `seq` is the first bad event."""

    exit_code = 4

    def __init__(self, seq: int, path: str = "ledger"):
        self.seq = seq
        super().__init__(f"the hash chain of {path} is broken at event seq {seq}")
        self.hint = ("that event (or the one before it) was changed outside release; restore "
                     "the ledger from a backup, or check it against events.jsonl")


class LockHeld(LedgerError):
    """Another live process holds the release's lock."""

    def __init__(self, release: str, holder):
        self.release, self.holder = release, holder
        super().__init__(
            f"release {release} is locked by pid {holder.pid} on {holder.host} since {holder.since}"
        )
        self.hint = "wait for that command to finish; a lock of a dead process is taken over"


class LedgerCorrupt(LedgerError):
    """The ledger file cannot be read as a ledger."""

    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"the ledger {path} cannot be read: {reason}")
        self.hint = "restore the file from a backup; events.jsonl in release_logs/ holds each release's events"


class LedgerMissing(LedgerError):
    """There is no ledger where one was asked for (only `start` creates one)."""

    def __init__(self, where: str):
        self.where = where
        super().__init__(f"no ledger at {where}")


class LedgerBusy(LedgerError):
    """Another process kept the ledger busy for longer than we wait."""

    def __init__(self, where: str, seconds: float):
        self.where = where
        super().__init__(f"the ledger {where} stayed busy for {seconds:g} s: "
                         "another process is writing")
        self.hint = "run the command again once the other one has finished"


class LedgerUnreachable(LedgerError):
    """The ledger's database server cannot be reached, or refuses us."""

    def __init__(self, where: str, reason: str, hint: str | None = None):
        self.where, self.reason = where, reason
        super().__init__(f"cannot reach the ledger {where}: {reason}")
        self.hint = hint or "check that the server runs and that the URL names its host and port"
