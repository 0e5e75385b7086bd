"""`import tora` never imports a framework, even where every framework is installed."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = ("torch", "transformers", "lightning", "pytorch_lightning", "keras", "ultralytics")


def test_importing_tora_and_its_integrations_package_imports_no_framework() -> None:
    code = (
        f"import sys, tora, tora.integrations\nprint(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_each_integration_imports_only_its_framework() -> None:
    code = (
        "import sys, tora.integrations.keras\n"
        "print('transformers' in sys.modules, 'lightning' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False False"
