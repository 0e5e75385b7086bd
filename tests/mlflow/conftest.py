"""Fixtures: a real Tora server (the built apps/server) and users with API keys, for the real
`mlflow` client. The server runs on SQLite, or on PostgreSQL when TORA_DATABASE_URL is set
(scripts/test-mlflow.sh runs the suite once each way)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "clients" / "python" / "tests"))

from toraserver import ToraServer, build_if_needed  # noqa: E402


@pytest.fixture(scope="session")
def tora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToraServer]:
    build_if_needed()
    srv = ToraServer(tmp_path_factory.mktemp("tora-data"))
    srv.env["TORA_ALLOW_SIGNUP"] = "true"
    srv.start()
    yield srv
    srv.stop()


class User:
    """A user of the test server: an API key, its default workspace, and Tora's own API."""

    def __init__(self, server: ToraServer, email: str) -> None:
        self.server = server
        self.email = email
        self.key = server.create_key(email=email)
        me = server.api(self.key, "GET", "/api/auth/me")
        self.default_workspace = me["user"]["defaultWorkspaceId"]

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return self.server.api(self.key, method, path, body)

    def experiment(self, run_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/experiments/{run_id}"))

    def points(self, run_id: str, name: str) -> list[dict[str, Any]]:
        return self.server.points(self.key, run_id, name)


@pytest.fixture
def user(tora: ToraServer) -> User:
    return User(tora, f"{uuid.uuid4().hex[:10]}@example.com")


@pytest.fixture
def mlflow_env(tora: ToraServer, user: User, monkeypatch: pytest.MonkeyPatch) -> User:
    """MLFLOW_TRACKING_URI + MLFLOW_TRACKING_TOKEN: the whole migration."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tora.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", user.key)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(tora.url)
    yield user
    while mlflow.active_run() is not None:
        mlflow.end_run()
