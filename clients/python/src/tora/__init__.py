"""Tora: cheap, lossless metric logging from training scripts to a self-hosted Tora server.

Example::

    import tora

    with tora.Tora.create_experiment("resnet", hyperparams={"lr": 0.1}) as t:
        for step in range(100):
            t.log("loss", 1 / (step + 1), step=step)

Configuration: ``TORA_BASE_URL`` and ``TORA_API_KEY``, else ``~/.tora/config.json`` (written by
``python -m tora login``; directory overridable with ``TORA_CONFIG_DIR``). Errors: see
``tora._errors``.
"""

__version__ = "0.1.0"

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
from ._wire import hp_from_tora_format, hp_to_tora_format

__all__ = [
    "APIError",
    "AuthError",
    "ConfigError",
    "NotFoundError",
    "Tora",
    "ToraError",
    "TransportError",
    "__version__",
    "flush",
    "get_experiment_id",
    "get_experiment_url",
    "hp_from_tora_format",
    "hp_to_tora_format",
    "is_initialized",
    "setup",
    "shutdown",
    "tlog",
]
