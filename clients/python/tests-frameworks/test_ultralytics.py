"""Ultralytics YOLO → Tora: a YOLOv8n built from its bundled config trains two epochs on a
six-image dataset made here (64-px images, one box each); nothing is downloaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import tora
from conftest import Env


def dataset(root: Path) -> Path:
    from PIL import Image

    images, labels = root / "images" / "train", root / "labels" / "train"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        img = np.full((64, 64, 3), 40, dtype=np.uint8)
        x, y = rng.integers(8, 40, size=2)
        img[y : y + 16, x : x + 16] = 220
        Image.fromarray(img).save(images / f"{i}.jpg")
        (labels / f"{i}.txt").write_text(f"0 {(x + 8) / 64} {(y + 8) / 64} 0.25 0.25\n")
    data = root / "data.yaml"
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/train\nnames:\n  0: square\n")
    return data


@pytest.mark.integration
def test_yolo_logs_args_losses_lr_and_val_metrics(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    from tora.integrations.ultralytics import add_tora_callbacks

    model = YOLO("yolov8n.yaml")
    cb = add_tora_callbacks(model, project="yolo", system_metrics=False, **env.kwargs())
    model.train(
        data=str(dataset(tmp_path / "ds")), epochs=2, imgsz=64, batch=2, workers=0, device="cpu", plots=True,
        amp=False, project=str(tmp_path / "runs"), name="tiny", exist_ok=True, verbose=False, val=True,
    )  # fmt: skip
    assert cb.run is not None and cb.run.id is not None
    eid = cb.run.id
    exp = env.experiment(eid)
    assert exp["name"] == "tiny" and exp["status"] == "finished"
    params = {h["key"]: h["value"] for h in exp["hyperparams"]}
    assert params["epochs"] == 2 and params["imgsz"] == 64 and params["batch"] == 2
    names = set(env.summaries(eid))
    assert {"train/box_loss", "train/cls_loss", "lr/pg0", "val/box_loss", "metrics/mAP50(B)"} <= names
    assert [p["step"] for p in env.points(eid, "train/box_loss")] == [1, 2]
    assert [p["step"] for p in env.points(eid, "metrics/mAP50(B)")] == [1, 2]
    assert len(env.points(eid, "summary/metrics/mAP50(B)")) == 1  # the best weights' final validation
    # The run directory's plots, its results.csv and the best weights, as they are on disk.
    run_dir = tmp_path / "runs" / "tiny"
    listed = files(env, eid)
    plots = sorted(p.name for p in [*run_dir.glob("*.png"), *run_dir.glob("*.jpg")])
    assert {"results.png", "confusion_matrix.png"} <= set(plots)
    assert sorted(p[len("plots/") :] for p in listed if p.startswith("plots/")) == plots
    best = run_dir / "weights" / "best.pt"
    assert listed["weights/best.pt"]["sha256"] == hashlib.sha256(best.read_bytes()).hexdigest()
    assert listed["results.csv"]["size"] == (run_dir / "results.csv").stat().st_size
    tora.finish()


def files(env: Env, eid: str) -> dict[str, dict[str, object]]:
    return {f["path"]: f for f in env.server.api(env.key, "GET", f"/api/experiments/{eid}/files")["files"]}


@pytest.mark.integration
def test_yolo_uploads_nothing_when_told_not_to(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    from tora.integrations.ultralytics import add_tora_callbacks

    model = YOLO("yolov8n.yaml")
    cb = add_tora_callbacks(model, log_plots=False, log_model=False, system_metrics=False, **env.kwargs())
    model.train(
        data=str(dataset(tmp_path / "ds")), epochs=1, imgsz=64, batch=2, workers=0, device="cpu", plots=True,
        amp=False, project=str(tmp_path / "runs"), name="bare", exist_ok=True, verbose=False, val=True,
    )  # fmt: skip
    assert cb.run is not None and cb.run.id is not None
    assert (tmp_path / "runs" / "bare" / "weights" / "best.pt").is_file()
    assert files(env, cb.run.id) == {}
    tora.finish()
