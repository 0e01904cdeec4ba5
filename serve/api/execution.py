"""Where a one-article request's model work runs: on the event loop when it is short, on a thread otherwise.

FastAPI runs a plain ``def`` endpoint on a worker thread, so that CPU-bound work does not hold up the
event loop. For one article of news on a TF-IDF bundle the work is small (1 to 3 ms to clean, classify
and summarise a BBC article) and the hand-off costs about as much as half of it: the request goes to a
thread, the two threads trade the GIL, and the answer comes back through the loop's self-pipe. In
``bench/serve.py`` (one worker, 16 clients) running such requests on the loop raised /v1/predict from
about 280 to 430 requests/s.

So :func:`model_endpoint` makes an endpoint that runs its work on the loop when the request's text is
at most ``NEWSDESK_INLINE_MAX_CHARS`` characters and the bundle's models are numpy-only (TF-IDF
classifier, extractive summariser without a sentence encoder), and on the thread pool otherwise: long
texts, torch-backed models (whose micro-batching waits for other requests, which needs the loop free),
and batches. A short text keeps the loop for a few milliseconds at most, the time another request
already waits for the GIL.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Response
from starlette.concurrency import run_in_threadpool

from newsdesk.serve.analysis import CleanArticle, TopicResult, predict_topics
from newsdesk.serve.api.loop_batching import LoopBatcher
from newsdesk.serve.api.settings import ServeSettings
from newsdesk.serve.api.state import torch_backed
from newsdesk.train.bundle import Bundle
from newsdesk.train.summarize.extractive import ExtractiveSummarizer


def numpy_only(bundle: Bundle) -> bool:
    """Whether the bundle's models run on numpy alone (no torch forward pass, no micro-batching)."""
    if torch_backed(bundle):
        return False
    summarizer = bundle.summarizer
    return summarizer is None or (isinstance(summarizer, ExtractiveSummarizer) and summarizer.extra_features is None)


def runs_inline(bundle: Bundle, text_chars: int, settings: ServeSettings) -> bool:
    """Whether a request with ``text_chars`` characters of text is modelled on the event loop."""
    return text_chars <= settings.inline_max_chars and numpy_only(bundle)


def model_endpoint(work: Callable[..., Response]) -> Callable[..., Awaitable[Response]]:
    """An ``async`` endpoint with ``work``'s parameters (``body`` and ``model``, a
    :class:`~newsdesk.serve.api.deps.ModelContext`) that runs ``work`` on the event loop or on the
    thread pool, as :func:`runs_inline` says."""

    @functools.wraps(work)
    async def endpoint(**kwargs: Any) -> Response:
        body, model = kwargs["body"], kwargs["model"]
        chars = len(body.text) + len(body.title or "")
        if runs_inline(model.bundle, chars, model.settings):
            return work(**kwargs)
        return await run_in_threadpool(work, **kwargs)

    return endpoint


@dataclass(frozen=True)
class TopicJob:
    """One cleaned article of a /v1/predict request, waiting to be classified with the others of its loop pass."""

    bundle: Bundle
    article: CleanArticle
    top_k: int
    explain: bool

    def group(self) -> tuple[int, int, bool]:
        """Articles classified in one call share the bundle (a reload may swap it) and the options."""
        return id(self.bundle), self.top_k, self.explain


def classify_jobs(jobs: list[TopicJob]) -> list[TopicResult]:
    """One :func:`predict_topics` call for a group of jobs with the same bundle and options."""
    first = jobs[0]
    return predict_topics(first.bundle, [job.article for job in jobs], top_k=first.top_k, explain_terms=first.explain)


def topic_batcher() -> LoopBatcher[TopicJob, TopicResult]:
    """The app's batcher of one-article predictions that run on the event loop."""
    return LoopBatcher(classify_jobs, TopicJob.group)
