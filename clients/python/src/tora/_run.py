"""A wandb-shaped API, so ``import tora as wandb`` works for the common calls.

Example::

    import tora as wandb

    run = wandb.init(project="cifar", name="resnet-18", config={"opt": {"lr": 0.1}}, group="sweep-3")
    for step in range(100):
        wandb.log({"loss": 1 / (step + 1), "val": {"acc": step / 100}})  # val/acc
    run.summary["best_acc"] = 0.99
    wandb.finish()

``project`` names a workspace (created when missing, where the key may); ``notes`` is the
description; ``config`` the hyperparameters (nested keys flattened to ``opt.lr``); ``group`` is
stored on the experiment and filterable on the dashboard. A run not finished by the script is
finished at exit: ``failed`` after an uncaught exception, ``finished`` otherwise.
"""

from __future__ import annotations

import atexit
import logging
import sys
import time
from argparse import Namespace
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Optional, Sequence, Union

from ._client import Tora
from ._config import resolve
from ._errors import AuthError, ToraError, TransportError
from ._flatten import flatten
from ._http import Transport
from ._hyperparams import hp_to_tora_format
from ._media import Image, Table

logger = logging.getLogger("tora")

# wandb arguments that have no meaning here: accepted (so scripts run unchanged) and ignored.
_IGNORED = frozenset(("entity", "job_type", "dir", "save_code", "reinit", "resume", "anonymous", "settings"))
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
        self._run._client.log(f"summary/{key}", value, step=max(self._run.step - 1, 0))
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
    """One experiment driven the wandb way; made by ``tora.init``."""

    def __init__(
        self, client: Tora, config: Mapping[str, Any], project: Optional[str], group: Optional[str]
    ) -> None:
        self._client = client
        self.project = project
        self.group = group
        self.step = 0
        self._last: dict[str, Any] = {}
        self._warned: set[str] = set()
        self._config_pending = False
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
        except TypeError:
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
                self._client._log_table(name, value, media_step)
                continue
            try:
                out[name] = coerce_value(value)
            except TypeError:
                if name not in self._warned:
                    self._warned.add(name)
                    logger.warning("Tora: %r is a %s, not a number: not logged", name, type(value).__name__)
        return out

    def _send_config(self) -> None:
        hyperparams = flatten(self.config.as_dict())
        self._client.hyperparams = hyperparams
        eid = self._client.experiment_id
        if eid is None:  # created later, when the server is back: sent at finish
            self._config_pending = True
            return
        settings = self._client._settings
        transport = Transport(settings.server_url, settings.api_key, timeout=10.0)
        try:
            transport.call("PUT", f"/api/experiments/{eid}", {"hyperparams": hp_to_tora_format(hyperparams)})
            self._config_pending = False
        except ToraError as e:
            self._config_pending = True
            logger.warning("Tora: config of experiment %s not sent yet (%s); retried at finish", eid, e)
        finally:
            transport.close()

    def finish(self, exit_code: Optional[int] = None, quiet: Optional[bool] = None) -> None:
        """Flushes, stops system metrics and sets the status: ``finished`` for exit code 0 or
        None, ``failed`` otherwise. Idempotent."""
        global _current
        if self.finished:
            return
        self.finished = True
        if _current is self:
            _current = None
        # The client ends the run it created as it closes: one status, after the last points.
        self._client._close(None, "finished" if not exit_code else "failed")
        if self._config_pending:
            self._send_config()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Any, tb: Any) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r})"


def init(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Union[Mapping[str, Any], Namespace, None] = None,
    tags: Optional[Sequence[str]] = None,
    group: Optional[str] = None,
    notes: Optional[str] = None,
    **options: Any,
) -> Run:
    """Starts a run (an experiment) and makes it the current one; finishes the previous one.

    ``project`` is a workspace name (created when missing, where the key may; the key's default
    workspace when None). Other options go to ``Tora.create_experiment`` (``server_url``,
    ``api_key``, ``run_info``, ``system_metrics``, ``system_metrics_interval``, ...); wandb
    options without meaning here (``entity``, ``job_type``, ``dir``...) are ignored.

    Example::

        run = tora.init(project="cifar", config={"lr": 0.1}, tags=["baseline"])
    """
    global _current
    for key in [k for k in options if k in _IGNORED]:
        logger.info("Tora: init(%s=...) has no meaning in Tora; ignored", key)
        del options[key]
    if _current is not None:
        _current.finish()
    data = vars(config) if isinstance(config, Namespace) else dict(config or {})
    settings = resolve(options.pop("server_url", None), options.pop("api_key", None))
    workspace_id = options.pop("workspace_id", None)
    if project is not None and workspace_id is None:
        workspace_id = workspace_for(settings.server_url, settings.api_key, project)
    client = Tora.create_experiment(
        name or time.strftime("run-%Y%m%d-%H%M%S"), notes, data, tags, workspace_id,
        server_url=settings.server_url, api_key=settings.api_key, group=group, **options,
    )  # fmt: skip
    _current = Run(client, data, project, group)
    _register_exit()
    return _current


def workspace_for(server_url: str, api_key: str, project: str) -> Optional[str]:
    """The id of the caller's workspace named ``project``, created when there is none.

    Raises ``AuthError`` when it is missing and the key may not create it; returns None (the
    default workspace, with a warning) when the server cannot be reached.
    """
    transport = Transport(server_url, api_key, timeout=10.0)
    try:
        listed = transport.call("GET", "/api/workspaces")
        for ws in listed.get("workspaces", []) if isinstance(listed, dict) else []:
            if ws.get("name") == project:
                return str(ws["id"])
        try:
            created = transport.call("POST", "/api/workspaces", {"name": project})
        except AuthError as e:
            raise AuthError(
                e.status,
                e.code,
                f"no workspace named {project!r}, and this key may not create one: {e.message}",
            ) from e
        return str(created["id"])
    except TransportError as e:
        logger.warning(
            "Tora: server unreachable (%s); project %r: the run goes to the default workspace", e, project
        )
        return None
    finally:
        transport.close()


def current() -> Optional[Run]:
    """The run started by ``tora.init`` and not finished yet."""
    return _current


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
