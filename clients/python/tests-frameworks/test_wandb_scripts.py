"""Typical W&B example scripts run with only ``import wandb`` changed to ``import tora as wandb``,
and their data arrives. (``wandb.Image``/``wandb.Table`` belong to the files work and are left
out of these scripts.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import Env

pytestmark = pytest.mark.integration

# After W&B's "Simple PyTorch integration" example.
PYTORCH = """
import torch
import torch.nn as nn
import tora as wandb

config = dict(epochs=3, classes=2, batch_size=8, learning_rate=0.01, architecture="MLP")


def make(config):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    y = (x.sum(1) > 0).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=config.batch_size)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, config.classes))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return model, loader, criterion, optimizer


with wandb.init(project="pytorch-demo", name="mlp", config=config) as run:
    config = wandb.config
    model, loader, criterion, optimizer = make(config)
    wandb.watch(model, criterion, log="all", log_freq=10)
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch")
    example_ct = 0
    for epoch in range(config.epochs):
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            example_ct += len(x)
            wandb.log({"epoch": epoch, "loss": loss}, step=example_ct)
        with torch.no_grad():
            acc = sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / 64
        wandb.log({"val/accuracy": acc, "epoch": epoch, "weights": wandb.Histogram([1, 2])})
    run.summary["test_accuracy"] = acc
    torch.save(model.state_dict(), "model.pt")
    wandb.save("model.pt")
    artifact = wandb.Artifact("mlp", type="model")
    artifact.add_file("model.pt")
    run.log_artifact(artifact)
    print(run.id)
"""

# After W&B's Keras examples, logging from a LambdaCallback (the script keeps its own callback).
KERAS = """
import numpy as np
import keras
import tora as wandb

wandb.login()
run = wandb.init(project="keras-demo", name="dense", config={"epochs": 3, "batch_size": 16, "lr": 0.01})
config = wandb.config
x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
y = x.sum(axis=1, keepdims=True)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.lr), loss="mse", metrics=["mae"])
log = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: wandb.log({**logs, "epoch": epoch}))
model.fit(x, y, epochs=config.epochs, batch_size=config.batch_size, validation_split=0.25, verbose=0,
          callbacks=[log])
wandb.config.update({"params": model.count_params()})
print(run.id)
wandb.finish()
"""


def run_script(source: str, env: Env, tmp_path: Path) -> str:
    script = tmp_path / "train.py"
    script.write_text(source)
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TORA_BASE_URL": env.url, "TORA_API_KEY": env.key, "TORA_SYSTEM_METRICS": "0"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "AttributeError" not in out.stderr
    return out.stdout.strip().splitlines()[-1]


def hp(env: Env, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in env.experiment(eid)["hyperparams"]}


def test_a_pytorch_wandb_script(env: Env, tmp_path: Path) -> None:
    eid = run_script(PYTORCH, env, tmp_path)
    exp = env.experiment(eid)
    assert exp["name"] == "mlp" and exp["status"] == "finished"
    assert hp(env, eid)["learning_rate"] == 0.01 and hp(env, eid)["architecture"] == "MLP"
    assert exp["runInfo"]["x_axis.val/*"] == "epoch"
    loss = env.points(eid, "loss")
    assert [p["step"] for p in loss] == [8 * i for i in range(1, 25)]  # 8 batches x 3 epochs
    assert len(env.points(eid, "val/accuracy")) == 3
    assert [p["value"] for p in env.points(eid, "epoch")][-1] == 2
    assert len(env.points(eid, "summary/test_accuracy")) == 1
    assert "weights" not in env.summaries(eid)


def test_a_keras_wandb_script(env: Env, tmp_path: Path) -> None:
    eid = run_script(KERAS, env, tmp_path)
    exp = env.experiment(eid)
    assert exp["name"] == "dense" and exp["status"] == "finished"
    params = hp(env, eid)
    assert params["epochs"] == 3 and params["lr"] == 0.01 and params["params"] > 0
    for name in ("loss", "mae", "val_loss", "val_mae"):
        assert len(env.points(eid, name)) == 3, name
    workspaces = env.server.api(env.key, "GET", "/api/workspaces")["workspaces"]
    assert exp["workspaceId"] == next(w["id"] for w in workspaces if w["name"] == "keras-demo")
