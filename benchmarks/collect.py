"""Benchmark of the collect step against the old script's request pattern (issue 3).

Serves a 90-run recorded CI (40 model artifacts and ~300 jobs per run) from local HTTP servers on
127.0.0.1 that add 50 ms of latency to every request (API and artifact storage on two origins),
then measures:

1. the tool: `Collector` (runs, artifact listings, per-model artifacts until last-good, job logs
   of the chosen entries only; 8 requests at a time, ETag and artifact caches);
2. the old pattern: a sequential client that, per run, lists jobs and artifacts, downloads every
   `workflow_logs_*` artifact and fetches EVERY job's log, one request at a time. It is measured
   on 10 runs and extrapolated linearly to 90. To keep the benchmark short, the 10 runs are
   measured as 10 independent sequential clients side by side and their times are summed: each
   client waits on its own requests only, so the sum is what one client would take for all 10;
3. a warm re-run of the tool (same caches): artifact downloads, and the share of requests
   answered 304 or from a local cache.

Run: `python benchmarks/collect.py [--runs 90] [--latency 0.05] [--old-runs 10]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from release_ledger.adapters.github import GitHubClient  # noqa: E402
from release_ledger.sandbox import github_ci  # noqa: E402
from release_ledger.workflows.collect.collector import Collector  # noqa: E402
from release_ledger.workflows.collect.last_good import Target  # noqa: E402
from release_ledger.sandbox.ci_dataset import OWNER, REPO, WORKFLOW, CiModel, Scenario, write_dataset  # noqa: E402

SLUG = f"{OWNER}/{REPO}"
DEVICES = ("N150", "N300", "T3K", "GALAXY")


def scenario(runs: int) -> Scenario:
    """`runs` nightly runs of 40 models (10 weights x 4 devices), ~300 jobs each; a few failures."""
    models = [CiModel("tt-transformers", f"Bench-Model-{i}B", d) for i in range(10) for d in DEVICES]
    first = 1000
    numbers = list(range(first, first + runs))
    newest = numbers[-1]
    outcomes = {}
    for k, model in enumerate(models):
        if k % 5 == 0:
            outcomes[(newest, model.model_id)] = "fail_acc"   # the newest run fails for some
        if k % 10 == 0:
            outcomes[(newest - 1, model.model_id)] = "fail_perf"
    return Scenario(run_numbers=numbers, models=models, outcomes=outcomes,
                    filler_jobs=260, filler_artifacts=2)


class Server:
    """A latency-adding HTTP server answering from the recorded dataset; counts what it answers."""

    def __init__(self, root: Path, latency: float):
        self.root, self.latency = root, latency
        self.statuses: Counter[int] = Counter()
        self.storage_url = ""
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                time.sleep(server.latency)
                headers = {k: v for k, v in self.headers.items()}
                request = httpx.Request("GET", f"http://{self.headers['host']}{self.path}",
                                        headers=headers)
                resp = github_ci.handle(request, server.root, storage_url=server.storage_url)
                if resp is None:
                    resp = httpx.Response(404, json={"message": "Not Found"})
                body = resp.read()
                with server._lock:
                    server.statuses[resp.status_code] += 1
                self.send_response(resp.status_code)
                for key, value in resp.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def total(self) -> int:
        return sum(self.statuses.values())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def client(api: Server, cache: Path | None, concurrency: int) -> GitHubClient:
    http = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=concurrency * 2))
    return GitHubClient(http, api.url, "bench-token", cache_dir=cache, concurrency=concurrency)


def run_tool(api: Server, storage: Server, cache: Path, targets: list[Target], runs: int) -> dict:
    """One collection by the tool; requests counted on both servers."""
    before = (api.total() + storage.total(), api.statuses[304])
    gh = client(api, cache / "http", 8)
    collector = Collector(gh, SLUG, WORKFLOW, cache)
    start = time.perf_counter()
    selected = collector.runs(max_runs=runs)
    collection = collector.collect(targets, selected, collector.artifacts(selected))
    wall = time.perf_counter() - start
    requests = api.total() + storage.total() - before[0]
    c = collection.counts
    logical = requests + c["artifact_cache_hits"] + c["log_cache_hits"]
    cheap = api.statuses[304] - before[1] + c["artifact_cache_hits"] + c["log_cache_hits"]
    return {"wall": wall, "requests": requests, "downloads": c["artifact_downloads"],
            "logs": c["log_downloads"], "cheap_share": cheap / logical if logical else 1.0,
            "with_data": sum(1 for e in collection.last_good.values() if e)}


def old_pattern_one_run(api: Server, run: dict, dest: Path) -> float:
    """The old script on one run, one request at a time; returns its elapsed time."""
    gh = client(api, None, 1)
    start = time.perf_counter()
    jobs = list(gh.paginate(f"/repos/{SLUG}/actions/runs/{run['id']}/jobs", item_key="jobs"))
    arts = list(gh.paginate(f"/repos/{SLUG}/actions/runs/{run['id']}/artifacts", item_key="artifacts"))
    for art in arts:
        if art["name"].startswith("workflow_logs_") and not art["expired"]:
            gh.download(f"/repos/{SLUG}/actions/artifacts/{art['id']}/zip", dest / f"{art['id']}.zip")
    for job in jobs:
        gh.download(f"/repos/{SLUG}/actions/jobs/{job['id']}/logs", dest / f"{job['id']}.log")
    return time.perf_counter() - start


def run_old(api: Server, storage: Server, tmp: Path, measured: int, total_runs: int) -> dict:
    """The old pattern measured on `measured` runs, extrapolated linearly to `total_runs`."""
    before = api.total() + storage.total()
    gh = client(api, None, 1)
    start = time.perf_counter()
    runs = list(gh.paginate(f"/repos/{SLUG}/actions/workflows/{WORKFLOW}/runs",
                            item_key="workflow_runs"))[:measured]
    listing = time.perf_counter() - start
    with ThreadPoolExecutor(max_workers=measured) as pool:
        times = list(pool.map(lambda r: old_pattern_one_run(api, r, tmp / f"old-{r['id']}"), runs))
    requests = api.total() + storage.total() - before
    factor = total_runs / measured
    return {"measured_runs": measured, "measured_requests": requests,
            "measured_wall": listing + sum(times),
            "requests": round(requests * factor), "wall": (listing + sum(times)) * factor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=90)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--old-runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sc = scenario(args.runs)
        print(f"dataset: {args.runs} runs, {len(sc.models)} model artifacts and "
              f"{len(sc.models) + sc.filler_jobs} jobs per run, {args.latency * 1000:g} ms per request")
        write_dataset(tmp / "github", sc)
        api, storage = Server(tmp / "github", args.latency), Server(tmp / "github", args.latency)
        api.storage_url = storage.storage_url = storage.url
        targets = [Target(m.model_id, m.model_name, m.device, m.impl_name) for m in sc.models]
        try:
            cold = run_tool(api, storage, tmp / "cache", targets, args.runs)
            warm = run_tool(api, storage, tmp / "cache", targets, args.runs)
            old = run_old(api, storage, tmp, args.old_runs, args.runs)
        finally:
            api.close()
            storage.close()
    print(f"tool, cold:  {cold['requests']:>6} requests  {cold['wall']:7.1f} s  "
          f"({cold['downloads']} artifacts, {cold['logs']} job logs, {cold['with_data']} models with data)")
    print(f"old pattern: {old['requests']:>6} requests  {old['wall']:7.1f} s  "
          f"(measured on {old['measured_runs']} runs: {old['measured_requests']} requests, "
          f"{old['measured_wall']:.1f} s; extrapolated linearly to {args.runs} runs)")
    print(f"tool, warm:  {warm['requests']:>6} requests  {warm['wall']:7.1f} s  "
          f"({warm['downloads']} artifact downloads, {warm['cheap_share']:.0%} answered 304 or from cache)")
    print(f"ratios: requests {cold['requests'] / old['requests']:.3f} of the old pattern's "
          f"(goal <= 0.1), wall time {old['wall'] / cold['wall']:.1f}x faster (goal >= 5x)")


if __name__ == "__main__":
    main()
