"""Load test of ``lloyd explore``: concurrent clients on loopback stepping and compressing.

The server is ``lloyd explore --no-browser`` in a process of its own, as users run it
(``--in-process`` runs it in this process instead, where the load threads compete with it for
the interpreter lock). Each client (a thread with its own client id, speaking plain HTTP to the
real uvicorn server) runs ``--rounds`` rounds of: seed k-means++ on the 300-point sample, then assign + move
half-steps, then one K = 16 compress of a 768×512 photograph (skimage's astronaut, cropped).
Reports the p50/p95 of the *server* time of each request (its Server-Timing header, so the
load generator's own Python does not count) and of the compress jobs (their own timing),
errors, and the server's peak resident memory. Bounded: every request has a 120 s timeout and
the whole run a ``--deadline``.

    python benchmarks/bench_explore.py --clients 20 --rounds 5

Targets from issue 20: a step on the 300-point sample <= 50 ms of server time (p95), a K = 16
compress of a 768×512 photo <= 1 s warm (p95).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

from lloyd.explore.server import running

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from test_explore_server import Client

SAMPLE = {"kind": "sample", "n": 300, "seed": 0}


def photo_768x512() -> bytes:
    from PIL import Image
    from skimage import data

    image = data.astronaut()[:512, :512]  # 512×512; widen to 768 with chelsea's left part
    wide = np.concatenate([image, data.chelsea()[:, :256][:512].repeat(2, 0)[:512]], axis=1)
    out = io.BytesIO()
    Image.fromarray(wide[:512, :768]).save(out, format="PNG")
    return out.getvalue()


def server_ms(response) -> float:
    timing = response.getheader("server-timing")
    return float(timing.split("dur=")[1])


def client_run(c: Client, rounds: int, photo: bytes, out: dict, deadline: float) -> None:
    for r in range(rounds):
        if time.monotonic() > deadline:
            out["errors"].append("deadline")
            return
        status, response, body = c.request("POST", "/api/seed", {
            "data": SAMPLE, "k": 3, "method": "k-means++", "random_state": r})
        if status != 200:
            out["errors"].append(f"seed {status}")
            continue
        centroids = json.loads(body)["centroids"]
        for _ in range(5):
            t0 = time.perf_counter()
            status, response, body = c.request("POST", "/api/assign",
                                               {"data": SAMPLE, "centroids": centroids})
            assign_ms = server_ms(response)
            labels = json.loads(body)["labels"]
            status2, response2, body2 = c.request("POST", "/api/move", {
                "data": SAMPLE, "centroids": centroids, "labels": labels})
            if status != 200 or status2 != 200:
                out["errors"].append(f"step {status}/{status2}")
                break
            centroids = json.loads(body2)["centroids"]
            out["step_ms"].append(assign_ms + server_ms(response2))
            out["step_wall_ms"].append((time.perf_counter() - t0) * 1e3)
        status, info = c.json("POST", "/api/image", photo)
        if status != 200:
            out["errors"].append(f"image {status}")
            continue
        t0 = time.perf_counter()
        status, job = c.json("POST", "/api/jobs", {"kind": "compress", "image": info["id"],
                                                  "n_colors": 16, "color_space": "rgb",
                                                  "dither": 0.0})
        if status != 202:
            out["errors"].append(f"job {status}")
            continue
        state = c.wait_job(job["id"], timeout=max(1.0, deadline - time.monotonic()))
        if state["state"] != "done":
            out["errors"].append(f"compress {state['state']}: {state['error']}")
            continue
        out["compress_s"].append(state["seconds"])
        out["compress_wall_s"].append(time.perf_counter() - t0)  # queue + work + polling


@contextlib.contextmanager
def server_process():
    """``lloyd explore --no-browser`` in a process of its own, as users run it: the load
    threads of this process then do not compete with the server for its interpreter lock.
    Yields (url, pid)."""
    proc = subprocess.Popen([sys.executable, "-m", "lloyd.cli", "explore", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        for line in proc.stdout:
            if line.strip().startswith("http://"):
                url = line.strip()
                break
        if url is None:
            raise SystemExit(f"lloyd explore did not start (exit {proc.wait()})")
        yield url, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def peak_rss_mb(pid):
    """The peak resident memory of process ``pid`` (Linux), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="compress/elbow worker threads")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the run")
    parser.add_argument("--in-process", action="store_true",
                        help="run the server in this process, beside the load threads (they "
                        "then compete with it for the interpreter lock; --workers applies)")
    args = parser.parse_args(argv)
    photo = photo_768x512()
    print(f"uptime: {os.popen('uptime').read().strip()}")
    workers = args.workers if args.in_process else "the server's default"
    print(f"cpus: {os.cpu_count()}, clients: {args.clients}, rounds: {args.rounds}, "
          f"workers: {workers}, server: {'this process' if args.in_process else 'its own'}")
    server_pid = None
    with (running(workers=args.workers) if args.in_process
          else server_process()) as (url, handle):
        if not args.in_process:
            server_pid = handle
        warm = Client(url, client="warm-up-client")  # compile the kernels before timing
        for _ in range(2):
            client_run(warm, 1, photo, {"errors": [], "step_ms": [], "step_wall_ms": [],
                                        "compress_s": [], "compress_wall_s": []}, time.monotonic() + 600)
        out = {"errors": [], "step_ms": [], "step_wall_ms": [], "compress_s": [],
               "compress_wall_s": []}
        deadline = time.monotonic() + args.deadline
        threads = [threading.Thread(target=client_run, args=(
            Client(url, client=f"load-client-{i:02d}"), args.rounds, photo, out, deadline))
            for i in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        if server_pid is not None:
            server_rss_mb = peak_rss_mb(server_pid)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall {wall:.1f} s, errors: {len(out['errors'])} {out['errors'][:5]}")
    print(f"step (assign + move), server time: n={len(out['step_ms'])} "
          f"p50 {pct(out['step_ms'], 50):.2f} ms, p95 {pct(out['step_ms'], 95):.2f} ms "
          f"(client-side wall p95 {pct(out['step_wall_ms'], 95):.1f} ms)")
    print(f"compress K=16 768x512, server time: n={len(out['compress_s'])} "
          f"p50 {pct(out['compress_s'], 50):.3f} s, p95 {pct(out['compress_s'], 95):.3f} s, "
          f"mean {statistics.fmean(out['compress_s']) if out['compress_s'] else float('nan'):.3f} s "
          f"(client-side, queue included: p95 {pct(out['compress_wall_s'], 95):.2f} s)")
    if server_pid is None:
        print(f"peak RSS of this process (server + load threads): {rss_mb:.0f} MB")
    else:
        print(f"peak RSS: server {server_rss_mb:.0f} MB, load threads {rss_mb:.0f} MB")
    return 1 if out["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
