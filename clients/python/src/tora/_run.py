"""A wandb-shaped API, so ``import tora as wandb`` works for the common calls.

Example::

    import tora as wandb

    run = wandb.init(project="cifar", name="resnet-18", config={"opt": {"lr": 0.1}}, group="sweep-3")
    for step in range(100):
        wandb.log({"loss": 1 / (step + 1), "val": {"acc": step / 100}})  # val/acc
    run.summary["best_acc"] = 0.99
    wandb.finish()

``project`` names a workspace (created when missing, where the key may, and said so once);
``notes`` is the description; ``config`` the hyperparameters (nested keys flattened to
``opt.lr``); ``group`` is stored on the experiment and filterable on the dashboard. A run not
finished by the script is finished at exit: ``failed`` after an uncaught exception, ``finished``
otherwise. ``mode="offline"`` spools everything for ``python -m tora sync``; ``mode="disabled"``
logs nothing; ``id=`` with ``resume=`` continues that run. ``Run`` hands everything to its
``Tora`` client through that client's public methods, so every call takes the client's one
delivery path (buffer, sender, spool). ``init`` itself is in ``tora._init``; the rest of
wandb's surface (``define_metric``, ``watch``, ``Artifact``...) in ``tora._wandb``. This module
holds the one current run of the process, shared by ``init``, ``setup`` and the integrations.
"""

from __future__ import annotations

import atexit
import logging
import sys
from argparse import Namespace
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Optional

from ._client import Tora
from ._errors import ToraError
from ._media import Image, Table

logger = logging.getLogger("tora")

# The one current run of the process: made by tora.init, tora.setup or an integration.
_current: Optional[Run] = None


class Config(MutableMapping[str, Any]):
    """The run's hyperparameters with attribute and item access; each change is sent to the
    server (nested values are kept here and sent flattened: ``opt.lr``).

    Example::

        run.config.batch_size = 64
        run.config.update({"opt": {"lr": 0.1}})
        print(run.config["opt"]["lr"], run.config.batch_size)
    """

    def __init__(self, run: Run, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_data", dict(data))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self.update({name: value})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._run._send_config()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Adds or changes keys (a dict, an ``argparse.Namespace`` or keywords) and sends them."""
        for arg in args:
            self._data.update(vars(arg) if isinstance(arg, Namespace) else dict(arg))
        kwargs.pop("allow_val_change", None)
        self._data.update(kwargs)
        self._run._send_config()

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"Config({self._data!r})"


class Summary(MutableMapping[str, Any]):
    """Final values of the run: the last logged value of each metric, or a value set here.

    Setting ``summary["best_acc"] = 0.99`` logs the point ``summary/best_acc`` (so it shows in
    the dashboard's columns and sorts); values must be numbers.
    """

    def __init__(self, run: Run) -> None:
        self._run = run
        self._data: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self._data:
            return self._data[key]
        return self._run._last[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._run.client.log(f"summary/{key}", value, step=max(self._run.step - 1, 0))
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self._run._last, **self._data})

    def __len__(self) -> int:
        return len({**self._run._last, **self._data})

    def __repr__(self) -> str:
        return f"Summary({dict(self)!r})"


class Run:
    """One experiment driven the wandb way; made by ``tora.init`` (or ``tora.setup``, or an
    integration that was given no run)."""

    def __init__(
        self,
        client: Tora,
        config: Mapping[str, Any],
        project: Optional[str] = None,
        group: Optional[str] = None,
        *,
        step: int = 0,
        by_integration: bool = False,
    ) -> None:
        self._client = client
        self.project = project
        self.group = group
        self.step = step
        # Started by a framework callback the user made (not by tora.init): another callback
        # starts its own run rather than joining this one (tora.integrations._common).
        self.by_integration = by_integration
        self._last: dict[str, Any] = {}
        self._warned: set[str] = set()
        self.finished = False
        self.config = Config(self, config)
        self.summary = Summary(self)

    @property
    def client(self) -> Tora:
        """The underlying ``Tora`` client (``log``, ``log_metrics``, ``flush``...)."""
        return self._client

    @property
    def id(self) -> Optional[str]:
        return self._client.experiment_id

    @property
    def name(self) -> Optional[str]:
        return self._client.name

    @property
    def notes(self) -> Optional[str]:
        return self._client.description

    @property
    def tags(self) -> list[str]:
        return self._client.tags

    @property
    def url(self) -> Optional[str]:
        return self._client.url

    def log(self, data: Mapping[str, Any], step: Optional[int] = None, commit: Optional[bool] = None) -> None:
        """Logs a dict of numbers at ``step`` (default: the run's step, advanced by each call).

        Nested dicts become ``outer/inner`` names; ``tora.Image`` values are logged as images and
        ``tora.Table`` values as CSV files (``tables/<name>/<step>.csv``) at that step; other
        values that are not numbers (text) are skipped with one warning per name.
        ``commit=False`` keeps the step for the next call.
        """
        at = self.step if step is None else step
        try:
            self._client.log_metrics(data, step=at)
        except TypeError:  # nested dicts, images, tables, text: keep the numbers
            data = self._numbers(data, media_step=at)
            self._client.log_metrics(data, step=at)
        self._last.update(data)
        self.step = at if commit is False else at + 1

    def _numbers(self, data: Mapping[str, Any], prefix: str = "", media_step: int = 0) -> dict[str, Any]:
        from ._checks import coerce_value

        out: dict[str, Any] = {}
        for key, value in data.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                out.update(self._numbers(value, name + "/", media_step))
                continue
            if isinstance(value, Image):
                self._client.log_image(name, value, step=media_step)
                continue
            if isinstance(value, Table):
                self._client.log_table(name, value, step=media_step)
                continue
            try:
                out[name] = coerce_value(value)
            except TypeError:
                if name not in self._warned:
                    self._warned.add(name)
                    logger.warning("Tora: %r is a %s, not a number: not logged", name, type(value).__name__)
        return out

    def _send_config(self) -> None:
        # Through the client's sender: spooled, not dropped, while the server is away.
        self._client.set_hyperparams(self.config.as_dict())

    def define_metric(self, name: str, step_metric: Optional[str] = None, **ignored: Any) -> None:
        """See ``tora.define_metric``."""
        from ._wandb import define_metric_of

        define_metric_of(self, name, step_metric, ignored)

    def watch(self, *args: Any, **kwargs: Any) -> None:
        """See ``tora.watch`` (a no-op)."""
        from ._wandb import watch

        watch(*args, **kwargs)

    def log_artifact(self, artifact: Any, *args: Any, **kwargs: Any) -> Any:
        """See ``tora.log_artifact`` (a no-op)."""
        from ._wandb import log_artifact

        return log_artifact(artifact, *args, **kwargs)

    def use_artifact(self, artifact: Any, *args: Any, **kwargs: Any) -> Any:
        """See ``tora.use_artifact`` (a no-op)."""
        from ._wandb import use_artifact

        return use_artifact(artifact, *args, **kwargs)

    def save(self, *args: Any, **kwargs: Any) -> list[str]:
        """See ``tora.save`` (a no-op)."""
        from ._wandb import save

        return save(*args, **kwargs)

    def finish(self, exit_code: Optional[int] = None, quiet: Optional[bool] = None) -> None:
        """Flushes, stops system metrics and sets the status: ``finished`` for exit code 0 or
        None, ``failed`` otherwise (unless the run was given an end status already). Idempotent."""
        global _current
        if self.finished:
            return
        self.finished = True
        if _current is self:
            _current = None
        # One status, after the last points and config changes.
        self._client.shutdown(status="finished" if not exit_code else "failed")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Any, tb: Any) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r})"


def current() -> Optional[Run]:
    """The current run (``tora.init``, ``tora.setup`` or an integration's), not finished yet."""
    return _current


def make_current(run: Run) -> None:
    """Makes ``run`` the current one, finishing the one before (``tora.setup``)."""
    global _current
    if _current is not None and _current is not run:
        _current.finish()
    _current = run
    _register_exit()


def _run() -> Run:
    if _current is None:
        raise ToraError("call tora.init(...) before tora.log()")
    return _current


def log(data: Mapping[str, Any], step: Optional[int] = None, commit: Optional[bool] = None) -> None:
    """Logs to the current run (see ``Run.log``).

    Example::

        tora.log({"loss": 0.25, "lr": 1e-3})
    """
    _run().log(data, step, commit)


def finish(exit_code: Optional[int] = None, quiet: Optional[bool] = None) -> None:
    """Finishes the current run (see ``Run.finish``); nothing to do without one."""
    if _current is not None:
        _current.finish(exit_code)


_exit_registered = False


def _register_exit() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(_finish_at_exit)


def _finish_at_exit() -> None:
    # An uncaught exception leaves sys.last_value behind before atexit handlers run.
    if _current is not None:
        _current.finish(exit_code=1 if getattr(sys, "last_value", None) is not None else 0)
