"""Changes to the experiment itself (config, run info, status) take the points' road: buffered,
sent by the sender, spooled while the server is down, replayed when it is back or by `tora sync`.
Each front door (``Tora``, ``setup``, ``init``) is driven against a real server that goes down."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

import tora
from test_reliability import sync
from toraserver import ToraServer

pytestmark = pytest.mark.integration


@pytest.fixture
def down_up(tmp_path: Path) -> Iterator[tuple[ToraServer, str]]:
    data = tmp_path / "data"
    data.mkdir()
    srv = ToraServer(data)
    key = srv.create_key()
    srv.start()
    yield srv, key
    srv.stop(signal.SIGKILL)


def hyperparams(srv: ToraServer, key: str, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in srv.api(key, "GET", f"/api/experiments/{eid}")["hyperparams"]}


def via_tora(srv: ToraServer, key: str) -> tuple[tora.Tora, Callable[[dict[str, Any]], None]]:
    t = tora.Tora.create_experiment(
        "door-tora", hyperparams={"lr": 0.1}, server_url=srv.url, api_key=key, system_metrics=False
    )
    return t, lambda hp: t.set_hyperparams({"lr": 0.1, **hp})


def via_setup(srv: ToraServer, key: str) -> tuple[tora.Tora, Callable[[dict[str, Any]], None]]:
    t = tora.setup(
        "door-setup", hyperparams={"lr": 0.1}, server_url=srv.url, api_key=key, system_metrics=False
    )
    return t, lambda hp: t.set_hyperparams({"lr": 0.1, **hp})


def via_init(srv: ToraServer, key: str) -> tuple[tora.Tora, Callable[[dict[str, Any]], None]]:
    run = tora.init(
        name="door-init", config={"lr": 0.1}, server_url=srv.url, api_key=key, system_metrics=False
    )
    return run.client, run.config.update


DOORS = [via_tora, via_setup, via_init]


@pytest.mark.parametrize("door", DOORS, ids=["Tora", "setup", "init"])
def test_a_change_made_while_the_server_is_down_arrives_when_it_is_back(
    down_up: tuple[ToraServer, str], door: Callable[..., Any]
) -> None:
    srv, key = down_up
    client, update = door(srv, key)
    eid = str(client.experiment_id)
    client.log("loss", 1.0, step=0)
    assert client.flush(timeout=30)
    srv.stop()
    update({"batch_size": 64})
    client.log("loss", 0.5, step=1)
    assert client.flush(timeout=30)  # the sender met the outage: both are on disk now
    assert client.spooled == 1
    srv.start()
    # No finish, no sync: the sender replays the change with the points once the server is back.
    deadline = time.monotonic() + 30
    while hyperparams(srv, key, eid).get("batch_size") != 64 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert hyperparams(srv, key, eid) == {"lr": 0.1, "batch_size": 64}
    assert [p["value"] for p in srv.points(key, eid, "loss")] == [1.0, 0.5]
    tora.finish()
    tora.shutdown()
    client.shutdown()


@pytest.mark.parametrize("door", DOORS, ids=["Tora", "setup", "init"])
def test_a_change_made_while_the_server_is_down_at_the_end_waits_for_sync(
    down_up: tuple[ToraServer, str], door: Callable[..., Any]
) -> None:
    srv, key = down_up
    client, update = door(srv, key)
    eid = str(client.experiment_id)
    srv.stop()
    update({"epochs": 3})
    client.shutdown_timeout = 2.0
    tora.finish()
    tora.shutdown()
    client.shutdown()
    srv.start()
    assert "epochs" not in hyperparams(srv, key, eid)
    out = sync(srv.url, key)
    assert out.returncode == 0, out.stderr
    assert "hyperparams" in out.stdout and "status finished" in out.stdout
    assert hyperparams(srv, key, eid) == {"lr": 0.1, "epochs": 3}
    assert srv.api(key, "GET", f"/api/experiments/{eid}")["status"] == "finished"


def test_run_info_updates_keep_what_was_captured(down_up: tuple[ToraServer, str]) -> None:
    srv, key = down_up
    with tora.Tora.create_experiment("info", server_url=srv.url, api_key=key, system_metrics=False) as t:
        t.update_run_info({"dataset": "v2"})
        eid = str(t.experiment_id)
    info = srv.api(key, "GET", f"/api/experiments/{eid}")["runInfo"]
    assert info["dataset"] == "v2" and "host" in info and "python" in info
