"""Nested hyperparameters arrive flat: one comparable value per dotted key."""

from __future__ import annotations

import math
from argparse import Namespace

import numpy as np
import pytest

import tora
from conftest import Env
from tora._flatten import flatten


def test_nested_dicts_become_dotted_keys_and_lists_json_strings() -> None:
    params = {
        "opt": {"name": "adamw", "lr": 3e-4, "betas": (0.9, 0.999), "sched": {"warmup": 100}},
        "layers": [64, 128],
        "seed": 1,
        "amp": True,
        "ckpt": None,
        "empty": {},
    }
    assert flatten(params) == {
        "opt.name": "adamw",
        "opt.lr": 3e-4,
        "opt.betas": "[0.9, 0.999]",
        "opt.sched.warmup": 100,
        "layers": "[64, 128]",
        "seed": 1,
        "amp": True,
        "ckpt": None,
    }


def test_namespaces_numpy_non_finite_and_other_objects() -> None:
    ns = Namespace(lr=np.float32(0.5), steps=np.int64(7), inner=Namespace(depth=3))
    assert flatten(ns) == {"lr": 0.5, "steps": 7, "inner.depth": 3}
    assert flatten({"a": math.nan, "b": [math.inf, np.int64(2)], "c": object}) == {
        "a": "nan",
        "b": '["inf", 2]',
        "c": str(object),
    }
    assert flatten({"shape": np.array([2, 3])}) == {"shape": "[2, 3]"}
    assert flatten({"a": {"b": 1}}, sep="/") == {"a/b": 1}
    with pytest.raises(TypeError):
        flatten([1, 2])


@pytest.mark.integration
def test_create_experiment_sends_nested_hyperparams_flat(env: Env) -> None:
    with tora.Tora.create_experiment(
        "nested", hyperparams={"opt": {"lr": 0.1, "betas": [0.9, 0.99]}, "bs": 32}, run_info=False,
        system_metrics=False, **env.kwargs(),
    ) as t:  # fmt: skip
        assert t.hyperparams == {"opt.lr": 0.1, "opt.betas": "[0.9, 0.99]", "bs": 32}
    assert t.experiment_id is not None
    assert env.experiment(t.experiment_id)["hyperparams"] == [
        {"key": "opt.lr", "value": 0.1},
        {"key": "opt.betas", "value": "[0.9, 0.99]"},
        {"key": "bs", "value": 32},
    ]
