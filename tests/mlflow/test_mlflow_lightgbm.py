"""A real user's tool through the MLflow API: LightGBM autologging trained for real against Tora, read
back through Tora's own API (hyperparameters, a metric per boosting round, the dataset, the model)."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from conftest import User
from mlflow.tracking import MlflowClient

ROUNDS = 8


def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"])
    return x, (x["a"] - 0.7 * x["c"] > 0).astype(int)


def test_lightgbm_autolog_lands_params_iterations_dataset_and_model(mlflow_env: User, tmp_path: Path) -> None:
    user = mlflow_env
    mlflow.set_experiment("lightgbm-autolog")
    mlflow.lightgbm.autolog(log_datasets=True, log_input_examples=False, silent=True)
    x, y = data()
    params = {"objective": "binary", "learning_rate": 0.2, "num_leaves": 7, "verbose": -1, "seed": 0}
    evals: dict[str, dict[str, list[float]]] = {}
    try:
        with mlflow.start_run(run_name="gbm") as run:
            train = lgb.Dataset(x, label=y)
            booster = lgb.train(
                params, train, num_boost_round=ROUNDS, valid_sets=[train], valid_names=["train"],
                callbacks=[lgb.record_evaluation(evals)],
            )  # fmt: skip
    finally:
        mlflow.lightgbm.autolog(disable=True)
    rid = run.info.run_id

    # Tora's own API: the run is an experiment of the workspace named after the MLflow experiment.
    exp = user.experiment(rid)
    assert exp["name"] == "gbm" and exp["status"] == "finished"
    workspaces = user.api("GET", "/api/workspaces")
    ws = workspaces if isinstance(workspaces, list) else workspaces["workspaces"]
    assert any(w["id"] == exp["workspaceId"] and w["name"] == "lightgbm-autolog" for w in ws)
    hp = {h["key"]: h["value"] for h in exp["hyperparams"]}
    assert float(hp["learning_rate"]) == 0.2 and int(hp["num_leaves"]) == 7
    assert int(hp["num_boost_round"]) == ROUNDS and hp["objective"] == "binary"
    # One point per boosting round, at steps 0..ROUNDS-1, falling as the booster fits.
    points = sorted(user.points(rid, "train-binary_logloss"), key=lambda p: p["step"])
    assert [p["step"] for p in points] == list(range(ROUNDS))
    losses = [p["value"] for p in points]
    assert losses == evals["train"]["binary_logloss"]  # each round's value exactly as LightGBM computed it
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0] < 0.7, losses

    # The training data as the run's dataset input, through Tora's API.
    datasets = user.api("GET", f"/api/experiments/{rid}/datasets")
    entries = datasets if isinstance(datasets, list) else datasets["datasets"]
    # The training data (context "train") and the validation set, named by valid_names ("eval"):
    # the same frame, so one digest.
    assert sorted((e["name"], e["context"]) for e in entries) == [("dataset", "train"), ("train", "eval")]
    assert len({e["digest"] for e in entries}) == 1

    # The booster as the run's logged model, its files in Tora, and it loads back and predicts the same.
    [model] = MlflowClient().search_logged_models(experiment_ids=[exp["workspaceId"]])
    assert model.source_run_id == rid
    files = {a.path for a in MlflowClient().list_logged_model_artifacts(model.model_id)}
    assert {"MLmodel", "model.lgb"} <= files, files
    loaded = mlflow.lightgbm.load_model(f"models:/{model.model_id}", dst_path=str(tmp_path))
    np.testing.assert_array_equal(loaded.predict(x.head(10)), booster.predict(x.head(10)))
    # autolog's feature importance as run files.
    listed = user.api("GET", f"/api/experiments/{rid}/files")
    names = {f["path"] for f in (listed if isinstance(listed, list) else listed["files"])}
    assert "feature_importance_gain.json" in names, names
