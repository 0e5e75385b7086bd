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
delivery path (buffer, sender, spool). The rest of wandb's surface (``define_metric``,
``watch``, ``Artifact``...) is in ``tora._wandb``.
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
from ._config import Settings, resolve
from ._delivery import last_step, workspace_for
from ._disabled import DisabledTora
from ._errors import AuthError, NotFoundError, ToraError, TransportError
from ._http import Transport

logger = logging.getLogger("tora")

# wandb arguments that have no meaning here: accepted (so scripts run unchanged) and ignored.
_IGNORED = frozenset(
    ("entity", "job_type", "dir", "save_code", "reinit", "anonymous", "settings", "magic", "monitor_gym")
)
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

        Nested dicts become ``outer/inner`` names; values that are not numbers (images, text)
        are skipped with one warning per name. ``commit=False`` keeps the step for the next call.
        """
        at = self.step if step is None else step
        try:
            self._client.log_metrics(data, step=at)
        except TypeError:  # nested dicts, images, text: keep the numbers
            data = self._numbers(data)
            self._client.log_metrics(data, step=at)
        self._last.update(data)
        self.step = at if commit is False else at + 1

    def _numbers(self, data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
        from ._checks import coerce_value

        out: dict[str, Any] = {}
        for key, value in data.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                out.update(self._numbers(value, name + "/"))
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


def init(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Union[Mapping[str, Any], Namespace, None] = None,
    tags: Optional[Sequence[str]] = None,
    group: Optional[str] = None,
    notes: Optional[str] = None,
    *,
    id: Optional[str] = None,
    resume: Union[bool, str, None] = None,
    mode: Optional[str] = None,
    **options: Any,
) -> Run:
    """Starts a run (an experiment) and makes it the current one; finishes the previous one.

    ``project`` is a workspace name (created when missing, where the key may; the key's default
    workspace when None). ``mode``: ``"online"`` (default), ``"offline"`` (nothing sent: the run
    is spooled for ``python -m tora sync``; ``project`` is not looked up, the run goes to the
    key's default workspace) or ``"disabled"`` (nothing logged anywhere; every call still
    works). ``id`` with ``resume`` (``"allow"``, ``"must"``, ``"auto"`` or ``True``) continues
    the experiment of that id at the step after its last one; when it does not exist, ``"must"``
    raises ``NotFoundError`` and the others start a new run (Tora picks ids itself). Other
    options go to ``Tora.create_experiment`` (``server_url``, ``api_key``, ``run_info``,
    ``system_metrics``, ``system_metrics_interval``, ...); wandb options without meaning here
    (``entity``, ``job_type``, ``dir``...) are ignored.

    Example::

        run = tora.init(project="cifar", config={"lr": 0.1}, tags=["baseline"])
    """
    return start(project, name, config, tags, group, notes, id=id, resume=resume, mode=mode, options=options)


def start(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Union[Mapping[str, Any], Namespace, None] = None,
    tags: Optional[Sequence[str]] = None,
    group: Optional[str] = None,
    notes: Optional[str] = None,
    *,
    id: Optional[str] = None,
    resume: Union[bool, str, None] = None,
    mode: Optional[str] = None,
    options: Mapping[str, Any],
    by_integration: bool = False,
) -> Run:
    """``init``, also for integrations (``by_integration``: the run is theirs, not the user's)."""
    global _current
    options = dict(options)
    for key in [k for k in options if k in _IGNORED]:
        logger.info("Tora: init(%s=...) has no meaning in Tora; ignored", key)
        del options[key]
    if mode not in (None, "online", "offline", "disabled"):
        raise ValueError(f"mode must be 'online', 'offline' or 'disabled', got {mode!r}")
    if _current is not None:
        _current.finish()
    data = vars(config) if isinstance(config, Namespace) else dict(config or {})
    run_name = name or time.strftime("run-%Y%m%d-%H%M%S")
    step = 0
    client: Optional[Tora] = None
    if mode == "disabled":
        client = DisabledTora(run_name, notes, data, tags)
    elif mode == "offline":
        if project is not None and "workspace_id" not in options:
            logger.warning(
                "Tora: offline, project %r is not looked up: the run goes to the default workspace", project
            )
        client = Tora.create_experiment(run_name, notes, data, tags, group=group, offline=True, **options)
    else:
        settings = resolve(options.pop("server_url", None), options.pop("api_key", None))
        if id is not None:
            resumed = _resume(settings, id, resume, data, options)
            if resumed is not None:
                client, step = resumed
                data = {**client.hyperparams, **data}
        if client is None:
            workspace_id = options.pop("workspace_id", None)
            if project is not None and workspace_id is None:
                workspace_id = _workspace(settings, project)
            client = Tora.create_experiment(
                run_name, notes, data, tags, workspace_id,
                server_url=settings.server_url, api_key=settings.api_key, group=group, **options,
            )  # fmt: skip
    _current = Run(client, data, project, group, step=step, by_integration=by_integration)
    _register_exit()
    return _current


_RESUME = ("allow", "must", "auto", True)


def _resume(
    settings: Settings,
    run_id: str,
    resume: Union[bool, str, None],
    data: dict[str, Any],
    options: dict[str, Any],
) -> Optional[tuple[Tora, int]]:
    """The client of experiment ``run_id`` continued, and the step to go on from; None: start anew."""
    if resume not in _RESUME:
        logger.warning(
            "Tora: init(id=%r) without resume='allow' or 'must' starts a new run (Tora picks run ids)", run_id
        )
        return None
    for key in ("group", "run_info", "workspace_id"):  # the run has them already
        options.pop(key, None)
    try:
        client = Tora.load_experiment(
            run_id, server_url=settings.server_url, api_key=settings.api_key,
            system_metrics=options.pop("system_metrics", None), **options,
        )  # fmt: skip
    except NotFoundError:
        if resume == "must":
            raise
        logger.warning("Tora: no run %r to resume; starting a new one", run_id)
        return None
    transport = Transport(settings.server_url, settings.api_key, timeout=10.0)
    try:
        step = last_step(transport, run_id) + 1
    finally:
        transport.close()
    if data:
        client.set_hyperparams({**client.hyperparams, **data})
    client.set_status("running")
    return client, step


def _workspace(settings: Settings, project: str) -> Optional[str]:
    """The id of the workspace named ``project`` (made when missing); None when the server is
    unreachable (the run goes to the key's default workspace, with a warning)."""
    transport = Transport(settings.server_url, settings.api_key, timeout=10.0)
    try:
        return workspace_for(transport, project)
    except AuthError as e:
        raise AuthError(
            e.status, e.code, f"no workspace named {project!r}, and this key may not create one: {e.message}"
        ) from e
    except TransportError as e:
        logger.warning(
            "Tora: server unreachable (%s); project %r: the run goes to the default workspace", e, project
        )
        return None
    finally:
        transport.close()


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
