"""adapters.files.write_atomic: a file holds its old bytes or its new ones, never a part."""

from __future__ import annotations

import os
import stat

import pytest

from release_ledger.adapters.files import write_atomic


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_replaces_the_content_and_leaves_no_temporary_file(tmp_path):
    """An existing file gets the new bytes and the folder holds nothing else."""
    path = tmp_path / "index.json"
    path.write_text("old", encoding="utf-8")
    write_atomic(path, b"new")
    assert (path.read_bytes(), _names(tmp_path)) == (b"new", ["index.json"])


def test_text_is_written_as_utf8_with_newlines_kept(tmp_path):
    """A str is stored as UTF-8 bytes, `\\r\\n` left as given (spec files keep their line ends)."""
    path = tmp_path / "spec.py"
    write_atomic(path, "é\r\nx\n", fsync=False)
    assert path.read_bytes() == "é\r\nx\n".encode("utf-8")


def test_creates_the_missing_parent_folders(tmp_path):
    """Writing into release_logs/vX/ works before the folder exists."""
    path = tmp_path / "release_logs" / "v1.2.3" / "last_good.json"
    write_atomic(path, "{}\n")
    assert path.read_text(encoding="utf-8") == "{}\n"


def test_an_existing_file_keeps_its_permissions(tmp_path):
    """A file someone made executable (0750) is still so after the write."""
    path = tmp_path / "run.sh"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o750)
    write_atomic(path, "new")
    assert _mode(path) == 0o750


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path):
    """A new file is as readable as one made by open(), not private like a mkstemp file."""
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.json", "{}")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.json") == 0o644


def test_a_failed_replace_keeps_the_target_and_removes_the_temporary_file(tmp_path):
    """When the rename fails, the target is untouched and no temporary file is left behind."""
    target = tmp_path / "busy"
    target.mkdir()
    (target / "inside").write_text("kept", encoding="utf-8")
    with pytest.raises(OSError):
        write_atomic(target, "new")  # a file cannot replace a non-empty folder
    assert (_names(tmp_path), (target / "inside").read_text(encoding="utf-8")) == (["busy"], "kept")
