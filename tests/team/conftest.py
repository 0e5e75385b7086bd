"""A team deployment on one machine: nginx (Debian's package) in front of three `tora serve`
processes sharing one PostgreSQL and one S3-compatible bucket, started the way docs/deployment.md's
"Team deployment" says. scripts/test-team.sh provides nginx, the cluster and the S3-compatible server
(SeaweedFS); this file starts the replicas and nginx and can kill and restart a replica mid-test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "clients" / "python" / "tests"))
sys.path.insert(0, str(REPO / "clients" / "python" / "src"))

from toraserver import ToraServer, build_if_needed, free_port

REPLICAS = 3

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
{upstream}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx is not installed (scripts/test-team.sh installs Debian's package)")
    return found


def site_config(listen: int, ports: list[int]) -> str:
    """The nginx site of docs/deployment.md ("Team deployment"), pointed at these replicas."""
    template = (REPO / "docs" / "nginx-team.conf").read_text()
    servers = "\n".join(f"  server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports)
    return template.replace("#REPLICAS#", servers.strip()).replace("listen 80;", f"listen 127.0.0.1:{listen};")


class Deployment:
    """Three replicas behind nginx. `url` is nginx; `replicas[i].url` reaches one replica directly."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database_url = os.environ["TORA_TEAM_DATABASE_URL"]
        self.replicas: list[ToraServer] = []
        self.nginx: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def replica_env(self) -> dict[str, str]:
        env = {
            "TORA_DATABASE_URL": self.database_url,
            "TORA_ALLOW_SIGNUP": "true",
            "TORA_TRUST_PROXY": "127.0.0.1",
            "TORA_DB_POOL_SIZE": "10",
        }
        # The one bucket every replica shares (scripts/test-team.sh starts the S3-compatible server).
        for name in (
            "TORA_ARTIFACT_STORE",
            "TORA_S3_ENDPOINT",
            "TORA_S3_REGION",
            "TORA_S3_FORCE_PATH_STYLE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            if os.environ.get(name):
                env[name] = os.environ[name]
        return env

    def start(self) -> None:
        if not os.environ.get("TORA_ARTIFACT_STORE", "").startswith("s3://"):
            raise RuntimeError("TORA_ARTIFACT_STORE=s3://… is not set: run this through scripts/test-team.sh")
        for i in range(REPLICAS):
            own = self.root / f"replica-{i}"
            own.mkdir()
            srv = ToraServer(own)  # its own data directory: nothing on disk is shared
            srv.env.update(self.replica_env())
            srv.log_path = own / "server.log"  # type: ignore[attr-defined]
            self.replicas.append(srv)
        # All three at once on an empty database: one migrates, the others wait, none fails.
        for srv in self.replicas:
            srv.start(wait=False)
        for srv in self.replicas:
            srv.wait_ready(timeout=60)
        prefix = self.root / "nginx"
        prefix.mkdir()
        site = site_config(self.port, [s.port for s in self.replicas])
        (prefix / "nginx.conf").write_text(NGINX_CONF.format(prefix=prefix, upstream=site))
        self.nginx = subprocess.Popen(
            [nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.nginx.stderr.read().decode() if self.nginx.stderr else ''}")
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not answer in 15 s")
            time.sleep(0.1)

    def kill(self, i: int) -> None:
        self.replicas[i].stop(signal.SIGKILL)

    def restart(self, i: int) -> None:
        self.replicas[i].start(wait=True)

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        for srv in self.replicas:
            srv.stop()

    def user(self, email: str) -> TeamUser:
        return TeamUser(self, email)


class TeamUser:
    """A user made through one replica (the CLI on the shared database), with an API key."""

    def __init__(self, deployment: Deployment, email: str) -> None:
        self.deployment = deployment
        self.email = email
        self.key = deployment.replicas[0].create_key(email=email)
        self.default_workspace = self.api("GET", "/api/auth/me")["user"]["defaultWorkspaceId"]

    def api(self, method: str, path: str, body: Any = None, base: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request((base or self.deployment.url) + path, data=data, method=method)
        req.add_header("x-api-key", self.key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def raw(self, path: str, base: str) -> bytes:
        req = urllib.request.Request(base + path)
        req.add_header("x-api-key", self.key)
        with urllib.request.urlopen(req, timeout=30) as r:
            return bytes(r.read())

    def points(self, experiment_id: str, name: str, base: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.api(
                "GET",
                f"/api/experiments/{experiment_id}/metrics/raw?name={name}&limit=20000&cursor={cursor}",
                base=base,
            )
            out.extend(page["points"])
            if not page.get("nextCursor"):
                return out
            cursor = page["nextCursor"]


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    build_if_needed()
    d = Deployment(tmp_path_factory.mktemp("team"))
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture(autouse=True)
def _isolated_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TORA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("TORA_QUIET", "1")
    for name in ("TORA_BASE_URL", "TORA_API_KEY", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
