"""``newsdesk serve``: validate the settings, check the model, and run the app under uvicorn.

This module is imported by :mod:`newsdesk.serve.cli` for every command, so it imports
only the standard library at the top; FastAPI, uvicorn and the model code are
imported when ``serve`` actually runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdesk.serve.api.lean import keep_dataframe_libraries_out

if TYPE_CHECKING:
    from newsdesk.serve.api.settings import ServeSettings

GRACEFUL_SHUTDOWN_SECONDS = 30
MAX_HEADER_BYTES = 16 * 1024
"""Largest request line plus headers uvicorn reads (h11's default, made explicit); larger is a 400."""
SETTING_OPTIONS = (
    "model",
    "host",
    "port",
    "workers",
    "threads",
    "max_text_chars",
    "max_html_chars",
    "max_body_bytes",
    "max_batch_size",
    "request_timeout_seconds",
    "keep_alive_seconds",
    "max_connections",
    "log_level",
    "opentelemetry",
    "reload_poll_seconds",
    "insecure_no_key",
)


def add_serve_command(subparsers: Any, summary: str) -> None:
    """Register ``serve`` on the top-level parser's subparsers."""
    serve = subparsers.add_parser(
        "serve",
        help=summary,
        description="Run the HTTP API (FastAPI under uvicorn) for a saved model. Every option can also be set "
        "with a NEWSDESK_* environment variable (e.g. NEWSDESK_PORT); options win. Set NEWSDESK_API_KEY to "
        "require a key on every /v1 endpoint (it is only read from the environment, so it never shows in ps), "
        "and optionally NEWSDESK_ADMIN_KEY for /v1/admin/*. Without an API key the server only listens on "
        "loopback (protected mode). "
        "API docs: http://HOST:PORT/docs.",
        epilog="example: newsdesk serve --model models/bbc --port 8000 --workers 2",
    )
    serve.add_argument(
        "--model",
        type=Path,
        default=None,
        help="models/NAME (serves its current version) or a version folder [NEWSDESK_MODEL]",
    )
    serve.add_argument(
        "--host",
        default=None,
        help="interface to listen on (default 127.0.0.1); any other than loopback needs NEWSDESK_API_KEY "
        "or --insecure-no-key (protected mode) [NEWSDESK_HOST]",
    )
    serve.add_argument(
        "--insecure-no-key",
        action="store_true",
        default=None,
        help="allow listening on a non-loopback address without NEWSDESK_API_KEY; anyone who reaches the port "
        "can then use every endpoint, including /v1/admin/reload (a warning is logged at start and every hour) "
        "[NEWSDESK_INSECURE_NO_KEY]",
    )
    serve.add_argument("--port", type=int, default=None, help="TCP port (default 8000) [NEWSDESK_PORT]")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes, each with its own copy of the model; about one per core (default 1) [NEWSDESK_WORKERS]",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per worker running model calls (default 2) [NEWSDESK_THREADS]",
    )
    limits = serve.add_argument_group("limits (each over-limit request gets a 413)")
    limits.add_argument(
        "--max-text-chars",
        type=int,
        default=None,
        help="longest text or title in characters (default 200000) [NEWSDESK_MAX_TEXT_CHARS]",
    )
    limits.add_argument(
        "--max-html-chars",
        type=int,
        default=None,
        help="longest text in characters when it is an HTML page (default 2000000) [NEWSDESK_MAX_HTML_CHARS]",
    )
    limits.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help="largest request body in bytes (default 2097152, 2 MiB) [NEWSDESK_MAX_BODY_BYTES]",
    )
    limits.add_argument(
        "--max-batch-size",
        type=int,
        default=None,
        help="most articles per /v1/predict/batch request (default 256) [NEWSDESK_MAX_BATCH_SIZE]",
    )
    slow = serve.add_argument_group("slow and idle clients")
    slow.add_argument(
        "--request-timeout-seconds",
        type=float,
        default=None,
        help="a client has this long to send a request's headers (from connecting or from the previous "
        "response), and again its body; slower gets 408 and the connection closed (default 30) "
        "[NEWSDESK_REQUEST_TIMEOUT_SECONDS]",
    )
    slow.add_argument(
        "--keep-alive-seconds",
        type=float,
        default=None,
        help="close a keep-alive connection idle for this long (default 5) [NEWSDESK_KEEP_ALIVE_SECONDS]",
    )
    slow.add_argument(
        "--max-connections",
        type=int,
        default=None,
        help="most open connections plus running requests per worker; beyond it uvicorn answers 503 "
        "(default 1000) [NEWSDESK_MAX_CONNECTIONS]",
    )
    serve.add_argument(
        "--log-level",
        default=None,
        choices=["critical", "error", "warning", "info", "debug"],
        help="server and request-log level (default info) [NEWSDESK_LOG_LEVEL]",
    )
    serve.add_argument(
        "--opentelemetry",
        action="store_true",
        default=None,
        help="send FastAPI's OpenTelemetry traces, metrics and logs to the configured providers "
        "[NEWSDESK_OPENTELEMETRY]",
    )
    serve.add_argument(
        "--reload-poll-seconds",
        type=float,
        default=None,
        help="with several workers, how often each checks for a reload done by another (default 1) "
        "[NEWSDESK_RELOAD_POLL_SECONDS]",
    )
    serve.set_defaults(handler=run_serve)


def check_model(path: Path) -> None:
    """Load the bundle the server would serve, so a bad model fails the command before uvicorn starts."""
    from newsdesk.train.bundle import load_bundle

    load_bundle(path)


def uvicorn_options(settings: ServeSettings) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run`` shared by the one-worker and many-worker modes."""
    from functools import partial

    from newsdesk.serve.api.http_protocol import HeaderDeadlineProtocol
    from newsdesk.serve.api.request_log import log_config

    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": log_config(settings.log_level),
        "log_level": settings.log_level,
        "access_log": False,  # the app writes its own structured request log
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        # Slow and idle clients: uvicorn itself has no deadline for request headers (see newsdesk.serve.api.http_protocol);
        # the body deadline is the app's (newsdesk.serve.api.middleware).
        "http": partial(HeaderDeadlineProtocol, header_timeout=settings.request_timeout_seconds),
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_connections,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }


def run_serve(args: argparse.Namespace) -> int:
    """Handle ``newsdesk serve``."""
    from newsdesk.serve.api.settings import check_protected_mode, load_settings

    settings = load_settings({name: getattr(args, name, None) for name in SETTING_OPTIONS})
    check_protected_mode(settings)
    keep_dataframe_libraries_out()
    check_model(settings.model)
    if settings.workers > 1:
        # This process has the model code loaded (~200 MB); the parent of many workers only needs
        # uvicorn, so hand over to a light one. The workers rebuild the settings from the environment.
        env = {**os.environ, **settings.to_environment()}
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, "-m", "newsdesk.serve.api.multiworker"], env)
    import uvicorn

    from newsdesk.serve.api.app import create_app

    uvicorn.run(create_app(settings), **uvicorn_options(settings))
    return 0
