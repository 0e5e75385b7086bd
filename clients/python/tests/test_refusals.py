"""One refused point never costs the valid points of its batch; client and server refuse alike."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Optional

import pytest

from conftest import Env
from tora import Tora
from tora._checks import check_name, encode_metadata
from tora._delivery import OK, post_batch
from tora._http import Transport
from tora._wire import Column, Series


def post_raw(env: Env, eid: str, name: str, metadata: Optional[str] = None) -> int:
    """The server's answer to one point, sent without the client's checks."""
    col = Column()
    col.add_point(0.0, 1.0, 1e12, metadata)
    transport = Transport(env.url, env.key)
    try:
        from tora._wire import encode_batch

        body = encode_batch(uuid.uuid4().hex, {name: col})
        status, _ = transport.request("POST", f"/api/experiments/{eid}/metrics/batch", body)
        return status
    finally:
        transport.close()


def new_experiment(env: Env, name: str) -> str:
    with Tora.create_experiment(name, **env.kwargs()) as t:
        return str(t.experiment_id)


def client_accepts(fn: Any, arg: Any) -> bool:
    try:
        fn(arg)
    except ValueError:
        return False
    return True


NAMES = [
    "😀" * 200,  # 200 code points, 400 UTF-16 units: the case
    "😀" * 256,
    "😀" * 257,
    "x" * 256,
    "x" * 257,
    "\ufeff",  # blank to JavaScript's trim(), not to Python's strip()
    "\x85",  # blank to Python's strip(), not to JavaScript's trim()
    " \u3000 ",
    "tab\there",
    "a\ud800b",  # a lone surrogate
    "ok/name.with:punctuation",
]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_client_and_server_refuse_the_same_names(env: Env, name: str) -> None:
    eid = new_experiment(env, "rules")
    server_accepts = post_raw(env, eid, name) < 300
    assert client_accepts(check_name, name) == server_accepts


METADATA: list[dict[str, Any]] = [
    {f"k{i}": 1e20 for i in range(180)},  # 1e+20 is 21 bytes on the server
    {f"k{i}": 1e20 for i in range(150)},
    {"s": "é" * 2040},  # 2 bytes each in UTF-8, 6 escaped in Python's JSON
    {"s": "é" * 2050},
    {"s": "😀" * 1021},
    {"s": "😀" * 1023},
    {"big": [2**60] * 200},
    {"d": json.loads("[" * 15 + "]" * 15)},  # 16 levels with the outer object
    {"d": json.loads("[" * 16 + "]" * 16)},
]


@pytest.mark.parametrize("metadata", METADATA, ids=range(len(METADATA)))
def test_client_and_server_refuse_the_same_metadata(env: Env, metadata: dict[str, Any]) -> None:
    eid = new_experiment(env, "rules")
    text = json.dumps(metadata, separators=(",", ":"))
    server_accepts = post_raw(env, eid, "m", text) < 300
    assert client_accepts(encode_metadata, metadata) == server_accepts


def test_emoji_name_and_its_200_neighbours_all_arrive(env: Env) -> None:
    # The issue: the client accepted this name, the server refused the batch, 201 points were lost.
    name = "😀" * 200
    with Tora.create_experiment("emoji", **env.kwargs()) as t:
        t.log(name, 1.0, step=0)
        for i in range(200):
            t.log("loss", i * 0.5, step=i)
    summaries = env.summaries(str(t.experiment_id))
    assert summaries[name]["count"] == 1 and summaries["loss"]["count"] == 200
    assert t.delivered == 201 and env.experiment(str(t.experiment_id))["status"] == "finished"


def column(n: int, metadata: Optional[dict[int, str]] = None) -> Column:
    col = Column()
    for i in range(n):
        col.add_point(float(i), i * 0.5, 1e12, (metadata or {}).get(i))
    return col


def test_a_refused_metric_or_point_is_set_aside_and_the_rest_delivered(env: Env) -> None:
    eid = new_experiment(env, "isolate")
    deep = json.dumps({"a": json.loads("[" * 20 + "]" * 20)})
    series: Series = {
        "good": column(300),
        "x" * 300: column(5),  # over the name limit: all 5 refused
        "a": column(3),
        "a.b": column(50, {7: deep, 30: deep}),  # two points with too-deep metadata
        "also.good": column(20, {3: '{"ok":1}'}),
    }
    transport = Transport(env.url, env.key)
    try:
        r = post_batch(transport, eid, uuid.uuid4().hex, series)
    finally:
        transport.close()
    assert r.outcome == OK
    assert r.delivered == 300 + 3 + 48 + 20
    assert {k: v[0] for k, v in r.refused.items()} == {"x" * 300: 5, "a.b": 2}
    summaries = env.summaries(eid)
    assert {k: v["count"] for k, v in summaries.items()} == {"good": 300, "a": 3, "a.b": 48, "also.good": 20}
    steps = [p["step"] for p in env.points(eid, "a.b")]
    assert steps == [s for s in range(50) if s not in (7, 30)]


def test_refused_metric_reported_once_and_counted(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tora")
    bad = "y" * 300
    t = Tora.create_experiment("report", **env.kwargs())
    t._names.add(bad)  # as if an older client's rules had let it through
    for round_ in range(3):
        for i in range(100):
            t.log("loss", float(i), step=round_ * 100 + i)
        t.log(bad, 1.0)
        assert t.flush(timeout=30)
    t.shutdown()
    assert env.summaries(str(t.experiment_id))["loss"]["count"] == 300
    assert t.delivered == 300
    reports = [r for r in caplog.records if bad[:20] in r.getMessage()]
    assert len(reports) == 1, [r.getMessage() for r in reports]
    assert "loss" not in reports[0].getMessage()
