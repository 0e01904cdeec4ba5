"""A real ``newsdesk serve`` process on a free port, for the tests that need one (HTTP, browser, faults)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from newsdesk.serve.api.settings import ENV_PREFIX

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(model: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start ``newsdesk serve`` on a free port, wait for /ready, yield its URL, then stop it with SIGTERM."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX) and k != "PROMETHEUS_MULTIPROC_DIR"}
    command = [sys.executable, "-m", "newsdesk.serve.cli", "serve", "--model", str(model), "--port", str(port), *args]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env={**clean, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"server exited early:\n{log.read_text()}"
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server not ready after {STARTUP_SECONDS} s:\n{log.read_text()}"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    # uvicorn shuts down gracefully, then re-raises SIGTERM so a parent sees how it ended.
    assert code in (0, -signal.SIGTERM), f"server exited with {code}:\n{log.read_text()}"
    assert "Application shutdown complete" in log.read_text()


def wait_for_model_info(client: httpx.Client, url: str, version: str, workers: int = 2) -> list[str]:
    """Poll /metrics until ``workers`` worker processes report serving ``version``; return those lines."""
    deadline = time.monotonic() + 20
    while True:
        try:
            text = client.get(url + "/metrics").text
        except httpx.TransportError:  # a connection queued at a worker that was just killed is reset
            text = ""
        infos = [line for line in text.splitlines() if "newsdesk_model_info{" in line]
        live = [line for line in infos if line.endswith(" 1.0")]
        if len(live) == workers and all(f'version="{version}"' in line for line in live):
            return live
        assert time.monotonic() < deadline, infos
        time.sleep(0.1)
