"""Several replicas, one database, one file store: what a team deployment must keep true while a
replica is killed and restarted under load (issue 22)."""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import mlflow
from conftest import Deployment
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from tora import Tora

TORA_POINTS = 6_000
MLFLOW_BATCHES = 60
MLFLOW_PER_BATCH = 50
FILE_EVERY = 8  # an upload every 8th batch: 8 files of 128 KiB to 7.3 MiB


def test_three_replicas_started_at_once_on_an_empty_database_all_serve(deployment: Deployment) -> None:
    for srv in deployment.replicas:
        with urllib.request.urlopen(srv.url + "/api/health", timeout=5) as r:
            health = json.loads(r.read())
        assert health["status"] == "ok"
        assert health["database"] == "postgres"
        assert health["fileStore"] == "s3"


def test_a_replica_killed_mid_logging_loses_nothing_and_files_are_on_every_replica(
    deployment: Deployment, tmp_path: Path, monkeypatch
) -> None:
    user = deployment.user(f"{uuid.uuid4().hex[:10]}@example.com")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", user.key)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "8")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    client = MlflowClient(tracking_uri=deployment.url)
    mlflow.set_tracking_uri(deployment.url)

    t = Tora.create_experiment(
        "team-tora", server_url=deployment.url, api_key=user.key, flush_interval=0.05, max_buffer_len=200
    )
    run = client.create_run(experiment_id=user.default_workspace, run_name="team-mlflow")
    run_id = run.info.run_id
    uploads: dict[str, str] = {}
    errors: list[BaseException] = []

    def tora_loop() -> None:
        try:
            for i in range(TORA_POINTS):
                t.log("loss", i * 0.5, step=i)
                if i % 200 == 0:
                    time.sleep(0.05)
        except BaseException as err:  # noqa: BLE001 — reported below
            errors.append(err)

    def mlflow_loop() -> None:
        try:
            for b in range(MLFLOW_BATCHES):
                now = int(time.time() * 1000)
                metrics = [
                    Metric("acc", s * 0.25, now, s) for s in range(b * MLFLOW_PER_BATCH, (b + 1) * MLFLOW_PER_BATCH)
                ]
                client.log_batch(run_id, metrics=metrics)
                if b % FILE_EVERY == 0:
                    path = tmp_path / f"ckpt-{b}.bin"
                    path.write_bytes(hashlib.sha256(str(b).encode()).digest() * (4096 * (b + 1)))
                    client.log_artifact(run_id, str(path), artifact_path="checkpoints")
                    uploads[f"checkpoints/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
                time.sleep(0.03)
        except BaseException as err:  # noqa: BLE001 — reported below
            errors.append(err)

    threads = [threading.Thread(target=tora_loop), threading.Thread(target=mlflow_loop)]
    for th in threads:
        th.start()
    time.sleep(1.0)
    deployment.kill(1)  # SIGKILL mid-load
    time.sleep(1.5)
    deployment.restart(1)
    for th in threads:
        th.join(180)
    t.shutdown(timeout=120)
    assert errors == []

    # Every acknowledged Tora point exactly once.
    eid = str(t.experiment_id)
    pts = user.points(eid, "loss")
    assert len(pts) == TORA_POINTS
    assert sorted(p["step"] for p in pts) == list(range(TORA_POINTS))
    assert all(p["value"] == p["step"] * 0.5 for p in pts)
    # Every MLflow point exactly once (a batch nginx could not deliver was retried by the client, and
    # nginx passes a POST on only when no replica received it).
    history = client.get_metric_history(run_id, "acc")
    assert sorted(m.step for m in history) == list(range(MLFLOW_BATCHES * MLFLOW_PER_BATCH))
    assert all(m.value == m.step * 0.25 for m in history)
    # Every uploaded file, byte for byte, from every replica.
    assert len(uploads) == len(range(0, MLFLOW_BATCHES, FILE_EVERY))
    for srv in deployment.replicas:
        for path, digest in uploads.items():
            body = user.raw(f"/api/experiments/{run_id}/files/{path}", base=srv.url)
            assert hashlib.sha256(body).hexdigest() == digest, f"{path} on {srv.url}"


def test_a_session_made_on_one_replica_works_on_the_others(deployment: Deployment) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    first = deployment.replicas[0].url
    body = json.dumps({"email": email, "password": "correct horse battery staple"}).encode()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    req = urllib.request.Request(
        first + "/api/auth/signup",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Origin": first},
    )
    with opener.open(req, timeout=10) as r:
        assert r.status == 201
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    assert cookie
    for srv in deployment.replicas[1:]:
        req = urllib.request.Request(srv.url + "/api/auth/me", headers={"Cookie": cookie})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.loads(r.read())["user"]["email"] == email


def test_a_chart_on_one_replica_shows_points_ingested_through_another(deployment: Deployment) -> None:
    user = deployment.user(f"{uuid.uuid4().hex[:10]}@example.com")
    ingest, chart = deployment.replicas[0].url, deployment.replicas[2].url
    t = Tora.create_experiment("live", server_url=ingest, api_key=user.key, flush_interval=0.05)
    eid = str(t.experiment_id)
    try:
        for i in range(100):
            t.log("loss", float(i), step=i)
        assert t.flush(timeout=30)
        # The live chart's read: the series by step, then only what came after the last step held.
        first = user.api("GET", f"/api/experiments/{eid}/metrics/series?name=loss&budget=800", base=chart)
        assert first["buckets"]["lastStep"][-1] == 99
        for i in range(100, 150):
            t.log("loss", float(i), step=i)
        assert t.flush(timeout=30)
        later = user.api("GET", f"/api/experiments/{eid}/metrics/series?name=loss&budget=800&from=100", base=chart)
        buckets = later["buckets"]
        assert buckets["firstStep"][0] == 100 and buckets["lastStep"][-1] == 149
        assert sum(buckets["count"]) == 50
    finally:
        t.shutdown(timeout=30)
