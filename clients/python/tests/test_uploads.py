"""Files, directories, images and tables against a real server: what arrives, when flush() returns,
what the sender thread does instead of the loop, spooling while the server is away, and that a
replayed upload never stores a file twice."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tora
from conftest import Env
from test_media import decode_png
from test_reliability import sync
from tora import Tora, _media
from toraserver import ToraServer, free_port

pytestmark = pytest.mark.integration


def files(server: ToraServer, key: str, eid: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    listed = server.api(key, "GET", f"/api/experiments/{eid}/files?prefix={prefix}")["files"]
    return {f["path"]: f for f in listed}


def media(server: ToraServer, key: str, eid: str, name: str) -> list[dict[str, Any]]:
    return list(server.api(key, "GET", f"/api/experiments/{eid}/media?name={name}")["media"])


def download(server: ToraServer, key: str, eid: str, path: str) -> bytes:
    req = urllib.request.Request(f"{server.url}/api/experiments/{eid}/files/{path}")
    req.add_header("x-api-key", key)
    with urllib.request.urlopen(req, timeout=30) as r:
        return bytes(r.read())


def image(seed: int, shape: tuple[int, ...] = (32, 48, 3)) -> Any:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def test_files_directories_and_images_arrive(env: Env, tmp_path: Path) -> None:
    weights = tmp_path / "last.pt"
    weights.write_bytes(b"\x00\x01" * 5000)
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "config.json").write_text('{"a": 1}')
    (out / "sub" / "notes.txt").write_text("hello")
    png = _media.array_to_png(image(9))
    png_file = tmp_path / "curve.png"
    png_file.write_bytes(png)
    t = Tora.create_experiment("uploads", system_metrics=False, **env.kwargs())
    t.log_file(weights)
    t.log_file(weights, name="weights/best.pt")
    t.log_artifact(out, prefix="model")
    t.log_artifact(out)
    arrays = [image(i) for i in range(3)]
    for step, a in enumerate(arrays):
        t.log_image("samples", a, step=step * 10)
    t.log_image("grey", np.linspace(0, 1, 12, dtype=np.float64).reshape(3, 4))  # step 0
    t.log_image("grey", image(5, (3, 4)))  # step 1: the next of that name
    t.log_image("val/bytes", png, step=7)
    t.log_image("val/path", str(png_file), step=8)
    assert t.flush(timeout=60)
    eid = str(t.experiment_id)

    listed = files(env.server, env.key, eid)
    expected = {"last.pt", "weights/best.pt", "model/config.json", "model/sub/notes.txt", "config.json",
                "sub/notes.txt"}  # fmt: skip
    assert expected <= set(listed)
    assert listed["weights/best.pt"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert download(env.server, env.key, eid, "model/sub/notes.txt") == b"hello"

    logged = media(env.server, env.key, eid, "samples")
    assert [(m["step"], m["width"], m["height"], m["contentType"]) for m in logged] == [
        (s, 48, 32, "image/png") for s in (0, 10, 20)
    ]
    for m, a in zip(logged, arrays):  # every pixel as logged
        width, height, _, pixels = decode_png(download(env.server, env.key, eid, m["path"]))
        assert (width, height, pixels) == (48, 32, a.tobytes())
    assert [(m["step"], m["width"]) for m in media(env.server, env.key, eid, "grey")] == [(0, 4), (1, 4)]
    [b] = media(env.server, env.key, eid, "val/bytes")
    [p] = media(env.server, env.key, eid, "val/path")
    assert (b["step"], p["step"]) == (7, 8)
    assert download(env.server, env.key, eid, p["path"]) == png
    assert t.uploaded == 2 + 4 + 3 + 2 + 2
    t.shutdown()


def test_wandb_style_image_and_table(env: Env) -> None:
    run = tora.init(project="media-wandb", system_metrics=False, **env.kwargs())
    table = tora.Table(columns=["id", "label"], data=[[1, "cat"]])
    tora.log({"loss": 0.5, "samples": tora.Image(image(1)), "preds": table})
    tora.log({"loss": 0.25, "val": {"samples": tora.Image(image(2))}}, step=5)
    table.add_data(2, "dog")  # after logging: the logged copy does not change
    tora.finish()
    eid = str(run.id)
    assert [m["step"] for m in media(env.server, env.key, eid, "samples")] == [0]
    assert [m["step"] for m in media(env.server, env.key, eid, "val/samples")] == [5]
    assert download(env.server, env.key, eid, "tables/preds/0.csv") == b"id,label\n1,cat\n"
    assert [p["value"] for p in env.points(eid, "loss")] == [0.5, 0.25]


def test_encoding_and_sending_happen_on_the_sender_thread(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = _media.encode_png

    def recording(*args: Any, **kwargs: Any) -> bytes:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(_media, "encode_png", recording)
    t = Tora.create_experiment("threads", system_metrics=False, **env.kwargs())
    t.log_image("x", image(3), step=0)
    assert threads == []  # the call only checked and copied
    assert t.flush(timeout=30)
    assert threads == ["tora-sender"]
    t.shutdown()


def test_flush_waits_for_a_large_file(env: Env, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(np.random.default_rng(0).bytes(32 * 1024 * 1024))
    t = Tora.create_experiment("flush-waits", system_metrics=False, **env.kwargs())
    t.log_file(big)
    assert t.flush(timeout=120)
    listed = files(env.server, env.key, str(t.experiment_id))  # no waiting: flush() did
    assert listed["big.bin"]["size"] == 32 * 1024 * 1024
    t.shutdown()


def test_a_refused_upload_is_reported_and_the_rest_arrives(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    t = Tora.create_experiment("refused", system_metrics=False, **env.kwargs())
    with caplog.at_level(logging.ERROR, logger="tora"):
        t.log_image("a/../b", image(1), step=0)  # no such path on the server
        t.log_image("ok", image(2), step=0)
        t.log("m", 1.0, step=0)
        assert t.flush(timeout=30)
    eid = str(t.experiment_id)
    assert len(media(env.server, env.key, eid, "ok")) == 1
    assert len(env.points(eid, "m")) == 1
    assert any("refused image 'a/../b'" in r.getMessage() for r in caplog.records)
    t.shutdown()


def test_an_upload_that_fails_on_the_sender_is_reported_and_the_sender_goes_on(
    env: Env, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone, changed = tmp_path / "gone.png", tmp_path / "changed.png"
    for f in (gone, changed):
        f.write_bytes(_media.array_to_png(image(1)))
    t = Tora.create_experiment("fails-later", system_metrics=False, flush_interval=3600, **env.kwargs())
    with caplog.at_level(logging.ERROR, logger="tora"):
        t.log_image("gone", gone, step=0)
        t.log_file(gone, name="gone.bin")
        t.log_image("changed", changed, step=0)
        gone.unlink()  # after the call, before the sender reads it
        changed.write_text("no longer an image")
        t.log("m", 1.0, step=0)
        assert t.flush(timeout=30)
        t.log("m", 2.0, step=1)  # the sender is still alive
        assert t.flush(timeout=30)
    eid = str(t.experiment_id)
    assert [p["value"] for p in env.points(eid, "m")] == [1.0, 2.0]
    assert files(env.server, env.key, eid) == {} and t.uploaded == 0
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "image 'gone' at step 0 not uploaded" in messages and "file 'gone.bin' not uploaded" in messages
    assert "is not a PNG, JPEG, WebP or GIF image" in messages
    t.shutdown()


def test_bad_arguments_raise_at_the_call(env: Env, tmp_path: Path) -> None:
    t = Tora.create_experiment("bad-args", system_metrics=False, **env.kwargs())
    with pytest.raises(ValueError, match="not a file"):
        t.log_file(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="relative path"):
        t.log_file(__file__, name="../escape.py")
    with pytest.raises(ValueError, match="not a directory"):
        t.log_artifact(tmp_path / "missing")
    with pytest.raises(ValueError, match="HxW"):
        t.log_image("x", np.zeros((2, 2, 7), dtype=np.uint8))
    with pytest.raises(ValueError):
        t.log_image("x", image(0), step=-1)
    t.shutdown()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ToraServer]:
    data = tmp_path / "data"
    data.mkdir()
    srv = ToraServer(data)
    yield srv
    srv.stop(signal.SIGKILL)


def test_server_down_uploads_are_spooled_then_replayed_once(own_server: ToraServer, tmp_path: Path) -> None:
    """Logged while the server is down: spooled with their bytes. The run's own sender replays
    them when the server is back; replaying a copy of the same spool (a retry of every upload)
    stores nothing twice."""
    key = own_server.create_key()
    own_server.start()
    t = Tora.create_experiment("spooled", server_url=own_server.url, api_key=key, system_metrics=False)
    own_server.stop()
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"w" * 10_000)
    arrays = [image(i) for i in range(3)]
    for step, a in enumerate(arrays):
        t.log_image("samples", a, step=step)
        t.log("loss", 1.0 / (step + 1), step=step)
    t.log_file(weights, name="weights/best.pt")
    assert t.flush(timeout=30)
    weights.unlink()  # the spool holds its own copy
    assert t.uploaded == 0 and t._batcher.uploads_spooled == 4
    copy = tmp_path / "spool-copy"
    shutil.copytree(tmp_path / "spool", copy)

    own_server.start()
    assert t.flush(timeout=30)
    t.shutdown(timeout=30)
    eid = str(t.experiment_id)
    assert t.uploaded == 4 and t._batcher.uploads_spooled == 0
    assert [m["step"] for m in media(own_server, key, eid, "samples")] == [0, 1, 2]
    assert download(own_server, key, eid, "weights/best.pt") == b"w" * 10_000

    # Every upload again, as a retry would send it.
    shutil.rmtree(tmp_path / "spool")
    shutil.copytree(copy, tmp_path / "spool")
    out = sync(own_server.url, key)
    assert out.returncode == 0, out.stderr
    assert "media samples" in out.stdout and "files weights/best.pt" in out.stdout
    logged = media(own_server, key, eid, "samples")
    assert [m["step"] for m in logged] == [0, 1, 2]
    for m, a in zip(logged, arrays):
        assert decode_png(download(own_server, key, eid, m["path"]))[3] == a.tobytes()
    assert sorted(files(own_server, key, eid, "media/samples/")) == [m["path"] for m in logged]
    assert list(files(own_server, key, eid, "weights/")) == ["weights/best.pt"]
    assert len(own_server.points(key, eid, "loss")) == 3


def test_uploads_of_a_run_that_never_reached_the_server(env: Env, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with Tora.create_experiment("never-reached-files", server_url=dead, api_key=env.key) as t:
        t.log_image("samples", image(4), step=3)
        t.log_artifact(Path(__file__).parent / "fixtures" / "proc-t0", prefix="proc")
    assert t.experiment_id is None
    out = sync(env.url, env.key)
    assert out.returncode == 0, out.stderr
    exps = env.server.api(env.key, "GET", "/api/experiments?startwith=never-reached-files")
    [exp] = exps.get("experiments", exps.get("items", []))
    assert [m["step"] for m in media(env.server, env.key, exp["id"], "samples")] == [3]
    assert "proc/self/status" in files(env.server, env.key, exp["id"], "proc/")


def test_uploads_and_changes_keep_their_call_order(tmp_path: Path) -> None:
    # One delivery path: an upload is sent (here: spooled, then replayed) after the points logged
    # before it and in call order with the experiment's changes, never regrouped after them.
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"w" * 100)
    t = Tora.create_experiment("order", offline=True, spool_dir=tmp_path / "order", system_metrics=False)
    t.log("loss", 1.0, step=0)
    t.log_file(weights)
    t.set_hyperparams({"lr": 0.1})
    t.log_image("samples", image(1), step=0)
    t.update_run_info({"stage": "eval"})
    assert t.flush(timeout=30)
    docs = [json.loads(p.read_text()) for p in t._batcher.spool.files(t._batcher.local_id)]
    t.shutdown(timeout=30)
    kinds = [d.get("kind", "points") + ":" + str(d.get("target", "")) for d in docs]
    start = kinds.index("points:")
    assert kinds[start:] == ["points:", "upload:weights.pt", "update:", "upload:samples", "update:"], kinds
    assert docs[start + 2]["batch"] == {"hyperparams": [{"key": "lr", "value": 0.1}]}


def test_a_file_over_the_servers_limit_is_refused_once_not_retried(
    own_server: ToraServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own_server.env["TORA_MAX_ARTIFACT_BYTES"] = str(1024 * 1024)
    key = own_server.create_key()
    own_server.start()
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (8 * 1024 * 1024))
    t = Tora.create_experiment("too-big", server_url=own_server.url, api_key=key, system_metrics=False)
    with caplog.at_level(logging.ERROR, logger="tora"):
        t.log_file(big)
        t.log_file(__file__, name="small.py")
        assert t.flush(timeout=60)
    eid = str(t.experiment_id)
    assert list(files(own_server, key, eid)) == ["small.py"]
    assert t._batcher.mode == "live" and t._batcher.uploads_spooled == 0  # not kept for a retry
    assert any("refused file 'big.bin'" in r.getMessage() and "413" in r.getMessage() for r in caplog.records)
    t.shutdown()


def test_offline_run_spools_images_files_and_tables_for_sync(env: Env, tmp_path: Path) -> None:
    import uuid

    name = f"offline-files-{uuid.uuid4().hex[:8]}"
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    run = tora.init(name=name, mode="offline", system_metrics=False)
    tora.log({"loss": 0.5, "samples": tora.Image(image(6)), "preds": tora.Table(columns=["a"], data=[[1]])})
    run.client.log_file(weights, name="weights/w.pt")
    tora.finish()
    weights.unlink()  # spooled with its own copy
    assert run.id is None and run.client.uploaded == 0

    out = sync(env.url, env.key)
    assert out.returncode == 0, out.stderr
    exps = env.server.api(env.key, "GET", f"/api/experiments?startwith={name}")
    [exp] = exps.get("experiments", exps.get("items", []))
    eid = exp["id"]
    [m] = media(env.server, env.key, eid, "samples")
    assert m["step"] == 0
    assert decode_png(download(env.server, env.key, eid, m["path"]))[3] == image(6).tobytes()
    assert download(env.server, env.key, eid, "tables/preds/0.csv") == b"a\n1\n"
    assert download(env.server, env.key, eid, "weights/w.pt") == b"weights"
    assert [p["value"] for p in env.points(eid, "loss")] == [0.5]


def test_images_queued_in_memory_are_bounded_and_the_loop_waits_with_a_warning(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past TORA_UPLOAD_MEMORY_MB of images waiting for the sender, log_image waits for it (warned
    once) instead of piling copies up in memory; everything still arrives."""
    real = _media.encode_png

    def slow(*args: Any, **kwargs: Any) -> bytes:  # a sender slower than the loop
        time.sleep(0.05)
        return real(*args, **kwargs)

    monkeypatch.setattr(_media, "encode_png", slow)
    monkeypatch.setenv("TORA_UPLOAD_MEMORY_MB", "0.5")  # 524,288 bytes: two 196,608-byte images
    t = Tora.create_experiment("memory-bound", system_metrics=False, **env.kwargs())
    bound = t._batcher.upload_memory
    assert bound.limit == 524_288
    peak = 0
    with caplog.at_level(logging.WARNING, logger="tora"):
        for step in range(12):
            t.log_image("big", image(step, (256, 256, 3)), step=step)
            peak = max(peak, bound.queued)
        assert t.flush(timeout=60)
    assert peak <= bound.limit
    assert bound.waits > 0 and bound.queued == 0
    warnings = [r.getMessage() for r in caplog.records if "TORA_UPLOAD_MEMORY_MB" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert [m["step"] for m in media(env.server, env.key, str(t.experiment_id), "big")] == list(range(12))
    t.shutdown()


def test_an_image_larger_than_the_bound_waits_for_an_empty_queue_then_goes(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORA_UPLOAD_MEMORY_MB", "0.1")
    t = Tora.create_experiment("memory-bound-one", system_metrics=False, **env.kwargs())
    for step in range(3):
        t.log_image("huge", image(step, (256, 256, 3)), step=step)  # each 196,608 bytes > 104,857
    assert t.flush(timeout=60)
    assert t._batcher.upload_memory.queued == 0
    assert len(media(env.server, env.key, str(t.experiment_id), "huge")) == 3
    t.shutdown()
