"""Posting one batch and classifying the result; shared by the sender thread and `tora sync`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Optional

from ._errors import APIError, ToraError, TransportError, api_error
from ._http import Transport
from ._wire import Series, count_points, encode_batch, split_series

OK = "ok"
RETRY = "retry"  # unreachable, timeout, 5xx, 429: try again later, spool meanwhile
AUTH = "auth"  # 401/403: the key is wrong; retrying will not help until it is fixed
GONE = "gone"  # 404: the experiment no longer exists
REJECTED = "rejected"  # other 4xx (or a single point over a limit): the data can never be accepted


@dataclass
class Result:
    outcome: str
    delivered: int = 0
    error: Optional[ToraError] = None


def classify(status: int, payload: Any) -> Result:
    if status < 300:
        return Result(OK)
    if status >= 500 or status in (408, 429):
        return Result(RETRY, error=TransportError(f"Tora server answered {status}: {payload!r:.300}"))
    err: APIError = api_error(status, payload)
    if status in (401, 403):
        return Result(AUTH, error=err)
    if status == 404:
        return Result(GONE, error=err)
    return Result(REJECTED, error=err)


def post_batch(transport: Transport, experiment_id: str, batch_id: str, series: Series) -> Result:
    """Posts a columnar batch; on 413 splits it in halves with derived batch ids.

    Derived ids are deterministic (``<id>.0``, ``<id>.1``), so replaying a half-delivered
    batch later is still exactly-once.
    """
    body = encode_batch(batch_id, series)
    try:
        status, payload = transport.request("POST", f"/api/experiments/{experiment_id}/metrics/batch", body)
    except TransportError as e:
        return Result(RETRY, error=e)
    n = count_points(series)
    if status == 413 and n > 1:
        delivered = 0
        for i, half in enumerate(split_series(series)):
            r = post_batch(transport, experiment_id, f"{batch_id}.{i}", half)
            delivered += r.delivered
            if r.outcome != OK:
                return Result(r.outcome, delivered, r.error)
        return Result(OK, delivered)
    result = classify(status, payload)
    if result.outcome == OK:
        result.delivered = n
    return result


def create_experiment(transport: Transport, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/experiments; returns the experiment object. Raises ToraError."""
    payload = transport.call("POST", "/api/experiments", body)
    exp = payload.get("experiment", payload) if isinstance(payload, dict) else None
    if not isinstance(exp, dict) or "id" not in exp:
        raise TransportError(f"unexpected reply to POST /api/experiments: {payload!r:.300}")
    return exp


def series_from_wire(batch: dict[str, Any]) -> Series:
    """The internal column form of a spooled batch body (for re-encoding and splitting)."""
    out: Series = {}
    now = time.time()
    for name, col in batch["series"].items():
        values = col["values"]
        n = len(values)
        steps = col.get("steps") or [None] * n
        times = [now if t is None else t / 1000.0 for t in (col.get("times") or [None] * n)]
        metas = [
            None if m is None else json.dumps(m, separators=(",", ":"))
            for m in (col.get("metadata") or [None] * n)
        ]
        out[name] = [list(steps), list(values), times, metas]
    return out
