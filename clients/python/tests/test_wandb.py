"""``import tora as wandb``: the rest of wandb's surface (modes, resume, define_metric, no-ops),
and where each run is said to be, against a real server."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tora
from conftest import Env
from test_reliability import PKG_SRC, sync

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fresh_process_warnings() -> None:
    # The no-ops warn once per process; each test here starts as a fresh process would.
    from tora import _wandb

    _wandb._warned.clear()


def experiments(env: Env, named: str) -> list[dict[str, Any]]:
    """The user's experiments whose name contains ``named`` (the user is shared by the session)."""
    page = env.server.api(env.key, "GET", f"/api/experiments?limit=500&startwith={named}")
    return list(page["experiments"])


def test_define_metric_is_kept_as_the_charts_x_axis(env: Env) -> None:
    import tora as wandb

    run = wandb.init(name="dm", system_metrics=False, **env.kwargs())
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch")
    run.define_metric("train/loss", step_metric="train/step", summary="min")
    wandb.log({"val/acc": 0.5, "epoch": 1})
    wandb.finish()
    info = env.experiment(run.id or "")["runInfo"]
    assert info["x_axis.val/*"] == "epoch" and info["x_axis.train/loss"] == "train/step"
    assert "x_axis.epoch" not in info
    assert "host" in info  # what was captured at creation is kept beside them


def test_disabled_logs_nothing_and_every_call_works(env: Env, capfd: pytest.CaptureFixture[str]) -> None:
    import tora as wandb

    name = f"disabled-{uuid.uuid4().hex[:8]}"
    run = wandb.init(project="never-made", name=name, mode="disabled", config={"lr": 0.1}, **env.kwargs())
    assert wandb.run is run and run.id is None and run.url is None
    wandb.config.update({"bs": 8})
    wandb.define_metric("loss", step_metric="epoch")
    image, table = wandb.Image(np.zeros((2, 2, 3), np.uint8)), wandb.Table(columns=["a"])
    wandb.log({"loss": 1.0, "samples": image, "t": table})
    run.summary["best"] = 1.0
    wandb.watch(object())
    run.client.log_file("no/such/file")  # uploads too: taken, nothing read or sent
    run.client.log_artifact("no/such/dir", prefix="model")
    run.client.log_image("samples", b"", step=0)
    run.client.log_table("t", wandb.Table(columns=["a"], data=[[1]]))
    assert run.client.uploaded == 0 and run.client.flush()
    wandb.finish()
    assert experiments(env, name) == []
    names = [w["name"] for w in env.server.api(env.key, "GET", "/api/workspaces")["workspaces"]]
    assert "never-made" not in names
    assert "Tora:" not in capfd.readouterr().err


def test_offline_spools_and_sync_delivers(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import tora as wandb

    # Offline needs no server URL or key: `tora sync` takes them.
    name = f"offline-{uuid.uuid4().hex[:8]}"  # the server's user is shared by the whole session
    run = wandb.init(name=name, mode="offline", config={"lr": 0.2}, system_metrics=False)
    for i in range(3):
        wandb.log({"loss": 1.0 / (i + 1)})
    run.config.update({"bs": 4})
    wandb.finish()
    assert run.id is None and experiments(env, name) == []
    assert run.client.spooled == 3

    out = sync(env.url, env.key)
    assert out.returncode == 0, out.stderr
    made = experiments(env, name)
    assert len(made) == 1
    eid = made[0]["id"]
    assert [p["value"] for p in env.points(eid, "loss")] == [1.0, 0.5, pytest.approx(1 / 3)]
    exp = env.experiment(eid)
    assert exp["status"] == "finished"
    assert {h["key"]: h["value"] for h in exp["hyperparams"]} == {"lr": 0.2, "bs": 4}


def test_resume_continues_the_run_at_its_next_step(env: Env) -> None:
    import tora as wandb

    first = wandb.init(name="long", config={"lr": 0.1}, **env.kwargs())
    for _ in range(3):
        wandb.log({"loss": 1.0})
    eid = first.id
    assert eid is not None
    wandb.finish()

    again = wandb.init(id=eid, resume="allow", config={"epochs": 2}, system_metrics=False, **env.kwargs())
    assert again.id == eid and again.name == "long" and again.config["lr"] == 0.1
    assert env.experiment(eid)["status"] == "running"
    wandb.log({"loss": 0.5})
    wandb.log({"loss": 0.25})
    wandb.finish()
    assert [(p["step"], p["value"]) for p in env.points(eid, "loss")] == [
        (0, 1.0), (1, 1.0), (2, 1.0), (3, 0.5), (4, 0.25),
    ]  # fmt: skip
    exp = env.experiment(eid)
    assert exp["status"] == "finished"
    assert {h["key"]: h["value"] for h in exp["hyperparams"]} == {"lr": 0.1, "epochs": 2}


def test_resume_of_a_run_that_does_not_exist(env: Env) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(tora.NotFoundError):
        tora.init(id=missing, resume="must", system_metrics=False, **env.kwargs())
    run = tora.init(id=missing, resume="allow", name="fresh", system_metrics=False, **env.kwargs())
    assert run.id not in (None, missing)
    tora.finish()
    assert env.experiment(run.id or "")["name"] == "fresh"


def test_no_ops_warn_once_and_never_raise(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    import tora as wandb

    caplog.set_level(logging.WARNING, logger="tora")
    run = wandb.init(name="no-ops", system_metrics=False, **env.kwargs())
    for _ in range(2):
        wandb.watch(object(), log="all", log_freq=10)
        run.watch(object())
        hist = wandb.Histogram([1, 2, 3])
        wandb.log({"grads": hist, "loss": 1.0})
        art = wandb.Artifact("model", type="model", metadata={"acc": 1})
        art.add_file(__file__)
        with art.new_file("notes.txt") as f:
            f.write("hi")
        run.log_artifact(art)
        assert wandb.use_artifact("model:latest") == "model:latest"
        assert wandb.save("*.pt") == [] and run.save("x") == []
        wandb.unwatch()
    wandb.finish()
    text = [r.getMessage() for r in caplog.records]
    for word in ("wandb.watch", "wandb.Histogram", "wandb.Artifact", "log_artifact", "wandb.save"):
        assert sum(word in t for t in text) == 1, (word, text)
    assert [p["value"] for p in env.points(run.id or "", "loss")] == [1.0, 1.0]


def test_login_writes_the_config_that_init_then_uses(env: Env, tmp_path: Path) -> None:
    import tora as wandb

    with pytest.raises(tora.ConfigError):
        wandb.login()  # nothing configured yet
    assert wandb.login(key=env.key, host=env.url) is True
    assert wandb.login() is True
    run = wandb.init(name="after-login", system_metrics=False)  # no server_url/api_key passed
    wandb.finish()
    assert env.experiment(run.id or "")["name"] == "after-login"


def test_each_run_says_once_where_it_is(env: Env, capfd: pytest.CaptureFixture[str]) -> None:
    run = tora.init(project="found-you", name="resnet-lr0.01", system_metrics=False, **env.kwargs())
    tora.log({"loss": 1.0})
    tora.finish()
    again = tora.init(project="found-you", name="second", system_metrics=False, **env.kwargs())
    tora.finish()
    err = capfd.readouterr().err
    assert err.count(f"Tora: run resnet-lr0.01 \u2192 {env.url}/experiments/{run.id}\n") == 1
    assert err.count(f"Tora: run second \u2192 {env.url}/experiments/{again.id}\n") == 1
    assert err.count("Tora: created workspace 'found-you'") == 1  # the second init found it


def test_tora_quiet_silences_the_client(
    env: Env, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORA_QUIET", "1")
    tora.init(project="quiet-ws", name="shh", system_metrics=False, **env.kwargs())
    tora.finish()
    t = tora.Tora.create_experiment("shh-too", system_metrics=False, **env.kwargs())
    t.shutdown()
    assert "Tora:" not in capfd.readouterr().err


def test_a_run_created_when_the_server_comes_back_says_where_it_is(tmp_path: Path) -> None:
    from toraserver import ToraServer

    data = tmp_path / "data"
    data.mkdir()
    srv = ToraServer(data)
    key = srv.create_key()
    script = textwrap.dedent(
        """
        import sys, time
        import tora
        t = tora.Tora.create_experiment("late", server_url=sys.argv[1], api_key=sys.argv[2],
                                        system_metrics=False, run_info=False)
        print("READY", flush=True)
        sys.stdin.readline()
        t.log("x", 1.0, step=0)
        assert t.flush(timeout=60)
        deadline = time.monotonic() + 60
        while t.experiment_id is None and time.monotonic() < deadline:
            t.log("x", 1.0, step=0)
            t.flush(timeout=5)
            time.sleep(0.2)
        print(t.experiment_id, flush=True)
        t.shutdown()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, srv.url, key],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": PKG_SRC},
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        srv.start()
        out, err = proc.communicate("go\n", timeout=120)
    finally:
        proc.kill()
        srv.stop()
    eid = out.strip().splitlines()[-1]
    assert err.count(f"Tora: run late \u2192 {srv.url}/experiments/{eid}") == 1, err


SWEEP = """
import random
import tora as wandb

sweep = [{"lr": lr, "dropout": d} for lr in (0.1, 0.01) for d in (0.0, 0.5)]
for i, params in enumerate(sweep):
    run = wandb.init(project="sweep-proj", group="GROUP", name=f"trial-{i}", config=params, reinit=True)
    config = wandb.config
    for epoch in range(3):
        loss = 1.0 / (epoch + 1) * config.lr * 10
        wandb.log({"epoch": epoch, "loss": loss, "val": {"acc": 1 - loss}})
    run.summary["final_loss"] = loss
    wandb.finish()
"""


def test_a_sweep_like_wandb_script_runs_unchanged_but_for_the_import(env: Env, tmp_path: Path) -> None:
    script = tmp_path / "sweep.py"
    group = f"sweep-{uuid.uuid4().hex[:8]}"  # the server's user is shared by the whole session
    script.write_text(SWEEP.replace("GROUP", group))
    out = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "TORA_BASE_URL": env.url, "TORA_API_KEY": env.key, "TORA_SYSTEM_METRICS": "0"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    trials = sorted(
        (e for e in experiments(env, "trial-") if e.get("group") == group), key=lambda e: str(e["name"])
    )
    assert [e["name"] for e in trials] == ["trial-0", "trial-1", "trial-2", "trial-3"]
    assert all(e["status"] == "finished" for e in trials)
    for e, lr in zip(trials, (0.1, 0.1, 0.01, 0.01)):
        assert [p["step"] for p in env.points(e["id"], "loss")] == [0, 1, 2]
        assert env.points(e["id"], "val/acc")[0]["value"] == pytest.approx(1 - lr * 10)
        assert len(env.points(e["id"], "summary/final_loss")) == 1
    assert out.stderr.count("Tora: run trial-") == 4
