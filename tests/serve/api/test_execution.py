"""Short one-article requests on a numpy-only bundle run on the event loop; everything else on a thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import Response
from fastapi.testclient import TestClient

from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.execution import model_endpoint, numpy_only, runs_inline
from newsdesk.train.bundle import TFIDF_BACKEND, load_bundle
from tests.helpers.api_fixtures import make_settings

SHORT = "The striker scored twice as the club won the league on Saturday."


def thread_running(bundle: object, settings: object, text: str) -> str:
    """The name of the thread ``model_endpoint`` ran its work on, called from an event loop."""
    seen: list[str] = []

    def work(body: object, model: object) -> Response:
        seen.append(threading.current_thread().name)
        return Response()

    endpoint = model_endpoint(work)
    body = SimpleNamespace(text=text, title=None)
    asyncio.run(endpoint(body=body, model=SimpleNamespace(bundle=bundle, settings=settings)))
    return seen[0]


def test_a_short_text_runs_on_the_event_loop_and_a_long_one_on_a_thread(tiny_bundle_dir: Path) -> None:
    bundle = load_bundle(tiny_bundle_dir)
    settings = make_settings(tiny_bundle_dir, inline_max_chars=100)
    loop_thread = threading.current_thread().name  # asyncio.run runs the loop on this thread
    assert thread_running(bundle, settings, SHORT) == loop_thread
    assert thread_running(bundle, settings, SHORT * 3) != loop_thread


def test_inline_max_chars_zero_always_uses_a_thread(tiny_bundle_dir: Path) -> None:
    bundle = load_bundle(tiny_bundle_dir)
    settings = make_settings(tiny_bundle_dir, inline_max_chars=0)
    assert thread_running(bundle, settings, "x") != threading.current_thread().name


@pytest.mark.parametrize(
    ("backend", "extra_features", "expected"),
    [(TFIDF_BACKEND, None, True), ("ensemble", None, False), (TFIDF_BACKEND, object(), False)],
)
def test_only_numpy_only_bundles_run_inline(
    tiny_bundle_dir: Path, backend: str, extra_features: object, expected: bool
) -> None:
    bundle = load_bundle(tiny_bundle_dir)
    settings = make_settings(tiny_bundle_dir)
    bundle.manifest["classifier"]["backend"] = backend
    bundle.summarizer.extra_features = extra_features
    assert numpy_only(bundle) is expected
    assert runs_inline(bundle, len(SHORT), settings) is expected


def test_the_api_answers_the_same_inline_and_on_threads(tiny_bundle_dir: Path) -> None:
    answers = []
    for inline_max_chars in (0, 20_000):
        with TestClient(create_app(make_settings(tiny_bundle_dir, inline_max_chars=inline_max_chars))) as client:
            body = {"text": SHORT + " The manager praised the team after the match.", "title": "A win"}
            responses = [client.post(path, json=body) for path in ("/v1/predict", "/v1/summarize", "/v1/analyze")]
            assert [r.status_code for r in responses] == [200, 200, 200]
            errors = client.post("/v1/predict", json={"text": "   "})
            assert errors.status_code == 422
            answers.append([r.json() for r in responses] + [errors.json()["error"]["code"]])
    assert answers[0] == answers[1]
