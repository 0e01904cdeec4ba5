"""Loop batching: one model call for the one-article requests that reach the event loop together.

Under load, several requests are parsed in the same pass of the event loop. On a numpy-only bundle
(:func:`newsdesk.serve.api.execution.numpy_only`) classifying them together costs less than one
call each: one TF-IDF transform, one matrix product, one calibration and one needs-review test for
the group instead of per article (``bench/serve.py``, in-process: about 650 articles/s one by one,
1,100 in one call). :class:`LoopBatcher` groups them without waiting: the first request of a pass
schedules a flush with ``loop.call_soon``, every request that reaches :meth:`LoopBatcher.submit`
before the loop gets to it joins, and the flush makes one call per group of compatible items.
A request that arrives alone is answered in the next pass, as before; nothing waits on a timer.

If a group's call raises, its items are run one by one, so one bad article fails only its own
request. Everything runs on the event loop's thread, so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from newsdesk.serve.api.batching import BatchStats, batch_outcomes

Item = TypeVar("Item")
Result = TypeVar("Result")


class LoopBatcher(Generic[Item, Result]):
    """Groups items submitted in one event-loop pass by ``key(item)`` and runs ``call(items)`` once per group."""

    def __init__(
        self,
        call: Callable[[list[Item]], Sequence[Result]],
        key: Callable[[Item], Hashable],
        max_batch: int = 64,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.call = call
        self.key = key
        self.max_batch = max_batch
        self.stats = BatchStats()
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._scheduled = False

    async def submit(self, item: Item) -> Result:
        """The item's result, computed with whatever else is submitted before the loop's next pass."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        groups: dict[Hashable, list[tuple[Item, asyncio.Future[Result]]]] = {}
        for item, future in pending:
            if not future.cancelled():  # the client went away while it waited
                groups.setdefault(self.key(item), []).append((item, future))
        for group in groups.values():
            for start in range(0, len(group), self.max_batch):
                self._run(group[start : start + self.max_batch])

    def _run(self, group: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        outcomes = batch_outcomes(self.call, [item for item, _ in group], self.stats)
        for (_, future), (result, exc) in zip(group, outcomes):
            _settle(future, result, exc)


def _settle(future: asyncio.Future[Result], result: Result | None = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
