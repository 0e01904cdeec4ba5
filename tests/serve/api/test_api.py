"""The HTTP API against a tiny bundle: every endpoint, its error paths, and the one error shape."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers.api_fixtures import SPORT_TEXT, fixture_articles, make_app, make_settings, metric_value, serving
from newsdesk.serve.analysis import clean_article, predict_topics, summarize_article
from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.errors import (
    BATCH_TOO_LARGE,
    EMPTY_TEXT,
    INTERNAL_ERROR,
    INVALID_JSON,
    METHOD_NOT_ALLOWED,
    NO_SUMMARIZER,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    TEXT_TOO_LONG,
    UNAUTHORIZED,
    VALIDATION_ERROR,
)
from newsdesk.train.bundle import Bundle, load_bundle

V1_POSTS = ["/v1/predict", "/v1/summarize", "/v1/analyze"]


@pytest.fixture(scope="module")
def client(tiny_bundle_dir: Path) -> Iterator[TestClient]:
    with serving(tiny_bundle_dir, max_text_chars=5_000, max_batch_size=8, max_body_bytes=64 * 1024) as client:
        yield client


def assert_error(response, status: int, code: str, *words: str) -> str:
    """The response has ``status`` and the one error shape with ``code``; its message contains ``words``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    for word in words:
        assert word in body["error"]["message"], body["error"]["message"]
    assert response.headers.get("x-request-id")
    return body["error"]["message"]


# --------------------------------------------------------------------------- endpoints


def test_predict_returns_topic_scores_and_model(client: TestClient, tiny_bundle_dir: Path) -> None:
    response = client.post("/v1/predict", json={"text": SPORT_TEXT, "title": "Champions win again", "top_k": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {"name": "tiny", "version": "v0001"}
    assert body["topic"] == "sport" and body["labels"] == ["sport"]
    assert len(body["scores"]) == 2 and body["scores"][0] == {"label": "sport", "score": body["score"]}
    assert body["scores"][0]["score"] >= body["scores"][1]["score"]
    # The same numbers as the shared library code the batch scorer uses.
    bundle = load_bundle(tiny_bundle_dir)
    [expected] = predict_topics(bundle, [clean_article(SPORT_TEXT, "Champions win again", bundle.cleaning)], top_k=2)
    assert [(s["label"], s["score"]) for s in body["scores"]] == list(expected.scores)


def test_predict_gets_the_fixture_topics_right(client: TestClient) -> None:
    articles = fixture_articles().head(8)
    for row in articles.itertuples():
        body = client.post("/v1/predict", json={"text": row.text, "title": row.title}).json()
        assert body["topic"] == row.category, row.id


def test_batch_keeps_order_and_reports_bad_articles_alone(client: TestClient) -> None:
    articles = fixture_articles()
    sent = [
        {"id": "ok-0", "text": articles.text[0]},
        {"id": "missing-text"},
        {"id": "wrong-type", "text": 42},
        "not an object",
        {"id": "blank", "text": "   \n  "},
        {"id": "too-long", "text": "word " * 2000},
        {"id": "typo", "text": "x", "topk": 2},
        {"id": "ok-7", "text": articles.text[12], "top_k": 1},
    ]
    response = client.post("/v1/predict/batch", json={"articles": sent})
    assert response.status_code == 200, response.text
    body = response.json()
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(sent)))
    assert [r["id"] for r in results] == [a.get("id") if isinstance(a, dict) else None for a in sent]
    assert body["succeeded"] == 2 and body["failed"] == 6
    assert results[0]["prediction"]["topic"] == articles.category[0] and results[0]["error"] is None
    assert results[7]["prediction"]["topic"] == articles.category[12] and len(results[7]["prediction"]["scores"]) == 1
    errors = {r["id"] or r["index"]: r["error"] for r in results if r["error"]}
    assert errors["missing-text"]["code"] == VALIDATION_ERROR
    assert "articles[1].text" in errors["missing-text"]["message"]
    assert "articles[2].text" in errors["wrong-type"]["message"] and "valid string" in errors["wrong-type"]["message"]
    assert "articles[3]" in errors[3]["message"]
    assert errors["blank"]["code"] == EMPTY_TEXT and "articles[4].text" in errors["blank"]["message"]
    assert errors["too-long"]["code"] == TEXT_TOO_LONG and "articles[5].text" in errors["too-long"]["message"]
    assert "articles[6].topk" in errors["typo"]["message"]
    for result in results:
        assert (result["prediction"] is None) != (result["error"] is None)


def test_batch_predictions_match_single_predictions(client: TestClient) -> None:
    texts = list(fixture_articles().text[:6])
    batch = client.post("/v1/predict/batch", json={"articles": [{"text": t} for t in texts]}).json()
    singles = [client.post("/v1/predict", json={"text": t}).json() for t in texts]
    for result, single in zip(batch["results"], singles):
        assert result["prediction"]["scores"] == single["scores"]


def test_summarize_returns_sentences_with_positions(client: TestClient, tiny_bundle_dir: Path) -> None:
    response = client.post("/v1/summarize", json={"text": SPORT_TEXT, "max_sentences": 2, "include_cleaned_text": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"]["version"] == "v0001"
    assert 1 <= len(body["sentences"]) <= 2 and body["article_sentences"] == 4
    for sentence in body["sentences"]:
        assert body["cleaned_text"][sentence["start"] : sentence["end"]] == sentence["text"]
    assert body["summary"] == " ".join(s["text"] for s in body["sentences"])
    indices = [s["index"] for s in body["sentences"]]
    assert indices == sorted(indices)
    bundle = load_bundle(tiny_bundle_dir)
    expected = summarize_article(bundle, clean_article(SPORT_TEXT, None, bundle.cleaning), max_sentences=2)
    assert body["summary"] == expected.text and body["method"] == expected.method
    # Without the flag the cleaned text stays out of the response.
    assert client.post("/v1/summarize", json={"text": SPORT_TEXT}).json()["cleaned_text"] is None


def test_summarize_length_options(client: TestClient) -> None:
    one = client.post("/v1/summarize", json={"text": SPORT_TEXT, "max_words": 5}).json()
    assert len(one["sentences"]) == 1
    everything = client.post("/v1/summarize", json={"text": SPORT_TEXT, "ratio": 1.0}).json()
    assert len(everything["sentences"]) >= len(one["sentences"])


def test_summarize_and_analyze_take_a_length_preset(client: TestClient) -> None:
    long_text = " ".join([SPORT_TEXT] + [f"The club said ticket number {i} sold out in minutes." for i in range(8)])
    brief = client.post("/v1/summarize", json={"text": long_text, "length": "brief"}).json()
    assert len(brief["sentences"]) == 3 and len(brief["summary"].split()) <= 75
    default = client.post("/v1/summarize", json={"text": long_text}).json()
    assert default["sentences"] == brief["sentences"]  # the tiny bundle's default is brief
    standard = client.post("/v1/analyze", json={"text": long_text, "length": "standard"}).json()
    assert 3 < len(standard["summary"]["sentences"]) <= 5
    explicit = client.post("/v1/summarize", json={"text": long_text, "length": "brief", "max_sentences": 6}).json()
    assert len(explicit["sentences"]) > 3  # explicit options win over the preset


def test_analyze_gives_topic_and_summary_from_one_version(client: TestClient) -> None:
    response = client.post("/v1/analyze", json={"text": SPORT_TEXT, "title": "Champions win", "max_sentences": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["prediction"]["topic"] == "sport" and len(body["summary"]["sentences"]) == 1
    predicted = client.post("/v1/predict", json={"text": SPORT_TEXT, "title": "Champions win"}).json()
    summarized = client.post("/v1/summarize", json={"text": SPORT_TEXT, "title": "Champions win", "max_sentences": 1})
    assert body["prediction"]["scores"] == predicted["scores"]
    assert body["summary"]["summary"] == summarized.json()["summary"]


def test_web_pages_are_cleaned_the_way_training_cleaned(client: TestClient) -> None:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in SPORT_TEXT.rstrip(".").split(". "))
    page = (
        "<html><body><nav><a href='/'>Home</a> | <a href='/sport'>Sport</a></nav>"
        f"<article><h1>Champions win</h1>{paragraphs}</article>"
        "<footer>Share this article on Facebook</footer></body></html>"
    )
    body = client.post("/v1/analyze", json={"text": page, "include_cleaned_text": True}).json()
    assert body["cleaning"]["format"] == "html" and body["cleaning"]["removed_lines"] >= 1
    cleaned = body["summary"]["cleaned_text"]
    assert "<p>" not in cleaned and "Facebook" not in cleaned and "The striker scored twice" in cleaned
    assert body["prediction"]["topic"] == "sport"
    plain = client.post("/v1/predict", json={"text": SPORT_TEXT}).json()["cleaning"]
    assert plain == {"format": "text", "removed_lines": 0, "warnings": [], "text": None, "removed": None}


MESSY = (
    "Home | News | Sport | Weather\n\n- 6 hours ago\n\n" + SPORT_TEXT + "\n\nShare this\n\n"
    "Most Read\nMinister quits over expenses row\nFloods hit northern towns\nNew phone goes on sale"
)


def test_return_cleaned_shows_the_text_and_every_removed_line_with_its_reason(client: TestClient) -> None:
    cleaning = client.post("/v1/predict", json={"text": MESSY, "return_cleaned": True}).json()["cleaning"]
    assert cleaning["text"].startswith(SPORT_TEXT[:40]) and "Share this" not in cleaning["text"]
    removed = {item["line"]: item["reason"] for item in cleaning["removed"]}
    assert removed["- 6 hours ago"] == "relative time"
    assert removed["Home | News | Sport | Weather"] == "menu or breadcrumb"
    assert "Floods hit northern towns" in removed and cleaning["removed_lines"] == len(removed) == 7


def test_boilerplate_removal_can_be_turned_off_per_request(client: TestClient) -> None:
    body = {"text": MESSY, "remove_boilerplate": False, "return_cleaned": True}
    cleaning = client.post("/v1/analyze", json=body).json()["cleaning"]
    assert cleaning["removed"] == [] and "Share this" in cleaning["text"]


def test_format_text_keeps_markup_as_text(client: TestClient) -> None:
    page = "<p>" + SPORT_TEXT + "</p><p>More.</p><div>Even more.</div>"
    as_text = client.post("/v1/predict", json={"text": page, "format": "text", "return_cleaned": True}).json()
    assert as_text["cleaning"]["format"] == "text" and "<p>" in as_text["cleaning"]["text"]
    as_html = client.post("/v1/predict", json={"text": page, "format": "html", "return_cleaned": True}).json()
    assert as_html["cleaning"]["format"] == "html" and "<p>" not in as_html["cleaning"]["text"]
    bad = client.post("/v1/predict", json={"text": page, "format": "pdf"})
    assert bad.status_code == 422 and "format" in bad.json()["error"]["message"]


def test_a_one_megabyte_html_page_is_accepted_with_the_default_limits(tiny_bundle_dir: Path) -> None:
    links = "".join(f"<li><a href='/n/{i}'>More news from section {i} of our desk</a></li>" for i in range(16_000))
    page = f"<html><body><nav><ul>{links}</ul></nav><article><p>{SPORT_TEXT}</p></article></body></html>"
    assert 1_000_000 < len(page) < 1_500_000
    with serving(tiny_bundle_dir) as default_client:
        response = default_client.post("/v1/analyze", json={"text": page})
        assert response.status_code == 200, response.text
        assert response.json()["prediction"]["topic"] == "sport"
        too_long_text = default_client.post("/v1/predict", json={"text": "word " * 50_000})
    assert_error(too_long_text, 413, "text_too_long", "NEWSDESK_MAX_TEXT_CHARS")


def test_health_ready_and_models(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "model": {"name": "tiny", "version": "v0001"}}
    [info] = client.get("/v1/models").json()["models"]
    assert info["name"] == "tiny" and info["version"] == "v0001"
    assert info["labels"] == ["business", "politics", "sport", "tech"]
    assert set(info["metrics"]) >= {"accuracy", "macro_f1"}
    assert info["created"].startswith("20") and info["loaded_at"].startswith("20")
    assert info["versions"] == ["v0001"] and info["current_on_disk"] == "v0001"
    assert info["summarizer"] == "pacsum" and info["multi_label"] is False


def test_openapi_documents_endpoints_examples_and_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ["/v1/predict", "/v1/predict/batch", "/v1/summarize", "/v1/analyze", "/v1/admin/reload"]:
        assert "post" in paths[path], path
    for path in ["/v1/models", "/health", "/ready", "/metrics"]:
        assert "get" in paths[path], path
    predict = paths["/v1/predict"]["post"]
    assert predict["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert predict["responses"]["413"]
    components = schema["components"]["schemas"]
    assert components["PredictRequest"]["examples"][0]["text"]
    items = components["BatchPredictRequest"]["properties"]["articles"]["items"]
    assert items.get("title") == "BatchArticle" or items.get("$ref", "").endswith("/BatchArticle")
    assert "HTTPValidationError" not in components
    assert client.get("/docs").status_code == 200


# --------------------------------------------------------------------------- error paths


@pytest.mark.parametrize("path", V1_POSTS)
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, ["'text' is required"]),
        ({"text": ""}, ["'text'", "at least 1 character"]),
        ({"text": 12}, ["'text'", "valid string"]),
        ({"text": ["a list"]}, ["'text'", "valid string"]),
        ({"text": "ok", "title": 3}, ["'title'", "valid string"]),
        ({"text": "ok", "colour": "red"}, ["'colour' is not accepted"]),
        ([1, 2], ["request body"]),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(client: TestClient, path: str, body: object, words: list[str]) -> None:
    assert_error(client.post(path, json=body), 422, VALIDATION_ERROR, *words)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/predict", {"text": "ok", "top_k": 0}, "top_k"),
        ("/v1/predict", {"text": "ok", "top_k": "3"}, "top_k"),
        ("/v1/predict", {"text": "ok", "top_k": 2.5}, "top_k"),
        ("/v1/summarize", {"text": "ok", "max_sentences": 0}, "max_sentences"),
        ("/v1/summarize", {"text": "ok", "max_words": -1}, "max_words"),
        ("/v1/summarize", {"text": "ok", "ratio": 1.5}, "ratio"),
        ("/v1/summarize", {"text": "ok", "ratio": "half"}, "ratio"),
        ("/v1/summarize", {"text": "ok", "length": "tiny"}, "length"),
        ("/v1/analyze", {"text": "ok", "include_cleaned_text": "yes"}, "include_cleaned_text"),
        ("/v1/predict/batch", {"articles": []}, "articles"),
        ("/v1/predict/batch", {"articles": "text"}, "articles"),
        ("/v1/predict/batch", {}, "articles"),
        ("/v1/admin/reload", {"version": "latest"}, "version"),
    ],
)
def test_bad_options_are_422_naming_the_field(client: TestClient, path: str, body: dict, field: str) -> None:
    assert_error(client.post(path, json=body), 422, VALIDATION_ERROR, f"'{field}'")


@pytest.mark.parametrize("path", V1_POSTS)
def test_text_that_cleans_to_nothing_is_422(client: TestClient, path: str) -> None:
    assert_error(client.post(path, json={"text": " \t\n\u200b "}), 422, EMPTY_TEXT, "'text'", "empty")


def test_summary_of_a_title_only_article_is_422(client: TestClient) -> None:
    assert_error(client.post("/v1/summarize", json={"text": "  ", "title": "Headline"}), 422, EMPTY_TEXT, "'text'")
    # Predicting from the title alone is fine.
    assert client.post("/v1/predict", json={"text": "  ", "title": "Striker scores in cup final"}).status_code == 200


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/predict", content=b'{"text": "unfinished', headers={"Content-Type": "application/json"})
    assert_error(response, 422, INVALID_JSON, "not valid JSON")
    response = client.post("/v1/predict", content=b"text=plain", headers={"Content-Type": "text/plain"})
    assert_error(response, 422, VALIDATION_ERROR, "request body")


@pytest.mark.parametrize("path", V1_POSTS)
def test_oversize_text_is_413(client: TestClient, path: str) -> None:
    assert_error(client.post(path, json={"text": "a" * 5_001}), 413, TEXT_TOO_LONG, "'text'", "5001", "5000")
    assert_error(client.post(path, json={"text": "ok", "title": "t" * 5_001}), 413, TEXT_TOO_LONG, "'title'")


def test_text_at_the_limit_is_accepted(client: TestClient) -> None:
    text = ("The striker scored. " * 250)[:5_000]
    assert client.post("/v1/predict", json={"text": text}).status_code == 200


def test_oversize_body_is_413_before_parsing(client: TestClient) -> None:
    big = json.dumps({"text": "x" * (70 * 1024)}).encode()
    response = client.post("/v1/predict", content=big, headers={"Content-Type": "application/json"})
    assert_error(response, 413, PAYLOAD_TOO_LARGE, "65536 bytes")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while reading
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    response = client.post("/v1/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, PAYLOAD_TOO_LARGE)


def test_batch_over_the_limit_is_413(client: TestClient) -> None:
    articles = [{"text": "The striker scored."}] * 9
    assert_error(client.post("/v1/predict/batch", json={"articles": articles}), 413, BATCH_TOO_LARGE, "9", "8")
    assert client.post("/v1/predict/batch", json={"articles": articles[:8]}).status_code == 200


def test_unknown_path_and_wrong_method_use_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, NOT_FOUND, "/v1/nothing-here")
    response = client.get("/v1/predict")
    assert_error(response, 405, METHOD_NOT_ALLOWED, "GET", "POST")
    assert response.headers["allow"] == "POST"


def test_no_summarizer_is_409_and_predict_still_works(tiny_bundle_dir: Path) -> None:
    def without_summarizer(path: Path, version: str | None) -> Bundle:
        return dataclasses.replace(load_bundle(path, version), summarizer=None)

    with TestClient(create_app(make_settings(tiny_bundle_dir), loader=without_summarizer)) as client:
        for path in ["/v1/summarize", "/v1/analyze"]:
            assert_error(client.post(path, json={"text": SPORT_TEXT}), 409, NO_SUMMARIZER, "without a summariser")
        assert client.post("/v1/predict", json={"text": SPORT_TEXT}).status_code == 200
        assert client.get("/v1/models").json()["models"][0]["summarizer"] is None


def test_unexpected_errors_are_500_with_the_request_id(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import newsdesk.serve.api.routes.articles as routes
    from newsdesk.serve.api import execution

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(routes, "predict_topics", broken)  # a thread's request
    monkeypatch.setattr(execution, "predict_topics", broken)  # one classified with others on the event loop
    response = client.post("/v1/predict", json={"text": SPORT_TEXT}, headers={"X-Request-ID": "trace-500"})
    message = assert_error(response, 500, INTERNAL_ERROR, "trace-500")
    assert "boom" not in message
    assert response.headers["x-request-id"] == "trace-500"


# --------------------------------------------------------------------------- request ids, logs, metrics


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32 and generated != client.get("/health").headers["x-request-id"]
    unsafe = client.get("/health", headers={"X-Request-ID": 'evil"\ninjected'})
    assert unsafe.headers["x-request-id"] != 'evil"\ninjected' and len(unsafe.headers["x-request-id"]) == 32


def test_one_structured_log_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="newsdesk.requests"):
        client.post("/v1/predict", json={"text": SPORT_TEXT}, headers={"X-Request-ID": "log-me"})
        client.post("/v1/predict", json={"text": ""}, headers={"X-Request-ID": "log-me-too"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "newsdesk.requests"]
    assert len(lines) == 2
    ok, bad = lines
    assert ok["request_id"] == "log-me" and ok["path"] == "/v1/predict" and ok["status"] == 200
    assert ok["method"] == "POST" and ok["ms"] > 0 and ok["model_version"] == "v0001"
    assert bad["status"] == 422 and bad["error"] == VALIDATION_ERROR


def test_metrics_count_requests_errors_latency_and_articles(client: TestClient) -> None:
    before = client.get("/metrics").text
    client.post("/v1/predict", json={"text": SPORT_TEXT})
    client.post("/v1/predict/batch", json={"articles": [{"text": SPORT_TEXT}, {"text": SPORT_TEXT}, {}]})
    client.post("/v1/summarize", json={"text": ""})
    client.get("/nowhere")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = response.text

    def moved(metric: str, /, **labels: str) -> float:
        return metric_value(after, metric, **labels) - metric_value(before, metric, **labels)

    assert moved("newsdesk_requests_total", endpoint="/v1/predict", status="200", model_version="v0001") == 1
    assert moved("newsdesk_articles_processed_total", endpoint="/v1/predict", model_version="v0001") == 1
    assert moved("newsdesk_articles_processed_total", endpoint="/v1/predict/batch", model_version="v0001") == 2
    assert moved("newsdesk_request_errors_total", endpoint="/v1/summarize", code=VALIDATION_ERROR) == 1
    assert moved("newsdesk_request_errors_total", endpoint="unmatched", code=NOT_FOUND) == 1
    assert moved("newsdesk_request_duration_seconds_count", endpoint="/v1/predict") == 1
    assert metric_value(after, "newsdesk_model_info", name="tiny", version="v0001") == 1


# --------------------------------------------------------------------------- API key


@pytest.fixture(scope="module")
def keyed_client(tiny_bundle_dir: Path) -> Iterator[TestClient]:
    with serving(tiny_bundle_dir, api_key="s3cret-key") as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/predict", {"text": SPORT_TEXT}),
        ("post", "/v1/predict/batch", {"articles": [{"text": SPORT_TEXT}]}),
        ("post", "/v1/summarize", {"text": SPORT_TEXT}),
        ("post", "/v1/analyze", {"text": SPORT_TEXT}),
        ("get", "/v1/models", None),
        ("post", "/v1/admin/reload", None),
    ],
)
def test_every_v1_endpoint_needs_the_key(keyed_client: TestClient, method: str, path: str, body: object) -> None:
    call = getattr(keyed_client, method)
    kwargs = {"json": body} if body is not None else {}
    missing = call(path, **kwargs)
    assert_error(missing, 401, UNAUTHORIZED, "Authorization: Bearer", "X-API-Key")
    assert missing.headers["www-authenticate"] == "Bearer"
    for headers in ({"Authorization": "Bearer wrong"}, {"X-API-Key": "s3cret-ke"}, {"Authorization": "s3cret-key"}):
        assert_error(call(path, headers=headers, **kwargs), 401, UNAUTHORIZED)
    for headers in ({"Authorization": "Bearer s3cret-key"}, {"X-API-Key": "s3cret-key"}):
        assert call(path, headers=headers, **kwargs).status_code == 200, headers


def test_openapi_shows_the_key_only_when_the_server_has_one(keyed_client: TestClient, client: TestClient) -> None:
    keyed = keyed_client.get("/openapi.json").json()
    assert {"HTTPBearer", "APIKeyHeader"} <= set(keyed["components"]["securitySchemes"])
    assert keyed["paths"]["/v1/predict"]["post"]["security"]
    assert "security" not in keyed["paths"]["/health"]["get"]
    open_schema = client.get("/openapi.json").json()
    assert "securitySchemes" not in open_schema.get("components", {})


def test_health_ready_and_metrics_stay_open_with_a_key(keyed_client: TestClient) -> None:
    for path in ["/health", "/ready", "/metrics"]:
        assert keyed_client.get(path).status_code == 200, path


def test_the_key_is_compared_in_constant_time(keyed_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from newsdesk.serve.api import deps

    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(deps.hmac, "compare_digest", spy)
    keyed_client.get("/v1/models", headers={"X-API-Key": "nope"})
    assert len(calls) == 1 and len(calls[0][0]) == len(calls[0][1]) == 32


def test_app_without_a_model_is_not_ready(tiny_bundle_dir: Path) -> None:
    app = make_app(tiny_bundle_dir)  # lifespan not run: nothing loaded
    client = TestClient(app)
    assert_error(client.get("/ready"), 503, "not_ready")
    assert_error(client.post("/v1/predict", json={"text": "x"}), 503, "not_ready")
    assert client.get("/health").status_code == 200
