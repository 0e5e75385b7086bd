"""What the integrations share: finding or starting the run, and sorting numbers from the rest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from .._run import Run, current, init


def run_for(options: Mapping[str, Any], config: Optional[Mapping[str, Any]] = None) -> Run:
    """The run started by ``tora.init`` (config added to it), else a new one from ``options``."""
    run = current()
    if run is not None and not run.finished:
        if config:
            run.config.update(config)
        return run
    return init(config=dict(config or {}), **options)


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
