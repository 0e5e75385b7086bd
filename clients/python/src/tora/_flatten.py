"""Nested hyperparameters made flat: ``{"opt": {"lr": 0.1}}`` becomes ``{"opt.lr": 0.1}``.

The server stores one value per key (so the dashboard can sort and compare by it); nested
configs from argparse, Hydra/OmegaConf, ``TrainingArguments`` or Lightning arrive here first.
"""

from __future__ import annotations

import json
import math
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from ._hyperparams import HyperparamValue


def flatten(params: Any, sep: str = ".") -> dict[str, HyperparamValue]:
    """Flattens nested mappings (and ``argparse.Namespace``) into dotted keys.

    Leaves stay as they are when they are str, int, float, bool or None; numpy scalars become
    their Python value; lists and tuples become JSON strings (``"[64, 128]"``), so a list is one
    comparable value; anything else becomes ``str(value)``; NaN and ±inf become strings (the
    server stores finite numbers only). Empty nested mappings are dropped.

    >>> flatten({"opt": {"lr": 0.1, "betas": (0.9, 0.99)}, "seed": 1})
    {'opt.lr': 0.1, 'opt.betas': '[0.9, 0.99]', 'seed': 1}
    """
    out: dict[str, HyperparamValue] = {}
    _walk(_as_mapping(params), "", sep, out)
    return out


def _as_mapping(params: Any) -> Mapping[Any, Any]:
    if params is None:
        return {}
    if isinstance(params, Namespace):
        return vars(params)
    if isinstance(params, Mapping):
        return params
    to_dict = getattr(params, "to_dict", None)  # transformers configs, OmegaConf-like objects
    if callable(to_dict):
        value = to_dict()
        if isinstance(value, Mapping):
            return value
    raise TypeError(f"hyperparameters must be a mapping or argparse.Namespace, got {type(params).__name__}")


def _walk(params: Mapping[Any, Any], prefix: str, sep: str, out: dict[str, HyperparamValue]) -> None:
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Namespace):
            value = vars(value)
        if isinstance(value, Mapping):
            _walk(value, name + sep, sep, out)
        else:
            out[name] = leaf(value)


def leaf(value: Any) -> HyperparamValue:
    """One hyperparameter value in the form the server stores (see ``flatten``)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return json.dumps([_jsonable(v) for v in value])
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return leaf(item())
        except (ValueError, RuntimeError):  # an array of several elements
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return leaf(tolist())
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _jsonable(item())
        except (ValueError, RuntimeError):
            pass
    return str(value)
