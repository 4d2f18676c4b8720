"""Token values from the environment, kept out of everything we print or record."""

from __future__ import annotations

import os
import re

# GH_PAT, GITHUB_TOKEN and GH_TOKEN are the token variables (adapters.tokens), PGPASSWORD the
# ledger's; the suffixes catch the other tokens a user may configure (`token_env` is free).
_NAMES = ("GH_PAT", "GITHUB_TOKEN", "GH_TOKEN", "PGPASSWORD")
_SUFFIXES = ("_TOKEN", "_PAT", "_PASSWORD")
# Shorter values ("1", "true") would blank out ordinary words of a message.
_MIN_LENGTH = 6
# The password part of a URL's user info (postgresql://user:PASSWORD@host/db): a ledger URL
# typed with its password is shown without it, wherever the text came from.
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/:@\s]+):[^/@\s]+@", re.IGNORECASE)


def scrub(text: str) -> str:
    """Return `text` with every token-like environment variable's value replaced by `***`, and
    any password in a URL's user info (`scheme://user:PASSWORD@host`) taken out.

    Defence in depth: the ledger is immutable (and events.jsonl goes into git), so an error whose
    text carries a token (a server echoing the Authorization header) must lose it before it is
    recorded or printed (DESIGN §4).
    """
    text = _URL_PASSWORD.sub(r"\1@", text)
    names = set(_NAMES) | {k for k in os.environ if k.endswith(_SUFFIXES)}
    for name in names:
        value = os.environ.get(name, "").strip()
        if len(value) >= _MIN_LENGTH:
            text = text.replace(value, "***")
    return text
