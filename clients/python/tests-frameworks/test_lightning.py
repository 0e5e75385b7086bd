"""Lightning → Tora: a tiny regression module trains two epochs on CPU with ToraLogger."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch

import tora
from conftest import Env
from tora.integrations.lightning import ToraLogger

pytestmark = pytest.mark.integration


class Regression(L.LightningModule):
    def __init__(self, lr: float = 0.05, opt: Any = None, fail_at: int = -1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(3, 1)

    def training_step(self, batch: Any, i: int) -> torch.Tensor:
        if self.global_step == self.hparams.fail_at:
            raise RuntimeError("diverged")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, i: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class WithImages(Regression):
    """Logs images from validation as a user would: ``self.logger.log_image``."""

    def on_validation_epoch_end(self) -> None:
        g = torch.Generator().manual_seed(self.current_epoch)
        chw = torch.rand(3, 8, 6, generator=g)  # float CxHxW, as torchvision makes them
        self.images.append(chw)
        self.logger.log_image("samples", [chw], step=self.current_epoch)
        hwc = (torch.rand(8, 6, 3, generator=g) * 255).to(torch.uint8)
        self.logger.log_image("pair", [hwc, hwc.numpy()], step=self.current_epoch)


def loader() -> torch.utils.data.DataLoader:  # type: ignore[type-arg]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=g)
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4
    )


def trainer(logger: ToraLogger, tmp_path: Path) -> L.Trainer:
    return L.Trainer(
        max_epochs=2, logger=logger, log_every_n_steps=2, accelerator="cpu", enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
    )  # fmt: skip


def test_fit_logs_hyperparams_metrics_epoch_and_finishes(env: Env, tmp_path: Path) -> None:
    logger = ToraLogger(name="regression", project="pl", system_metrics=False, **env.kwargs())
    module = Regression(lr=0.05, opt={"name": "sgd", "momentum": 0.0})
    trainer(logger, tmp_path).fit(module, loader(), loader())
    eid = logger.version
    exp = env.experiment(eid)
    assert exp["name"] == "regression" and exp["status"] == "finished"
    params = {h["key"]: h["value"] for h in exp["hyperparams"]}
    assert params == {"lr": 0.05, "opt.name": "sgd", "opt.momentum": 0.0, "fail_at": -1}
    # 8 batches per epoch, logged every 2 steps: steps 1, 3, ..., 15 (Lightning logs step - 1).
    train = env.points(eid, "train_loss")
    assert [p["step"] for p in train] == [1, 3, 5, 7, 9, 11, 13, 15]
    assert [p["step"] for p in env.points(eid, "val_loss")] == [7, 15]
    epoch = env.points(eid, "epoch")  # its own series: an x-axis for the others
    assert {p["value"] for p in epoch} == {0.0, 1.0}
    assert "package.lightning" in exp["runInfo"]
    tora.finish()


def test_log_image_takes_a_list_of_tensors_and_arrays(env: Env, tmp_path: Path) -> None:
    logger = ToraLogger(name="images", system_metrics=False, **env.kwargs())
    module = WithImages()
    module.images = []
    trainer(logger, tmp_path).fit(module, loader(), loader())
    eid = logger.version
    assert logger.experiment.client.flush(timeout=30)

    def media(name: str) -> list[Any]:
        return list(env.server.api(env.key, "GET", f"/api/experiments/{eid}/media?name={name}")["media"])

    samples = media("samples")
    assert [(m["step"], m["width"], m["height"]) for m in samples] == [(0, 6, 8), (1, 6, 8)]
    req = urllib.request.Request(f"{env.url}/api/experiments/{eid}/files/{samples[1]['path']}")
    req.add_header("x-api-key", env.key)
    with urllib.request.urlopen(req, timeout=30) as r:
        png = r.read()
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)))
    expected = (module.images[-1].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    assert pixels.shape == (8, 6, 3) and (pixels == expected).all()
    assert [m["step"] for m in media("pair/0")] == [0, 1] and [m["step"] for m in media("pair/1")] == [0, 1]
    with pytest.raises(TypeError, match="list"):
        logger.log_image("x", module.images[0])
    tora.finish()


def test_an_exception_in_training_marks_the_run_failed(env: Env, tmp_path: Path) -> None:
    logger = ToraLogger(name="diverges", system_metrics=False, **env.kwargs())
    with pytest.raises(RuntimeError, match="diverged"):
        trainer(logger, tmp_path).fit(Regression(fail_at=5), loader())
    assert env.experiment(logger.version)["status"] == "failed"
    assert len(env.points(logger.version, "train_loss")) == 2  # steps 1 and 3 arrived
    tora.finish(exit_code=1)


def test_save_does_no_network_io(tmp_path: Path) -> None:
    logger = ToraLogger(server_url="http://127.0.0.1:9", api_key="unused")
    logger.save()  # would fail against a closed port if it talked to the server
    assert logger.version == ""
