"""Issue 19's logging gaps through the real `mlflow` client: negative steps and dataset inputs."""

from __future__ import annotations

import time

import mlflow
import pandas as pd
from conftest import User
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient


def test_negative_steps_keep_their_batch_sync_and_async(mlflow_env: User) -> None:
    user = mlflow_env
    mlflow.set_experiment("negative-steps")  # not whatever experiment an earlier test left active
    client = MlflowClient()
    now = int(time.time() * 1000)
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        # One step=-1 point beside valid ones: the params and the other metrics land too.
        mlflow.log_metrics({"loss": 2.0, "lr": 0.1}, step=-1)
        mlflow.log_param("warmup", "yes")
        mlflow.log_metric("loss", 1.0, step=0)
        client.log_batch(
            run_id,
            metrics=[Metric("loss", 3.0, now, -5), Metric("acc", 0.5, now, 2)],
            params=[Param("opt", "adam")],
            synchronous=False,
        ).wait()
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(-5, 3.0), (-1, 2.0), (0, 1.0)]
    got = mlflow.get_run(run_id)
    assert got.data.params == {"warmup": "yes", "opt": "adam"}
    assert got.data.metrics["acc"] == 0.5 and got.data.metrics["lr"] == 0.1
    assert sorted(p["step"] for p in user.points(run_id, "loss")) == [-5, -1, 0]
    summary = next(m for m in user.api("GET", f"/api/experiments/{run_id}/metrics")["metrics"] if m["name"] == "loss")
    assert summary["firstStep"] == -5 and summary["lastStep"] == 0


def test_log_input_stores_the_dataset_and_search_finds_it(mlflow_env: User) -> None:
    user = mlflow_env
    mlflow.set_experiment("datasets")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    train = mlflow.data.from_pandas(frame, source="/data/train.csv", name="toy", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(train, context="training")
    with mlflow.start_run():
        pass
    got = mlflow.get_run(run.info.run_id)
    [entry] = got.inputs.dataset_inputs
    assert entry.dataset.name == "toy" and entry.dataset.digest == train.digest
    assert entry.dataset.source_type == "local"
    assert {t.key: t.value for t in entry.tags} == {"mlflow.data.context": "training"}
    assert '"x"' in entry.dataset.schema and "num_rows" in entry.dataset.profile
    for query in ["datasets.name = 'toy'", f"datasets.digest = '{train.digest}'", "datasets.context = 'training'"]:
        found = mlflow.search_runs(filter_string=query, output_format="list")
        assert [r.info.run_id for r in found] == [run.info.run_id], query
    assert mlflow.search_runs(filter_string="datasets.context = 'eval'", output_format="list") == []
    panel = user.api("GET", f"/api/experiments/{run.info.run_id}/datasets")["datasets"]
    assert [(d["name"], d["context"], d["sourceType"]) for d in panel] == [("toy", "training", "local")]
