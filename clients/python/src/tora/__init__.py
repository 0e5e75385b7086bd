"""Tora: cheap, lossless metric logging from training scripts to a self-hosted Tora server.

Example::

    import tora

    with tora.Tora.create_experiment("resnet", hyperparams={"lr": 0.1}) as t:
        for step in range(100):
            t.log("loss", 1 / (step + 1), step=step)

Or the wandb way (``import tora as wandb`` works for the common calls)::

    run = tora.init(project="cifar", config={"lr": 0.1})
    tora.log({"loss": 0.5})
    tora.finish()

Configuration: ``TORA_BASE_URL`` and ``TORA_API_KEY``, else ``~/.tora/config.json`` (written by
``python -m tora login``; directory overridable with ``TORA_CONFIG_DIR``). Errors: see
``tora._errors``.
"""

__version__ = "0.1.0"

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
from ._media import Image, Table
from ._run import Run, finish, init, log


def __getattr__(name: str) -> Any:
    # ``wandb.run`` / ``wandb.config`` / ``wandb.summary``: the current run's, looked up per access.
    if name in ("run", "config", "summary"):
        from ._run import current

        run = current()
        return run if name == "run" or run is None else getattr(run, name)
    raise AttributeError(f"module 'tora' has no attribute {name!r}")


__all__ = [
    "APIError",
    "AuthError",
    "ConfigError",
    "Image",
    "NotFoundError",
    "Run",
    "Table",
    "Tora",
    "ToraError",
    "TransportError",
    "__version__",
    "finish",
    "flush",
    "get_experiment_id",
    "get_experiment_url",
    "hp_from_tora_format",
    "hp_to_tora_format",
    "init",
    "is_initialized",
    "log",
    "setup",
    "shutdown",
    "tlog",
]
