"""Throughput and latency of ``pipeline serve`` with request batching on and off, same run.

    .venv/bin/python bench/bench_serve.py                      # plates, 8 clients, 96 requests
    .venv/bin/python bench/bench_serve.py --preset documents --requests 24 --clients 4

For each setting the service is started as a subprocess (``pipeline serve --preset P
--batch-window-ms W``), two warm-up requests are sent, then ``--clients`` threads send one
image per request (round robin over ``--images``) until ``--requests`` are answered. Prints
requests/s, p50 / p95 latency, and the pages per batch the service's worker read
(``/health``). Every answer is checked: status 200 and no error entry.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / ".venv" / "bin" / "pipeline"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(preset: str, window_ms: float, max_batch: int
                  ) -> tuple[subprocess.Popen, str, Path]:
    """``pipeline serve`` on a free port once it answers: the process, its URL, its log."""
    port = free_port()
    cmd = [str(PIPELINE), "serve", "--preset", preset, "--port", str(port),
           "--batch-window-ms", str(window_ms), "--max-batch", str(max_batch),
           "--log-level", "warning"]
    # The service's log goes to a file: a pipe nobody reads would block it once full.
    fd, log = tempfile.mkstemp(prefix="bench-serve-", suffix=".log")
    with os.fdopen(fd, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pipeline serve exited {proc.returncode}; its log: "
                               f"{Path(log).read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url, Path(log)
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("pipeline serve did not answer /health within 300 s")


def stop_service(proc: subprocess.Popen, log: Path) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.unlink(missing_ok=True)


def post(client: httpx.Client, url: str, image: Path) -> None:
    r = client.post(f"{url}/ocr", files=[("file", (image.name, image.read_bytes(),
                                                   "image/jpeg"))], timeout=300)
    if r.status_code != 200:
        raise RuntimeError(f"{image}: HTTP {r.status_code}: {r.text[:200]}")
    errors = [e["error"] for e in r.json()["images"] if e["error"]]
    if errors:
        raise RuntimeError(f"{image}: error entry: {errors[0]}")


def load(url: str, images: list[Path], clients: int, requests: int) -> dict[str, float]:
    """Send ``requests`` requests from ``clients`` threads; requests/s and latencies."""
    with httpx.Client() as c:  # warm-up: first calls pay for lazy set-up
        for image in images[:2]:
            post(c, url, image)
        before = c.get(f"{url}/health").json()["batching"]
    tickets = itertools.count()
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client_loop() -> None:
        with httpx.Client() as c:
            while (n := next(tickets)) < requests:
                t0 = time.perf_counter()
                try:
                    post(c, url, images[n % len(images)])
                except BaseException as exc:  # reported after the run
                    failures.append(exc)
                    return
                with lock:
                    latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {failures[0]}")
    after = httpx.get(f"{url}/health").json()["batching"]
    batches = after["batches"] - before["batches"]
    lat = np.array(latencies) * 1000
    return {"requests": len(latencies), "wall_s": wall, "rps": len(latencies) / wall,
            "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
            "pages_per_batch": (after["pages"] - before["pages"]) / max(batches, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="plates")
    ap.add_argument("--images", nargs="+", type=Path, default=None,
                    help="Images sent round robin (default: data/samples/<preset>/*.jpg/png).")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=96, help="Requests per setting.")
    ap.add_argument("--window-ms", type=float, default=20.0, help="Batch window when on.")
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=1, help="Runs of (on, off), alternating.")
    args = ap.parse_args()
    images = args.images or sorted(p for p in (ROOT / "data" / "samples" / args.preset).iterdir()
                                   if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not images:
        sys.exit(f"no images for preset {args.preset}; give --images")
    print(f"# pipeline serve, preset {args.preset}: {args.clients} clients, {args.requests} "
          f"requests of one image ({', '.join(p.name for p in images)}), max batch "
          f"{args.max_batch}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    print("| batching | window ms | requests/s | p50 ms | p95 ms | pages per batch | wall s |")
    print("|---|---|---|---|---|---|---|")
    for _ in range(args.repeats):
        for window in (args.window_ms, 0.0):
            proc, url, log = start_service(args.preset, window, args.max_batch)
            try:
                r = load(url, images, args.clients, args.requests)
            finally:
                stop_service(proc, log)
            print(f"| {'on' if window else 'off'} | {window:g} | {r['rps']:.2f} | "
                  f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['pages_per_batch']:.2f} | "
                  f"{r['wall_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
