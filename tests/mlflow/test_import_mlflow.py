"""`tora import-mlflow` against a real MLflow tracking server (PyPI `mlflow`, SQLite backend)
started here, compared point for point through Tora's API; a second import adds nothing."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import User
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from toraserver import free_port


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--default-artifact-root", str(root / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        stdout=log,
        stderr=log,
        start_new_session=True,
        # No background job runner (huey consumers): it is not needed and outlives a terminated server.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start: {(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its uvicorn worker
        proc.wait(30)
        log.close()


def populate(url: str) -> dict[str, Any]:
    """Two experiments in MLflow: runs with params, tags, statuses, and histories with NaN/Inf."""
    client = MlflowClient(tracking_uri=url)
    suffix = str(time.time_ns())
    names = [f"imported-a-{suffix}", f"imported-b-{suffix}"]
    runs: dict[str, Any] = {}
    t0 = 1_700_000_000_000
    for n, name in enumerate(names):
        exp_id = client.create_experiment(name, tags={"project": "migration"})
        for r, status in enumerate(["FINISHED", "FAILED"]):
            run = client.create_run(exp_id, run_name=f"run-{n}-{r}", start_time=t0 + r, tags={"team": "vision"})
            rid = run.info.run_id
            total = 1_200 if r == 0 else 40
            for start in range(0, total, 1000):
                client.log_batch(
                    rid,
                    metrics=[
                        Metric("loss", math.nan if i == 5 else math.inf if i == 6 else 1.0 / (i + 1), t0 + i, i)
                        for i in range(start, min(total, start + 1000))
                    ],
                )
            client.log_batch(rid, metrics=[Metric("val/acc", 0.5 + r / 10, t0 + 7, 3)], params=[Param("lr", "0.01")])
            client.log_batch(rid, tags=[RunTag("mlflow.note.content", "imported run")])
            client.set_terminated(rid, status, end_time=t0 + 10_000)
            runs[rid] = client.get_run(rid)
    return {"names": names, "runs": runs, "client": client}


def run_import(user: User, url: str, names: list[str], *extra: str) -> str:
    args = ["import-mlflow", "--from", url, "--email", user.email, *extra]
    for name in names:
        args += ["--experiment", name]
    out = subprocess.run(
        ["node", str(Path(__file__).resolve().parents[2] / "apps/server/bin/tora.js"), *args],
        env=user.server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "experiment" in out.stderr and "points" in out.stderr  # progress lines
    return out.stdout


def same_value(a: float, b: Any) -> bool:
    if math.isnan(a):
        return b == "NaN"
    if math.isinf(a):
        return b == ("Infinity" if a > 0 else "-Infinity")
    return bool(a == b)


def test_import_copies_everything_point_for_point_and_a_rerun_adds_nothing(
    mlflow_server: str, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = populate(mlflow_server)
    summary = run_import(user, mlflow_server, source["names"])
    assert "imported 2 experiments, 4 runs" in summary

    workspaces = {w["name"]: w["id"] for w in user.api("GET", "/api/workspaces")["workspaces"]}
    by_name: dict[str, dict[str, Any]] = {}
    for name in source["names"]:
        listing = user.api("GET", f"/api/experiments?workspace={workspaces[name]}&limit=100")
        by_name.update({e["name"]: e for e in listing["experiments"]})
    assert len(by_name) == 4

    client: MlflowClient = source["client"]
    for rid, run in source["runs"].items():
        tora = by_name[run.info.run_name]
        assert tora["status"] == {"FINISHED": "finished", "FAILED": "failed"}[run.info.status]
        assert {h["key"]: h["value"] for h in tora["hyperparams"]} == run.data.params
        assert tora["createdAt"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(run.info.start_time / 1000)) + (
            f".{run.info.start_time % 1000:03d}Z"
        )
        for key in ("loss", "val/acc"):
            want = client.get_metric_history(rid, key)
            got = user.points(tora["id"], key)
            assert len(got) == len(want) > 0
            for w, g in zip(sorted(want, key=lambda m: m.step), sorted(got, key=lambda p: p["step"])):
                assert g["step"] == w.step
                assert same_value(w.value, g["value"]), (key, w.step, w.value, g["value"])
                assert g["time"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(w.timestamp / 1000)))
        # Tags (and MLflow's system tags, shown as run info) came along, readable through the MLflow API.
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", user.key)
        copied = MlflowClient(tracking_uri=user.server.url).get_run(tora["id"])
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
        assert copied.data.tags["team"] == "vision"
        assert copied.data.tags["mlflow.note.content"] == "imported run"
        assert copied.info.end_time == run.info.end_time

    counts_before = {n: user.api("GET", f"/api/experiments/{e['id']}/metrics")["metrics"] for n, e in by_name.items()}
    again = run_import(user, mlflow_server, source["names"])
    assert "4 runs (4 found from an earlier import)" in again
    after: dict[str, dict[str, Any]] = {}
    for name in source["names"]:
        listing = user.api("GET", f"/api/experiments?workspace={workspaces[name]}&limit=100")
        after.update({e["name"]: e for e in listing["experiments"]})
    assert sorted(after) == sorted(by_name)
    for n, e in after.items():
        counts = user.api("GET", f"/api/experiments/{e['id']}/metrics")["metrics"]
        assert [(m["name"], m["count"]) for m in counts] == [(m["name"], m["count"]) for m in counts_before[n]]


def test_import_with_artifacts_copies_every_file_and_images_become_media(
    mlflow_server: str, user: User, tmp_path: Path
) -> None:
    import hashlib

    import numpy as np

    client = MlflowClient(tracking_uri=mlflow_server)
    name = f"with-artifacts-{time.time_ns()}"
    exp_id = client.create_experiment(name)
    rid = client.create_run(exp_id, run_name="art").info.run_id
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(bytes(range(256)) * 64)
    client.log_artifacts(rid, str(tmp_path / "model"), "model")
    client.log_text(rid, "hello", "notes/a.txt")
    for step in (0, 7):
        client.log_image(rid, np.full((6, 9, 3), 200, dtype=np.uint8), key="samples", step=step)
    client.set_terminated(rid)

    summary = run_import(user, mlflow_server, [name], "--artifacts")
    assert "6 artifact files" in summary  # weights, note, 2 images and their 2 compressed copies
    workspace = next(w["id"] for w in user.api("GET", "/api/workspaces")["workspaces"] if w["name"] == name)
    [run] = user.api("GET", f"/api/experiments?workspace={workspace}")["experiments"]
    files = {f["path"]: f for f in user.api("GET", f"/api/experiments/{run['id']}/files")["files"]}
    assert files["model/weights.bin"]["sha256"] == hashlib.sha256(bytes(range(256)) * 64).hexdigest()
    assert files["notes/a.txt"]["size"] == 5
    media = user.api("GET", f"/api/experiments/{run['id']}/media?name=samples")["media"]
    assert [(m["step"], m["width"], m["height"]) for m in media] == [(0, 9, 6), (7, 9, 6)]

    again = run_import(user, mlflow_server, [name], "--artifacts")
    assert "0 artifact files" in again


def test_import_reports_an_unreachable_server(user: User) -> None:
    out = subprocess.run(
        [
            "node",
            str(Path(__file__).resolve().parents[2] / "apps/server/bin/tora.js"),
            "import-mlflow",
            "--from",
            f"http://127.0.0.1:{free_port()}",
            "--email",
            user.email,
        ],
        env=user.server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.startswith("tora: ")
