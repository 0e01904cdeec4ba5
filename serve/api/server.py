"""``newsdesk serve``: validate the settings, check the model, and run the app under uvicorn.

Its options are the fields of :class:`~newsdesk.serve.api.settings.ServeSettings` (help from their
descriptions), so the command line, the environment and the settings cannot drift apart. FastAPI,
uvicorn and the model code are imported when ``serve`` actually runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from newsdesk.serve.api.lean import keep_dataframe_libraries_out
from newsdesk.serve.api.settings import ENV_PREFIX, ENVIRONMENT_ONLY, ServeSettings, option_name

GRACEFUL_SHUTDOWN_SECONDS = 30
MAX_HEADER_BYTES = 16 * 1024
"""Largest request line plus headers a request may have (h11's default); larger is a 431."""
OPTION_GROUPS = {
    "limits (each over-limit request gets a 413)": (
        "max_text_chars",
        "max_html_chars",
        "max_body_bytes",
        "max_batch_size",
        "max_cluster_size",
    ),
    "slow and idle clients": ("request_timeout_seconds", "keep_alive_seconds", "max_connections"),
}
"""Settings shown under their own heading in ``newsdesk serve --help``; the rest come first."""


def setting_options() -> tuple[str, ...]:
    """The settings that have a command-line option: all but the environment-only ones (keys, internals)."""
    return tuple(name for name in ServeSettings.model_fields if name not in ENVIRONMENT_ONLY)


def _option_arguments(name: str) -> dict[str, Any]:
    """``add_argument`` keywords for one settings field: type or flag, choices, and help from its description."""
    field = ServeSettings.model_fields[name]
    default = "" if field.is_required() else f" (default {field.default})"
    arguments: dict[str, Any] = {
        "default": None,  # unset: the environment or the settings' own default decides
        "help": f"{field.description}{default} [{ENV_PREFIX}{name.upper()}]".replace("%", "%%"),
    }
    if field.annotation is bool:
        arguments["action"] = "store_true"
        arguments["help"] = f"{field.description} [{ENV_PREFIX}{name.upper()}]".replace("%", "%%")
    elif get_origin(field.annotation) is Literal:
        arguments["choices"] = list(get_args(field.annotation))
    else:
        arguments["type"] = field.annotation
    return arguments


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per :class:`ServeSettings` field (``max_text_chars`` -> ``--max-text-chars``), help from the field."""
    grouped = {name: title for title, names in OPTION_GROUPS.items() for name in names}
    groups = {title: parser.add_argument_group(title) for title in OPTION_GROUPS}
    for name in setting_options():
        target = groups[grouped[name]] if name in grouped else parser
        target.add_argument(option_name(name), **_option_arguments(name))


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
    add_setting_options(serve)
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
        "http": partial(
            HeaderDeadlineProtocol, header_timeout=settings.request_timeout_seconds, max_header_bytes=MAX_HEADER_BYTES
        ),
        "timeout_keep_alive": settings.keep_alive_seconds,
        # asyncio's own loop even where uvloop is installed (uvicorn's "auto" would take uvloop): with uvloop
        # one worker served 0.96 times the predict and 0.86 times the summarize requests/s, and a summarize
        # p99 of 226 ms against 94 (bench/serve_ab.py, docs/benchmarks.md).
        "loop": "asyncio",
        "limit_concurrency": settings.max_connections,
    }


def run_serve(args: argparse.Namespace) -> int:
    """Handle ``newsdesk serve``."""
    from newsdesk.serve.api.settings import check_protected_mode, load_settings

    settings = load_settings({name: getattr(args, name, None) for name in setting_options()})
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
