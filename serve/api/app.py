"""The FastAPI app: built by :func:`create_app` from validated settings; the model is loaded in the lifespan.

Nothing happens at import. ``create_app(settings)`` wires the routers, the error
handlers, the request middleware and the metrics; when the app starts, its
lifespan loads the bundle once (in a thread) and, with several workers, starts
following the other workers' reloads. uvicorn worker processes build the app
with :func:`app_from_environment`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

import anyio.to_thread
from fastapi import Depends, FastAPI

from newsdesk.serve.api.deps import require_api_key
from newsdesk.serve.api.errors import documented_errors, install_error_handlers
from newsdesk.serve.api.execution import topic_batcher
from newsdesk.serve.api.metrics import ServiceMetrics
from newsdesk.serve.api.middleware import RequestContextMiddleware
from newsdesk.serve.api.reloading import ModelReloader, ReloadBroadcast
from newsdesk.serve.api.routes import articles as routes_articles
from newsdesk.serve.api.routes import cluster as routes_cluster
from newsdesk.serve.api.routes import health as routes_health
from newsdesk.serve.api.routes import models as routes_models
from newsdesk.serve.api.routes import page as routes_page
from newsdesk.serve.api.settings import API_KEY_ENV, INSECURE_FLAG, ServeSettings, load_settings
from newsdesk.serve.api.state import BundleLoader, ServedModel
from newsdesk.train.bundle import load_bundle
from newsdesk.train.versions import BundleError

log = logging.getLogger("newsdesk.serve")

DESCRIPTION = """\
Topic classification and extractive summarisation of news articles, with the
model bundles trained by `newsdesk train`.

* Every error has the body `{"error": {"code": ..., "message": ...}}`.
* When the server has `NEWSDESK_API_KEY` set, every `/v1` endpoint needs the key, as
  `Authorization: Bearer <key>` or `X-API-Key: <key>`; the web page at `/`, `/health`, `/ready` and
  `/metrics` stay open. With `NEWSDESK_ADMIN_KEY` set, `/v1/admin/*` needs that key instead.
* Every response carries an `X-Request-ID` header (the client's, or a new one) that the request log also shows.
"""

TAGS = [
    {"name": "articles", "description": "classify and summarise articles"},
    {"name": "models", "description": "the model being served"},
    {"name": "admin", "description": "reload the model without restarting"},
    {"name": "operations", "description": "health, readiness and Prometheus metrics (no API key needed)"},
]


def _package_version() -> str:
    try:
        return metadata.version("newsdesk")
    except metadata.PackageNotFoundError:
        return "0"


INSECURE_WARNING_SECONDS = 3600.0


def insecure_warning(settings: ServeSettings) -> str:
    """The warning a server started with ``--insecure-no-key`` on a non-loopback address logs."""
    return (
        f"INSECURE: listening on {settings.host}:{settings.port} with no API key ({INSECURE_FLAG}): anyone who "
        f"can reach this port can use every /v1 endpoint, including /v1/admin/reload; set {API_KEY_ENV} to fix"
    )


async def warn_while_unprotected(settings: ServeSettings, every_seconds: float = INSECURE_WARNING_SECONDS) -> None:
    """Log the insecure-mode warning now and then every ``every_seconds`` until cancelled."""
    while True:
        log.warning(insecure_warning(settings))
        await asyncio.sleep(every_seconds)


def create_app(settings: ServeSettings, *, loader: BundleLoader = load_bundle) -> FastAPI:
    """Build the app for ``settings``; the bundle is loaded when the app starts (lifespan)."""
    metrics = ServiceMetrics()
    served = ServedModel(settings.model, loader)
    broadcast = ReloadBroadcast(settings.reload_dir) if settings.reload_dir is not None else None
    reloader = ModelReloader(served, metrics, broadcast)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Model calls are CPU-bound and share one GIL: two threads keep the event loop busy and serve
        # requests in arrival order instead of time-slicing dozens of them (measured in bench/serve.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        try:
            await reloader.run_in_thread(reloader.start)
        except BundleError as exc:
            log.error("cannot start: %s", exc)
            raise
        follower = asyncio.create_task(reloader.follow_other_workers(settings.reload_poll_seconds))
        warner = asyncio.create_task(warn_while_unprotected(settings)) if settings.unprotected_exposure else None
        try:
            yield
        finally:
            for task in (follower, warner):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            metrics.process_exiting()

    app = FastAPI(
        title="newsdesk",
        version=_package_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # The request middleware can answer these on any route, before the route runs.
        responses=documented_errors(408, 413, 431),
        # FastAPI's OpenTelemetry checks the global providers on every request; off unless asked for.
        telemetry=None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.served = served
    app.state.reloader = reloader
    app.state.topic_batcher = topic_batcher()
    install_error_handlers(app)
    # The key check (and its place in the OpenAPI schema) exists only when there is a key.
    protected = [Depends(require_api_key)] if settings.needs_keys else []
    # Routers are matched in this order on every request: the busiest first.
    app.include_router(routes_articles.router, dependencies=protected)
    app.include_router(routes_health.router)
    app.include_router(routes_page.router)  # GET /: the page stays open; its /v1 calls carry the key
    app.include_router(routes_cluster.router, dependencies=protected)
    app.include_router(routes_models.router, dependencies=protected)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        request_timeout_seconds=settings.request_timeout_seconds,
    )
    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory for worker processes: settings from the ``NEWSDESK_*`` variables."""
    return create_app(load_settings())
