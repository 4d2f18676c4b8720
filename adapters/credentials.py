"""Registry credentials, found the way docker finds them, plus the token env var for ghcr.io.

Order for a host: `credHelpers[host]`, then `auths[host]` (inline `auth` or username/password),
then the `credsStore` helper, then the GitHub token for ghcr.io (DOMAIN §1: the registry login is
made with that token), from GH_PAT, GITHUB_TOKEN or GH_TOKEN as `adapters.tokens` orders them.
Secrets are returned to the caller only: never logged, never in a message; `credentials_source`
says where they came from (a variable's name, a config key) for `-v`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from release_ledger.adapters.errors import CredentialError
from release_ledger.adapters.registry.auth import Credentials
from release_ledger.adapters.tokens import find_token

__all__ = ["Credentials", "credentials_for", "credentials_source", "docker_config_path",
           "TOKEN_HOSTS"]

# Hosts whose login is the GitHub token (any user name works; ghcr.io checks the token only),
# and the variable tried first (the others of adapters.tokens follow).
TOKEN_HOSTS = {"ghcr.io": "GH_PAT"}
_HELPER_TIMEOUT = 30


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where docker keeps config.json: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`."""
    env = os.environ if env is None else env
    base = env.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def credentials_for(host: str, env: Mapping[str, str] | None = None,
                    config_path: Path | None = None, token_env: str | None = None
                    ) -> Credentials | None:
    """The login for a registry host, or None to go anonymous."""
    return credentials_source(host, env, config_path, token_env)[0]


def credentials_source(host: str, env: Mapping[str, str] | None = None,
                       config_path: Path | None = None, token_env: str | None = None
                       ) -> tuple[Credentials | None, str]:
    """The login for a registry host and where it came from (never the secret), e.g.
    `$GITHUB_TOKEN` or `credHelpers["ghcr.io"] of ~/.docker/config.json`; (None, "anonymous")."""
    env = os.environ if env is None else env
    path = config_path or docker_config_path(env)
    config = _load(path)
    helper = (config.get("credHelpers") or {}).get(host)
    if helper:
        return _from_helper(helper, host, path, env), f"credHelpers[{host!r}] of {path}"
    found = _from_auths(config.get("auths") or {}, host, path)
    if found:
        return found, f"auths of {path}"
    if config.get("credsStore"):
        found = _from_helper(config["credsStore"], host, path, env)
        if found:
            return found, f"credsStore of {path}"
    if host in TOKEN_HOSTS:
        token = find_token(token_env or TOKEN_HOSTS[host], env)
        if token:
            return Credentials("release", token[1]), f"${token[0]}"
    return None, "anonymous"


def _load(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise CredentialError(f"docker config {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise CredentialError(f"docker config {path} is not a JSON object")
    return data


def _keys_for(host: str) -> list[str]:
    """The spellings docker uses as `auths` keys for one host."""
    keys = [host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/"]
    if host in ("docker.io", "registry-1.docker.io"):
        keys.append("https://index.docker.io/v1/")
    return keys


def _from_auths(auths: dict, host: str, path: Path) -> Credentials | None:
    for key in _keys_for(host):
        entry = auths.get(key)
        if not isinstance(entry, dict):
            continue
        if entry.get("auth"):
            try:
                user, sep, secret = base64.b64decode(entry["auth"]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise CredentialError(f"docker config {path}: auths[{key!r}].auth is not base64 "
                                      "of user:password") from None
            if not sep:
                raise CredentialError(f"docker config {path}: auths[{key!r}].auth has no ':'")
            return Credentials(user, secret)
        if entry.get("username") and entry.get("password"):
            return Credentials(entry["username"], entry["password"])
    return None


def _from_helper(name: str, host: str, path: Path, env: Mapping[str, str]) -> Credentials | None:
    """Ask `docker-credential-<name> get` (docker-credential-helpers protocol: host on stdin)."""
    program = f"docker-credential-{name}"
    try:
        done = subprocess.run([program, "get"], input=host, capture_output=True, text=True,
                              timeout=_HELPER_TIMEOUT, check=False, env=dict(env))
    except FileNotFoundError:
        raise CredentialError(f"docker config {path} names credential helper {program!r}, "
                              "which is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise CredentialError(f"credential helper {program} did not answer for {host} within "
                              f"{_HELPER_TIMEOUT} s") from None
    if done.returncode != 0:
        if "credentials not found" in (done.stdout + done.stderr).lower():
            return None
        # The helper's output may echo secrets: report only its exit status.
        raise CredentialError(f"credential helper {program} failed for {host} "
                              f"(exit {done.returncode})")
    try:
        answer = json.loads(done.stdout)
        return Credentials(answer["Username"], answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise CredentialError(f"credential helper {program} answered for {host} without "
                              "Username and Secret") from None
