"""Never lose a point, never duplicate one: threads, outages, crashes, exits, revoked keys."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Env
from tora import Tora
from toraserver import ToraServer

PKG_SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ToraServer]:
    """A server this test may stop, kill and restart (same data dir, same port)."""
    data = tmp_path / "data"
    data.mkdir()
    srv = ToraServer(data)
    yield srv
    srv.stop(signal.SIGKILL)


def assert_exactly_once(server: ToraServer, key: str, eid: str, name: str, n: int) -> None:
    pts = server.points(key, eid, name)
    assert len(pts) == n, f"{len(pts)} points arrived, expected {n}"
    assert sorted(p["step"] for p in pts) == list(range(n))
    assert all(p["value"] == p["step"] * 0.5 for p in pts)


def test_200k_points_from_4_threads_arrive_exactly_once(env: Env) -> None:
    t = Tora.create_experiment("threads", **env.kwargs())
    per_thread = 50_000

    def work(k: int) -> None:
        for i in range(per_thread):
            t.log(f"t{k}", float(i) * 0.5, step=i)
            t.log("shared", float(k), metadata=None)  # server-assigned steps, interleaved threads

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.shutdown(timeout=120)
    eid = str(t.experiment_id)
    for k in range(4):
        assert_exactly_once(env.server, env.key, eid, f"t{k}", per_thread)
    shared = env.points(eid, "shared")
    assert len(shared) == 4 * per_thread and [p["step"] for p in shared] == list(range(4 * per_thread))
    assert sorted(int(p["value"]) for p in shared) == sorted(k for k in range(4) for _ in range(per_thread))
    assert t.delivered == 8 * per_thread and t.spooled == 0


def log_slowly(t: Tora, n: int, seconds: float) -> None:
    for i in range(n):
        t.log("m", i * 0.5, step=i)
        if i % 100 == 0:
            time.sleep(seconds * 100 / n)


def test_server_down_at_start_then_up(own_server: ToraServer, caplog: pytest.LogCaptureFixture) -> None:
    key = own_server.create_key()  # the CLI works on the data dir while the server is down
    t = Tora.create_experiment("late-server", server_url=own_server.url, api_key=key)
    assert t.experiment_id is None  # created once the server is reachable
    starter = threading.Timer(1.0, own_server.start)
    starter.start()
    log_slowly(t, 20_000, 3.0)
    starter.join()  # a loaded machine may take longer than the 3 s of logging to start a server
    t.shutdown(timeout=60)
    assert t.experiment_id is not None
    assert_exactly_once(own_server, key, t.experiment_id, "m", 20_000)
    assert any("unreachable" in r.getMessage() for r in caplog.records)


def test_server_killed_mid_run_and_restarted(
    own_server: ToraServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = own_server.create_key()
    own_server.start()
    t = Tora.create_experiment("killed", server_url=own_server.url, api_key=key)

    def crash_and_restart() -> None:
        time.sleep(0.7)
        own_server.stop(signal.SIGKILL)
        time.sleep(1.0)
        own_server.start()

    chaos = threading.Thread(target=crash_and_restart)
    chaos.start()
    log_slowly(t, 30_000, 3.0)
    chaos.join()
    t.shutdown(timeout=60)
    assert_exactly_once(own_server, key, str(t.experiment_id), "m", 30_000)
    assert t.spooled == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("unreachable" in m for m in messages) and any("reachable again" in m for m in messages)


def run_script(body: str, env: Env, tmp_path: Path, **popen: object) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(body))
    child_env = {
        **os.environ,
        "TORA_BASE_URL": env.url + "/api",
        "TORA_API_KEY": env.key,
        "PYTHONPATH": PKG_SRC,
    }
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def test_process_exits_without_shutdown(env: Env, tmp_path: Path) -> None:
    proc = run_script(
        """
        from tora import Tora
        t = Tora.create_experiment("no-shutdown", flush_interval=3600, max_buffer_len=10**9)
        print(t.experiment_id, flush=True)
        for i in range(20_000):
            t.log("m", i * 0.5, step=i)
        # no shutdown(): the atexit hook must deliver everything
        """,
        env,
        tmp_path,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert_exactly_once(env.server, env.key, out.split()[0], "m", 20_000)


def test_sigterm_flushes(env: Env, tmp_path: Path) -> None:
    proc = run_script(
        """
        import time
        from tora import Tora
        t = Tora.create_experiment("sigterm", flush_interval=3600, max_buffer_len=10**9)
        for i in range(5_000):
            t.log("m", i * 0.5, step=i)
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
    assert proc.returncode == -signal.SIGTERM
    assert_exactly_once(env.server, env.key, eid, "m", 5_000)


def test_revoked_key_one_clear_error_loop_unaffected(
    env: Env, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tora")
    t = Tora.create_experiment("revoked", **env.kwargs())
    eid = str(t.experiment_id)
    for i in range(100):
        t.log("m", i * 0.5, step=i)
    assert t.flush(timeout=30)
    env.revoke()
    start = time.monotonic()
    for i in range(100, 50_100):
        t.log("m", i * 0.5, step=i)  # must not raise, must not block
        if i % 5000 == 0:
            time.sleep(0.2)  # let the sender try (and fail) several times
    loop_time = time.monotonic() - start
    t.shutdown(timeout=10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "API key" in errors[0].getMessage() and "INVALID_API_KEY" in errors[0].getMessage()
    assert loop_time < 10
    # Nothing was lost: what the server refused is in the spool, waiting for a good key.
    assert t.delivered == 100 and t.spooled == 50_000
    assert sum(1 for _ in (tmp_path / "spool").glob("*.json")) >= 1
    new_key = env.server.create_key()
    out = subprocess.run(
        [sys.executable, "-m", "tora", "sync", "--spool-dir", str(tmp_path / "spool")],
        env={**os.environ, "TORA_API_KEY": new_key, "PYTHONPATH": PKG_SRC},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert_exactly_once(env.server, new_key, eid, "m", 50_100)


def test_original_client_script_runs_unchanged(env: Env, tmp_path: Path) -> None:
    proc = run_script(
        """
        from tora import Tora

        hyperparams = {"lr": 0.001, "epochs": 3, "model": "mlp"}
        client = Tora.create_experiment("original-api", "ported script", hyperparams, ["legacy"], None)
        for epoch in range(3):
            for step in range(10):
                client.log("train_loss", 1.0 / (step + 1), epoch * 10 + step, {"epoch": epoch})
            client.log("val_acc", 0.5 + epoch / 10, epoch, None)
        client.shutdown()

        again = Tora.load_experiment(client.experiment_id)
        assert again.hyperparams == hyperparams, again.hyperparams
        again.log("test_acc", 0.9, 0)
        again.shutdown()
        print(again.experiment_id)
        """,
        env,
        tmp_path,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    eid = out.split()[0]
    s = env.summaries(eid)
    assert (s["train_loss"]["count"], s["val_acc"]["count"], s["test_acc"]["count"]) == (30, 3, 1)
    assert env.points(eid, "train_loss")[12]["metadata"] == {"epoch": 1}
    exp = env.experiment(eid)
    assert exp["description"] == "ported script" and exp["tags"] == ["legacy"]


def test_sync_replays_spool_of_an_earlier_process(env: Env, tmp_path: Path) -> None:
    """A process that never reached the server leaves the creation request and its batches
    in the spool; `python -m tora sync` creates the experiment and delivers them in order."""
    from toraserver import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    t = Tora.create_experiment("offline-run", hyperparams={"lr": 0.1}, server_url=dead, api_key=env.key)
    for i in range(3000):
        t.log("m", i * 0.5)  # server-assigned steps: order must survive the spool
        if i % 1000 == 0:
            t.flush()
    t.shutdown(timeout=5)
    assert t.spooled == 3000 and t.experiment_id is None
    out = subprocess.run(
        [sys.executable, "-m", "tora", "sync", "--server-url", env.url],
        env={**os.environ, "TORA_API_KEY": env.key, "PYTHONPATH": PKG_SRC},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    exps = env.server.api(env.key, "GET", "/api/experiments?startwith=offline-run")
    items = exps.get("experiments", exps.get("items", []))
    assert len(items) == 1
    assert_exactly_once(env.server, env.key, items[0]["id"], "m", 3000)
    # A second sync has nothing left to do and must not duplicate.
    again = subprocess.run(
        [sys.executable, "-m", "tora", "sync", "--server-url", env.url],
        env={**os.environ, "TORA_API_KEY": env.key, "PYTHONPATH": PKG_SRC},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "spool is empty" in again.stdout


def sync(url: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tora", "sync", "--server-url", url],
        env={**os.environ, "TORA_API_KEY": key, "PYTHONPATH": PKG_SRC},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_final_status_survives_a_server_down_at_exit(own_server: ToraServer) -> None:
    key = own_server.create_key()
    own_server.start()
    t = Tora.create_experiment("down-at-exit", server_url=own_server.url, api_key=key)
    with pytest.raises(RuntimeError), t:
        for i in range(1000):
            t.log("m", i * 0.5, step=i)
        assert t.flush(timeout=30)
        own_server.stop()
        for i in range(1000, 2000):
            t.log("m", i * 0.5, step=i)
        raise RuntimeError("diverged")
    eid = str(t.experiment_id)
    assert t.spooled == 1000
    own_server.start()
    assert own_server.api(key, "GET", f"/api/experiments/{eid}")["status"] != "failed"
    out = sync(own_server.url, key)
    assert out.returncode == 0, out.stderr
    assert "status failed" in out.stdout
    assert own_server.api(key, "GET", f"/api/experiments/{eid}")["status"] == "failed"
    assert_exactly_once(own_server, key, eid, "m", 2000)


def test_final_status_of_a_run_that_never_reached_the_server(env: Env) -> None:
    from toraserver import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    with Tora.create_experiment("never-reached", server_url=dead, api_key=env.key) as t:
        for i in range(500):
            t.log("m", i * 0.5, step=i)
    assert t.experiment_id is None
    out = sync(env.url, env.key)
    assert out.returncode == 0, out.stderr
    exps = env.server.api(env.key, "GET", "/api/experiments?startwith=never-reached")
    [exp] = exps.get("experiments", exps.get("items", []))
    assert exp["status"] == "finished"
    assert_exactly_once(env.server, env.key, exp["id"], "m", 500)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_has_a_working_sender(env: Env, tmp_path: Path) -> None:
    proc = run_script(
        """
        import os
        from tora import Tora
        t = Tora.create_experiment("fork")
        for i in range(100):
            t.log("parent", i * 0.5, step=i)
        pid = os.fork()
        if pid == 0:
            for i in range(500):
                t.log("child", i * 0.5, step=i)
            t.shutdown()
            os._exit(0)
        os.waitpid(pid, 0)
        for i in range(100, 200):
            t.log("parent", i * 0.5, step=i)
        t.shutdown()
        print(t.experiment_id)
        """,
        env,
        tmp_path,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    eid = out.split()[0]
    assert_exactly_once(env.server, env.key, eid, "parent", 200)
    assert_exactly_once(env.server, env.key, eid, "child", 500)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_family_creates_one_experiment_when_the_server_comes_late(
    own_server: ToraServer, tmp_path: Path
) -> None:
    key = own_server.create_key()
    script = tmp_path / "family.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from tora import Tora

            def log(name):  # ~3 s: the server comes up meanwhile
                for i in range(500):
                    t.log(name, i * 0.5, step=i)
                    if i % 50 == 0:
                        time.sleep(0.3)
                deadline = time.monotonic() + 60  # a loaded machine may start the server later
                while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
                    time.sleep(0.1)

            t = Tora.create_experiment("family", server_url=sys.argv[1], api_key=sys.argv[2])
            assert t.experiment_id is None  # server still down
            pids = []
            for k in range(2):
                pid = os.fork()
                if pid == 0:
                    log(f"worker{k}")
                    t.shutdown(timeout=60)
                    os._exit(0 if t.delivered == 500 else 3)
                pids.append(pid)
            log("main")
            t.shutdown(timeout=60)
            codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
            print(t.experiment_id, codes, t.delivered)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), own_server.url, key, str(tmp_path / "server-up")],
        env={**os.environ, "PYTHONPATH": PKG_SRC, "TORA_SPOOL_DIR": str(tmp_path / "spool")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    own_server.start()
    (tmp_path / "server-up").touch()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    eid, codes, delivered = out.split(" ", 1)[0], out.split(" ", 1)[1].rsplit(" ", 1)[0], out.split()[-1]
    assert codes == "[0, 0]" and delivered == "500", out
    exps = own_server.api(key, "GET", "/api/experiments?startwith=family")
    items = exps.get("experiments", exps.get("items", []))
    assert [e["id"] for e in items] == [eid]
    for name in ("main", "worker0", "worker1"):
        assert_exactly_once(own_server, key, eid, name, 500)
