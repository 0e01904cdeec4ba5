"""The web page for trying the service: ``GET /`` and its static files, open without an API key.

One HTML page, one stylesheet, one script and an icon, shipped inside the package
(``serve/api/static``) and served from memory after the first read; nothing comes
from another host. The page calls the ``/v1`` endpoints from the browser, with
the API key the user types, so the page itself needs no key. Every response
carries a Content-Security-Policy that allows only this server's own files (no
inline script or style) and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Response

from newsdesk.serve.api.errors import NOT_FOUND, ApiError

router = APIRouter(tags=["page"], include_in_schema=False)

STATIC_PACKAGE = "newsdesk.serve.api"
STATIC_DIR = "static"
PAGE = "index.html"
STATIC_FILES = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "page.js": "text/javascript; charset=utf-8",  # helpers app.js and stories.js share
    "stories.css": "text/css; charset=utf-8",  # "Several articles": POST /v1/cluster
    "stories.js": "text/javascript; charset=utf-8",
}
"""The files under ``/static/`` and their content types; any other name is a 404."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate each time, so a server upgrade never meets a stale script.
    "Cache-Control": "no-cache",
}


@lru_cache(maxsize=len(STATIC_FILES) + 1)
def static_file(name: str) -> bytes:
    """The bytes of one file of ``serve/api/static`` (read once)."""
    return resources.files(STATIC_PACKAGE).joinpath(STATIC_DIR, name).read_bytes()


@router.get("/", response_class=Response)
async def page() -> Response:
    """The page: paste an article, classify and summarise it, see what cleaning removed."""
    return Response(static_file(PAGE), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@router.get("/static/{name}", response_class=Response)
async def static(name: str) -> Response:
    """The page's stylesheet, script and icon."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise ApiError(404, NOT_FOUND, f"no static file '{name}'; the page uses {', '.join(sorted(STATIC_FILES))}")
    return Response(static_file(name), media_type=media_type, headers=SECURITY_HEADERS)
