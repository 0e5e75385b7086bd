"""Where the URL and key come from (no server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tora
from tora._config import normalize_base_url, resolve, write_config_file


def test_explicit_beats_env_beats_file(tmp_path: Path) -> None:
    env = {"TORA_CONFIG_DIR": str(tmp_path)}
    write_config_file("http://file:1", "file-key", env)
    assert resolve(env=env) == resolve("http://file:1", "file-key", env={})
    env2 = {**env, "TORA_BASE_URL": "http://env:2/api", "TORA_API_KEY": "env-key"}
    s = resolve(env=env2)
    assert (s.server_url, s.api_key) == ("http://env:2", "env-key")
    s = resolve("http://arg:3/", "arg-key", env=env2)
    assert (s.server_url, s.api_key) == ("http://arg:3", "arg-key")
    # Mixed: URL from env, key from file.
    s = resolve(env={**env, "TORA_BASE_URL": "http://env:2"})
    assert (s.server_url, s.api_key) == ("http://env:2", "file-key")


def test_config_file_is_private(tmp_path: Path) -> None:
    path = write_config_file("http://h:1/api", "k", {"TORA_CONFIG_DIR": str(tmp_path)})
    assert json.loads(path.read_text()) == {"server_url": "http://h:1", "api_key": "k"}
    assert (path.stat().st_mode & 0o777) == 0o600


def test_missing_settings_name_the_variables(tmp_path: Path) -> None:
    with pytest.raises(tora.ConfigError) as e:
        tora.Tora.create_experiment("x")
    msg = str(e.value)
    assert "TORA_BASE_URL" in msg and "TORA_API_KEY" in msg and "python -m tora login" in msg
    with pytest.raises(tora.ConfigError, match="TORA_API_KEY") as e2:
        tora.Tora.create_experiment("x", server_url="http://127.0.0.1:1")
    assert "TORA_BASE_URL" not in str(e2.value)


def test_url_normalization() -> None:
    assert normalize_base_url("http://h:8000/api/") == "http://h:8000"
    assert normalize_base_url("https://h/tora/api") == "https://h/tora"
    with pytest.raises(tora.ConfigError):
        normalize_base_url("h:8000")


def test_login_cli_writes_config(tmp_path: Path) -> None:
    env = {**os.environ, "TORA_CONFIG_DIR": str(tmp_path / "cfg")}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tora",
            "login",
            "--server-url",
            "http://h:9/api",
            "--api-key",
            "tora_x",
            "--no-check",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "config.json" in out.stdout
    assert resolve(env={"TORA_CONFIG_DIR": str(tmp_path / "cfg")}).api_key == "tora_x"


def run_config(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "tora", "config"], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def test_config_cli_shows_what_is_in_effect_and_why(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TORA_")}
    cfg = str(tmp_path / "cfg")
    write_config_file("http://file:1", "tora_filekey0123456789", {"TORA_CONFIG_DIR": cfg})
    from_file = run_config({**base, "TORA_CONFIG_DIR": cfg})
    assert "server_url: http://file:1  [" + str(Path(cfg) / "config.json") + "]" in from_file
    assert "api_key: tora_file… (hidden)" in from_file and "0123456789" not in from_file

    env = {
        **base,
        "TORA_CONFIG_DIR": cfg,
        "TORA_BASE_URL": "http://env:2/api",
        "TORA_API_KEY": "tora_envkey0123456789",
        "TORA_SPOOL_DIR": str(tmp_path / "sp"),
    }
    shown = run_config(env)
    assert "server_url: http://env:2  [TORA_BASE_URL]" in shown
    assert "api_key: tora_envk… (hidden)  [TORA_API_KEY]" in shown
    assert f"spool: {tmp_path / 'sp'}  [TORA_SPOOL_DIR]" in shown
    assert resolve(env=env).server_url == "http://env:2"

    empty = run_config({**base, "TORA_CONFIG_DIR": str(tmp_path / "none")})
    assert "server_url: not set" in empty and "api_key: not set" in empty and "(none)" in empty


def test_settings_repr_masks_the_api_key() -> None:
    key = "tora_" + "S3cr3tK3yMaterial" * 3
    s = resolve("http://h:1", key, env={})
    for text in (repr(s), str(s), f"{s}", repr([s])):
        assert key not in text
        assert "S3cr3tK3yMaterial" not in text
        assert "tora_S3cr3tK…" in text
        assert "http://h:1" in text
    assert s.api_key == key  # still there for the requests
