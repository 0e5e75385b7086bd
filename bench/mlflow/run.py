"""The same MLflow client script against Tora and against an MLflow tracking server (SQLite
backend) on this machine, in one run: `log_batch` of 1,000 metrics, and sync `log_metric`.

    bash scripts/test-mlflow.sh --help >/dev/null   # once: installs the pinned mlflow venv
    ~/.cache/tora/venv-mlflow-<hash>/bin/python bench/mlflow/run.py [--seconds 20]

Prints points/s for log_batch and the median sync log_metric round trip for each, and the ratios.
Tora also reports its own time per request (`Server-Timing`); since the client script is the same,
round trip minus Tora's server time is the client's share, which gives MLflow's server share too.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests.adapters

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "clients" / "python" / "tests"))

from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from toraserver import ToraServer, build_if_needed, free_port  # noqa: E402


SERVER_MS: list[float] = []
_send = requests.adapters.HTTPAdapter.send


def _timed_send(self: requests.adapters.HTTPAdapter, request: object, **kwargs: object) -> object:
    """Records Tora's Server-Timing (absent from MLflow's answers) for every request the client makes."""
    response = _send(self, request, **kwargs)  # type: ignore[arg-type]
    timing = response.headers.get("server-timing", "")
    if timing.startswith("app;dur="):
        SERVER_MS.append(float(timing.split("=", 1)[1]))
    return response


requests.adapters.HTTPAdapter.send = _timed_send  # type: ignore[method-assign]


def start_mlflow(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "mlflow.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--default-artifact-root", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=log, stderr=log, start_new_session=True,
        # No background job runner (huey consumers): it is not needed and outlives a terminated server.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("mlflow server did not start")


def workload(url: str, seconds: float, max_batches: int, max_calls: int) -> tuple[float, float, int, float, float, float]:
    """(log_batch points/s, median sync log_metric ms, points sent, median log_batch ms, median server ms of
    log_batch, median server ms of log_metric) for one tracking server; the server times only where it
    reports them (Tora)."""
    client = MlflowClient(tracking_uri=url)
    exp = client.create_experiment(f"bench-{time.time_ns()}")
    run_id = client.create_run(exp).info.run_id
    t0 = int(time.time() * 1000)
    sent = 0
    batch = 0
    batch_ms = []
    SERVER_MS.clear()
    start = time.perf_counter()
    while batch < max_batches and time.perf_counter() - start < seconds:
        # 10 metrics × 100 steps: the shape of a training loop's buffered logging.
        metrics = [Metric(f"m{k}", float(s) * 0.001 + k, t0 + s, batch * 100 + s) for k in range(10) for s in range(100)]
        t = time.perf_counter()
        client.log_batch(run_id, metrics=metrics)
        batch_ms.append((time.perf_counter() - t) * 1000)
        sent += len(metrics)
        batch += 1
    batch_rate = sent / (time.perf_counter() - start)
    server_ms = statistics.median(SERVER_MS) if SERVER_MS else math.nan
    times = []
    SERVER_MS.clear()
    start = time.perf_counter()
    for i in range(max_calls):
        if time.perf_counter() - start > seconds:
            break
        t = time.perf_counter()
        client.log_metric(run_id, "sync", float(i), step=i)
        times.append((time.perf_counter() - t) * 1000)
    metric_server_ms = statistics.median(SERVER_MS) if SERVER_MS else math.nan
    client.set_terminated(run_id)
    return batch_rate, statistics.median(times), sent, statistics.median(batch_ms), server_ms, metric_server_ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0, help="time limit per measurement")
    ap.add_argument("--smoke", action="store_true", help="1 s per measurement; figures are not results")
    args = ap.parse_args()
    if args.smoke:
        print("bench/mlflow/run.py --smoke: tiny sizes to prove the benchmark runs end to end; figures below are NOT results")
        args.seconds = 1.0
    build_if_needed()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "tora").mkdir()
        tora = ToraServer(root / "tora")
        tora.env["TORA_LOG_LEVEL"] = "warn"
        tora.start()
        try:
            os.environ["MLFLOW_TRACKING_TOKEN"] = tora.create_key()
            workload(tora.url, 2, 5, 20)  # warm-up: connections, first-request costs
            t_rate, t_ms, t_pts, t_batch_ms, t_server_ms, t_metric_server_ms = workload(tora.url, args.seconds, 300, 1000)
        finally:
            tora.stop()
        # One server at a time, so neither measurement shares the CPUs with the other idle server.
        mlflow_proc, mlflow_url = start_mlflow(root)
        try:
            workload(mlflow_url, 2, 2, 5)
            m_rate, m_ms, m_pts, m_batch_ms, _, _ = workload(mlflow_url, args.seconds, 300, 1000)
        finally:
            os.killpg(mlflow_proc.pid, signal.SIGTERM)  # the server and its uvicorn worker
            mlflow_proc.wait(30)
    print(f"log_batch (1,000 metrics/request): Tora {t_rate:,.0f} points/s ({t_pts:,} points), "
          f"MLflow {m_rate:,.0f} points/s ({m_pts:,} points) -> {t_rate / m_rate:.1f}x (target >= 20x)")
    print(f"sync log_metric round trip (median): Tora {t_ms:.2f} ms, MLflow {m_ms:.2f} ms "
          f"-> Tora at {t_ms / m_ms:.3f} of MLflow's (target <= 0.1)")
    client_ms = t_batch_ms - t_server_ms
    print(f"log_batch median round trip: Tora {t_batch_ms:.1f} ms (server {t_server_ms:.1f} ms), MLflow {m_batch_ms:.1f} ms; "
          f"the client's own share ~{client_ms:.1f} ms")
    print(f"server side only, 1,000 points per request: Tora {1000 / t_server_ms * 1000:,.0f} points/s, "
          f"MLflow ~{1000 / (m_batch_ms - client_ms) * 1000:,.0f} points/s -> {(m_batch_ms - client_ms) / t_server_ms:.1f}x")
    # The same client script costs the same against either server: its own share bounds any server's ratio.
    print(f"  best ratio any server could give this client on log_batch: {m_batch_ms / client_ms:.1f}x "
          f"(MLflow's round trip / the client's own share)")
    metric_client_ms = t_ms - t_metric_server_ms
    print(f"sync log_metric: Tora server {t_metric_server_ms:.2f} ms of the {t_ms:.2f} ms round trip, "
          f"the client's own share ~{metric_client_ms:.2f} ms; server side only: Tora at "
          f"{t_metric_server_ms / (m_ms - metric_client_ms):.3f} of MLflow's ~{m_ms - metric_client_ms:.2f} ms")
    print(f"  best fraction any server could give this client on log_metric: {metric_client_ms / m_ms:.3f} "
          f"(the client's own share / MLflow's round trip)")


if __name__ == "__main__":
    main()
