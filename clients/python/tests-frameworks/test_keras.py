"""Keras 3 (torch backend) → Tora: a tiny dense model fits three epochs."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import pytest
from keras.src.callbacks.callback_list import CallbackList

import tora
from conftest import Env
from tora.integrations.keras import ToraCallback


def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    return m


def data() -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


@pytest.mark.integration
def test_fit_logs_each_epoch_and_finishes(env: Env) -> None:
    m = model()
    cb = ToraCallback(name="dense", system_metrics=False, **env.kwargs())
    x, y = data()
    m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[cb])
    assert cb.run is not None and cb.run.id is not None
    eid = cb.run.id
    exp = env.experiment(eid)
    assert exp["status"] == "finished"
    params = {h["key"]: h["value"] for h in exp["hyperparams"]}
    assert params["fit.epochs"] == 3 and params["fit.steps"] == 3
    assert params["optimizer.learning_rate"] == pytest.approx(0.01)
    assert params["model.params"] == m.count_params()
    for name in ("loss", "mae", "val_loss", "val_mae"):
        assert [p["step"] for p in env.points(eid, name)] == [0, 1, 2], name
    assert not any(n.startswith("batch/") for n in env.summaries(eid))
    tora.finish()


@pytest.mark.integration
def test_every_n_batches_on_request(env: Env) -> None:
    m = model()
    cb = ToraCallback(log_every_n_batches=2, name="dense-batches", system_metrics=False, **env.kwargs())
    x, y = data()
    m.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[cb])  # 4 batches per epoch
    assert cb.run is not None and cb.run.id is not None
    assert [p["step"] for p in env.points(cb.run.id, "batch/loss")] == [2, 4, 6, 8]
    tora.finish()


def test_async_dispatch_stays_on_without_batch_logging() -> None:
    m = model()
    epoch_only = CallbackList([ToraCallback(server_url="http://127.0.0.1:9", api_key="x")], model=m)
    per_batch = CallbackList(
        [ToraCallback(log_every_n_batches=5, server_url="http://127.0.0.1:9", api_key="x")], model=m
    )
    assert epoch_only._async_train is True
    assert per_batch._async_train is False
