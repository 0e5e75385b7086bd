"""Issue 19's MLflow 3 model links and small gaps through the real `mlflow` client: model metrics,
logged-model search by dataset and IN, any source_run_id, run outputs, the `tag.` experiment
filter, experiment "0", artifacts/list and error messages that name the parameter."""

from __future__ import annotations

import math
from typing import Any

import mlflow
import pandas as pd
from conftest import User
from mlflow.entities import LoggedModelOutput
from mlflow.tracking import MlflowClient
from mlflow.utils.rest_utils import http_request


def host_creds() -> Any:
    """The client's own credentials for a REST call it has no method for."""
    return MlflowClient()._tracking_client.store.get_host_creds()


def test_model_metrics_datasets_search_and_outputs(mlflow_env: User) -> None:
    exp = mlflow.set_experiment("model-links")
    client = MlflowClient()
    data = mlflow.data.from_pandas(pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), name="eval-set")
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(name="clf")
        other = mlflow.initialize_logged_model(name="other")
        mlflow.log_metric("acc", 0.9, step=1, model_id=model.model_id, dataset=data)
        mlflow.log_metric("loss", float("nan"), step=1, model_id=model.model_id)
        mlflow.log_metric("acc", 0.4, step=1, model_id=other.model_id)
        client.log_outputs(run.info.run_id, [LoggedModelOutput(model.model_id, 3)])

    got = client.get_logged_model(model.model_id)
    by_key = {m.key: m for m in got.metrics}
    assert set(by_key) == {"acc", "loss"}
    assert by_key["acc"].value == 0.9
    assert by_key["acc"].step == 1
    assert by_key["acc"].run_id == run.info.run_id
    assert by_key["acc"].dataset_name == "eval-set"
    assert by_key["acc"].dataset_digest == data.digest
    assert math.isnan(by_key["loss"].value)
    # The run's own history has the points too.
    assert [m.value for m in client.get_metric_history(run.info.run_id, "acc")] == [0.9, 0.4]

    outputs = client.get_run(run.info.run_id).outputs
    assert [(o.model_id, o.step) for o in outputs.model_outputs] == [(model.model_id, 3)]

    def names(**kwargs: Any) -> list[str]:
        found = mlflow.search_logged_models(
            experiment_ids=[exp.experiment_id], output_format="list", **kwargs
        )
        return sorted(m.name for m in found)

    assert names(datasets=[{"dataset_name": "eval-set"}]) == ["clf"]
    assert names(datasets=[{"dataset_name": "eval-set", "dataset_digest": data.digest}]) == ["clf"]
    assert names(datasets=[{"dataset_name": "eval-set", "dataset_digest": "nope"}]) == []
    assert names(filter_string="name IN ('clf', 'other')") == ["clf", "other"]
    assert names(filter_string="name NOT IN ('clf')") == ["other"]
    assert names(filter_string="metrics.acc > 0.5") == ["clf"]
    assert names(filter_string="metrics.acc > 0.5", datasets=[{"dataset_name": "eval-set"}]) == ["clf"]


def test_create_logged_model_keeps_any_source_run_id(mlflow_env: User) -> None:
    exp = mlflow.set_experiment("any-source")
    client = MlflowClient()
    model = client.create_logged_model(
        exp.experiment_id, name="external", source_run_id="made-elsewhere"
    )
    assert model.source_run_id == "made-elsewhere"
    assert client.get_logged_model(model.model_id).source_run_id == "made-elsewhere"


def test_tag_prefix_in_experiment_filters(mlflow_env: User) -> None:
    client = MlflowClient()
    vision = client.create_experiment("tagged-vision", tags={"team": "vision"})
    client.create_experiment("tagged-nlp", tags={"team": "nlp"})
    for filter_string in ("tag.team = 'vision'", "tags.team = 'vision'", "tag.team LIKE 'vis%'"):
        found = client.search_experiments(filter_string=filter_string)
        assert [e.experiment_id for e in found] == [vision], filter_string


def test_default_experiment_reads_back_as_0(mlflow_env: User) -> None:
    # No experiment set: the client's default path, experiment "0" (the user's default workspace).
    mlflow.set_experiment(experiment_id="0")
    with mlflow.start_run() as run:
        mlflow.log_metric("x", 1.0)
    assert run.info.experiment_id == "0"
    client = MlflowClient()
    assert client.get_run(run.info.run_id).info.experiment_id == "0"
    assert client.get_experiment("0").experiment_id == "0"
    found = mlflow.search_runs(experiment_ids=["0"], output_format="list")
    assert [(r.info.run_id, r.info.experiment_id) for r in found] == [(run.info.run_id, "0")]
    assert "0" in [e.experiment_id for e in client.search_experiments()]
    # Its artifacts still round-trip (their URI keeps the workspace's real id).
    mlflow.set_experiment(experiment_id="0")
    with mlflow.start_run() as other:
        mlflow.log_text("hello", "notes/hi.txt")
    assert mlflow.artifacts.load_text(f"runs:/{other.info.run_id}/notes/hi.txt") == "hello"


def test_artifacts_list_with_mlflows_path_check(mlflow_env: User) -> None:
    mlflow.set_experiment("artifacts-list")
    with mlflow.start_run() as run:
        mlflow.log_text("a", "dir/a.txt")
        mlflow.log_text("bb", "top.txt")
    creds = host_creds()
    res = http_request(
        creds, "/api/2.0/mlflow/artifacts/list", "GET", params={"run_id": run.info.run_id}
    )
    assert res.status_code == 200
    body = res.json()
    assert body["root_uri"] == run.info.artifact_uri
    assert body["files"] == [
        {"path": "dir", "is_dir": True},
        {"path": "top.txt", "is_dir": False, "file_size": 2},
    ]
    inner = http_request(
        creds,
        "/api/2.0/mlflow/artifacts/list",
        "GET",
        params={"run_id": run.info.run_id, "path": "dir"},
    )
    assert [f["path"] for f in inner.json()["files"]] == ["dir/a.txt"]
    bad = http_request(
        creds,
        "/api/2.0/mlflow/artifacts/list",
        "GET",
        params={"run_id": run.info.run_id, "path": "../other"},
        raise_on_status=False,
        max_retries=0,
    )
    assert bad.status_code == 400
    assert bad.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


def test_error_messages_name_the_parameter(mlflow_env: User) -> None:
    mlflow.set_experiment("messages")
    with mlflow.start_run() as run:
        pass
    creds = host_creds()
    res = http_request(
        creds,
        "/api/2.0/mlflow/runs/log-batch",
        "POST",
        json={"run_id": run.info.run_id, "metrics": [{"value": 1, "timestamp": 1}]},
        raise_on_status=False,
        max_retries=0,
    )
    assert res.status_code == 400
    message = res.json()["message"]
    assert "'metrics[0].key'" in message
    assert "undefined" not in message and "null" not in message
    model = mlflow.initialize_logged_model(name="m")
    res = http_request(
        creds,
        f"/api/2.0/mlflow/logged-models/{model.model_id}",
        "PATCH",
        json={},
        raise_on_status=False,
        max_retries=0,
    )
    assert res.status_code == 400
    assert "'status'" in res.json()["message"] and "undefined" not in res.json()["message"]
