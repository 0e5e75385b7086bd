"""GPU readings through NVML, called with ``ctypes`` on ``libnvidia-ml.so.1`` (no dependency).

One sample of all four readings of a device costs microseconds, where spawning ``nvidia-smi``
costs ~20 ms. ``TORA_NVML_LIBRARY`` names another library file (tests load a small C stand-in).
"""

from __future__ import annotations

import ctypes
import os
from typing import Optional

NVML_SUCCESS = 0
NVML_TEMPERATURE_GPU = 0


class _Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


class _Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class Nvml:
    """An initialised NVML; ``close()`` shuts it down. Each reading is None when unsupported."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        self._handles: dict[int, ctypes.c_void_p] = {}

    @classmethod
    def load(cls, path: Optional[str] = None) -> Optional[Nvml]:
        """Loads and initialises NVML; None where there is no library or no driver."""
        path = path or os.environ.get("TORA_NVML_LIBRARY") or "libnvidia-ml.so.1"
        try:
            lib = ctypes.CDLL(path)
            init = getattr(lib, "nvmlInit_v2", None) or lib.nvmlInit
        except (OSError, AttributeError):
            return None
        if init() != NVML_SUCCESS:
            return None
        return cls(lib)

    def close(self) -> None:
        self._handles.clear()
        self._lib.nvmlShutdown()

    def count(self) -> int:
        n = ctypes.c_uint(0)
        fn = getattr(self._lib, "nvmlDeviceGetCount_v2", None) or self._lib.nvmlDeviceGetCount
        return n.value if fn(ctypes.byref(n)) == NVML_SUCCESS else 0

    def _handle(self, index: int) -> Optional[ctypes.c_void_p]:
        h = self._handles.get(index)
        if h is None:
            h = ctypes.c_void_p()
            fn = (
                getattr(self._lib, "nvmlDeviceGetHandleByIndex_v2", None)
                or self._lib.nvmlDeviceGetHandleByIndex
            )
            if fn(ctypes.c_uint(index), ctypes.byref(h)) != NVML_SUCCESS:
                return None
            self._handles[index] = h
        return h

    def _text(self, fn_name: str, index: int) -> Optional[str]:
        h = self._handle(index)
        buf = ctypes.create_string_buffer(96)
        if h is None or getattr(self._lib, fn_name)(h, buf, ctypes.c_uint(96)) != NVML_SUCCESS:
            return None
        return buf.value.decode("utf-8", "replace")

    def name(self, index: int) -> Optional[str]:
        return self._text("nvmlDeviceGetName", index)

    def uuid(self, index: int) -> Optional[str]:
        return self._text("nvmlDeviceGetUUID", index)

    def driver_version(self) -> Optional[str]:
        buf = ctypes.create_string_buffer(80)
        fn = getattr(self._lib, "nvmlSystemGetDriverVersion", None)
        if fn is None or fn(buf, ctypes.c_uint(80)) != NVML_SUCCESS:
            return None
        return buf.value.decode("utf-8", "replace")

    def sample(self, index: int) -> dict[str, float]:
        """Utilisation %, memory used/total (MiB), power (W), temperature (°C) of one device."""
        h = self._handle(index)
        if h is None:
            return {}
        out: dict[str, float] = {}
        util = _Utilization()
        if self._lib.nvmlDeviceGetUtilizationRates(h, ctypes.byref(util)) == NVML_SUCCESS:
            out["utilization_percent"] = float(util.gpu)
        mem = _Memory()
        if self._lib.nvmlDeviceGetMemoryInfo(h, ctypes.byref(mem)) == NVML_SUCCESS:
            out["memory_used_mib"] = mem.used / 2**20
            out["memory_total_mib"] = mem.total / 2**20
        milliwatts = ctypes.c_uint()
        if self._lib.nvmlDeviceGetPowerUsage(h, ctypes.byref(milliwatts)) == NVML_SUCCESS:
            out["power_w"] = milliwatts.value / 1000.0
        temp = ctypes.c_uint()
        if self._lib.nvmlDeviceGetTemperature(h, NVML_TEMPERATURE_GPU, ctypes.byref(temp)) == NVML_SUCCESS:
            out["temperature_c"] = float(temp.value)
        return out


def visible_physical_indices(
    nvml: Optional[Nvml], visible: Optional[str], count: Optional[int] = None
) -> list[int]:
    """Physical device indices in the order CUDA numbers them under ``CUDA_VISIBLE_DEVICES``.

    Unset: every device. Entries are indices or (prefixes of) ``GPU-`` UUIDs; like CUDA, the
    list ends at the first entry that names no device.

    >>> visible_physical_indices(None, "2,0", count=4), visible_physical_indices(None, "1,9,0", count=4)
    ([2, 0], [1])
    """
    total = count if count is not None else (nvml.count() if nvml is not None else 0)
    if visible is None:
        return list(range(total))
    out: list[int] = []
    for entry in (e.strip() for e in visible.split(",")):
        index: Optional[int] = None
        if entry.isdigit():
            index = int(entry) if int(entry) < total else None
        elif entry.startswith("GPU-") and nvml is not None:
            index = next((i for i in range(total) if (nvml.uuid(i) or "").startswith(entry)), None)
        if index is None or index in out:
            break
        out.append(index)
    return out
