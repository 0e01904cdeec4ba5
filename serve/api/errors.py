"""HTTP errors in one shape, ``{"error": {"code": ..., "message": ...}}``, for every status the server sends.

Endpoints raise :class:`ApiError`; FastAPI's own validation errors and
Starlette's 404/405 are translated by the handlers installed with
:func:`install_error_handlers`; unexpected exceptions become a 500 in
:mod:`newsdesk.serve.api.middleware`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsdesk.serve.api.schemas import ErrorResponse

# Error codes, one constant each so tests and clients can rely on them.
BAD_REQUEST = "bad_request"
UNAUTHORIZED = "unauthorized"
NOT_FOUND = "not_found"
VERSION_NOT_FOUND = "version_not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
NO_SUMMARIZER = "no_summarizer"
RELOAD_FAILED = "reload_failed"
PAYLOAD_TOO_LARGE = "payload_too_large"
TEXT_TOO_LONG = "text_too_long"
BATCH_TOO_LARGE = "batch_too_large"
VALIDATION_ERROR = "validation_error"
INVALID_JSON = "invalid_json"
EMPTY_TEXT = "empty_text"
CANNOT_SUMMARIZE = "cannot_summarize"
INTERNAL_ERROR = "internal_error"
NOT_READY = "not_ready"
REQUEST_TIMEOUT = "request_timeout"
HEADERS_TOO_LARGE = "headers_too_large"

_CODE_BY_STATUS = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    408: REQUEST_TIMEOUT,
    413: PAYLOAD_TOO_LARGE,
    431: HEADERS_TOO_LARGE,
    422: VALIDATION_ERROR,
    500: INTERNAL_ERROR,
    503: NOT_READY,
}
ERROR_CODE_STATE = "error_code"
"""Key under ``request.state`` where a handler leaves the error code for the metrics and the request log."""


ERROR_DESCRIPTIONS = {
    401: "missing or wrong API key (only when the server has NEWSDESK_API_KEY set)",
    404: "not found",
    408: "the request body did not arrive within NEWSDESK_REQUEST_TIMEOUT_SECONDS of its headers",
    409: "the loaded model cannot do this (it has no summariser)",
    413: "request body, text or batch over the server's limits",
    422: "invalid request: the message names the field",
    431: "the request line and headers are over 16 KB",
    500: "unexpected server error",
    503: "no model loaded yet",
}


def documented_errors(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these statuses, all with the error shape; ``s404="..."`` overrides a description."""
    return {
        status: {"model": ErrorResponse, "description": descriptions.get(f"s{status}", ERROR_DESCRIPTIONS[status])}
        for status in statuses
    }


class ApiError(Exception):
    """An error an endpoint reports to the client: HTTP status, stable code, and a message saying what to do."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error shape."""
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, request: Request | None = None
) -> JSONResponse:
    """A JSON error response; remembers the code on the request for metrics and logs."""
    if request is not None:
        request.state.error_code = code
    return JSONResponse(error_body(code, message), status_code=status, headers=dict(headers or {}) or None)


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "articles", 3, "text")`` -> ``articles[3].text``."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _shorten(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_validation_errors(errors: Sequence[Mapping[str, Any]], prefix: str = "") -> str:
    """Turn pydantic errors into one message that names each field, says what was expected and what arrived."""
    parts = []
    for error in errors[:10]:
        field = _field_name(error.get("loc", ()))
        if prefix:
            field = f"{prefix}.{field}" if field else prefix
        kind = error.get("type", "")
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if kind == "missing":
            parts.append(f"field '{field}' is required" if field else "the request body is required")
        elif kind == "extra_forbidden":
            parts.append(f"field '{field}' is not accepted here; check its spelling against the API docs at /docs")
        elif field:
            parts.append(f"field '{field}': {message} (got {_shorten(error.get('input'))})")
        else:
            parts.append(f"request body: {message} (got {_shorten(error.get('input'))})")
    if len(errors) > 10:
        parts.append(f"and {len(errors) - 10} more errors")
    return "; ".join(parts)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers, request)


def unreadable_body_message(cause: BaseException | None) -> str | None:
    """Why FastAPI could not parse a JSON body (its 400 "error parsing the body"), or None for other errors."""
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"the request body is not valid JSON (byte {cause.start} is not UTF-8 text); "
            "send a JSON object encoded as UTF-8"
        )
    if isinstance(cause, RecursionError):
        return "the request body is not valid JSON for this API (it is nested too deeply); send a flat JSON object"
    return None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and (message := unreadable_body_message(exc.__cause__)):
        # FastAPI answers 400 "There was an error parsing the body" for a body that is not UTF-8
        # (or that json.loads cannot recurse into): for the client that is invalid JSON, like any other.
        return error_response(422, INVALID_JSON, message, request=request)
    code = _CODE_BY_STATUS.get(exc.status_code, BAD_REQUEST if exc.status_code < 500 else INTERNAL_ERROR)
    if exc.status_code == 404:
        message = f"no endpoint at {request.url.path}; see /docs for the API"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}" + (f"; use {allowed}" if allowed else "")
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, exc.headers, request)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "JSON decode error")
        position = detail["loc"][-1] if detail.get("loc") else "?"
        message = f"the request body is not valid JSON ({reason} at character {position}); send a JSON object"
        return error_response(422, INVALID_JSON, message, request=request)
    return error_response(422, VALIDATION_ERROR, describe_validation_errors(errors), request=request)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error FastAPI and Starlette raise through the one error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
