"""Benchmark: `release`'s promotion versus `skopeo copy --all` on the same local registry.

Side by side in one run (issue 5): a 200 MB single image, an amd64+arm64 index and 20 images in
one step, promoted within one docker-registry (the `-dev-`/`-release-` case), with wall times,
their ratio and the layer bytes that went through the client (read from the registry's access
log: blob GETs plus committed uploads). Then a cross-registry copy of one 1 GB layer, with the
peak RSS of the copying process (a child, measured with resource.getrusage).

Every image is freshly random, so skopeo's blob-info cache has never seen it (cold cache).

    python benchmarks/promote.py                    # the issue's sizes, a few minutes
    python benchmarks/promote.py --single-mb 20 --big-mb 64 --many-mb 2   # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "registry")]

import httpx  # noqa: E402

from release_ledger.adapters.copy import copy_image  # noqa: E402
from release_ledger.adapters.image_factory import build_image, build_index  # noqa: E402
from release_ledger.adapters.registry.http import HttpRegistry  # noqa: E402
from registry_server import RegistryServer  # noqa: E402

MB = 1 << 20


def registry_client(url: str) -> HttpRegistry:
    """Our client for a local registry, as a promotion destination."""
    return HttpRegistry(httpx.Client(timeout=300.0), url, push=True)


def blob_sizes(reg: HttpRegistry, repo: str, digest: str) -> dict[str, int]:
    """Every blob of an image (all platforms) with its size."""
    top = reg.get_manifest(repo, digest)
    manifests = [top] + [reg.get_manifest(repo, c.digest) for c in top.children()]
    return {b.digest: b.size for m in manifests for b in m.blobs()}


def bytes_moved(server: RegistryServer, since: int, sizes: dict[str, int]) -> int:
    """Layer bytes through the client: blob downloads plus committed blob uploads (access log)."""
    total = 0
    for rec in server.access(since):
        if rec.method == "GET" and "/blobs/sha256:" in rec.path and rec.status == 200:
            total += sizes.get(rec.path.rsplit("/", 1)[1], 0)
        elif rec.method == "PUT" and "/blobs/uploads/" in rec.path and rec.status == 201:
            digest = parse_qs(urlsplit(rec.path).query).get("digest", [""])[0]
            total += sizes.get(digest, 0)
    return total


def skopeo(src: str, dst: str) -> None:
    """`skopeo copy --all` between plain-HTTP local registries."""
    subprocess.run(["skopeo", "copy", "--all", "--quiet", "--src-tls-verify=false",
                    "--dest-tls-verify=false", f"docker://{src}", f"docker://{dst}"],
                   check=True, stdout=subprocess.DEVNULL)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, server: RegistryServer, reg: HttpRegistry,
            images: list[tuple[str, str]], use_skopeo: bool) -> dict:
    """Promote `images` ([(repo, digest)]) with our copy, then with skopeo; wall times and bytes."""
    sizes: dict[str, int] = {}
    for repo, digest in images:
        sizes |= blob_sizes(reg, repo, digest)
    mark = server.mark()

    def ours() -> None:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda img: copy_image(reg, img[0], img[1], reg, img[0] + "-dev",
                                                 "0.4.0-dev"), images))

    row = {"case": name, "images": len(images), "layer_mb": round(sum(sizes.values()) / MB, 1),
           "ours_s": timed(ours), "ours_bytes": bytes_moved(server, mark, sizes)}
    if use_skopeo:
        mark = server.mark()
        row["skopeo_s"] = timed(lambda: [skopeo(f"{server.host}/{r}@{d}",
                                                f"{server.host}/{r}-skopeo:0.4.0-dev")
                                         for r, d in images])
        row["skopeo_bytes"] = bytes_moved(server, mark, sizes)
        row["ratio"] = row["ours_s"] / row["skopeo_s"]
    return row


def child_copy(src_url: str, dst_url: str, repo: str, digest: str) -> None:
    """(In a child process) copy one image across registries; print wall time and peak RSS."""
    src, dst = registry_client(src_url), registry_client(dst_url)
    seconds = timed(lambda: copy_image(src, repo, digest, dst, repo, "copied"))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024}))


def child_rss(argv: list[str]) -> None:
    """(In a child process) run a command; print its wall time and peak RSS."""
    seconds = timed(lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL))
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024}))


def cross_registry(args, a: RegistryServer, b: RegistryServer, reg: HttpRegistry) -> list[dict]:
    """One big layer copied between two registries by a child process; skopeo alongside."""
    image = build_image(reg, "big/layer", "ci", layers=1, layer_size=args.big_mb * MB)
    cmd = [sys.executable, __file__, "--child-copy", a.url, b.url, "big/layer", image.digest]
    ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    rows = [{"case": f"cross-registry {args.big_mb} MB layer", "tool": "release", **ours}]
    if not args.no_skopeo:
        cmd = [sys.executable, __file__, "--child-rss", "skopeo", "copy", "--all", "--quiet",
               "--src-tls-verify=false", "--dest-tls-verify=false",
               f"docker://{a.host}/big/layer@{image.digest}", f"docker://{b.host}/big/skopeo:copied"]
        theirs = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        rows.append({"case": f"cross-registry {args.big_mb} MB layer", "tool": "skopeo", **theirs})
    return rows


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="promote-bench-"))
    a = RegistryServer(workdir / "a").start()
    b = RegistryServer(workdir / "b").start()
    try:
        reg = registry_client(a.url)
        use_skopeo = not args.no_skopeo and shutil.which("skopeo") is not None
        rows = []
        single = build_image(reg, "bench/single", "ci", layers=4, layer_size=args.single_mb * MB // 4)
        rows.append(compare(f"single image {args.single_mb} MB", a, reg,
                            [("bench/single", single.digest)], use_skopeo))
        index = build_index(reg, "bench/index", "ci", layers=2, layer_size=args.single_mb * MB // 4)
        rows.append(compare(f"amd64+arm64 index {args.single_mb} MB", a, reg,
                            [("bench/index", index.digest)], use_skopeo))
        many = [(f"bench/many{i}", build_image(reg, f"bench/many{i}", "ci", layers=4,
                                               layer_size=args.many_mb * MB // 4).digest)
                for i in range(args.many)]
        rows.append(compare(f"{args.many} images of {args.many_mb} MB", a, reg, many, use_skopeo))
        return {"promotion": rows, "cross_registry": cross_registry(args, a, b, reg)}
    finally:
        a.stop()
        b.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict) -> None:
    print(f"{'case':40} {'ours s':>8} {'skopeo s':>9} {'ratio':>6} {'ours MB':>8} {'skopeo MB':>9}")
    for r in results["promotion"]:
        print(f"{r['case']:40} {r['ours_s']:8.2f} {r.get('skopeo_s', float('nan')):9.2f} "
              f"{r.get('ratio', float('nan')):6.3f} {r['ours_bytes'] / MB:8.1f} "
              f"{r.get('skopeo_bytes', 0) / MB:9.1f}")
    one, many = results["promotion"][0]["ours_s"], results["promotion"][2]["ours_s"]
    print(f"{results['promotion'][2]['images']} images / 1 image (ours): {many / one:.2f}x")
    for r in results["cross_registry"]:
        print(f"{r['case']:40} {r['tool']:8} {r['seconds']:8.2f} s  peak RSS {r['peak_rss_mb']:7.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single-mb", type=int, default=200, help="size of the single image")
    parser.add_argument("--many", type=int, default=20, help="images promoted in one step")
    parser.add_argument("--many-mb", type=int, default=20, help="size of each of those images")
    parser.add_argument("--big-mb", type=int, default=1024, help="the cross-registry layer")
    parser.add_argument("--no-skopeo", action="store_true", help="only our tool")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child-copy", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--child-rss", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_copy:
        return child_copy(*args.child_copy)
    if args.child_rss:
        return child_rss(args.child_rss)
    results = run(args)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
