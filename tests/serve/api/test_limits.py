"""The server's limits: body size, JSON nesting, batch size, and slow clients, each with its documented answer.

In-process (TestClient) for the body, nesting and batch limits; against a real
``newsdesk serve`` process with raw sockets for the slow-client deadlines, which
live in uvicorn's protocol (headers) and the request middleware (body).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from helpers.api_fixtures import SPORT_TEXT, fixture_articles, make_settings, serving
from helpers.server_process import running_server
from newsdesk.serve.api.errors import (
    BATCH_TOO_LARGE,
    HEADERS_TOO_LARGE,
    INVALID_JSON,
    PAYLOAD_TOO_LARGE,
    REQUEST_TIMEOUT,
)
from newsdesk.serve.api.metrics import ServiceMetrics
from newsdesk.serve.api.middleware import MAX_JSON_DEPTH, RequestContextMiddleware, json_nesting_depth

BODY_LIMIT = 64 * 1024
POSTS = ["/v1/predict", "/v1/predict/batch", "/v1/summarize", "/v1/analyze", "/v1/admin/reload"]


@pytest.fixture(scope="module")
def client(tiny_bundle_dir: Path) -> Iterator[TestClient]:
    """The default limits (2 MiB bodies, 256-article batches)."""
    with serving(tiny_bundle_dir) as client:
        yield client


@pytest.fixture(scope="module")
def small_client(tiny_bundle_dir: Path) -> Iterator[TestClient]:
    with serving(tiny_bundle_dir, max_body_bytes=BODY_LIMIT) as client:
        yield client


def error_of(response: httpx.Response, status: int, code: str) -> str:
    """The response is ``status`` in the one error shape with ``code``; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


# --------------------------------------------------------------------------- body size


def run_middleware(headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> tuple[list[dict], int, bool]:
    """Send a request through the middleware alone; returns the messages sent, body bytes read, app reached."""
    read = 0
    reached = False

    async def receive() -> dict:
        nonlocal read
        chunk = next(chunks)
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def app(scope, receive, send) -> None:
        nonlocal reached
        reached = True

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    middleware = RequestContextMiddleware(
        app, metrics=ServiceMetrics(), max_body_bytes=BODY_LIMIT, request_timeout_seconds=5
    )
    scope = {"type": "http", "method": "POST", "path": "/v1/predict", "headers": headers, "query_string": b""}
    asyncio.run(middleware(scope, receive, send))
    return sent, read, reached


def endless(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


def test_a_declared_oversized_body_is_refused_without_reading_it() -> None:
    sent, read, reached = run_middleware([(b"content-length", b"1000000000")], endless(b"x" * 4096))
    assert read == 0 and not reached
    assert sent[0]["status"] == 413 and (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"]["code"] == PAYLOAD_TOO_LARGE


def test_an_endless_chunked_body_is_held_only_up_to_the_limit() -> None:
    """No Content-Length (chunked): the body is kept up to the limit, then at most as much again is dropped."""
    sent, read, reached = run_middleware([(b"transfer-encoding", b"chunked")], endless(b"x" * 4096))
    assert BODY_LIMIT < read <= 2 * BODY_LIMIT + 2 * 4096 and not reached
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"])["error"]["code"] == PAYLOAD_TOO_LARGE


def test_a_body_that_lies_about_its_length_is_still_limited() -> None:
    sent, read, _ = run_middleware([(b"content-length", b"10")], endless(b"x" * 4096))
    assert read <= 2 * BODY_LIMIT + 2 * 4096 and sent[0]["status"] == 413


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_bodies_get_413_in_the_error_shape(small_client: TestClient, chunked: bool) -> None:
    body = json.dumps({"text": "x" * (BODY_LIMIT + 10)}).encode()
    content = iter([body[i : i + 8192] for i in range(0, len(body), 8192)]) if chunked else body
    response = small_client.post("/v1/predict", content=content, headers={"Content-Type": "application/json"})
    message = error_of(response, 413, PAYLOAD_TOO_LARGE)
    assert f"{BODY_LIMIT} bytes" in message and "NEWSDESK_MAX_BODY_BYTES" in message


# --------------------------------------------------------------------------- JSON nesting


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("shape", ["arrays", "objects", "in a field", "in a batch"])
def test_json_nested_100000_levels_is_a_quick_422(client: TestClient, path: str, shape: str) -> None:
    depth = 100_000
    body = {
        "arrays": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "1" + "}" * depth,
        "in a field": '{"text": ' + "[" * depth + "]" * depth + "}",
        "in a batch": '{"articles": [' + '{"text": ' * depth + '"x"' + "}" * depth + "]}",
    }[shape]
    started = time.perf_counter()
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert time.perf_counter() - started < 2
    message = error_of(response, 422, INVALID_JSON)
    assert f"more than {MAX_JSON_DEPTH} levels deep" in message


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH + 1, 500, 980, 990, 1000, 1100, 5000])
def test_no_nesting_depth_is_a_server_error(client: TestClient, depth: int) -> None:
    """Around the limit and around Python's recursion limit (where json.loads gives up) alike."""
    for body in ('{"text": ' + "[" * depth + "]" * depth + "}", '{"articles": [' + "[" * depth + "]" * depth + "]}"):
        for path in ("/v1/predict", "/v1/predict/batch"):
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code in (200, 422), response.text
            assert set(response.json()) == ({"error"} if response.status_code == 422 else set(response.json()))


def test_brackets_inside_strings_do_not_count(client: TestClient) -> None:
    text = SPORT_TEXT + " " + "[{" * 5000 + "}]" * 5000
    response = client.post("/v1/predict", json={"text": text})
    assert response.status_code == 200, response.text
    assert json_nesting_depth(json.dumps({"text": text, "a": [[["]"]]]}).encode()) == 4  # the object and 3 arrays


def test_a_body_that_is_not_utf8_is_invalid_json(client: TestClient) -> None:
    response = client.post("/v1/predict", content=b'{"text": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert "not UTF-8" in error_of(response, 422, INVALID_JSON)


# --------------------------------------------------------------------------- batch size


def big_batch(n: int) -> list[dict[str, str]]:
    """``n`` articles cycling through the fixture articles, each with its own id."""
    rows = fixture_articles().to_dict("records")
    return [
        {"id": f"a{i}", "title": rows[i % len(rows)]["title"], "text": rows[i % len(rows)]["text"]} for i in range(n)
    ]


def test_a_10000_article_batch_is_refused_quickly_by_default(tiny_bundle_dir: Path) -> None:
    articles = big_batch(10_000)
    body = json.dumps({"articles": articles}).encode()
    with serving(tiny_bundle_dir) as default:  # 2 MiB bodies, 256 articles
        started = time.perf_counter()
        response = default.post("/v1/predict/batch", content=body, headers={"Content-Type": "application/json"})
        assert time.perf_counter() - started < 2
        assert "2097152 bytes" in error_of(response, 413, PAYLOAD_TOO_LARGE)
    with serving(tiny_bundle_dir, max_body_bytes=64 * 1024 * 1024) as big_bodies:
        started = time.perf_counter()
        response = big_bodies.post("/v1/predict/batch", content=body, headers={"Content-Type": "application/json"})
        assert time.perf_counter() - started < 5
        message = error_of(response, 413, BATCH_TOO_LARGE)
        assert "10000 items" in message and "at most 256" in message and "NEWSDESK_MAX_BATCH_SIZE" in message


def test_a_10000_article_batch_is_served_when_the_limits_allow(tiny_bundle_dir: Path, capsys) -> None:
    articles = big_batch(10_000)
    with serving(tiny_bundle_dir, max_batch_size=10_000, max_body_bytes=64 * 1024 * 1024) as client:
        single = client.post("/v1/predict", json={"text": articles[7]["text"], "title": articles[7]["title"]}).json()
        started = time.perf_counter()
        response = client.post("/v1/predict/batch", json={"articles": articles})
        seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["succeeded"] == 10_000 and body["failed"] == 0
    assert [r["id"] for r in body["results"]] == [a["id"] for a in articles]
    assert body["results"][7]["prediction"]["topic"] == single["topic"]
    assert body["results"][7]["prediction"]["score"] == single["score"]
    with capsys.disabled():
        print(f"\n10,000-article batch: {seconds:.2f} s ({10_000 / seconds:.0f} articles/s)")


# --------------------------------------------------------------------------- slow clients (real server)

SLOW_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def slow_server(tiny_bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("slow") / "server.log"
    options = ["--request-timeout-seconds", str(SLOW_TIMEOUT), "--keep-alive-seconds", "1"]
    with running_server(tiny_bundle_dir, log, *options) as url:
        yield url


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=SLOW_TIMEOUT * 5)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def trickle(sock: socket.socket, data: bytes, every: float, stop: threading.Event) -> None:
    """Send ``data`` one byte every ``every`` seconds until done, stopped, or the server closes."""
    for byte in data:
        if stop.wait(every):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def response_of(raw: bytes) -> tuple[int, dict]:
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"connection: close" in head.lower(), head
    return status, json.loads(payload)


def served_meanwhile(url: str, seconds: float) -> list[float]:
    """Latencies of ordinary requests sent for ``seconds`` (a new connection each)."""
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = httpx.post(url + "/v1/predict", json={"text": SPORT_TEXT}, headers={"Connection": "close"})
        assert response.status_code == 200, response.text
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    return latencies


@pytest.mark.parametrize("stage", ["headers", "body"])
def test_a_slow_client_gets_408_in_time_while_others_are_served(slow_server: str, stage: str) -> None:
    body = json.dumps({"text": SPORT_TEXT}).encode()
    head = (
        f"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    stop = threading.Event()
    with connect(slow_server) as slow:
        if stage == "body":
            slow.sendall(head)
            data = body
        else:
            data = head + body
        started = time.monotonic()
        # One byte every 0.2 s until just before the deadline, so the deadline must count from the start,
        # not from the last byte (that would close at about 3.8 s). Nothing is sent after it: a byte that
        # reaches a closed socket draws a reset, which can discard the 408 before the client reads it.
        data = data[: int((SLOW_TIMEOUT - 0.2) / 0.2)]
        sender = threading.Thread(target=trickle, args=(slow, data, 0.2, stop), daemon=True)
        sender.start()
        latencies = served_meanwhile(slow_server, SLOW_TIMEOUT / 2)
        raw = read_until_closed(slow)
        waited = time.monotonic() - started
        stop.set()
        sender.join()
    status, error = response_of(raw)
    assert status == 408 and error["error"]["code"] == REQUEST_TIMEOUT, error
    assert "NEWSDESK_REQUEST_TIMEOUT_SECONDS" in error["error"]["message"]
    assert SLOW_TIMEOUT - 0.5 < waited < SLOW_TIMEOUT + 1.5
    assert len(latencies) >= 3 and max(latencies) < 1.0, latencies


def test_a_connection_that_sends_nothing_is_closed_at_the_deadline(slow_server: str) -> None:
    with connect(slow_server) as idle:
        started = time.monotonic()
        assert read_until_closed(idle) == b""
        assert SLOW_TIMEOUT - 0.5 < time.monotonic() - started < SLOW_TIMEOUT + 1.5


def test_an_idle_keep_alive_connection_is_closed(slow_server: str) -> None:
    with connect(slow_server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        first = b""
        while b'{"status":"ok"}' not in first:
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert read_until_closed(sock) == b""  # keep-alive 1 s
        assert time.monotonic() - started < 1.5 + 0.5


def test_an_oversized_body_is_refused_by_a_real_server_before_it_is_sent(slow_server: str) -> None:
    with connect(slow_server) as sock:
        sock.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        status, error = response_of(read_until_closed(sock))
    assert status == 413 and error["error"]["code"] == PAYLOAD_TOO_LARGE


@pytest.mark.parametrize("megabytes", [3, 40])
def test_a_chunked_body_over_the_limit_is_refused_by_a_real_server(slow_server: str, megabytes: int) -> None:
    """3 MiB (under twice the 2 MiB limit) is drained and answered; 40 MiB is cut off after about 4 MiB."""
    chunk = b"x" * 65536
    with connect(slow_server) as sock:
        sock.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        try:
            while sent < megabytes * 1024 * 1024:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server stopped reading and closed
            assert megabytes == 40
            return
        raw = read_until_closed(sock)
    assert megabytes == 3
    status, error = response_of(raw)
    assert status == 413 and error["error"]["code"] == PAYLOAD_TOO_LARGE


def test_headers_over_the_limit_get_431_from_a_real_server(slow_server: str) -> None:
    from newsdesk.serve.api.server import MAX_HEADER_BYTES

    with connect(slow_server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n")
        raw = read_until_closed(sock)
    status, error = response_of(raw)
    assert status == 431 and error["error"]["code"] == HEADERS_TOO_LARGE


def test_headers_just_under_the_limit_are_served(slow_server: str) -> None:
    padding = "a" * 8000
    response = httpx.get(slow_server + "/health", headers={"X-Padding": padding, "X-Padding-2": padding})
    assert response.status_code == 200


def test_uvicorn_gets_the_connection_limits(tiny_bundle_dir: Path) -> None:
    from newsdesk.serve.api.http_protocol import HeaderDeadlineProtocol
    from newsdesk.serve.api.server import MAX_HEADER_BYTES, uvicorn_options

    settings = make_settings(tiny_bundle_dir, request_timeout_seconds=7, keep_alive_seconds=3, max_connections=50)
    options = uvicorn_options(settings)
    assert options["timeout_keep_alive"] == 3 and options["limit_concurrency"] == 50
    assert options["http"].func is HeaderDeadlineProtocol
    assert options["loop"] == "asyncio"  # not uvloop, even where it is installed (slower here)
    assert options["http"].keywords == {"header_timeout": 7, "max_header_bytes": MAX_HEADER_BYTES}
    assert MAX_HEADER_BYTES == 16 * 1024
    defaults = make_settings(tiny_bundle_dir)
    assert (defaults.request_timeout_seconds, defaults.keep_alive_seconds, defaults.max_connections) == (30, 5, 1000)
