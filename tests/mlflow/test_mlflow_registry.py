"""MLflow's model registry through the real `mlflow` client against Tora: register, alias, stage,
load back by version and by alias; what Tora's own API shows of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from conftest import User
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


class Scale(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def __init__(self, k: int) -> None:
        self.k = k

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return model_input * self.k


def test_log_model_with_registered_name_then_load_by_version_and_alias(mlflow_env: User, tmp_path: Path) -> None:
    exp = mlflow.set_experiment("registry")
    client = MlflowClient()
    with mlflow.start_run() as run:
        first = mlflow.pyfunc.log_model(name="scaler", python_model=Scale(2), registered_model_name="scaler")
    assert str(first.registered_model_version) == "1"
    with mlflow.start_run():
        second = mlflow.pyfunc.log_model(name="scaler", python_model=Scale(3), pip_requirements=["pandas"])
    version = mlflow.register_model(second.model_uri, "scaler")
    assert version.version == "2"

    client.set_registered_model_alias("scaler", "champion", "1")
    client.set_registered_model_tag("scaler", "team", "vision")
    client.transition_model_version_stage("scaler", "2", "Staging")
    model = client.get_registered_model("scaler")
    assert model.aliases == {"champion": "1"} and model.tags == {"team": "vision"}
    assert client.get_model_version_by_alias("scaler", "champion").run_id == run.info.run_id
    assert [v.version for v in client.get_latest_versions("scaler", stages=["Staging"])] == ["2"]
    assert [m.name for m in client.search_registered_models(filter_string="name LIKE 'scal%'")] == ["scaler"]
    assert {v.version for v in client.search_model_versions("name = 'scaler'")} == {"1", "2"}

    frame = pd.DataFrame({"x": [1, 5]})
    for sub in ("v1", "alias", "staging"):
        (tmp_path / sub).mkdir()
    by_version = mlflow.pyfunc.load_model("models:/scaler/1", dst_path=str(tmp_path / "v1"))
    assert by_version.predict(frame)["x"].tolist() == [2, 10]
    by_alias = mlflow.pyfunc.load_model("models:/scaler@champion", dst_path=str(tmp_path / "alias"))
    assert by_alias.predict(frame)["x"].tolist() == [2, 10]
    by_stage = mlflow.pyfunc.load_model("models:/scaler/Staging", dst_path=str(tmp_path / "staging"))
    assert by_stage.predict(frame)["x"].tolist() == [3, 15]
    # The model lives in the workspace of its runs (the MLflow experiment).
    listed = mlflow_env.api("GET", f"/api/workspaces/{exp.experiment_id}/models")["models"]
    assert [(m["name"], [v["version"] for v in m["versions"]]) for m in listed] == [("scaler", [2, 1])]

    client.delete_registered_model_alias("scaler", "champion")
    with pytest.raises(MlflowException) as missing:
        client.get_model_version_by_alias("scaler", "champion")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model("scaler")
    assert client.search_registered_models() == []
