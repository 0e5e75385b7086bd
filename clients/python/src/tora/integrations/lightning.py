"""Lightning → Tora: a ``Logger`` for ``Trainer(logger=...)``.

Example::

    import lightning as L
    from tora.integrations.lightning import ToraLogger

    trainer = L.Trainer(max_epochs=3, logger=ToraLogger(project="vision", name="resnet"))
    trainer.fit(model, datamodule=dm)

``log_hyperparams`` takes a dict or ``argparse.Namespace`` (nested keys flattened to ``a.b``);
``log_metrics`` logs what ``self.log`` collected at the trainer's step, ``epoch`` included as a
series of its own (a usable x-axis); ``save()`` does no I/O (points stream in the background);
``finalize("success")`` sets the run ``finished``, any other status ``failed``.
``log_image(key, images, step)`` takes a list (numpy arrays, PIL images, torch tensors ``CxHxW``
or ``HxWxC``, file paths), as ``WandbLogger.log_image`` does: one image is logged as ``key``,
several as ``key/0``, ``key/1``... Only rank zero talks to Tora. Works with ``lightning`` and
with the older ``pytorch_lightning`` package.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping
from typing import Any, Optional, Union

try:
    from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # the standalone package
    from pytorch_lightning.loggers.logger import Logger, rank_zero_experiment
    from pytorch_lightning.utilities import rank_zero_only

from .._run import Run
from ._common import end_run, image_array, number, run_for


class ToraLogger(Logger):  # type: ignore[misc]
    """Logs a Lightning run to Tora; keyword arguments go to ``tora.init`` (``project``,
    ``tags``, ``group``, ``notes``, ``server_url``, ``api_key``...)."""

    def __init__(self, name: Optional[str] = None, **init_options: Any) -> None:
        super().__init__()
        self._name = name
        self._options = init_options
        self._run: Optional[Run] = None

    @property
    def name(self) -> str:
        return self._name or "lightning"

    @property
    def version(self) -> str:
        return (self._run.id if self._run is not None else None) or ""

    @property
    @rank_zero_experiment
    def experiment(self) -> Run:
        """The Tora run (started on first use, on rank zero only)."""
        if self._run is None or self._run.finished:
            options = dict(self._options)
            if self._name:
                options["name"] = self._name
            self._run = run_for(options)
        return self._run

    @rank_zero_only
    def log_hyperparams(self, params: Union[Mapping[str, Any], Namespace], *args: Any, **kwargs: Any) -> None:
        if isinstance(params, Namespace):
            params = vars(params)
        self.experiment.config.update(dict(params))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        values = {}
        for key, value in metrics.items():
            v = number(value)
            if v is not None:
                values[key] = v
        if values:
            self.experiment.client.log_metrics(values, step=step)

    @rank_zero_only
    def log_image(self, key: str, images: list[Any], step: Optional[int] = None, **kwargs: Any) -> None:
        """Logs images of ``key`` at ``step`` (encoded and uploaded by the client's sender thread).

        Example::

            logger.log_image("samples", [batch[0], batch[1]], step=trainer.global_step)
        """
        if not isinstance(images, list):
            raise TypeError(f'Expected a list as "images", found {type(images)}')
        client = self.experiment.client
        for i, image in enumerate(images):
            client.log_image(key if len(images) == 1 else f"{key}/{i}", image_array(image), step=step)

    def save(self) -> None:
        # Points are buffered and sent by the client's background sender: nothing to write here.
        pass

    @rank_zero_only
    def finalize(self, status: str) -> None:
        # Left open so trainer.test() after fit() still logs into it (see end_run).
        end_run(self._run, success=status == "success")
