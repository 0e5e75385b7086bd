"""Run context: where and how a run ran, stored with the experiment as its ``runInfo``.

Captured once when an experiment is created (opt out with ``run_info=False`` or
``TORA_RUN_INFO=0``): git commit, branch and dirty flag, the command line (values of arguments
named like secrets are masked), working directory, host, Python, the versions of the ML packages
already imported, and the CUDA devices (read through NVML, without initialising CUDA).
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Optional, Union

# Imported by the training script already: reported, never imported here.
PACKAGES = ("torch", "transformers", "lightning", "pytorch_lightning", "keras", "ultralytics", "jax")
_DIST_NAMES = {"pytorch_lightning": "pytorch-lightning"}
_SECRET = re.compile(r"(key|token|secret|password|passwd)", re.IGNORECASE)
MAX_KEY, MAX_VALUE, MAX_ENTRIES = 128, 4096, 200  # the server's limits on runInfo


def run_context(run_info: Union[bool, Mapping[str, str], None] = True) -> dict[str, str]:
    """What to send as ``runInfo``: captured context plus (overriding) the caller's entries.

    >>> "host" in run_context(True), run_context(False)
    (True, {})
    """
    if run_info is False or run_info is None:
        return {}
    info = {} if _disabled() else capture()
    if isinstance(run_info, Mapping):
        info.update({str(k): str(v) for k, v in run_info.items()})
    return _bounded(info)


def _disabled() -> bool:
    return os.environ.get("TORA_RUN_INFO", "").strip().lower() in ("0", "false", "no", "off")


def capture() -> dict[str, str]:
    """Reads the context now; each part that cannot be read is left out, never raised."""
    info: dict[str, str] = {}
    info.update(git_info(_script_dir()))
    info["command"] = command_line(sys.argv)
    info["cwd"] = os.getcwd()
    info["host"] = socket.gethostname()
    info["python"] = platform.python_version()
    info["platform"] = platform.platform()
    for name in PACKAGES:
        version = package_version(name)
        if version:
            info[f"package.{_DIST_NAMES.get(name, name)}"] = version
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        info["cuda.visible_devices"] = visible
    info.update(_cuda_devices())
    return info


def _script_dir() -> str:
    script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
    directory = os.path.dirname(os.path.abspath(script)) if script else os.getcwd()
    return directory if os.path.isdir(directory) else os.getcwd()


def git_info(directory: str) -> dict[str, str]:
    """``git.commit``, ``git.branch`` and ``git.dirty`` (tracked files changed) of a work tree."""

    def git(*args: str) -> Optional[str]:
        try:
            out = subprocess.run(
                ["git", *args], cwd=directory, capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    info = {"git.commit": commit}
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    if branch:
        info["git.branch"] = branch
    status = git("status", "--porcelain", "--untracked-files=no")
    if status is not None:
        info["git.dirty"] = "true" if status else "false"
    return info


def command_line(argv: list[str]) -> str:
    """The command as a shell would take it, with values of secret-looking options masked.

    >>> command_line(["train.py", "--lr", "0.1", "--api-key", "abc", "--token=xyz"])
    'python train.py --lr 0.1 --api-key *** --token=***'
    """
    out = ["python"]
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        if arg.startswith("-") and _SECRET.search(arg):
            if "=" in arg:
                arg = arg.split("=", 1)[0] + "=***"
            else:
                hide_next = True
        out.append(arg)
    return " ".join(a if a == "***" or a.endswith("=***") else shlex.quote(a) for a in out)


def package_version(module: str) -> Optional[str]:
    """The version of an imported package, or None when the script has not imported it."""
    mod = sys.modules.get(module)
    if mod is None:
        return None
    try:
        return metadata.version(_DIST_NAMES.get(module, module))
    except metadata.PackageNotFoundError:
        version = getattr(mod, "__version__", None)
        return str(version) if version is not None else None


def _cuda_devices() -> dict[str, str]:
    from ._nvml import Nvml, visible_physical_indices

    nvml = Nvml.load()
    if nvml is None:
        return {}
    try:
        indices = visible_physical_indices(nvml, os.environ.get("CUDA_VISIBLE_DEVICES"))
        names = [f"{i}: {nvml.name(p)} (physical {p})" for i, p in enumerate(indices)]
        info = {"cuda.devices": "; ".join(names)} if names else {}
        driver = nvml.driver_version()
        if driver:
            info["cuda.driver"] = driver
        return info
    finally:
        nvml.close()


def _bounded(info: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in info.items():
        if len(out) == MAX_ENTRIES:
            break
        if key:
            out[key[:MAX_KEY]] = value[:MAX_VALUE]
    return out
