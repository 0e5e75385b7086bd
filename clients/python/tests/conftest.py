"""Fixtures: a real Tora server (built if needed) on a free port, and API keys for it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from toraserver import ToraServer, build_if_needed


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's ~/.tora or environment."""
    monkeypatch.setenv("TORA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TORA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("TORA_BASE_URL", raising=False)
    monkeypatch.delenv("TORA_API_KEY", raising=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToraServer]:
    build_if_needed()
    srv = ToraServer(tmp_path_factory.mktemp("tora-data"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def session_key(server: ToraServer) -> str:
    return server.create_key()


class Env:
    """A fresh API key on the shared server, plus helpers to read back what arrived."""

    def __init__(self, server: ToraServer, key: str, key_id: str) -> None:
        self.server = server
        self.url = server.url
        self.key = key
        self.key_id = key_id

    def kwargs(self) -> dict[str, Any]:
        return {"server_url": self.url, "api_key": self.key}

    def points(self, experiment_id: str, name: str) -> list[dict[str, Any]]:
        return self.server.points(self.key, experiment_id, name)

    def summaries(self, experiment_id: str) -> dict[str, dict[str, Any]]:
        return self.server.summaries(self.key, experiment_id)

    def experiment(self, experiment_id: str) -> dict[str, Any]:
        return dict(self.server.api(self.key, "GET", f"/api/experiments/{experiment_id}"))

    def revoke(self) -> None:
        self.server.api(self.key, "DELETE", f"/api/keys/{self.key_id}")


@pytest.fixture
def env(server: ToraServer, session_key: str) -> Env:
    created = server.api(session_key, "POST", "/api/keys", {"name": "per-test"})
    return Env(server, created["key"], created["id"])
