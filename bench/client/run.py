"""Client-side cost of Tora logging, and the same for MLflow's asynchronous logging.

Run (from the repo root, after `npm run build -w apps/server`):

    python3 -m venv bench/client/.venv
    bench/client/.venv/bin/pip install ./clients/python mlflow
    bench/client/.venv/bin/python bench/client/run.py            # writes bench/client/RESULTS.md

Measures, against live servers on 127.0.0.1:
  1. median cost of t.log(name, value, step) on the caller's thread while the sender delivers;
  2. median cost of t.log_metrics({10 names}, step);
  3. a training loop of 200,000 steps x 10 metrics: no logging / the floor of any buffering
     logger (a reference to each step's dict kept) / Tora buffering only (sender paused) / Tora delivering
     to the server, and the same with a 100 us GIL-releasing "step";
  4. median cost of mlflow.log_metric(..., synchronous=False) to an MLflow server, and the ratio.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python" / "tests"))

from toraserver import ToraServer, build_if_needed, free_port  # noqa: E402

import tora  # noqa: E402

NAMES = [f"metric_{i}" for i in range(10)]
CHUNK = 1000  # calls timed together: one perf_counter pair per call would dominate a 1 us call


def per_call_us(call: Callable[[int], None], total: int, chunk: int = CHUNK) -> tuple[float, float]:
    """Median and p95 over chunks of ``chunk`` calls of the per-call cost, in microseconds."""
    samples = []
    perf = time.perf_counter
    for base in range(0, total, chunk):
        start = perf()
        for i in range(base, base + chunk):
            call(i)
        samples.append((perf() - start) / chunk * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def wait_delivered(t: tora.Tora) -> None:
    if not t.flush(timeout=300):
        raise RuntimeError("Tora did not deliver within 300 s")


def bench_tora(srv: ToraServer, key: str, steps: int, step_seconds: float) -> dict[str, Any]:
    kw: dict[str, Any] = {"server_url": srv.url, "api_key": key}
    out: dict[str, Any] = {}

    # 1. t.log while the sender is busy: 1,000,000 calls, the sender delivers all along.
    t = tora.Tora.create_experiment("bench-log", **kw)
    out["log"] = per_call_us(lambda i: t.log("loss", 0.5, i), 1_000_000)
    busy = t.delivered
    wait_delivered(t)
    out["log_delivered_during"] = busy
    t.shutdown()

    # 2. t.log_metrics with 10 names.
    t = tora.Tora.create_experiment("bench-log-metrics", **kw)
    metrics = {n: 0.5 for n in NAMES}
    out["log_metrics"] = per_call_us(lambda i: t.log_metrics(metrics, i), 200_000)
    wait_delivered(t)
    t.shutdown()

    # 3. Training loops.
    def loop(log: Optional[Callable[[dict[str, float], int], None]], pause: float) -> float:
        sleep = time.sleep
        start = time.perf_counter()
        for step in range(steps):
            if pause:
                sleep(pause)  # stands in for GPU/numpy work, which releases the GIL
            m = {"loss": 1.0 / (step + 1), **{n: step * 0.001 for n in NAMES[1:]}}
            if log is not None:
                log(m, step)
        return time.perf_counter() - start

    for label, pause in (("no_compute", 0.0), ("step_100us", step_seconds)):
        if label == "no_compute" or pause > 0:
            bare = loop(None, pause)
            # Less than any buffering logger can do: keep a reference to the caller's dict (no
            # step, no checks, no copy, no timestamp, no sender). What it costs is a floor.
            kept: collections.deque[dict[str, float]] = collections.deque()
            keep = kept.append
            floor = loop(lambda m, step: keep(m), pause)
            kept.clear()
            paused = tora.Tora.create_experiment(
                f"bench-loop-paused-{label}", flush_interval=1e9, max_buffer_len=10**12, **kw
            )
            paused._batcher.poll_interval = 1e9  # sender asleep: only the caller's cost remains
            buffered = loop(paused.log_metrics, pause)
            paused._batcher.buf.clear()
            paused.shutdown()
            live = tora.Tora.create_experiment(f"bench-loop-{label}", **kw)
            delivering = loop(live.log_metrics, pause)
            drain_start = time.perf_counter()
            wait_delivered(live)
            drain = time.perf_counter() - drain_start
            s = srv.summaries(key, str(live.experiment_id))
            assert all(s[n]["count"] == steps for n in NAMES[1:]) and s["loss"]["count"] == steps
            live.shutdown()
            out[f"loop_{label}"] = {
                "bare": bare,
                "floor": floor,
                "buffered": buffered,
                "delivering": delivering,
                "drain": drain,
            }
    return out


def start_mlflow(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = open(tmp / "mlflow.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
    proc = subprocess.Popen(
        # python -m mlflow, not the console script: a venv built elsewhere and moved keeps stale shebangs.
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp}/mlflow.db",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--default-artifact-root",
            str(tmp / "artifacts"),
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
        # The server's own temporary files (its database init lock) go with the bench's folder.
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError("mlflow server did not start: " + (tmp / "mlflow.log").read_text()[-3000:])


def bench_mlflow(tmp: Path, calls: int) -> dict[str, Any]:
    import mlflow  # type: ignore[import-not-found]

    proc, url = start_mlflow(tmp)
    try:
        mlflow.set_tracking_uri(url)
        mlflow.set_experiment("bench")
        out: dict[str, Any] = {"version": mlflow.__version__}
        with mlflow.start_run():
            # MLflow's async queue drains slowly (about one HTTP request per call here), so fewer
            # calls, timed in chunks of 100.
            out["log_metric"] = per_call_us(
                lambda i: mlflow.log_metric("loss", 0.5, step=i, synchronous=False), calls, 100
            )
            metrics = {n: 0.5 for n in NAMES}
            out["log_metrics"] = per_call_us(
                lambda i: mlflow.log_metrics(metrics, step=i, synchronous=False), calls // 5, 100
            )
            start = time.perf_counter()
            mlflow.flush_async_logging()
            out["drain"] = time.perf_counter() - start
        return out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its workers: our own process group
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--step-us", type=float, default=100.0, help="simulated GIL-releasing step time; 0 skips")
    ap.add_argument("--mlflow-calls", type=int, default=3_000)
    ap.add_argument("--no-mlflow", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes; figures are not results; RESULTS.md untouched")
    args = ap.parse_args()
    if args.smoke:
        print("bench/client/run.py --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results")
        args.steps, args.mlflow_calls = 2_000, 200

    build_if_needed()
    tmp = Path(tempfile.mkdtemp(prefix="tora-bench-"))
    os.environ["TORA_SPOOL_DIR"] = str(tmp / "spool")
    srv = ToraServer(tmp / "tora")
    (tmp / "tora").mkdir()
    key = srv.create_key()
    srv.start()
    try:
        res = bench_tora(srv, key, args.steps, args.step_us / 1e6)
    finally:
        srv.stop()
    ml: Optional[dict[str, Any]] = None
    ml_error = ""
    try:
        if not args.no_mlflow:
            try:
                ml = bench_mlflow(tmp, args.mlflow_calls)
            except Exception as e:  # report, do not hide; a smoke run fails on it
                if args.smoke:
                    raise
                ml_error = f"{type(e).__name__}: {e}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "# Tora Python client benchmark",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}. "
        f"Servers on 127.0.0.1. Command: `bench/client/.venv/bin/python bench/client/run.py`",
        "",
        "| measurement | median | p95 | target |",
        "|---|---|---|---|",
        f"| `t.log(name, value, step)` (sender busy) | {res['log'][0]:.2f} µs | {res['log'][1]:.2f} µs | ≤ 2 µs |",
        f"| `t.log_metrics({{10 names}}, step)` | {res['log_metrics'][0]:.2f} µs | {res['log_metrics'][1]:.2f} µs "
        "| ≤ 10 µs |",
    ]
    if ml:
        r1 = ml["log_metric"][0] / res["log"][0]
        r10 = ml["log_metrics"][0] / res["log_metrics"][0]
        lines += [
            f"| MLflow {ml['version']} `log_metric(..., synchronous=False)` | {ml['log_metric'][0]:.2f} µs "
            f"| {ml['log_metric'][1]:.2f} µs | |",
            f"| MLflow `log_metrics({{10 names}}, synchronous=False)` | {ml['log_metrics'][0]:.2f} µs "
            f"| {ml['log_metrics'][1]:.2f} µs | |",
            "",
            f"Per-call ratio MLflow / Tora: **{r1:.0f}×** for one metric, **{r10:.0f}×** for 10 metrics "
            "(target ≥ 20×).",
        ]
    else:
        lines += ["", f"MLflow not measured: {ml_error or 'skipped (--no-mlflow)'}"]
    lines += [
        "",
        f"Training loop, {args.steps:,} steps × 10 metrics (seconds):",
        "",
        "| loop | no logging | floor: `deque.append(m)` | Tora, sender paused | Tora delivering "
        "| slowdown vs no logging | floor's slowdown | slowdown vs paused | drain after loop |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label in ("no_compute", "step_100us"):
        lp = res.get(f"loop_{label}")
        if lp:
            lines.append(
                f"| {label} | {lp['bare']:.2f} | {lp['floor']:.2f} | {lp['buffered']:.2f} | {lp['delivering']:.2f} "
                f"| {(lp['delivering'] / lp['bare'] - 1) * 100:+.0f}% "
                f"| {(lp['floor'] / lp['bare'] - 1) * 100:+.0f}% "
                f"| {(lp['delivering'] / lp['buffered'] - 1) * 100:+.0f}% | {lp['drain']:.2f} |"
            )
    lines += [
        "",
        "The floor column keeps only a reference to each step's dict: retaining fresh objects instead",
        "of recycling them is already that much slower than a loop that drops them.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.smoke:
        (Path(__file__).parent / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
