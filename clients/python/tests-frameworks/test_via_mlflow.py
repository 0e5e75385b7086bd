"""The frameworks' own MLflow integrations against Tora's MLflow API: HF `report_to="mlflow"` (with
`HF_MLFLOW_LOG_ARTIFACTS` checkpoint uploads), Lightning's `MLFlowLogger`, MLflow's Keras callback and
Ultralytics' MLflow callback (metrics and weights), with `MLFLOW_TRACKING_URI` /
`MLFLOW_TRACKING_TOKEN` pointing at a real Tora server. What arrived is read back through Tora's own
REST API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import mlflow
import pytest
from lightning.pytorch.loggers import MLFlowLogger
from mlflow.entities import LoggedModelStatus
from test_lightning import Regression, loader
from test_transformers import Toy
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from conftest import Env

pytestmark = pytest.mark.integration


@pytest.fixture
def mlflow_env(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", env.key)
    for name in (
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_RUN_ID",
        "MLFLOW_RUN",
        "HF_MLFLOW_LOG_ARTIFACTS",
    ):
        monkeypatch.delenv(name, raising=False)
    # `mlflow.set_experiment` in an earlier test (Keras's) stays the process's active experiment:
    # each test starts in the default one ("0") again.
    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    yield env
    while mlflow.active_run() is not None:  # never leak a run into the next test
        mlflow.end_run()


def hyperparams(env: Env, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in env.experiment(eid)["hyperparams"]}


def steps(env: Env, eid: str, name: str) -> list[int]:
    """The steps stored for a metric, in step order: `log_metrics(..., synchronous=False)` (HF's callback
    with MLflow >= 2.8) sends its batches from a thread pool, so they may arrive in any order; MLflow's
    own history is ordered by (timestamp, step) too. Sorted, a lost or doubled point still shows."""
    return sorted(p["step"] for p in env.points(eid, name))


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


def test_hf_mlflow_log_artifacts_stores_each_checkpoint(
    mlflow_env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HF_MLFLOW_LOG_ARTIFACTS uploads each checkpoint as an MLflow 3 logged model (HF's on_save
    calls mlflow.pyfunc.log_model, uncaught): Tora stores the files, so training runs to its end
    and every checkpoint's weights can be listed and downloaded again."""
    env = mlflow_env
    monkeypatch.setenv("HF_MLFLOW_LOG_ARTIFACTS", "1")
    trainer = tiny_bert_trainer(tmp_path / "out", "hf-artifacts", save_strategy="steps", save_steps=3)
    trainer.train()
    assert mlflow.active_run() is None
    exp = only_run_named(env, "hf-artifacts")
    assert exp["status"] == "finished"
    assert steps(env, exp["id"], "loss") == [2, 4, 6]
    models = mlflow.search_logged_models(
        experiment_ids=[exp["workspaceId"]],
        filter_string=f"source_run_id = '{exp['id']}'",
        output_format="list",
    )
    assert sorted(m.name for m in models) == ["checkpoint-3", "checkpoint-6"]
    assert all(m.status == LoggedModelStatus.READY for m in models)
    for m in models:
        # pyfunc copies the checkpoint under the model's artifacts/<name>/; every file is listable.
        local = tmp_path / "down" / m.name
        mlflow.artifacts.download_artifacts(artifact_uri=m.artifact_location, dst_path=str(local))
        got = {p.name: p.stat().st_size for p in local.rglob("*") if p.is_file()}
        assert "MLmodel" in got
        sent = tmp_path / "out" / m.name
        for name in ("model.safetensors", "config.json", "trainer_state.json"):
            assert got[name] == (sent / name).stat().st_size, name


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


def test_keras_mlflow_callback_and_log_model(mlflow_env: Env, tmp_path: Path) -> None:
    """MLflow's own Keras 3 callback (torch backend) logs each epoch; mlflow.keras.log_model uploads
    the model, which loads back and predicts the same."""
    import keras
    import numpy as np
    from mlflow.keras import MlflowCallback
    from test_keras import data, model

    env = mlflow_env
    mlflow.set_experiment("keras-via-mlflow")
    m = model()
    x, y = data()
    with mlflow.start_run(run_name="dense-mlflow") as run:
        m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[MlflowCallback()])
        info = mlflow.keras.log_model(m, name="dense", pip_requirements=["keras"])
    eid = run.info.run_id
    assert env.experiment(eid)["status"] == "finished"
    for name in ("loss", "mae", "val_loss", "val_mae"):
        assert steps(env, eid, name) == [0, 1, 2], name
    assert float(hyperparams(env, eid)["optimizer_learning_rate"]) == pytest.approx(0.01)
    # The callback uploads the model summary when training begins (this failed before Tora stored files).
    summary = mlflow.artifacts.load_text(f"runs:/{eid}/model_summary.txt")
    assert "dense" in summary.lower()
    loaded = mlflow.keras.load_model(info.model_uri, dst_path=str(tmp_path))
    assert isinstance(loaded, keras.Model)
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), m.predict(x[:4], verbose=0), rtol=1e-5)


def test_mlflow_ultralytics_yolo_metrics_and_weights(
    mlflow_env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`yolo settings mlflow=True`: Ultralytics' own MLflow callback logs params and per-epoch
    metrics, then uploads weights/best.pt and last.pt at the end (its failure there is only a
    warning, so the files are checked on the server). The test's name holds "test_mlflow": the
    callback stays silent under pytest otherwise."""
    from test_ultralytics import dataset

    env = mlflow_env
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    monkeypatch.setenv(
        "MLFLOW_EXPERIMENT_NAME", "yolo-via-mlflow"
    )  # else the callback names it after `project`
    from ultralytics import YOLO
    from ultralytics.utils import SETTINGS

    SETTINGS.update({"mlflow": True})
    try:
        model = YOLO("yolov8n.yaml")
        model.train(
            data=str(dataset(tmp_path / "ds")), epochs=1, imgsz=64, batch=2, workers=0, device="cpu",
            plots=False, amp=False, project=str(tmp_path / "runs"), name="tiny-mlflow", exist_ok=True,
            verbose=False, val=True,
        )  # fmt: skip
    finally:
        SETTINGS.update({"mlflow": False})
        mlflow.autolog(disable=True)  # the callback turned autologging on for every library
    assert mlflow.active_run() is None
    runs = mlflow.search_runs(
        experiment_names=["yolo-via-mlflow"],
        filter_string="attributes.run_name = 'tiny-mlflow'",
        output_format="list",
    )
    assert len(runs) == 1
    eid = runs[0].info.run_id
    exp = env.experiment(eid)
    assert exp["status"] == "finished"
    assert int(hyperparams(env, eid)["epochs"]) == 1 and int(hyperparams(env, eid)["imgsz"]) == 64
    for name in ("train/box_loss", "lr/pg0"):
        assert steps(env, eid, name) == [0], name
    # Validation after the epoch, then again on the best weights when training ends (step = epochs).
    assert steps(env, eid, "metrics/mAP50B") == [0, 1]
    client = mlflow.MlflowClient()
    weights = {f.path: f.file_size for f in client.list_artifacts(eid, "weights")}
    assert set(weights) == {"weights/best.pt", "weights/last.pt"}
    assert all(size is not None and size > 100_000 for size in weights.values()), weights
    best = Path(client.download_artifacts(eid, "weights/best.pt", str(tmp_path / "down")))
    assert best.stat().st_size == weights["weights/best.pt"]
    assert YOLO(str(best)).names == {0: "square"}


def test_hf_report_to_mlflow_then_registered_model(mlflow_env: Env, tmp_path: Path) -> None:
    """A user's whole loop: HF Trainer logs to Tora through `report_to="mlflow"`, then the trained
    model is logged into that run with `registered_model_name=` and loads back from the registry
    (`models:/<name>/1`) predicting what the trained model predicts."""
    import torch

    env = mlflow_env
    trainer = tiny_bert_trainer(tmp_path, "hf-registered")
    trainer.train()
    exp = only_run_named(env, "hf-registered")
    eid = exp["id"]
    assert steps(env, eid, "loss") == [2, 4, 6] and steps(env, eid, "eval_loss") == [3, 6]
    assert int(hyperparams(env, eid)["max_steps"]) == 6

    model = trainer.model.eval()
    with mlflow.start_run(run_id=eid):  # back into the run the callback ended
        # pickle: the default pt2 format would need an input example to trace the model with.
        info = mlflow.pytorch.log_model(
            model, name="classifier", registered_model_name="tiny-bert-hf", serialization_format="pickle",
            pip_requirements=["torch", "transformers"],
        )  # fmt: skip
    assert str(info.registered_model_version) == "1"  # a string over REST, as from an MLflow server
    version = mlflow.MlflowClient().get_model_version("tiny-bert-hf", "1")
    assert version.run_id == eid and version.status == "READY"
    # Tora's own API: the registered model sits in the run's workspace, version 1 linked to the run.
    models = env.server.api(env.key, "GET", f"/api/workspaces/{exp['workspaceId']}/models")
    listed = models if isinstance(models, list) else models["models"]
    [registered] = [m for m in listed if m["name"] == "tiny-bert-hf"]
    assert [(v["version"], v["runId"]) for v in registered["versions"]] == [(1, eid)]

    loaded = mlflow.pytorch.load_model("models:/tiny-bert-hf/1", dst_path=str(tmp_path)).eval()
    batch = torch.randint(1, 50, (3, 8), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = model(input_ids=batch).logits
        got = loaded(input_ids=batch).logits
    torch.testing.assert_close(got, want)
