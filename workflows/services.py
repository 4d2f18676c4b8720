"""Wires the settings to adapters: real endpoints, or the sandbox when `sandbox = true`.

Everything is built on first use, so a command pays only for what it touches. In the sandbox the
GitHub clients get an httpx transport over `<repo>/../github`, and registries are OCI layouts as
`[registries]` says; the workflows, engine and ledger are the same as in a real release.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from release_ledger.workflows.config import Config


def default_cache_dir() -> Path:
    """Where downloads are cached across releases ($RELEASE_CACHE_DIR, else XDG cache)."""
    if os.environ.get("RELEASE_CACHE_DIR"):
        return Path(os.environ["RELEASE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "release"


class Services:
    """The outside world as the steps see it."""

    def __init__(self, config: Config, repo: Path, *, cache_dir: Path | None = None,
                 max_wait: float = 300.0, http_transport: Any = None,
                 log: Any = None):
        self.config, self.repo = config, Path(repo)
        self.max_wait = max_wait
        self.log = log  # where `-v` says each HTTP answer (a callable taking a line), or None
        self.dry_run = False  # set by `advance --dry-run`: clients then write no cache
        self._transport = http_transport
        self._registries: dict[str, Any] = {}
        self._cache_dir = cache_dir

    @property
    def sandbox_root(self) -> Path:
        """The sandbox folder beside the product checkout (see docs/SANDBOX.md)."""
        return self.repo.resolve().parent

    @property
    def cache_dir(self) -> Path:
        """Download cache (artifacts by id, ETags)."""
        if self._cache_dir is None:
            self._cache_dir = (self.sandbox_root / "cache" if self.config.sandbox
                               else default_cache_dir())
        return self._cache_dir

    def _http(self):
        import httpx

        transport = self._transport
        if transport is None and self.config.sandbox:
            from release_ledger.sandbox.transport import github_transport

            transport = github_transport(self.sandbox_root / "github")
        return httpx.Client(transport=transport, timeout=httpx.Timeout(60.0, connect=15.0),
                            follow_redirects=False, event_hooks=self._hooks())

    def _hooks(self) -> dict:
        from release_ledger.adapters.http import logging_hooks

        return logging_hooks(self.log) if self.log is not None else {}

    def _github(self, api_url: str, token_env: str, what: str):
        from release_ledger.adapters.github import GitHubClient
        from release_ledger.adapters.tokens import find_token, missing_token

        found = find_token(token_env)
        if found is None and not self.config.sandbox:
            # Said before the first call: an anonymous call would come back as a 404 that
            # blames the repository's name (issue 13).
            raise missing_token(token_env, needed_for=what)
        self._say(f"token: {what} uses ${found[0]}" if found else
                  f"token: none for {what} (the sandbox needs none)")
        return GitHubClient(self._http(), api_url, found[1] if found else None,
                            cache_dir=self.cache_dir / "http", max_wait=self.max_wait,
                            read_only_cache=self.dry_run)

    def _say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    @cached_property
    def _ci(self):
        return self._github(self.config.ci.api_url, self.config.ci.token_env,
                            f"reading Models CI ({self.config.ci.repo})")

    @cached_property
    def _product(self):
        return self._github(self.config.github.api_url, self.config.github.token_env,
                            f"the product repository ({self.config.github.repo})")

    def ci_client(self):
        """GitHub client for the Models CI repository."""
        return self._ci

    def github_client(self):
        """GitHub client for the product repository."""
        return self._product

    def git(self):
        """The git binary on the product checkout."""
        from release_ledger.adapters.git import Git

        return Git(self.repo)

    def registry_for(self, host: str):
        """The registry (HTTP or OCI layout) that serves image host `host`."""
        if host not in self._registries:
            from release_ledger.adapters.registry.factory import open_registry

            url = self.config.registry_url(host)
            if url.startswith("oci-layout:"):
                layout = Path(url.removeprefix("oci-layout:"))
                if not layout.is_absolute():
                    layout = (self.repo / layout).resolve()
                url = f"oci-layout:{layout}"
            # push=True: a promotion writes to this host, so Bearer token servers must grant
            # pull,push (a pull-only token would make every destination write a 401/403).
            client, credentials = None, None
            if not url.startswith("oci-layout:"):
                credentials = self._registry_login(host)
            if self.log is not None and not url.startswith("oci-layout:"):
                import httpx

                client = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0),
                                      follow_redirects=True, event_hooks=self._hooks())
            self._registries[host] = open_registry(url, host, client, push=True,
                                                   credentials=credentials,
                                                   max_wait=self.max_wait)
        return self._registries[host]

    def _registry_login(self, host: str):
        """The login for a registry host; for ghcr.io the GitHub token, said missing if none."""
        from release_ledger.adapters.credentials import TOKEN_HOSTS, credentials_source
        from release_ledger.adapters.tokens import missing_token

        token_env = self.config.github.token_env
        credentials, source = credentials_source(host, token_env=token_env)
        if credentials is None and host in TOKEN_HOSTS:
            raise missing_token(token_env, needed_for=f"the registry {host}")
        self._say(f"registry {host}: login from {source}")
        return credentials
