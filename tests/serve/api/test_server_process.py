"""``newsdesk serve`` as a real process on a free port, called over HTTP (one worker, then two)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers.api_fixtures import SPORT_TEXT
from helpers.server_process import free_port, running_server, wait_for_model_info
from helpers.training import train_tiny
from newsdesk.serve.api.settings import ENV_PREFIX
from newsdesk.train.versions import set_current


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("served")
    train_tiny(models)
    train_tiny(models, seed=1)
    set_current(models / "tiny", "v0001")
    return models / "tiny"


def request_log_lines(log: Path) -> list[dict]:
    lines = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_one_worker_over_http(model: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with running_server(model, log, env={"NEWSDESK_API_KEY": "real-key"}) as url:
        auth = {"Authorization": "Bearer real-key"}
        assert httpx.get(url + "/health").json() == {"status": "ok"}
        assert httpx.post(url + "/v1/predict", json={"text": SPORT_TEXT}).status_code == 401
        response = httpx.post(
            url + "/v1/predict", json={"text": SPORT_TEXT}, headers={**auth, "X-Request-ID": "proc-1"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["topic"] == "sport" and response.json()["model"]["version"] == "v0001"
        assert response.headers["x-request-id"] == "proc-1"
        summary = httpx.post(url + "/v1/summarize", json={"text": SPORT_TEXT, "max_sentences": 1}, headers=auth)
        assert summary.status_code == 200 and len(summary.json()["sentences"]) == 1
        big = httpx.post(url + "/v1/predict", content=b"x" * (3 * 1024 * 1024), headers=auth)
        assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
        reload = httpx.post(url + "/v1/admin/reload", json={"version": "v0002"}, headers=auth)
        assert reload.status_code == 200 and reload.json()["model"]["version"] == "v0002"
        metrics = httpx.get(url + "/metrics").text
        assert (
            'newsdesk_requests_total{endpoint="/v1/predict",method="POST",model_version="v0001",status="200"}'
            in metrics
        )
    lines = request_log_lines(log)
    mine = [line for line in lines if line.get("request_id") == "proc-1"]
    assert len(mine) == 1 and mine[0]["path"] == "/v1/predict" and mine[0]["status"] == 200 and mine[0]["ms"] > 0
    assert "serving model tiny v0001" in log.read_text()


def shared_folder_of(pid: int) -> Path:
    """The temporary folder a worker shares with its siblings (from its environment)."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    reload_dir = next(item.split(b"=", 1)[1] for item in environ if item.startswith(b"NEWSDESK_RELOAD_DIR="))
    return Path(reload_dir.decode()).parent


def worker_pids(lines: list[str]) -> set[int]:
    return {int(pid) for pid in re.findall(r'pid="(\d+)"', "\n".join(lines))}


def test_two_workers_share_metrics_follow_reloads_and_replace_a_dead_worker(model: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = running_server(model, log, "--workers", "2", "--reload-poll-seconds", "0.1")
    # A new connection for each request, so both workers get some.
    with server as url, httpx.Client(headers={"Connection": "close"}) as client:
        wait_for_model_info(client, url, "v0001")  # /ready answered once one worker was up; wait for both
        for _ in range(20):
            assert client.post(url + "/v1/predict", json={"text": SPORT_TEXT}).status_code == 200
        metrics = client.get(url + "/metrics").text
        total = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith('newsdesk_requests_total{endpoint="/v1/predict"')
        )
        assert total == 20  # counted across both worker processes

        assert client.post(url + "/v1/admin/reload", json={"version": "v0002"}).status_code == 200
        workers = worker_pids(wait_for_model_info(client, url, "v0002"))  # the other worker followed
        for _ in range(10):
            assert client.post(url + "/v1/predict", json={"text": SPORT_TEXT}).json()["model"]["version"] == "v0002"
        shared = {shared_folder_of(pid) for pid in workers}

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:  # replaced, and the newcomer serves what the others serve (v0002), not 'current'
            now = worker_pids(wait_for_model_info(client, url, "v0002"))
            if victim not in now:
                break
            assert time.monotonic() < deadline
            time.sleep(0.2)
        workers |= now
    assert len(shared) == 1 and not any(folder.exists() for folder in shared)  # removed on exit
    for pid in workers:  # every worker stopped with the server
        assert not alive(pid)
    text = log.read_text()
    assert text.count("serving model tiny v0001") == 2 and "reloaded; loading v0002 here too" in text
    assert f"worker {victim} exited with code -9; starting another" in text
    assert len(request_log_lines(log)) >= 30


def test_a_worker_stops_when_its_parent_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsdesk.serve.api import multiworker

    sent = []
    monkeypatch.setattr(multiworker.os, "kill", lambda pid, signum: sent.append((pid, signum)))
    monkeypatch.setattr(multiworker.time, "sleep", lambda seconds: None)
    multiworker._stop_when_orphaned(parent=-1)  # not our parent: as if it had died
    assert sent == [(os.getpid(), signal.SIGTERM)]


def test_serve_without_a_model_fails_fast(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk.serve.cli", "serve", "--model", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "no model at" in done.stderr


def test_a_port_in_use_is_refused(model: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "newsdesk.serve.cli",
                "serve",
                "--model",
                str(model),
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_that_cannot_start_stop_the_server(tmp_path: Path) -> None:
    """No restart loop: a worker whose model does not load ends the server with an error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(
        {"NEWSDESK_MODEL": str(tmp_path / "missing"), "NEWSDESK_WORKERS": "2", "NEWSDESK_PORT": str(free_port())}
    )
    done = subprocess.run(
        [sys.executable, "-m", "newsdesk.serve.api.multiworker"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "no model at" in done.stderr and "could not start" in done.stderr
    assert "starting another" not in done.stderr
