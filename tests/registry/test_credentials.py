"""Registry credentials found the way docker finds them, and never shown."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from release_ledger.adapters.credentials import credentials_for
from release_ledger.adapters.errors import CredentialError
from release_ledger.adapters.registry.auth import Credentials


@pytest.fixture
def docker_dir(tmp_path):
    """A DOCKER_CONFIG directory; `write(config)` writes its config.json."""
    def write(config: dict) -> dict:
        (tmp_path / "config.json").write_text(json.dumps(config))
        return {"DOCKER_CONFIG": str(tmp_path), "PATH": os.environ["PATH"]}
    return write


@pytest.fixture
def helper(tmp_path):
    """Install a fake `docker-credential-<name>` on PATH answering for one host."""
    bindir = tmp_path / "bin"
    bindir.mkdir()

    def install(name: str, host: str, user: str, secret: str) -> str:
        script = bindir / f"docker-credential-{name}"
        script.write_text("#!/bin/sh\nread host\n"
                          f'if [ "$host" = "{host}" ]; then echo \'{{"Username":"{user}","Secret":"{secret}"}}\';\n'
                          "else echo 'credentials not found in native keychain'; exit 1; fi\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        return f"{bindir}:{os.environ['PATH']}"
    return install


def test_inline_auth_is_decoded(docker_dir):
    """`auths[host].auth` (base64 user:password) gives the login."""
    env = docker_dir({"auths": {"ghcr.io": {"auth": base64.b64encode(b"me:pw:with:colons").decode()}}})
    assert credentials_for("ghcr.io", env) == ("me", "pw:with:colons")


def test_https_key_spelling_matches(docker_dir):
    """An `auths` key written as https://host matches the host."""
    env = docker_dir({"auths": {"https://reg.example.com": {"username": "u", "password": "p"}}})
    assert credentials_for("reg.example.com", env) == ("u", "p")


def test_cred_helper_for_host_wins(docker_dir, helper):
    """`credHelpers[host]` is asked before `auths`."""
    env = docker_dir({"credHelpers": {"ghcr.io": "fake"},
                      "auths": {"ghcr.io": {"username": "old", "password": "old"}}})
    env["PATH"] = helper("fake", "ghcr.io", "helper-user", "helper-secret")
    assert credentials_for("ghcr.io", env) == ("helper-user", "helper-secret")


def test_creds_store_answers_other_hosts(docker_dir, helper):
    """`credsStore` is asked for hosts without an `auths` entry; 'not found' means anonymous."""
    env = docker_dir({"credsStore": "store"})
    env["PATH"] = helper("store", "reg.example.com", "s", "t")
    assert (credentials_for("reg.example.com", env), credentials_for("other.io", env)) == (("s", "t"), None)


def test_missing_helper_is_a_clear_error(docker_dir):
    """A helper that is not installed is named in the error."""
    env = docker_dir({"credsStore": "nonexistent-helper"})
    with pytest.raises(CredentialError, match="docker-credential-nonexistent-helper"):
        credentials_for("ghcr.io", env)


def test_gh_pat_for_ghcr(docker_dir):
    """Without a docker login, ghcr.io uses the GH_PAT token."""
    env = docker_dir({}) | {"GH_PAT": "ghp_token"}
    assert credentials_for("ghcr.io", env).secret == "ghp_token"
    assert credentials_for("quay.io", env) is None


def test_bad_config_names_the_file(docker_dir, tmp_path):
    """A config.json that is not JSON is an error naming the file."""
    env = docker_dir({})
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CredentialError, match=str(tmp_path / "config.json")):
        credentials_for("ghcr.io", env)


def test_repr_hides_the_secret():
    """Credentials never print their secret."""
    assert "hunter2" not in repr(Credentials("me", "hunter2")) + str(Credentials("me", "hunter2"))


@pytest.mark.parametrize("var", ["GITHUB_TOKEN", "GH_TOKEN"])
def test_ghcr_login_takes_the_same_tokens_as_the_api(docker_dir, var):
    """With only GITHUB_TOKEN (GitHub Actions) or GH_TOKEN (gh), ghcr.io still gets a login."""
    from release_ledger.adapters.credentials import credentials_source

    env = docker_dir({}) | {var: "ghp_other"}
    credentials, source = credentials_source("ghcr.io", env)
    assert credentials.secret == "ghp_other" and source == f"${var}"


def test_the_configured_token_variable_comes_first_for_ghcr(docker_dir):
    """`token_env` (github.token_env) is tried before GH_PAT for the ghcr.io login."""
    env = docker_dir({}) | {"GH_PAT": "ghp_default", "PACKAGES_TOKEN": "ghp_packages"}
    assert credentials_for("ghcr.io", env, token_env="PACKAGES_TOKEN").secret == "ghp_packages"
