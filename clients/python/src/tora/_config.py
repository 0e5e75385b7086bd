"""Where the server URL, API key and spool directory come from.

Resolution order, first hit wins: explicit arguments, then the environment (``TORA_BASE_URL``,
``TORA_API_KEY``), then the config file ``$TORA_CONFIG_DIR/config.json`` (default
``~/.tora/config.json``) written by ``python -m tora login``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from ._errors import ConfigError

CONFIG_FILE = "config.json"


def config_dir(env: Optional[Mapping[str, str]] = None) -> Path:
    """The client's config directory: ``$TORA_CONFIG_DIR`` or ``~/.tora``."""
    env = os.environ if env is None else env
    value = env.get("TORA_CONFIG_DIR")
    return Path(value).expanduser() if value else Path.home() / ".tora"


def spool_dir(env: Optional[Mapping[str, str]] = None) -> Path:
    """Where undeliverable batches wait: ``$TORA_SPOOL_DIR`` or ``<config dir>/spool``."""
    env = os.environ if env is None else env
    value = env.get("TORA_SPOOL_DIR")
    return Path(value).expanduser() if value else config_dir(env) / "spool"


def quiet(env: Optional[Mapping[str, str]] = None) -> bool:
    """``TORA_QUIET=1``: the client prints nothing of its own (where each run is, workspaces it made)."""
    env = os.environ if env is None else env
    return env.get("TORA_QUIET", "").strip().lower() in ("1", "true", "yes", "on")


DEFAULT_UPLOAD_MEMORY_MB = 256


def upload_memory_bytes(env: Optional[Mapping[str, str]] = None) -> int:
    """``TORA_UPLOAD_MEMORY_MB`` (default 256): bytes of images and tables waiting in memory for the
    sender thread; past it ``log_image``/``log_table`` wait for the sender (see ``_uploads.UploadMemory``).

    >>> upload_memory_bytes({"TORA_UPLOAD_MEMORY_MB": "64"})
    67108864
    """
    env = os.environ if env is None else env
    raw = env.get("TORA_UPLOAD_MEMORY_MB", "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_UPLOAD_MEMORY_MB
    except ValueError:
        raise ConfigError(f"TORA_UPLOAD_MEMORY_MB must be a number of megabytes, got {raw!r}") from None
    if mb <= 0:
        raise ConfigError(f"TORA_UPLOAD_MEMORY_MB must be positive, got {raw!r}")
    return int(mb * 1024 * 1024)


def normalize_base_url(url: str) -> str:
    """Accepts the server root with or without a trailing ``/api`` and returns the root.

    >>> normalize_base_url("http://localhost:8080/api/")
    'http://localhost:8080'
    """
    url = url.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Tora server URL must start with http:// or https://, got {url!r}")
    return url


def read_config_file(env: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    path = config_dir(env) / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read Tora config file {path}: {e}") from e
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"Tora config file {path} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"Tora config file {path} must hold a JSON object")
    return data


def write_config_file(server_url: str, api_key: str, env: Optional[Mapping[str, str]] = None) -> Path:
    """Writes ``{"server_url", "api_key"}`` readable by the owner only; returns its path."""
    directory = config_dir(env)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"server_url": normalize_base_url(server_url), "api_key": api_key}, f, indent=2)
    os.replace(tmp, path)
    return path


# As many characters as the server's key list shows, so a printed Settings names the key, never holds it.
_KEY_PREFIX_SHOWN = 12


def mask_key(key: str) -> str:
    """The displayable part of an API key.

    >>> mask_key("tora_0123456789abcdefghijklmnopqrstuvwxyzABCDEF")
    'tora_0123456…'
    """
    return key[: min(_KEY_PREFIX_SHOWN, len(key) // 3)] + "…"


def describe(env: Optional[Mapping[str, str]] = None) -> list[tuple[str, str, str]]:
    """What ``resolve()`` would use, and where each value comes from: ``(setting, value, source)``.
    The API key is shown by its first characters only.

    >>> describe({"TORA_BASE_URL": "http://h:1/api", "TORA_CONFIG_DIR": "/nonexistent"})[0]
    ('server_url', 'http://h:1', 'TORA_BASE_URL')
    """
    env = os.environ if env is None else env
    path = config_dir(env) / CONFIG_FILE
    try:
        file = read_config_file(env)
    except ConfigError as e:
        file = {}
        path_note = f" (unusable: {e})"
    else:
        path_note = "" if path.exists() else " (none)"
    out: list[tuple[str, str, str]] = []
    url_file = file.get("server_url") or file.get("base_url")
    if env.get("TORA_BASE_URL"):
        out.append(("server_url", _safe_url(env["TORA_BASE_URL"]), "TORA_BASE_URL"))
    elif url_file:
        out.append(("server_url", _safe_url(str(url_file)), str(path)))
    else:
        out.append(("server_url", "not set", "set TORA_BASE_URL or run `python -m tora login`"))
    if env.get("TORA_API_KEY"):
        out.append(("api_key", _masked(env["TORA_API_KEY"]), "TORA_API_KEY"))
    elif file.get("api_key"):
        out.append(("api_key", _masked(str(file["api_key"])), str(path)))
    else:
        out.append(("api_key", "not set", "set TORA_API_KEY or run `python -m tora login`"))
    source = "TORA_CONFIG_DIR" if env.get("TORA_CONFIG_DIR") else "default"
    out.append(("config_file", f"{path}{path_note}", source))
    out.append(("spool", str(spool_dir(env)), "TORA_SPOOL_DIR" if env.get("TORA_SPOOL_DIR") else "default"))
    return out


def _safe_url(url: str) -> str:
    try:
        return normalize_base_url(url)
    except ConfigError as e:
        return f"{url!r} (invalid: {e})"


def _masked(key: str) -> str:
    return f"{key[:9]}… (hidden)" if len(key) > 12 else "set (hidden)"


@dataclass(frozen=True)
class Settings:
    server_url: str
    api_key: str = field(repr=False)

    def __repr__(self) -> str:
        # Settings end up in logs, tracebacks and notebooks: print the key's prefix only.
        return f"Settings(server_url={self.server_url!r}, api_key={mask_key(self.api_key)!r})"


def resolve(
    server_url: Optional[str] = None,
    api_key: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Settings:
    """Resolves the server URL and API key, or raises one ConfigError naming what to set."""
    env = os.environ if env is None else env
    url = server_url or env.get("TORA_BASE_URL")
    key = api_key or env.get("TORA_API_KEY")
    if not url or not key:
        file = read_config_file(env)
        url = url or file.get("server_url") or file.get("base_url")
        key = key or file.get("api_key")
    missing = []
    if not url:
        missing.append("the server URL (set TORA_BASE_URL or pass server_url=)")
    if not key:
        missing.append("an API key (set TORA_API_KEY or pass api_key=)")
    if missing:
        where = config_dir(env) / CONFIG_FILE
        raise ConfigError(
            "Tora needs " + " and ".join(missing) + f"; or run `python -m tora login` to write {where}."
        )
    return Settings(normalize_base_url(str(url)), str(key))
