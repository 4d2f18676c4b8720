"""Image references `host[:port]/repo[:tag][@digest]`, parsed by the distribution grammar.

Tags hold dashes of their own (`0.4.0-v0.62.0-rc33-e3c3ae7`, DOMAIN §3), so a reference is never
split on `-`: the tag is what follows the last `:` after the last `/`, the digest what follows `@`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from release_ledger.adapters.errors import AdapterError

# From distribution/reference/regexp.go: path components are lowercase alphanumerics joined by
# `.`, `_`, `__` or dashes; tags are at most 128 word characters, dots and dashes.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REPO = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_HOST = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*"
                   r"[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")
DEFAULT_HOST = "docker.io"


class InvalidReference(AdapterError):
    """An image reference that does not follow the distribution grammar."""


def is_repository(name: str) -> bool:
    """Whether a repository path follows the grammar (lowercase components, no `..`, no host)."""
    return bool(_REPO.match(name))


def is_digest(ref: str) -> bool:
    """Whether a manifest reference is a content digest (`algo:hex`) rather than a tag."""
    return bool(_DIGEST.match(ref))


@dataclass(frozen=True)
class ImageRef:
    """One image: registry host, repository path, and a tag, a digest, or both."""

    host: str
    repo: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse `host[:port]/repo[:tag][@digest]`; a name without a host is on docker.io."""
        rest, digest = text.strip(), None
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST.match(digest):
                raise InvalidReference(f"image reference {text!r} has an invalid digest {digest!r}")
        tag = None
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > slash:
            rest, tag = rest[:colon], rest[colon + 1:]
            if not _TAG.match(tag):
                raise InvalidReference(f"image reference {text!r} has an invalid tag {tag!r}")
        host, repo = _split_host(rest)
        if not _REPO.match(repo):
            raise InvalidReference(f"image reference {text!r} has an invalid repository {repo!r}")
        if not _HOST.match(host):
            raise InvalidReference(f"image reference {text!r} has an invalid host {host!r}")
        return cls(host, repo, tag, digest)

    @property
    def name(self) -> str:
        """`host/repo`, without tag or digest."""
        return f"{self.host}/{self.repo}"

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when pinned, else the tag (`latest` if none)."""
        return self.digest or self.tag or "latest"

    def with_digest(self, digest: str) -> ImageRef:
        """The same image pinned to `digest` (the tag is kept for readers)."""
        return replace(self, digest=digest)

    def with_tag(self, tag: str) -> ImageRef:
        """The same repository under another tag, unpinned."""
        return replace(self, tag=tag, digest=None)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_host(name: str) -> tuple[str, str]:
    """Split `host/repo`; the first component is a host when it has a dot, a port or is localhost."""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return first, rest
    repo = name if "/" in name else f"library/{name}"
    return DEFAULT_HOST, repo
