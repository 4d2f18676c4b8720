"""The target's settings: `release.toml`, or `[tool.release]` in its `pyproject.toml` (DESIGN §9).

Every key has a default that matches tt-inference-server, so a real checkout needs none. Unknown
keys and wrong types are an error that names the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from release_ledger.adapters.registry import LAYOUT_PREFIX, layout_dir
from release_ledger.workflows.errors import ConfigError


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


class Config(_Section):
    """All settings of one target repository."""

    sandbox: bool = False
    ci: CiConfig = CiConfig()
    github: GitHubConfig = GitHubConfig()
    images: ImagesConfig = ImagesConfig()
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
        raise ConfigError(f"{source}: key {key!r} {message} "
                          f"(got {first.get('input')!r})") from None


def load_config(repo: Path, config_file: Path | None = None) -> Config:
    """Read the target's settings: `--config FILE`, else release.toml, else pyproject's [tool.release]."""
    candidates = [config_file] if config_file else [repo / "release.toml"]
    for path in candidates:
        if path is not None and path.is_file():
            return parse_config(_read_toml(path), str(path))
        if config_file is not None:
            raise ConfigError(f"config file {config_file} does not exist")
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("release")
        if table is not None:
            return parse_config(table, f"{pyproject} [tool.release]")
    return Config()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
