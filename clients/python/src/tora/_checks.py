"""Argument checks at the call: metric values, names, steps and metadata as the server accepts them."""

from __future__ import annotations

import decimal
import json
import numbers
import operator
from typing import Any, Mapping, Union

Number = Union[int, float]

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
