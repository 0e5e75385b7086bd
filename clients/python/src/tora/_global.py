"""Module-level convenience API: one global experiment for quick scripts (the same current run
as ``tora.init``'s)."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ._client import Hyperparams, Tora
from ._errors import ToraError
from ._run import Run, current, make_current


def setup(
    name: str,
    workspace_id: Optional[str] = None,
    description: Optional[str] = None,
    hyperparams: Hyperparams = None,
    tags: Optional[Sequence[str]] = None,
    api_key: Optional[str] = None,
    server_url: Optional[str] = None,
    max_buffer_len: int = 25,
    **options: Any,
) -> Tora:
    """Creates the global experiment used by ``tlog``; finishes the current run before it.

    Example::

        import tora
        tora.setup("quick-run", hyperparams={"lr": 0.1})
        tora.tlog("loss", 0.5, step=1)
    """
    run = current()
    if run is not None:
        run.finish()
    client = Tora.create_experiment(
        name, description, hyperparams, tags, workspace_id,
        server_url=server_url, api_key=api_key, max_buffer_len=max_buffer_len, **options,
    )  # fmt: skip
    config = hyperparams if isinstance(hyperparams, Mapping) else client.hyperparams
    make_current(Run(client, config))
    return client


def _client() -> Tora:
    run = current()
    if run is None:
        raise ToraError("call tora.setup(name, ...) before tora.tlog()")
    return run.client


def tlog(
    name: str, value: Any, step: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None
) -> None:
    """Logs one point to the global experiment (see ``Tora.log``).

    Example::

        tora.tlog("accuracy", 0.93, step=100)
    """
    _client().log(name, value, step, metadata)


def flush(timeout: Optional[float] = None) -> bool:
    """Flushes the global experiment; True when nothing was waiting or all was handled."""
    run = current()
    return True if run is None else run.client.flush(timeout)


def shutdown(timeout: Optional[float] = None) -> None:
    """Shuts down the global experiment (also done automatically at exit)."""
    run = current()
    if run is not None:
        run.client.shutdown(timeout)
        run.finish()


def is_initialized() -> bool:
    """Whether ``setup()`` (or ``init()``) has been called and the run not finished since."""
    return current() is not None


def get_experiment_id() -> Optional[str]:
    """The global experiment's id."""
    return _client().experiment_id


def get_experiment_url() -> Optional[str]:
    """The global experiment's web URL."""
    return _client().url
