"""A Tora server of the release before experiment groups and run info, on a loopback port.

It speaks that release's wire contract for what a training script calls: ``/api/health`` lists
``metrics.f64-columns`` only; ``POST``/``PUT /api/experiments`` refuse fields they do not know
with a 400 in Tora's one error shape (that release refused ``group`` and ``runInfo`` so);
metric batches arrive as float64 or JSON columns. Every request is recorded for the assertions.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import uuid
from array import array
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

HEALTH = {
    "status": "ok",
    "version": "0.1.0",
    "database": "sqlite",
    "dialect": "sqlite",
    "features": ["metrics.f64-columns"],
}
CREATE_FIELDS = {"name", "description", "hyperparams", "tags", "workspaceId"}
UPDATE_FIELDS = {"name", "description", "hyperparams", "tags", "status"}


def _error(status: int, code: str, message: str, path: Optional[str] = None) -> tuple[int, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if path is not None:
        err["details"] = [{"path": path, "message": message.split(" ", 1)[1]}]
    return status, {"error": err}


def _column(col: dict[str, Any], name: str) -> list[float]:
    if name + "F64" in col:
        out = array("d")
        out.frombytes(base64.b64decode(col[name + "F64"]))
        if sys.byteorder != "little":
            out.byteswap()
        return list(out)
    return [float("nan") if x is None else float(x) for x in col[name]]


class OldToraServer:
    """``with OldToraServer(key) as srv: ...``; ``srv.url``, ``srv.requests``, ``srv.experiments``."""

    def __init__(self, api_key: str, port: int = 0) -> None:
        self.api_key = api_key
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, parsed body)
        self.experiments: dict[str, dict[str, Any]] = {}
        self.points: dict[str, dict[str, list[tuple[float, float]]]] = {}  # id -> name -> (step, value)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> OldToraServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def handle(self, method: str, path: str, key: Optional[str], body: Any) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path, body))
            if method == "GET" and path == "/api/health":
                return 200, HEALTH
            if key != self.api_key:
                return _error(401, "INVALID_API_KEY", "Invalid API key")
            parts = path.strip("/").split("/")
            if method == "POST" and path == "/api/experiments":
                return self._create(body)
            if len(parts) >= 3 and parts[:2] == ["api", "experiments"] and parts[2] in self.experiments:
                eid = parts[2]
                if method == "PUT" and len(parts) == 3:
                    return self._update(eid, body)
                if method == "POST" and parts[3:] == ["metrics", "batch"]:
                    return self._batch(eid, body)
            return _error(404, "NOT_FOUND", f"{method} {path} not found")

    def _create(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return _error(400, "VALIDATION_ERROR", "body.name is required", "body.name")
        for field in body:
            if field not in CREATE_FIELDS:
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"body.{field} must NOT have additional properties",
                    f"body.{field}",
                )
        eid = str(uuid.uuid4())
        exp = {"id": eid, "workspaceId": "ws-1", "status": "running", "tags": [], "hyperparams": [], **body}
        self.experiments[eid] = exp
        return 201, {"experiment": exp}

    def _update(self, eid: str, body: Any) -> tuple[int, Any]:
        for field in body:
            if field not in UPDATE_FIELDS:
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"body.{field} must NOT have additional properties",
                    f"body.{field}",
                )
        self.experiments[eid].update(body)
        return 200, self.experiments[eid]

    def _batch(self, eid: str, body: Any) -> tuple[int, Any]:
        count = 0
        for name, col in body["series"].items():
            pairs = list(zip(_column(col, "steps"), _column(col, "values")))
            self.points.setdefault(eid, {}).setdefault(name, []).extend(pairs)
            count += len(pairs)
        return 201, {"success": True, "count": count, "duplicate": False}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else None
                status, payload = server.handle(self.command, self.path, self.headers.get("x-api-key"), body)
                out = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
