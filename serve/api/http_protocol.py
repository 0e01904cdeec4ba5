"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for request headers, against slow ("slow-loris") clients.

uvicorn closes a keep-alive connection that stays idle, but it has no limit on how
long a client may take to send a request's headers: a client that sends one byte
every few seconds holds a connection (and a place under ``limit_concurrency``) for
ever. :class:`HeaderDeadlineProtocol` gives every request ``header_timeout``
seconds, counted from the connection being opened or from the previous response,
to deliver its complete headers. A client that sent part of a request then gets a
408 in the API's error shape and the connection is closed; a connection that sent
nothing is closed silently. The body has its own deadline, in
:class:`newsdesk.serve.api.middleware.RequestContextMiddleware`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from newsdesk.serve.api.errors import REQUEST_TIMEOUT, error_body

log = logging.getLogger("newsdesk.serve")


def timeout_response(seconds: float) -> bytes:
    """A complete ``408 Request Timeout`` HTTP response in the API's error shape, closing the connection."""
    message = (
        f"the request headers did not arrive within {seconds:g} s (NEWSDESK_REQUEST_TIMEOUT_SECONDS); "
        "the connection is closed"
    )
    payload = json.dumps(error_body(REQUEST_TIMEOUT, message)).encode("utf-8")
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n"
        f"x-request-id: {uuid.uuid4().hex}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + payload


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol; a request's headers must arrive within ``header_timeout`` seconds."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_header_timer()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _start_header_timer(self) -> None:
        self._stop_header_timer()
        if not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # the headers arrived in time: the request is being read or answered
        partial, _ = self.conn.trailing_data
        if partial:
            log.warning(
                "closing a connection from %s: request headers not complete after %g s (%d bytes received)",
                f"{self.client[0]}:{self.client[1]}" if self.client else "?",
                self.header_timeout,
                len(partial),
            )
            self.transport.write(timeout_response(self.header_timeout))
        self.transport.close()
