"""Every public API call against a real Tora server."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tora
from conftest import Env
from test_wire import ScalarTensor
from tora import Tora
from tora._delivery import negotiate
from tora._http import Transport


def test_create_and_load_experiment(env: Env) -> None:
    hp = {"lr": 3e-4, "layers": 12, "opt": "adam", "amp": True}
    t = Tora.create_experiment("create-load", "a description", hp, ["cifar", "baseline"], **env.kwargs())
    assert t.experiment_id and t.url == f"{env.url}/experiments/{t.experiment_id}"
    exp = env.experiment(t.experiment_id)
    assert exp["name"] == "create-load" and exp["description"] == "a description"
    assert tora.hp_from_tora_format(exp["hyperparams"]) == hp and exp["tags"] == ["cifar", "baseline"]
    t.shutdown()

    loaded = Tora.load_experiment(t.experiment_id, **env.kwargs())
    assert loaded.hyperparams == hp and loaded.tags == ["cifar", "baseline"]
    assert loaded.description == "a description" and loaded.workspace_id == exp["workspaceId"]
    loaded.log("after-load", 1.0, step=0)
    loaded.shutdown()
    assert env.summaries(t.experiment_id)["after-load"]["count"] == 1

    # Workspace id is passed through ("API_DEFAULT" = the key owner's default workspace).
    w = Tora.create_experiment("ws", workspace_id=exp["workspaceId"], **env.kwargs())
    assert env.experiment(str(w.experiment_id))["workspaceId"] == exp["workspaceId"]
    w.shutdown()


def test_errors_at_create_and_load(env: Env) -> None:
    with pytest.raises(tora.AuthError) as e:
        Tora.create_experiment("x", server_url=env.url, api_key="tora_not_a_key")
    assert e.value.status == 401 and e.value.code == "INVALID_API_KEY"
    with pytest.raises(tora.NotFoundError):
        Tora.load_experiment("00000000-0000-4000-8000-000000000000", **env.kwargs())
    with pytest.raises(ValueError):
        Tora.create_experiment("  ", **env.kwargs())


def test_log_steps_metadata_and_log_metrics(env: Env) -> None:
    t = Tora.create_experiment("log", **env.kwargs())
    eid = str(t.experiment_id)
    t.log("loss", 0.5, step=10, metadata={"phase": "train"})
    t.log("loss", 0.25)  # server assigns the next step: 11
    t.log("loss", 0.125, None, {"k": [1, 2]})
    t.log_metrics({"acc": 0.9, "lr": np.float32(0.5)}, step=3)
    t.log_metrics({"acc": 0.95})
    assert t.flush(timeout=30)
    pts = env.points(eid, "loss")
    assert [(p["step"], p["value"], p["metadata"]) for p in pts] == [
        (10, 0.5, {"phase": "train"}),
        (11, 0.25, None),
        (12, 0.125, {"k": [1, 2]}),
    ]
    assert [(p["step"], p["value"]) for p in env.points(eid, "acc")] == [(3, 0.9), (4, 0.95)]
    assert t._batcher._transport.binary is True  # the batches went out as float64 columns
    assert env.points(eid, "lr")[0]["value"] == 0.5
    t.shutdown()
    assert t.delivered == 6


def test_nan_inf_and_numpy_round_trip(env: Env) -> None:
    values = [
        float("nan"),
        float("inf"),
        float("-inf"),
        np.float32("nan"),
        np.float64("inf"),
        np.float16(0.5),
        np.int64(42),
        np.array(1.5),
        decimal_value(),
        ScalarTensor(-2.5),
        True,
        10**15,
        1e-300,
    ]
    t = Tora.create_experiment("nan", **env.kwargs())
    for i, v in enumerate(values):
        t.log("v", v, step=i)
    t.shutdown()
    got = [p["value"] for p in env.points(str(t.experiment_id), "v")]
    assert got == [
        "NaN",
        "Infinity",
        "-Infinity",
        "NaN",
        "Infinity",
        0.5,
        42,
        1.5,
        0.1,
        -2.5,
        1,
        10**15,
        1e-300,
    ]
    s = env.summaries(str(t.experiment_id))["v"]
    assert s["nanCount"] == 2 and s["count"] == len(values)


def test_json_columns_for_servers_without_binary_ones(env: Env) -> None:
    # The real server lists float64 columns; one that does not (older, or another implementation
    # of the contract) gets the JSON numbers of design.md.
    transport = Transport(env.url, env.key)
    assert negotiate(transport) is True and transport.binary is True
    transport.close()

    t = Tora.create_experiment("json-columns", **env.kwargs())
    eid = str(t.experiment_id)
    t._batcher._transport.binary = False  # as for such a server
    t.log("v", float("nan"), step=0, metadata={"k": 1})
    t.log_metrics({"v": np.float32(0.5), "w": 10**15})
    t.log("v", float("-inf"))
    t.shutdown()
    assert [(p["step"], p["value"], p["metadata"]) for p in env.points(eid, "v")] == [
        (0, "NaN", {"k": 1}),
        (1, 0.5, None),
        (2, "-Infinity", None),
    ]
    assert [(p["step"], p["value"]) for p in env.points(eid, "w")] == [(0, 10**15)]


def decimal_value() -> object:
    import decimal

    return decimal.Decimal("0.1")


def test_context_manager_marks_status(env: Env) -> None:
    with Tora.create_experiment("ok", **env.kwargs()) as t:
        t.log("x", 1.0)
    assert env.experiment(str(t.experiment_id))["status"] == "finished"
    assert env.summaries(str(t.experiment_id))["x"]["count"] == 1

    with pytest.raises(RuntimeError), Tora.create_experiment("boom", **env.kwargs()) as t2:
        t2.log("x", 1.0)
        raise RuntimeError("training diverged")
    assert env.experiment(str(t2.experiment_id))["status"] == "failed"
    assert env.summaries(str(t2.experiment_id))["x"]["count"] == 1


def test_module_level_api(env: Env) -> None:
    assert not tora.is_initialized()
    t = tora.setup("global", hyperparams={"a": 1}, server_url=env.url, api_key=env.key)
    assert tora.is_initialized() and tora.get_experiment_id() == t.experiment_id
    assert tora.get_experiment_url() == t.url
    for i in range(50):
        tora.tlog("g", i * 0.5, step=i)
    assert tora.flush(timeout=30)
    assert env.summaries(str(t.experiment_id))["g"]["count"] == 50
    tora.shutdown()
    assert not tora.is_initialized()
    with pytest.raises(tora.ToraError):
        tora.tlog("g", 1.0)


def test_oversized_batch_is_split_on_413(env: Env) -> None:
    # One request of 250,000 points is over the server's 200,000 limit: the client must split.
    t = Tora.create_experiment(
        "split", max_batch_points=1_000_000, max_buffer_len=10**9, flush_interval=3600, **env.kwargs()
    )
    n = 250_000
    for i in range(n):
        t.log("big", float(i), step=i)
    assert t.flush(timeout=120)
    t.shutdown()
    s = env.summaries(str(t.experiment_id))["big"]
    assert (s["count"], s["firstStep"], s["lastStep"], s["max"]) == (n, 0, n - 1, n - 1)
    assert t.delivered == n and t.spooled == 0
    assert math.isclose(sum(p["value"] for p in env.points(str(t.experiment_id), "big")), n * (n - 1) / 2)
