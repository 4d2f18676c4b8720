"""The body of the pre-release and release pull requests (DOMAIN §6, DESIGN §8).

The body begins with the HTML comment `<!-- metadata:run_id=<newest CI run used>
metadata:version=vX.Y.Z -->` that other tools parse, then the release's own Markdown files, in
order. Pure: the same inputs give the same bytes, so an unchanged body is never re-sent.
"""

from __future__ import annotations

from collections.abc import Sequence

# GitHub refuses a PR body over 65,536 characters; the full files are in the branch anyway.
MAX_BODY = 65_536
_TRUNCATED = ("\n\n_The rest is cut to fit GitHub's limit on a pull request body; "
              "the full files are in `{folder}` on this branch._\n")


def metadata_comment(run_id: int | str | None, version: str) -> str:
    """The leading metadata comment, e.g. `<!-- metadata:run_id=1 metadata:version=v0.4.0 -->`."""
    return (f"<!-- metadata:run_id={run_id if run_id is not None else 'none'} "
            f"metadata:version=v{version.removeprefix('v')} -->")


def render_pr_body(run_id: int | str | None, version: str, sections: Sequence[str],
                   folder: str = "release_logs/") -> str:
    """The PR body: the metadata comment, then each Markdown section, separated by a blank line."""
    parts = [metadata_comment(run_id, version)] + [s.strip("\n") for s in sections if s.strip()]
    body = "\n\n".join(parts) + "\n"
    if len(body) <= MAX_BODY:
        return body
    note = _TRUNCATED.format(folder=folder)
    cut = body[:MAX_BODY - len(note)]
    cut = cut[:cut.rfind("\n")] if "\n" in cut else cut  # never cut a table row in half
    return cut + note
