"""The package's shape (issue 23): rules that keep the front doors on one delivery path."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import tora
from tora import _global, _run

SRC = Path(tora.__file__).parent


def _attribute_chains(node: ast.AST) -> list[str]:
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute):
            out.append(f"{n.value.attr}.{n.attr}")
    return out


def test_run_uses_only_the_clients_public_methods() -> None:
    tree = ast.parse(inspect.getsource(_run))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for name in ("Run", "Config", "Summary"):
        private = [c for c in _attribute_chains(classes[name]) if c.startswith(("_client._", "client._"))]
        assert private == [], f"{name} reaches into Tora: {private}"
        names = {n.id for n in ast.walk(classes[name]) if isinstance(n, ast.Name)}
        assert "Transport" not in names, f"{name} talks HTTP itself"


def test_one_current_run_global() -> None:
    # setup/tlog keep no client of their own: they use tora.init's current run.
    assert not any(isinstance(v, tora.Tora) for v in vars(_global).values())
    assert "_CLIENT" not in vars(_global)


@pytest.mark.integration
def test_setup_and_init_share_the_current_run(env: object) -> None:
    kwargs = env.kwargs()  # type: ignore[attr-defined]
    t = tora.setup("first", system_metrics=False, **kwargs)
    assert tora.is_initialized() and tora.run is not None and tora.run.client is t
    run = tora.init(name="second", system_metrics=False, **kwargs)  # ends the setup run
    tora.tlog("x", 1.0, step=0)  # goes to the current run: init's
    assert tora.get_experiment_id() == run.id
    tora.finish()
    assert not tora.is_initialized()
    assert env.experiment(str(t.experiment_id))["status"] == "finished"  # type: ignore[attr-defined]
    assert [p["value"] for p in env.points(str(run.id), "x")] == [1.0]  # type: ignore[attr-defined]


def test_integrations_end_runs_through_one_helper() -> None:
    for path in sorted((SRC / "integrations").glob("*.py")):
        if path.name == "_common.py":
            continue
        calls = [
            n.func.attr
            for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        ]
        ending = {"set_status", "finish", "shutdown"} & set(calls)
        assert not ending, f"{path.name} ends a run itself ({ending}); use _common.end_run"


def test_http_imports_no_package_face() -> None:
    tree = ast.parse((SRC / "_http.py").read_text())
    froms = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1]
    assert all(n.module for n in froms), "_http imports from the package face"
