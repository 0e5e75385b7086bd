"""Interleaved A/B of MLflow's `runs/log-batch` on two Tora checkouts, both servers up at once.

    python3 bench/mlflow/ab.py BEFORE_REPO AFTER_REPO [ROUNDS] [--tags] [--smoke]

Each checkout must be built (`npm run build -w apps/server`). Every round sends one batch of
1,000 metrics (with `--tags`: 998 metrics, a param and a system tag, so the params lock and the run
info sync run too) to each server in a random order, so load on a shared machine falls on both
alike. Prints the median round trip and Tora's own time (`Server-Timing`) per checkout; the first
10 rounds are warm-up. `--smoke` (scripts/bench-smoke.sh) runs 12 rounds: not a result. Stdlib only.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, repo: str) -> None:
        self.bin = Path(repo) / "apps" / "server" / "bin" / "tora.js"
        self.port = free_port()
        self.env = {
            **os.environ,
            "TORA_DATA_DIR": tempfile.mkdtemp(prefix="tora-ab-"),
            "TORA_PORT": str(self.port),
            "TORA_HOST": "127.0.0.1",
            "TORA_LOG_LEVEL": "warn",
        }

    def cli(self, *args: str) -> str:
        return subprocess.run(["node", str(self.bin), *args], env=self.env, check=True, capture_output=True, text=True).stdout

    def start(self) -> None:
        self.cli("user", "create", "--email", "ab@example.com", "--password", "correct horse battery")
        self.key = self.cli("key", "create", "--email", "ab@example.com", "--name", "ab").strip().splitlines()[-1]
        self.proc = subprocess.Popen(["node", str(self.bin), "serve"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        self.run_id = self.post("/api/2.0/mlflow/runs/create", {"experiment_id": "0"})[0]["run"]["info"]["run_id"]

    def post(self, path: str, body: object) -> tuple[dict, float, float]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(), method="POST")
        req.add_header("Authorization", f"Bearer {self.key}")
        req.add_header("Content-Type", "application/json")
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            timing = r.headers.get("server-timing", "")
        server_ms = float(timing.split("=", 1)[1]) if timing.startswith("app;dur=") else float("nan")
        return json.loads(raw), (time.perf_counter() - start) * 1000, server_ms


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    with_tags = "--tags" in sys.argv
    smoke = "--smoke" in sys.argv
    rounds = 12 if smoke else int(args[2]) if len(args) > 2 else 300
    servers = {"before": Server(args[0]), "after": Server(args[1])}
    for s in servers.values():
        s.start()
    seen: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in servers}
    order = list(servers)
    try:
        for i in range(rounds):
            random.shuffle(order)
            for name in order:
                s = servers[name]
                n = 998 if with_tags else 1000
                body: dict[str, object] = {
                    "run_id": s.run_id,
                    "metrics": [
                        {"key": f"m{j % 10}", "value": random.random(), "timestamp": 1_700_000_000_000 + i, "step": i * 100 + j // 10}
                        for j in range(n)
                    ],
                }
                if with_tags:
                    body["params"] = [{"key": f"p{i % 50}", "value": "1"}]
                    body["tags"] = [{"key": "mlflow.source.name", "value": f"s{i}"}]
                _, round_trip, server_ms = s.post("/api/2.0/mlflow/runs/log-batch", body)
                if i >= 10:
                    seen[name][0].append(round_trip)
                    seen[name][1].append(server_ms)
    finally:
        for s in servers.values():
            s.proc.terminate()
            s.proc.wait(10)
            shutil.rmtree(s.env["TORA_DATA_DIR"], ignore_errors=True)
    if smoke:
        print("(smoke run: 2 rounds after warm-up, not a result)")
    for name, (rts, srv) in seen.items():
        print(f"{name}: median round trip {statistics.median(rts):.2f} ms, Tora's server time {statistics.median(srv):.2f} ms (n={len(rts)})")


if __name__ == "__main__":
    main()
