"""What happens around every HTTP request: request id, body limits, metrics, one log line, last-resort 500.

A plain ASGI middleware (not ``BaseHTTPMiddleware``, which costs a task and a
stream per request). It reads the body first, so no endpoint ever sees a body
over the limits:

* larger than ``max_body_bytes``: 413 ``payload_too_large``, at once when
  ``Content-Length`` says so, else once the chunks read pass the limit (the body
  is never held beyond the limit plus one chunk; up to as much again is read and
  dropped, so that the client finishes sending and sees the answer);
* not complete within ``request_timeout_seconds`` of its headers: 408
  ``request_timeout`` (a slow client cannot hold a request open);
* JSON nested more than :data:`MAX_JSON_DEPTH` levels deep: 422 ``invalid_json``,
  checked before anything parses it (the API nests three levels at most).

The first two close the connection, since the rest of the body is never read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import Any

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsdesk.serve.api.deps import MODEL_VERSION_STATE
from newsdesk.serve.api.errors import (
    ERROR_CODE_STATE,
    INTERNAL_ERROR,
    INVALID_JSON,
    PAYLOAD_TOO_LARGE,
    REQUEST_TIMEOUT,
    error_body,
)
from newsdesk.serve.api.metrics import NO_MODEL, UNMATCHED, ServiceMetrics
from newsdesk.serve.api.request_log import REQUEST_FIELDS, REQUEST_LOGGER

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_BYTES = REQUEST_ID_HEADER.lower().encode("latin-1")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_JSON_DEPTH = 32
"""Deepest nesting of JSON arrays and objects accepted in a request body (the API itself needs 3)."""
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BRACKETS_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
request_log = logging.getLogger(REQUEST_LOGGER)
log = logging.getLogger("newsdesk.serve")


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a safe token, else a new random id."""
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_BYTES:
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def json_nesting_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not count).

    Linear and in C (a regex, a translate and a numpy cumulative sum: about 50 ms for
    2 MB of brackets), so a hostile body costs no more than reading it.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(_BRACKETS_AS_SQUARE, _NOT_A_BRACKET)
    steps = 92 - np.frombuffer(brackets, dtype=np.uint8).astype(np.int32)  # '[' (91) -> +1, ']' (93) -> -1
    return int(np.cumsum(steps).max(initial=0))


def _nested_too_deeply(body: bytes) -> bool:
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False  # the usual case: too few brackets to nest that deep
    return json_nesting_depth(body) > MAX_JSON_DEPTH


def _is_json(scope: Scope) -> bool:
    """The body will be parsed as JSON: a JSON content type, or none at all."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


class RequestContextMiddleware:
    """Request id header, body limit, metrics and a structured log line for every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServiceMetrics,
        max_body_bytes: int,
        request_timeout_seconds: float,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.request_timeout_seconds = request_timeout_seconds
        self._route_paths: frozenset[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        response: dict[str, Any] = {"status": 500, "started": False}
        id_header = (_REQUEST_ID_BYTES, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["started"] = True
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        try:
            refusal = None
            try:
                # asyncio's own deadline: uvicorn runs the app on asyncio, and anyio.fail_after costs twice as much.
                async with asyncio.timeout(self.request_timeout_seconds):
                    replay, body = await self._read_body(scope, receive)
            except TimeoutError:
                message = (
                    f"the request body did not arrive within {self.request_timeout_seconds:g} s of its headers "
                    f"(NEWSDESK_REQUEST_TIMEOUT_SECONDS); send it faster, or send less"
                )
                refusal = (408, REQUEST_TIMEOUT, message, True)
            else:
                if replay is None:
                    message = (
                        f"the request body is larger than this server accepts ({self.max_body_bytes} bytes, "
                        f"NEWSDESK_MAX_BODY_BYTES); send less, or split a batch"
                    )
                    refusal = (413, PAYLOAD_TOO_LARGE, message, True)
                elif _is_json(scope) and _nested_too_deeply(body):
                    message = (
                        f"the request body is not valid JSON for this API: it nests arrays or objects more "
                        f"than {MAX_JSON_DEPTH} levels deep; send a JSON object as the API docs at /docs show"
                    )
                    refusal = (422, INVALID_JSON, message, False)
            if refusal is not None:
                status, code, message, close = refusal
                state[ERROR_CODE_STATE] = code
                await _send_json(send_with_id, status, error_body(code, message), close=close)
            else:
                await self.app(scope, replay, send_with_id)
        except Exception:
            log.exception("unhandled error in request %s %s %s", request_id, scope.get("method"), scope.get("path"))
            if response["started"]:
                raise  # too late for an error response; let the server close the connection
            state[ERROR_CODE_STATE] = INTERNAL_ERROR
            message = f"internal server error; the server log has the details under request id {request_id}"
            await _send_json(send_with_id, 500, error_body(INTERNAL_ERROR, message))
        finally:
            seconds = time.perf_counter() - started
            self._record(scope, state, request_id, response["status"], seconds)

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[Receive | None, bytes]:
        """Read the whole body; return a ``receive`` that replays it and the body (None, b"" when too large)."""
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            return None, b""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                pending = [message]  # the client went away; let the app see that
                break
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                if message.get("more_body", False):
                    await _discard_rest(receive, budget=self.max_body_bytes)
                return None, b""
            chunks.append(body)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        whole = pending[0].get("body", b"") if pending and pending[0]["type"] == "http.request" else b""
        return replay, whole

    def _endpoint(self, scope: Scope) -> str:
        """The route template that served the request (a bounded label), or ``unmatched``."""
        route = scope.get("route")
        path = getattr(route, "path", None)
        if path:
            return path
        if self._route_paths is None and "app" in scope:
            self._route_paths = frozenset(getattr(r, "path", "") for r in scope["app"].routes)
        return scope["path"] if self._route_paths and scope["path"] in self._route_paths else UNMATCHED

    def _record(self, scope: Scope, state: dict[str, Any], request_id: str, status: int, seconds: float) -> None:
        endpoint = self._endpoint(scope)
        version = state.get(MODEL_VERSION_STATE) or NO_MODEL
        code = state.get(ERROR_CODE_STATE)
        self.metrics.observe_request(endpoint, scope["method"], status, seconds, version, code)
        entry = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "ms": round(seconds * 1000, 2),
            "model_version": version,
        }
        if code:
            entry["error"] = code
        level = logging.WARNING if status >= 500 else logging.INFO
        if request_log.isEnabledFor(level):
            request_log.log(level, "%s", json.dumps(entry), extra={REQUEST_FIELDS: entry})


async def _discard_rest(receive: Receive, budget: int) -> None:
    """Read and drop the rest of a refused body, up to ``budget`` bytes.

    A client that is still sending when the server closes the connection gets a TCP reset and
    may never see the 413; draining a little more lets a body up to twice the limit end first.
    """
    dropped = 0
    while dropped <= budget:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


async def _send_json(send: Send, status: int, body: dict[str, Any], close: bool = False) -> None:
    payload = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:  # the rest of the request body was not read, so the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
