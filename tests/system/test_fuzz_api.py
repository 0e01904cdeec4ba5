"""Schemathesis fuzzes every endpoint of the service's own OpenAPI schema, with and without an API key.

Three apps serve the tiny bundle: one without a key, and one with ``NEWSDESK_API_KEY``
that the fuzzer calls once with the right key and once without it (or with a wrong
one). Each operation gets the schema's examples, the coverage phase (boundary and
invalid values: missing fields, wrong types, out-of-range numbers) and
``FUZZ_MAX_EXAMPLES`` generated cases (positive and negative), derandomised with a
fixed seed so CI sees the same cases every run. Every response must be a non-5xx
that the schema documents, and every error body must be ``{"error": {"code", "message"}}``.

A longer local run: ``FUZZ_MAX_EXAMPLES=500 pytest tests/system/test_fuzz_api.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import Case, CheckContext, Response
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from helpers.api_fixtures import SPORT_TEXT, make_app, serving

FUZZ_SEED = 20240917
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
API_KEY = "fuzz-key-0123456789"
WRONG_KEYS = ({}, {"Authorization": "Bearer not-the-key"}, {"X-API-Key": "not-the-key"})


def fuzz_config() -> schemathesis.Config:
    """Every phase but stateful, positive and negative data, a fixed seed, no example database."""
    return schemathesis.Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "base-url": "http://testserver",
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


def error_shape(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx/5xx body is exactly ``{"error": {"code": str, "message": str}}``, with a request id."""
    if response.status_code < 400:
        return None
    body: Any = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"error body is not {{'error': ...}}: {body!r}"
    detail = body["error"]
    assert isinstance(detail, dict) and set(detail) == {"code", "message"}, f"error detail shape: {detail!r}"
    assert isinstance(detail["code"], str) and detail["code"], f"error code: {detail!r}"
    assert isinstance(detail["message"], str) and detail["message"], f"error message: {detail!r}"
    assert response.headers.get("x-request-id"), "no X-Request-ID header on an error"
    return True


# Reasons to refuse a request that the schema cannot express: the text is too long for this server's
# settings, or nothing is left of it after cleaning, or it has no sentence to summarise.
CONTENT_REFUSALS = {"text_too_long", "payload_too_large", "batch_too_large", "empty_text", "cannot_summarize"}


def positive_data_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A request the schema allows is served, or refused only for its content (schemathesis's own check,
    positive_data_acceptance, would also fail an article that is empty after cleaning)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code not in (413, 422):
        return None
    error = response.json()["error"]
    assert error["code"] in CONTENT_REFUSALS, f"a schema-valid request was refused: {error}"
    return True


def negative_data_refused(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A request the schema does not allow is refused; in a batch, a bad article gets its own error entry
    and the others are still served (200), so there at least one result must be an error."""
    if case.meta is None or case.meta.generation.mode.is_positive:
        return None
    if case.path == "/v1/predict/batch" and response.status_code == 200:
        body = response.json()
        assert body["failed"] >= 1, f"a schema-violating batch was served without an error entry: {body}"
        return True
    return negative_data_rejection(ctx, response, case)


CHECKS = {
    "additional_checks": [error_shape, positive_data_accepted, negative_data_refused],
    "excluded_checks": [positive_data_acceptance, negative_data_rejection],
}


def unauthorized_only(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Without the right key a /v1 endpoint never answers 2xx."""
    if case.path.startswith("/v1"):
        assert response.status_code >= 400, f"{case.method} {case.path} answered {response.status_code} without the key"
    return True


def service_schema(**settings: Any) -> Any:
    """The OpenAPI schema the app serves at /openapi.json with these settings (no model is loaded)."""
    return schemathesis.openapi.from_dict(make_app(Path("not-loaded"), **settings).openapi(), config=fuzz_config())


# Schemathesis needs the operations when pytest collects the tests (one test per operation); the
# schema does not depend on the model, so it comes from an app that is never started. The apps the
# cases run against are fixtures serving the tiny bundle (see ``against``; schemathesis runs their
# lifespan and ends it after each test). Its ``from_fixture`` loader does not work with pytest 9.
OPEN_API = service_schema()
KEYED_API = service_schema(api_key=API_KEY)


@pytest.fixture(scope="module")
def open_app(tiny_bundle_dir: Path) -> FastAPI:
    return make_app(tiny_bundle_dir)


@pytest.fixture(scope="module")
def keyed_app(tiny_bundle_dir: Path) -> FastAPI:
    return make_app(tiny_bundle_dir, api_key=API_KEY)


def against(case: Case, app: FastAPI) -> Case:
    """Send ``case`` (and the extra requests some checks make, such as ignored_auth's) to ``app``."""
    case.operation.app = app
    case.operation.schema.app = app
    return case


@OPEN_API.parametrize()
def test_fuzz_without_a_key(case: Case, open_app: FastAPI) -> None:
    against(case, open_app).call_and_validate(**CHECKS)


@KEYED_API.parametrize()
def test_fuzz_with_the_right_key(case: Case, keyed_app: FastAPI) -> None:
    against(case, keyed_app).call_and_validate(headers={"Authorization": f"Bearer {API_KEY}"}, **CHECKS)


@KEYED_API.parametrize()
def test_fuzz_without_the_key(case: Case, keyed_app: FastAPI) -> None:
    against(case, keyed_app)
    for headers in WRONG_KEYS:
        case.call_and_validate(
            headers=headers,
            additional_checks=[error_shape, unauthorized_only],
            excluded_checks=[positive_data_acceptance, negative_data_rejection],
        )


def test_integral_floats_are_integers(tiny_bundle_dir: Path) -> None:
    """Found by the fuzzer: JSON Schema counts 2.0 as an integer, so a client checking its request against
    /openapi.json sends it; the server must accept it (and still refuse 2.5, "2" and true)."""
    with serving(tiny_bundle_dir) as client:
        assert client.post("/v1/predict", json={"text": SPORT_TEXT, "top_k": 2.0}).status_code == 200
        assert client.post("/v1/summarize", json={"text": SPORT_TEXT, "max_sentences": 1.0}).status_code == 200
        for wrong in (2.5, "2", True):
            assert client.post("/v1/predict", json={"text": SPORT_TEXT, "top_k": wrong}).status_code == 422
