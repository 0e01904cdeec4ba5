"""Server settings from the environment and the command line, and ``newsdesk serve`` refusing bad ones."""

from __future__ import annotations

import json
import logging
import logging.config
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.api_fixtures import clean_environment, flip_byte
from newsdesk.serve.api.request_log import REQUEST_FIELDS, JsonLineFormatter, log_config
from newsdesk.serve.api.settings import ServeSettings, SettingsError, load_settings
from newsdesk.serve.cli import main
from newsdesk.train.bundle import CLASSIFIER_ARRAYS


@pytest.fixture(autouse=True)
def no_stray_environment() -> Iterator[None]:
    with clean_environment():
        yield


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"model": tmp_path})
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.max_text_chars == 200_000 and settings.max_body_bytes == 2 * 1024 * 1024
    assert settings.max_batch_size == 256 and settings.api_key is None and settings.log_level == "info"


def test_environment_is_read_and_the_command_line_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_MODEL", str(tmp_path))
    monkeypatch.setenv("NEWSDESK_PORT", "9001")
    monkeypatch.setenv("NEWSDESK_MAX_BATCH_SIZE", "32")
    monkeypatch.setenv("NEWSDESK_API_KEY", "from-env")
    monkeypatch.setenv("NEWSDESK_LOG_LEVEL", "WARNING")
    settings = load_settings({"port": 9002, "host": None})
    assert settings.model == tmp_path and settings.port == 9002 and settings.max_batch_size == 32
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "from-env"
    assert settings.log_level == "warning" and settings.host == "127.0.0.1"
    assert "from-env" not in repr(settings)


def test_settings_round_trip_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"model": tmp_path, "port": 8123, "workers": 3, "api_key": "k3y", "max_text_chars": 10})
    for name, value in settings.to_environment().items():
        monkeypatch.setenv(name, value)
    assert load_settings() == settings


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({}, ["no model given", "--model", "NEWSDESK_MODEL"]),
        ({"port": 70000}, ["invalid port", "--port or NEWSDESK_PORT", "65535", "70000"]),
        ({"workers": 0}, ["invalid workers", "--workers"]),
        ({"max_body_bytes": 10}, ["max_body_bytes", "1024"]),
        ({"max_text_chars": 0}, ["max_text_chars"]),
        ({"log_level": "loud"}, ["log_level"]),
        ({"api_key": "  "}, ["NEWSDESK_API_KEY is set but empty"]),
    ],
)
def test_invalid_settings_say_which_and_how(tmp_path: Path, overrides: dict, words: list[str]) -> None:
    values = {"model": tmp_path, **overrides} if overrides else {}
    with pytest.raises(SettingsError) as error:
        load_settings(values)
    for word in words:
        assert word in str(error.value)
    assert isinstance(error.value, ValueError)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = ServeSettings(model=tmp_path)
    with pytest.raises(ValueError):
        settings.port = 1  # type: ignore[misc]


def test_serve_command_refuses_bad_settings_and_bad_models(
    tmp_path: Path, tiny_bundle_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve"]) == 2
    assert "newsdesk serve: error: invalid server settings: no model given" in capsys.readouterr().err
    assert main(["serve", "--model", str(tiny_bundle_dir), "--port", "0"]) == 2
    assert "invalid port" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path / "nothing")]) == 2
    assert "no model at" in capsys.readouterr().err
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_bundle_dir, damaged)
    flip_byte(damaged / "v0001" / CLASSIFIER_ARRAYS)
    assert main(["serve", "--model", str(damaged), "--workers", "2"]) == 2
    assert "does not match its checksum" in capsys.readouterr().err


def test_serve_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for option in [
        "--model",
        "--host",
        "--port",
        "--workers",
        "--threads",
        "--max-text-chars",
        "--max-body-bytes",
        "--max-batch-size",
        "--log-level",
        "NEWSDESK_API_KEY",
    ]:
        assert option in out, option


def test_request_log_lines_are_json_objects() -> None:
    record = logging.LogRecord("newsdesk.requests", logging.INFO, __file__, 1, "%s", ("x",), None)
    setattr(record, REQUEST_FIELDS, {"request_id": "abc", "status": 200, "path": "/v1/predict", "ms": 1.5})
    line = json.loads(JsonLineFormatter().format(record))
    assert line["request_id"] == "abc" and line["status"] == 200 and line["level"] == "INFO" and line["time"]
    # The config uvicorn receives is valid (tried on renamed loggers, leaving the real ones alone).
    config = log_config("debug")
    config["loggers"] = {f"config-test.{name}": value for name, value in config["loggers"].items()}
    logging.config.dictConfig(config)
    assert logging.getLogger("config-test.newsdesk.requests").level == logging.DEBUG


def test_multiworker_parent_refuses_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    from newsdesk.serve.api.multiworker import main as multiworker_main

    assert multiworker_main() == 2
    assert "no model given" in capsys.readouterr().err


def test_fastapi_opentelemetry_is_off_unless_asked_for(tiny_bundle_dir: Path) -> None:
    from newsdesk.serve.api.app import create_app

    quiet = create_app(load_settings({"model": tiny_bundle_dir}))
    assert not any(quiet._telemetry[kind] for kind in ("tracing", "metrics", "logs"))
    traced = create_app(load_settings({"model": tiny_bundle_dir, "opentelemetry": True}))
    assert all(traced._telemetry[kind] for kind in ("tracing", "metrics", "logs"))


def test_every_setting_but_the_keys_has_an_option_with_its_description() -> None:
    import argparse

    from newsdesk.serve.api.server import add_serve_command, setting_options
    from newsdesk.serve.api.settings import ENVIRONMENT_ONLY, ServeSettings

    parser = argparse.ArgumentParser()
    add_serve_command(parser.add_subparsers(dest="command"), "serve")
    serve = parser._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    options = {action.dest: action for action in serve._actions if action.dest != "help"}
    assert set(options) == set(setting_options()) == set(ServeSettings.model_fields) - set(ENVIRONMENT_ONLY)
    for name, action in options.items():
        assert ServeSettings.model_fields[name].description.split(";")[0] in action.help.replace("%%", "%")
        assert f"[NEWSDESK_{name.upper()}]" in action.help
    args = parser.parse_args(
        ["serve", "--model", "m", "--max-cluster-size", "5", "--log-level", "debug", "--insecure-no-key"]
    )
    assert (args.max_cluster_size, args.log_level, args.insecure_no_key, args.port) == (5, "debug", True, None)
