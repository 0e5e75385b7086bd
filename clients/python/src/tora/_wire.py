"""Argument checks at the call, and the JSON wire form of batches and hyperparameters."""

from __future__ import annotations

import decimal
import json
import math
import operator
from typing import Any, Iterable, Mapping, Optional, Union

Number = Union[int, float]
# One logged point: (name, step or None, value, epoch seconds, metadata JSON or None).
Point = tuple[str, Optional[int], Number, float, Optional[str]]
# One log_metrics call: ({name: value}, step or None, epoch seconds).
Row = tuple[dict[str, Number], Optional[int], float]
# A batch in column form: {name: [steps, values, epoch-second times, metadata JSON or None]}.
Series = dict[str, list[list[Any]]]

MAX_NAME_LENGTH = 256
MAX_METADATA_BYTES = 4096
MAX_STEP = 2**53 - 1


def coerce_value(value: Any) -> Number:
    """Turns an accepted metric value into an int or float; raises TypeError otherwise.

    Accepts int, float, bool, ``decimal.Decimal``, numpy scalars, 0-d numpy arrays and
    anything with ``.item()`` returning a number (torch tensors of one element).

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
    if isinstance(value, decimal.Decimal):
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


def check_name(name: Any) -> str:
    """Raises for names the server would reject: empty, blank, too long, control characters."""
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a str, got {type(name).__name__}")
    if not name.strip():
        raise ValueError("metric name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"metric name is longer than {MAX_NAME_LENGTH} characters: {name[:40]!r}...")
    if any(ord(c) < 32 for c in name):
        raise ValueError(f"metric name must not contain control characters: {name!r}")
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
    """Returns the metadata as compact JSON; raises for non-dicts, NaN, or more than 4096 bytes."""
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        text = json.dumps(dict(metadata), separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as e:
        raise ValueError(f"metadata is not JSON-serializable: {e}") from e
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES} bytes as JSON")
    return text


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(obj).__name__} is not JSON-serializable")


def _wire_number(v: Number) -> Union[Number, str]:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    return v


def _dump_numbers(values: list[Number]) -> str:
    text = json.dumps(values)
    # Fast path: json.dumps writes NaN/Infinity bare, which is not JSON; redo only when present.
    if "N" in text or "I" in text:
        text = json.dumps([_wire_number(v) for v in values])
    return text


def group(items: Iterable[Union[Point, Row]]) -> Series:
    """Groups buffered items by metric name into columns [steps, values, epoch-s times, metadata].

    Per point this is one dict lookup and one list append; the transposition is ``zip``.
    """
    rows_by_name: dict[str, list[tuple[Any, ...]]] = {}
    get = rows_by_name.get
    for item in items:
        if len(item) == 5:
            rows = get(item[0])
            if rows is None:
                rows = rows_by_name[item[0]] = []
            rows.append(item)
        else:
            metrics, step, t = item
            for name, value in metrics.items():
                rows = get(name)
                if rows is None:
                    rows = rows_by_name[name] = []
                rows.append((name, step, value, t, None))
    return {name: [list(c) for c in list(zip(*rows))[1:]] for name, rows in rows_by_name.items()}


def encode_batch(batch_id: str, series: Series) -> bytes:
    """The server's columnar batch body ``{"batchId", "series": {name: {steps, values, ...}}}``."""
    parts = []
    for name, (steps, values, times, metas) in series.items():
        times_ms = list(map(round, map((1000.0).__mul__, times)))  # C-level loops, no bytecode per point
        body = (
            f'{json.dumps(name)}:{{"steps":{json.dumps(steps)},"values":{_dump_numbers(values)},'
            f'"times":{json.dumps(times_ms)}'
        )
        if metas.count(None) != len(metas):
            body += ',"metadata":[' + ",".join("null" if m is None else m for m in metas) + "]"
        parts.append(body + "}")
    return (f'{{"batchId":{json.dumps(batch_id)},"series":{{' + ",".join(parts) + "}}").encode("utf-8")


def count_points(series: Series) -> int:
    return sum(len(cols[1]) for cols in series.values())


def split_series(series: Series) -> tuple[Series, Series]:
    """Splits a batch into two halves by points, keeping each series' order (for 413)."""
    total = count_points(series)
    first: Series = {}
    second: Series = {}
    budget = total // 2
    for name, cols in series.items():
        n = len(cols[1])
        if budget >= n:
            first[name] = cols
            budget -= n
        elif budget > 0:
            first[name] = [c[:budget] for c in cols]
            second[name] = [c[budget:] for c in cols]
            budget = 0
        else:
            second[name] = cols
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
