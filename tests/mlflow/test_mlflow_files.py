"""What the real `mlflow` client logs as images, figures and files shows through Tora's own
files and media routes (the other door to the same files), and downloads back whole."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from conftest import User
from PIL import Image

import mlflow


def download(tora: Any, user: User, path: str) -> tuple[bytes, dict[str, str]]:
    req = urllib.request.Request(tora.url + path, headers={"x-api-key": user.key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(), {k.lower(): v for k, v in r.headers.items()}


def test_log_image_by_key_and_step_is_media_and_figures_are_files(
    tora: Any, mlflow_env: User, tmp_path: Path
) -> None:
    mlflow.set_experiment("media")
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01" * 5000)
    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    ax.plot([0, 1, 2], [3, 1, 2])
    with mlflow.start_run() as run:
        for step in range(5):
            img = np.full((12, 20, 3), step * 40, dtype=np.uint8)
            mlflow.log_image(img, key="val/samples", step=step)
        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), "static/one.png")
        mlflow.log_figure(fig, "plots/curve.png")
        mlflow.log_artifact(str(tmp_path / "weights.bin"), artifact_path="ckpt")
        mlflow.log_text("epoch,loss\n1,0.5\n", "tables/loss.csv")
    run_id = run.info.run_id

    media = mlflow_env.api("GET", f"/api/experiments/{run_id}/media?name=val/samples")["media"]
    assert [(m["step"], m["width"], m["height"], m["contentType"]) for m in media] == [
        (s, 20, 12, "image/png") for s in range(5)
    ]
    assert all(m["thumbnailPath"] and m["thumbnailPath"].endswith("compressed.webp") for m in media)
    # The step-3 image, through Tora's files route, is the one MLflow logged.
    body, headers = download(
        tora, mlflow_env, f"/api/experiments/{run_id}/files/{urllib.request.quote(media[3]['path'])}"
    )
    assert headers["content-type"] == "image/png"
    assert headers["content-disposition"].startswith("attachment")
    assert np.asarray(Image.open(io.BytesIO(body))).max() == 120
    assert headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'

    files = {f["path"]: f for f in mlflow_env.api("GET", f"/api/experiments/{run_id}/files")["files"]}
    assert files["plots/curve.png"]["contentType"] == "image/png"
    assert files["static/one.png"]["contentType"] == "image/png"
    assert files["tables/loss.csv"]["contentType"] == "text/csv"
    assert files["ckpt/weights.bin"]["size"] == 10000
    assert files["ckpt/weights.bin"]["sha256"] == hashlib.sha256(b"\x00\x01" * 5000).hexdigest()
    # Only log_image(key=, step=) makes media; a figure or a named image is a file with a preview.
    assert {m["name"] for m in mlflow_env.api("GET", f"/api/experiments/{run_id}/media")["media"]} == {
        "val/samples"
    }

    # The whole run back through MLflow: every file, byte for byte, as Tora lists them.
    out = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "down")))
    got = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(got) == set(files)
    for path, f in files.items():
        assert hashlib.sha256(got[path]).hexdigest() == f["sha256"], path


def test_files_put_through_tora_download_through_mlflow(tora: Any, mlflow_env: User, tmp_path: Path) -> None:
    mlflow.set_experiment("tora-door")
    with mlflow.start_run() as run:
        mlflow.log_metric("x", 1.0)
    run_id = run.info.run_id
    req = urllib.request.Request(
        f"{tora.url}/api/experiments/{run_id}/files/notes/from-tora.txt",
        data=b"written by tora",
        method="PUT",
        headers={"x-api-key": mlflow_env.key, "content-type": "text/plain"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/from-tora.txt") == "written by tora"
