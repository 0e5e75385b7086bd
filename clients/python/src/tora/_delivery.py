"""Posting one batch and classifying the result; shared by the sender thread and `tora sync`."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ._config import quiet
from ._errors import APIError, ToraError, TransportError, api_error
from ._http import Transport
from ._wire import Series, count_points, decode_batch, encode_batch, split_series

logger = logging.getLogger("tora")

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
    # Metrics whose points the server refused (the rest was delivered): name -> [points, reason].
    refused: dict[str, list[Any]] = field(default_factory=dict)


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
RUN_INFO = "experiments.run-info"  # experiments take ``group`` and ``runInfo``


def server_features(transport: Transport) -> Optional[frozenset[str]]:
    """The optional features the server lists in ``GET /api/health``, asked once per transport.

    None when it cannot be asked right now (unreachable, 5xx, 429): it is asked again next time.
    A server that answers without a list (older than the list itself) supports none.
    """
    if transport.features is None:
        try:
            status, payload = transport.request("GET", "/api/health")
        except TransportError:
            return None
        if status >= 500 or status in (408, 429):
            return None
        listed = payload.get("features") if status == 200 and isinstance(payload, dict) else None
        names = listed if isinstance(listed, list) else []
        transport.features = frozenset(f for f in names if isinstance(f, str))
    return transport.features


def negotiate(transport: Transport) -> bool:
    """Float64 columns or JSON numbers for this server: asks ``/api/health`` once per transport.

    A server that cannot be asked right now gets JSON (the request will fail anyway and be
    spooled; spool files are re-encoded when replayed) and is asked again next time.
    """
    if transport.binary is None:
        features = server_features(transport)
        if features is None:
            return False  # ask again next time
        transport.binary = F64_COLUMNS in features
    return transport.binary


def post_batch(transport: Transport, experiment_id: str, batch_id: str, series: Series) -> Result:
    """Posts a columnar batch, delivering every point the server accepts.

    A 413 splits the batch in halves. A 400 (or 413) that names one field of the batch — a metric
    name, or one point's step, value, time or metadata — sets that metric's points (or that point)
    aside in ``Result.refused`` and sends the rest again; one refusal never costs the valid
    points beside it. Derived ids are deterministic (``<id>.0``, ``<id>.1``, ``<id>.r``), so
    replaying a half-delivered batch later is still exactly-once. Batches go out as float64
    columns to servers that list them in ``/api/health`` (see ``negotiate``), as JSON numbers to
    others.
    """
    result = Result(OK)
    pending = [(batch_id, series)]
    while pending:
        bid, part = pending.pop()
        path = f"/api/experiments/{experiment_id}/metrics/batch"
        try:
            status, payload = transport.request("POST", path, encode_batch(bid, part, negotiate(transport)))
        except TransportError as e:
            return Result(RETRY, result.delivered, e, result.refused)
        n = count_points(part)
        r = classify(status, payload)
        if r.outcome == OK:
            result.delivered += n
            continue
        if r.outcome != REJECTED or status not in (400, 413):
            return Result(r.outcome, result.delivered, r.error, result.refused)
        assert isinstance(r.error, APIError)
        refused = _refused_part(part, r.error)
        if refused is not None:
            name, keep = refused
            reason = result.refused.setdefault(name, [0, r.error.message])
            reason[0] += n - count_points(keep)
            if keep:
                pending.append((_derive(bid, "r"), keep))
        elif n > 1 and r.error.code in _SPLITTABLE:  # nothing named (a count limit): halve
            first, second = split_series(part)
            pending += [(_derive(bid, "1"), second), (_derive(bid, "0"), first)]
        else:
            for name, col in part.items():
                result.refused.setdefault(name, [0, r.error.message])[0] += len(col)
    return result


_SPLITTABLE = ("VALIDATION_ERROR", "PAYLOAD_TOO_LARGE")


_POINT_FIELDS = ("steps", "values", "times", "metadata", "stepsF64", "valuesF64", "timesF64")


def _refused_part(series: Series, err: APIError) -> Optional[tuple[str, Series]]:
    """(metric, the batch without what the server refused) when the error names a metric or
    one of its points (details path ``body.series.<name>[.<column>.<index>]``), else None."""
    first = err.details[0] if isinstance(err.details, list) and err.details else None
    path = first.get("path") if isinstance(first, dict) else None
    if not isinstance(path, str) or not path.startswith("body.series."):
        return None
    rest_of = path[len("body.series.") :]
    for name in sorted(series, key=len, reverse=True):  # "a.b" before "a"
        if rest_of == name:
            return name, {k: c for k, c in series.items() if k != name}
        if rest_of.startswith(name + "."):
            field, _, index = rest_of[len(name) + 1 :].partition(".")
            if field in _POINT_FIELDS and index.isdigit() and int(index) < len(series[name]):
                keep = {k: c for k, c in series.items() if k != name}
                if len(series[name]) > 1:
                    keep[name] = series[name].without(int(index))
                return name, keep
    return None


def _derive(batch_id: str, suffix: str) -> str:
    """A derived batch id within the server's 128 characters (long chains are hashed)."""
    out = f"{batch_id}.{suffix}"
    return out if len(out) <= 128 else hashlib.sha256(out.encode("utf-8", "surrogatepass")).hexdigest()


def put_experiment(transport: Transport, experiment_id: str, body: dict[str, Any]) -> Result:
    """Changes the experiment itself (``PUT /api/experiments/{id}``: status, hyperparameters,
    run info), classified like a batch."""
    try:
        data = json.dumps(body).encode()
        code, payload = transport.request("PUT", f"/api/experiments/{experiment_id}", data)
    except TransportError as e:
        return Result(RETRY, error=e)
    return classify(code, payload)


def put_status(transport: Transport, experiment_id: str, status: str) -> Result:
    """Sets an experiment's status (see ``put_experiment``)."""
    return put_experiment(transport, experiment_id, {"status": status})


def describe_update(body: dict[str, Any]) -> str:
    """What an experiment update changes, for messages: ``status failed``, ``hyperparams``."""
    return ", ".join(f"status {v}" if k == "status" else k for k, v in body.items())


def deliver_spooled(transport: Transport, experiment_id: str, doc: dict[str, Any]) -> Result:
    """Replays one spool file: a batch of points, an upload, or a change to the experiment (``kind``
    ``update``; ``status`` is what older clients spooled at exit)."""
    if doc.get("kind") == "update":
        return put_experiment(transport, experiment_id, dict(doc["batch"]))
    if doc.get("kind") == "status":
        return put_status(transport, experiment_id, str(doc["status"]))
    if doc.get("kind") == "upload":
        from ._uploads import deliver_spooled_upload  # that module builds on this one

        return deliver_spooled_upload(transport, experiment_id, doc)
    return post_batch(transport, experiment_id, str(doc["batch_id"]), series_from_wire(doc["batch"]))


def create_experiment(transport: Transport, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/experiments; returns the experiment object. Raises ToraError.

    ``group`` and ``runInfo`` go only to a server listing ``experiments.run-info`` (an older one
    refuses unknown fields with a 400): elsewhere the experiment is created without them, run
    info dropped with a debug line, a group the user asked for with a warning. A server that
    cannot say what it lists right now raises ``TransportError``, like an unreachable one.
    """
    dropped = [k for k in _RUN_INFO_FIELDS if k in body]
    if dropped:
        features = server_features(transport)
        if features is None:
            raise TransportError(
                "Tora server did not answer GET /api/health; cannot create the experiment yet"
            )
        if RUN_INFO in features:
            dropped = []
    sent = {k: v for k, v in body.items() if k not in dropped}
    payload = transport.call("POST", "/api/experiments", sent)
    exp = payload.get("experiment", payload) if isinstance(payload, dict) else None
    if not isinstance(exp, dict) or "id" not in exp:
        raise TransportError(f"unexpected reply to POST /api/experiments: {payload!r:.300}")
    if "group" in dropped:
        logger.warning(
            "Tora server does not list the feature %r (it predates experiment groups): experiment %s "
            "was created without group %r; upgrade the server to keep groups",
            RUN_INFO,
            exp["id"],
            body["group"],
        )
    if "runInfo" in dropped:
        logger.debug(
            "Tora server does not list %r: experiment %s was created without run info", RUN_INFO, exp["id"]
        )
    return exp


_RUN_INFO_FIELDS = ("group", "runInfo")


def series_from_wire(batch: dict[str, Any]) -> Series:
    """The internal column form of a spooled batch body (for re-encoding and splitting)."""
    return decode_batch(batch, time.time() * 1000.0)


def say(message: str) -> None:
    """One line of the client's own on stderr (where a run is, what it created), unless ``TORA_QUIET=1``."""
    if not quiet():
        print(f"Tora: {message}", file=sys.stderr, flush=True)


def announce_run(server_url: str, name: Optional[str], experiment_id: str) -> None:
    """Says once per run where to find it: ``Tora: run resnet → http://host/experiments/<id>``."""
    say(f"run {name} \u2192 {server_url}/experiments/{experiment_id}")


def workspace_for(transport: Transport, name: str) -> str:
    """The id of the caller's workspace called ``name``; created (and said so) when there is none.

    The server has no implicit creation: a missing workspace is made here with
    ``POST /api/workspaces``. Raises ``AuthError`` when the key may not create it.
    """
    listed = transport.call("GET", "/api/workspaces")
    for ws in listed.get("workspaces", []) if isinstance(listed, dict) else []:
        if ws.get("name") == name:
            return str(ws["id"])
    created = transport.call("POST", "/api/workspaces", {"name": name})
    say(f"created workspace {name!r} (there was none of that name)")
    return str(created["id"])


def last_step(transport: Transport, experiment_id: str) -> int:
    """The highest step of the experiment's own metrics (``system/*`` left out), -1 without any."""
    listed = transport.call("GET", f"/api/experiments/{experiment_id}/metrics")
    steps = [
        int(m["lastStep"])
        for m in (listed.get("metrics", []) if isinstance(listed, dict) else [])
        if not str(m.get("name", "")).startswith("system/") and isinstance(m.get("lastStep"), (int, float))
    ]
    return max(steps, default=-1)
