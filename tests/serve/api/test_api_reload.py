"""Reloading the served model: atomic swap, failures that keep the old model, requests during a reload, workers."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import newsdesk.serve.api.routes.articles as routes
from helpers.api_fixtures import SPORT_TEXT, flip_byte, make_settings, metric_value, serving
from helpers.training import private_copy, train_versions
from newsdesk.serve.api import state
from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.errors import RELOAD_FAILED, VERSION_NOT_FOUND
from newsdesk.train.bundle import CLASSIFIER_ARRAYS, load_bundle
from newsdesk.train.versions import BundleError, set_current


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``models/tiny`` with v0001 and v0002 saved and v0001 current (trained once for the module)."""
    return train_versions(tmp_path_factory.mktemp("two-versions"), 2)


@pytest.fixture
def model(two_versions: Path, tmp_path: Path) -> Path:
    """A private copy of the two-version model that a test may change."""
    return private_copy(two_versions, tmp_path)


@pytest.fixture
def client(model: Path) -> Iterator[TestClient]:
    with serving(model) as client:
        yield client


def served_version(client: TestClient) -> str:
    return client.post("/v1/predict", json={"text": SPORT_TEXT}).json()["model"]["version"]


def test_reload_swaps_in_the_new_current_version(client: TestClient, model: Path) -> None:
    assert served_version(client) == "v0001"
    set_current(model, "v0002")
    response = client.post("/v1/admin/reload")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "reloaded" and body["changed"] is True
    assert body["model"] == {"name": "tiny", "version": "v0002"}
    assert body["previous"] == {"name": "tiny", "version": "v0001"}
    assert served_version(client) == "v0002"
    assert client.get("/v1/models").json()["models"][0]["version"] == "v0002"
    metrics = client.get("/metrics").text
    assert metric_value(metrics, "newsdesk_model_info", name="tiny", version="v0002") == 1
    assert not [line for line in metrics.splitlines() if "model_info{" in line and 'version="v0001"' in line]
    assert metric_value(metrics, "newsdesk_model_reloads_total", result="success") == 1


def test_reload_of_the_same_version_says_nothing_changed(client: TestClient) -> None:
    body = client.post("/v1/admin/reload", json={}).json()
    assert body["changed"] is False and body["model"]["version"] == "v0001"


def test_reload_a_named_version_without_moving_current(client: TestClient, model: Path) -> None:
    response = client.post("/v1/admin/reload", json={"version": "v0002"})
    assert response.status_code == 200 and response.json()["model"]["version"] == "v0002"
    assert served_version(client) == "v0002"
    info = client.get("/v1/models").json()["models"][0]
    assert info["version"] == "v0002" and info["current_on_disk"] == "v0001"
    assert info["versions"] == ["v0001", "v0002"]


def test_unknown_version_is_404_and_the_old_model_keeps_serving(client: TestClient) -> None:
    response = client.post("/v1/admin/reload", json={"version": "v0009"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == VERSION_NOT_FOUND
    assert "no version v0009" in error["message"] and "v0001, v0002" in error["message"]
    assert "still serving tiny v0001" in error["message"]
    assert served_version(client) == "v0001"


def test_a_damaged_new_version_is_refused_and_the_old_model_keeps_serving(client: TestClient, model: Path) -> None:
    flip_byte(model / "v0002" / CLASSIFIER_ARRAYS)
    set_current(model, "v0002")
    response = client.post("/v1/admin/reload")
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == RELOAD_FAILED
    assert "does not match its checksum" in error["message"] and CLASSIFIER_ARRAYS in error["message"]
    assert "still serving tiny v0001" in error["message"]
    assert served_version(client) == "v0001"
    assert client.get("/ready").status_code == 200
    metrics = client.get("/metrics").text
    assert metric_value(metrics, "newsdesk_model_reloads_total", result="failure") == 1
    assert metric_value(metrics, "newsdesk_model_info", name="tiny", version="v0001") == 1


def test_a_missing_current_pointer_is_refused(client: TestClient, model: Path) -> None:
    (model / "current").write_text("not-a-version\n")
    response = client.post("/v1/admin/reload")
    assert response.status_code == 409 and "not a version name" in response.json()["error"]["message"]
    assert served_version(client) == "v0001"


def test_a_request_in_flight_finishes_on_the_old_model(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    real = routes.predict_topics

    def slow_first_call(bundle, articles, top_k=3, **options):  # type: ignore[no-untyped-def]
        if not entered.is_set():
            entered.set()
            assert release.wait(10)
        return real(bundle, articles, top_k=top_k, **options)

    monkeypatch.setattr(routes, "predict_topics", slow_first_call)
    # One model thread, held by the slow request: the reload must not queue behind it. (The request is
    # sent to the thread: one run on the event loop would hold the loop, and the reload with it.)
    with serving(model, threads=1, inline_max_chars=0) as client, ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(client.post, "/v1/predict", json={"text": SPORT_TEXT})
        assert entered.wait(10)
        reload = client.post("/v1/admin/reload", json={"version": "v0002"})
        assert reload.status_code == 200
        assert client.get("/v1/models").json()["models"][0]["version"] == "v0002"
        release.set()
        old = in_flight.result(10)
        assert old.status_code == 200 and old.json()["model"]["version"] == "v0001"
        assert served_version(client) == "v0002"


def test_no_request_fails_during_repeated_reloads(client: TestClient) -> None:
    stop = threading.Event()
    texts = [SPORT_TEXT, "Shares in the bank fell after profits missed forecasts.", "MPs voted on the new bill."]

    def hammer(worker: int) -> list[tuple[int, str]]:
        seen = []
        i = 0
        while not stop.is_set():
            path = ("/v1/predict", "/v1/analyze", "/v1/predict/batch")[(worker + i) % 3]
            text = texts[i % len(texts)]
            body = {"articles": [{"text": text}, {"text": SPORT_TEXT}]} if path.endswith("batch") else {"text": text}
            response = client.post(path, json=body)
            seen.append((response.status_code, response.json().get("model", {}).get("version", "?")))
            i += 1
        return seen

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer, n) for n in range(4)]
        reloads = []
        for i in range(12):
            reloads.append(client.post("/v1/admin/reload", json={"version": ("v0002", "v0001")[i % 2]}))
            time.sleep(0.01)
        stop.set()
        results = [item for future in futures for item in future.result(30)]
    assert all(r.status_code == 200 for r in reloads)
    assert len(results) > 20
    assert {status for status, _ in results} == {200}, [r for r in results if r[0] != 200][:5]
    assert {version for _, version in results} <= {"v0001", "v0002"}


def test_a_version_folder_can_be_reloaded_but_not_switched(model: Path) -> None:
    with serving(model / "v0002") as client:
        assert served_version(client) == "v0002"
        assert client.post("/v1/admin/reload").status_code == 200
        response = client.post("/v1/admin/reload", json={"version": "v0001"})
        assert response.status_code == 409
        assert "version folder" in response.json()["error"]["message"]
        assert client.get("/v1/models").json()["models"][0]["versions"] == []


def test_a_model_that_cannot_load_stops_startup(model: Path) -> None:
    flip_byte(model / "v0001" / CLASSIFIER_ARRAYS)
    with pytest.raises(BundleError, match="checksum"), serving(model):
        pass


def test_other_workers_follow_a_reload(model: Path, tmp_path: Path) -> None:
    """Two apps sharing a reload folder stand in for two uvicorn workers."""
    shared = {"reload_dir": tmp_path / "reload", "reload_poll_seconds": 0.05, "workers": 2}
    with serving(model, **shared) as first, serving(model, **shared) as second:
        assert served_version(first) == served_version(second) == "v0001"
        body = first.post("/v1/admin/reload", json={"version": "v0002"}).json()
        assert "other 1 follow" in body["workers"]
        deadline = time.monotonic() + 5
        while served_version(second) != "v0002" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served_version(second) == "v0002"
        assert served_version(first) == "v0002"
        # A worker started later (uvicorn replacing a dead one) serves what the others serve, not 'current'.
        with serving(model, **shared) as third:
            assert served_version(third) == "v0002"
        # A failed reload is not passed on.
        assert first.post("/v1/admin/reload", json={"version": "v0007"}).status_code == 404
        time.sleep(0.2)
        assert served_version(second) == "v0002"


def test_a_file_that_cannot_be_read_is_a_refused_reload_not_a_crash(model: Path) -> None:
    calls = []

    def loader(path: Path, version: str | None):  # type: ignore[no-untyped-def]
        calls.append(version)
        if len(calls) > 1:
            raise PermissionError(13, "Permission denied", str(path / "v0002" / CLASSIFIER_ARRAYS))
        return load_bundle(path, version)

    with TestClient(create_app(make_settings(model), loader=loader)) as client:
        response = client.post("/v1/admin/reload", json={"version": "v0002"})
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == RELOAD_FAILED
        assert "Permission denied" in error["message"] and "still serving tiny v0001" in error["message"]
        assert served_version(client) == "v0001"


def test_the_old_bundle_is_released_once_the_last_request_on_it_finishes(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released, entered, finish = threading.Event(), threading.Event(), threading.Event()
    monkeypatch.setattr(state, "release_freed_memory", released.set)
    real = routes.predict_topics

    def slow_first_call(bundle, articles, top_k=3, **options):  # type: ignore[no-untyped-def]
        if not entered.is_set():
            entered.set()
            assert finish.wait(10)
        return real(bundle, articles, top_k=top_k, **options)

    monkeypatch.setattr(routes, "predict_topics", slow_first_call)
    # The held request runs on a thread (one held on the event loop would hold the reload too).
    with serving(model, inline_max_chars=0) as client, ThreadPoolExecutor(1) as pool:
        old = weakref.ref(client.app.state.served.bundle)
        in_flight = pool.submit(client.post, "/v1/predict", json={"text": SPORT_TEXT})
        assert entered.wait(10)
        assert client.post("/v1/admin/reload", json={"version": "v0002"}).status_code == 200
        time.sleep(0.3)
        assert old() is not None and not released.is_set()  # the running request still uses it
        finish.set()
        assert in_flight.result(10).json()["model"]["version"] == "v0001"
        assert released.wait(5)
        assert old() is None
