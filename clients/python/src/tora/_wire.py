"""Argument checks at the call, and the JSON wire form of batches and hyperparameters."""

from __future__ import annotations

import base64
import decimal
import json
import logging
import math
import numbers
import operator
import sys
from array import array
from itertools import chain
from typing import Any, Iterable, Mapping, Optional, Union

logger = logging.getLogger("tora")

Number = Union[int, float]
# One logged point: (name, step or None, value, epoch seconds, metadata JSON or None).
Point = tuple[str, Optional[int], Number, float, Optional[str]]
# One log_metrics call: a copy of its {name: value} with the step (NaN = next) under STEP_KEY
# and the epoch-second time under TIME_KEY, inserted after the names.
Row = dict[Union[str, int], Number]
STEP_KEY = 0
TIME_KEY = 1

MAX_NAME_LENGTH = 256
MAX_METADATA_BYTES = 4096
MAX_STEP = 2**53 - 1


def coerce_value(value: Any) -> Number:
    """Turns an accepted metric value into an int or float; raises TypeError otherwise.

    Accepts int, float, bool, ``decimal.Decimal``, ``fractions.Fraction``, numpy scalars, 0-d
    numpy arrays and anything with ``.item()`` returning a number (torch tensors of one element).

    >>> coerce_value(True), coerce_value(decimal.Decimal("0.5"))
    (1, 0.5)
    """
    t = type(value)
    if t is float or t is int:
        return value  # type: ignore[no-any-return]
    if t is bool:
        return int(value)
    if isinstance(value, (str, bytes, complex)):
        raise TypeError(f"metric value must be a real number, got {t.__name__} {value!r:.50}")
    if isinstance(value, float):  # numpy.float64 and other float subclasses
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (decimal.Decimal, numbers.Real)):  # also fractions.Fraction
        return float(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            inner = item()
        except (ValueError, RuntimeError) as e:  # numpy/torch with more than one element
            raise TypeError(f"metric value must be a scalar, got {t.__name__} with several elements") from e
        if type(inner) in (float, int, bool):
            return coerce_value(inner)
        raise TypeError(f"metric value {t.__name__}.item() returned {type(inner).__name__}, not a number")
    raise TypeError(f"metric value must be a real number, got {t.__name__}")


# The metric-name and metadata rules below are the server's (apps/server/src/modules/metrics/
# ingest.ts), applied at the call so that a point the client accepts is one the server accepts:
# lengths in code points (``len()``), blank meaning only the characters JavaScript's
# ``String.prototype.trim`` removes, metadata measured as the server re-serializes it.
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
MAX_METADATA_DEPTH = 16


def check_name(name: Any) -> str:
    """Raises for names the server would reject: empty, blank, longer than 256 code points,
    control characters, lone surrogates."""
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a str, got {type(name).__name__}")
    if not name.strip(_JS_SPACE):
        raise ValueError("metric name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"metric name is longer than {MAX_NAME_LENGTH} characters: {name[:40]!r}...")
    if any(ord(c) < 32 for c in name):
        raise ValueError(f"metric name must not contain control characters: {name!r}")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise ValueError(f"metric name must be valid Unicode (it contains a lone surrogate): {name!r}")
    return name


def check_step(step: Any) -> int:
    """Returns the step as int; raises for bools, floats, negative or too-large steps."""
    if type(step) is not int:
        if isinstance(step, (bool, float)) or step is None:
            raise TypeError(f"step must be a non-negative int, got {type(step).__name__} {step!r}")
        try:
            step = operator.index(step)  # numpy integers
        except TypeError:
            raise TypeError(f"step must be a non-negative int, got {type(step).__name__}") from None
    if step < 0 or step > MAX_STEP:
        raise ValueError(f"step must be between 0 and 2**53-1, got {step}")
    return step  # type: ignore[no-any-return]


def encode_metadata(metadata: Any) -> str:
    """Returns the metadata as compact JSON; raises for non-dicts, NaN, more than 16 levels of
    nesting, or more than 4096 bytes of JSON as the server writes it (UTF-8, numbers written
    the JavaScript way)."""
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        text = json.dumps(dict(metadata), separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError, RecursionError) as e:
        raise ValueError(f"metadata is not JSON-serializable: {e}") from e
    # The server's text is at most 4.2 times this one (``1e+20`` is ``100000000000000000000``
    # there; escapes here are never shorter than UTF-8 there): short, shallow metadata, the usual
    # case, needs no second pass.
    long_or_deep = len(text) > 960 or text.count("{") + text.count("[") > MAX_METADATA_DEPTH
    if long_or_deep and _js_json_bytes(json.loads(text), 1) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON")
    return text


def _js_json_bytes(obj: Any, depth: int) -> int:
    """UTF-8 bytes of ``JSON.stringify(obj)``; raises ValueError past MAX_METADATA_DEPTH."""
    if isinstance(obj, (dict, list)):
        if depth > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata nests deeper than the limit of {MAX_METADATA_DEPTH} levels")
        if isinstance(obj, dict):
            inner = sum(_js_string_bytes(k) + 1 + _js_json_bytes(v, depth + 1) for k, v in obj.items())
        else:
            inner = sum(_js_json_bytes(v, depth + 1) for v in obj)
        return 2 + inner + max(0, len(obj) - 1)
    if isinstance(obj, str):
        return _js_string_bytes(obj)
    if obj is None or isinstance(obj, bool):
        return 4 if obj is None or obj else 5
    if isinstance(obj, int) and abs(obj) > MAX_STEP:
        try:
            obj = float(obj)  # what JSON.parse makes of it
        except OverflowError:
            return 4  # Infinity, which JSON.stringify writes as null
    return len(js_number(obj))


_SHORT_ESCAPES = frozenset('\b\f\n\r\t"\\')


def _js_string_bytes(text: str) -> int:
    n = 2
    for c in text:
        o = ord(c)
        if c in _SHORT_ESCAPES:
            n += 2
        elif o < 0x20 or 0xD800 <= o <= 0xDFFF:  # \u00XX; lone surrogates escaped too
            n += 6
        else:
            n += 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
    return n


def js_number(x: Number) -> str:
    """A number as JavaScript's ``String(x)`` writes it (``1e21``, ``1e-7``, ``0.000001``).

    >>> js_number(1e16), js_number(1.5e-7), js_number(3)
    ('10000000000000000', '1.5e-7', '3')
    """
    if isinstance(x, int):
        return str(x)
    sign, digits, exp = decimal.Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    if ds == "0":
        return "0"
    assert isinstance(exp, int)
    k = len(ds)
    n = exp + len(digits)  # the decimal point sits after n digits
    out: str
    if k <= n <= 21:
        out = ds + "0" * (n - k)
    elif 0 < n <= 21:
        out = ds[:n] + "." + ds[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + ds
    else:
        e = n - 1
        out = ds[0] + ("." + ds[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-") + str(abs(e))
    return ("-" if sign else "") + out


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(obj).__name__} is not JSON-serializable")


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


HyperparamValue = Union[str, int, float, bool, None]


def hp_to_tora_format(hyperparams: Mapping[str, Any]) -> list[dict[str, HyperparamValue]]:
    """Converts ``{"lr": 0.1}`` to the server's list form ``[{"key": "lr", "value": 0.1}]``.

    Values that are not str/int/float/bool/None are converted: numpy scalars through
    ``.item()``, anything else through ``str()``. Round-trips exactly with
    ``hp_from_tora_format`` for str, int, finite float, bool and None values.

    >>> hp_to_tora_format({"lr": 0.1, "layers": 3})
    [{'key': 'lr', 'value': 0.1}, {'key': 'layers', 'value': 3}]
    """
    out: list[dict[str, HyperparamValue]] = []
    for key, value in hyperparams.items():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            item = getattr(value, "item", None)
            value = item() if callable(item) else str(value)
            if not isinstance(value, (str, int, float, bool)):
                value = str(value)
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)  # the server stores finite numbers only
        out.append({"key": str(key), "value": value})
    return out


def hp_from_tora_format(hyperparams: Iterable[Mapping[str, Any]]) -> dict[str, HyperparamValue]:
    """Converts the server's list form back to a dict.

    >>> hp_from_tora_format([{"key": "lr", "value": 0.1}])
    {'lr': 0.1}
    """
    return {str(item["key"]): item.get("value") for item in hyperparams}
