"""Tokens at the CLI: a missing one is said before any call; -v names the variable, not the value."""

from __future__ import annotations

import socket
import subprocess

import pytest
from click.testing import CliRunner

from release_ledger.commands.main import cli

TOKEN_VARS = ("GH_PAT", "GITHUB_TOKEN", "GH_TOKEN")


@pytest.fixture
def no_tokens(monkeypatch):
    for var in TOKEN_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.fixture
def product(tmp_path):
    """A product checkout whose Models CI is a loopback port nobody listens on."""
    repo = tmp_path / "product"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "remote.git")], check=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin",
                    str(tmp_path / "remote.git")], check=True)
    (repo / "VERSION").write_text("0.3.0\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (repo / "release.toml").write_text(f'[ci]\napi_url = "http://127.0.0.1:{port}"\n')
    return repo


def run(repo, *args):
    return CliRunner().invoke(cli, ["--repo", str(repo), *args])


def test_a_missing_token_is_said_before_any_call(product, no_tokens):
    """No GH_PAT, GITHUB_TOKEN or GH_TOKEN: collect stops at once, naming all three."""
    assert run(product, "start", "--increment", "minor").exit_code == 0
    result = run(product, "-v", "advance", "--to", "collected")
    assert result.exit_code == 1
    assert ("error: no GitHub token: set GH_PAT, GITHUB_TOKEN or GH_TOKEN (reading Models CI "
            "(tenstorrent/tt-shield) needs one)") in result.stderr
    assert "http: " not in result.stderr and "retrying" not in result.stderr


def test_release_collect_says_a_missing_token_too(product, no_tokens):
    """`release collect` needs read access: without a token it says so, writing nothing."""
    result = run(product, "collect")
    assert result.exit_code == 1
    assert "no GitHub token: set GH_PAT, GITHUB_TOKEN or GH_TOKEN" in result.stderr
    assert not (product / "release_logs").exists()


@pytest.mark.parametrize("var", ["GITHUB_TOKEN", "GH_TOKEN"])
def test_verbose_names_the_token_variable_used_never_its_value(tmp_path, no_tokens, var):
    """With only GITHUB_TOKEN (or GH_TOKEN) set, -v says which variable the API token came from."""
    from release_ledger.sandbox.build import build_sandbox

    secret = "ghp_" + "Xy9" * 12
    no_tokens.setenv(var, secret)
    repo = build_sandbox(tmp_path / "sandbox")
    assert run(repo, "start", "--increment", "minor").exit_code == 0
    result = run(repo, "advance", "--to", "collected", "-v")
    assert result.exit_code == 0, result.stderr
    assert f"token: reading Models CI (tenstorrent/tt-shield) uses ${var}" in result.stderr
    assert secret not in result.stderr + result.stdout
