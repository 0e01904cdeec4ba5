"""uvicorn's HTTP/1.1 protocol (httptools) with a deadline and a size limit for request headers.

uvicorn closes a keep-alive connection that stays idle, but it has no limit on how
long a client may take to send a request's headers: a client that sends one byte
every few seconds holds a connection (and a place under ``limit_concurrency``) for
ever ("slow loris"). :class:`HeaderDeadlineProtocol` gives every request
``header_timeout`` seconds, counted from the connection being opened or from the
previous response, to deliver its complete headers. A client that sent part of a
request then gets a 408 in the API's error shape and the connection is closed; a
connection that sent nothing is closed silently. The body has its own deadline, in
:class:`newsdesk.serve.api.middleware.RequestContextMiddleware`.

The protocol is uvicorn's httptools one (a C parser: about 0.3 ms less CPU per request
than the pure-Python h11 one, measured with ``bench/serve.py``), which has no limit on
the size of a request's headers; this one answers a request line plus headers over
``max_header_bytes`` with a 431.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from newsdesk.serve.api.errors import HEADERS_TOO_LARGE, REQUEST_TIMEOUT, error_body

log = logging.getLogger("newsdesk.serve")


def error_response(status: str, code: str, message: str) -> bytes:
    """A complete HTTP response in the API's error shape that closes the connection."""
    payload = json.dumps(error_body(code, message)).encode("utf-8")
    head = (
        f"HTTP/1.1 {status}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n"
        f"x-request-id: {uuid.uuid4().hex}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def timeout_response(seconds: float) -> bytes:
    """A complete ``408 Request Timeout`` HTTP response in the API's error shape, closing the connection."""
    message = (
        f"the request headers did not arrive within {seconds:g} s (NEWSDESK_REQUEST_TIMEOUT_SECONDS); "
        "the connection is closed"
    )
    return error_response("408 Request Timeout", REQUEST_TIMEOUT, message)


def headers_too_large_response(limit: int) -> bytes:
    """A complete ``431`` HTTP response in the API's error shape, closing the connection."""
    message = f"the request line and headers are over {limit} bytes; send fewer or shorter headers"
    return error_response("431 Request Header Fields Too Large", HEADERS_TOO_LARGE, message)


class HeadersTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose headers are over the limit (uvicorn
    then calls :meth:`HeaderDeadlineProtocol.send_400_response`, which answers 431)."""


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a request's headers must arrive within ``header_timeout`` seconds
    and be at most ``max_header_bytes`` long."""

    def __init__(self, *args: Any, header_timeout: float, max_header_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True  # between a response (or the connection opening) and complete headers
        self._header_bytes = 0  # bytes received while awaiting headers
        self._header_size = 0  # bytes of the current request's line and headers parsed so far

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._awaiting_headers, self._header_bytes = True, 0
        self._start_header_timer()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers any parser error with a 400; headers over the limit stop the parser too.
        if self._header_size > self.max_header_bytes:
            self._refuse_large_headers()
        else:
            super().send_400_response(msg)

    # Parser callbacks: the request line and every header count towards the limit.
    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._stop_header_timer()
        super().on_headers_complete()

    def _count_header_bytes(self, size: int) -> None:
        self._header_size += size
        if self._header_size > self.max_header_bytes:
            raise HeadersTooLarge

    def on_message_begin(self) -> None:
        self._header_size = 0
        super().on_message_begin()

    def _refuse_large_headers(self) -> None:
        log.warning(
            "refusing a request from %s: request line and headers over %d bytes",
            f"{self.client[0]}:{self.client[1]}" if self.client else "?",
            self.max_header_bytes,
        )
        self._stop_header_timer()
        if not self.transport.is_closing():
            self.transport.write(headers_too_large_response(self.max_header_bytes))
            self.transport.close()

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
        if self.transport.is_closing() or not self._awaiting_headers:
            return  # the headers arrived in time: the request is being read or answered
        if self._header_bytes:
            log.warning(
                "closing a connection from %s: request headers not complete after %g s (%d bytes received)",
                f"{self.client[0]}:{self.client[1]}" if self.client else "?",
                self.header_timeout,
                self._header_bytes,
            )
            self.transport.write(timeout_response(self.header_timeout))
        self.transport.close()
