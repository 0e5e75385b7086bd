"""Hugging Face ``Trainer`` → Tora.

Example::

    from transformers import Trainer, TrainingArguments
    from tora.integrations.transformers import ToraCallback

    args = TrainingArguments("out", report_to="none", logging_steps=10)
    trainer = Trainer(model, args, train_dataset=ds, callbacks=[ToraCallback(project="nlp")])
    trainer.train()

At train begin the ``TrainingArguments`` become hyperparameters (``args.learning_rate``...) with
the model config (``model.hidden_size``...); each ``on_log`` value is logged at
``state.global_step`` as ``train/<name>`` or ``eval/<name>``; the one-off totals (runtime,
samples/s, steps/s, final loss, FLOPs) become summary values (``summary/<name>``); the status is
``finished`` at train end (``failed`` when the script dies of an exception). With
``log_model=True`` the final model (``save_pretrained``, with its tokenizer or processor) is
uploaded at train end under ``model/``; off by default, as models can be large. Only the main
process (``is_world_process_zero``) talks to Tora.
"""

from __future__ import annotations

import shutil
import tempfile
from typing import Any, Optional

from transformers import TrainerCallback

from .._flatten import flatten
from .._run import Run
from ._common import end_run, number, run_for

# Logged once at the end of train(): totals, not curves.
SUMMARY_KEYS = frozenset(
    ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss")
)


class ToraCallback(TrainerCallback):  # type: ignore[misc]
    """Logs a ``Trainer`` run to Tora; keyword arguments go to ``tora.init`` (``project``,
    ``name``, ``tags``, ``group``, ``notes``, ``server_url``, ``api_key``...)."""

    def __init__(self, log_model: bool = False, **init_options: Any) -> None:
        self.log_model = log_model
        self._options = init_options
        self.run: Optional[Run] = None
        self._names: dict[str, str] = {}

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or (self.run is not None and not self.run.finished):
            return
        config = {"args": flatten(args.to_dict())}
        model_config = getattr(model, "config", None)
        if model_config is not None and callable(getattr(model_config, "to_dict", None)):
            config["model"] = flatten(model_config.to_dict())
        options = dict(self._options)
        if "name" not in options and getattr(args, "run_name", None):
            options["name"] = args.run_name
        self.run = run_for(options, config)

    def _name(self, key: str) -> str:
        name = self._names.get(key)
        if name is None:
            if key.startswith("eval_"):
                name = "eval/" + key[5:]
            elif key.startswith("test_"):
                name = "test/" + key[5:]
            else:
                name = "train/" + key
            self._names[key] = name
        return name

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        run = self.run
        if run is None or not state.is_world_process_zero or not logs:
            return
        metrics = {}
        for key, value in logs.items():
            v = number(value)
            if v is None:
                continue
            if key in SUMMARY_KEYS:
                run.summary[key] = v
            else:
                metrics[self._name(key)] = v
        if metrics:
            run.client.log_metrics(metrics, step=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        # The run stays open: trainer.evaluate() after train() still logs into it (see end_run).
        if not state.is_world_process_zero:
            return
        if self.log_model and model is not None and self.run is not None and not self.run.finished:
            self._upload_model(model, kwargs.get("processing_class") or kwargs.get("tokenizer"))
        end_run(self.run)

    def _upload_model(self, model: Any, processor: Any) -> None:
        assert self.run is not None
        directory = tempfile.mkdtemp(prefix="tora-model-")
        try:
            model.save_pretrained(directory)
            if callable(getattr(processor, "save_pretrained", None)):
                processor.save_pretrained(directory)
            self.run.client.log_artifact(directory, prefix="model")
            # Sent or spooled (the spool keeps its own copy) before the directory goes.
            self.run.client.flush()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
