"""What ``t.log_image`` of a 256x256x3 array costs the training loop (target: at most 50 us), with
``t.log`` of a scalar measured in the same run as the baseline.

Run (from the repo root, after `npm run build -w apps/server`; any Python with numpy and the
client, e.g. the client's test venv):

    clients/python/.venv/bin/python bench/media/run.py [--images 300] [--step-ms 50]

The call only checks the array and copies it (the loop may reuse its buffer); the PNG is encoded
and uploaded by the sender thread. Measured against a live server on 127.0.0.1:
  1. each of ``--images`` calls timed alone, back to back (the sender encoding and uploading the
     earlier ones all the while: the worst case for the loop's share of the GIL);
  2. the same with ``--step-ms`` of GIL-releasing "training" between images (a loop that logs an
     image per step), two kinds of it: *busy* (the CPU at work with the GIL released, as under
     numpy/torch compute or a GPU wait that spins: SHA-256 over a 4 MB buffer, which also evicts
     the caches as a step's data would) and *idle* (``time.sleep``: the CPU idles, and on a VM the
     vCPU is descheduled, so the call after it starts with cold caches and TLB);
  3. the baselines: ``t.log("loss", v, step)`` timed in chunks of 1,000 calls, and, paced like
     (2) and timed alone, ``t.log`` and a copy of the array into a preallocated one (the floor of
     any logger that snapshots the array: a memcpy of 196 kB);
  4. the sender's side: encoding one image to PNG, and the time until every image is stored.
Every image is checked to have arrived (the media index lists all of them).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python" / "tests"))
sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))  # this checkout's client, not an installed one

import tora  # noqa: E402
from tora._media import array_to_png  # noqa: E402
from toraserver import ToraServer, build_if_needed  # noqa: E402


_STEP_DATA = bytes(4 << 20)


def busy(seconds: float) -> None:
    """A training step's stand-in that keeps the CPU at work with the GIL released (hashlib does
    for large buffers) and walks 4 MB of memory, as a step's tensors would."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        hashlib.sha256(_STEP_DATA)


def timed_each(
    call: Callable[[int], None], n: int, pause: float = 0.0, work: Callable[[float], None] = time.sleep
) -> list[float]:
    """Microseconds of each call, timed alone, after ``pause`` seconds of ``work`` before each."""
    perf = time.perf_counter
    out = []
    for i in range(n):
        if pause:
            work(pause)
        start = perf()
        call(i)
        out.append((perf() - start) * 1e6)
    return out


def per_call_chunked(call: Callable[[int], None], total: int, chunk: int = 1000) -> float:
    """Median over chunks of the per-call cost in microseconds (one timer pair per chunk)."""
    perf = time.perf_counter
    samples = []
    for base in range(0, total, chunk):
        start = perf()
        for i in range(base, base + chunk):
            call(i)
        samples.append((perf() - start) / chunk * 1e6)
    return statistics.median(samples)


def p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


def bench(srv: ToraServer, key: str, images: int, step_s: float) -> dict[str, Any]:
    kw: dict[str, Any] = {"server_url": srv.url, "api_key": key, "system_metrics": False}
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, size=(256, 256, 3), dtype=np.uint8) for _ in range(8)]
    out: dict[str, Any] = {}

    t = tora.Tora.create_experiment("bench-media", **kw)
    t.log_image("warmup", frames[0], step=0)
    t.flush(timeout=60)
    out["back_to_back"] = timed_each(lambda i: t.log_image("b2b", frames[i % 8], step=i), images)
    start = time.perf_counter()
    assert t.flush(timeout=600)
    out["drain_s"] = time.perf_counter() - start
    target = np.empty_like(frames[0])
    for kind, work in (("busy", busy), ("idle", time.sleep)):
        out[f"image_{kind}"] = timed_each(
            lambda i: t.log_image(f"stepped-{kind}", frames[i % 8], step=i), images, step_s, work
        )
        assert t.flush(timeout=600)
        out[f"log_{kind}"] = timed_each(lambda i: t.log(f"paced-{kind}", 0.5, i), images, step_s, work)
        out[f"memcpy_{kind}"] = timed_each(lambda i: target.__setitem__(Ellipsis, frames[i % 8]), images, step_s, work)
    out["log_us"] = per_call_chunked(lambda i: t.log("loss", 0.5, i), 200_000)
    assert t.flush(timeout=600)
    eid = str(t.experiment_id)
    for name in ("b2b", "stepped-busy", "stepped-idle"):
        listed = srv.api(key, "GET", f"/api/experiments/{eid}/media?name={name}")["media"]
        arrived = [m["step"] for m in listed]
        assert arrived == list(range(images)), f"{name}: {len(arrived)} of {images} arrived"
    t.shutdown()

    encode = []
    for frame in frames:
        start = time.perf_counter()
        array_to_png(frame)
        encode.append((time.perf_counter() - start) * 1e3)
    out["encode_ms"] = statistics.median(encode)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--step-ms", type=float, default=50.0)
    ap.add_argument("--smoke", action="store_true", help="20 images; figures are not results")
    args = ap.parse_args()
    if args.smoke:
        print("bench/media/run.py --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results")
        args.images = 20
    build_if_needed()
    tmp = Path(tempfile.mkdtemp(prefix="tora-bench-media-"))
    os.environ["TORA_SPOOL_DIR"] = str(tmp / "spool")
    (tmp / "tora").mkdir()
    srv = ToraServer(tmp / "tora")
    key = srv.create_key()
    srv.start()
    try:
        r = bench(srv, key, args.images, args.step_ms / 1e3)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    base = r["log_us"]
    step = f"{args.step_ms:g} ms"
    rows = [("t.log_image, back to back", r["back_to_back"])]
    for kind, what in (("busy", "busy step (CPU at work, GIL released)"), ("idle", "idle step (sleep)")):
        rows += [
            (f"t.log_image, one per {step} {what}", r[f"image_{kind}"]),
            (f"t.log, one per {step} {kind} step", r[f"log_{kind}"]),
            (f"memcpy of the array (floor), one per {step} {kind} step", r[f"memcpy_{kind}"]),
        ]
    print(f"a 256x256x3 uint8 array, {args.images} calls per row, each timed alone:")
    print("| calls | median | p95 | max | median / t.log |")
    print("|---|---|---|---|---|")
    for label, xs in rows:
        med = statistics.median(xs)
        print(f"| {label} | {med:.1f} µs | {p(xs, 0.95):.1f} µs | {max(xs):.0f} µs | {med / base:.0f}x |")
    print(f"| baseline t.log(name, value, step), chunks of 1,000 | {base:.2f} µs | | | 1x |")
    print(
        f"sender thread: {r['encode_ms']:.2f} ms to encode one image to PNG; "
        f"{args.images} images stored {r['drain_s']:.2f} s after the last back-to-back call"
    )


if __name__ == "__main__":
    main()
