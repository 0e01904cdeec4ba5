"""Torch-backed classifiers are served through a micro-batcher; TF-IDF ones are not."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from newsdesk.serve.analysis import clean_article, predict_topics
from newsdesk.serve.api.state import BatchedClassifier, prepare_for_serving
from newsdesk.train.bundle import load_bundle


class CountingClassifier:
    """Wraps a real classifier and records the size of every predict_proba call."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def predict_proba(self, texts):
        with self.lock:
            self.calls.append(len(texts))
        return self.inner.predict_proba(texts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_tfidf_bundles_are_not_wrapped(tiny_bundle_dir: Path) -> None:
    bundle = prepare_for_serving(load_bundle(tiny_bundle_dir))
    assert not isinstance(bundle.classifier, BatchedClassifier)


def test_concurrent_single_requests_share_batches_and_get_their_own_results(tiny_bundle_dir: Path) -> None:
    bundle = load_bundle(tiny_bundle_dir)
    counting = CountingClassifier(bundle.classifier)
    manifest = {
        **bundle.manifest,
        "classifier": {**bundle.manifest["classifier"], "backend": "sentence-encoder-linear"},
    }
    served = prepare_for_serving(replace(bundle, classifier=counting, manifest=manifest))
    assert isinstance(served.classifier, BatchedClassifier)
    texts = [f"The striker scored {i} goals as the team won the league match." for i in range(24)]
    texts += [f"Shares fell {i}% as the bank raised interest rates and profits slumped." for i in range(24)]
    expected = [r.topic for r in predict_topics(bundle, [clean_article(t) for t in texts])]
    results: list[str | None] = [None] * len(texts)
    start = threading.Barrier(len(texts))

    def one(i: int) -> None:
        start.wait()
        results[i] = predict_topics(served, [clean_article(texts[i])])[0].topic

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected
    assert sum(counting.calls) == len(texts) and max(counting.calls) > 1  # grouped, none lost
    batch = served.classifier.predict_proba(texts[:3])  # a batch call goes straight through
    assert np.allclose(batch, bundle.classifier.predict_proba(texts[:3]))
