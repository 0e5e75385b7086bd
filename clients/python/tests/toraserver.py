"""Runs a real Tora server (the built apps/server) for integration tests and the benchmark."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[3]
SERVER = REPO / "apps" / "server"
BIN = SERVER / "bin" / "tora.js"


def build_if_needed() -> None:
    """Builds the server (and the client wheel it serves) when a source is newer than the build."""
    main = SERVER / "dist" / "main.js"
    sources = [*(SERVER / "src").rglob("*.ts"), *(REPO / "clients" / "python" / "src").rglob("*.py")]
    wheels = list((SERVER / "dist" / "client").glob("*.whl"))
    if main.exists() and wheels:
        oldest = min(b.stat().st_mtime for b in [main, *wheels])
        if all(p.stat().st_mtime <= oldest for p in sources):
            return
    subprocess.run(["npm", "run", "build", "-w", "apps/server"], cwd=REPO, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ToraServer:
    """One server process on a free loopback port with its own SQLite data dir."""

    def __init__(self, data_dir: Path, port: Optional[int] = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.env = {
            **os.environ,
            "TORA_DATA_DIR": str(data_dir),
            "TORA_PORT": str(self.port),
            "TORA_HOST": "127.0.0.1",
            "TORA_LOG_LEVEL": "warn",
        }

    def cli(self, *args: str) -> str:
        out = subprocess.run(["node", str(BIN), *args], env=self.env, capture_output=True, text=True)
        if out.returncode != 0:  # the command's own words in the failure, not just its exit status
            raise subprocess.CalledProcessError(out.returncode, ["tora", *args], out.stdout, out.stderr)
        return out.stdout.strip()

    def create_key(self, email: str = "a@b.c", name: str = "test") -> str:
        try:
            self.cli("user", "create", "--email", email, "--password", "correct horse battery")
        except subprocess.CalledProcessError as e:
            if "already exists" not in e.stderr:
                raise RuntimeError(f"tora user create failed: {e.stderr.strip()}") from e
        try:
            return self.cli("key", "create", "--email", email, "--name", name).splitlines()[-1].strip()
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"tora key create failed: {e.stderr.strip()}") from e

    def start(self, wait: bool = True) -> None:
        with open(self.data_dir / "server.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(["node", str(BIN), "serve"], env=self.env, stdout=log, stderr=log)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def api(self, key: str, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("x-api-key", key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def points(self, key: str, experiment_id: str, name: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.api(
                key,
                "GET",
                f"/api/experiments/{experiment_id}/metrics/raw?name={name}&limit=20000&cursor={cursor}",
            )
            out.extend(page["points"])
            if not page.get("nextCursor"):
                return out
            cursor = page["nextCursor"]

    def summaries(self, key: str, experiment_id: str) -> dict[str, dict[str, Any]]:
        return {
            m["name"]: m for m in self.api(key, "GET", f"/api/experiments/{experiment_id}/metrics")["metrics"]
        }
