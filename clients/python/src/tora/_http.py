"""A small keep-alive HTTP transport on the standard library (no runtime dependencies)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from typing import IO, Any, Optional, Union
from urllib.parse import urlsplit

from ._errors import TransportError, api_error
from ._version import __version__

USER_AGENT = f"tora-python/{__version__}"


class Transport:
    """One persistent connection to a Tora server; not thread-safe (one per thread).

    Example::

        status, body = Transport("http://127.0.0.1:8080", key).request("GET", "/api/health")
    """

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self.binary: Optional[bool] = None  # float64 batch columns? None: not asked yet (_delivery.negotiate)
        self.features: Optional[frozenset[str]] = None  # /api/health's list; None: not asked yet
        self._conn: Optional[http.client.HTTPConnection] = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Union[bytes, IO[bytes], None] = None,
        headers: Optional[dict[str, str]] = None,
    ) -> tuple[int, Any]:
        """Sends one request; returns (status, parsed JSON or None). Raises TransportError.

        ``body`` may be an open file (with a ``Content-Length`` header): it is streamed."""
        all_headers = {"x-api-key": self._api_key, "User-Agent": USER_AGENT, "Accept": "application/json"}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        # A kept-alive connection may have been closed by the server: retry once on a fresh one.
        for attempt in (0, 1):
            conn = self._connect()
            if not isinstance(body, (bytes, type(None))):
                body.seek(0)  # a file sent again on a fresh connection starts over
            try:
                conn.request(method, self._prefix + path, body=body, headers=all_headers)
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
                break
            except (OSError, http.client.HTTPException) as e:
                self.close()
                reused = attempt == 0 and isinstance(
                    e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                )
                if not reused:
                    raise TransportError(f"cannot reach Tora server at {self._host}:{self._port}: {e}") from e
            except socket.timeout as e:  # pragma: no cover - subclass of OSError on 3.10+
                self.close()
                raise TransportError(f"Tora server timed out: {e}") from e
        payload: Any = None
        if raw:
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw[:500].decode("utf-8", "replace")
        return status, payload

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """JSON request that raises APIError for 4xx and TransportError for 5xx; returns the body."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        status, payload = self.request(method, path, data)
        if status >= 500:
            raise TransportError(f"Tora server error {status} on {method} {path}: {payload!r:.300}")
        if status >= 400:
            raise api_error(status, payload)
        return payload
