"""Micro-batching: group single items from concurrent request threads into one model call.

A transformer runs a batch of 16 articles in far less than 16 times the time of one, so
under load a server does more work per second if concurrent requests share a forward pass.
:class:`MicroBatcher` does that without changing any endpoint: a request thread calls
:meth:`MicroBatcher.submit` with its one item and blocks; a worker thread takes the first
waiting item, gathers more until it has ``max_batch`` of them or ``max_wait_ms`` has passed
since the first one arrived, calls the batch function once, and hands every caller its own
result (or exception). A lone request waits at most ``max_wait_ms``; ``max_wait_ms=0``
batches only what is already queued.

If a batch call raises, its items are retried one by one, so one bad item fails only its
own request.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_STOP = object()


class BatcherClosedError(RuntimeError):
    """The batcher was closed before (or while) the item was processed."""


@dataclass
class BatchStats:
    """Counters of what the batcher has done."""

    batches: int = 0
    items: int = 0
    largest_batch: int = 0
    failed_batches: int = 0

    @property
    def mean_batch_size(self) -> float:
        return self.items / self.batches if self.batches else 0.0


def batch_outcomes(
    call: Callable[[list[Item]], Sequence[Result]],
    items: list[Item],
    stats: BatchStats,
    catch: type[BaseException] = Exception,
) -> list[tuple[Result | None, BaseException | None]]:
    """Each item's ``(result, None)`` or ``(None, exception)``: one ``call`` for all of them, and when it raises
    (or returns the wrong number of results), one call per item, so that each caller gets its own outcome."""
    stats.batches += 1
    stats.items += len(items)
    stats.largest_batch = max(stats.largest_batch, len(items))
    try:
        results = list(call(items))
        if len(results) != len(items):
            raise RuntimeError(f"the batch function returned {len(results)} results for {len(items)} items")
        return [(result, None) for result in results]
    except catch as exc:
        stats.failed_batches += 1
        if len(items) == 1:
            return [(None, exc)]
    outcomes: list[tuple[Result | None, BaseException | None]] = []
    for item in items:
        try:
            single = list(call([item]))
            if len(single) != 1:
                raise RuntimeError(f"the batch function returned {len(single)} results for 1 item") from None
            outcomes.append((single[0], None))
        except catch as item_exc:
            outcomes.append((None, item_exc))
    return outcomes


class MicroBatcher(Generic[Item, Result]):
    """Runs ``batch_function(items) -> results`` (one result per item, same order) on grouped single items."""

    def __init__(
        self,
        batch_function: Callable[[list[Item]], Sequence[Result]],
        max_batch: int = 16,
        max_wait_ms: float = 5.0,
        name: str = "micro-batcher",
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.batch_function = batch_function
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.stats = BatchStats()
        self._queue: queue.Queue[tuple[Item, Future[Result]] | object] = queue.Queue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    # ------------------------------------------------------------------ callers

    def submit_future(self, item: Item) -> Future[Result]:
        """Queue one item; the future completes with its result or exception."""
        future: Future[Result] = Future()
        with self._close_lock:
            if self._closed:
                raise BatcherClosedError("the micro-batcher is closed; no new items are accepted")
            self._queue.put((item, future))
        return future

    def submit(self, item: Item, timeout: float | None = None) -> Result:
        """Queue one item and wait for its result (raises the exception its batch raised for it)."""
        return self.submit_future(item).result(timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop accepting items, finish the ones queued, and stop the worker."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._worker.join(timeout)

    def __enter__(self) -> MicroBatcher[Item, Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ worker

    def _collect(self, first: tuple[Item, Future[Result]]) -> tuple[list[tuple[Item, Future[Result]]], bool]:
        """The first item plus whatever arrives before the batch is full or the wait is over."""
        batch = [first]
        deadline = time.monotonic() + self.max_wait
        stop = False
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                entry = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if entry is _STOP:
                stop = True
                break
            batch.append(entry)  # type: ignore[arg-type]
        return batch, stop

    def _run(self) -> None:
        stop = False
        while not stop:
            entry = self._queue.get()
            if entry is _STOP:
                break
            batch, stop = self._collect(entry)  # type: ignore[arg-type]
            live = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
            if live:
                self._process(live)
        # Closed: fail anything still queued (items submitted before close are processed above).
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                return
            if entry is not _STOP:
                _, future = entry  # type: ignore[misc]
                if future.set_running_or_notify_cancel():
                    future.set_exception(BatcherClosedError("the micro-batcher was closed"))

    def _process(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        # BaseException too: a caller blocked on its future must get an answer whatever the batch raised.
        outcomes = batch_outcomes(self.batch_function, [item for item, _ in batch], self.stats, catch=BaseException)
        for (_, future), (result, exc) in zip(batch, outcomes):
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)  # type: ignore[arg-type]
