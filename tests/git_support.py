"""Git for test set-up: run the real binary as a fixed test identity."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}


def sh(cwd: Path, *args: str) -> str:
    """Run git in `cwd` for test setup and return its output."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def make_remote(tmp_path: Path) -> Path:
    """A bare remote with `main` and `dev` holding VERSION 0.3.0 and a README."""
    seed = tmp_path / "seed"
    seed.mkdir()
    sh(seed, "init", "-q", "-b", "main")
    (seed / "VERSION").write_text("0.3.0\n")
    (seed / "README.md").write_text("# product\n")
    sh(seed, "add", "VERSION", "README.md")
    sh(seed, "commit", "-q", "-m", "seed")
    sh(seed, "branch", "dev")
    bare = tmp_path / "remote.git"
    sh(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


def make_checkout(tmp_path: Path, remote: Path) -> Path:
    """A clone of the remote, on `dev`, with a committer identity."""
    work = tmp_path / "product"
    sh(tmp_path, "clone", "-q", "-b", "dev", str(remote), str(work))
    sh(work, "config", "user.name", "Test")
    sh(work, "config", "user.email", "test@example.invalid")
    return work
