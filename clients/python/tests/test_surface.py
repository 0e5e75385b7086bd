"""Pins the public surface: changing it must be a deliberate act."""

import inspect

import tora


def test_all_is_pinned() -> None:
    assert sorted(tora.__all__) == [
        "APIError",
        "AuthError",
        "ConfigError",
        "Image",
        "NotFoundError",
        "Run",
        "Table",
        "Tora",
        "ToraError",
        "TransportError",
        "__version__",
        "finish",
        "flush",
        "get_experiment_id",
        "get_experiment_url",
        "hp_from_tora_format",
        "hp_to_tora_format",
        "init",
        "is_initialized",
        "log",
        "setup",
        "shutdown",
        "tlog",
    ]
    for name in tora.__all__:
        assert hasattr(tora, name)


def test_exception_tree() -> None:
    assert issubclass(tora.ConfigError, tora.ToraError) and issubclass(tora.ConfigError, ValueError)
    assert issubclass(tora.AuthError, tora.APIError) and issubclass(tora.NotFoundError, tora.APIError)
    assert issubclass(tora.APIError, tora.ToraError) and issubclass(tora.TransportError, tora.ToraError)


def test_original_signatures() -> None:
    params = list(inspect.signature(tora.Tora.create_experiment).parameters)
    assert params[:8] == [
        "name",
        "description",
        "hyperparams",
        "tags",
        "workspace_id",
        "server_url",
        "api_key",
        "max_buffer_len",
    ]
    assert list(inspect.signature(tora.Tora.log).parameters) == ["self", "name", "value", "step", "metadata"]
    assert list(inspect.signature(tora.Tora.load_experiment).parameters)[:3] == [
        "experiment_id",
        "server_url",
        "api_key",
    ]
    assert list(inspect.signature(tora.tlog).parameters) == ["name", "value", "step", "metadata"]


def test_py_typed_is_shipped() -> None:
    from importlib import resources

    assert resources.files("tora").joinpath("py.typed").is_file()
