"""Keras 3 → Tora: a callback for ``model.fit(callbacks=[...])``.

Example::

    from tora.integrations.keras import ToraCallback

    model.fit(x, y, epochs=10, validation_split=0.1, callbacks=[ToraCallback(project="tabular")])

Logs every epoch's logs (``loss``, ``val_loss``, ``accuracy``...) at the epoch number as step.
``log_every_n_batches=N`` also logs the training logs every N batches as ``batch/<name>`` at
the global batch number; without it the callback has no batch hook, so Keras keeps its
asynchronous batch dispatch. The fit parameters (epochs, steps) and the optimizer's config are
the hyperparameters; the run is ``finished`` at train end (``failed`` when the script dies).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

import keras

from .._flatten import flatten
from .._run import Run
from ._common import end_run, number, run_for


class ToraCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Logs a Keras ``fit`` to Tora; other keyword arguments go to ``tora.init``."""

    def __init__(self, log_every_n_batches: Optional[int] = None, **init_options: Any) -> None:
        super().__init__()
        if log_every_n_batches is not None and log_every_n_batches < 1:
            raise ValueError("log_every_n_batches must be a positive int or None")
        self.log_every_n_batches = log_every_n_batches
        self._options = init_options
        self.run: Optional[Run] = None
        self._batches = 0
        if log_every_n_batches:
            # Only then a batch hook: Keras turns async dispatch off for callbacks that have one.
            self.on_train_batch_end = self._on_train_batch_end

    def on_train_begin(self, logs: Optional[Mapping[str, Any]] = None) -> None:
        config: dict[str, Any] = {"fit": dict(self.params or {})}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            try:
                config["optimizer"] = flatten(optimizer.get_config())
            except Exception:  # an optimizer without a serialisable config
                config["optimizer"] = {"name": type(optimizer).__name__}
        if self.model is not None:
            config["model"] = {"name": self.model.name, "params": self.model.count_params()}
        if self.run is None or self.run.finished:
            self.run = run_for(self._options, config)

    def _values(self, logs: Optional[Mapping[str, Any]], prefix: str = "") -> dict[str, float]:
        out = {}
        for key, value in (logs or {}).items():
            v = number(value)
            if v is not None:
                out[prefix + key] = v
        return out

    def on_epoch_end(self, epoch: int, logs: Optional[Mapping[str, Any]] = None) -> None:
        values = self._values(logs)
        if self.run is not None and values:
            self.run.client.log_metrics(values, step=epoch)

    def _on_train_batch_end(self, batch: int, logs: Optional[Mapping[str, Any]] = None) -> None:
        self._batches += 1
        if (
            self.run is not None
            and self.log_every_n_batches
            and self._batches % self.log_every_n_batches == 0
        ):
            self.run.client.log_metrics(self._values(logs, "batch/"), step=self._batches)

    def on_train_end(self, logs: Optional[Mapping[str, Any]] = None) -> None:
        end_run(self.run)
