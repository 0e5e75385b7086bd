"""A real user's tool through the MLflow API: an Optuna study with optuna-integration's MLflowCallback,
its trials nested under one parent run, landing in Tora as one group that the dashboard groups and
bands (GET /api/experiments?groupBy=group, POST /api/metrics/band)."""

from __future__ import annotations

import math
import statistics

import mlflow
import optuna
import pytest
from conftest import User
from optuna_integration.mlflow import MLflowCallback

pytestmark = [
    # MLflowCallback is deprecated since optuna-integration 4.9 (removal planned in 6.0) and
    # track_in_mlflow experimental: what users run today all the same.
    pytest.mark.filterwarnings("ignore:MLflowCallback has been deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
]

TRIALS = 32
EPOCHS = 3


def curve(lr: float, layers: int) -> list[float]:
    """A trial's learning curve: the loss after each epoch."""
    loss, out = 1.0, []
    for _ in range(EPOCHS):
        loss = loss * (1 - 3 * lr) + 0.01 * layers
        out.append(loss)
    return out


def test_optuna_mlflow_callback_trials_land_as_one_group(mlflow_env: User) -> None:
    user = mlflow_env
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="optuna-study", direction="minimize", sampler=optuna.samplers.TPESampler(seed=0)
    )
    callback = MLflowCallback(metric_name="val_loss", mlflow_kwargs={"nested": True})

    @callback.track_in_mlflow()
    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        losses = curve(lr, layers)
        for epoch, loss in enumerate(losses):  # a learning curve per trial, logged inside the trial's run
            mlflow.log_metric("loss", loss, step=epoch)
        return losses[-1]

    mlflow.set_experiment("optuna-study")  # the callback's experiment: the study's name
    with mlflow.start_run(run_name="tpe-search") as parent:
        study.optimize(objective, n_trials=TRIALS, callbacks=[callback])
    assert mlflow.active_run() is None

    trials = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        output_format="list",
        max_results=1000,
    )
    assert len(trials) == TRIALS
    ids = [r.info.run_id for r in trials]
    by_number = {int(r.data.tags["number"]): r for r in trials}
    assert sorted(by_number) == list(range(TRIALS))
    for t in study.trials:
        run = by_number[t.number]
        assert run.info.run_name == str(t.number)
        assert run.data.metrics["val_loss"] == t.value and run.data.params["lr"] == str(t.params["lr"])
        assert run.data.tags["state"] == "COMPLETE" and run.data.tags["direction"] == "MINIMIZE"

    # Tora gives each trial its parent's name as its group; the parent itself has none.
    workspace = user.experiment(ids[0])["workspaceId"]
    listed = user.api("GET", f"/api/experiments?workspace={workspace}&limit=100")["experiments"]
    assert {e["id"]: e["group"] for e in listed} == {
        **{i: "tpe-search" for i in ids},
        parent.info.run_id: None,
    }
    only = user.api("GET", f"/api/experiments?workspace={workspace}&group=tpe-search&limit=100")[
        "experiments"
    ]
    assert sorted(e["id"] for e in only) == sorted(ids)

    # The dashboard's grouping: one group of the 32 trials beside the parent's (no group), with the
    # mean of the trials' final val_loss.
    grouped = user.api(
        "GET", f"/api/experiments?workspace={workspace}&groupBy=group&groupMetrics=val_loss,min:loss"
    )
    groups = {g["value"]: g for g in grouped["groups"]}
    assert set(groups) == {"tpe-search", None} and grouped["total"] == TRIALS + 1
    trial_group = groups["tpe-search"]
    assert trial_group["count"] == TRIALS
    values = [t.value for t in study.trials]
    assert trial_group["metrics"]["val_loss"]["n"] == TRIALS
    assert math.isclose(trial_group["metrics"]["val_loss"]["mean"], statistics.fmean(values), rel_tol=1e-9)
    assert trial_group["metrics"]["val_loss"]["min"] == min(values) == study.best_value
    # Trials grouped by a hyperparameter too (MLflow params are hyperparameters).
    by_layers = user.api(
        "GET", f"/api/experiments?workspace={workspace}&group=tpe-search&groupBy=params.layers"
    )
    assert sum(g["count"] for g in by_layers["groups"]) == TRIALS
    assert {g["value"] for g in by_layers["groups"]} == {t.params["layers"] for t in study.trials}

    # The band over the group's learning curves: every trial contributes at every epoch.
    band = user.api("POST", "/api/metrics/band", {"experimentIds": ids, "name": "loss", "budget": EPOCHS})
    assert sorted(band["experiments"]) == sorted(ids)
    assert band["n"] == [TRIALS] * EPOCHS
    last = [curve(t.params["lr"], t.params["layers"])[-1] for t in study.trials]
    assert math.isclose(band["mean"][-1], statistics.fmean(last), rel_tol=1e-9)
    assert band["min"][-1] == min(last) and band["max"][-1] == max(last)
