"""The background sender: drains the buffer, posts batches, spools and replays them.

The training loop's side is only ``deque.append`` (atomic under the GIL, no lock). Everything
else happens here, on one daemon thread per experiment:

* every ``poll_interval`` it looks at the buffer; when ``max_buffer_len`` points wait (and
  ``min_send_interval`` passed since the last send), or ``flush_interval`` passed, or a flush
  was asked for, it drains up to ``max_batch_points``,
  groups them into the server's columnar form and posts them under a fresh ``batchId``;
* if the server is unreachable (or answers 5xx/429) the batch is spooled to disk and the
  sender switches to *spooling*: new batches go to disk too, so order is kept, and the spool
  is replayed oldest-first with exponential backoff and jitter until it is empty;
* 401/403 is reported once, loudly; from then on batches are spooled without network so
  ``python -m tora sync`` can deliver them once the key is fixed. 404 (experiment deleted) and
  other 4xx drop the batch with one error. 413 splits the batch (see ``post_batch``);
* changes to the experiment itself (``Update``: hyperparameters, run info, status) ride in the
  same buffer and take the same road: sent after the points logged before them, spooled while
  the server is away and replayed with the points (``python -m tora sync`` too);
* *offline* (``tora.init(mode="offline")``): everything goes to the spool and nothing to the
  network; ``python -m tora sync`` creates the experiment and delivers it later.
* uploads (files, images, tables: ``_uploads.Upload``) too: encoded and sent here after the
  points logged before them, in call order with the updates and flush markers (so ``flush()``
  waits for them); spooled (header and bytes) and replayed with the batches.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from typing import Any, Optional, Union

from ._config import Settings, upload_memory_bytes
from ._delivery import (
    AUTH,
    GONE,
    OK,
    RETRY,
    Result,
    announce_run,
    create_experiment,
    deliver_spooled,
    describe_update,
    post_batch,
    put_experiment,
)
from ._errors import APIError, AuthError, TransportError
from ._http import Transport
from ._spool import Spool
from ._uploads import Upload, UploadMemory
from ._uploads import send as send_upload
from ._wire import Point, Row, Series, encode_batch, group

logger = logging.getLogger("tora")

LIVE, SPOOLING, AUTH_FAILED, DROPPING, OFFLINE = "live", "spooling", "auth_failed", "dropping", "offline"


class Update:
    """A change to the experiment itself (the body of ``PUT /api/experiments/{id}``), queued
    behind the points logged before it."""

    __slots__ = ("body",)

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body


# Handled after the points drained with them, in the order they were logged: flushes wait for
# the updates and uploads before them.
After = Union[Update, Upload, threading.Event]
Item = Union[Point, Row, After]


class Batcher:
    """Owns the buffer and the sender thread of one experiment."""

    def __init__(
        self,
        settings: Settings,
        spool: Spool,
        *,
        experiment_id: Optional[str],
        create_body: Optional[dict[str, Any]],
        create_key: Optional[str] = None,
        max_buffer_len: int = 25,
        flush_interval: float = 1.0,
        max_batch_points: int = 50_000,
        poll_interval: float = 0.05,
        min_send_interval: float = 0.2,
        max_backoff: float = 5.0,
        offline: bool = False,
        upload_memory: Optional[int] = None,
    ) -> None:
        self.settings = settings
        self.spool = spool
        self.experiment_id = experiment_id
        self.create_body = create_body
        self.local_id = uuid.uuid4().hex[:12]  # names this process's spool files
        # Names the experiment still to be created; forked children keep their parent's, so
        # the family creates one experiment (see Spool.creation_lock).
        self.create_key = create_key or self.local_id
        self.max_buffer_len = max(1, max_buffer_len)
        self.flush_interval = flush_interval
        self.max_batch_points = max_batch_points
        self.poll_interval = poll_interval
        self.min_send_interval = min(min_send_interval, flush_interval)
        self.max_backoff = max_backoff
        self.buf: deque[Item] = deque()
        self.delivered = 0
        self.dropped = 0
        self.spooled = 0  # points of this client currently on disk
        self.uploaded = 0  # files and images the server has stored
        self.uploads_spooled = 0  # uploads of this client written to the spool
        self.offline = offline
        self.mode = OFFLINE if offline else LIVE
        self._backoff = 0.0
        self._next_retry = 0.0
        self._reported: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._abandoned = False
        self._inflight: Optional[tuple[str, Series, int]] = None
        self._inflight_upload: Optional[Upload] = None
        self._transport = Transport(settings.server_url, settings.api_key)
        self._thread = threading.Thread(target=self._run, name="tora-sender", daemon=True)
        self.upload_memory = UploadMemory(
            upload_memory_bytes() if upload_memory is None else upload_memory,
            wake=self._wake.set,
            alive=lambda: self._thread.is_alive() and not self._stop.is_set(),
        )

    def start(self) -> None:
        self._thread.start()

    # -- caller side -------------------------------------------------------------------------

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until every point appended before this call was delivered or spooled."""
        if self._done.is_set():
            return len(self.buf) == 0
        marker = threading.Event()
        self.buf.append(marker)
        self._wake.set()
        return marker.wait(timeout)

    def close(self, timeout: float) -> None:
        """Stops the sender: sends or spools everything, at most ``timeout`` seconds of waiting."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and not self._done.wait(timeout):
            # Bounded wait expired: spool the rest from here. An in-flight batch is spooled too;
            # if it also reaches the server, its batchId makes the replay a no-op.
            self._abandoned = True
            inflight = self._inflight
            if inflight is not None:
                self._spool(*inflight)
            if self._inflight_upload is not None:  # a PUT to the same address: replaying it is a no-op
                self._spool_upload(self._inflight_upload)
            self._spool_rest()
        elif not self._thread.is_alive():
            self._spool_rest()
        self._transport.close()
        self._summary()

    def _spool_rest(self) -> None:
        while True:
            points, n, after = self._drain()
            if not points and not after:
                return
            if points:
                self._spool(uuid.uuid4().hex, group(points), n)
            for a in after:
                if isinstance(a, Update):
                    self.spool_update(a.body)
                elif isinstance(a, Upload):
                    try:
                        self._spool_upload(a)
                    finally:
                        self.upload_memory.release(a.held)
                else:
                    a.set()

    def _summary(self) -> None:
        where = f", {self.spooled} spooled to {self.spool.directory} (run `python -m tora sync`)"
        msg = f"Tora: {self.delivered} points delivered" + (where if self.spooled else "")
        if self.uploads_spooled:
            msg += f", {self.uploads_spooled} files spooled to {self.spool.directory}"
        if self.dropped:
            msg += f", {self.dropped} dropped"
        (logger.warning if self.spooled or self.dropped or self.uploads_spooled else logger.info)("%s", msg)

    # -- sender thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException:  # never die silently; close() spools what is left
            logger.exception("Tora sender thread failed; remaining points will be spooled at shutdown")
        finally:
            self._done.set()

    def _loop(self) -> None:
        last_send = time.monotonic()
        backlog = False  # the last batch was cut at max_batch_points: more is waiting
        while not self._abandoned:
            stopping = self._stop.is_set()
            n = len(self.buf)
            now = time.monotonic()
            # Back-to-back small requests would cost the training loop GIL time per request, so a
            # full buffer is sent at most every min_send_interval (unless a whole batch is waiting).
            if n and (
                (n >= self.max_buffer_len and now - last_send >= self.min_send_interval)
                or backlog
                or n >= self.max_batch_points
                or now - last_send >= self.flush_interval
                or stopping
                or self._wake.is_set()
            ):
                self._wake.clear()
                points, count, after = self._drain()
                if points:
                    self._handle(uuid.uuid4().hex, group(points), count)
                for a in after:
                    if isinstance(a, Update):
                        self._update(a.body)
                    elif isinstance(a, Upload):
                        try:
                            self._upload(a)
                        finally:
                            self.upload_memory.release(a.held)
                    else:
                        a.set()
                last_send = now
                backlog = count >= self.max_batch_points
                continue
            if self.mode == SPOOLING and (now >= self._next_retry or stopping):
                self._replay()
            if stopping:
                return
            if self._wake.is_set():
                self._wake.clear()
                if len(self.buf):
                    continue
            self._wake.wait(self.poll_interval)

    def _drain(self) -> tuple[list[Union[Point, Row]], int, list[After]]:
        """Pops up to ``max_batch_points`` points, plus the experiment updates, uploads and flush
        markers met on the way, in their order (handled after these points)."""
        items: list[Union[Point, Row]] = []
        after: list[After] = []
        pop = self.buf.popleft
        add = items.append
        limit = self.max_batch_points
        n = 0
        try:
            while n < limit:
                item = pop()
                if type(item) is tuple:  # log()
                    add(item)
                    n += 1
                elif type(item) is dict:  # log_metrics(): names + step + time
                    add(item)
                    n += len(item) - 2
                else:
                    after.append(item)  # type: ignore[arg-type]
        except IndexError:
            pass
        return items, n, after

    def _handle(self, batch_id: str, series: Series, n: int) -> None:
        self._inflight = (batch_id, series, n)
        try:
            if self.mode == LIVE and (self.experiment_id is not None or self._create()):
                r = post_batch(self._transport, self._id(), batch_id, series)
                self.delivered += r.delivered
                self._on_refused(r)
                if r.outcome == OK:
                    return
                self._on_failure(r, n)
                if r.outcome not in (RETRY, AUTH):
                    return  # counted as dropped
            if self.mode in (SPOOLING, AUTH_FAILED, OFFLINE):
                self._spool(batch_id, series, n)
            elif self.mode == DROPPING:
                self.dropped += n
        finally:
            self._inflight = None

    def _update(self, body: dict[str, Any]) -> None:
        """Sends one experiment update, or spools it (in order with the points) while the
        server is away; a refusal (a 4xx other than 401/403) is reported and dropped."""
        if self.mode == LIVE and (self.experiment_id is not None or self._create()):
            r = put_experiment(self._transport, self._id(), body)
            if r.outcome == OK:
                return
            if r.outcome not in (RETRY, AUTH):
                self._report_once(
                    f"update:{','.join(body)}",
                    f"Tora: the server refused a change ({describe_update(body)}) to experiment "
                    f"{self.experiment_id}: {r.error}",
                )
                return
            self._on_failure(r, 0)
        if self.mode in (SPOOLING, AUTH_FAILED, OFFLINE):
            self.spool_update(body)

    def _upload(self, upload: Upload) -> None:
        """Encodes and sends one upload (a directory: each of its files), or spools it."""
        try:
            parts = upload.expand()
        except OSError as e:
            self._report_once(f"upload:{upload.target}", f"Tora: cannot read {upload.source}: {e}")
            return
        for part in parts:
            self._inflight_upload = part
            try:
                if self.mode == LIVE and (self.experiment_id is not None or self._create()):
                    r = send_upload(self._transport, self._id(), part)
                    if r.outcome == OK:
                        self.uploaded += 1
                        continue
                    if r.outcome in (RETRY, AUTH):
                        self._on_failure(r, 0)
                    else:
                        self._report_once(
                            f"upload:{part.target}",
                            f"Tora: the server refused {part.describe()} of experiment "
                            f"{self.experiment_id}: {r.error}",
                        )
                if self.mode not in (LIVE, DROPPING):  # kept for a replay, behind the points
                    self._spool_upload(part)
            except Exception as e:  # a file gone, an image PIL or numpy cannot encode: never kill the sender
                self._report_once(f"upload:{part.target}", f"Tora: {part.describe()} not uploaded: {e!r}")
            finally:
                self._inflight_upload = None

    def _spool_upload(self, upload: Upload) -> None:
        try:
            for part in upload.expand():
                blob, content_type = part.blob()
                header = {**self._header(f"upload-{uuid.uuid4().hex}", 0), **part.header(content_type)}
                self.spool.write(header, b"null", blob)
                self.uploads_spooled += 1
        except Exception as e:  # as in _upload: one bad upload must not stop the others
            self._report_once(
                f"upload:{upload.target}", f"Tora: {upload.describe()} could not be spooled: {e!r}; lost"
            )

    def _id(self) -> str:
        assert self.experiment_id is not None
        return self.experiment_id

    def _create(self) -> bool:
        """Creates the experiment the server could not create at ``create_experiment`` time."""
        assert self.create_body is not None
        try:
            try:
                with self.spool.creation_lock(self.create_key):
                    known = self.spool.load_ids().get(self.create_key)
                    if known is not None:  # a forked sibling or `tora sync` created it
                        self.experiment_id = known
                        return True
                    self.experiment_id = str(create_experiment(self._transport, self.create_body)["id"])
                    self.spool.save_id(self.create_key, self.experiment_id)
            except OSError as e:  # spool directory not writable: create it unshared
                if self.experiment_id is None:
                    logger.error("Tora cannot use its spool %s: %s", self.spool.directory, e)
                    self.experiment_id = str(create_experiment(self._transport, self.create_body)["id"])
        except TransportError as e:
            self._on_failure(Result(RETRY, error=e), 0)
            return False
        except APIError as e:
            self._on_failure(Result(AUTH if isinstance(e, AuthError) else GONE, error=e), 0)
            return False
        logger.warning("Tora server is reachable again: created experiment %s", self.experiment_id)
        announce_run(self.settings.server_url, str(self.create_body.get("name")), self.experiment_id)
        return True

    def _on_failure(self, r: Result, n: int) -> None:
        err = r.error
        if r.outcome == RETRY:
            if self.mode == LIVE:
                logger.warning(
                    "Tora server unreachable (%s); spooling metrics to %s and retrying",
                    err,
                    self.spool.directory,
                )
            self.mode = SPOOLING
            self._schedule_retry()
        elif r.outcome == AUTH:
            self.mode = AUTH_FAILED
            self._report_once(
                "auth",
                f"Tora rejected the API key ({err}). Metrics of experiment "
                f"{self.experiment_id or '(pending)'} "
                f"are spooled to {self.spool.directory}; fix TORA_API_KEY and run `python -m tora sync`.",
            )
        else:
            self.dropped += n
            if self.experiment_id is None or r.outcome == GONE:
                self.mode = DROPPING
            self._report_once(r.outcome, f"Tora dropped {n} points of experiment {self.experiment_id}: {err}")

    def _on_refused(self, r: Result) -> None:
        """Counts the points the server refused (the rest of their batch was delivered) and names
        each refused metric once."""
        for name, (points, reason) in r.refused.items():
            self.dropped += points
            self._report_once(
                f"refused:{name}",
                f"Tora: the server refused metric {name!r} of experiment {self.experiment_id} "
                f"({reason}); its refused points are dropped, the others were delivered",
            )

    def _report_once(self, kind: str, message: str) -> None:
        if kind not in self._reported:
            self._reported.add(kind)
            logger.error("%s", message)

    def _schedule_retry(self) -> None:
        self._backoff = min(self.max_backoff, max(0.25, self._backoff * 2))
        self._next_retry = time.monotonic() + self._backoff * random.uniform(0.75, 1.25)

    def _header(self, batch_id: str, points: int) -> dict[str, Any]:
        return {
            "v": 1,
            "server_url": self.settings.server_url,
            "experiment_id": self.experiment_id,
            "create": self.create_body if self.experiment_id is None else None,
            "local_id": self.local_id,
            "create_key": self.create_key,
            "batch_id": batch_id,
            "points": points,
        }

    def spool_update(self, body: dict[str, Any]) -> bool:
        """Spools a change to the experiment (after this client's points); replayed by this
        sender when the server is back, or by ``python -m tora sync``."""
        header = {**self._header(f"update-{uuid.uuid4().hex}", 0), "kind": "update"}
        try:
            self.spool.write(header, json.dumps(body).encode())
        except OSError as e:
            logger.error(
                "Tora cannot write its spool %s: %s; change %r not recorded", self.spool.directory, e, body
            )
            return False
        return True

    def _spool(self, batch_id: str, series: Series, n: int) -> None:
        header = self._header(batch_id, n)
        try:
            self.spool.write(header, encode_batch(batch_id, series))
            self.spooled += n
        except OSError as e:
            self.dropped += n
            self._report_once(
                "spool", f"Tora cannot write its spool {self.spool.directory}: {e}; points lost"
            )

    def _replay(self) -> None:
        """Replays this client's spool oldest-first; back to live when it is empty."""
        if self.experiment_id is None and not self._create():
            return
        for path in self.spool.files(self.local_id):
            try:
                doc = self.spool.read(path)
                n = int(doc.get("points", 0))
                r = deliver_spooled(self._transport, self._id(), doc)
            except (OSError, ValueError, KeyError, TypeError) as e:
                logger.error("Tora: unreadable spool file %s (%s); skipped", path, e)
                continue
            if r.outcome == RETRY:
                self._schedule_retry()
                return
            if r.outcome == AUTH:
                self._on_failure(r, n)
                return
            self._on_refused(r)
            if doc.get("kind") == "upload":
                self.uploads_spooled = max(0, self.uploads_spooled - 1)
                if r.outcome == OK:
                    self.uploaded += 1
                else:
                    self._report_once(f"upload:{doc.get('target')}", f"Tora: upload refused: {r.error}")
            elif r.outcome == OK:
                self.delivered += r.delivered
            else:
                self._on_failure(r, n)
            self.spool.remove(path)
            self.spooled = max(0, self.spooled - n)
        if self.mode == SPOOLING:
            logger.warning("Tora server is reachable again: spooled metrics delivered")
            self.mode = LIVE
            self._backoff = 0.0
