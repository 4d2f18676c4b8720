"""The target's git repository, through the git binary (no shell, no library).

Commits are built with plumbing on a temporary index (`read-tree`, `update-index`, `write-tree`,
`commit-tree`, `update-ref`): the user's checkout, HEAD and index are never touched, and a commit
is built from exactly the paths asked for. Pushes always carry `--force-with-lease` against an
expected commit: upstream's automation force-pushed release branches on re-runs (DOMAIN §7.7).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from release_ledger.adapters.errors import GitError

# Remote URLs may carry credentials (https://x-access-token:TOKEN@github.com/...): never repeat them.
_USERINFO = re.compile(r"(://)[^/@\s]+@")
_FALLBACK_IDENTITY = ("release", "release@localhost")
# Release paths are file names, never patterns: a `[` or `*` in one must not match other files.
_LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}


def _scrub(text: str) -> str:
    """One line of git's stderr, with credentials in URLs removed."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    # git's last "fatal:"/"error:" line is the reason; hints before it are noise here.
    reason = next((ln for ln in reversed(lines) if ln.startswith(("fatal:", "error:", "!"))),
                  lines[-1] if lines else "no output")
    return _USERINFO.sub(r"\1***@", reason)


@dataclass(frozen=True)
class Identity:
    """Who commits and tags (name, email) and when (a git date, or None for now)."""

    name: str
    email: str
    date: str | None = None


class Git:
    """One git repository (a work tree, or a bare repository) driven by the git binary."""

    def __init__(self, path: Path | str, git: str = "git"):
        self.path = Path(path)
        self._git = git

    # -- plumbing -------------------------------------------------------------------------------

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None,
            ok: Sequence[int] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run `git ARGS` in the repository; a failure is a GitError naming the command and reason."""
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        try:
            proc = subprocess.run([self._git, "-C", str(self.path), *args], capture_output=True,
                                  text=True, env=full_env, input=input, check=False)
        except FileNotFoundError:
            raise GitError(f"the git binary {self._git!r} is not installed") from None
        if proc.returncode not in ok:
            raise GitError(f"git {_scrub(' '.join(args[:3]))} in {self.path} failed: "
                           f"{_scrub(proc.stderr or proc.stdout)}")
        return proc

    def out(self, *args: str, env: dict[str, str] | None = None) -> str:
        """The stripped standard output of `git ARGS`."""
        return self.run(*args, env=env).stdout.strip()

    # -- reading --------------------------------------------------------------------------------

    def rev_parse(self, ref: str) -> str | None:
        """The commit `ref` points at (peeling tags), or None when there is no such ref."""
        proc = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1))
        return proc.stdout.strip() or None

    def head(self) -> str:
        """The commit checked out now."""
        sha = self.rev_parse("HEAD")
        if sha is None:
            raise GitError(f"the repository {self.path} has no commit checked out")
        return sha

    def current_branch(self) -> str | None:
        """The branch checked out, or None on a detached HEAD."""
        proc = self.run("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        return proc.stdout.strip() or None

    def dirty_files(self) -> list[str]:
        """Every path with uncommitted changes, untracked files included, sorted."""
        raw = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all").stdout
        entries = raw.split("\0")
        paths: list[str] = []
        i = 0
        while i < len(entries):
            entry = entries[i]
            i += 1
            if len(entry) < 4:
                continue
            paths.append(entry[3:])
            if entry[0] in "RC":  # a rename's source path follows as its own entry
                paths.append(entries[i])
                i += 1
        return sorted(set(paths))

    def tree_of(self, commit: str) -> str:
        """The tree id of a commit."""
        return self.out("rev-parse", f"{commit}^{{tree}}")

    def parents(self, commit: str) -> list[str]:
        """The parent commits of a commit, in order."""
        return self.out("rev-list", "--parents", "-n", "1", commit).split()[1:]

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits, or None when they share no history."""
        proc = self.run("merge-base", a, b, ok=(0, 1))
        return proc.stdout.strip() or None

    def changed_between(self, a: str, b: str, paths: Iterable[str]) -> list[str]:
        """Files under `paths` whose content differs between commits `a` and `b`, sorted."""
        out = self.out("diff", "--name-only", "-z", a, b, "--", *paths)
        return sorted(f for f in out.split("\0") if f)

    def show_file(self, commit: str, path: str) -> str | None:
        """The text of `path` at `commit`, or None when the commit has no such file."""
        proc = self.run("cat-file", "-p", f"{commit}:{path}", ok=(0, 128))
        return proc.stdout if proc.returncode == 0 else None

    def blob_at(self, commit: str, path: str) -> str | None:
        """The blob id of the file `path` in `commit`, or None when the commit has no such file."""
        out = self.run("ls-tree", "-z", commit, "--", path, env=_LITERAL).stdout
        for entry in out.split("\0"):
            meta, _, name = entry.partition("\t")
            fields = meta.split()
            if name == path and len(fields) == 3 and fields[1] == "blob":
                return fields[2]
        return None

    def worktree_blob(self, path: str) -> str | None:
        """The blob id `git add` would store for the work tree's `path`, or None when it is absent.

        A symbolic link gets an id no commit can hold, so it never counts as committed content.
        """
        local = self.path / path
        if local.is_symlink():
            return f"symlink:{os.readlink(local)}"
        if not local.is_file():
            return None
        return self.out("hash-object", "--", path, env=_LITERAL)

    def index_blob(self, path: str) -> str | None:
        """The blob id the index holds for `path`, None when absent (a conflict: `"conflict"`)."""
        out = self.run("ls-files", "--stage", "-z", "--", path, env=_LITERAL).stdout
        ids = [meta.split()[1] for meta, _, name in (e.partition("\t") for e in out.split("\0"))
               if name == path and len(meta.split()) == 3]
        if len(ids) > 1:
            return "conflict"
        return ids[0] if ids else None

    def identity(self, date: str | None = None) -> Identity:
        """The configured committer, or a fixed fallback so that a bare CI box can still commit."""
        name = self.run("config", "user.name", ok=(0, 1)).stdout.strip()
        email = self.run("config", "user.email", ok=(0, 1)).stdout.strip()
        if not (name and email):
            name, email = _FALLBACK_IDENTITY
        return Identity(name, email, date)

    # -- remotes --------------------------------------------------------------------------------

    def fetch(self, remote: str, *refspecs: str) -> None:
        """Fetch refspecs (or the remote's defaults) from `remote`."""
        self.run("fetch", "--quiet", "--no-tags", remote, *refspecs)

    def ls_remote(self, remote: str, ref: str) -> str | None:
        """The object id `ref` (a full ref name) has on the remote, or None when absent."""
        for line in self.out("ls-remote", remote, ref).splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        return None

    def remote_branch(self, remote: str, branch: str) -> str | None:
        """The commit a branch has on the remote, or None when the remote has no such branch."""
        return self.ls_remote(remote, f"refs/heads/{branch}")

    def fetch_branch(self, remote: str, branch: str) -> str:
        """Fetch one branch of the remote and return its commit (a GitError when it is missing)."""
        tracking = f"refs/remotes/{remote}/{branch}"
        self.fetch(remote, f"+refs/heads/{branch}:{tracking}")
        sha = self.rev_parse(tracking)
        if sha is None:  # pragma: no cover - fetch would have failed
            raise GitError(f"branch {branch} was not found on remote {remote}")
        return sha

    def push_branch(self, remote: str, commit: str, branch: str, expected: str | None) -> None:
        """Set `branch` on the remote to `commit`, only if it is now at `expected` (None: absent).

        Never a blind force: the lease makes git refuse when someone else moved the branch since
        we last recorded it (DOMAIN §7.7).
        """
        ref = f"refs/heads/{branch}"
        lease = f"--force-with-lease={ref}:{expected or ''}"
        proc = self.run("push", "--porcelain", lease, remote, f"{commit}:{ref}", ok=(0, 1))
        if proc.returncode != 0:
            now = self.remote_branch(remote, branch)
            if now != commit and now != expected:
                raise GitError(f"push of {branch} to {remote} was refused: the remote branch is at "
                               f"{now or 'nothing'} but the release expected "
                               f"{expected or 'no branch'}, so someone else moved it")
            if now != commit:
                raise GitError(f"push of {branch} to {remote} failed: "
                               f"{_scrub(proc.stderr or proc.stdout)}")
        if self.current_branch() != branch:  # keep the local branch in step, never the checkout
            self.run("update-ref", ref, commit)

    # -- writing --------------------------------------------------------------------------------

    def commit_paths(self, base: str, paths: Iterable[str], message: str,
                     identity: Identity | None = None) -> str:
        """Commit the work tree's content of exactly `paths` on top of `base`; return the commit.

        A directory stands for every file under it (deleted files included). Nothing outside
        `paths` is taken from the work tree, and HEAD, the index and the checkout stay as they
        were. When `paths` hold no change against `base`, `base` itself is returned.
        """
        files = self._expand(base, paths)
        with tempfile.TemporaryDirectory(prefix="release-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.run("read-tree", base, env=env)
            if files:
                self.run("update-index", "--add", "--remove", "-z", "--stdin", env=env,
                         input="\0".join(files) + "\0")
            tree = self.out("write-tree", env=env)
        if tree == self.tree_of(base):
            return base
        who = identity or self.identity()
        env = {"GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
               "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
        if who.date:
            env |= {"GIT_AUTHOR_DATE": who.date, "GIT_COMMITTER_DATE": who.date}
        return self.run("commit-tree", tree, "-p", base, "-F", "-", env=env,
                        input=message).stdout.strip()

    def _expand(self, base: str, paths: Iterable[str]) -> list[str]:
        """Files named by `paths` in the work tree or in `base` (so deletions are committed)."""
        files: set[str] = set()
        for p in paths:
            p = p.rstrip("/")
            local = self.path / p
            if local.is_dir():
                files.update(f.relative_to(self.path).as_posix()
                             for f in local.rglob("*") if f.is_file())
            elif local.is_file():
                files.add(p)
            tracked = self.out("ls-tree", "-r", "--name-only", "-z", base, "--", p)
            files.update(f for f in tracked.split("\0") if f)
        return sorted(files)

    def restore_from_head(self, paths: Sequence[str]) -> None:
        """Put exactly `paths` back to HEAD's version, in the index and the work tree.

        Only these paths are touched: never `reset --hard` or `clean`, which would take the
        engineer's other uncommitted work with them.
        """
        if paths:
            self.run("checkout", "HEAD", "--", *paths, env=_LITERAL)

    def remove_untracked(self, paths: Sequence[str]) -> None:
        """Delete files HEAD does not hold: their index entry (if added) and the file.

        Folders left empty by the removal are removed too, up to the work tree's root.
        """
        staged = [p for p in paths if self.index_blob(p) is not None]
        if staged:
            self.run("update-index", "--force-remove", "-z", "--stdin", env=_LITERAL,
                     input="\0".join(staged) + "\0")
        root = self.path.resolve()
        for p in paths:
            local = self.path / p
            local.unlink(missing_ok=True)
            parent = local.parent.resolve()
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def set_branch(self, branch: str, commit: str) -> None:
        """Point the local branch at `commit` (creating it), without touching the checkout."""
        if self.current_branch() == branch:
            raise GitError(f"branch {branch} is checked out in {self.path}; check out another "
                           "branch so the release can move it")
        self.run("update-ref", f"refs/heads/{branch}", commit)

    def create_branch(self, branch: str, start: str) -> str:
        """Create (or move) the local branch `branch` at the commit `start` names; return it."""
        sha = self.rev_parse(start)
        if sha is None:
            raise GitError(f"cannot create branch {branch}: {start} names no commit in {self.path}")
        self.set_branch(branch, sha)
        return sha

    # -- tags -----------------------------------------------------------------------------------

    def tag_target(self, tag: str) -> str | None:
        """The commit a local tag points at, or None when there is no such tag."""
        return self.rev_parse(f"refs/tags/{tag}")

    def remote_tag_target(self, remote: str, tag: str) -> str | None:
        """The commit a tag on the remote points at (peeled), or None when absent."""
        peeled = self.ls_remote(remote, f"refs/tags/{tag}^{{}}")
        return peeled or self.ls_remote(remote, f"refs/tags/{tag}")

    def ensure_tag(self, tag: str, commit: str, message: str,
                   identity: Identity | None = None) -> bool:
        """Create the annotated tag at `commit`; True if made, False if it was already there.

        A tag that already points at another commit is never moved: that is a GitError.
        """
        now = self.tag_target(tag)
        if now == commit:
            return False
        if now is not None:
            raise GitError(f"tag {tag} already exists at commit {now}, not at {commit}; "
                           "the release will not move it")
        who = identity or self.identity()
        env = {"GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": who.email}
        if who.date:
            env["GIT_COMMITTER_DATE"] = who.date
        self.run("tag", "--annotate", "--file=-", tag, commit, env=env, input=message)
        return True

    def push_tag(self, remote: str, tag: str) -> bool:
        """Push a local tag to the remote; True if pushed, False if the remote had it already.

        A remote tag at another commit is a GitError: tags are never forced.
        """
        local = self.tag_target(tag)
        if local is None:
            raise GitError(f"tag {tag} does not exist in {self.path}")
        remote_at = self.remote_tag_target(remote, tag)
        if remote_at == local:
            return False
        if remote_at is not None:
            raise GitError(f"tag {tag} already exists on {remote} at commit {remote_at}, "
                           f"not at {local}; the release will not move it")
        self.run("push", "--quiet", remote, f"refs/tags/{tag}:refs/tags/{tag}")
        return True

