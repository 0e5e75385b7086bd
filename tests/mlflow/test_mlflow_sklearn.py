"""A real user's tool through the MLflow API: scikit-learn autologging trained for real against Tora."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from conftest import User
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression


def test_sklearn_autolog_lands_params_metrics_dataset_and_model(mlflow_env: User, tmp_path: Path) -> None:
    user = mlflow_env
    mlflow.set_experiment("sklearn-autolog")
    mlflow.sklearn.autolog(log_datasets=True, log_input_examples=False, silent=True)
    try:
        rng = np.random.default_rng(0)
        x = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
        y = (x["a"] + 0.5 * x["b"] > 0).astype(int)
        with mlflow.start_run() as run:
            LogisticRegression(C=0.5, max_iter=200).fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    got = mlflow.get_run(run.info.run_id)
    assert got.data.params["C"] == "0.5"
    assert got.data.metrics["training_accuracy_score"] > 0.9
    # The training data arrives as the run's dataset input, with its context.
    [entry] = got.inputs.dataset_inputs
    assert {t.key: t.value for t in entry.tags}["mlflow.data.context"] == "train"
    assert mlflow.search_runs(filter_string="datasets.context = 'train'", output_format="list")[0].info.run_id == run.info.run_id
    # The fitted model is a logged model of the run, and it loads back and predicts.
    [model] = MlflowClient().search_logged_models(experiment_ids=[got.info.experiment_id])
    assert model.source_run_id == run.info.run_id
    # Into the test's own folder: without dst_path mlflow leaves a temporary directory behind.
    loaded = mlflow.sklearn.load_model(f"models:/{model.model_id}", dst_path=str(tmp_path))
    assert loaded.predict(x.head(5)).tolist() == LogisticRegression(C=0.5, max_iter=200).fit(x, y).predict(x.head(5)).tolist()
    assert "training_accuracy_score" in {m["name"] for m in user.api("GET", f"/api/experiments/{run.info.run_id}/metrics")["metrics"]}
