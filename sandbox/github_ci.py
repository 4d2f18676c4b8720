"""The sandbox's Models CI: GitHub Actions REST answers over the recorded dataset in a folder.

Serves what `workflows.sandbox.ci_dataset.write_dataset(root)` wrote under `root/ci/{owner}/{repo}/`
with GitHub's shapes, so our real client runs unchanged (DOMAIN.md §2): the runs list
(`total_count`, `workflow_runs`, newest first), jobs and artifacts (paginated by `page`/`per_page`
with `Link` headers), ETags answered with 304, an artifact zip or job log as a 302 to a storage
host that refuses an Authorization header (as presigned storage does), and 410 for an expired
artifact.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx

STORAGE_HOST = "productionresultssa7.blob.core.windows.net"
_API = re.compile(r"^(?:/api/v3)?/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/(?P<rest>.+)$")
_STORAGE = re.compile(r"^/actions-results/(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<kind>artifact|job)-"
                      r"(?P<id>\d+)\.(?:zip|log)$")
_RECORDED_API = "https://api.github.com"
_PARSED: dict[tuple[str, int], object] = {}  # (path, mtime_ns) -> parsed JSON: the data is read-only


def _load(path: Path):
    """Parsed JSON of a dataset file, memoised by path and mtime (listings are read per request)."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _PARSED:
        _PARSED[key] = json.loads(path.read_text(encoding="utf-8"))
    return _PARSED[key]


def handle(request: httpx.Request, root: Path, storage_url: str | None = None) -> httpx.Response | None:
    """Answer a Models CI request from the recorded dataset in `root`; None if not ours."""
    if request.method != "GET":
        return None
    storage = _STORAGE.match(request.url.path)
    if storage and (storage_url or request.url.host == STORAGE_HOST):
        return _storage(request, Path(root), storage)
    match = _API.match(request.url.path)
    if match is None:
        return None
    base = Path(root) / "ci" / match["owner"] / match["repo"]
    if not (base / "workflow.json").is_file():
        return None
    return _api(request, base, match, storage_url or f"https://{STORAGE_HOST}")


def _api(request: httpx.Request, base: Path, match: re.Match, storage_url: str) -> httpx.Response | None:
    rest, owner, repo = match["rest"], match["owner"], match["repo"]
    workflow = _load(base / "workflow.json")
    parts = rest.split("/")
    if parts[0] == "workflows" and len(parts) >= 2:
        if parts[1] not in (Path(workflow["path"]).name, str(workflow["id"])):
            return _not_found()
        if len(parts) == 2:
            return _json(request, workflow)
        if parts[2:] == ["runs"]:
            return _runs(request, base)
    if parts[0] == "runs" and len(parts) >= 2 and parts[1].isdigit():
        run = base / "runs" / f"{parts[1]}.json"
        if not run.is_file():
            return _not_found()
        if len(parts) == 2:
            return _json(request, _load(run))
        if parts[2:] in (["jobs"], ["artifacts"]):
            items = _load(base / "runs" / f"{parts[1]}.{parts[2]}.json")
            return _page(request, items, parts[2])
    if parts[0] == "artifacts" and len(parts) == 3 and parts[2] == "zip":
        return _artifact_redirect(base, owner, repo, parts[1], storage_url)
    if parts[0] == "jobs" and len(parts) == 3 and parts[2] == "logs":
        if not parts[1].isdigit():
            return _not_found()
        return _redirect(f"{storage_url}/actions-results/{owner}/{repo}/job-{parts[1]}.log")
    return _not_found()


def _runs(request: httpx.Request, base: Path) -> httpx.Response:
    runs = [_load(p) for p in (base / "runs").glob("*[0-9].json")]
    status = request.url.params.get("status")
    if status:
        runs = [r for r in runs if status in (r["status"], r["conclusion"])]
    runs.sort(key=lambda r: r["run_number"], reverse=True)
    return _page(request, runs, "workflow_runs")


def _page(request: httpx.Request, items: list, key: str) -> httpx.Response:
    params = request.url.params
    per_page = max(1, min(100, int(params.get("per_page", 30))))
    page = max(1, int(params.get("page", 1)))
    last = max(1, -(-len(items) // per_page))
    body = {"total_count": len(items), key: items[(page - 1) * per_page: page * per_page]}
    links = []
    for rel, n in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if 1 <= n <= last and not (rel in ("last", "first") and n == page):
            url = request.url.copy_set_param("per_page", per_page).copy_set_param("page", n)
            links.append(f'<{url}>; rel="{rel}"')
    return _json(request, body, {"link": ", ".join(links)} if links else {})


def _artifact_redirect(base: Path, owner: str, repo: str, art_id: str,
                       storage_url: str) -> httpx.Response:
    for listing in (base / "runs").glob("*.artifacts.json"):
        for art in _load(listing):
            if str(art["id"]) != art_id:
                continue
            if art["expired"]:
                return _error(410, "Artifact has expired")
            return _redirect(f"{storage_url}/actions-results/{owner}/{repo}/artifact-{art_id}.zip")
    return _not_found()


def _storage(request: httpx.Request, root: Path, match: re.Match) -> httpx.Response:
    # Presigned storage refuses a second credential: a leaked token would show up as a 400 here.
    if "authorization" in request.headers:
        return httpx.Response(400, text="Authorization header is not allowed with a signed URL")
    base = root / "ci" / match["owner"] / match["repo"]
    if match["kind"] == "artifact":
        path = base / "artifacts" / f"{match['id']}.zip"
        data = path.read_bytes() if path.is_file() else _filler_zip(match["id"])
        return httpx.Response(200, content=data, headers={"content-type": "application/zip"})
    path = base / "logs" / f"{match['id']}.log"
    text = path.read_text() if path.is_file() else f"2025-11-03T04:00:00.0000000Z job {match['id']} done\n"
    return httpx.Response(200, text=text, headers={"content-type": "text/plain"})


def _filler_zip(art_id: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("build.log", (2025, 11, 3, 4, 0, 0)), f"artifact {art_id}\n")
    return buf.getvalue()


def _json(request: httpx.Request, body, headers: dict | None = None) -> httpx.Response:
    origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
    data = json.dumps(body).replace(_RECORDED_API, origin).encode()
    etag = f'W/"{hashlib.sha256(data).hexdigest()[:32]}"'
    common = {"etag": etag, "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
              "x-github-api-version-selected": "2022-11-28", **(headers or {})}
    if request.headers.get("if-none-match") == etag:
        return httpx.Response(304, headers=common)
    return httpx.Response(200, content=data, headers={"content-type": "application/json", **common})


def _redirect(location: str) -> httpx.Response:
    return httpx.Response(302, headers={"location": location + "?sv=2023-11-03&se=2099-01-01&sig=sandbox"})


def _error(status: int, message: str) -> httpx.Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest/actions/artifacts"}
    return httpx.Response(status, json=body)


def _not_found() -> httpx.Response:
    return _error(404, "Not Found")
