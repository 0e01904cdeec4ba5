"""Several uvicorn workers under one small parent: ``python -m newsdesk.serve.api.multiworker``, run by ``newsdesk serve --workers N``.

Why not ``uvicorn --workers``: its workers share one listening socket, and the
first worker to wake accepts every waiting connection. Clients that keep their
connections open (load balancers, wrk, most HTTP libraries) then all land on
one worker while the others idle. Here every worker listens on its own
``SO_REUSEPORT`` socket on the same port, and the kernel spreads new
connections over them.

The workers are ``python -m newsdesk.serve.api.multiworker --worker`` processes. The parent
imports neither FastAPI nor the model code. It reads the settings
from the ``NEWSDESK_*`` variables that ``newsdesk serve`` exported, makes a
temporary folder the workers share (reload notices, Prometheus files), starts
the workers, replaces a worker that dies, and on SIGTERM or SIGINT stops them
gracefully and removes the folder. A worker whose app cannot start (a model
that does not load) stops everything.
"""

from __future__ import annotations

import logging
import logging.config
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from newsdesk.serve.api.lean import keep_dataframe_libraries_out

APP_FACTORY = "newsdesk.serve.api.app:app_from_environment"
PROMETHEUS_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STARTUP_FAILURE = 3  # the exit code uvicorn uses when an app cannot start
WORKER_FLAG = "--worker"
CHECK_SECONDS = 0.5
STOP_SECONDS = 40  # graceful shutdown of the workers (uvicorn allows 30 s) plus a margin
log = logging.getLogger("newsdesk.serve")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with SO_REUSEPORT, so every worker can bind its own."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


def _stop_when_orphaned(parent: int) -> None:
    """In a worker: shut down gracefully if the parent disappears (killed with SIGKILL, say)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def run_worker() -> int:
    """One worker process (``python -m newsdesk.serve.api.multiworker --worker``): its own socket, one uvicorn server."""
    import uvicorn

    from newsdesk.serve.api.server import uvicorn_options
    from newsdesk.serve.api.settings import load_settings

    settings = load_settings()
    keep_dataframe_libraries_out()
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    sock = listening_socket(settings.host, settings.port)
    server = uvicorn.Server(uvicorn.Config(APP_FACTORY, factory=True, **uvicorn_options(settings)))
    server.run(sockets=[sock])
    return 0 if server.started else STARTUP_FAILURE


def _forget_metrics_of(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters still count) from the shared Prometheus files."""
    directory = os.environ.get(PROMETHEUS_MULTIPROC_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)


class WorkerSupervisor:
    """Starts ``count`` workers, keeps them running, and stops them on a signal."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.workers: list[subprocess.Popen[bytes]] = []
        self.stopping = threading.Event()
        self.failed = False

    def _start_worker(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", "newsdesk.serve.api.multiworker", WORKER_FLAG])
        log.info("started worker %s", process.pid)
        return process

    def _on_signal(self, signum: int, frame: Any) -> None:
        log.info("received %s; stopping the workers", signal.Signals(signum).name)
        self.stopping.set()

    def run(self) -> int:
        """Supervise until a signal or a failed start; returns the exit code."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.workers = [self._start_worker() for _ in range(self.count)]
        while not self.stopping.wait(CHECK_SECONDS):
            for index, process in enumerate(self.workers):
                code = process.poll()
                if code is None:
                    continue
                _forget_metrics_of(process.pid)
                if code == STARTUP_FAILURE:
                    log.error("worker %s could not start (see its error above); stopping", process.pid)
                    self.failed = True
                    self.stopping.set()
                    break
                log.warning("worker %s exited with code %s; starting another", process.pid, code)
                self.workers[index] = self._start_worker()
        self._stop_all()
        return 1 if self.failed else 0

    def _stop_all(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.workers:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.wait()


def main() -> int:
    """Run the workers; returns the exit code."""
    from newsdesk.serve.api.request_log import log_config
    from newsdesk.serve.api.settings import ENV_PREFIX, SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"newsdesk serve: error: {exc}", file=sys.stderr)
        return 2
    logging.config.dictConfig(log_config(settings.log_level))
    try:
        # A plain bind fails when anything holds the port (another server with SO_REUSEPORT too, which
        # would otherwise silently share our connections); then keep the port with a SO_REUSEPORT socket.
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as plain:
            plain.bind((settings.host, settings.port))
        probe = listening_socket(settings.host, settings.port)
    except OSError as exc:
        print(f"newsdesk serve: error: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 2
    with probe, tempfile.TemporaryDirectory(prefix="newsdesk-serve-") as shared:
        if settings.reload_dir is None:
            os.environ[ENV_PREFIX + "RELOAD_DIR"] = str(Path(shared) / "reload")
        if not os.environ.get(PROMETHEUS_MULTIPROC_ENV):
            metrics_dir = Path(shared) / "metrics"
            metrics_dir.mkdir()
            os.environ[PROMETHEUS_MULTIPROC_ENV] = str(metrics_dir)
        log.info(
            "serving on http://%s:%s with %s workers (parent %s)",
            settings.host,
            settings.port,
            settings.workers,
            os.getpid(),
        )
        return WorkerSupervisor(settings.workers).run()


if __name__ == "__main__":
    sys.exit(run_worker() if WORKER_FLAG in sys.argv[1:] else main())
