"""The target's settings: `release.toml`, or `[tool.release]` in its `pyproject.toml` (DESIGN §9).

Every key has a default that matches tt-inference-server, so a real checkout needs none. Unknown
keys and wrong types are an error that names the file and the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from release_ledger.adapters.registry import LAYOUT_PREFIX, layout_dir
from release_ledger.ledger.location import is_postgres, redact
from release_ledger.workflows.errors import ConfigError
from release_ledger.workflows.settings_file import read_settings


# host[:port], a name or an IPv4/IPv6 literal: what a registry URL must carry.
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CiConfig(_Section):
    """Where Models CI runs."""

    api_url: str = "https://api.github.com"
    repo: str = "tenstorrent/tt-shield"
    workflow: str = "on-nightly.yml"
    max_runs: int = 30
    require_passing: bool = True
    token_env: str = "GH_PAT"


class GitHubConfig(_Section):
    """The product repository on GitHub."""

    api_url: str = "https://api.github.com"
    repo: str = "tenstorrent/tt-inference-server"
    token_env: str = "GH_PAT"
    remote: str = "origin"
    dev_branch: str = "dev"
    main_branch: str = "main"
    draft_release: bool = False


class ImagesConfig(_Section):
    """Image naming and the command that builds images CI did not provide."""

    release_repo: str = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"
    build_command: str = ""


class RegistryConfig(_Section):
    """Where one registry host is reached: https URL, loopback http URL, or `oci-layout:DIR`."""

    url: str

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        layout = layout_dir(v)
        if layout is not None:
            if not str(layout).strip() or v == LAYOUT_PREFIX:
                raise ValueError("must name a folder after oci-layout:")
            return v
        if not v.startswith(("https://", "http://")):
            raise ValueError("must start with https://, http:// or oci-layout:")
        host = urlsplit(v).netloc
        if not _HOST.match(host):
            raise ValueError(f"names no valid host ({host!r})")
        return v


class LedgerConfig(_Section):
    """Where the ledger lives: a file (relative to the checkout) or a team's PostgreSQL URL."""

    # A password in the URL is refused: it would be printed, logged and committed with
    # release.toml. libpq reads it from PGPASSWORD or ~/.pgpass instead (docs/TEAM.md).
    url: str = "release_logs/ledger.sqlite"

    @field_validator("url")
    @classmethod
    def _no_password(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must name a file or a postgresql:// URL")
        if is_postgres(v) and redact(v) != v:
            raise ValueError("must not hold a password (put it in PGPASSWORD or ~/.pgpass)")
        return v


class Config(_Section):
    """All settings of one target repository."""

    sandbox: bool = False
    ci: CiConfig = CiConfig()
    github: GitHubConfig = GitHubConfig()
    images: ImagesConfig = ImagesConfig()
    ledger: LedgerConfig = LedgerConfig()
    registries: dict[str, RegistryConfig] = {"ghcr.io": RegistryConfig(url="https://ghcr.io")}
    source: str = "defaults"  # where the settings came from, for messages

    def registry_url(self, host: str) -> str:
        """The URL (or `oci-layout:DIR`) for an image host; loopback hosts need no table."""
        if host in self.registries:
            return self.registries[host].url
        name = host.split(":")[0]
        if name in ("127.0.0.1", "localhost", "::1", "[::1]"):
            return f"http://{host}"
        return f"https://{host}"


def _describe(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after",))


def parse_config(data: dict[str, Any], source: str) -> Config:
    """Validate a settings table; the first problem becomes one sentence naming file and key."""
    try:
        return Config(**data, source=source)
    except ValidationError as err:
        first = err.errors()[0]
        key = _describe(first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{source}: unknown key {key!r}",
                              hint="see the README section Configuration for every key") from None
        message = first["msg"].removeprefix("Value error, ").lower()
        shown = first.get("input")
        if isinstance(shown, str):
            shown = redact(shown)  # a ledger URL's password never reaches the terminal
        raise ConfigError(f"{source}: key {key!r} {message} (got {shown!r})",
                          hint="the README section Configuration shows each key's default") from None


def load_config(repo: Path, config_file: Path | None = None) -> Config:
    """Read the target's settings: `--config FILE`, else release.toml, else pyproject's [tool.release]."""
    found = read_settings(repo, config_file)
    return parse_config(*found) if found is not None else Config()
