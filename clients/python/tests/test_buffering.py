"""Buffering, argument errors at the call, and spooling, with no server at all."""

from __future__ import annotations

import decimal
import fractions
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import pytest

from tora import Tora
from tora._delivery import series_from_wire
from tora._spool import Spool
from toraserver import free_port


def offline(tmp_path: Path, **kw: object) -> Tora:
    """A client whose server does not exist: every batch must end up in the spool."""
    return Tora(
        "00000000-0000-4000-8000-000000000000",
        server_url=f"http://127.0.0.1:{free_port()}",
        api_key="tora_test",
        spool_dir=tmp_path / "spool",
        **kw,
    )  # type: ignore[arg-type]


def spooled_points(directory: Path) -> list[tuple[str, object, object]]:
    out = []
    spool = Spool(directory)
    for path in spool.files():
        doc = spool.read(path)
        for name, col in series_from_wire(doc["batch"]).items():
            out.extend((name, v, None if s != s else int(s)) for s, v in zip(col.steps, col.values))
    return out


def test_log_only_buffers_and_bad_arguments_raise_at_the_call(tmp_path: Path) -> None:
    t = offline(tmp_path, flush_interval=3600, max_buffer_len=10**9)
    t.log("loss", 0.5, 1)
    t.log_metrics({"a": 1, "b": 2.0}, step=2)
    assert len(t._batcher.buf) == 2  # one item per log() and per log_metrics() call
    with pytest.raises(TypeError):
        t.log("loss", "0.5")
    with pytest.raises(ValueError):
        t.log("", 1.0)
    with pytest.raises(ValueError):
        t.log("x" * 300, 1.0)
    with pytest.raises(ValueError):
        t.log("loss", 1.0, step=-1)
    with pytest.raises(TypeError):
        t.log("loss", 1.0, step=1.5)
    with pytest.raises(TypeError):
        t.log_metrics({"a": None}, step=1)
    # Names seen before, values that add up to a number yet are not all numbers: still refused.
    for bad in ({"a": 1.0, "b": "2"}, {"a": 1.0, "b": 2j}, {"b": 1.0, "a": [1.0]}, {"a": 1.0, "b": b"2"}):
        with pytest.raises(TypeError):
            t.log_metrics(bad, step=1)
    with pytest.raises(TypeError):
        t.log_metrics({1: 1.0}, step=1)  # int keys are where the buffer keeps step and time
    with pytest.raises(ValueError):
        t.log_metrics({"a": 1.0, "": 2.0}, step=1)
    assert len(t._batcher.buf) == 2  # nothing half-logged
    t.shutdown(timeout=5)


def test_log_metrics_keeps_every_accepted_value_type(tmp_path: Path) -> None:
    t = offline(tmp_path, flush_interval=3600)
    values = {
        "f": 0.5,
        "i": 3,
        "b": True,
        "big": 10**400,
        "np32": np.float32(0.25),
        "np0d": np.array(1.5),
        "npint": np.int64(7),
        "dec": decimal.Decimal("0.1"),
        "frac": fractions.Fraction(1, 4),
        "nan": float("nan"),
    }
    t.log_metrics(values, step=5)
    t.log_metrics({"f": 1.0, "frac": fractions.Fraction(3, 4)})  # float + Fraction adds up to a float
    t.shutdown(timeout=5)
    got: dict[str, list[float]] = {}
    for name, v, _ in spooled_points(tmp_path / "spool"):
        got.setdefault(name, []).append(v)  # type: ignore[arg-type]
    assert got["f"] == [0.5, 1.0] and got["i"] == [3.0] and got["b"] == [1.0]
    assert got["big"] == [math.inf] and got["np32"] == [0.25] and got["np0d"] == [1.5]
    assert got["npint"] == [7.0] and got["dec"] == [0.1] and got["frac"] == [0.25, 0.75]
    assert math.isnan(got["nan"][0])
    assert [s for n, _, s in spooled_points(tmp_path / "spool") if n == "f"] == [5, None]


def test_unreachable_server_spools_in_order_and_summarises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tora")
    t = offline(tmp_path, max_buffer_len=100)
    for i in range(1000):
        t.log("loss", float(i), step=i)
    t.log("nan", float("nan"))
    assert t.flush(timeout=10)
    t.shutdown(timeout=5)
    pts = spooled_points(tmp_path / "spool")
    assert [s for n, v, s in pts if n == "loss"] == list(range(1000))
    [(_, nan, nan_step)] = [p for p in pts if p[0] == "nan"]
    assert math.isnan(nan) and nan_step is None  # type: ignore[arg-type]
    assert t.spooled == 1001 and t.delivered == 0
    assert any("1001 spooled to" in r.getMessage() for r in caplog.records)


def test_flush_waits_only_for_earlier_points(tmp_path: Path) -> None:
    t = offline(tmp_path, flush_interval=3600, max_buffer_len=10**9)
    t.log("a", 1.0)
    start = time.monotonic()
    assert t.flush(timeout=10)
    assert time.monotonic() - start < 5
    assert len(t._batcher.buf) == 0
    t.shutdown(timeout=5)


def test_spool_is_bounded_oldest_first(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path / "s", max_bytes=2000)
    for i in range(10):
        spool.write(
            {"local_id": "l", "batch_id": f"b{i}", "points": 1}, json.dumps({"x": "y" * 300}).encode()
        )
    names = [p.name for p in spool.files()]
    assert len(names) < 10 and names[-1].endswith("-b9.json")
    assert sum(p.stat().st_size for p in spool.files()) <= 2000
    assert any("spool" in r.getMessage() and "oldest" in r.getMessage() for r in caplog.records)


def test_shutdown_is_bounded_and_idempotent(tmp_path: Path) -> None:
    t = offline(tmp_path)
    for i in range(100):
        t.log("x", i, step=i)
    start = time.monotonic()
    t.shutdown(timeout=2)
    t.shutdown()
    assert time.monotonic() - start < 5
    assert len(spooled_points(tmp_path / "spool")) == 100


def test_a_steady_stream_is_sent_in_few_large_batches(tmp_path: Path) -> None:
    # Each request costs the training loop GIL time, so a full buffer waits min_send_interval
    # (0.2 s) after the previous send instead of leaving every 50 ms poll as a small batch.
    t = offline(tmp_path, flush_interval=3600)
    end = time.monotonic() + 1.0
    step = 0
    while time.monotonic() < end:
        t.log_metrics({"a": 1.0, "b": 2.0, "c": 3.0}, step=step)
        step += 1
        time.sleep(0.001)
    t.shutdown()
    files = Spool(tmp_path / "spool").files()
    assert len(spooled_points(tmp_path / "spool")) == 3 * step
    assert 1 <= len(files) <= 8, f"{len(files)} batches for a 1 s stream"


def test_a_backlog_of_several_batches_is_sent_back_to_back(tmp_path: Path) -> None:
    # 20 batches' worth of points waiting: pacing them 0.2 s apart would take ≥ 3.8 s.
    t = offline(tmp_path, flush_interval=3600, max_batch_points=1000)
    for step in range(200):
        t.log_metrics({f"m{i}": float(i) for i in range(100)}, step=step)
    start = time.monotonic()
    assert t.flush(timeout=30)
    took = time.monotonic() - start
    t.shutdown()
    assert len(spooled_points(tmp_path / "spool")) == 20_000
    assert took < 2.0, f"a backlog of 20 batches took {took:.1f} s to drain"
