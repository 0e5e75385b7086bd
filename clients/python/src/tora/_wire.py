"""The JSON wire form of metric batches: buffered points grouped into float64 columns, encoded
and decoded (both column forms), split for a 413."""

from __future__ import annotations

import base64
import json
import logging
import math
import sys
from array import array
from itertools import chain
from typing import Any, Iterable, Mapping, Optional, Union

from ._checks import Number

logger = logging.getLogger("tora")

# One logged point: (name, step or None, value, epoch seconds, metadata JSON or None).
Point = tuple[str, Optional[int], Number, float, Optional[str]]
# One log_metrics call: a copy of its {name: value} with the step (NaN = next) under STEP_KEY
# and the epoch-second time under TIME_KEY, inserted after the names.
Row = dict[Union[str, int], Number]
STEP_KEY = 0
TIME_KEY = 1


def _wire_number(v: Number) -> Union[Number, str]:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    return v


def _dump_numbers(values: list[float]) -> str:
    text = json.dumps(values)
    # Fast path: json.dumps writes NaN/Infinity bare, which is not JSON; redo only when present.
    if "N" in text or "I" in text:
        text = json.dumps([_wire_number(v) for v in values])
    return text


def _f64(x: Any) -> float:
    """A number as float64; ints beyond its range become ±inf (what the server would store)."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf
    except (TypeError, ValueError):  # passed the call's checks yet is no number: never fail the batch
        logger.error("Tora: metric value %r of type %s is not a number; sent as NaN", x, type(x).__name__)
        return math.nan


def _doubles(xs: list[Any]) -> array[float]:
    try:
        return array("d", xs)  # one C loop
    except (OverflowError, TypeError, ValueError):
        return array("d", map(_f64, xs))


class Column:
    """One metric's points in a batch, as float64 arrays: steps (NaN = the server assigns the
    next step), values, times in epoch milliseconds, and metadata JSON (None when no point has
    any). Arrays, not lists: grouping and encoding them are C loops, not bytecode per point."""

    __slots__ = ("metadata", "shared", "steps", "times", "values")

    def __init__(self) -> None:
        self.steps: array[float] = array("d")
        self.values: array[float] = array("d")
        self.times: array[float] = array("d")
        self.metadata: Optional[list[Optional[str]]] = None
        # steps and times are the very arrays of other columns (one log_metrics run): encoded
        # once, and copied before this column changes them.
        self.shared = False

    def _own(self) -> None:
        if self.shared:
            self.steps = array("d", self.steps)
            self.times = array("d", self.times)
            self.shared = False

    def add_rows(self, steps: array[float], values: array[float], times: array[float]) -> None:
        if not len(self):
            self.steps, self.values, self.times, self.shared = steps, values, times, True
            return
        self._own()
        if self.metadata is not None:
            self.metadata.extend([None] * len(values))
        self.steps.extend(steps)
        self.values.extend(values)
        self.times.extend(times)

    def add_point(self, step: float, value: float, t: float, meta: Optional[str]) -> None:
        self._own()
        n = len(self)
        self.steps.append(step)
        self.values.append(value)
        self.times.append(t)
        if meta is not None or self.metadata is not None:
            self.add_metadata(n, [meta])

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return (
            f"Column(steps={self.steps.tolist()}, values={self.values.tolist()}, times={self.times.tolist()})"
        )

    def __eq__(self, other: object) -> bool:
        # NaN-aware, byte-wise: NaN steps (and values) compare equal to themselves.
        return (
            isinstance(other, Column)
            and self.steps.tobytes() == other.steps.tobytes()
            and self.values.tobytes() == other.values.tobytes()
            and self.times.tobytes() == other.times.tobytes()
            and (self.metadata or [None] * len(self)) == (other.metadata or [None] * len(other))
        )

    def add_metadata(self, n_before: int, metas: list[Optional[str]]) -> None:
        if self.metadata is None:
            if metas.count(None) == len(metas):
                return
            self.metadata = [None] * n_before
        self.metadata.extend(metas)

    def part(self, start: int, stop: int) -> Column:
        out = Column()
        out.steps = self.steps[start:stop]
        out.values = self.values[start:stop]
        out.times = self.times[start:stop]
        out.metadata = None if self.metadata is None else self.metadata[start:stop]
        return out

    def without(self, i: int) -> Column:
        """A copy without point ``i`` (one the server refused)."""
        out = self.part(0, i)
        out.steps.extend(self.steps[i + 1 :])
        out.values.extend(self.values[i + 1 :])
        out.times.extend(self.times[i + 1 :])
        if out.metadata is not None and self.metadata is not None:
            out.metadata.extend(self.metadata[i + 1 :])
        return out


# A batch: {metric name: Column}.
Series = dict[str, Column]
_NAN = math.nan


def _column(series: Series, name: str) -> Column:
    col = series.get(name)
    if col is None:
        col = series[name] = Column()
    return col


def _add_rows(series: Series, keys: tuple[Union[str, int], ...], rows: list[Row]) -> None:
    """Adds consecutive log_metrics rows with the same keys: transposed by slicing, in C."""
    k = len(keys)
    flat = _doubles(list(chain.from_iterable(map(dict.values, rows))))
    steps = flat[k - 2 :: k]
    times = array("d", list(map((1000.0).__mul__, flat[k - 1 :: k])))
    for i, name in enumerate(keys[:-2]):
        _column(series, str(name)).add_rows(steps, flat[i::k], times)


def group(items: Iterable[Union[Point, Row]]) -> Series:
    """Groups buffered items by metric name into float64 columns, keeping each metric's order.

    Runs of ``log_metrics`` rows with the same names (the usual training loop) cost one tuple
    comparison per row in bytecode; the rest is C.
    """
    series: Series = {}
    run: list[Row] = []
    run_keys: tuple[Union[str, int], ...] = ()
    for item in items:
        if isinstance(item, dict):
            keys = tuple(item)
            if keys != run_keys:
                if run:
                    _add_rows(series, run_keys, run)
                run = []
                run_keys = keys
            run.append(item)
            continue
        if run:
            _add_rows(series, run_keys, run)
            run = []
            run_keys = ()
        name, step, value, t, meta = item
        _column(series, name).add_point(_NAN if step is None else step, _f64(value), t * 1000.0, meta)
    if run:
        _add_rows(series, run_keys, run)
    return series


def _b64(a: array[float]) -> str:
    if sys.byteorder != "little":
        a = array("d", a)
        a.byteswap()
    return base64.b64encode(a.tobytes()).decode("ascii")


def encode_batch(batch_id: str, series: Series, binary: bool = True) -> bytes:
    """The server's columnar batch body ``{"batchId", "series": {name: {...}}}``.

    ``binary`` sends each column as base64 of little-endian float64 (``stepsF64``,
    ``valuesF64``, ``timesF64``): copying a float costs the sender a few nanoseconds, printing
    it in JSON a few hundred, and that time is taken from the training loop (one GIL).
    ``binary=False`` writes JSON numbers for servers that predate the binary columns.
    """
    parts = []
    encoded: dict[int, str] = {}  # by id(): shared step and time arrays are encoded once

    def b64(a: array[float]) -> str:
        text = encoded.get(id(a))
        if text is None:
            text = encoded[id(a)] = _b64(a)
        return text

    for name, col in series.items():
        if binary:
            body = (
                f'{json.dumps(name)}:{{"stepsF64":"{b64(col.steps)}","valuesF64":"{b64(col.values)}",'
                f'"timesF64":"{b64(col.times)}"'
            )
        else:
            steps = [None if s != s else int(s) for s in col.steps]
            body = (
                f'{json.dumps(name)}:{{"steps":{json.dumps(steps)},"values":{_dump_numbers(col.values.tolist())},'
                f'"times":{json.dumps(list(map(round, col.times)))}'
            )
        if col.metadata is not None:
            body += ',"metadata":[' + ",".join("null" if m is None else m for m in col.metadata) + "]"
        parts.append(body + "}")
    return (f'{{"batchId":{json.dumps(batch_id)},"series":{{' + ",".join(parts) + "}}").encode("utf-8")


def _unb64(text: Any) -> array[float]:
    out = array("d")
    out.frombytes(base64.b64decode(str(text), validate=True))
    if sys.byteorder != "little":
        out.byteswap()
    return out


def _wire_column(col: Mapping[str, Any], key: str, n: int, fill: float) -> array[float]:
    if col.get(f"{key}F64") is not None:
        return _unb64(col[f"{key}F64"])
    raw = col.get(key)
    if raw is None:
        return array("d", [fill]) * n
    return array("d", [fill if x is None else _number(x) for x in raw])


def _number(x: Any) -> float:
    """A JSON wire number (``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` spelled as strings)."""
    if isinstance(x, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[x]
    return float(x)


def decode_batch(body: Mapping[str, Any], now_ms: float) -> Series:
    """The Series of an encoded batch body (a spooled one, in either column form)."""
    out: Series = {}
    for name, raw in body["series"].items():
        col = Column()
        col.values = _wire_column(raw, "values", 0, _NAN)
        n = len(col.values)
        col.steps = _wire_column(raw, "steps", n, _NAN)
        col.times = _wire_column(raw, "times", n, now_ms)
        if len(col.steps) != n or len(col.times) != n:
            raise ValueError(f"series {name!r}: columns of different lengths")
        metas = raw.get("metadata")
        if metas is not None:
            col.metadata = [None if m is None else json.dumps(m, separators=(",", ":")) for m in metas]
        out[str(name)] = col
    return out


def count_points(series: Series) -> int:
    return sum(map(len, series.values()))


def split_series(series: Series) -> tuple[Series, Series]:
    """Splits a batch into two halves by points, keeping each series' order (for 413)."""
    total = count_points(series)
    first: Series = {}
    second: Series = {}
    budget = total // 2
    for name, col in series.items():
        n = len(col)
        if budget >= n:
            first[name] = col
            budget -= n
        elif budget > 0:
            first[name] = col.part(0, budget)
            second[name] = col.part(budget, n)
            budget = 0
        else:
            second[name] = col
    return first, second
