"""The micro-batcher: grouping, bounded waiting, per-caller results and exceptions, closing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsdesk.serve.api.batching import BatcherClosedError, MicroBatcher


def test_concurrent_items_share_batches_and_get_their_own_results() -> None:
    calls: list[list[int]] = []

    def square(items: list[int]) -> list[int]:
        calls.append(list(items))
        time.sleep(0.01)  # a model call: items arriving meanwhile form the next batch
        return [i * i for i in items]

    with MicroBatcher(square, max_batch=8, max_wait_ms=20) as batcher, ThreadPoolExecutor(32) as pool:
        results = list(pool.map(batcher.submit, range(64)))
    assert results == [i * i for i in range(64)]
    assert sorted(i for call in calls for i in call) == list(range(64))
    assert max(len(call) for call in calls) <= 8
    assert len(calls) < 64 and batcher.stats.items == 64 and batcher.stats.mean_batch_size > 1


def test_a_lone_item_waits_at_most_the_bound() -> None:
    with MicroBatcher(lambda items: [x + 1 for x in items], max_batch=16, max_wait_ms=5) as batcher:
        batcher.submit(0)  # warm the worker up
        started = time.perf_counter()
        assert batcher.submit(41) == 42
        assert time.perf_counter() - started < 0.5
        assert batcher.stats.largest_batch == 1


def test_zero_wait_batches_only_what_is_queued() -> None:
    gate = threading.Event()
    seen: list[int] = []

    def blocking(items: list[int]) -> list[int]:
        seen.append(len(items))
        gate.wait(5)
        return items

    with MicroBatcher(blocking, max_batch=10, max_wait_ms=0) as batcher:
        first = batcher.submit_future(0)
        time.sleep(0.05)  # the worker is now inside the first call
        rest = [batcher.submit_future(i) for i in range(1, 6)]
        gate.set()
        assert [f.result(5) for f in [first, *rest]] == list(range(6))
    assert seen[0] == 1 and sum(seen) == 6


def test_one_bad_item_fails_only_its_own_caller() -> None:
    def parse(items: list[str]) -> list[int]:
        return [int(item) for item in items]

    with MicroBatcher(parse, max_batch=8, max_wait_ms=30) as batcher, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(batcher.submit, item) for item in ["1", "2", "x", "4"]]
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result(5))
            except ValueError as exc:
                outcomes.append(type(exc).__name__)
    assert outcomes == [1, 2, "ValueError", 4]


def test_a_batch_function_returning_the_wrong_count_is_an_error() -> None:
    batcher = MicroBatcher(lambda items: [], max_batch=4, max_wait_ms=0)
    with batcher, pytest.raises(RuntimeError, match="returned 0 results for 1 item"):
        batcher.submit("a")


def test_closing_finishes_queued_items_and_refuses_new_ones() -> None:
    batcher = MicroBatcher(lambda items: [x * 2 for x in items], max_batch=4, max_wait_ms=1)
    futures = [batcher.submit_future(i) for i in range(10)]
    batcher.close()
    assert [f.result(5) for f in futures] == [i * 2 for i in range(10)]
    with pytest.raises(BatcherClosedError):
        batcher.submit(1)
    batcher.close()  # closing twice is harmless


@pytest.mark.parametrize(("options", "message"), [({"max_batch": 0}, "max_batch"), ({"max_wait_ms": -1}, "max_wait")])
def test_bad_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MicroBatcher(lambda items: items, **options)
