"""``tora.init``: starting a run the wandb way (online, offline, disabled, or resumed by id).

Example::

    run = tora.init(project="cifar", name="resnet", config={"lr": 0.1})
    again = tora.init(id=run.id, resume="allow")  # later: continues at the next step
"""

from __future__ import annotations

import logging
import time
from argparse import Namespace
from collections.abc import Mapping
from typing import Any, Optional, Sequence, Union

from ._client import Tora
from ._config import Settings, resolve
from ._delivery import announce_run, last_step, workspace_for
from ._disabled import DisabledTora
from ._errors import AuthError, NotFoundError, TransportError
from ._http import Transport
from ._run import Run, finish, make_current

logger = logging.getLogger("tora")

# wandb arguments that have no meaning here: accepted (so scripts run unchanged) and ignored.
_IGNORED = frozenset(
    ("entity", "job_type", "dir", "save_code", "reinit", "anonymous", "settings", "magic", "monitor_gym")
)


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
    options = dict(options)
    for key in [k for k in options if k in _IGNORED]:
        logger.info("Tora: init(%s=...) has no meaning in Tora; ignored", key)
        del options[key]
    if mode not in (None, "online", "offline", "disabled"):
        raise ValueError(f"mode must be 'online', 'offline' or 'disabled', got {mode!r}")
    finish()  # the run before ends before this one begins
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
    run = Run(client, data, project, group, step=step, by_integration=by_integration)
    make_current(run)
    return run


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
    announce_run(settings.server_url, client.name, run_id)
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
