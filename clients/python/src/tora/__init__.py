"""Tora: cheap, lossless metric logging from training scripts to a self-hosted Tora server.

Example::

    import tora

    with tora.Tora.create_experiment("resnet", hyperparams={"lr": 0.1}) as t:
        for step in range(100):
            t.log("loss", 1 / (step + 1), step=step)

Or the wandb way (``import tora as wandb`` works for the common calls; the rest of wandb's
surface is a documented no-op, see ``tora._wandb``)::

    run = tora.init(project="cifar", config={"lr": 0.1})
    tora.define_metric("val/*", step_metric="epoch")
    tora.log({"loss": 0.5})
    tora.finish()

Each run says once where it is, on stderr: ``Tora: run <name> → <url>`` (``TORA_QUIET=1``
silences the client's own lines).

Configuration: ``TORA_BASE_URL`` and ``TORA_API_KEY``, else ``~/.tora/config.json`` (written by
``python -m tora login``; directory overridable with ``TORA_CONFIG_DIR``). Errors: see
``tora._errors``.
"""

from typing import Any

from ._client import Tora
from ._errors import APIError, AuthError, ConfigError, NotFoundError, ToraError, TransportError
from ._global import (
    flush,
    get_experiment_id,
    get_experiment_url,
    is_initialized,
    setup,
    shutdown,
    tlog,
)
from ._hyperparams import hp_from_tora_format, hp_to_tora_format
from ._init import init
from ._media import Image, Table
from ._run import Run, finish, log
from ._version import __version__
from ._wandb import (
    Artifact,
    Histogram,
    define_metric,
    log_artifact,
    login,
    save,
    unwatch,
    use_artifact,
    watch,
)


def __getattr__(name: str) -> Any:
    # ``wandb.run`` / ``wandb.config`` / ``wandb.summary``: the current run's, looked up per access.
    if name in ("run", "config", "summary"):
        from ._run import current

        run = current()
        return run if name == "run" or run is None else getattr(run, name)
    raise AttributeError(f"module 'tora' has no attribute {name!r}")


__all__ = [
    "APIError",
    "Artifact",
    "AuthError",
    "ConfigError",
    "Histogram",
    "Image",
    "NotFoundError",
    "Run",
    "Table",
    "Tora",
    "ToraError",
    "TransportError",
    "__version__",
    "define_metric",
    "finish",
    "flush",
    "get_experiment_id",
    "get_experiment_url",
    "hp_from_tora_format",
    "hp_to_tora_format",
    "init",
    "is_initialized",
    "log",
    "log_artifact",
    "login",
    "save",
    "setup",
    "shutdown",
    "tlog",
    "unwatch",
    "use_artifact",
    "watch",
]
