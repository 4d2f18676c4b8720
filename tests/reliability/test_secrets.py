"""Secrets: a whole release with a distinctive token, also at -v, and an error whose body echoes
the token: no byte of it in the ledger, release_logs, the repo, the remote, the caches, the PR
store, stdout/stderr, or exception text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import TOKEN, FaultProxy, World

#: Pieces of the token: a leak of part of it counts too.
PIECES = [TOKEN, TOKEN[4:20], TOKEN[-16:]]


def leaks(data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [p for p in PIECES if p in text]


def files_with_token(root: Path) -> list[str]:
    """Every file under `root` (ledger, WAL, logs, caches, store, checkout) holding a piece."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and leaks(path.read_bytes()):
            found.append(str(path.relative_to(root)))
    return found


def git_objects_with_token(git_dir: Path) -> list[str]:
    """Objects of a repository (any branch, tag, commit message) holding a piece."""
    out = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=git_dir,
                         capture_output=True, check=True).stdout
    return leaks(out)


def assert_no_leak(world: World) -> None:
    assert files_with_token(world.root) == []
    assert git_objects_with_token(world.repo) == []
    assert git_objects_with_token(world.remote) == []
    for run in world.runs:
        assert leaks(run.stdout + run.stderr) == [], run.args


def test_verbose_release_leaks_no_token(world_factory) -> None:
    """A whole release at -v sends the token to the API only, and writes or prints none of it."""
    world = world_factory()
    world.drive(verbose=True)
    assert world.status()["state"] == "released"
    api = [h for h in world.github.hits if h.origin == "api"]
    assert api and all(h.authorization == f"Bearer {TOKEN}" for h in api)
    assert all(h.authorization is None for h in world.github.hits if h.origin == "storage")
    assert_no_leak(world)


@pytest.mark.parametrize("method,path,status", [("GET", "/actions/workflows", 401),
                                                ("GET", "/actions/workflows", 422),
                                                ("POST", "/pulls", 400)])
def test_error_echoing_the_token_leaks_it_nowhere(world_factory, method, path, status) -> None:
    """A GitHub error whose body echoes the Authorization header (in a read, or inside a recorded
    effect): not in output, ledger or files."""
    world = world_factory(github_faults=FaultProxy(upstream=""))
    assert world.release("start", "--increment", "minor").code == 0
    world.proxies[0].answer_next(method, path, status, {"content-type": "application/json"},
        body='{"message": "Bad credentials: {authorization}", "request": "{authorization}"}')
    run = world.release("advance", "--skip-missing", verbose=True)
    assert run.code == 1
    assert any(line.startswith("error: ") for line in run.stderr.splitlines())
    assert_no_leak(world)
    world.drive()
    assert_no_leak(world)


def test_failed_effect_records_no_token(monkeypatch) -> None:
    """An effect failing with the token in its message records StepFailed without it."""
    from release_ledger.engine.events import ReleaseStarted
    from release_ledger.engine.state import replay
    from release_ledger.engine.step import StepContext
    from release_ledger.ledger import Ledger

    monkeypatch.setenv("GH_PAT", TOKEN)
    ledger = Ledger.open(":memory:")
    ledger.append("0.4.0", [ReleaseStarted(version="0.4.0", previous_version="0.3.0",
                                           increment="minor").to_new()])
    ctx = StepContext(ledger, replay(list(ledger.events("0.4.0"))), step="open_pr")

    def act():
        raise RuntimeError(f"server said: Bearer {TOKEN}")

    with pytest.raises(RuntimeError):
        ctx.effect("open_pr:pull:x", act)
    failed = [e for e in ledger.events("0.4.0") if e.type == "StepFailed"]
    assert failed and leaks(failed[0].payload["error"]) == []


def test_http_error_excerpt_hides_echoed_credentials() -> None:
    """An error body echoing `Bearer <token>` or a GitHub token shows `***` in the error."""
    import httpx

    from release_ledger.adapters.http import error_for

    request = httpx.Request("POST", "https://api.github.com/repos/o/r/pulls")
    body = f'{{"message": "Bad credentials: Bearer {TOKEN}", "raw": "{TOKEN}"}}'
    err = error_for(httpx.Response(400, text=body, request=request))
    assert leaks(str(err)) == [] and leaks(err.body_excerpt) == []


def test_a_url_password_and_PGPASSWORD_are_scrubbed(monkeypatch) -> None:
    """Text holding a URL with its password, or PGPASSWORD's value, loses both before it is shown."""
    from release_ledger.engine.secrets import scrub

    monkeypatch.setenv("PGPASSWORD", "Ledger-Pa55word")
    text = ("cannot reach postgresql://release:Url-Pa55word@db.example.com:5432/release "
            "(tried Ledger-Pa55word); registry http://127.0.0.1:5000/v2 is fine")
    assert scrub(text) == ("cannot reach postgresql://release@db.example.com:5432/release "
                           "(tried ***); registry http://127.0.0.1:5000/v2 is fine")
