"""Finding and reading the target's settings file (`--config FILE`, else `release.toml`, else
`[tool.release]` in `pyproject.toml`), without validating it.

Kept apart from `workflows.config` (pydantic models) because every command reads the settings
before anything else (the ledger's location, `[ledger] url`; the git remote to check; unknown
keys to refuse), and `release status` must not pay the quarter second that importing pydantic
costs just for that.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from release_ledger.ledger.location import redact
from release_ledger.workflows.errors import ConfigError


def read_settings(repo: Path, config_file: Path | None = None) -> tuple[dict[str, Any], str] | None:
    """The settings table and where it came from (for messages), or None when there is none."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        return read_toml(config_file), str(config_file)
    toml = repo / "release.toml"
    if toml.is_file():
        return read_toml(toml), str(toml)
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        table = read_toml(pyproject).get("tool", {}).get("release")
        if table is not None:
            return table, f"{pyproject} [tool.release]"
    return None


def ledger_url(repo: Path, config_file: Path | None = None) -> str | None:
    """`[ledger] url` of the settings, or None where unset (the full checks: load_config)."""
    found = read_settings(repo, config_file)
    if found is None:
        return None
    section = found[0].get("ledger")
    url = section.get("url") if isinstance(section, dict) else None
    if url is not None and not isinstance(url, str):
        raise ConfigError(f"{found[1]}: key 'ledger.url' must be a string (got {url!r})")
    if url is not None and redact(url) != url:
        raise ConfigError(f"{found[1]}: key 'ledger.url' must not hold a password "
                          f"(got {redact(url)!r})",
                          hint="put the password in PGPASSWORD or ~/.pgpass (docs/TEAM.md)")
    return url


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's table; broken TOML or bytes that are not UTF-8 are one ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
