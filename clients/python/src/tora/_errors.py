"""Exceptions raised by the Tora client.

The whole tree::

    ToraError                 base class of every Tora exception
    ├── ConfigError           no server URL or API key found, or an unreadable config file
    │                         (also a ValueError)
    ├── TransportError        the server could not be reached, timed out, or answered 5xx
    └── APIError              the server answered 4xx; has .status, .code, .message, .details
        ├── AuthError         401/403: API key missing, unknown, revoked, or not allowed
        └── NotFoundError     404: the experiment does not exist or is not visible to this key

These are raised only by calls that talk to the server on the caller's thread:
``Tora.create_experiment``, ``Tora.load_experiment``, and the CLI. ``log()`` raises only
``ValueError``/``TypeError`` for bad arguments; delivery failures in the background sender are
never raised into the training loop: they are reported through the ``tora`` logger.

Example::

    try:
        t = Tora.create_experiment("run-1")
    except tora.ConfigError as e:
        print(e)  # names TORA_BASE_URL / TORA_API_KEY
"""

from __future__ import annotations

from typing import Any, Optional


class ToraError(Exception):
    """Base class of all Tora client errors."""


class ConfigError(ToraError, ValueError):
    """The server URL or API key could not be resolved, or a config file is invalid."""


class TransportError(ToraError):
    """The server could not be reached, timed out, or failed with a 5xx status."""


class APIError(ToraError):
    """The server rejected a request with a 4xx status."""

    def __init__(self, status: int, code: str, message: str, details: Optional[Any] = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class AuthError(APIError):
    """401/403: the API key is missing, unknown, revoked, or lacks access."""


class NotFoundError(APIError):
    """404: the experiment does not exist or is not visible to this API key."""


def api_error(status: int, payload: Any) -> APIError:
    """Builds the right APIError subclass from a server error body ``{error: {code, message}}``."""
    err = payload.get("error") if isinstance(payload, dict) else None
    code = str(err.get("code", "HTTP_ERROR")) if isinstance(err, dict) else "HTTP_ERROR"
    message = str(err.get("message", "")) if isinstance(err, dict) else str(payload)[:500]
    details = err.get("details") if isinstance(err, dict) else None
    cls = AuthError if status in (401, 403) else NotFoundError if status == 404 else APIError
    return cls(status, code, message, details)
