"""The settings' key table (read without pydantic, for every command) equals the pydantic models."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from release_ledger.workflows.config import Config, RegistryConfig
from release_ledger.workflows.errors import ConfigError
from release_ledger.workflows.settings_keys import (NAMED_SECTIONS, SECTIONS, TOP_KEYS, check_keys,
                                                    git_remote)


def test_the_key_table_is_the_models_fields():
    """Every field of Config and its sections is in the table, and nothing else."""
    fields = {name: info for name, info in Config.model_fields.items() if name != "source"}
    sections = {n for n, f in fields.items() if isinstance(f.default, BaseModel)}
    assert set(SECTIONS) == sections
    for name in sections:
        assert SECTIONS[name] == set(type(getattr(Config(), name)).model_fields), name
    assert NAMED_SECTIONS == {"registries": frozenset(RegistryConfig.model_fields)}
    assert TOP_KEYS == set(fields) - sections - set(NAMED_SECTIONS)


@pytest.mark.parametrize("table,key", [({"bogus": 1}, "'bogus'"), ({"ci": {"x": 1}}, "'ci.x'"),
                                       ({"registries": {"ghcr.io": {"uri": "x"}}},
                                        "'registries.ghcr.io.uri'")])
def test_an_unknown_key_is_named(table, key):
    """A key no setting has is one sentence naming the file and the dotted key."""
    with pytest.raises(ConfigError, match=f"release.toml: unknown key {key}"):
        check_keys(table, "release.toml")


def test_a_section_that_is_not_a_table_is_named():
    """`ci = 3` is refused naming the key, not taken for an empty table."""
    with pytest.raises(ConfigError, match="key 'ci' must be a table"):
        check_keys({"ci": 3}, "release.toml")


def test_the_git_remote_defaults_to_origin_and_must_be_a_name():
    """[github] remote is `origin` unless set; an empty or non-string one is refused."""
    assert git_remote({}, "f") == "origin"
    assert git_remote({"github": {"remote": "upstream"}}, "f") == "upstream"
    with pytest.raises(ConfigError, match="'github.remote' must name a git remote"):
        git_remote({"github": {"remote": ""}}, "f")
