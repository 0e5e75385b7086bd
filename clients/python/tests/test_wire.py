"""Value coercion, argument checks and the wire format (no server)."""

from __future__ import annotations

import base64
import decimal
import json
import math
import struct
from typing import Any, Optional

import numpy as np
import pytest

from tora import hp_from_tora_format, hp_to_tora_format
from tora._checks import check_name, check_step, coerce_value, encode_metadata
from tora._delivery import series_from_wire
from tora._wire import STEP_KEY, TIME_KEY, Row, encode_batch, group, split_series


class ScalarTensor:
    """Stands in for a 0-d / 1-element torch tensor (torch is too big to install for tests):
    the client only relies on ``.item()``, exactly as it does for torch."""

    def __init__(self, v: float) -> None:
        self.v = v

    def item(self) -> float:
        return self.v


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (2.5, 2.5),
        (True, 1),
        (False, 0),
        (decimal.Decimal("0.125"), 0.125),
        (np.float32(0.5), 0.5),
        (np.float64(1.25), 1.25),
        (np.int64(7), 7),
        (np.int8(-3), -3),
        (np.bool_(True), 1),
        (np.array(3.5), 3.5),
        (np.array([4.0]), 4.0),
        (ScalarTensor(9.75), 9.75),
    ],
)
def test_coerce_accepts_numbers(value: object, expected: float) -> None:
    out = coerce_value(value)
    assert out == expected and type(out) in (int, float)


def test_coerce_keeps_nan_and_inf() -> None:
    assert math.isnan(coerce_value(np.float32("nan")))
    assert coerce_value(np.float64("-inf")) == -math.inf
    assert coerce_value(ScalarTensor(math.inf)) == math.inf


@pytest.mark.parametrize("value", ["1.0", b"1", None, [1.0], {"a": 1}, 1j, np.array([1.0, 2.0]), object()])
def test_coerce_rejects_non_numbers(value: object) -> None:
    with pytest.raises(TypeError):
        coerce_value(value)


def test_names() -> None:
    assert check_name("train/loss") == "train/loss"
    for bad in ["", "   ", "x" * 257, "a\nb"]:
        with pytest.raises(ValueError):
            check_name(bad)
    with pytest.raises(TypeError):
        check_name(3)


def test_steps() -> None:
    assert check_step(0) == 0 and check_step(np.int64(5)) == 5
    for bad in [-1, 2**53]:
        with pytest.raises(ValueError):
            check_step(bad)
    for bad_type in [1.0, 1.5, True, "3"]:
        with pytest.raises(TypeError):
            check_step(bad_type)


def test_metadata() -> None:
    assert json.loads(encode_metadata({"a": 1, "b": np.float32(0.5)})) == {"a": 1, "b": 0.5}
    with pytest.raises(TypeError):
        encode_metadata([1])
    with pytest.raises(ValueError):
        encode_metadata({"x": "y" * 5000})
    with pytest.raises(ValueError):
        encode_metadata({"x": float("nan")})


POINTS = [
    ("loss", 0, 1.0, 1.0, None),
    ("loss", None, float("nan"), 2.0, '{"a":1}'),
    ("acc", 3, float("inf"), 3.0, None),
    ("acc", 4, float("-inf"), 3.5, None),
]


def test_json_batch_is_columnar_and_spells_non_finite() -> None:
    body = json.loads(encode_batch("b1", group(POINTS), binary=False))
    assert body == {
        "batchId": "b1",
        "series": {
            "loss": {
                "steps": [0, None],
                "values": [1.0, "NaN"],
                "times": [1000, 2000],
                "metadata": [None, {"a": 1}],
            },
            "acc": {"steps": [3, 4], "values": ["Infinity", "-Infinity"], "times": [3000, 3500]},
        },
    }
    # Spooled bodies come back to the same form.
    assert json.loads(encode_batch("b1", series_from_wire(body), binary=False)) == body


def f64(text: str) -> list[float]:
    return list(struct.unpack(f"<{len(base64.b64decode(text)) // 8}d", base64.b64decode(text)))


def test_binary_batch_carries_exact_float64_little_endian() -> None:
    body = json.loads(encode_batch("b1", group(POINTS)))
    loss, acc = body["series"]["loss"], body["series"]["acc"]
    assert set(loss) == {"stepsF64", "valuesF64", "timesF64", "metadata"}
    assert f64(loss["stepsF64"])[0] == 0 and math.isnan(f64(loss["stepsF64"])[1])  # NaN: server assigns
    assert f64(loss["valuesF64"])[0] == 1.0 and math.isnan(f64(loss["valuesF64"])[1])
    assert f64(loss["timesF64"]) == [1000.0, 2000.0]
    assert loss["metadata"] == [None, {"a": 1}]
    assert f64(acc["valuesF64"]) == [math.inf, -math.inf] and "metadata" not in acc
    # A value JSON would round-trip only through repr survives bit for bit.
    tiny = group([("x", 1, 0.1 + 0.2, 0.0, None), ("x", 2, 5e-324, 0.0, None), ("x", 3, 2**70, 0.0, None)])
    values = json.loads(encode_batch("b", tiny))["series"]["x"]["valuesF64"]
    assert f64(values) == [0.1 + 0.2, 5e-324, 2.0**70]
    # Spooled binary bodies decode to the same columns.
    assert series_from_wire(body) == group(POINTS)


def row(metrics: dict[str, Any], step: Optional[int], t: float) -> Row:
    """A buffered log_metrics call, as Tora.log_metrics builds it."""
    out: Row = dict(metrics)
    out[STEP_KEY] = math.nan if step is None else step
    out[TIME_KEY] = t
    return out


def test_log_metrics_rows_group_like_points() -> None:
    rows = [row({"a": 1.0, "b": 2.0}, 7, 1.0), row({"a": 3.0, "b": 4}, None, 2.0), row({"a": 5.0}, 9, 3.0)]
    points = [
        ("a", 7, 1.0, 1.0, None),
        ("b", 7, 2.0, 1.0, None),
        ("a", None, 3.0, 2.0, None),
        ("b", None, 4, 2.0, None),
        ("a", 9, 5.0, 3.0, None),
    ]
    assert group(rows) == group(points)
    a = group(rows)["a"]
    assert a.values.tolist() == [1.0, 3.0, 5.0] and a.times.tolist() == [1000.0, 2000.0, 3000.0]


def test_group_keeps_each_metrics_order_across_points_and_rows() -> None:
    items = [
        row({"loss": 1.0, "acc": 0.1}, 0, 0.0),
        ("loss", 1, 2.0, 0.0, '{"k":1}'),
        row({"loss": 3.0, "acc": 0.3}, 2, 0.0),
        row({"acc": 0.4, "loss": 4.0}, 3, 0.0),  # same names, other order: a new run
    ]
    series = group(items)
    assert series["loss"].values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert series["loss"].steps.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert series["loss"].metadata == [None, '{"k":1}', None, None]
    assert series["acc"].values.tolist() == [0.1, 0.3, 0.4] and series["acc"].metadata is None
    # loss and acc started from the same step and time arrays; neither change leaked to the other.
    assert series["acc"].steps.tolist() == [0.0, 2.0, 3.0]
    assert len(series["acc"].times) == 3 and len(series["loss"].times) == 4


def test_ints_beyond_float64_become_infinities_instead_of_failing_the_batch() -> None:
    series = group([row({"big": 10**400, "neg": -(10**400)}, 0, 0.0), ("big", 1, 10**400, 0.0, None)])
    assert series["big"].values.tolist() == [math.inf, math.inf]
    assert series["neg"].values.tolist() == [-math.inf]


def test_split_keeps_order_and_all_points() -> None:
    series = group([(f"m{i % 3}", i, float(i), 0.0, '{"i":1}' if i == 50 else None) for i in range(101)])
    a, b = split_series(series)
    for name, col in series.items():
        halves = [part[name].values.tolist() for part in (a, b) if name in part]
        joined = [v for half in halves for v in half]
        assert joined == col.values.tolist()
    assert abs(sum(map(len, a.values())) - sum(map(len, b.values()))) <= 1
    metas = [m for part in (a, b) for c in part.values() for m in (c.metadata or [])]
    assert metas.count('{"i":1}') == 1


def test_hyperparams_round_trip_exactly() -> None:
    hp = {"lr": 3e-4, "layers": 12, "name": "resnet", "amp": True, "seed": None, "big": 2**40}
    assert hp_from_tora_format(hp_to_tora_format(hp)) == hp
    assert hp_to_tora_format({"lr": 0.1}) == [{"key": "lr", "value": 0.1}]
    assert hp_to_tora_format({"x": np.float32(0.5), "l": [1, 2]}) == [
        {"key": "x", "value": 0.5},
        {"key": "l", "value": "[1, 2]"},
    ]


class AddsUpButIsNoNumber:
    """Gets past log_metrics' C-level check (``1.0 + x`` is a float) without being a number."""

    def __radd__(self, other: object) -> float:
        return 0.0


def test_a_value_that_cannot_be_converted_is_sent_as_nan_not_failing_the_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    series = group([row({"a": 1.0, "w": AddsUpButIsNoNumber()}, 0, 0.0), row({"a": 2.0, "w": 3.0}, 1, 0.0)])
    assert series["a"].values.tolist() == [1.0, 2.0]
    w = series["w"].values.tolist()
    assert math.isnan(w[0]) and w[1] == 3.0
    assert any("not a number; sent as NaN" in r.getMessage() for r in caplog.records)
