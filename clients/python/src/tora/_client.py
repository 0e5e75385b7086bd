"""The ``Tora`` client: one experiment, cheap ``log()`` calls, delivery in the background."""

from __future__ import annotations

import atexit
import logging
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Mapping, Optional, Sequence, Union

from ._batcher import Batcher, Update
from ._checks import MAX_STEP, check_name, check_step, coerce_value, encode_metadata
from ._config import Settings, normalize_base_url, resolve, spool_dir
from ._context import run_context
from ._delivery import AUTH, OK, RETRY, announce_run, describe_update, put_experiment, say
from ._delivery import create_experiment as post_experiment
from ._errors import ConfigError, ToraError, TransportError
from ._flatten import flatten
from ._http import Transport
from ._hyperparams import HyperparamValue, hp_from_tora_format, hp_to_tora_format
from ._media import Table, check_image
from ._spool import DEFAULT_MAX_BYTES, Spool
from ._system import SystemSampler
from ._system import start_for as start_system_metrics
from ._uploads import MEDIA, Upload
from ._wire import STEP_KEY, TIME_KEY

logger = logging.getLogger("tora")

Hyperparams = Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None]
_LIVE: set[Tora] = set()  # strong: a client dropped without shutdown() is still flushed at exit
_now = time.time
_PLAIN = frozenset((int, float))
_NAN = math.nan


class Tora:
    """Logs metrics of one experiment to a Tora server without slowing the training loop.

    ``log()`` appends to an in-memory buffer; a daemon thread sends batches, retries, spools to
    disk while the server is unreachable, and flushes at exit. Usually built with
    ``Tora.create_experiment`` or ``Tora.load_experiment``; the constructor attaches to an
    existing experiment id without contacting the server.

    Example::

        with Tora.create_experiment("resnet-50", hyperparams={"lr": 3e-4}) as t:
            for step in range(1000):
                t.log("loss", 1.0 / (step + 1), step=step)
    """

    def __init__(
        self,
        experiment_id: Optional[str],
        description: Optional[str] = None,
        hyperparams: Hyperparams = None,
        tags: Optional[Sequence[str]] = None,
        server_url: Optional[str] = None,
        max_buffer_len: int = 25,
        *,
        api_key: Optional[str] = None,
        workspace_id: Optional[str] = None,
        name: Optional[str] = None,
        flush_interval: float = 1.0,
        max_batch_points: int = 50_000,
        spool_dir: Optional[Union[str, Path]] = None,
        spool_max_bytes: int = DEFAULT_MAX_BYTES,
        shutdown_timeout: float = 10.0,
        _settings: Optional[Settings] = None,
        _create_body: Optional[dict[str, Any]] = None,
        _ends_run: bool = False,
        _offline: bool = False,
    ) -> None:
        self._settings = _settings or resolve(server_url, api_key)
        self.name = name
        self.description = description
        self.hyperparams: dict[str, HyperparamValue] = _hp_dict(hyperparams)
        self.tags: list[str] = list(tags or [])
        self.workspace_id = workspace_id
        self.run_info: dict[str, str] = {}  # as stored on the server, so update_run_info keeps the rest
        self.shutdown_timeout = shutdown_timeout
        self._batcher_args: dict[str, Any] = {
            "max_buffer_len": max_buffer_len,
            "flush_interval": flush_interval,
            "max_batch_points": max_batch_points,
            "offline": _offline,
        }
        directory = Path(spool_dir).expanduser() if spool_dir is not None else _default_spool_dir()
        self._spool = Spool(directory, spool_max_bytes)
        self._closed = False
        # A client that created its run also ends it (see shutdown); only in the process that
        # created it, so a forked worker's exit does not end its parent's run.
        self._ends_run_in: Optional[int] = os.getpid() if _ends_run else None
        self._status_set: Optional[str] = None
        self._sampler: Optional[SystemSampler] = None
        self._names: set[str] = set()
        self._image_steps: dict[str, int] = {}  # log_image's next step per name when none is given
        self._table_steps: dict[str, int] = {}
        self._batcher = self._new_batcher(experiment_id, _create_body)
        _LIVE.add(self)
        _install_exit_hooks()

    def _new_batcher(
        self,
        experiment_id: Optional[str],
        create_body: Optional[dict[str, Any]],
        create_key: Optional[str] = None,
    ) -> Batcher:
        b = Batcher(
            self._settings,
            self._spool,
            experiment_id=experiment_id,
            create_body=create_body,
            create_key=create_key,
            **self._batcher_args,
        )
        self._buf_append = b.buf.append
        b.start()
        return b

    # -- construction --------------------------------------------------------------------

    @classmethod
    def create_experiment(
        cls,
        name: str,
        description: Optional[str] = None,
        hyperparams: Hyperparams = None,
        tags: Optional[Sequence[str]] = None,
        workspace_id: Optional[str] = None,
        server_url: Optional[str] = None,
        api_key: Optional[str] = None,
        max_buffer_len: int = 25,
        *,
        group: Optional[str] = None,
        run_info: Union[bool, Mapping[str, str]] = True,
        system_metrics: Optional[bool] = None,
        system_metrics_interval: Optional[float] = None,
        offline: bool = False,
        **options: Any,
    ) -> Tora:
        """Creates an experiment on the server and returns a client logging to it.

        ``hyperparams`` is a dict, nested dicts flattened to dotted keys (``opt.lr``), or the
        server's ``[{key, value}]`` list. ``group`` names runs launched together. ``run_info``:
        the git commit, command line, host and package versions are captured and stored with the
        experiment (``True``, the default; ``TORA_RUN_INFO=0`` or ``False`` turns it off); a
        dict adds to or overrides what is captured. ``system_metrics``: CPU, memory, disk, network
        and GPU readings every ``system_metrics_interval`` seconds (default 10) under
        ``system/`` (on unless ``False`` or ``TORA_SYSTEM_METRICS=0``; see ``tora._system``).
        ``server_url`` and ``api_key`` default to ``TORA_BASE_URL``/``TORA_API_KEY``, then the
        config file written by ``python -m tora login``; if neither is found this raises
        ``ConfigError`` naming the variables. If the server is unreachable, the experiment is
        created in the background once it is back (points are buffered and spooled meanwhile)
        and ``experiment_id`` is ``None`` until then. Other options: ``flush_interval`` (s),
        ``max_batch_points`` per request, ``spool_dir``, ``spool_max_bytes``,
        ``shutdown_timeout`` (s). ``offline=True`` never contacts the server: everything is
        spooled, and ``python -m tora sync`` creates the experiment and delivers it later (no
        server URL or key is needed until then).

        Prints once where the run is (``Tora: run <name> → <url>``, on stderr; ``TORA_QUIET=1``
        silences it).

        Example::

            t = Tora.create_experiment("baseline", "first try", {"lr": 0.1}, ["cifar"])
        """
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise ValueError("experiment name must be a non-empty string of at most 200 characters")
        settings = _offline_settings(server_url, api_key) if offline else resolve(server_url, api_key)
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        if hyperparams:
            body["hyperparams"] = (
                hp_to_tora_format(flatten(hyperparams))
                if isinstance(hyperparams, Mapping)
                else list(hyperparams)
            )
        if tags:
            body["tags"] = list(tags)
        if workspace_id is not None:
            body["workspaceId"] = workspace_id
        if group is not None:
            body["group"] = group
        info = run_context(run_info)
        if info:
            body["runInfo"] = info
        experiment_id: Optional[str] = None
        if not offline:
            transport = Transport(settings.server_url, settings.api_key, timeout=10.0)
            try:
                exp = post_experiment(transport, body)
                experiment_id = str(exp["id"])
                workspace_id = exp.get("workspaceId", workspace_id)
            except TransportError as e:
                logger.warning(
                    "Tora server %s unreachable (%s): experiment %r will be created when it is back; "
                    "metrics are buffered and spooled meanwhile",
                    settings.server_url,
                    e,
                    name,
                )
            finally:
                transport.close()
        client = cls(
            experiment_id, description, hyperparams, tags, max_buffer_len=max_buffer_len,
            workspace_id=workspace_id, name=name, _settings=settings,
            _create_body=None if experiment_id else body, _ends_run=True, _offline=offline, **options,
        )  # fmt: skip
        client.run_info = dict(info)
        if experiment_id is not None:
            announce_run(settings.server_url, name, experiment_id)
        elif offline:
            say(
                f"run {name} is offline: spooled to {client._spool.directory}; `python -m tora sync` sends it"
            )
        client._sampler = start_system_metrics(client, system_metrics, system_metrics_interval)
        return client

    @classmethod
    def load_experiment(
        cls,
        experiment_id: str,
        server_url: Optional[str] = None,
        api_key: Optional[str] = None,
        max_buffer_len: int = 25,
        *,
        system_metrics: Optional[bool] = False,
        system_metrics_interval: Optional[float] = None,
        **options: Any,
    ) -> Tora:
        """Attaches to an existing experiment, loading its name, description, hyperparams, tags,
        run info and workspace from the server. Raises ``NotFoundError``/``AuthError``/
        ``TransportError``. System metrics are off unless ``system_metrics`` is True (or None: as
        ``create_experiment`` decides).

        Example::

            t = Tora.load_experiment("0b6c...", max_buffer_len=100)
            print(t.hyperparams["lr"])
        """
        settings = resolve(server_url, api_key)
        transport = Transport(settings.server_url, settings.api_key, timeout=10.0)
        try:
            exp = transport.call("GET", f"/api/experiments/{experiment_id}")
        finally:
            transport.close()
        if not isinstance(exp, dict):
            raise ToraError(f"unexpected reply to GET /api/experiments/{experiment_id}: {exp!r:.200}")
        client = cls(
            str(exp.get("id", experiment_id)), exp.get("description"), exp.get("hyperparams") or [],
            exp.get("tags") or [], max_buffer_len=max_buffer_len, workspace_id=exp.get("workspaceId"),
            name=exp.get("name"), _settings=settings, **options,
        )  # fmt: skip
        info = exp.get("runInfo")
        client.run_info = {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else {}
        if system_metrics is not False:
            client._sampler = start_system_metrics(client, system_metrics, system_metrics_interval)
        return client

    # -- properties ----------------------------------------------------------------------

    @property
    def experiment_id(self) -> Optional[str]:
        """The server's id of the experiment (``None`` while its creation waits for the server)."""
        return self._batcher.experiment_id

    @property
    def _experiment_id(self) -> Optional[str]:
        # Scripts written for the original client read this attribute.
        return self.experiment_id

    @property
    def url(self) -> Optional[str]:
        """Link to the experiment in the Tora web app, e.g. ``http://host:8080/experiments/<id>``."""
        eid = self.experiment_id
        return f"{self._settings.server_url}/experiments/{eid}" if eid else None

    @property
    def max_buffer_len(self) -> int:
        return self._batcher.max_buffer_len

    # -- logging -------------------------------------------------------------------------

    def log(
        self, name: str, value: Any, step: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None
    ) -> None:
        """Buffers one point; never does network I/O. Bad arguments raise ValueError/TypeError.

        ``step=None`` lets the server assign the series' next step. ``value`` may be int,
        float, bool, ``Decimal``, a numpy scalar or 0-d array, or a 1-element torch tensor;
        NaN and ±inf are sent faithfully. ``metadata`` is a JSON-able dict up to 4096 bytes.

        Example::

            t.log("loss", 0.25, step=10, metadata={"phase": "train"})
        """
        if type(name) is not str or name not in self._names:
            self._names.add(check_name(name))
        t = type(value)
        if t is not float and t is not int:
            value = coerce_value(value)
        if step is not None and (type(step) is not int or step < 0 or step > MAX_STEP):
            step = check_step(step)
        self._buf_append((name, step, value, _now(), None if metadata is None else encode_metadata(metadata)))

    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        """Buffers several metrics of one step.

        Example::

            t.log_metrics({"loss": 0.25, "acc": 0.91}, step=10)
        """
        if step is not None and (type(step) is not int or step < 0 or step > MAX_STEP):
            step = check_step(step)
        # Fast path, all C-level: plain int/float values (then their sum is an int or a float;
        # numpy, torch, Decimal, str or None make it something else or raise) and every name
        # seen before.
        try:
            plain = type(sum(metrics.values())) in _PLAIN
        except Exception:  # a value that does not add up: the slow path names it
            plain = False
        if not (plain and self._names.issuperset(metrics)):
            metrics = self._checked(metrics)
        # One buffer item per call: a copy (callers often reuse and mutate one dict) with the
        # step and time under int keys, which no metric name can be. A dict of numbers is not
        # tracked by the garbage collector, where a (dict, step, time) tuple would be.
        row: dict[Any, Any] = dict(metrics)
        row[STEP_KEY] = _NAN if step is None else step
        row[TIME_KEY] = _now()
        self._buf_append(row)

    def _checked(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in metrics.items():
            if type(name) is not str or name not in self._names:
                self._names.add(check_name(name))
            out[name] = coerce_value(value)
        return out

    # -- files and images (sent by the sender thread; see _uploads) ----------------------------

    def log_file(self, path: Union[str, os.PathLike[str]], name: Optional[str] = None) -> None:
        """Uploads a file to the run's files as ``name`` (default: its file name), in the
        background: the file is read when it is sent (or spooled), so keep it until ``flush()``.
        Uploading to a name again replaces the file.

        Example::

            t.log_file("checkpoints/last.pt", name="weights/last.pt")
        """
        self._enqueue(Upload.file(path, name))

    def log_artifact(self, directory: Union[str, os.PathLike[str]], prefix: Optional[str] = None) -> None:
        """Uploads every file under ``directory`` (walked in the background) as
        ``<prefix>/<relative path>`` (default: the relative path).

        Example::

            t.log_artifact("outputs/model", prefix="model")
        """
        self._enqueue(Upload.directory(directory, prefix))

    def log_image(self, name: str, image: Any, step: Optional[int] = None) -> None:
        """Logs an image of the series ``name`` at ``step`` (default: this client's next step of
        that name, from 0). ``image``: PNG/JPEG/WebP/GIF bytes, a file path, a numpy ``HxW``,
        ``HxWx3`` or ``HxWx4`` array (uint8, or float in [0, 1]) or a PIL image. The call only
        checks and copies; the PNG is encoded and sent by the sender thread. An image logged again
        at the same name and step replaces the earlier one.

        Example::

            t.log_image("samples", batch[0], step=epoch)
        """
        steps = self._image_steps
        if type(name) is not str or name not in steps:
            check_name(name)
        if step is None:
            step = steps.get(name, 0)
        elif type(step) is not int or step < 0 or step > MAX_STEP:
            step = check_step(step)
        upload = Upload(MEDIA, name, check_image(image), step)
        steps[name] = step + 1
        self._enqueue(upload)

    def log_table(self, name: str, table: Table, step: Optional[int] = None) -> None:
        """Uploads a ``tora.Table`` as the CSV file ``tables/<name>/<step>.csv`` (default step:
        this client's next of that name, from 0); the rows are copied at the call.

        Example::

            t.log_table("predictions", tora.Table(columns=["id", "label"], data=rows), step=epoch)
        """
        if step is None:
            step = self._table_steps.get(name, 0)
        elif type(step) is not int or step < 0 or step > MAX_STEP:
            step = check_step(step)
        upload = Upload.table(name, table, step)
        self._table_steps[name] = step + 1
        self._enqueue(upload)

    def _enqueue(self, upload: Upload) -> None:
        # Sent with the next batch of points (flush_interval), not at once: waking the sender here
        # costs the loop more than the call itself on a busy machine (bench/media: 140 vs 110 µs).
        # Past TORA_UPLOAD_MEMORY_MB of queued images, waits for the sender (UploadMemory).
        held = upload.held = upload.memory()
        if held:
            self._batcher.upload_memory.hold(held)
        self._buf_append(upload)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Blocks until every point, file and image logged so far was delivered or spooled;
        False on timeout.

        Example::

            t.flush(timeout=30)
        """
        return self._batcher.flush(timeout)

    def shutdown(self, timeout: Optional[float] = None, status: Optional[str] = None) -> None:
        """Flushes (waiting at most ``timeout``, default ``shutdown_timeout``) and stops the
        sender; what could not be delivered is spooled. Idempotent; also run at exit.

        A run made by ``create_experiment`` (or ``tora.setup``) is then marked ``finished``
        (or ``status``), unless ``set_status`` gave it an end already; at interpreter exit it is
        ``failed`` when an uncaught exception ends the script or SIGTERM stops it. An explicit
        ``status`` also ends a run this client attached to (``load_experiment``).

        Example::

            t.shutdown(status="failed")
        """
        self._close(timeout, status or "finished", ends_run=status is not None)

    def _close(self, timeout: Optional[float], status: str, ends_run: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        _LIVE.discard(self)
        if self._sampler is not None:
            self._sampler.stop()
        self._batcher.close(self.shutdown_timeout if timeout is None else timeout)
        ends = ends_run or self._ends_run_in == os.getpid()
        if ends and self._status_set in (None, "running"):
            self.set_status(status)

    @property
    def delivered(self) -> int:
        """Points the server has acknowledged so far."""
        return self._batcher.delivered

    @property
    def uploaded(self) -> int:
        """Files and images the server has stored so far."""
        return self._batcher.uploaded

    @property
    def spooled(self) -> int:
        """Points of this client currently waiting on disk."""
        return self._batcher.spooled

    def set_status(self, status: str) -> None:
        """Sets the experiment status (``running``, ``finished``, ``failed``, ``crashed``).

        Delivered like the points before it (see ``set_hyperparams``); waits for that, at most
        ``shutdown_timeout`` seconds. Failures are logged, not raised.
        """
        self._status_set = status
        self._update({"status": status})
        if not self._closed:
            self.flush(self.shutdown_timeout)

    def set_hyperparams(self, hyperparams: Hyperparams) -> None:
        """Replaces the experiment's hyperparameters (a dict, nested keys flattened to ``a.b``).

        Never does network I/O on the caller's thread: the change goes behind the points logged
        before it, through the same sender, spool and ``python -m tora sync`` as they do, so it
        is not lost while the server is unreachable.

        Example::

            t.set_hyperparams({"lr": 0.05, "opt": {"wd": 1e-4}})
        """
        self.hyperparams = _hp_dict(hyperparams)
        self._update({"hyperparams": hp_to_tora_format(self.hyperparams)})

    def update_run_info(self, entries: Mapping[str, str]) -> None:
        """Adds or changes run info entries (string keys and values) kept with the experiment;
        delivered like ``set_hyperparams``. The server stores the whole map, so this client's
        ``run_info`` (captured at creation, or loaded) is sent with the entries merged in.

        Example::

            t.update_run_info({"dataset": "cifar10-v2"})
        """
        self.run_info.update({str(k): str(v) for k, v in entries.items()})
        self._update({"runInfo": dict(self.run_info)})

    def _update(self, body: dict[str, Any]) -> None:
        if not self._closed:
            self._buf_append(Update(body))
            return
        # After shutdown the sender is gone: one try from here, else the spool.
        eid = self.experiment_id
        if eid is not None and not self._batcher.offline:
            transport = Transport(self._settings.server_url, self._settings.api_key, timeout=10.0)
            try:
                r = put_experiment(transport, eid, body)
            finally:
                transport.close()
            if r.outcome == OK:
                return
            if r.outcome not in (RETRY, AUTH):
                logger.warning(
                    "Tora: could not change %s of experiment %s: %s", describe_update(body), eid, r.error
                )
                return
        if self._batcher.spool_update(body):
            logger.warning(
                "Tora: %s of experiment %s spooled to %s (run `python -m tora sync`)",
                describe_update(body),
                eid or "(not created yet)",
                self._batcher.spool.directory,
            )

    def __enter__(self) -> Tora:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        status = "finished" if exc_type is None else "failed"
        if self._closed:  # shut down inside the block
            if status == "failed":
                self.set_status(status)
            return
        self._ends_run_in = os.getpid()  # a block ends the run it opened, created here or not
        self._close(None, status)

    def __repr__(self) -> str:
        return f"Tora(experiment_id={self.experiment_id!r}, name={self.name!r})"

    def _after_fork_in_child(self) -> None:
        # The parent's sender thread does not exist here and its buffer belongs to the parent:
        # start afresh so points logged in the child are delivered once, by the child.
        self._names = set(self._names)
        self._sampler = None  # the parent's sampler thread is not here; the parent samples the machine
        b = self._batcher
        self._batcher = self._new_batcher(b.experiment_id, b.create_body, b.create_key)


def _hp_dict(hyperparams: Hyperparams) -> dict[str, HyperparamValue]:
    if not hyperparams:
        return {}
    if isinstance(hyperparams, Mapping):
        return flatten(hyperparams)
    return hp_from_tora_format(hyperparams)


def _offline_settings(server_url: Optional[str], api_key: Optional[str]) -> Settings:
    # Offline needs neither: `tora sync` resolves them when it delivers.
    try:
        return resolve(server_url, api_key)
    except ConfigError:
        return Settings(normalize_base_url(server_url) if server_url else "", "")


def _default_spool_dir() -> Path:
    return spool_dir()


def shutdown_all(timeout: Optional[float] = None, status: str = "finished") -> None:
    """Shuts down every live client (run at interpreter exit and on SIGTERM); runs they end are
    marked ``status``."""
    for t in list(_LIVE):
        try:
            t._close(timeout, status)
        except Exception:  # at exit, report and keep going
            logger.exception("Tora: shutdown failed")


_hooks_installed = False
_hooks_lock = threading.Lock()


def _install_exit_hooks() -> None:
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        _hooks_installed = True
    atexit.register(_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):  # not allowed here (embedded interpreters)
            pass


def _at_exit() -> None:
    # sys.last_type is set when an exception reached the top level and ended the script
    # (sys.exit() raises SystemExit, which does not set it: a normal end).
    shutdown_all(status="failed" if getattr(sys, "last_type", None) is not None else "finished")


def _on_sigterm(signum: int, frame: Optional[FrameType]) -> None:
    shutdown_all(status="failed")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _after_fork_in_child() -> None:
    for t in list(_LIVE):
        t._after_fork_in_child()
