"""Hyperparameters between a Python mapping and the server's list form."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Union

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
