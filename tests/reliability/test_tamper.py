"""Tampering: any single-byte change to any column of any event row is caught by `release verify`
(exit 4, naming the first bad seq); a truncated or corrupt ledger file gives one clear sentence,
never a traceback. Works on copies of the uninterrupted release's ledger."""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path

import pytest

from harness import World

COLUMNS = ["seq", "release", "release_seq", "type", "payload", "actor", "at", "idempotency_key",
           "prev_hash", "hash"]
SAMPLE = 40


@pytest.fixture(scope="session")
def rows(baseline: World) -> list[tuple]:
    """(seq, column, value) of every non-null cell of the released ledger."""
    with sqlite3.connect(baseline.ledger_file) as db:
        table = db.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY seq").fetchall()
    return [(row[0], col, value) for row in table for col, value in zip(COLUMNS, row)
            if value is not None]


def flip(value, rng: random.Random):
    """The value with one byte changed (an ASCII character, or one bit of an integer)."""
    if isinstance(value, int):
        return value ^ (1 << rng.randrange(0, 20))
    positions = [i for i, ch in enumerate(value) if ord(ch) < 128]
    i = rng.choice(positions)
    choices = [c for c in "0123456789abcdefXYZ_:{}\"., " if c != value[i]]
    return value[:i] + rng.choice(choices) + value[i + 1:]


def tampered_copy(baseline: World, dest: Path, seq: int, column: str, value) -> Path:
    """A copy of the ledger with one cell rewritten (triggers dropped, as an intruder would)."""
    for stale in (dest, dest.with_name(dest.name + "-wal"), dest.with_name(dest.name + "-shm")):
        stale.unlink(missing_ok=True)
    with sqlite3.connect(baseline.ledger_file) as src, sqlite3.connect(dest) as copy:
        src.backup(copy)
    with sqlite3.connect(dest) as db:
        db.execute("DROP TRIGGER events_append_only_update")
        db.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (value, seq))
    return dest


def check_caught(baseline: World, tmp_path: Path, cell, rng: random.Random) -> None:
    seq, column, value = cell
    for _ in range(5):
        try:
            path = tampered_copy(baseline, tmp_path / "ledger.sqlite", seq, column, flip(value, rng))
            break
        except sqlite3.IntegrityError:
            continue  # a changed seq collided with another row: change another bit
    run = baseline.invoke("--ledger", str(path), "verify")
    assert run.code == 4, f"{column} of seq {seq}: {run.stdout}{run.stderr}"
    assert "Traceback" not in run.stderr
    named = re.search(r"broken at event seq (\d+)", run.stderr)
    assert named, run.stderr
    if column != "seq":
        assert int(named[1]) == seq, f"{column} of seq {seq} reported as seq {named[1]}"


def test_every_sampled_single_byte_change_is_caught(baseline, rows, tmp_path, seed,
                                                    figures) -> None:
    """A seeded sample of cells, each with one byte changed: verify exits 4 naming its seq."""
    rng = random.Random(seed)
    cells = rng.sample(rows, SAMPLE) + [c for c in rows if c[0] == 1][:len(COLUMNS)]
    for cell in cells:
        check_caught(baseline, tmp_path, cell, rng)
    figures["tampered cells caught by verify"] += len(cells)


@pytest.mark.exhaustive
def test_every_single_byte_change_is_caught(baseline, rows, tmp_path, seed, figures) -> None:
    """Every cell of every row, one byte changed: verify exits 4 naming its seq."""
    rng = random.Random(seed)
    for cell in rows:
        check_caught(baseline, tmp_path, cell, rng)
    figures["tampered cells caught by verify"] += len(rows)


def _corruptions(data: bytes) -> dict[str, bytes]:
    rng = random.Random(len(data))
    garbage = bytes(rng.randrange(256) for _ in range(4096))
    header = bytearray(data)
    header[:16] = b"not a sqlite db!"
    page = bytearray(data)
    for i in range(4096, min(len(page), 8192)):
        page[i] = rng.randrange(256)
    return {"empty": b"", "first 100 bytes": data[:100], "half": data[: len(data) // 2],
            "all but the last page": data[:-4096], "bad header": bytes(header),
            "second page scrambled": bytes(page), "random bytes": garbage,
            "a text file": b"version = 1\n"}


@pytest.mark.parametrize("command", [["verify"], ["status"], ["history"], ["replay"],
                                     ["advance"]])
def test_corrupt_ledger_file_is_one_clear_sentence(baseline, tmp_path, command, figures) -> None:
    """Truncated, scrambled or foreign ledger files: exit 1 or 4 with one sentence, no traceback."""
    data = baseline.ledger_file.read_bytes()
    for name, content in _corruptions(data).items():
        path = tmp_path / f"{name.replace(' ', '_')}.sqlite"
        path.write_bytes(content)
        run = baseline.invoke("--ledger", str(path), *command)
        figures["corrupt ledger files tried"] += 1
        assert run.code in (1, 4), f"{name}: exit {run.code}: {run.stdout}{run.stderr}"
        assert "Traceback" not in run.stderr and "unexpected" not in run.stderr, f"{name}: {run.stderr}"
        assert run.stderr.startswith("error: ") and str(path) in run.stderr.splitlines()[0], \
            f"{name}: {run.stderr}"
