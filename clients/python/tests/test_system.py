"""System metrics: /proc and cgroup v2 parsing from captured files, NVML through the real ctypes
path against a small C library built here, the nvidia-smi loop fallback, and the sampler's life
with a run (started with it, stopped with it, no thread left behind, cost measured)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import tora
from conftest import Env
from tora._nvml import Nvml, visible_physical_indices
from tora._proc import ProcReader, cpu_times, disk_bytes, meminfo, net_bytes
from tora._system import SystemSampler, parse_smi_line, settings

FIXTURES = Path(__file__).parent / "fixtures"
NO_CGROUP = str(FIXTURES / "no-such-cgroup")

# The NVML functions the client calls, with three devices of known readings. Device 1 has no
# power reading (NVML_ERROR_NOT_SUPPORTED), as on some boards. Counts init/shutdown calls.
NVML_C = r"""
#include <string.h>
typedef struct { unsigned int gpu, memory; } util_t;
typedef struct { unsigned long long total, free, used; } mem_t;
int inits = 0, shutdowns = 0;
static const char *uuids[3] = {"GPU-aaaa-0000", "GPU-bbbb-1111", "GPU-cccc-2222"};
int nvmlInit_v2(void) { inits++; return 0; }
int nvmlShutdown(void) { shutdowns++; return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 3; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **h) {
  if (i >= 3) return 2; *h = (void *)(size_t)(i + 1); return 0; }
static int idx(void *h) { return (int)(size_t)h - 1; }
int nvmlDeviceGetName(void *h, char *buf, unsigned int n) {
  const char *names[3] = {"Stand-in H200 A", "Stand-in H200 B", "Stand-in H200 C"};
  strncpy(buf, names[idx(h)], n); return 0; }
int nvmlDeviceGetUUID(void *h, char *buf, unsigned int n) { strncpy(buf, uuids[idx(h)], n); return 0; }
int nvmlSystemGetDriverVersion(char *buf, unsigned int n) { strncpy(buf, "580.65.06", n); return 0; }
int nvmlDeviceGetUtilizationRates(void *h, util_t *u) { u->gpu = 10 * (idx(h) + 1); u->memory = 5; return 0; }
int nvmlDeviceGetMemoryInfo(void *h, mem_t *m) {
  m->total = 143771ULL << 20; m->used = (1000ULL * (idx(h) + 1)) << 20;
  m->free = m->total - m->used; return 0; }
int nvmlDeviceGetPowerUsage(void *h, unsigned int *mw) {
  if (idx(h) == 1) return 3; *mw = 250500 + idx(h); return 0; }
int nvmlDeviceGetTemperature(void *h, int sensor, unsigned int *t) { *t = 40 + idx(h); return sensor; }
"""


@pytest.fixture(scope="module")
def nvml_lib(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the NVML stand-in library")
    d = tmp_path_factory.mktemp("nvml")
    (d / "nvml.c").write_text(NVML_C)
    lib = d / "libnvidia-ml-standin.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), str(d / "nvml.c")], check=True)
    return str(lib)


def reader(snapshot: str, cgroup_root: str = NO_CGROUP) -> ProcReader:
    return ProcReader(str(FIXTURES / snapshot), cgroup_root)


# -- /proc and cgroup parsing ---------------------------------------------------------------


def test_proc_parsers_on_captured_files() -> None:
    busy, total = cpu_times((FIXTURES / "proc-t0" / "stat").read_text())
    assert (busy, total) == (173951, 220480)
    mem = meminfo((FIXTURES / "proc-t0" / "meminfo").read_text())
    assert mem["MemTotal"] == 24684084 * 1024 and mem["MemAvailable"] == 22629680 * 1024
    # Only the whole disk vda counts: loop devices (and partitions, had there been any) are skipped.
    assert disk_bytes((FIXTURES / "proc-t0" / "diskstats").read_text()) == (4990250 * 512, 29130576 * 512)
    # Loopback traffic is not network traffic.
    assert net_bytes((FIXTURES / "proc-t0" / "self" / "net" / "dev").read_text()) == (3974095752, 3174715)
    two_lines = "   8  0 sda 1 0 8 0 1 0 16 0 0 0 0\n   8  1 sda1 1 0 8 0 1 0 16 0 0 0 0\n"
    assert disk_bytes(two_lines) == (4096, 8192)


def test_machine_figures_and_rates_between_two_captures() -> None:
    r = reader("proc-t0")
    before = r.counters(1000.0)
    r.proc = FIXTURES / "proc-t1"
    after = r.counters(1002.0)
    rates = r.rates(before, after)
    assert rates["cpu.percent"] == pytest.approx(100.0)  # both cores busy, no idle jiffies
    # 17,408 sectors written over 2 s (the 8 MiB fsync'd between the captures).
    assert rates["disk.write_mib_s"] == pytest.approx(17408 * 512 / 2**20 / 2)
    assert rates["disk.read_mib_s"] == pytest.approx(24 * 512 / 2**20 / 2)
    assert set(rates) >= {"network.recv_mib_s", "network.sent_mib_s", "process.cpu_percent"}
    mem = reader("proc-t0").memory()
    assert mem["memory.used_mib"] == pytest.approx((24684084 - 22629680) / 1024)
    assert mem["memory.available_mib"] == pytest.approx(22629680 / 1024)
    assert mem["memory.percent"] == pytest.approx(100 * (24684084 - 22629680) / 24684084)
    assert mem["process.rss_mib"] == pytest.approx(13616 / 1024)


def test_cgroup_v2_limits_are_respected_inside_a_container(tmp_path: Path) -> None:
    cg = tmp_path / "cgroup"
    shutil.copytree(FIXTURES / "cgroup-v2", cg)
    r = ProcReader(str(FIXTURES / "proc-t0"), str(cg))
    assert r.cpu_limit == 2.0
    mem = r.memory()  # 1 GiB used of a 4 GiB limit, on a 23.5 GiB host
    assert mem["memory.used_mib"] == 1024 and mem["memory.available_mib"] == 3072
    assert mem["memory.percent"] == 25.0
    before = r.counters(10.0)
    (cg / "cpu.stat").write_text("usage_usec 6000000\n")  # 1 CPU-second used in 1 s of 2 CPUs
    rates = r.rates(before, r.counters(11.0))
    assert rates["cpu.percent"] == pytest.approx(50.0)
    (cg / "memory.max").write_text("max\n")  # no memory limit: the host's figures
    assert r.memory()["memory.available_mib"] == pytest.approx(22629680 / 1024)


# -- GPUs ----------------------------------------------------------------------------------


def test_nvml_readings_through_ctypes(nvml_lib: str) -> None:
    nvml = Nvml.load(nvml_lib)
    assert nvml is not None
    try:
        assert nvml.count() == 3
        assert nvml.name(2) == "Stand-in H200 C" and nvml.driver_version() == "580.65.06"
        assert nvml.sample(0) == {
            "utilization_percent": 10.0,
            "memory_used_mib": 1000.0,
            "memory_total_mib": 143771.0,
            "power_w": 250.5,
            "temperature_c": 40.0,
        }
        assert "power_w" not in nvml.sample(1)  # NOT_SUPPORTED: left out, the rest still read
        assert nvml.sample(7) == {}
    finally:
        nvml.close()
    assert Nvml.load("/nonexistent/libnvidia-ml.so.1") is None


def test_cuda_visible_devices_map_to_physical_indices(nvml_lib: str) -> None:
    nvml = Nvml.load(nvml_lib)
    assert nvml is not None
    try:
        assert visible_physical_indices(nvml, None) == [0, 1, 2]
        assert visible_physical_indices(nvml, "2,GPU-bbbb") == [2, 1]
        assert visible_physical_indices(nvml, "1,7,0") == [1]  # CUDA stops at the first bad entry
        assert visible_physical_indices(nvml, "") == []
    finally:
        nvml.close()


def test_sampler_names_gpus_as_cuda_numbers_them(nvml_lib: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORA_NVML_LIBRARY", nvml_lib)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    logged: list[tuple[dict[str, Any], int]] = []
    s = SystemSampler(lambda v, step: logged.append((dict(v), step)), 10.0, proc=reader("proc-t0"))
    assert s.gpu_source == "nvml"
    s.sample_and_log()
    s.stop()
    values, step = logged[0]
    assert step == 0
    assert values["system/gpu.0.utilization_percent"] == 30.0  # cuda:0 is physical device 2
    assert values["system/gpu.1.utilization_percent"] == 10.0
    assert values["system/gpu.0.temperature_c"] == 42.0
    assert not any(k.startswith("system/gpu.2.") for k in values)
    assert values["system/memory.used_mib"] > 0


def test_nvidia_smi_loop_mode_when_nvml_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in speaking nvidia-smi's CSV: it records its arguments and prints two devices
    # every "loop", as `nvidia-smi --query-gpu=... -lms=N` does.
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {tmp_path}/args\n'
        "while true; do\n"
        '  echo "0, 55, 2048, 81559, 301.20, 57"\n'
        '  echo "1, 0, 3, 81559, [N/A], 33"\n'
        "  sleep 0.05\n"
        "done\n"
    )
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TORA_NVML_LIBRARY", str(tmp_path / "missing.so"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    s = SystemSampler(lambda v, step: None, 0.5, proc=reader("proc-t0"))
    try:
        assert s.gpu_source == "nvidia-smi"
        deadline = time.monotonic() + 10
        values: dict[str, float] = {}
        while "system/gpu.0.temperature_c" not in values and time.monotonic() < deadline:
            time.sleep(0.05)
            values = s.sample()
        assert values["system/gpu.0.temperature_c"] == 33.0  # cuda:0 = physical 1
        assert "system/gpu.0.power_w" not in values
        assert "-lms=500" in (tmp_path / "args").read_text()
    finally:
        s.stop()
    assert not [t for t in threading.enumerate() if t.name == "tora-nvidia-smi"]
    assert parse_smi_line("garbage") is None


# -- the sampler with a run ----------------------------------------------------------------


def test_settings_from_arguments_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings(None, None) == 10.0
    assert settings(False, None) is None
    monkeypatch.setenv("TORA_SYSTEM_METRICS_INTERVAL", "2.5")
    assert settings(None, None) == 2.5
    monkeypatch.setenv("TORA_SYSTEM_METRICS", "0")
    assert settings(None, None) is None
    with pytest.raises(ValueError):
        settings(True, 0)


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tora-system-metrics"]


@pytest.mark.integration
def test_sampler_starts_and_stops_with_the_run_and_logs_under_system(env: Env) -> None:
    assert not sampler_threads()
    t = tora.Tora.create_experiment("sys", system_metrics_interval=0.2, run_info=False, **env.kwargs())
    assert len(sampler_threads()) == 1
    t.log("loss", 1.0, step=0)
    time.sleep(1.0)
    t.shutdown()
    assert not sampler_threads()  # joined, not left behind
    assert t.experiment_id is not None
    names = set(env.summaries(t.experiment_id))
    assert {"loss", "system/cpu.percent", "system/memory.used_mib", "system/process.rss_mib"} <= names
    points = env.points(t.experiment_id, "system/memory.used_mib")
    assert [p["step"] for p in points] == list(range(len(points))) and len(points) >= 3
    # Each sample carries its wall time, ~0.2 s apart (the web app's System section plots by it).
    times = [datetime.fromisoformat(p["time"].replace("Z", "+00:00")).timestamp() for p in points]
    assert all(0.1 < b - a < 1.0 for a, b in zip(times, times[1:]))
    assert abs(times[-1] - time.time()) < 30

    off = tora.Tora.create_experiment("no-sys", system_metrics=False, run_info=False, **env.kwargs())
    assert not sampler_threads()
    off.shutdown()


def test_sampler_cost_at_a_short_interval_is_small() -> None:
    s = SystemSampler(lambda v, step: None, 0.01, gpus=False).start()
    time.sleep(1.0)
    s.stop()
    assert s.step >= 20
    per_sample = s.seconds / s.step
    # At the default 10 s interval this is the fraction of one core the sampler costs.
    assert per_sample / 10.0 < 0.001, f"{per_sample * 1e6:.0f} µs per sample"


def test_run_info_names_the_visible_cuda_devices(nvml_lib: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tora._context import run_context

    monkeypatch.setenv("TORA_NVML_LIBRARY", nvml_lib)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    info = run_context(True)
    assert info["cuda.devices"] == "0: Stand-in H200 C (physical 2); 1: Stand-in H200 A (physical 0)"
    assert info["cuda.driver"] == "580.65.06" and info["cuda.visible_devices"] == "2,0"
