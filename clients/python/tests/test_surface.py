"""Pins the public surface: changing it must be a deliberate act."""

import inspect

import tora


def test_all_is_pinned() -> None:
    assert sorted(tora.__all__) == [
        "APIError",
        "Artifact",
        "AuthError",
        "ConfigError",
        "Histogram",
        "Image",
        "NotFoundError",
        "Run",
        "Table",
        "Tora",
        "ToraError",
        "TransportError",
        "__version__",
        "define_metric",
        "finish",
        "flush",
        "get_experiment_id",
        "get_experiment_url",
        "hp_from_tora_format",
        "hp_to_tora_format",
        "init",
        "is_initialized",
        "log",
        "log_artifact",
        "login",
        "save",
        "setup",
        "shutdown",
        "tlog",
        "unwatch",
        "use_artifact",
        "watch",
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


def test_wandb_signatures() -> None:
    # ``import tora as wandb``: the keywords W&B scripts pass by name.
    init = inspect.signature(tora.init).parameters
    assert list(init)[:6] == ["project", "name", "config", "tags", "group", "notes"]
    assert {"id", "resume", "mode"} <= set(init)
    assert list(inspect.signature(tora.define_metric).parameters)[:2] == ["name", "step_metric"]
    assert {"key", "host"} <= set(inspect.signature(tora.login).parameters)
    assert list(inspect.signature(tora.Tora.shutdown).parameters) == ["self", "timeout", "status"]
    for method in ("set_hyperparams", "update_run_info", "set_status", "log_metrics", "flush"):
        assert callable(getattr(tora.Tora, method)), method


def test_upload_signatures() -> None:
    # Files, directories, images and tables: Tora's own methods and the wandb-style media types.
    assert list(inspect.signature(tora.Tora.log_file).parameters) == ["self", "path", "name"]
    assert list(inspect.signature(tora.Tora.log_artifact).parameters) == ["self", "directory", "prefix"]
    assert list(inspect.signature(tora.Tora.log_image).parameters) == ["self", "name", "image", "step"]
    assert list(inspect.signature(tora.Tora.log_table).parameters) == ["self", "name", "table", "step"]
    assert list(inspect.signature(tora.Image).parameters)[:2] == ["data_or_path", "caption"]
    assert list(inspect.signature(tora.Table).parameters)[:2] == ["columns", "data"]


def test_the_version_is_a_leaf() -> None:
    # _http reads the User-Agent's version from _version, never from the package face.
    from tora import _http, _version

    assert tora.__version__ == _version.__version__
    assert f"tora-python/{tora.__version__}" == _http.USER_AGENT
    source = inspect.getsource(_http)
    assert "from . import" not in source and "from ._version import __version__" in source


def test_py_typed_is_shipped() -> None:
    from importlib import resources

    assert resources.files("tora").joinpath("py.typed").is_file()
