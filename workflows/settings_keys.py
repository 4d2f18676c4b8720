"""The settings' key names, checked without pydantic: every command refuses an unknown key.

`workflows.config` validates values (types, URLs) for the commands that use them; this module
only knows which keys exist, so `release status` (which must stay fast) refuses a typo in
release.toml as every other command does. tests/cli/test_settings_check.py keeps the table equal
to the pydantic models' fields.
"""

from __future__ import annotations

from typing import Any

from release_ledger.workflows.errors import ConfigError

#: Top-level keys whose value is a plain value (not a table).
TOP_KEYS = frozenset({"sandbox"})
#: Tables and their keys.
SECTIONS: dict[str, frozenset[str]] = {
    "ci": frozenset({"api_url", "repo", "workflow", "max_runs", "require_passing", "token_env"}),
    "github": frozenset({"api_url", "repo", "token_env", "remote", "dev_branch", "main_branch",
                         "draft_release"}),
    "images": frozenset({"release_repo", "build_command"}),
    "ledger": frozenset({"url"}),
}
#: Tables of tables, one per name the user chooses (a registry host), and their keys.
NAMED_SECTIONS: dict[str, frozenset[str]] = {"registries": frozenset({"url"})}

_HINT = "see the README section Configuration for every key"


def check_keys(data: dict[str, Any], source: str) -> None:
    """Refuse the first key of the settings that no setting has, naming file and key."""
    for key, value in data.items():
        if key in TOP_KEYS:
            continue
        if key in SECTIONS:
            _check_table(value, key, SECTIONS[key], source)
        elif key in NAMED_SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: key {key!r} must be a table (got {value!r})")
            for name, table in value.items():
                _check_table(table, f"{key}.{name}", NAMED_SECTIONS[key], source)
        else:
            raise ConfigError(f"{source}: unknown key {key!r}", hint=_HINT)


def _check_table(value: Any, where: str, known: frozenset[str], source: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: key {where!r} must be a table (got {value!r})",
                          hint=f"write it as a [{where}] section")
    for key in value:
        if key not in known:
            raise ConfigError(f"{source}: unknown key {f'{where}.{key}'!r}", hint=_HINT)


def git_remote(data: dict[str, Any], source: str) -> str:
    """`[github] remote` of the settings table (default `origin`), checked to be a name."""
    section = data.get("github")
    remote = section.get("remote", "origin") if isinstance(section, dict) else "origin"
    if not isinstance(remote, str) or not remote.strip():
        raise ConfigError(f"{source}: key 'github.remote' must name a git remote (got {remote!r})",
                          hint="e.g. remote = \"origin\"")
    return remote
