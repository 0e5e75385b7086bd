"""The client of a run started with ``tora.init(mode="disabled")``: it takes every call and does nothing."""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence, Union

from ._client import Hyperparams, Tora, _hp_dict
from ._media import Table


class DisabledTora(Tora):
    """Looks like a ``Tora`` client; no thread, no spool, no network, nothing logged."""

    def __init__(
        self,
        name: Optional[str],
        description: Optional[str],
        hyperparams: Hyperparams,
        tags: Optional[Sequence[str]],
    ) -> None:  # no super().__init__: it would start a sender
        self.name = name
        self.description = description
        self.hyperparams = _hp_dict(hyperparams)
        self.tags = list(tags or [])
        self.workspace_id = None
        self.run_info = {}
        self._closed = False

    @property
    def experiment_id(self) -> Optional[str]:
        return None

    @property
    def url(self) -> Optional[str]:
        return None

    @property
    def delivered(self) -> int:
        return 0

    @property
    def spooled(self) -> int:
        return 0

    @property
    def uploaded(self) -> int:
        return 0

    def log(
        self, name: str, value: Any, step: Optional[int] = None, metadata: Optional[Mapping[str, Any]] = None
    ) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        pass

    def log_file(self, path: Union[str, os.PathLike[str]], name: Optional[str] = None) -> None:
        pass

    def log_artifact(self, directory: Union[str, os.PathLike[str]], prefix: Optional[str] = None) -> None:
        pass

    def log_image(self, name: str, image: Any, step: Optional[int] = None) -> None:
        pass

    def log_table(self, name: str, table: Table, step: Optional[int] = None) -> None:
        pass

    def flush(self, timeout: Optional[float] = None) -> bool:
        return True

    def shutdown(self, timeout: Optional[float] = None, status: Optional[str] = None) -> None:
        self._closed = True

    def _close(self, timeout: Optional[float], status: str, ends_run: bool = False) -> None:
        self._closed = True

    def set_status(self, status: str) -> None:
        pass

    def set_hyperparams(self, hyperparams: Hyperparams) -> None:
        self.hyperparams = _hp_dict(hyperparams)

    def update_run_info(self, entries: Mapping[str, str]) -> None:
        self.run_info.update(entries)

    def __repr__(self) -> str:
        return f"DisabledTora(name={self.name!r})"
