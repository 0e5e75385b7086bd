"""Readings of the machine from ``/proc`` and cgroup v2 files, as pure parsers plus one reader.

The parsers take file text so tests run them on captured fixtures. Inside a container with
cgroup v2 limits, memory and CPU are reported against the container's limits, not the host's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

_PARTITION = re.compile(r"^((sd|vd|xvd|hd)[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+)p\d+)$")
_VIRTUAL_DISK = ("loop", "ram", "zram", "dm-", "sr", "md", "fd")
SECTOR = 512


def cpu_times(stat: str) -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from ``/proc/stat``; idle counts iowait too."""
    for line in stat.splitlines():
        if line.startswith("cpu "):
            fields = [int(x) for x in line.split()[1:9]]
            fields += [0] * (8 - len(fields))
            idle = fields[3] + fields[4]
            return sum(fields) - idle, sum(fields)
    raise ValueError("no cpu line in /proc/stat")


def meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` in bytes, e.g. ``{"MemTotal": ..., "MemAvailable": ...}``."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key.strip()] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    return out


def process_rss(status: str) -> Optional[int]:
    """Resident set size in bytes from ``/proc/<pid>/status`` (``VmRSS``)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


def process_cpu_ticks(stat: str) -> int:
    """utime + stime (clock ticks) from ``/proc/<pid>/stat``; the name may hold spaces."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def disk_bytes(diskstats: str) -> tuple[int, int]:
    """(read, written) bytes over whole physical disks: partitions, loop, RAM and
    device-mapper devices are skipped so nothing is counted twice."""
    read = written = 0
    for line in diskstats.splitlines():
        parts = line.split()
        if len(parts) < 10:
            continue
        name = parts[2]
        if name.startswith(_VIRTUAL_DISK) or _PARTITION.match(name):
            continue
        read += int(parts[5]) * SECTOR
        written += int(parts[9]) * SECTOR
    return read, written


def net_bytes(dev: str) -> tuple[int, int]:
    """(received, sent) bytes over every interface but loopback, from ``/proc/net/dev``."""
    recv = sent = 0
    for line in dev.splitlines():
        name, sep, rest = line.partition(":")
        if not sep or name.strip() == "lo":
            continue
        parts = rest.split()
        if len(parts) >= 9:
            recv += int(parts[0])
            sent += int(parts[8])
    return recv, sent


def cgroup_path(proc_cgroup: str) -> Optional[str]:
    """The cgroup v2 path of a process from ``/proc/<pid>/cgroup`` (the ``0::`` line)."""
    for line in proc_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:].strip() or "/"
    return None


def cgroup_cpu_limit(cpu_max: str) -> Optional[float]:
    """CPUs allowed by ``cpu.max`` (``"200000 100000"`` → 2.0); None when unlimited."""
    quota, _, period = cpu_max.strip().partition(" ")
    if quota == "max" or not period:
        return None
    return int(quota) / int(period)


def cgroup_usage_usec(cpu_stat: str) -> Optional[int]:
    for line in cpu_stat.splitlines():
        if line.startswith("usage_usec "):
            return int(line.split()[1])
    return None


def _int_or_none(text: str) -> Optional[int]:
    text = text.strip()
    return int(text) if text.isdigit() else None


@dataclass
class Counters:
    """Cumulative counters of one reading; rates come from two of them."""

    time: float
    cpu: Optional[tuple[int, int]]
    cgroup_cpu_usec: Optional[int]
    process_ticks: Optional[int]
    disk: Optional[tuple[int, int]]
    net: Optional[tuple[int, int]]


class ProcReader:
    """Reads the machine's figures from a ``/proc`` tree and cgroup v2 mount (both overridable)."""

    def __init__(self, proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup", pid: str = "self") -> None:
        self.proc = Path(proc)
        self.pid = pid
        self.cgroup: Optional[Path] = None
        rel = cgroup_path(self._read(f"{pid}/cgroup") or "")
        if rel is not None:
            directory = Path(cgroup_root) / rel.lstrip("/")
            if (directory / "memory.current").exists() or (directory / "cpu.max").exists():
                self.cgroup = directory
        self.cpu_limit = cgroup_cpu_limit(self._cg("cpu.max") or "max") if self.cgroup else None
        try:
            self.ticks = os.sysconf("SC_CLK_TCK")
        except (ValueError, OSError, AttributeError):
            self.ticks = 100

    def _read(self, rel: str) -> Optional[str]:
        try:
            return (self.proc / rel).read_text()
        except OSError:
            return None

    def _cg(self, name: str) -> Optional[str]:
        if self.cgroup is None:
            return None
        try:
            return (self.cgroup / name).read_text()
        except OSError:
            return None

    def counters(self, now: float) -> Counters:
        stat = self._read("stat")
        pstat = self._read(f"{self.pid}/stat")
        disk = self._read("diskstats")
        net = self._read(f"{self.pid}/net/dev") or self._read("net/dev")
        cg = self._cg("cpu.stat") if self.cpu_limit is not None else None
        return Counters(
            time=now,
            cpu=cpu_times(stat) if stat else None,
            cgroup_cpu_usec=cgroup_usage_usec(cg) if cg else None,
            process_ticks=process_cpu_ticks(pstat) if pstat else None,
            disk=disk_bytes(disk) if disk is not None else None,
            net=net_bytes(net) if net is not None else None,
        )

    def memory(self) -> dict[str, float]:
        """Used/available memory (MiB) and percent, against the cgroup's limit where it has one."""
        out: dict[str, float] = {}
        mem = meminfo(self._read("meminfo") or "")
        total, available = mem.get("MemTotal"), mem.get("MemAvailable")
        limit = _int_or_none(self._cg("memory.max") or "")
        current = _int_or_none(self._cg("memory.current") or "")
        if limit is not None and current is not None and (total is None or limit < total):
            total, used = limit, current
            available = max(0, limit - current)
        elif total is not None and available is not None:
            used = total - available
        else:
            used = None
        if used is not None and total:
            out["memory.used_mib"] = used / 2**20
            out["memory.available_mib"] = (available or 0) / 2**20
            out["memory.percent"] = 100.0 * used / total
        rss = process_rss(self._read(f"{self.pid}/status") or "")
        if rss is not None:
            out["process.rss_mib"] = rss / 2**20
        return out

    def rates(self, before: Counters, after: Counters) -> dict[str, float]:
        """CPU % (of the CPUs this process may use), process CPU % (100 = one core), and disk
        and network throughput (MiB/s) between two readings."""
        out: dict[str, float] = {}
        dt = after.time - before.time
        if dt <= 0:
            return out
        if self.cpu_limit and before.cgroup_cpu_usec is not None and after.cgroup_cpu_usec is not None:
            used = (after.cgroup_cpu_usec - before.cgroup_cpu_usec) / 1e6
            out["cpu.percent"] = min(100.0, 100.0 * used / (dt * self.cpu_limit))
        elif before.cpu and after.cpu and after.cpu[1] > before.cpu[1]:
            out["cpu.percent"] = 100.0 * (after.cpu[0] - before.cpu[0]) / (after.cpu[1] - before.cpu[1])
        if before.process_ticks is not None and after.process_ticks is not None:
            out["process.cpu_percent"] = (
                100.0 * (after.process_ticks - before.process_ticks) / self.ticks / dt
            )
        if before.disk and after.disk:
            out["disk.read_mib_s"] = (after.disk[0] - before.disk[0]) / 2**20 / dt
            out["disk.write_mib_s"] = (after.disk[1] - before.disk[1]) / 2**20 / dt
        if before.net and after.net:
            out["network.recv_mib_s"] = (after.net[0] - before.net[0]) / 2**20 / dt
            out["network.sent_mib_s"] = (after.net[1] - before.net[1]) / 2**20 / dt
        return out
