"""Loop batching: requests that reach the event loop together share one model call, and lose nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.loop_batching import LoopBatcher
from tests.helpers.api_fixtures import make_settings


def recording_batcher(fail_on: str | None = None, max_batch: int = 64) -> tuple[LoopBatcher[str, str], list[list[str]]]:
    calls: list[list[str]] = []

    def call(items: list[str]) -> list[str]:
        calls.append(list(items))
        if fail_on in items:
            raise ValueError(f"cannot take {fail_on}")
        return [item.upper() for item in items]

    return LoopBatcher(call, key=lambda item: item[0], max_batch=max_batch), calls


def test_items_submitted_in_one_pass_share_a_call_per_group() -> None:
    batcher, calls = recording_batcher()

    async def main() -> list[str]:
        return await asyncio.gather(*(batcher.submit(item) for item in ["a1", "b1", "a2", "a3", "b2"]))

    assert asyncio.run(main()) == ["A1", "B1", "A2", "A3", "B2"]
    assert calls == [["a1", "a2", "a3"], ["b1", "b2"]]
    assert (batcher.stats.batches, batcher.stats.items, batcher.stats.largest_batch) == (2, 5, 3)


def test_a_lone_item_is_answered_without_waiting_for_company() -> None:
    batcher, calls = recording_batcher()

    async def main() -> list[str]:
        first = await batcher.submit("a1")
        second = await batcher.submit("a2")
        return [first, second]

    assert asyncio.run(main()) == ["A1", "A2"]
    assert calls == [["a1"], ["a2"]]


def test_groups_larger_than_max_batch_are_split() -> None:
    batcher, calls = recording_batcher(max_batch=2)

    async def main() -> list[str]:
        return await asyncio.gather(*(batcher.submit(f"a{i}") for i in range(5)))

    assert asyncio.run(main()) == [f"A{i}" for i in range(5)]
    assert [len(call) for call in calls] == [2, 2, 1]


def test_a_failing_item_fails_only_its_own_request() -> None:
    batcher, calls = recording_batcher(fail_on="a2")

    async def main() -> list[object]:
        return await asyncio.gather(*(batcher.submit(i) for i in ["a1", "a2", "a3"]), return_exceptions=True)

    first, second, third = asyncio.run(main())
    assert (first, third) == ("A1", "A3")
    assert isinstance(second, ValueError) and "a2" in str(second)
    assert calls == [["a1", "a2", "a3"], ["a1"], ["a2"], ["a3"]]  # the group, then one by one
    assert batcher.stats.failed_batches == 1


def test_a_cancelled_request_is_not_computed() -> None:
    batcher, calls = recording_batcher()

    async def main() -> str:
        gone = asyncio.ensure_future(batcher.submit("a1"))
        kept = asyncio.ensure_future(batcher.submit("a2"))
        await asyncio.sleep(0)  # both are queued; the flush is scheduled
        gone.cancel()
        return await kept

    assert asyncio.run(main()) == "A2"
    assert calls == [["a2"]]


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch must be at least 1"):
        LoopBatcher(lambda items: items, key=lambda item: 0, max_batch=0)


ARTICLES = [
    {"title": "Cup final", "text": "The striker scored twice as the club won the cup final on Saturday."},
    {"title": "Rates", "text": "The central bank raised interest rates and shares fell in London trading."},
    {"title": "Film", "text": "The actress won an award for her role in the film at the festival."},
    {"title": "Election", "text": "The prime minister called an election after the party conference vote."},
]


def test_concurrent_predict_requests_are_batched_and_answered_as_alone(tiny_bundle_dir: Path) -> None:
    """Concurrent /v1/predict requests on the loop share calls, with the answers of one-by-one requests."""
    app = create_app(make_settings(tiny_bundle_dir))
    requests = [
        dict(article, top_k=k, explain=explain) for article in ARTICLES for k in (1, 3) for explain in (False, True)
    ]

    async def main() -> tuple[list[dict], list[dict]]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                alone = [(await client.post("/v1/predict", json=r)).json() for r in requests]
                together = await asyncio.gather(*(client.post("/v1/predict", json=r) for r in requests))
                return alone, [response.json() for response in together]

    alone, together = asyncio.run(main())
    assert together == alone and all("topic" in answer for answer in alone)
    stats = app.state.topic_batcher.stats
    assert stats.items == 2 * len(requests)
    assert stats.largest_batch > 1 and stats.batches < stats.items  # some requests shared a call
    assert json.dumps(alone).count('"explanation": null') < len(alone)  # explain requests were explained
