"""Benchmark newsdesk's default topic classifier on BBC News and Reuters-21578.

What it measures (all with ``newsdesk.train.classify.tfidf.TopicClassifier()`` at its defaults, seed 0, and the
project's own loading and cleaning from ``newsdesk.train.data``):

* BBC News (2,225 rows, deduplicated by the loader to about 2,090 articles, 5 topics):
  - accuracy and macro-F1, mean over a 5-fold ``StratifiedKFold(shuffle=True, random_state=0)``;
  - training seconds: one fit on all deduplicated articles;
  - prediction throughput on one core: documents per second of ``classifier.predict`` over all
    articles, best of 3 runs, plus the median latency of one-article calls.
* Reuters-21578, ModApte split, the usual 90-topic subset (topics with at least one training and one
  test document; each document keeps only those topics and is dropped if it keeps none):
  - micro- and macro-F1 on the test set with the classifier's tuned per-label thresholds
    (``newsdesk.train.classify.evaluation.multi_label_metrics``);
  - the same model's micro/macro-F1 with every threshold fixed at 0.5 (for comparison), and the
    training seconds.

Targets (each is reported as met or not; the script still exits 0 when one is missed):

* BBC 5-fold accuracy >= 0.980
* training on all of BBC < 20 s
* prediction >= 1500 docs/s on one core
* Reuters-90 micro-F1 >= 0.87
* shift (``bench/shift.py``, trained on BBC, measured on huffpost-10k): in-scope accuracy >= 0.70 and
  macro-F1 >= 0.55; out-of-scope records sent for review >= 0.60 with in-scope coverage >= 0.70 and
  selective accuracy >= 0.85; explanations: top-5 deletion drop >= 3x the random drop, < 1 ms each

The whole run is limited to one thread (OMP/OpenBLAS/MKL set to 1 before numpy is imported).

Usage, from the project root::

    python bench/classify.py [--data PATH] [--out PATH] [--skip-bbc] [--skip-reuters] [--skip-shift] [--skip-shift-encoder]

Data comes from ``--data``, else ``NEWSDESK_DATA``, else ``shared/data`` beside the checkout.
Results are printed as a table and written to ``bench/results/classify.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    Target,
    default_data_dir,
    ensure_project_importable,
    limit_threads,
    missing_data_message,
    report,
    results_header,
    timed,
)
from shift import HUFFPOST_FILE, SHIFT_ROWS, run_shift

REUTERS_TRAIN = Path("reuters21578") / "modapte-train.jsonl"
REUTERS_TEST = Path("reuters21578") / "modapte-test.jsonl"
CV_FOLDS = 5
THROUGHPUT_RUNS = 3
LATENCY_CALLS = 200
FIXED_THRESHOLD = 0.5


TARGETS = (
    Target("bbc.accuracy", 0.980),
    Target("bbc.train_seconds", 20.0, below=True),
    Target("bbc.predict_docs_per_s", 1500.0),
    Target("reuters.micro_f1", 0.87),
    Target("shift.huffpost.accuracy", 0.70),
    Target("shift.huffpost.macro_f1", 0.55),
    Target("shift.huffpost.out_of_scope_abstained", 0.60),
    Target("shift.huffpost.in_scope_coverage", 0.70),
    Target("shift.huffpost.in_scope_selective_accuracy", 0.85),
    Target("shift.huffpost_encoder.accuracy", 0.70),
    Target("shift.huffpost_encoder.macro_f1", 0.55),
    Target("shift.huffpost_encoder.out_of_scope_abstained", 0.60),
    Target("shift.huffpost_encoder.in_scope_coverage", 0.70),
    Target("shift.huffpost_encoder.in_scope_selective_accuracy", 0.85),
    Target("shift.huffpost_encoder.bbc_held_out_accuracy", 0.98),
    Target("shift.explain.ratio", 3.0),
    Target("shift.explain.ms_per_article", 1.0, below=True),
)


@dataclass
class ReutersSplit:
    """The 90-topic ModApte subset, as cleaned model inputs and label tuples."""

    train_texts: list[str]
    train_labels: list[tuple[str, ...]]
    test_texts: list[str]
    test_labels: list[tuple[str, ...]]
    topics: list[str]
    counts: dict[str, Any]


# --------------------------------------------------------------------------- setup


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (overrides NEWSDESK_DATA)")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON results path (default bench/results/classify.json)"
    )
    parser.add_argument("--skip-bbc", action="store_true", help="do not run the BBC News benchmark")
    parser.add_argument("--skip-reuters", action="store_true", help="do not run the Reuters-21578 benchmark")
    parser.add_argument(
        "--skip-shift", action="store_true", help="do not run the shift section (BBC-trained, on huffpost-10k)"
    )
    parser.add_argument(
        "--skip-shift-encoder",
        action="store_true",
        help="run the shift section without the encoder and ensemble designs (they embed 10k texts with MiniLM, "
        "a few minutes; skipped anyway without torch)",
    )
    return parser.parse_args(argv)


def missing_inputs(data_dir: Path, run_bbc: bool, run_reuters: bool) -> list[Path]:
    """The data files needed by the selected benchmarks that do not exist."""
    needed = ([BBC_FILE] if run_bbc else []) + ([REUTERS_TRAIN, REUTERS_TEST] if run_reuters else [])
    return [data_dir / name for name in needed if not (data_dir / name).is_file()]


# --------------------------------------------------------------------------- BBC


def load_bbc(data_dir: Path) -> tuple[list[str], list[str], dict[str, Any]]:
    """Deduplicated BBC texts, one label each, and the loader's report."""
    from newsdesk.train.data import ColumnMap, load_dataset

    dataset = load_dataset(data_dir / BBC_FILE, ColumnMap(label="category"))
    return dataset.texts, [labels[0] for labels in dataset.labels], dataset.report.to_dict()


def cross_validate(texts: list[str], labels: list[str], folds: int = CV_FOLDS) -> list[dict[str, float]]:
    """Accuracy and macro-F1 of a fresh default classifier on each stratified fold."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold
    from tqdm import tqdm

    from newsdesk.train.classify.tfidf import TopicClassifier

    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    text_array, label_array = np.array(texts, dtype=object), np.array(labels, dtype=object)
    scores = []
    for train_idx, test_idx in tqdm(
        list(splitter.split(text_array, label_array)), desc="BBC cross-validation", unit="fold"
    ):
        model = TopicClassifier().fit(list(text_array[train_idx]), list(label_array[train_idx]))
        predicted = [row[0] for row in model.predict(list(text_array[test_idx]))]
        truth = list(label_array[test_idx])
        scores.append(
            {
                "accuracy": float(accuracy_score(truth, predicted)),
                "macro_f1": float(f1_score(truth, predicted, average="macro")),
            }
        )
    return scores


def predict_throughput(model: Any, texts: list[str], runs: int = THROUGHPUT_RUNS) -> float:
    """Best-of-``runs`` documents per second of one ``predict`` call over all ``texts``."""
    best = min(timed(lambda: model.predict(texts))[1] for _ in range(runs))
    return len(texts) / best


def single_article_latency_ms(model: Any, texts: list[str], calls: int = LATENCY_CALLS) -> float:
    """Median milliseconds of ``predict([text])`` over ``calls`` articles spread through ``texts``."""
    step = max(1, len(texts) // calls)
    sample = texts[::step][:calls]
    model.predict(sample[:1])  # warm-up
    return statistics.median(timed(lambda t=text: model.predict([t]))[1] for text in sample) * 1000


def run_bbc(data_dir: Path) -> dict[str, Any]:
    """All BBC measurements, as flat ``bbc.*`` keys."""
    from threadpoolctl import threadpool_limits

    from newsdesk.train.classify.tfidf import TopicClassifier

    texts, labels, report = load_bbc(data_dir)
    print(
        f"BBC: {report['rows_read']} rows, {len(texts)} articles after dropping "
        f"{report['duplicates_removed']} duplicates, {len(set(labels))} topics"
    )
    folds = cross_validate(texts, labels)
    with threadpool_limits(1):
        model, train_seconds = timed(lambda: TopicClassifier().fit(texts, labels))
        docs_per_s = predict_throughput(model, texts)
        latency_ms = single_article_latency_ms(model, texts)
    return {
        "bbc.accuracy": round(statistics.mean(f["accuracy"] for f in folds), 4),
        "bbc.macro_f1": round(statistics.mean(f["macro_f1"] for f in folds), 4),
        "bbc.accuracy_min_fold": round(min(f["accuracy"] for f in folds), 4),
        "bbc.train_seconds": round(train_seconds, 2),
        "bbc.predict_docs_per_s": round(docs_per_s, 1),
        "bbc.predict_latency_ms_median": round(latency_ms, 3),
        "bbc.folds": [{key: round(value, 4) for key, value in f.items()} for f in folds],
        "bbc.rows": report["rows_read"],
        "bbc.articles": len(texts),
        "bbc.duplicates_removed": report["duplicates_removed"],
        "bbc.vocabulary": len(model.vectorizer_.vocabulary_),
    }


# --------------------------------------------------------------------------- Reuters


def keep_topics(
    texts: list[str], labels: list[tuple[str, ...]], topics: set[str]
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Keep only ``topics`` on each document, and only documents that keep at least one."""
    kept = [(text, tuple(t for t in row if t in topics)) for text, row in zip(texts, labels)]
    kept = [(text, row) for text, row in kept if row]
    return [text for text, _ in kept], [row for _, row in kept]


def load_reuters(data_dir: Path) -> ReutersSplit:
    """The ModApte 90-topic subset: topics with >= 1 training and >= 1 test document."""
    from newsdesk.train.data import ColumnMap, load_dataset

    columns = ColumnMap(label="topics")
    train = load_dataset(data_dir / REUTERS_TRAIN, columns)
    test = load_dataset(data_dir / REUTERS_TEST, columns, deduplicate=False)
    topics = set(train.label_counts) & set(test.label_counts)
    train_texts, train_labels = keep_topics(train.texts, train.labels, topics)
    test_texts, test_labels = keep_topics(test.texts, test.labels, topics)
    counts = {
        "reuters.train_rows": train.report.rows_read,
        "reuters.test_rows": test.report.rows_read,
        "reuters.train_empty_dropped": train.report.empty_dropped,
        "reuters.test_empty_dropped": test.report.empty_dropped,
        "reuters.train_duplicates_removed": train.report.duplicates_removed,
        "reuters.train_docs": len(train_texts),
        "reuters.test_docs": len(test_texts),
        "reuters.topics": len(topics),
    }
    return ReutersSplit(train_texts, train_labels, test_texts, test_labels, sorted(topics), counts)


def fixed_threshold_predictions(model: Any, probs: Any, threshold: float = FIXED_THRESHOLD) -> list[tuple[str, ...]]:
    """Labels whose probability reaches ``threshold``; the most probable one if none does."""
    import numpy as np

    predicted = []
    for row in probs:
        picked = np.flatnonzero(row >= threshold)
        if picked.size == 0:
            picked = np.array([row.argmax()])
        picked = picked[np.argsort(-row[picked], kind="stable")]
        predicted.append(tuple(str(model.classes_[i]) for i in picked))
    return predicted


def run_reuters(data_dir: Path) -> dict[str, Any]:
    """All Reuters measurements, as flat ``reuters.*`` keys."""
    from threadpoolctl import threadpool_limits

    from newsdesk.train.classify.evaluation import multi_label_metrics
    from newsdesk.train.classify.tfidf import TopicClassifier

    split = load_reuters(data_dir)
    c = split.counts
    print(
        f"Reuters: {c['reuters.topics']} topics; train {c['reuters.train_docs']} docs "
        f"(of {c['reuters.train_rows']} rows; {c['reuters.train_empty_dropped']} without text, "
        f"{c['reuters.train_duplicates_removed']} duplicates removed); test {c['reuters.test_docs']} docs "
        f"(of {c['reuters.test_rows']} rows; {c['reuters.test_empty_dropped']} without text)"
    )
    with threadpool_limits(1):
        model, train_seconds = timed(lambda: TopicClassifier().fit(split.train_texts, split.train_labels))
        probs = model.predict_proba(split.test_texts)
    labels = [str(label) for label in model.classes_]
    tuned = multi_label_metrics(split.test_labels, model.predict_from_proba(probs), labels)
    fixed = multi_label_metrics(split.test_labels, fixed_threshold_predictions(model, probs), labels)
    return {
        "reuters.micro_f1": tuned["micro_f1"],
        "reuters.macro_f1": tuned["macro_f1"],
        "reuters.micro_precision": tuned["micro_precision"],
        "reuters.micro_recall": tuned["micro_recall"],
        "reuters.micro_f1_fixed_0.5": fixed["micro_f1"],
        "reuters.macro_f1_fixed_0.5": fixed["macro_f1"],
        "reuters.train_seconds": round(train_seconds, 2),
        **c,
    }


# --------------------------------------------------------------------------- reporting


TABLE_ROWS = (
    ("bbc.articles", "BBC articles (deduplicated)"),
    ("bbc.accuracy", "BBC 5-fold accuracy"),
    ("bbc.macro_f1", "BBC 5-fold macro-F1"),
    ("bbc.accuracy_min_fold", "BBC worst-fold accuracy"),
    ("bbc.train_seconds", "BBC training, all articles (s)"),
    ("bbc.predict_docs_per_s", "BBC prediction, 1 core (docs/s)"),
    ("bbc.predict_latency_ms_median", "BBC one-article latency (median ms)"),
    ("reuters.topics", "Reuters topics"),
    ("reuters.train_docs", "Reuters train docs"),
    ("reuters.test_docs", "Reuters test docs"),
    ("reuters.micro_f1", "Reuters-90 micro-F1 (tuned thresholds)"),
    ("reuters.macro_f1", "Reuters-90 macro-F1 (tuned thresholds)"),
    ("reuters.micro_f1_fixed_0.5", "Reuters-90 micro-F1 (thresholds 0.5)"),
    ("reuters.macro_f1_fixed_0.5", "Reuters-90 macro-F1 (thresholds 0.5)"),
    ("reuters.train_seconds", "Reuters training (s)"),
    *SHIFT_ROWS,
)


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    limit_threads()
    args = parse_args(argv)
    if args.skip_bbc and args.skip_reuters and args.skip_shift:
        print("nothing to do: --skip-bbc, --skip-reuters and --skip-shift were all given", file=sys.stderr)
        return 2
    data_dir = args.data if args.data is not None else default_data_dir()
    missing = missing_inputs(data_dir, not (args.skip_bbc and args.skip_shift), not args.skip_reuters)
    if not args.skip_shift and not (data_dir / HUFFPOST_FILE).is_file():
        missing.append(data_dir / HUFFPOST_FILE)
    if missing:
        print(missing_data_message(data_dir, missing), file=sys.stderr)
        return 2
    ensure_project_importable()

    results: dict[str, Any] = results_header(data_dir)
    if not args.skip_bbc:
        results.update(run_bbc(data_dir))
    if not args.skip_reuters:
        results.update(run_reuters(data_dir))
    if not args.skip_shift:
        results.update(run_shift(data_dir, with_encoder=not args.skip_shift_encoder))

    report(results, TABLE_ROWS, TARGETS, args.out or RESULTS_DIR / "classify.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
