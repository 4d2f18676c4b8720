"""Which environment variable holds the GitHub token: GH_PAT, then GITHUB_TOKEN, then GH_TOKEN.

One order for the GitHub API and for the ghcr.io login alike (DOMAIN §1: the registry login is
made with the GitHub token). `GITHUB_TOKEN` is what GitHub Actions provides and `GH_TOKEN` what
the gh CLI reads, so a job or a shell that has either works without renaming it. A setting's
`token_env` names the first choice; the others follow. Values are returned to the caller only;
messages and logs name the variable, never its value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from release_ledger.adapters.errors import MissingToken

#: The variables tried, in order, after the configured one.
TOKEN_VARS = ("GH_PAT", "GITHUB_TOKEN", "GH_TOKEN")


def token_vars(first: str = "GH_PAT") -> tuple[str, ...]:
    """The variables to try, `first` (a setting's `token_env`) first, each once."""
    return tuple(dict.fromkeys((first, *TOKEN_VARS)))


def find_token(first: str = "GH_PAT", env: Mapping[str, str] | None = None
               ) -> tuple[str, str] | None:
    """(variable name, token) of the first variable that is set, or None when none is."""
    env = os.environ if env is None else env
    for name in token_vars(first):
        value = (env.get(name) or "").strip()
        if value:
            return name, value
    return None


def missing_token(first: str = "GH_PAT", needed_for: str = "") -> MissingToken:
    """The error for a call that needs a token when no variable holds one."""
    names = token_vars(first)
    listed = ", ".join(names[:-1]) + f" or {names[-1]}"
    err = MissingToken(f"no GitHub token: set {listed}"
                       + (f" ({needed_for} needs one)" if needed_for else ""))
    err.hint = (f"export {names[0]}=<a token that can read Actions of the CI repository and "
                "write the product's pull requests and packages>")
    return err
