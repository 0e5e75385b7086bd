"""Artifacts and MLflow 3 logged models through the real `mlflow` client: what it uploads is stored
by Tora under its data directory and comes back byte for byte."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from conftest import User
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


def stored(tora: Any, *parts: str) -> Path:
    """Where Tora keeps a file: <TORA_DATA_DIR>/artifacts/<workspace>/<run>/artifacts/..."""
    return Path(tora.data_dir, "artifacts", *parts)


def test_log_list_and_download_artifacts(tora: Any, mlflow_env: User, tmp_path: Path) -> None:
    exp = mlflow.set_experiment("artifacts")
    weights = bytes(range(256)) * 1000
    (tmp_path / "weights.bin").write_bytes(weights)
    tree = tmp_path / "report"
    (tree / "plots").mkdir(parents=True)
    (tree / "summary.md").write_text("# done\n")
    (tree / "plots" / "loss.svg").write_text("<svg/>")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "weights.bin"))
        mlflow.log_artifact(str(tmp_path / "weights.bin"), artifact_path="checkpoints/epoch-1")
        mlflow.log_artifacts(str(tree), artifact_path="report")
        mlflow.log_text("hello tora", "notes/hello.txt")
        mlflow.log_dict({"lr": 0.1, "layers": [64, 64]}, "config.json")
        mlflow.log_metric("after", 1.0)
    run_id = run.info.run_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{exp.experiment_id}/{run_id}/artifacts"

    client = MlflowClient()
    top = {(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)}
    assert top == {
        ("checkpoints", True, None),
        (
            "config.json",
            False,
            len(json.dumps({"lr": 0.1, "layers": [64, 64]}, indent=2)),
        ),
        ("notes", True, None),
        ("report", True, None),
        ("weights.bin", False, len(weights)),
    }
    assert [f.path for f in client.list_artifacts(run_id, "report/plots")] == ["report/plots/loss.svg"]
    assert [
        f.path for f in mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="checkpoints/epoch-1")
    ] == ["checkpoints/epoch-1/weights.bin"]

    out = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "down")))
    assert (out / "weights.bin").read_bytes() == weights
    assert (out / "checkpoints" / "epoch-1" / "weights.bin").read_bytes() == weights
    assert (out / "report" / "plots" / "loss.svg").read_text() == "<svg/>"
    assert (out / "notes" / "hello.txt").read_text() == "hello tora"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {
        "lr": 0.1,
        "layers": [64, 64],
    }
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello tora"
    one = client.download_artifacts(run_id, "report/summary.md", str(tmp_path / "one"))
    assert Path(one).read_text() == "# done\n"

    # Kept on Tora's disk, under the run, and the run's metrics are there too.
    assert stored(tora, exp.experiment_id, run_id, "artifacts", "weights.bin").read_bytes() == weights
    assert mlflow_env.experiment(run_id)["status"] == "finished"


def test_a_viewer_cannot_upload(tora: Any, mlflow_env: User, tmp_path: Path) -> None:
    """A refused upload raises with MLflow's PERMISSION_DENIED; nothing is stored."""
    owner = User(tora, f"owner-{tmp_path.name}@example.com")
    ws = owner.api("POST", "/api/workspaces", {"name": "shared"})["id"]
    owner.api(
        "POST",
        f"/api/workspaces/{ws}/members",
        {"email": mlflow_env.email, "role": "viewer"},
    )
    run_id = owner_run(owner, ws)
    with pytest.raises(Exception, match="PERMISSION_DENIED"):  # requests' HTTPError
        MlflowClient().log_text(run_id, "x", "x.txt")
    assert not stored(tora, ws, run_id, "artifacts", "x.txt").exists()
    assert MlflowClient().list_artifacts(run_id) == []


def owner_run(owner: User, ws: str) -> str:
    """A run created by the workspace's owner through Tora's MLflow API."""
    req = urllib.request.Request(
        owner.server.url + "/api/2.0/mlflow/runs/create",
        data=json.dumps({"experiment_id": ws}).encode(),
        headers={
            "Authorization": f"Bearer {owner.key}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(req) as res:
        return str(json.load(res)["run"]["info"]["run_id"])


class AddN(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def __init__(self, n: int) -> None:
        self.n = n

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return model_input + self.n


def test_pyfunc_log_model_and_load_it_back(tora: Any, mlflow_env: User, tmp_path: Path) -> None:
    exp = mlflow.set_experiment("models")
    with mlflow.start_run() as run:
        mlflow.log_param("n", 2)
        info = mlflow.pyfunc.log_model(name="adder", python_model=AddN(2), pip_requirements=["pandas"])
    assert info.model_uri == f"models:/{info.model_id}"
    model = MlflowClient().get_logged_model(info.model_id)
    assert model.status == LoggedModelStatus.READY
    assert model.source_run_id == run.info.run_id
    assert model.experiment_id == exp.experiment_id
    assert model.params.get("n") == "2"
    # (MLflow lists an artifact URI relative to its parent: "artifacts/MLmodel".)
    files = {Path(f.path).name for f in mlflow.artifacts.list_artifacts(artifact_uri=model.artifact_location)}
    assert {"MLmodel", "python_model.pkl"} <= files

    (tmp_path / "loaded").mkdir()
    (tmp_path / "by-run").mkdir()
    loaded = mlflow.pyfunc.load_model(info.model_uri, dst_path=str(tmp_path / "loaded"))
    out = loaded.predict(pd.DataFrame({"x": [1, 5]}))
    assert out["x"].tolist() == [3, 7]
    # runs:/<run>/<name> resolves through a logged-model search by name.
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/adder", dst_path=str(tmp_path / "by-run"))
    assert by_run.predict(pd.DataFrame({"x": [0]}))["x"].tolist() == [2]
    # The files live with the run on Tora's disk, so deleting the run removes them.
    assert stored(
        tora,
        exp.experiment_id,
        run.info.run_id,
        "models",
        info.model_id,
        "artifacts",
        "MLmodel",
    ).is_file()


def test_unknown_logged_model_is_mlflows_not_found(mlflow_env: User) -> None:
    with pytest.raises(MlflowException) as missing:
        MlflowClient().get_logged_model("m-00000000000000000000000000000000")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
