"""Ultralytics YOLO → Tora.

Example::

    from ultralytics import YOLO
    from tora.integrations.ultralytics import add_tora_callbacks

    model = YOLO("yolo11n.yaml")
    add_tora_callbacks(model, project="detection")
    model.train(data="coco8.yaml", epochs=3)

The trainer's arguments become hyperparameters; each epoch logs the training losses
(``train/box_loss``...), the learning rates (``lr/pg0``...) and the validation metrics
(``metrics/mAP50(B)``, ``val/box_loss``...) at the epoch number (from 1) as step; the final
validation of the best weights gives summary values (``summary/metrics/mAP50(B)``...); the run is
``finished`` at train end (``failed`` when the script dies). At train end the result plots of the
run directory (``results.png``, confusion matrices, PR curves, batch previews: every PNG and JPEG)
are uploaded as ``plots/<file>``, ``results.csv`` as itself, and the best weights as
``weights/best.pt`` (``log_model=False`` leaves them out; ``log_plots=False`` the plots). Only
rank 0 talks to Tora.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ultralytics.utils import RANK

from .._client import Tora
from .._run import Run
from ._common import end_run, number, run_for


class ToraYoloCallbacks:
    """The callbacks ``add_tora_callbacks`` adds; ``run`` is the Tora run once training starts."""

    def __init__(self, options: dict[str, Any], log_plots: bool = True, log_model: bool = True) -> None:
        self.options = options
        self.log_plots = log_plots
        self.log_model = log_model
        self.run: Optional[Run] = None
        self._in_epoch = False

    def on_pretrain_routine_end(self, trainer: Any) -> None:
        if RANK not in (-1, 0) or (self.run is not None and not self.run.finished):
            return
        options = dict(self.options)
        options.setdefault("name", str(getattr(trainer.args, "name", None) or "yolo"))
        self.run = run_for(options, {k: v for k, v in vars(trainer.args).items()})

    def _log(self, trainer: Any, values: dict[str, Any]) -> None:
        if self.run is None:
            return
        out = {}
        for key, value in values.items():
            v = number(value)
            if v is not None:
                out[str(key)] = v
        if out:
            self.run.client.log_metrics(out, step=int(trainer.epoch) + 1)

    def on_train_epoch_end(self, trainer: Any) -> None:
        self._in_epoch = True
        losses = trainer.label_loss_items(trainer.tloss, prefix="train")
        self._log(trainer, {**trainer.lr, **losses})  # lr keys are "lr/pg0"...

    def on_fit_epoch_end(self, trainer: Any) -> None:
        if self._in_epoch:
            self._in_epoch = False
            self._log(trainer, dict(trainer.metrics or {}))
        elif self.run is not None:  # the final validation of the best weights: totals, not a step
            for key, value in (trainer.metrics or {}).items():
                v = number(value)
                if v is not None:
                    self.run.summary[str(key)] = v

    def on_train_end(self, trainer: Any) -> None:
        if self.run is not None and not self.run.finished:
            self._upload_results(trainer, self.run.client)
        end_run(self.run)

    def _upload_results(self, trainer: Any, client: Tora) -> None:
        save_dir = Path(trainer.save_dir)
        if self.log_plots:
            for plot in sorted([*save_dir.glob("*.png"), *save_dir.glob("*.jpg")]):
                client.log_file(plot, name=f"plots/{plot.name}")
            if (save_dir / "results.csv").is_file():
                client.log_file(save_dir / "results.csv")
        best = Path(trainer.best) if getattr(trainer, "best", None) else None
        if self.log_model and best is not None and best.is_file():
            client.log_file(best, name=f"weights/{best.name}")
        client.flush(timeout=120)  # what is not sent by then is sent (or spooled) at exit


def add_tora_callbacks(
    model: Any, *, log_plots: bool = True, log_model: bool = True, **init_options: Any
) -> ToraYoloCallbacks:
    """Adds Tora's callbacks to a ``YOLO`` model; ``log_plots``/``log_model``: upload the result
    plots/the best weights at train end; other keyword arguments go to ``tora.init``."""
    cb = ToraYoloCallbacks(init_options, log_plots, log_model)
    for event in ("on_pretrain_routine_end", "on_train_epoch_end", "on_fit_epoch_end", "on_train_end"):
        model.add_callback(event, getattr(cb, event))
    return cb
