"""The wandb-shaped API against a real server: ``import tora as wandb`` for the common calls."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from argparse import Namespace
from typing import Any

import pytest

import tora
from conftest import Env
from tora import AuthError

pytestmark = pytest.mark.integration


def hp(env: Env, eid: str) -> dict[str, Any]:
    return {h["key"]: h["value"] for h in env.experiment(eid)["hyperparams"]}


def test_init_log_config_summary_finish(env: Env) -> None:
    import tora as wandb

    run = wandb.init(
        project="cifar-wandb", name="resnet", config={"opt": {"lr": 0.1}, "bs": 32}, tags=["base"],
        group="sweep-3", notes="first try", system_metrics=False, **env.kwargs(),
    )  # fmt: skip
    assert wandb.run is run and wandb.config is run.config
    assert run.config.opt == {"lr": 0.1} and run.config["bs"] == 32
    for i in range(3):
        wandb.log({"loss": 1.0 / (i + 1), "val": {"acc": i / 10}})
    wandb.log({"lr": 0.01}, step=10)
    wandb.log({"lr": 0.02})  # continues after the explicit step
    wandb.log({"a": 1}, commit=False)
    wandb.log({"b": 2})  # same step as "a"
    run.config.epochs = 5
    run.config.update({"opt": {"lr": 0.05, "wd": 1e-4}})
    run.summary["best_acc"] = 0.2
    assert run.summary["loss"] == pytest.approx(1 / 3) and run.summary["best_acc"] == 0.2
    eid = run.id
    assert eid is not None
    wandb.finish()
    assert wandb.run is None

    exp = env.experiment(eid)
    assert exp["name"] == "resnet" and exp["description"] == "first try" and exp["tags"] == ["base"]
    assert exp["group"] == "sweep-3" and exp["status"] == "finished"
    workspaces = env.server.api(env.key, "GET", "/api/workspaces")["workspaces"]
    assert exp["workspaceId"] == next(w["id"] for w in workspaces if w["name"] == "cifar-wandb")
    assert hp(env, eid) == {"opt.lr": 0.05, "opt.wd": 1e-4, "bs": 32, "epochs": 5}
    assert [(p["step"], p["value"]) for p in env.points(eid, "val/acc")] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    assert [p["step"] for p in env.points(eid, "lr")] == [10, 11]
    assert env.points(eid, "a")[0]["step"] == env.points(eid, "b")[0]["step"] == 12
    assert [p["value"] for p in env.points(eid, "summary/best_acc")] == [0.2]


def test_project_reuses_its_workspace_and_config_accepts_a_namespace(env: Env) -> None:
    runs = []
    for _ in range(2):
        run = tora.init(project="shared-proj", config=Namespace(lr=0.3), system_metrics=False, **env.kwargs())
        runs.append(run)
        tora.log({"x": 1.0})
    tora.finish()
    assert runs[0].finished  # a second init finished the first
    ws = {env.experiment(r.id)["workspaceId"] for r in runs if r.id}
    assert len(ws) == 1
    names = [w["name"] for w in env.server.api(env.key, "GET", "/api/workspaces")["workspaces"]]
    assert names.count("shared-proj") == 1
    assert hp(env, runs[1].id or "") == {"lr": 0.3}


def test_non_numbers_are_skipped_with_a_warning(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    with tora.init(name="mixed", system_metrics=False, run_info=False, **env.kwargs()) as run:
        run.log({"loss": 0.5, "sample": "a cat", "img": object()})
        run.log({"loss": 0.4, "sample": "a dog"})
    assert [p["value"] for p in env.points(run.id or "", "loss")] == [0.5, 0.4]
    assert sum("'sample' is a str" in r.getMessage() for r in caplog.records) == 1
    assert env.experiment(run.id or "")["status"] == "finished"


def test_a_project_the_key_may_only_view_is_refused(env: Env) -> None:
    owner_ws = env.server.api(env.key, "POST", "/api/workspaces", {"name": "team"})["id"]
    viewer_key = env.server.create_key(email="viewer@b.c", name="viewer")
    member = {"email": "viewer@b.c", "role": "viewer"}
    env.server.api(env.key, "POST", f"/api/workspaces/{owner_ws}/members", member)
    try:
        tora.init(project="team", system_metrics=False, server_url=env.url, api_key=viewer_key)
    except AuthError as e:  # the viewer may read "team" but not create experiments in it
        assert e.status == 403
    else:
        pytest.fail("a viewer created an experiment")


@pytest.mark.parametrize(("body", "status"), [("raise ValueError('boom')", "failed"), ("pass", "finished")])
def test_a_run_not_finished_by_the_script_is_finished_at_exit(env: Env, body: str, status: str) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        import tora as wandb
        run = wandb.init(name="exit", system_metrics=False, server_url=sys.argv[1], api_key=sys.argv[2])
        wandb.log({{"loss": 1.0}})
        print(run.id, flush=True)
        {body}
        """
    )
    out = subprocess.run([sys.executable, "-c", script, env.url, env.key], capture_output=True, text=True)
    eid = out.stdout.strip().splitlines()[0]
    assert env.experiment(eid)["status"] == status
    assert [p["value"] for p in env.points(eid, "loss")] == [1.0]


def test_an_unreachable_server_does_not_stop_the_script(caplog: pytest.LogCaptureFixture) -> None:
    from toraserver import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    run = tora.init(project="p", name="offline", system_metrics=False, server_url=url, api_key="tora_x")
    run.log({"loss": 1.0})
    run.config.lr = 0.1  # kept, sent once the experiment exists
    assert run.id is None and run.config.lr == 0.1
    assert any("default workspace" in r.getMessage() for r in caplog.records)
    run.client.shutdown_timeout = 1.0
    tora.finish()  # points and status wait in the spool for `tora sync`
    assert run.finished and tora.run is None and run.client.spooled >= 1


def test_log_without_init_says_what_to_do() -> None:
    tora.finish()  # nothing to finish: no error
    with pytest.raises(tora.ToraError, match=r"tora\.init"):
        tora.log({"x": 1})
