"""The frameworks' own MLflow integrations against Tora's MLflow API: HF `report_to="mlflow"` and
Lightning's `MLFlowLogger`, with `MLFLOW_TRACKING_URI` / `MLFLOW_TRACKING_TOKEN` pointing at a real
Tora server. What arrived is read back through Tora's own REST API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import mlflow
import pytest
from lightning.pytorch.loggers import MLFlowLogger
from mlflow.exceptions import MlflowException
from test_lightning import Regression, loader
from test_transformers import Toy
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from conftest import Env

pytestmark = pytest.mark.integration


@pytest.fixture
def mlflow_env(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", env.key)
    for name in ("MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID", "HF_MLFLOW_LOG_ARTIFACTS"):
        monkeypatch.delenv(name, raising=False)
    yield env
    while mlflow.active_run() is not None:  # never leak a run into the next test
        mlflow.end_run()


def hyperparams(env: Env, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in env.experiment(eid)["hyperparams"]}


def steps(env: Env, eid: str, name: str) -> list[int]:
    return [p["step"] for p in env.points(eid, name)]


def tiny_bert_trainer(tmp_path: Path, run_name: str, **overrides: Any) -> Trainer:
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=2,
    )
    kwargs: dict[str, Any] = dict(
        output_dir=str(tmp_path), max_steps=6, logging_steps=2, eval_strategy="steps", eval_steps=3,
        per_device_train_batch_size=4, per_device_eval_batch_size=4, learning_rate=1e-3,
        report_to="mlflow", save_strategy="no", use_cpu=True, disable_tqdm=True, run_name=run_name,
    )  # fmt: skip
    kwargs.update(overrides)
    return Trainer(
        model=BertForSequenceClassification(config),
        args=TrainingArguments(**kwargs),
        train_dataset=Toy(32),
        eval_dataset=Toy(8),
    )


def only_run_named(env: Env, name: str) -> dict[str, Any]:
    runs = mlflow.search_runs(
        experiment_ids=["0"], filter_string=f"attributes.run_name = '{name}'", output_format="list"
    )
    assert len(runs) == 1, runs
    return env.experiment(runs[0].info.run_id)


def test_hf_report_to_mlflow(mlflow_env: Env, tmp_path: Path) -> None:
    env = mlflow_env
    tiny_bert_trainer(tmp_path, "hf-via-mlflow").train()
    assert mlflow.active_run() is None  # the callback ended its run
    exp = only_run_named(env, "hf-via-mlflow")
    eid = exp["id"]
    assert exp["status"] == "finished"
    # TrainingArguments and the model config arrive as hyperparameters (MLflow params are strings;
    # Tora keeps numeric ones as numbers).
    params = hyperparams(env, eid)
    assert float(params["learning_rate"]) == 1e-3 and int(params["max_steps"]) == 6
    assert int(params["hidden_size"]) == 16 and params["report_to"] == "['mlflow']"
    # Training and eval metrics with the trainer's global step.
    assert steps(env, eid, "loss") == [2, 4, 6]
    assert steps(env, eid, "learning_rate") == [2, 4, 6]
    assert steps(env, eid, "eval_loss") == [3, 6]
    assert steps(env, eid, "train_runtime") == [6]
    loss = [p["value"] for p in env.points(eid, "loss")]
    assert all(0 < v < 10 for v in loss), loss


def test_hf_mlflow_log_artifacts_stops_with_toras_artifact_error(
    mlflow_env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HF_MLFLOW_LOG_ARTIFACTS uploads each checkpoint as an MLflow logged model (HF's on_save
    calls mlflow.pyfunc.log_model, uncaught). Tora stores no files yet: the first upload fails at
    once with Tora's NOT_IMPLEMENTED artifact error (not a retry loop, not "no such endpoint"),
    everything logged before it is stored, and the run can still be ended."""
    env = mlflow_env
    monkeypatch.setenv("HF_MLFLOW_LOG_ARTIFACTS", "1")
    trainer = tiny_bert_trainer(tmp_path, "hf-artifacts", save_strategy="steps", save_steps=3)
    with pytest.raises(MlflowException, match="does not store artifacts or logged models") as err:
        trainer.train()
    assert err.value.error_code == "NOT_IMPLEMENTED"
    assert trainer.state.global_step == 3  # the first checkpoint
    assert (tmp_path / "checkpoint-3").is_dir()  # written locally before the upload
    run = mlflow.active_run()
    assert run is not None
    mlflow.end_run()  # what MLflow's atexit hook does when the script ends
    exp = env.experiment(run.info.run_id)
    assert exp["name"] == "hf-artifacts" and exp["status"] == "finished"
    assert int(hyperparams(env, exp["id"])["save_steps"]) == 3
    assert steps(env, exp["id"], "loss") == [2]
    assert steps(env, exp["id"], "eval_loss") == [3]


def lightning_trainer(logger: MLFlowLogger, tmp_path: Path) -> L.Trainer:
    return L.Trainer(
        max_epochs=2, logger=logger, log_every_n_steps=2, accelerator="cpu", enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
    )  # fmt: skip


def test_lightning_mlflow_logger(mlflow_env: Env, tmp_path: Path) -> None:
    env = mlflow_env
    # MLFlowLogger's tracking_uri default is read from the environment when Lightning is imported,
    # so it is passed here; the token is read at each request (MLFLOW_TRACKING_TOKEN).
    logger = MLFlowLogger(experiment_name="pl-via-mlflow", run_name="regression-mlflow", tracking_uri=env.url)
    module = Regression(lr=0.05, opt={"name": "sgd", "momentum": 0.0})
    lightning_trainer(logger, tmp_path).fit(module, loader(), loader())
    eid = logger.run_id
    assert eid is not None
    exp = env.experiment(eid)
    assert exp["name"] == "regression-mlflow" and exp["status"] == "finished"
    # The MLflow experiment is a Tora workspace of that name.
    workspaces = env.server.api(env.key, "GET", "/api/workspaces")
    ws = workspaces if isinstance(workspaces, list) else workspaces["workspaces"]
    assert exp["workspaceId"] == logger.experiment_id
    assert any(w["id"] == logger.experiment_id and w["name"] == "pl-via-mlflow" for w in ws)
    params = hyperparams(env, eid)
    # save_hyperparameters() as MLflow params; Lightning flattens nested dicts with "/".
    assert set(params) == {"lr", "fail_at", "opt/name", "opt/momentum"}
    assert float(params["lr"]) == 0.05 and int(params["fail_at"]) == -1
    assert params["opt/name"] == "sgd" and float(params["opt/momentum"]) == 0.0
    # 8 batches per epoch, logged every 2 steps: Lightning logs step - 1.
    assert steps(env, eid, "train_loss") == [1, 3, 5, 7, 9, 11, 13, 15]
    assert steps(env, eid, "val_loss") == [7, 15]
    assert {p["value"] for p in env.points(eid, "epoch")} == {0.0, 1.0}


def test_lightning_mlflow_logger_marks_a_crash_failed(mlflow_env: Env, tmp_path: Path) -> None:
    env = mlflow_env
    logger = MLFlowLogger(experiment_name="pl-via-mlflow", run_name="diverges-mlflow", tracking_uri=env.url)
    with pytest.raises(RuntimeError, match="diverged"):
        lightning_trainer(logger, tmp_path).fit(Regression(fail_at=5), loader())
    assert logger.run_id is not None
    assert env.experiment(logger.run_id)["status"] == "failed"
    assert steps(env, logger.run_id, "train_loss") == [1, 3]
