"""A new client against an older server: ``group`` and ``runInfo`` go only where health lists them."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

import tora
from conftest import Env
from oldserver import OldToraServer
from tora import Tora
from toraserver import free_port

pytestmark = pytest.mark.integration
KEY = "tora_old_release_key"


def created_bodies(srv: OldToraServer) -> list[dict[str, object]]:
    return [body for method, path, body in srv.requests if (method, path) == ("POST", "/api/experiments")]


def test_a_server_listing_the_feature_gets_group_and_run_info(env: Env) -> None:
    health = env.server.api(env.key, "GET", "/api/health")
    assert "experiments.run-info" in health["features"]
    t = Tora.create_experiment(
        "with-info", group="sweep-1", run_info={"note": "x"}, system_metrics=False, **env.kwargs()
    )
    t.shutdown()
    exp = env.experiment(str(t.experiment_id))
    assert exp["group"] == "sweep-1"
    assert exp["runInfo"]["note"] == "x" and "command" in exp["runInfo"] and "host" in exp["runInfo"]


def test_an_older_server_gets_the_experiment_without_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tora")
    with OldToraServer(KEY) as srv:
        t = Tora.create_experiment(
            "on-old", hyperparams={"lr": 0.1}, group="sweep-3", system_metrics=False,
            server_url=srv.url, api_key=KEY,
        )  # fmt: skip
        eid = t.experiment_id
        assert eid is not None
        for step in range(5):
            t.log("loss", 1.0 / (step + 1), step=step)
        t.shutdown()
        assert created_bodies(srv) == [{"name": "on-old", "hyperparams": [{"key": "lr", "value": 0.1}]}]
        assert srv.points[eid]["loss"] == [(s, 1.0 / (s + 1)) for s in range(5)]
        assert srv.experiments[eid]["status"] == "finished"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "'experiments.run-info'" in warnings[0] and "'sweep-3'" in warnings[0] and eid in warnings[0]
    debug = [
        r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG and "run info" in r.getMessage()
    ]
    assert len(debug) == 1


def test_run_info_alone_is_dropped_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with OldToraServer(KEY) as srv:
        run = tora.init(
            name="quiet", config={"bs": 32}, system_metrics=False, server_url=srv.url, api_key=KEY
        )
        run.log({"acc": 0.5})
        run.config.update({"epochs": 3})  # a PUT that the older server knows
        tora.finish()
        eid = run.id
        assert eid is not None and created_bodies(srv) == [
            {"name": "quiet", "hyperparams": [{"key": "bs", "value": 32}]}
        ]
        assert srv.points[eid]["acc"] == [(0.0, 0.5)]
        assert srv.experiments[eid]["status"] == "finished"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_created_later_when_the_older_server_comes_up(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    t = Tora.create_experiment(
        "later", group="g-later", system_metrics=False, server_url=f"http://127.0.0.1:{port}", api_key=KEY
    )
    assert t.experiment_id is None  # nothing listens yet: created in the background
    t.log("x", 1.0, step=0)
    with OldToraServer(KEY, port) as srv:
        deadline = time.monotonic() + 20
        while t.experiment_id is None and time.monotonic() < deadline:
            t.log("x", 2.0)
            time.sleep(0.2)
        t.shutdown()
        eid = t.experiment_id
        assert eid is not None
        assert [b["name"] for b in created_bodies(srv)] == ["later"]
        assert "group" not in created_bodies(srv)[0] and "runInfo" not in created_bodies(srv)[0]
        assert srv.points[eid]["x"][0] == (0.0, 1.0)
    assert any("'g-later'" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_uploads_to_a_server_without_files_are_refused_once_and_metrics_go_on(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"w")
    with OldToraServer(KEY) as srv, caplog.at_level(logging.ERROR, logger="tora"):
        t = Tora.create_experiment("old-files", system_metrics=False, server_url=srv.url, api_key=KEY)
        t.log_image("samples", b"\x89PNG\r\n\x1a\n" + bytes(20), step=0)
        t.log_file(weights)
        t.log("loss", 0.5, step=0)
        assert t.flush(timeout=30)
        t.shutdown()
        eid = str(t.experiment_id)
        assert srv.points[eid]["loss"] == [(0.0, 0.5)]
        assert not [path for method, path, _ in srv.requests if "/files/" in path or "/media/" in path]
    assert t.uploaded == 0 and t._batcher.uploads_spooled == 0  # refused, not kept for a retry
    errors = [r.getMessage() for r in caplog.records if "experiments.files" in r.getMessage()]
    assert len(errors) == 2 and "image 'samples'" in errors[0] and "file 'w.pt'" in errors[1]
