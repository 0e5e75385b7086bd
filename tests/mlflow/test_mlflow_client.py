"""The real `mlflow` client (PyPI) against a real Tora server: what it logs is read back through
Tora's own API and compared."""

from __future__ import annotations

import base64
import math
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from typing import Any

import mlflow
import pytest
from conftest import User
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def tora_values(user: User, run_id: str, name: str) -> list[Any]:
    return [p["value"] for p in user.points(run_id, name)]


def test_fluent_api_end_to_end(mlflow_env: User) -> None:
    user = mlflow_env
    exp = mlflow.set_experiment("fluent-e2e")  # get-by-name 404 → create
    assert exp.experiment_id != "0"
    with mlflow.start_run(run_name="baseline") as run:
        run_id = run.info.run_id
        mlflow.log_param("lr", 0.001)
        mlflow.log_params({"optimizer": "adam", "epochs": 3})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        for step in range(5, 10):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step, synchronous=False)
        mlflow.log_metrics({"val/acc": 0.9, "val/loss": 0.3}, step=9)
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"dataset": "cifar10", "seed": "7"})
        with mlflow.start_run(run_name="child", nested=True) as child:
            child_id = child.info.run_id
            mlflow.log_metric("child_metric", 42.0)
    assert mlflow.active_run() is None

    # The same data through Tora's API: a run is an experiment in the workspace named like the MLflow experiment.
    tora = user.experiment(run_id)
    assert tora["name"] == "baseline"
    assert tora["status"] == "finished"
    assert tora["workspaceId"] == exp.experiment_id
    assert {h["key"]: h["value"] for h in tora["hyperparams"]} == {"lr": "0.001", "optimizer": "adam", "epochs": "3"}
    # Async logging sends from a background thread: compare in step order.
    points = sorted(user.points(run_id, "loss"), key=lambda p: p["step"])
    assert [p["step"] for p in points] == list(range(10))
    assert [p["value"] for p in points] == pytest.approx([1.0 / (s + 1) for s in range(10)])
    assert tora_values(user, run_id, "val/acc") == [0.9]
    workspace = user.api("GET", f"/api/workspaces/{exp.experiment_id}")
    assert workspace["name"] == "fluent-e2e"

    got = mlflow.get_run(run_id)
    assert got.data.params == {"lr": "0.001", "optimizer": "adam", "epochs": "3"}
    assert got.data.metrics["loss"] == pytest.approx(0.1)
    assert got.data.tags["team"] == "vision" and got.data.tags["dataset"] == "cifar10"
    assert got.data.tags["mlflow.runName"] == "baseline"
    assert "mlflow.user" in got.data.tags and "mlflow.source.name" in got.data.tags
    assert got.info.status == "FINISHED" and got.info.end_time is not None
    child_run = mlflow.get_run(child_id)
    assert child_run.data.tags["mlflow.parentRunId"] == run_id
    assert user.experiment(child_id)["workspaceId"] == exp.experiment_id


@pytest.mark.parametrize(("status", "tora_status"), [("FINISHED", "finished"), ("FAILED", "failed"), ("KILLED", "crashed")])
def test_end_run_with_each_status(mlflow_env: User, status: str, tora_status: str) -> None:
    mlflow.set_experiment("statuses")
    run = mlflow.start_run()
    mlflow.log_metric("x", 1.0)
    mlflow.end_run(status=status)
    assert mlflow.get_run(run.info.run_id).info.status == status
    assert mlflow_env.experiment(run.info.run_id)["status"] == tora_status


def test_exception_in_run_block_marks_it_failed(mlflow_env: User) -> None:
    mlflow.set_experiment("failing")
    with pytest.raises(RuntimeError), mlflow.start_run() as run:
        mlflow.log_metric("x", 1.0)
        raise RuntimeError("diverged")
    assert mlflow_env.experiment(run.info.run_id)["status"] == "failed"


def test_search_runs_with_filters_and_ordering(mlflow_env: User) -> None:
    exp = mlflow.set_experiment("search")
    specs = [("a", "0.1", 0.95, "vision"), ("b", "0.01", 0.91, "nlp"), ("c", "0.001", 0.5, "vision")]
    for name, lr, acc, team in specs:
        with mlflow.start_run(run_name=name):
            mlflow.log_param("lr", lr)
            mlflow.log_metric("val/acc", acc)
            mlflow.set_tag("team", team)

    def names(filter_string: str, order_by: list[str] | None = None) -> list[str]:
        runs = mlflow.search_runs(
            experiment_ids=[exp.experiment_id],
            filter_string=filter_string,
            order_by=order_by or ["attributes.run_name ASC"],
            output_format="list",
        )
        return [r.info.run_name for r in runs]

    assert names("metrics.`val/acc` > 0.9") == ["a", "b"]
    assert names("params.lr = '0.1' and tags.team = 'vision'") == ["a"]
    assert names("tags.team != 'vision' and attributes.status = 'FINISHED'") == ["b"]
    assert names("attributes.run_name IN ('a', 'c')") == ["a", "c"]
    assert names("tags.team LIKE 'vis%'") == ["a", "c"]
    assert names("", ["metrics.`val/acc` DESC"]) == ["a", "b", "c"]
    frame = mlflow.search_runs(experiment_ids=[exp.experiment_id], filter_string="metrics.`val/acc` < 0.9")
    assert list(frame["tags.mlflow.runName"]) == ["c"]
    client = MlflowClient()
    page = client.search_runs([exp.experiment_id], max_results=2, order_by=["attributes.run_name"])
    assert [r.info.run_name for r in page] == ["a", "b"] and page.token
    rest = client.search_runs([exp.experiment_id], max_results=2, order_by=["attributes.run_name"], page_token=page.token)
    assert [r.info.run_name for r in rest] == ["c"]
    with pytest.raises(MlflowException) as bad:
        names("metrics.acc >")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"


def test_metric_history_past_one_page_with_nan_and_inf(mlflow_env: User) -> None:
    client = MlflowClient()
    exp_id = client.create_experiment("history")
    run = client.create_run(exp_id)
    run_id = run.info.run_id
    total = 25_000 + 1_500  # more than the client's page of 25,000
    now = int(time.time() * 1000)
    specials = {10: math.nan, 11: math.inf, 12: -math.inf}
    for start in range(0, total, 1000):
        client.log_batch(
            run_id,
            metrics=[Metric("loss", specials.get(i, float(i)), now + i, i) for i in range(start, min(total, start + 1000))],
        )
    history = client.get_metric_history(run_id, "loss")
    assert len(history) == total
    assert [m.step for m in history] == list(range(total))
    assert math.isnan(history[10].value) and history[11].value == math.inf and history[12].value == -math.inf
    assert history[500].value == 500.0 and history[500].timestamp == now + 500
    tora = mlflow_env.points(run_id, "loss")
    assert len(tora) == total
    assert [p["value"] for p in tora[9:13]] == [9.0, "NaN", "Infinity", "-Infinity"]


def test_client_equivalents(mlflow_env: User) -> None:
    client = MlflowClient()
    exp_id = client.create_experiment("client-api", tags={"owner": "ada"})
    assert client.get_experiment_by_name("client-api").tags == {"owner": "ada"}
    with pytest.raises(MlflowException) as dup:
        client.create_experiment("client-api")
    assert dup.value.error_code == "RESOURCE_ALREADY_EXISTS"
    run = client.create_run(exp_id, run_name="manual", tags={"k": "v"})
    run_id = run.info.run_id
    client.log_param(run_id, "depth", 12)
    client.log_metric(run_id, "acc", 0.5, step=1)
    client.log_batch(run_id, metrics=[Metric("acc", 0.7, 0, 2)], params=[Param("width", "64")], tags=[RunTag("x", "y")])
    client.set_tag(run_id, "note", "hello")
    client.delete_tag(run_id, "k")
    with pytest.raises(MlflowException) as changed:
        client.log_param(run_id, "depth", 13)
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    client.set_terminated(run_id, "FINISHED")
    got = client.get_run(run_id)
    assert got.data.params == {"depth": "12", "width": "64"}
    assert {k: v for k, v in got.data.tags.items() if not k.startswith("mlflow.")} == {"x": "y", "note": "hello"}
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "acc")] == [(1, 0.5), (2, 0.7)]
    assert mlflow_env.experiment(run_id)["status"] == "finished"
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    client.restore_run(run_id)
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [run_id]
    client.rename_experiment(exp_id, "client-api-2")
    assert client.get_experiment(exp_id).name == "client-api-2"
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    client.restore_experiment(exp_id)


def test_run_killed_midway_keeps_what_it_logged(mlflow_env: User, tora: Any) -> None:
    script = textwrap.dedent(
        """
        import os, signal, mlflow
        mlflow.set_experiment("killed")
        run = mlflow.start_run()
        for step in range(50):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        print(run.info.run_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert out.returncode == -9
    run_id = out.stdout.strip()
    assert len(mlflow_env.points(run_id, "loss")) == 50
    assert mlflow.get_run(run_id).info.status == "RUNNING"  # nobody ended it; Tora marks it crashed once silent
    MlflowClient().set_terminated(run_id, "KILLED")
    assert mlflow_env.experiment(run_id)["status"] == "crashed"


def test_viewer_key_cannot_log(tora: Any, user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    viewer = User(tora, f"viewer-{user.email}")
    ws = user.api("POST", "/api/workspaces", {"name": "shared-ws"})["id"]
    user.api("POST", f"/api/workspaces/{ws}/members", {"email": viewer.email, "role": "viewer"})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tora.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", user.key)
    run_id = MlflowClient().create_run(ws).info.run_id
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", viewer.key)
    as_viewer = MlflowClient()
    assert as_viewer.get_run(run_id).info.run_id == run_id
    with pytest.raises(MlflowException) as denied:
        as_viewer.log_metric(run_id, "loss", 1.0)
    assert denied.value.error_code == "PERMISSION_DENIED"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tora_not_a_key")
    with pytest.raises(MlflowException) as unknown:
        MlflowClient().get_run(run_id)
    assert unknown.value.error_code == "UNAUTHENTICATED"


def test_basic_auth_with_the_key_as_password(tora: Any, user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tora.url)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "me")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", user.key)
    # Experiment "0" is the key's user's default workspace, and reads back as "0" (as MLflow's Default).
    default = MlflowClient().get_experiment("0")
    assert default.experiment_id == "0"
    assert default.artifact_location == f"mlflow-artifacts:/{user.default_workspace}"


def test_ajax_alias_and_error_shape(tora: Any, user: User) -> None:
    req = urllib.request.Request(
        tora.url + "/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=nope",
        headers={"Authorization": "Basic " + base64.b64encode(f"u:{user.key}".encode()).decode()},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 404
    import json

    assert json.loads(err.value.read())["error_code"] == "RESOURCE_DOES_NOT_EXIST"
