"""The rest of wandb's module surface, so a W&B script runs with only its import changed.

Each call either works or is a documented no-op that warns once per process (on the ``tora``
logger), never an ``AttributeError``:

- ``define_metric(name, step_metric=...)``: recorded in the run info as ``x_axis.<name>`` =
  ``<step_metric>`` (the metric, or a glob such as ``val/*``, to chart against that metric);
  its other options (``summary``, ``goal``, ``hidden``...) are accepted and ignored.
- ``login(key=, host=)``: writes the client's config file like ``python -m tora login``;
  without a key it checks that a server URL and key are configured.
- ``watch``/``unwatch``, ``Histogram``, ``Artifact`` (with ``log_artifact``/``use_artifact``),
  ``save``: no-ops (Tora logs no gradients or histograms and has no artifact store for them).
- ``Image`` and ``Table`` are real, in ``_media`` (an image at the step, a table as a CSV file).

Example::

    import tora as wandb

    wandb.init(project="mnist")
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch")
    wandb.watch(model, log="all")  # warns once: not recorded
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator, Mapping, Optional

from ._config import resolve, write_config_file
from ._errors import ToraError

if TYPE_CHECKING:
    from ._run import Run

logger = logging.getLogger("tora")

X_AXIS_PREFIX = "x_axis."
_warned: set[str] = set()


def _warn_once(what: str, message: str) -> None:
    if what not in _warned:
        _warned.add(what)
        logger.warning("Tora: %s", message)


def define_metric(name: str, step_metric: Optional[str] = None, **options: Any) -> None:
    """Sets the default x-axis of ``name`` (a metric, or a glob like ``val/*``) to the metric
    ``step_metric``, stored with the current run as run info ``x_axis.<name>``.

    Example::

        wandb.define_metric("val/*", step_metric="epoch")
    """
    from ._run import current

    run = current()
    if run is None:
        raise ToraError("call tora.init(...) before tora.define_metric()")
    define_metric_of(run, name, step_metric, options)


def define_metric_of(run: Run, name: str, step_metric: Optional[str], options: Mapping[str, Any]) -> None:
    if options:
        _warn_once(
            "define_metric",
            f"define_metric options {sorted(options)} have no meaning in Tora; only step_metric is kept",
        )
    if step_metric is not None:
        run.client.update_run_info({X_AXIS_PREFIX + name: step_metric})


def watch(*args: Any, **kwargs: Any) -> None:
    """No-op: Tora does not log gradients, parameters or the model graph. Warns once."""
    _warn_once("watch", "wandb.watch has no Tora equivalent: gradients and parameters are not logged")


def unwatch(*args: Any, **kwargs: Any) -> None:
    """No-op (see ``watch``)."""


class Histogram:
    """Accepted so scripts run; not logged (Tora stores numbers per step). Warns once."""

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64) -> None:
        _warn_once("Histogram", "wandb.Histogram is not logged by Tora (log summary numbers instead)")
        self.sequence = sequence
        self.np_histogram = np_histogram
        self.num_bins = num_bins


class Artifact:
    """Accepted so scripts run; nothing is uploaded (files logged with a run are the files
    work's ``Tora.log_file``). Warns once.

    Example::

        art = wandb.Artifact("model", type="model")
        art.add_file("model.pt")
        run.log_artifact(art)  # not stored
    """

    def __init__(
        self,
        name: str,
        type: str,
        description: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        **ignored: Any,
    ) -> None:
        _warn_once("Artifact", "wandb.Artifact is not stored by Tora; its files are not uploaded")
        self.name = name
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self.files: list[str] = []

    def add_file(self, local_path: str, name: Optional[str] = None, **ignored: Any) -> None:
        self.files.append(str(local_path))

    def add_dir(self, local_path: str, name: Optional[str] = None, **ignored: Any) -> None:
        self.files.append(str(local_path))

    def add_reference(self, uri: str, name: Optional[str] = None, **ignored: Any) -> None:
        self.files.append(str(uri))

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "w", encoding: Optional[str] = None) -> Iterator[IO[Any]]:
        """A file to write into (a temporary one, kept with the artifact's list)."""
        directory = Path(tempfile.mkdtemp(prefix="tora-artifact-"))
        path = directory / Path(name).name
        with open(path, mode, encoding=encoding) as f:
            yield f
        self.files.append(str(path))

    def save(self, *args: Any, **kwargs: Any) -> None:
        pass

    def wait(self, *args: Any, **kwargs: Any) -> Artifact:
        return self

    def __repr__(self) -> str:
        return f"Artifact(name={self.name!r}, type={self.type!r}) (not stored by Tora)"


def log_artifact(artifact: Any, *args: Any, **kwargs: Any) -> Any:
    """No-op (see ``Artifact``); returns the artifact."""
    _warn_once("log_artifact", "artifacts are not stored by Tora; log_artifact ignored")
    return artifact


def use_artifact(artifact: Any, *args: Any, **kwargs: Any) -> Any:
    """No-op (see ``Artifact``); returns what it was given."""
    _warn_once("use_artifact", "artifacts are not stored by Tora; use_artifact ignored")
    return artifact


def save(*args: Any, **kwargs: Any) -> list[str]:
    """No-op: files are not uploaded by ``save``. Warns once; returns no paths."""
    _warn_once("save", "wandb.save is not supported by Tora; files are not uploaded")
    return []


def login(
    key: Optional[str] = None, relogin: Optional[bool] = None, host: Optional[str] = None, **ignored: Any
) -> bool:
    """With ``key``: writes it (and ``host``, the Tora server URL, else the one configured) to
    the config file, as ``python -m tora login`` does. Without: checks a server URL and key are
    configured (raises ``ConfigError`` naming what to set). Returns True.

    Example::

        wandb.login(key="tora_...", host="http://localhost:8080")
    """
    if key is None:
        resolve(host)
        return True
    url = host or resolve(None, key).server_url
    write_config_file(url, key)
    return True
