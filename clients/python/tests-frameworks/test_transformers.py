"""Hugging Face Trainer → Tora: a tiny BERT built from a config trains a few steps on CPU."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

import tora
from conftest import Env
from tora.integrations.transformers import ToraCallback


class Toy(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, n: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (n, 8), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ids = self.ids[i]
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": int(ids[0] > 25)}


def hp(env: Env, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in env.experiment(eid)["hyperparams"]}


@pytest.mark.integration
def test_trainer_logs_hyperparams_curves_totals_and_status(env: Env, tmp_path: Path) -> None:
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=2,
    )
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=6, logging_steps=2, eval_strategy="steps", eval_steps=3,
        per_device_train_batch_size=4, per_device_eval_batch_size=4, learning_rate=1e-3, report_to="none",
        save_strategy="no", use_cpu=True, disable_tqdm=True, run_name="tiny-bert",
    )  # fmt: skip
    callback = ToraCallback(project="hf", group="hf-test", system_metrics=False, **env.kwargs())
    trainer = Trainer(
        model=model, args=args, train_dataset=Toy(32), eval_dataset=Toy(8), callbacks=[callback]
    )
    trainer.train()
    assert callback.run is not None
    eid = callback.run.id
    assert eid is not None
    exp = env.experiment(eid)
    assert exp["status"] == "finished" and exp["name"] == "tiny-bert" and exp["group"] == "hf-test"
    params = hp(env, eid)
    assert params["args.learning_rate"] == 1e-3 and params["args.max_steps"] == 6
    assert params["model.hidden_size"] == 16 and params["model.num_hidden_layers"] == 1
    assert "package.transformers" in exp["runInfo"] and "package.torch" in exp["runInfo"]

    names = set(env.summaries(eid))
    assert {"train/loss", "train/learning_rate", "train/epoch", "eval/loss", "eval/runtime"} <= names
    assert [p["step"] for p in env.points(eid, "train/loss")] == [2, 4, 6]
    assert [p["step"] for p in env.points(eid, "eval/loss")] == [3, 6]
    for total in ("train_runtime", "train_samples_per_second", "total_flos", "train_loss"):
        assert len(env.points(eid, f"summary/{total}")) == 1, total
    assert "train/train_runtime" not in names
    files = env.server.api(env.key, "GET", f"/api/experiments/{eid}/files")["files"]
    assert not [f for f in files if f["path"].startswith("model/")]  # log_model is off by default

    # evaluate() after train() still lands in the same run, at the last global step.
    trainer.evaluate()
    tora.finish()
    assert [p["step"] for p in env.points(eid, "eval/loss")] == [3, 6, 6]
    assert env.experiment(eid)["status"] == "finished"


def download(env: Env, eid: str, path: str) -> bytes:
    req = urllib.request.Request(f"{env.url}/api/experiments/{eid}/files/{path}")
    req.add_header("x-api-key", env.key)
    with urllib.request.urlopen(req, timeout=30) as r:
        return bytes(r.read())


@pytest.mark.integration
def test_log_model_uploads_the_final_model_that_loads_back(env: Env, tmp_path: Path) -> None:
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
    )  # fmt: skip
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4, report_to="none",
        save_strategy="no", use_cpu=True, disable_tqdm=True,
    )  # fmt: skip
    callback = ToraCallback(log_model=True, system_metrics=False, **env.kwargs())
    Trainer(model=model, args=args, train_dataset=Toy(8), callbacks=[callback]).train()
    assert callback.run is not None and callback.run.id is not None
    eid = callback.run.id
    listed = env.server.api(env.key, "GET", f"/api/experiments/{eid}/files?prefix=model/")["files"]
    paths = {f["path"] for f in listed}
    assert {"model/config.json", "model/model.safetensors"} <= paths
    local = tmp_path / "downloaded"
    local.mkdir()
    for path in paths:
        (local / path.split("/", 1)[1]).write_bytes(download(env, eid, path))
    loaded = BertForSequenceClassification.from_pretrained(str(local))
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor.cpu(), loaded.state_dict()[name]), name
    tora.finish()


def test_only_the_main_process_talks_to_tora() -> None:
    class State:
        is_world_process_zero = False
        global_step = 1

    cb = ToraCallback(server_url="http://127.0.0.1:9", api_key="unused")
    cb.on_train_begin(None, State(), None)
    cb.on_log(None, State(), None, logs={"loss": 1.0})
    cb.on_train_end(None, State(), None)
    assert cb.run is None
