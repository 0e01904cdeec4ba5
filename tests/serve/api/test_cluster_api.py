"""``POST /v1/cluster``: groups, representatives, near-duplicates, summaries, limits and errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers.api_fixtures import fixture_articles, serving
from newsdesk.serve.api.errors import BATCH_TOO_LARGE, EMPTY_TEXT, VALIDATION_ERROR


@pytest.fixture(scope="module")
def client(tiny_bundle_dir: Path) -> Iterator[TestClient]:
    with serving(tiny_bundle_dir, max_cluster_size=10) as client:
        yield client


def request_articles() -> list[dict]:
    """Six fixture articles, then an updated copy of the first and an exact copy of the third."""
    rows = fixture_articles().head(6)
    items = [{"id": r.id, "title": r.title, "text": r.text} for r in rows.itertuples()]
    items.append({"id": "copy-0", "title": items[0]["title"], "text": "UPDATE 1 - " + items[0]["text"] + " More soon."})
    items.append({"id": "copy-2", "text": items[2]["text"]})
    return items


def test_groups_near_duplicates_under_one_story(client: TestClient) -> None:
    response = client.post("/v1/cluster", json={"articles": request_articles()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["articles"] == 8 and body["duplicates"] == 2
    groups = {g["story"]: g for g in body["groups"]}
    assert [m["index"] for m in groups[0]["articles"]] == [0, 6]
    assert groups[0]["articles"][1]["duplicate_of"] == 0 and groups[0]["articles"][1]["id"] == "copy-0"
    assert [m["index"] for m in groups[2]["articles"]] == [2, 7]
    assert groups[0]["representative"]["index"] in {0, 6} and groups[0]["summary"] is None
    assert sorted(i for g in body["groups"] for i in (m["index"] for m in g["articles"])) == list(range(8))
    assert body["stories"] == len(body["groups"])


def test_summary_is_the_representative_plus_what_others_add(client: TestClient) -> None:
    body = client.post("/v1/cluster", json={"articles": request_articles(), "summarize": True}).json()
    for group in body["groups"]:
        assert group["summary"], group
        assert group["summary"][0]["article"] == group["representative"]["index"]
        members = {m["index"] for m in group["articles"]}
        assert {s["article"] for s in group["summary"]} <= members
        # near-duplicates add nothing new: only the representative speaks for a pair of copies
        duplicates = {m["index"] for m in group["articles"] if m["duplicate_of"] is not None}
        assert not duplicates & {s["article"] for s in group["summary"][1:]}


def test_dates_keep_copies_apart(client: TestClient) -> None:
    articles = request_articles()
    for item in articles:
        item["date"] = "2026-03-01T09:00:00Z"
    articles[6]["date"] = "2026-04-01"
    body = client.post("/v1/cluster", json={"articles": articles, "window_days": 2}).json()
    assert body["duplicates"] == 1  # copy-0 is a month later; copy-2 still a copy


def test_errors(client: TestClient) -> None:
    too_many = [{"text": f"article number {i} about something"} for i in range(11)]
    response = client.post("/v1/cluster", json={"articles": too_many})
    assert response.status_code == 413 and response.json()["error"]["code"] == BATCH_TOO_LARGE
    assert "NEWSDESK_MAX_CLUSTER_SIZE" in response.json()["error"]["message"]
    response = client.post("/v1/cluster", json={"articles": [{"text": "fine article text"}, {"text": "   \n  "}]})
    assert response.status_code == 422 and response.json()["error"]["code"] == EMPTY_TEXT
    assert "articles[1].text" in response.json()["error"]["message"]
    response = client.post("/v1/cluster", json={"articles": [{"text": "a b c", "date": "last tuesday"}]})
    assert response.status_code == 422 and response.json()["error"]["code"] == VALIDATION_ERROR
    assert "ISO 8601" in response.json()["error"]["message"]
    response = client.post("/v1/cluster", json={"articles": [], "story_threshold": 0.3})
    assert response.status_code == 422
    response = client.post("/v1/cluster", json={"articles": [{"text": "x y z"}], "duplicate_threshold": 2})
    assert response.status_code == 422
