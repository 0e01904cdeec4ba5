"""Concurrent ``POST /v1/admin/reload`` calls: serialised, each answered, never a 500 or a half-swapped model.

The documented behaviour: reloads run one at a time on the reloader's thread. Calls that
arrive together wait their turn; each gets 200 (``changed`` true or false) or its own
specific error (404, 409); requests in flight keep being served throughout.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from helpers.api_fixtures import SPORT_TEXT, flip_byte, make_settings, metric_value
from helpers.server_process import running_server, wait_for_model_info
from helpers.training import private_copy, train_versions
from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.errors import RELOAD_FAILED
from newsdesk.train.bundle import CLASSIFIER_ARRAYS, Bundle, load_bundle
from newsdesk.train.versions import set_current

CALLERS = 8


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``models/tiny`` with v0001..v0003 saved and v0001 current (trained once for the module)."""
    return train_versions(tmp_path_factory.mktemp("three-versions"), 3)


@pytest.fixture
def model(three_versions: Path, tmp_path: Path) -> Path:
    """A private copy that a test may change."""
    return private_copy(three_versions, tmp_path)


class CountingLoader:
    """``load_bundle`` that takes a while and records how many loads ever ran at the same time."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.active = 0
        self.most_at_once = 0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, path: Path, version: str | None) -> Bundle:
        with self._lock:
            self.active += 1
            self.calls += 1
            self.most_at_once = max(self.most_at_once, self.active)
        try:
            time.sleep(self.seconds)
            return load_bundle(path, version)
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture
def loader() -> CountingLoader:
    return CountingLoader()


@pytest.fixture
def client(model: Path, loader: CountingLoader) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(model), loader=loader)) as client:
        yield client


def reload_together(post, bodies: list[dict | None]) -> list:  # type: ignore[no-untyped-def]
    """Send one reload per body from its own thread, all released at the same moment."""
    start = threading.Barrier(len(bodies))

    def one(body: dict | None):  # type: ignore[no-untyped-def]
        start.wait(10)
        return post("/v1/admin/reload", json=body) if body is not None else post("/v1/admin/reload")

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def served_version(client: TestClient) -> str:
    return client.post("/v1/predict", json={"text": SPORT_TEXT}).json()["model"]["version"]


def last_in_chain(start: str, transitions: list[tuple[str, str]]) -> str:
    """Where a chain of reloads (previous -> loaded, in some unknown order) that began at ``start`` ends.

    Serialised reloads form one path, so every version is entered as often as it is left,
    except the end (entered once more) and the start (left once more).
    """
    balance: Counter[str] = Counter()
    for previous, loaded in transitions:
        balance[loaded] += 1
        balance[previous] -= 1
    balance[start] += 1
    ends = [version for version, n in balance.items() if n == 1]
    assert len(ends) == 1 and all(n in (0, 1) for n in balance.values()), (start, transitions)
    return ends[0]


def assert_one_model_everywhere(client: TestClient, version: str) -> None:
    """The predict answer, /v1/models and the model_info metric all name ``version``, and only it."""
    assert served_version(client) == version
    assert client.get("/v1/models").json()["models"][0]["version"] == version
    infos = [line for line in client.get("/metrics").text.splitlines() if line.startswith("newsdesk_model_info{")]
    assert len(infos) == 1 and f'version="{version}"' in infos[0], infos


def test_concurrent_reloads_of_current_run_one_at_a_time_and_all_succeed(
    client: TestClient, model: Path, loader: CountingLoader
) -> None:
    set_current(model, "v0002")
    loads_before = loader.calls
    responses = reload_together(client.post, [None, {}] * (CALLERS // 2))
    assert [r.status_code for r in responses] == [200] * CALLERS, [r.text for r in responses if r.status_code != 200]
    bodies = [r.json() for r in responses]
    # Exactly one of them swapped v0001 for v0002; the others loaded v0002 again.
    assert sorted(body["changed"] for body in bodies) == [False] * (CALLERS - 1) + [True]
    assert {body["model"]["version"] for body in bodies} == {"v0002"}
    assert loader.calls - loads_before == CALLERS
    assert loader.most_at_once == 1
    assert_one_model_everywhere(client, "v0002")
    metrics = client.get("/metrics").text
    assert metric_value(metrics, "newsdesk_model_reloads_total", result="success") == CALLERS


def test_concurrent_reloads_of_different_versions_end_on_the_last_one_served(
    client: TestClient, loader: CountingLoader
) -> None:
    bodies = [{"version": ("v0002", "v0003", "v0001")[i % 3]} for i in range(CALLERS)]
    responses = reload_together(client.post, bodies)
    assert [r.status_code for r in responses] == [200] * CALLERS
    answers = [r.json() for r in responses]
    for body, answer in zip(bodies, answers):
        assert answer["model"]["version"] == body["version"]
        assert answer["changed"] == (answer["previous"]["version"] != answer["model"]["version"])
    final = last_in_chain("v0001", [(a["previous"]["version"], a["model"]["version"]) for a in answers])
    assert loader.most_at_once == 1
    assert_one_model_everywhere(client, final)


def test_damaged_and_unknown_versions_among_concurrent_reloads_get_their_own_errors(
    client: TestClient, model: Path
) -> None:
    flip_byte(model / "v0003" / CLASSIFIER_ARRAYS)
    bodies = [{"version": ("v0002", "v0003", "v0009", "v0001")[i % 4]} for i in range(CALLERS)]
    responses = reload_together(client.post, bodies)
    by_version: dict[str, set[int]] = {}
    for body, response in zip(bodies, responses):
        by_version.setdefault(body["version"], set()).add(response.status_code)
    assert by_version == {"v0001": {200}, "v0002": {200}, "v0003": {409}, "v0009": {404}}
    for body, response in zip(bodies, responses):
        if body["version"] == "v0003":
            error = response.json()["error"]
            assert error["code"] == RELOAD_FAILED and "does not match its checksum" in error["message"]
            assert "still serving tiny v000" in error["message"]
    good = [r.json() for r in responses if r.status_code == 200]
    final = last_in_chain("v0001", [(a["previous"]["version"], a["model"]["version"]) for a in good])
    assert_one_model_everywhere(client, final)
    metrics = client.get("/metrics").text
    assert metric_value(metrics, "newsdesk_model_reloads_total", result="failure") == 4  # v0003 and v0009, twice each
    assert metric_value(metrics, "newsdesk_model_reloads_total", result="success") == 4


def test_requests_in_flight_are_served_during_a_burst_of_reloads(client: TestClient) -> None:
    stop = threading.Event()

    def hammer(worker: int) -> list[tuple[int, str]]:
        seen = []
        i = 0
        while not stop.is_set():
            path = ("/v1/predict", "/v1/analyze", "/v1/summarize")[(worker + i) % 3]
            response = client.post(path, json={"text": SPORT_TEXT})
            seen.append((response.status_code, response.json().get("model", {}).get("version", "?")))
            i += 1
        return seen

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer, n) for n in range(4)]
        time.sleep(0.1)
        bursts = [
            reload_together(client.post, [{"version": f"v000{1 + (i + n) % 3}"} for i in range(CALLERS)])
            for n in range(3)
        ]
        stop.set()
        results = [item for future in futures for item in future.result(30)]
    assert all(r.status_code == 200 for burst in bursts for r in burst)
    assert len(results) > 10
    assert {status for status, _ in results} == {200}, [r for r in results if r[0] != 200][:5]
    assert {version for _, version in results} <= {"v0001", "v0002", "v0003"}


def test_concurrent_reloads_over_http_on_a_real_server(model: Path, tmp_path: Path) -> None:
    """One worker: the burst is serialised; every predict sent meanwhile succeeds."""
    with running_server(model, tmp_path / "server.log") as url, httpx.Client(timeout=30) as client:
        set_current(model, "v0002")
        stop = threading.Event()

        def hammer() -> list[int]:
            with httpx.Client(timeout=30) as own:
                statuses = []
                while not stop.is_set():
                    statuses.append(own.post(url + "/v1/predict", json={"text": SPORT_TEXT}).status_code)
                return statuses

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(hammer) for _ in range(2)]
            with httpx.Client(base_url=url, timeout=30) as burst:
                responses = reload_together(burst.post, [{}] * CALLERS)
            stop.set()
            statuses = [status for future in futures for status in future.result(30)]
        assert [r.status_code for r in responses] == [200] * CALLERS
        assert sorted(r.json()["changed"] for r in responses) == [False] * (CALLERS - 1) + [True]
        assert statuses and set(statuses) == {200}
        answer = client.post(url + "/v1/predict", json={"text": SPORT_TEXT}).json()
        assert answer["model"]["version"] == "v0002"


def test_concurrent_reloads_across_two_workers_converge_on_one_version(model: Path, tmp_path: Path) -> None:
    """Two workers each serialise their own reloads; through the shared notice they end up agreeing."""
    server = running_server(model, tmp_path / "server.log", "--workers", "2", "--reload-poll-seconds", "0.1")
    with server as url, httpx.Client(base_url=url, headers={"Connection": "close"}, timeout=30) as client:
        wait_for_model_info(client, url, "v0001")
        # New connections, so the calls are spread over both workers.
        responses = reload_together(client.post, [{"version": ("v0002", "v0003")[i % 2]} for i in range(CALLERS)])
        assert [r.status_code for r in responses] == [200] * CALLERS
        deadline = time.monotonic() + 20
        while True:
            infos = [
                line
                for line in client.get(url + "/metrics").text.splitlines()
                if line.startswith("newsdesk_model_info{") and line.endswith(" 1.0")
            ]
            versions = {line.split('version="')[1].split('"')[0] for line in infos}
            if len(infos) == 2 and len(versions) == 1:
                break
            assert time.monotonic() < deadline, infos
            time.sleep(0.1)
        assert versions <= {"v0002", "v0003"}
        # And a reload after the storm still reaches both.
        assert client.post(url + "/v1/admin/reload", json={"version": "v0001"}).status_code == 200
        wait_for_model_info(client, url, "v0001")
