"""A run ends with the right status without a ``with`` block: finished, failed, or (only when
the process vanished without a word) still running until the server calls it crashed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import tora
from conftest import Env
from test_reliability import run_script
from tora import Tora


def status(env: Env, eid: str) -> str:
    return str(env.experiment(eid)["status"])


def test_setup_tlog_shutdown_finishes(env: Env) -> None:
    t = tora.setup("global-end", server_url=env.url, api_key=env.key)
    tora.tlog("loss", 0.5, step=1)
    tora.shutdown()
    assert status(env, str(t.experiment_id)) == "finished"
    assert env.summaries(str(t.experiment_id))["loss"]["count"] == 1


def test_create_experiment_shutdown_finishes(env: Env) -> None:
    t = Tora.create_experiment("plain-end", **env.kwargs())
    t.log("loss", 0.5)
    assert status(env, str(t.experiment_id)) == "running"
    t.shutdown()
    assert status(env, str(t.experiment_id)) == "finished"


def test_an_explicit_end_is_kept(env: Env) -> None:
    t = Tora.create_experiment("explicit", **env.kwargs())
    t.set_status("failed")
    t.shutdown()
    assert status(env, str(t.experiment_id)) == "failed"


def test_attaching_to_a_run_does_not_end_it(env: Env) -> None:
    owner = Tora.create_experiment("attached", **env.kwargs())
    eid = str(owner.experiment_id)
    other = Tora.load_experiment(eid, **env.kwargs())
    other.log("extra", 1.0)
    other.shutdown()
    assert status(env, eid) == "running"
    owner.shutdown()
    assert status(env, eid) == "finished"


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        ("pass", "finished"),
        ("import sys; sys.exit(0)", "finished"),
        ("raise RuntimeError('diverged')", "failed"),
        ("raise KeyboardInterrupt", "failed"),
        ("os._exit(0)", "running"),  # vanished without a word: the server turns it crashed later
    ],
)
def test_script_end(env: Env, tmp_path: Path, ending: str, expected: str) -> None:
    proc = run_script(
        f"""
        import os
        import tora
        tora.setup("script-end")
        for i in range(100):
            tora.tlog("loss", i * 0.5, step=i)
        tora.flush(timeout=30)
        print(tora.get_experiment_id(), flush=True)
        {ending}
        """,
        env,
        tmp_path,
    )
    out, err = proc.communicate(timeout=60)
    eid = out.split()[0]
    assert status(env, eid) == expected, err
    assert env.summaries(eid)["loss"]["count"] == 100


def test_sigterm_fails_the_run(env: Env, tmp_path: Path) -> None:
    proc = run_script(
        """
        import time
        from tora import Tora
        t = Tora.create_experiment("sigterm-end")
        print(t.experiment_id, flush=True)
        time.sleep(60)
        """,
        env,
        tmp_path,
    )
    assert proc.stdout is not None
    eid = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert status(env, eid) == "failed"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_exiting_does_not_end_the_parents_run(env: Env, tmp_path: Path) -> None:
    proc = run_script(
        """
        import os, sys
        from tora import Tora
        t = Tora.create_experiment("fork-end")
        print(t.experiment_id, flush=True)
        if os.fork() == 0:
            t.log("child", 1.0)
            sys.exit(0)  # a normal exit with atexit hooks, in the child
        os.wait()
        sys.stdin.readline()
        """,
        env,
        tmp_path,
        stdin=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    eid = proc.stdout.readline().strip()
    deadline = time.monotonic() + 30
    while "child" not in env.summaries(eid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status(env, eid) == "running"
    proc.stdin.write("\n")
    proc.stdin.close()
    proc.wait(timeout=30)
    assert status(env, eid) == "finished"
