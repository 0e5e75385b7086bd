"""Files, directories, images and tables on their way to the server.

The training loop builds an ``Upload`` (checks and a snapshot only) and appends it to the
client's buffer; the sender thread encodes it and PUTs it (``send``), or spools it (``spool_blob``
gives what to copy to disk). Every upload has a fixed address, a file path or a media
``(name, step)``, and the server's PUT replaces what is there: a retried or replayed upload
never stores a file twice.

Routes: ``PUT /api/experiments/{id}/files/{path}`` and ``PUT /api/experiments/{id}/media/{name}?step=N``.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import threading
from pathlib import Path
from typing import Any, Callable, Optional, Union
from urllib.parse import quote

from ._checks import check_name
from ._delivery import REJECTED, RETRY, Result, classify, server_features
from ._errors import ToraError, TransportError
from ._http import Transport
from ._media import Table, check_image, encode_image

logger = logging.getLogger("tora")

FILES, MEDIA, DIRECTORY = "files", "media", "directory"
FILES_FEATURE = "experiments.files"  # listed by servers that have the routes below
Blob = Union[bytes, Path]


def check_file_name(name: Any) -> str:
    """A file's path in the run as the server accepts it: relative, ``/``-separated, no ``.``,
    ``..`` or empty segment, no backslash or control character."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"file name must be a non-empty str, got {name!r}")
    segments = name.split("/")
    if name.startswith("/") or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"file name must be a relative path without '.', '..' or empty parts: {name!r}")
    if "\\" in name or any(ord(c) < 32 for c in name):
        raise ValueError(f"file name must not contain backslashes or control characters: {name!r}")
    return name


class Upload:
    """One thing to upload: a file (``FILES``), an image at a step (``MEDIA``) or a directory to
    walk on the sender thread (``DIRECTORY``)."""

    __slots__ = ("held", "kind", "source", "step", "target")

    def __init__(self, kind: str, target: str, source: Any, step: Optional[int] = None) -> None:
        self.kind = kind
        self.target = target  # the file's path in the run, the media name or the directory's prefix
        self.source = source
        self.step = step
        self.held = 0  # bytes of memory it holds while queued (UploadMemory)

    def memory(self) -> int:
        """Bytes this upload keeps in memory until sent: an image's copied array or bytes, a
        table's rows (roughly); a file or directory is read from disk when sent, so 0."""
        src = self.source
        nbytes = getattr(src, "nbytes", None)  # first: an array, the training loop's common case
        if type(nbytes) is int:
            return nbytes
        if isinstance(src, (bytes, bytearray)):
            return len(src)
        if isinstance(src, Table):
            return sum(len(str(c)) for row in src.data for c in row)
        if self.kind == MEDIA and hasattr(src, "size") and hasattr(src, "mode"):  # a PIL image
            w, h = src.size
            return int(w * h * len(src.getbands()))
        return 0

    @classmethod
    def file(cls, path: Union[str, os.PathLike[str]], name: Optional[str] = None) -> Upload:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"not a file: {p}")
        return cls(FILES, check_file_name(p.name if name is None else name), p)

    @classmethod
    def directory(cls, path: Union[str, os.PathLike[str]], prefix: Optional[str] = None) -> Upload:
        p = Path(path)
        if not p.is_dir():
            raise ValueError(f"not a directory: {p}")
        return cls(DIRECTORY, "" if prefix is None else check_file_name(prefix.strip("/")), p)

    @classmethod
    def image(cls, name: str, image: Any, step: int) -> Upload:
        return cls(MEDIA, check_name(name), check_image(image), step)

    @classmethod
    def table(cls, name: str, table: Table, step: int) -> Upload:
        # The rows are copied now: the caller may keep adding to its table.
        snapshot = Table(columns=table.columns, data=table.data)
        return cls(FILES, check_file_name(f"tables/{check_name(name)}/{step}.csv"), snapshot)

    def expand(self) -> list[Upload]:
        """The uploads this one stands for: a directory's files (walked now, sorted), else itself."""
        if self.kind != DIRECTORY:
            return [self]
        root: Path = self.source
        out = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for f in sorted(filenames):
                full = Path(dirpath, f)
                rel = full.relative_to(root).as_posix()
                out.append(Upload(FILES, f"{self.target}/{rel}" if self.target else rel, full))
        return out

    def blob(self) -> tuple[Blob, str]:
        """What to send (bytes, or a file streamed from disk) and its content type."""
        if self.kind == MEDIA:
            blob, content_type = encode_image(self.source)
            self.source = blob  # encoded once: a spooled retry sends these bytes, the array is recycled
            return blob, content_type
        if isinstance(self.source, Table):
            return self.source.to_csv(), "text/csv"
        return self.source, mimetypes.guess_type(self.target)[0] or "application/octet-stream"

    def route(self, experiment_id: str) -> str:
        if self.kind == MEDIA:
            return f"/api/experiments/{experiment_id}/media/{quote(self.target, safe='/')}?step={self.step}"
        return f"/api/experiments/{experiment_id}/files/{quote(self.target, safe='/')}"

    def header(self, content_type: str) -> dict[str, Any]:
        """How a spooled copy names this upload (see ``from_spool``)."""
        return {"kind": "upload", "route": self.kind, "target": self.target, "step": self.step,
                "content_type": content_type}  # fmt: skip

    def describe(self) -> str:
        return f"image {self.target!r} at step {self.step}" if self.kind == MEDIA else f"file {self.target!r}"


class UploadMemory:
    """Bytes of uploads waiting in memory for the sender thread, bounded like the points' road to
    the spool: the sender encodes and sends them, or spools them to disk while the server is away,
    and releases their bytes. Past ``limit`` a new upload waits on the caller's thread until the
    sender has caught up (warned once, loudly: the training loop is being slowed by its uploads),
    never longer than the sender lives. One upload larger than the limit waits for an empty queue.
    """

    def __init__(self, limit: int, wake: Callable[[], None], alive: Callable[[], bool]) -> None:
        self.limit = limit
        self.queued = 0
        self.waits = 0  # uploads that had to wait: how often the bound held the loop back
        self._wake = wake
        self._alive = alive
        # A plain lock for the common case (room left), taken in C; the condition only to wait.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._warned = False

    def hold(self, n: int) -> None:
        with self._lock:
            if self.queued <= 0 or self.queued + n <= self.limit:
                self.queued += n
                return
        with self._cond:
            if self.queued > 0 and self.queued + n > self.limit:
                self.waits += 1
                if not self._warned:
                    self._warned = True
                    logger.warning(
                        "Tora: %.0f MB of images and tables wait in memory for the sender thread "
                        "(limit %.0f MB, TORA_UPLOAD_MEMORY_MB); logging now waits for it to catch up",
                        self.queued / 2**20,
                        self.limit / 2**20,
                    )
                self._wake()
                while self.queued > 0 and self.queued + n > self.limit and self._alive():
                    self._cond.wait(0.05)
            self.queued += n

    def release(self, n: int) -> None:
        if n:
            with self._cond:
                self.queued -= n
                self._cond.notify_all()


def put(transport: Transport, experiment_id: str, upload: Upload, blob: Blob, content_type: str) -> Result:
    """PUTs one upload's bytes (a file is streamed, never read whole); classified like a batch.
    A server whose ``/api/health`` does not list ``experiments.files`` predates these routes: the
    upload is refused here, not sent."""
    features = server_features(transport)
    if features is not None and FILES_FEATURE not in features:
        return Result(REJECTED, error=ToraError(
            f"the Tora server does not list the feature {FILES_FEATURE!r} (it predates files and "
            "images); upgrade it to store them"
        ))  # fmt: skip
    headers = {"Content-Type": content_type}
    try:
        if isinstance(blob, bytes):
            status, payload = transport.request("PUT", upload.route(experiment_id), blob, headers)
        else:
            with open(blob, "rb") as f:
                headers["Content-Length"] = str(os.fstat(f.fileno()).st_size)
                status, payload = transport.request("PUT", upload.route(experiment_id), f, headers)
    except TransportError as e:
        return Result(RETRY, error=e)
    return classify(status, payload)


def send(transport: Transport, experiment_id: str, upload: Upload) -> Result:
    """Encodes (on this, the sender's, thread) and PUTs one upload."""
    blob, content_type = upload.blob()
    return put(transport, experiment_id, upload, blob, content_type)


def deliver_spooled_upload(transport: Transport, experiment_id: str, doc: dict[str, Any]) -> Result:
    """Replays an upload spooled by ``Batcher``: its header, and its bytes in the blob file."""
    upload = Upload(str(doc["route"]), str(doc["target"]), None, doc.get("step"))
    return put(transport, experiment_id, upload, Path(doc["blob_path"]), str(doc["content_type"]))
