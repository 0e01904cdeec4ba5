"""What happens around every HTTP request: request id, body-size limit, metrics, one log line, last-resort 500.

A plain ASGI middleware (not ``BaseHTTPMiddleware``, which costs a task and a
stream per request). It reads the body first, refusing it with a 413 once it
passes ``max_body_bytes`` (or at once when ``Content-Length`` says so), so no
endpoint ever sees an oversized body.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.deps import MODEL_VERSION_STATE
from serve.errors import ERROR_CODE_STATE, INTERNAL_ERROR, PAYLOAD_TOO_LARGE, error_body
from serve.metrics import NO_MODEL, UNMATCHED, ServiceMetrics
from serve.request_log import REQUEST_FIELDS, REQUEST_LOGGER

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_BYTES = REQUEST_ID_HEADER.lower().encode("latin-1")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
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


class RequestContextMiddleware:
    """Request id header, body limit, metrics and a structured log line for every HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
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
            replay = await self._read_body(scope, receive)
            if replay is None:
                state[ERROR_CODE_STATE] = PAYLOAD_TOO_LARGE
                message = (
                    f"the request body is larger than this server accepts ({self.max_body_bytes} bytes, "
                    f"NEWSDESK_MAX_BODY_BYTES); send less, or split a batch"
                )
                await _send_json(send_with_id, 413, error_body(PAYLOAD_TOO_LARGE, message))
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

    async def _read_body(self, scope: Scope, receive: Receive) -> Receive | None:
        """Read the whole body (or refuse it when too large); return a ``receive`` that replays it."""
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            return None
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
                return None
            chunks.append(body)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        return replay

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


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
