"""Run context: git, command line, host and versions, stored as the experiment's runInfo."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Env
from tora._context import command_line, git_info, run_context


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    d = tmp_path / "repo"
    d.mkdir()
    git(d, "init", "-q", "-b", "trial")
    git(d, "-c", "user.email=a@b.c", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x")
    (d / "train.py").write_text("print('hi')\n")
    git(d, "add", "train.py")
    git(d, "-c", "user.email=a@b.c", "-c", "user.name=t", "commit", "-q", "-m", "train")
    return d


def test_git_commit_branch_and_dirty_flag(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    assert git_info(str(repo)) == {"git.commit": head, "git.branch": "trial", "git.dirty": "false"}
    (repo / "train.py").write_text("print('changed')\n")
    assert git_info(str(repo))["git.dirty"] == "true"
    (repo / "notes.txt").write_text("untracked files do not make it dirty")
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_info(str(outside)) == {}


def test_command_line_masks_secret_arguments() -> None:
    argv = ["train.py", "--lr", "0.1", "--api-key", "tora_abc", "--hf-token=hf_x", "--name", "a b"]
    assert command_line(argv) == "python train.py --lr 0.1 --api-key *** --hf-token=*** --name 'a b'"


def test_captured_context_and_opt_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    info = run_context(True)
    assert info["host"] == socket.gethostname()
    assert info["python"] == platform.python_version()
    assert info["cuda.visible_devices"] == "1,0"
    assert info["command"].startswith("python ")
    assert not any(k.startswith("package.torch") for k in info)  # torch is not imported here
    assert run_context({"host": "override"})["host"] == "override"
    assert run_context(False) == {}
    monkeypatch.setenv("TORA_RUN_INFO", "0")
    assert run_context(True) == {}
    assert run_context({"only": "this"}) == {"only": "this"}


def test_long_values_are_cut_to_the_server_limits() -> None:
    info = run_context({"k" * 300: "v" * 5000})
    assert info["k" * 128] == "v" * 4096


@pytest.mark.integration
def test_the_experiment_stores_run_info_apart_from_hyperparams(repo: Path, env: Env) -> None:
    script = repo / "train.py"
    script.write_text(
        "import sys, tora\n"
        "t = tora.Tora.create_experiment('ctx', hyperparams={'lr': 0.1}, group='g1', system_metrics=False,\n"
        "                                 server_url=sys.argv[1], api_key=sys.argv[2])\n"
        "t.shutdown()\n"
        "print(t.experiment_id)\n"
    )
    git(repo, "-c", "user.email=a@b.c", "-c", "user.name=t", "commit", "-q", "-am", "script")
    out = subprocess.run(
        [sys.executable, str(script), env.url, env.key, "--token", "s3cret"],
        cwd=repo, check=True, capture_output=True, text=True,
    )  # fmt: skip
    exp = env.experiment(out.stdout.strip().splitlines()[-1])
    info = exp["runInfo"]
    assert info["git.commit"] == git(repo, "rev-parse", "HEAD")
    assert info["git.branch"] == "trial" and info["git.dirty"] == "false"
    assert info["command"] == f"python {script} {env.url} {env.key} --token ***"
    assert info["host"] == socket.gethostname()
    assert exp["group"] == "g1"
    assert exp["hyperparams"] == [{"key": "lr", "value": 0.1}]
