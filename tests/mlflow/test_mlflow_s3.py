"""The real `mlflow` client logging and downloading artifacts through a Tora server whose files live
in an S3-compatible bucket (SeaweedFS, built and started by scripts/seaweedfs.mjs): a multipart
upload streamed in, the same bytes out, nothing on the server's disk."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient

from conftest import REPO, User
from toraserver import ToraServer, build_if_needed


@pytest.fixture(scope="module")
def s3_tora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToraServer]:
    build_if_needed()
    started = subprocess.run(
        ["node", str(REPO / "scripts" / "seaweedfs.mjs"), "start"], check=True, capture_output=True, text=True
    )
    s3: dict[str, Any] = json.loads(started.stdout.strip().splitlines()[-1])
    try:
        srv = ToraServer(tmp_path_factory.mktemp("tora-s3-data"))
        srv.env.update(
            {
                "TORA_ALLOW_SIGNUP": "true",
                "TORA_ARTIFACT_STORE": f"s3://{s3['bucket']}/{uuid.uuid4().hex}",
                "TORA_S3_ENDPOINT": s3["endpoint"],
                "AWS_ACCESS_KEY_ID": s3["accessKeyId"],
                "AWS_SECRET_ACCESS_KEY": s3["secretAccessKey"],
            }
        )
        srv.start()
        yield srv
        srv.stop()
    finally:
        ports = [str(p) for p in s3["grpcPorts"]]
        subprocess.run(["node", str(REPO / "scripts" / "seaweedfs.mjs"), "stop", s3["dir"], str(s3["pid"]), *ports], check=True)


def test_artifacts_through_the_s3_store(s3_tora: ToraServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = User(s3_tora, f"{uuid.uuid4().hex[:10]}@example.com")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", s3_tora.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", user.key)
    mlflow.set_tracking_uri(s3_tora.url)
    health = s3_tora.api(user.key, "GET", "/api/health")
    assert health["fileStore"] == "s3"

    mlflow.set_experiment("s3")
    # Over one 8 MiB part: sent to the bucket as a multipart upload.
    weights = bytes(range(256)) * (12 * 4096 + 7)
    (tmp_path / "weights.bin").write_bytes(weights)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(tmp_path / "weights.bin"), artifact_path="model")
        mlflow.log_text("hello tora", "notes/hello.txt")
    run_id = run.info.run_id

    client = MlflowClient()
    assert {(f.path, f.is_dir) for f in client.list_artifacts(run_id)} == {("model", True), ("notes", True)}
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "model")] == [("model/weights.bin", len(weights))]
    out = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "down")))
    assert (out / "model" / "weights.bin").read_bytes() == weights
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello tora"
    # Nothing on the server's disk: the bytes are in the bucket.
    artifacts = s3_tora.data_dir / "artifacts"
    assert not artifacts.exists() or not any(artifacts.iterdir())
    mlflow.end_run()
