"""Posting one batch and classifying the result; shared by the sender thread and `tora sync`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Optional

from ._errors import APIError, ToraError, TransportError, api_error
from ._http import Transport
from ._wire import Series, count_points, decode_batch, encode_batch, split_series

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


F64_COLUMNS = "metrics.f64-columns"


def supports_f64(health: Any) -> bool:
    """Whether a ``GET /api/health`` answer lists binary (float64) batch columns."""
    return isinstance(health, dict) and F64_COLUMNS in (health.get("features") or [])


def negotiate(transport: Transport) -> bool:
    """Float64 columns or JSON numbers for this server: asks ``/api/health`` once per transport.

    A server that cannot be asked right now gets JSON (the request will fail anyway and be
    spooled; spool files are re-encoded when replayed) and is asked again next time.
    """
    if transport.binary is None:
        try:
            status, payload = transport.request("GET", "/api/health")
        except TransportError:
            return False
        if status >= 500:
            return False  # ask again next time
        transport.binary = status == 200 and supports_f64(payload)
    return transport.binary


def post_batch(transport: Transport, experiment_id: str, batch_id: str, series: Series) -> Result:
    """Posts a columnar batch; on 413 splits it in halves with derived batch ids.

    Derived ids are deterministic (``<id>.0``, ``<id>.1``), so replaying a half-delivered
    batch later is still exactly-once. Batches go out as float64 columns to servers that list
    them in ``/api/health`` (see ``negotiate``), as JSON numbers to others.
    """
    path = f"/api/experiments/{experiment_id}/metrics/batch"
    try:
        status, payload = transport.request(
            "POST", path, encode_batch(batch_id, series, negotiate(transport))
        )
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


def put_status(transport: Transport, experiment_id: str, status: str) -> Result:
    """Sets an experiment's status (``PUT /api/experiments/{id}``), classified like a batch."""
    try:
        body = json.dumps({"status": status}).encode()
        code, payload = transport.request("PUT", f"/api/experiments/{experiment_id}", body)
    except TransportError as e:
        return Result(RETRY, error=e)
    return classify(code, payload)


def deliver_spooled(transport: Transport, experiment_id: str, doc: dict[str, Any]) -> Result:
    """Replays one spool file: a batch of points, or a status change spooled at exit."""
    if doc.get("kind") == "status":
        return put_status(transport, experiment_id, str(doc["status"]))
    return post_batch(transport, experiment_id, str(doc["batch_id"]), series_from_wire(doc["batch"]))


def create_experiment(transport: Transport, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/experiments; returns the experiment object. Raises ToraError."""
    payload = transport.call("POST", "/api/experiments", body)
    exp = payload.get("experiment", payload) if isinstance(payload, dict) else None
    if not isinstance(exp, dict) or "id" not in exp:
        raise TransportError(f"unexpected reply to POST /api/experiments: {payload!r:.300}")
    return exp


def series_from_wire(batch: dict[str, Any]) -> Series:
    """The internal column form of a spooled batch body (for re-encoding and splitting)."""
    return decode_batch(batch, time.time() * 1000.0)
