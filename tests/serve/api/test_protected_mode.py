"""Protected mode: no API key means loopback only, unless the risk is accepted with --insecure-no-key.

The real servers here listen on 0.0.0.0 but are only ever called through 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from helpers.api_fixtures import SPORT_TEXT, clean_environment, make_settings, serving
from helpers.server_process import free_port, running_server
from newsdesk.serve.api.app import warn_while_unprotected
from newsdesk.serve.api.settings import (
    ADMIN_KEY_ENV,
    API_KEY_ENV,
    INSECURE_FLAG,
    SettingsError,
    check_protected_mode,
    is_loopback,
    load_settings,
)
from newsdesk.serve.cli import main


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "192.168.0.7", "no-such-host.invalid"])
def test_exposed_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_no_key_on_every_interface_is_refused_naming_both_fixes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(SettingsError) as caught:
        check_protected_mode(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert API_KEY_ENV in message and INSECURE_FLAG in message and "0.0.0.0" in message


def test_loopback_a_key_or_the_flag_each_pass(tmp_path: Path) -> None:
    check_protected_mode(make_settings(tmp_path))
    check_protected_mode(make_settings(tmp_path, host="0.0.0.0", api_key="k"))
    check_protected_mode(make_settings(tmp_path, host="0.0.0.0", insecure_no_key=True))


def test_an_admin_key_alone_does_not_open_other_interfaces(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        check_protected_mode(make_settings(tmp_path, host="0.0.0.0", admin_key="admin"))


def test_an_empty_admin_key_is_refused(tmp_path: Path) -> None:
    with clean_environment(), pytest.MonkeyPatch.context() as patch:
        patch.setenv(ADMIN_KEY_ENV, " ")
        with pytest.raises(SettingsError, match=f"{ADMIN_KEY_ENV} is set but empty"):
            load_settings({"model": tmp_path})


def test_the_command_refuses_before_loading_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with clean_environment():
        code = main(["serve", "--model", str(tmp_path / "missing"), "--host", "0.0.0.0"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("newsdesk serve: error: refusing to listen on 0.0.0.0")
    assert API_KEY_ENV in err and INSECURE_FLAG in err


def test_the_admin_key_guards_admin_and_the_api_key_the_rest(tiny_bundle_dir: Path) -> None:
    with serving(tiny_bundle_dir, api_key="api", admin_key="admin") as client:
        api, admin = {"Authorization": "Bearer api"}, {"X-API-Key": "admin"}
        assert client.post("/v1/predict", json={"text": SPORT_TEXT}, headers=api).status_code == 200
        assert client.post("/v1/predict", json={"text": SPORT_TEXT}, headers=admin).status_code == 401
        assert client.post("/v1/admin/reload", headers=api).status_code == 401
        assert client.post("/v1/admin/reload", headers=admin).status_code == 200


def test_the_admin_key_falls_back_to_the_api_key(tiny_bundle_dir: Path) -> None:
    with serving(tiny_bundle_dir, api_key="api") as client:
        assert client.post("/v1/admin/reload").status_code == 401
        assert client.post("/v1/admin/reload", headers={"X-API-Key": "api"}).status_code == 200


def test_an_admin_key_alone_guards_only_admin(tiny_bundle_dir: Path) -> None:
    with serving(tiny_bundle_dir, admin_key="admin") as client:
        assert client.post("/v1/predict", json={"text": SPORT_TEXT}).status_code == 200
        assert client.post("/v1/admin/reload").status_code == 401
        assert client.post("/v1/admin/reload", headers={"Authorization": "Bearer admin"}).status_code == 200


def test_the_insecure_warning_repeats(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, host="0.0.0.0", insecure_no_key=True)

    async def run_briefly() -> None:
        task = asyncio.create_task(warn_while_unprotected(settings, every_seconds=0.01))
        await asyncio.sleep(0.1)
        task.cancel()

    with caplog.at_level(logging.WARNING, logger="newsdesk.serve"):
        asyncio.run(run_briefly())
    warnings = [r for r in caplog.records if "INSECURE" in r.getMessage()]
    assert len(warnings) >= 3 and API_KEY_ENV in warnings[0].getMessage()


def test_a_real_server_refuses_every_interface_without_a_key(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "newsdesk.serve.cli", "serve", "--model", str(tiny_bundle_dir)]
    with clean_environment():
        done = subprocess.run(
            [*command, "--host", "0.0.0.0", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert "refusing to listen on 0.0.0.0" in done.stderr and INSECURE_FLAG in done.stderr
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)


def test_a_real_server_on_every_interface_with_a_key(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with running_server(tiny_bundle_dir, log, "--host", "0.0.0.0", env={API_KEY_ENV: "k"}) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.post(url + "/v1/predict", json={"text": SPORT_TEXT}).status_code == 401
        answer = httpx.post(url + "/v1/predict", json={"text": SPORT_TEXT}, headers={"X-API-Key": "k"})
        assert answer.status_code == 200 and answer.json()["topic"] == "sport"
    assert "INSECURE" not in log.read_text()


def test_a_real_server_on_every_interface_with_the_flag_warns(tiny_bundle_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with running_server(tiny_bundle_dir, log, "--host", "0.0.0.0", INSECURE_FLAG) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.post(url + "/v1/predict", json={"text": SPORT_TEXT}).status_code == 200
        warning = [line for line in log.read_text().splitlines() if "INSECURE" in line]
    assert len(warning) == 1 and "WARNING" in warning[0] and "0.0.0.0" in warning[0] and API_KEY_ENV in warning[0]
