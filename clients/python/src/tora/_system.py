"""System metrics, sampled in a daemon thread and logged under the reserved prefix ``system/``.

On by default for a new experiment, every 10 s (``system_metrics=False`` or
``TORA_SYSTEM_METRICS=0`` turns it off; ``system_metrics_interval=`` or
``TORA_SYSTEM_METRICS_INTERVAL`` changes the period). Each sample is one ``log_metrics`` call
at the sample's index as step, with the wall time every point carries, through the same
batch/spool path as the training loop's metrics:

- ``system/cpu.percent``, ``system/memory.used_mib``, ``system/memory.available_mib``,
  ``system/memory.percent``, ``system/process.rss_mib``, ``system/process.cpu_percent``,
  ``system/disk.read_mib_s``, ``system/disk.write_mib_s``, ``system/network.recv_mib_s``,
  ``system/network.sent_mib_s`` (see ``_proc``);
- per GPU ``i`` as CUDA numbers it (``CUDA_VISIBLE_DEVICES`` mapped to physical devices):
  ``system/gpu.<i>.utilization_percent``, ``memory_used_mib``, ``memory_total_mib``,
  ``power_w``, ``temperature_c`` — from NVML (``_nvml``), else from one ``nvidia-smi`` in
  loop mode.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from typing import IO, Any, Callable, Optional

from ._nvml import Nvml, visible_physical_indices
from ._proc import ProcReader

logger = logging.getLogger("tora")

PREFIX = "system/"
DEFAULT_INTERVAL = 10.0
LogFn = Callable[[Mapping[str, Any], int], None]


def settings(enabled: Optional[bool], interval: Optional[float]) -> Optional[float]:
    """The sampling interval to use, or None when system metrics are off."""
    if enabled is None:
        enabled = os.environ.get("TORA_SYSTEM_METRICS", "").strip().lower() not in ("0", "false", "no", "off")
    if not enabled:
        return None
    if interval is None:
        raw = os.environ.get("TORA_SYSTEM_METRICS_INTERVAL")
        interval = float(raw) if raw else DEFAULT_INTERVAL
    if not interval > 0:
        raise ValueError(f"system metrics interval must be > 0 seconds, got {interval!r}")
    return float(interval)


class NvidiaSmi:
    """GPU readings from one ``nvidia-smi`` process in loop mode (``-lms``): one spawn per run,
    not one per sample. A reader thread keeps the latest line of each device."""

    QUERY = "index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu"
    FIELDS = ("utilization_percent", "memory_used_mib", "memory_total_mib", "power_w", "temperature_c")

    def __init__(self, executable: str, interval: float) -> None:
        self._latest: dict[int, dict[str, float]] = {}
        self._lock = threading.Lock()
        args = [executable, f"--query-gpu={self.QUERY}", "--format=csv,noheader,nounits"]
        self._proc = subprocess.Popen(
            [*args, f"-lms={max(100, int(interval * 1000))}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, args=(self._proc.stdout,), name="tora-nvidia-smi")
        self._thread.daemon = True
        self._thread.start()

    @classmethod
    def start(cls, interval: float) -> Optional[NvidiaSmi]:
        exe = shutil.which("nvidia-smi")
        if exe is None:
            return None
        try:
            return cls(exe, interval)
        except OSError:
            return None

    def _read(self, stream: Optional[IO[str]]) -> None:
        for line in stream or ():
            parsed = parse_smi_line(line)
            if parsed is not None:
                with self._lock:
                    self._latest[parsed[0]] = parsed[1]

    def sample(self, physical: int) -> dict[str, float]:
        with self._lock:
            return dict(self._latest.get(physical, {}))

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._thread.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def parse_smi_line(line: str) -> Optional[tuple[int, dict[str, float]]]:
    """One CSV line of ``nvidia-smi --query-gpu`` (``[N/A]`` fields are left out).

    >>> parse_smi_line("1, 87, 40536, 143771, [N/A], 61")[1]["memory_used_mib"]
    40536.0
    """
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 1 + len(NvidiaSmi.FIELDS) or not parts[0].isdigit():
        return None
    out: dict[str, float] = {}
    for name, text in zip(NvidiaSmi.FIELDS, parts[1:]):
        try:
            out[name] = float(text)
        except ValueError:
            continue
    return int(parts[0]), out


class SystemSampler:
    """Samples the machine every ``interval`` seconds in a daemon thread and hands each sample
    to ``log(values, step)``. Never raises into the caller; ``stop()`` joins the thread."""

    def __init__(
        self,
        log: LogFn,
        interval: float = DEFAULT_INTERVAL,
        *,
        proc: Optional[ProcReader] = None,
        gpus: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._log = log
        self.interval = interval
        self._proc = proc or ProcReader()
        self._clock = clock
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.step = 0
        self.seconds = 0.0  # CPU time spent sampling, for the cost measurement in bench/client
        self._nvml: Optional[Nvml] = None
        self._smi: Optional[NvidiaSmi] = None
        self._devices: list[int] = []
        if gpus:
            self._open_gpus()
        self._last = self._proc.counters(self._clock())

    def _open_gpus(self) -> None:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        self._nvml = Nvml.load()
        if self._nvml is not None:
            self._devices = visible_physical_indices(self._nvml, visible)
            return
        self._smi = NvidiaSmi.start(self.interval)
        if self._smi is not None:
            # Without NVML, UUID entries cannot be resolved; plain indices map directly.
            self._devices = visible_physical_indices(None, visible, count=64)

    @property
    def gpu_source(self) -> Optional[str]:
        return "nvml" if self._nvml is not None else "nvidia-smi" if self._smi is not None else None

    def start(self) -> SystemSampler:
        self._thread = threading.Thread(target=self._run, name="tora-system-metrics")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample_and_log()

    def sample(self) -> dict[str, float]:
        """One reading: rates since the previous reading, memory now, each GPU now."""
        now = self._clock()
        counters = self._proc.counters(now)
        values = self._proc.rates(self._last, counters)
        self._last = counters
        values.update(self._proc.memory())
        for logical, physical in enumerate(self._devices):
            source = self._nvml or self._smi
            gpu = source.sample(physical) if source is not None else {}
            for name, value in gpu.items():
                values[f"gpu.{logical}.{name}"] = value
        return {PREFIX + k: v for k, v in values.items()}

    def sample_and_log(self) -> None:
        started = time.thread_time()
        try:
            values = self.sample()
            if values:
                self._log(values, self.step)
                self.step += 1
        except Exception:  # a reading gone wrong must never reach the training loop
            logger.debug("Tora: system metrics sample failed", exc_info=True)
        self.seconds += time.thread_time() - started

    def stop(self, timeout: float = 5.0) -> None:
        """Stops sampling and releases NVML / nvidia-smi. Idempotent."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._nvml is not None:
            self._nvml.close()
            self._nvml = None
        if self._smi is not None:
            self._smi.close()
            self._smi = None


def start_for(client: Any, enabled: Optional[bool], interval: Optional[float]) -> Optional[SystemSampler]:
    """Starts a sampler logging into a ``Tora`` client, per the options and environment."""
    period = settings(enabled, interval)
    if period is None:
        return None
    try:
        return SystemSampler(lambda values, step: client.log_metrics(values, step=step), period).start()
    except Exception:  # no /proc (not Linux) or similar: run without system metrics
        logger.debug("Tora: system metrics unavailable", exc_info=True)
        return None
