"""Several trainings in one process (a sweep loop): a callback or logger the user made starts a
run of its own, so trainings never merge; it joins a run only when the user started one with
``tora.init`` for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_keras import data as keras_data
from test_keras import model as keras_model
from test_lightning import Regression, loader, trainer
from test_transformers import Toy
from test_ultralytics import dataset
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

import tora
from conftest import Env
from tora.integrations.keras import ToraCallback as KerasCallback
from tora.integrations.lightning import ToraLogger
from tora.integrations.transformers import ToraCallback

pytestmark = pytest.mark.integration


def hf_trainer(tmp_path: Path, run_name: str, lr: float, callback: Any) -> Trainer:
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        num_labels=2,
    )  # fmt: skip
    args = TrainingArguments(
        output_dir=str(tmp_path / run_name), max_steps=4, logging_steps=2, per_device_train_batch_size=4,
        learning_rate=lr, report_to="none", save_strategy="no", use_cpu=True, disable_tqdm=True,
        run_name=run_name,
    )  # fmt: skip
    return Trainer(
        model=BertForSequenceClassification(config), args=args, train_dataset=Toy(16), callbacks=[callback]
    )


def hp(env: Env, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in env.experiment(eid)["hyperparams"]}


def test_two_trainers_then_a_lightning_logger_make_three_runs(env: Env, tmp_path: Path) -> None:
    callbacks = []
    for name, lr in (("trial-a", 1e-3), ("trial-b", 3e-3)):
        cb = ToraCallback(group="hf-sweep", system_metrics=False, **env.kwargs())
        hf_trainer(tmp_path, name, lr, cb).train()
        callbacks.append(cb)
    logger = ToraLogger(name="after-hf", system_metrics=False, **env.kwargs())
    trainer(logger, tmp_path).fit(Regression(lr=0.05), loader())
    tora.finish()

    ids = [cb.run.id for cb in callbacks if cb.run is not None] + [logger.version]
    assert len(set(ids)) == 3 and None not in ids
    a, b, pl = (env.experiment(i) for i in ids)
    assert (a["name"], b["name"], pl["name"]) == ("trial-a", "trial-b", "after-hf")
    assert a["status"] == b["status"] == pl["status"] == "finished"
    assert hp(env, a["id"])["args.learning_rate"] == 1e-3 and hp(env, b["id"])["args.learning_rate"] == 3e-3
    for run in (a, b):  # each run holds its own training only: steps 2 and 4 once each
        assert [p["step"] for p in env.points(run["id"], "train/loss")] == [2, 4]
    assert "train/loss" not in env.summaries(pl["id"]) and "train_loss" in env.summaries(pl["id"])
    assert not any(k.startswith("args.") for k in hp(env, pl["id"]))


def test_callbacks_join_the_run_the_user_started(env: Env, tmp_path: Path) -> None:
    run = tora.init(name="user-run", config={"sweep": 1}, system_metrics=False, **env.kwargs())
    cb = ToraCallback()
    hf_trainer(tmp_path, "ignored-name", 1e-3, cb).train()
    logger = ToraLogger()
    trainer(logger, tmp_path).fit(Regression(lr=0.05), loader())
    assert cb.run is run and logger.version == run.id
    assert env.experiment(run.id or "")["status"] == "running"  # the user ends it
    tora.log({"extra": 1.0})
    tora.finish()
    exp = env.experiment(run.id or "")
    assert exp["name"] == "user-run" and exp["status"] == "finished"
    names = set(env.summaries(run.id or ""))
    assert {"train/loss", "train_loss", "extra"} <= names
    assert hp(env, run.id or "")["sweep"] == 1


def test_two_keras_fits_with_their_own_callbacks_make_two_runs(env: Env) -> None:
    x, y = keras_data()
    callbacks = [KerasCallback(name=f"keras-{i}", system_metrics=False, **env.kwargs()) for i in range(2)]
    for cb in callbacks:
        keras_model().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
    tora.finish()
    ids = [cb.run.id for cb in callbacks if cb.run is not None]
    assert len(set(ids)) == 2 and None not in ids
    for i, eid in enumerate(ids):
        exp = env.experiment(eid or "")
        assert exp["name"] == f"keras-{i}" and exp["status"] == "finished"
        assert [p["step"] for p in env.points(eid or "", "loss")] == [0, 1]


def test_two_yolo_trainings_make_two_runs(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    from tora.integrations.ultralytics import add_tora_callbacks

    data = str(dataset(tmp_path / "ds"))
    added = []
    for name in ("yolo-a", "yolo-b"):
        model = YOLO("yolov8n.yaml")
        added.append(add_tora_callbacks(model, system_metrics=False, **env.kwargs()))
        model.train(
            data=data, epochs=1, imgsz=64, batch=2, workers=0, device="cpu", plots=False, amp=False,
            project=str(tmp_path / "runs"), name=name, exist_ok=True, verbose=False, val=True,
        )  # fmt: skip
    tora.finish()
    ids = [cb.run.id for cb in added if cb.run is not None]
    assert len(set(ids)) == 2 and None not in ids
    for name, eid in zip(("yolo-a", "yolo-b"), ids):
        exp = env.experiment(eid or "")
        assert exp["name"] == name and exp["status"] == "finished"
        assert [p["step"] for p in env.points(eid or "", "train/box_loss")] == [1]
