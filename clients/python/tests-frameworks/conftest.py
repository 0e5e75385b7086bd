"""The core suite's fixtures (a real Tora server, per-test API keys), shared with these tests."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))
os.environ.setdefault("KERAS_BACKEND", "torch")

_spec = importlib.util.spec_from_file_location("tora_core_conftest", TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_core = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_core)

Env = _core.Env
_isolated_config = _core._isolated_config
server = _core.server
session_key = _core.session_key
env = _core.env
