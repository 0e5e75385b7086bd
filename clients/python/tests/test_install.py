"""The distribution name is free on PyPI, and the server offers its own matching client to pip."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

from conftest import Env

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_distribution_name_is_not_tora() -> None:
    # `pip install tora` installs an unrelated package from PyPI; ours is tora-client (still `import tora`).
    assert 'name = "tora-client"' in PYPROJECT.read_text()


def test_pip_installs_the_client_from_a_running_server(env: Env, tmp_path: Path) -> None:
    with urllib.request.urlopen(env.url + "/api/client", timeout=30) as r:
        info = json.loads(r.read())
    assert info["name"] == "tora-client" and info["install"] == f"pip install {info['url']}"
    assert info["url"].startswith(env.url + "/api/client/")
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    # pip of the test interpreter, installing into the fresh environment, offline but for the server.
    out = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", info["url"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, tora; "
            "print(m.version('tora-client'), tora.Tora.__name__, tora.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    version, name, where = check.stdout.split()
    assert (version, name) == (info["version"], "Tora") and str(target) in where
    assert (target / "bin" / "tora-client").exists()
