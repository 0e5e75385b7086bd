"""What the integrations share: finding or starting the run, ending it, and sorting numbers from the rest.

A callback or logger the user made starts a run of its own, unless the user started one with
``tora.init`` for it: then it joins that run. So two ``Trainer``s trained one after the other
(a sweep) give two runs, and a Lightning logger after a Hugging Face training a third.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from .._init import start
from .._run import Run, current


def run_for(options: Mapping[str, Any], config: Optional[Mapping[str, Any]] = None) -> Run:
    """The run the user started with ``tora.init`` (config added to it), else a new run of the
    integration's own from ``options`` (which finishes the run of an integration before it)."""
    run = current()
    if run is not None and not run.finished and not run.by_integration:
        if config:
            run.config.update(config)
        return run
    named = {k: v for k, v in options.items() if k in _INIT_ARGUMENTS}
    rest = {k: v for k, v in options.items() if k not in _INIT_ARGUMENTS}
    return start(config=dict(config or {}), options=rest, by_integration=True, **named)


# tora.init's own parameters; the other options go on to Tora.create_experiment.
_INIT_ARGUMENTS = frozenset(("project", "name", "tags", "group", "notes", "id", "resume", "mode"))


def end_run(run: Optional[Run], success: bool = True) -> None:
    """At the end of training: delivers what was logged; a run of the integration's own is also
    marked ``finished`` (``failed`` when not ``success``). It stays open for an evaluation or
    test after training, and is finished by the next run, ``tora.finish()`` or the exit. A run
    the user started is left to the user."""
    if run is None or run.finished:
        return
    run.client.flush(timeout=30)
    if run.by_integration:
        run.client.set_status("finished" if success else "failed")


def number(value: Any) -> Optional[float]:
    """A loggable number (Python, numpy or one-element tensor), or None for anything else."""
    t = type(value)
    if t is float or t is int:
        return value  # type: ignore[no-any-return]
    if t is bool or isinstance(value, (str, bytes)):
        return None
    item = getattr(value, "item", None)
    try:
        inner = item() if callable(item) else value
        return float(inner) if isinstance(inner, (int, float)) and not isinstance(inner, bool) else None
    except (ValueError, RuntimeError, TypeError):
        return None


def image_array(image: Any) -> Any:
    """A torch tensor as a numpy ``HxWxC`` array (``CxHxW`` is transposed, as torchvision makes
    them); anything else (numpy, PIL, bytes, a path) as it is, for ``Tora.log_image``."""
    if callable(getattr(image, "detach", None)):
        image = image.detach().cpu().numpy()
        shape = image.shape
        if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
            image = image.transpose(1, 2, 0)
    return image
