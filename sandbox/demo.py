"""The sandbox's stand-in for reviewers: merge its open pull requests for real.

`release demo` calls `merge_open_pulls` when the release waits on a PR. A person driving the
sandbox step by step (`release demo --setup-only`) plays the reviewer with `DIR/merge-prs`, a
script the sandbox writes that runs `python -m release_ledger.sandbox.demo DIR [PR ...]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The script in the sandbox folder that merges its open PRs (written by `write_reviewer`).
REVIEWER_SCRIPT = "merge-prs"


def merge_open_pulls(root: Path, numbers: list[int] | None = None) -> list[dict]:
    """Merge the sandbox's open PRs (all, or those numbered): real merge commits in the remote."""
    from release_ledger.sandbox.github_repo import merge_pull, open_pulls

    root = Path(root)
    pulls = [p for p in open_pulls(root / "github") if numbers is None or p["number"] in numbers]
    for pull in pulls:
        merge_pull(root / "github", pull["number"], root / "remote.git")
    return pulls


def write_reviewer(root: Path) -> Path:
    """Write `root/merge-prs`: merges the sandbox's open PRs, with this Python (any install)."""
    script = Path(root) / REVIEWER_SCRIPT
    script.write_text(
        "#!/bin/sh\n"
        "# Play the reviewer: merge this sandbox's open pull requests (or those numbered),\n"
        "# with real merge commits in remote.git, as pressing \"Merge\" on GitHub would.\n"
        f"exec '{sys.executable}' -m release_ledger.sandbox.demo \"$(dirname \"$0\")\" \"$@\"\n")
    script.chmod(0o755)
    return script


def main(argv: list[str] | None = None) -> int:
    """`python -m release_ledger.sandbox.demo DIR [PR ...]`: merge and say which PRs."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or not all(a.isdigit() for a in args[1:]):
        print("usage: merge-prs [PR ...]  (python -m release_ledger.sandbox.demo DIR [PR ...])",
              file=sys.stderr)
        return 2
    root = Path(args[0])
    if not (root / "github").is_dir() or not (root / "remote.git").is_dir():
        print(f"error: {root} is not a sandbox (no github/ and remote.git/ in it)", file=sys.stderr)
        print("hint: lay one out with `release demo --dir DIR --setup-only`", file=sys.stderr)
        return 1
    merged = merge_open_pulls(root, [int(a) for a in args[1:]] or None)
    if not merged:
        print("no open pull request to merge")
    for pull in merged:
        print(f"merged PR #{pull['number']} ({pull['head']} -> {pull['base']}) as a reviewer would")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
