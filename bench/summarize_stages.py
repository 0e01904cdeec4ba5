"""Where one ``/v1/summarize`` request spends its time: the stages of the summarize path, in-process.

For each BBC article (title and text, as the HTTP benchmark sends them) it times, one article per
call on one thread as a request runs, in CPU milliseconds of that thread: cleaning (``clean_article``),
sentence splitting (the summary's candidate sentences), vectorising (every sentence's TF-IDF, when the
default length's learned features need it; otherwise selection vectorises only the few sentences it
compares, and that time is in "select"), sentence features (with the body's and title's TF-IDF),
scoring, selection, the response model and its JSON. Features and scoring are timed as the bundle's
default length runs them: the brief and standard lengths rank by position and compute no features
unless the bundle's ``learned_weight`` is above 0. The stages add up to one request's model work (HTTP
parsing, the thread hand-off and queueing under load come on top; ``bench/serve.py`` measures those).

Usage, from the project root::

    python bench/summarize_stages.py [--data PATH] [--model models/bbc] [--articles N] [--out PATH]

Prints a table (mean and p99 per stage, in ms) and writes ``bench/results/summarize_stages.json``.
Timings depend on the machine's load: the machine's load average is recorded with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import (
    BBC_FILE,
    RESULTS_DIR,
    default_data_dir,
    ensure_project_importable,
    limit_threads,
    machine_steal_seconds,
    results_header,
    write_results,
)

STAGES = ("clean", "split", "vectorise", "features", "score", "select", "response_json")
clock = time.thread_time
"""CPU time of this thread: a busy machine delays the benchmark but hardly changes what it measures."""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def time_article(bundle: Any, title: str, text: str) -> dict[str, float]:
    """Each stage's seconds for one article, the way the summarize endpoint runs it."""
    from newsdesk.serve.analysis import clean_article
    from newsdesk.serve.api.routes.articles import cleaning_out, model_ref, summary_out
    from newsdesk.serve.api.schemas import SummarizeResponse
    from newsdesk.train.summarize.extractive import SUPERVISED
    from newsdesk.train.summarize.features import PreparedArticle
    from newsdesk.train.summarize.hygiene import candidate_sentences
    from newsdesk.train.summarize.presets import REFERENCE

    summarizer = bundle.summarizer
    took: dict[str, float] = {}
    t0 = clock()
    article = clean_article(text, title, bundle.cleaning)
    t1 = clock()
    sentences = candidate_sentences(article.body)
    t2 = clock()
    prepared = PreparedArticle(article.body, sentences, summarizer.vectorizer_, article.title)
    # The default length's path: the reference length scores with the learned scorer (features needed),
    # the others by position unless learned_weight adds the learned score (position.py). Without features,
    # selection vectorises only the sentences it compares (inside "select").
    imitate = summarizer.config.default_length == REFERENCE
    learned = summarizer.kind == SUPERVISED and (imitate or summarizer.config.learned_weight > 0)
    if learned:
        assert prepared.vectors.shape[0] == len(sentences)
    t3 = clock()
    if learned:
        summarizer._features(prepared)
    t4 = clock()
    scores, _method = summarizer._scores_and_method(prepared, imitate=imitate)  # computes the features again
    t5 = clock()
    summary = summarizer.summarize_clean(article.body, article.title, prepared=prepared)  # selection (+ scoring again)
    t6 = clock()
    response = SummarizeResponse(
        model=model_ref(bundle), cleaning=cleaning_out(article), document=None, **dict(summary_out(summary, False))
    )
    response.model_dump_json()
    t7 = clock()
    took = {
        "clean": t1 - t0,
        "split": t2 - t1,
        "vectorise": t3 - t2,
        "features": t4 - t3,
        "score": max(0.0, (t5 - t4) - (t4 - t3)),  # scoring minus the features it computes again
        "select": max(0.0, (t6 - t5) - (t5 - t4)),  # summarize_clean minus the scoring it repeats
        "response_json": t7 - t6,
    }
    assert len(scores) == len(sentences)
    return took


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="shared data folder (default: NEWSDESK_DATA or ../shared/data)"
    )
    parser.add_argument(
        "--model", type=Path, default=Path("models/bbc"), help="a BBC bundle (newsdesk train ... --name bbc)"
    )
    parser.add_argument("--articles", type=int, default=500, help="how many BBC articles to time (default 500)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "summarize_stages.json")
    args = parser.parse_args(argv)
    limit_threads()
    ensure_project_importable()
    import pandas as pd

    from newsdesk.train.bundle import load_bundle

    data_dir = args.data or default_data_dir()
    frame = pd.read_csv(data_dir / BBC_FILE, dtype=str, keep_default_na=False).head(args.articles)
    bundle = load_bundle(args.model)
    for row in frame.head(20).itertuples():  # warm caches and imports
        time_article(bundle, row.title, row.text)
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    totals = []
    started, steal_before = time.monotonic(), machine_steal_seconds()
    for row in frame.itertuples():
        took = time_article(bundle, row.title, row.text)
        for stage in STAGES:
            per_stage[stage].append(took[stage] * 1000)
        totals.append(sum(took[stage] for stage in STAGES) * 1000)
    steal_cores = (machine_steal_seconds() - steal_before) / (time.monotonic() - started)
    mean_total = sum(totals) / len(totals)
    results: dict[str, Any] = {
        **results_header(data_dir),
        "load_average": os.getloadavg(),
        "steal_cores": round(steal_cores, 2),
        "articles": len(totals),
        "total_ms": {
            "mean": round(mean_total, 3),
            "p50": round(percentile(totals, 50), 3),
            "p99": round(percentile(totals, 99), 3),
        },
        "stages_ms": {
            stage: {
                "mean": round(sum(v) / len(v), 3),
                "p99": round(percentile(v, 99), 3),
                "share": round(sum(v) / len(v) / mean_total, 3),
            }
            for stage, v in per_stage.items()
        },
    }
    print(
        f"{len(totals)} BBC articles, load average {results['load_average'][0]:.1f}, "
        f"the hypervisor took {results['steal_cores']} cores (steal)"
    )
    print(f"| {'stage (CPU ms)':<28} | {'mean':>8} | {'p99':>8} | {'share':>6} |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 8}|")
    for stage, row in results["stages_ms"].items():
        print(f"| {stage:<28} | {row['mean']:8.3f} | {row['p99']:8.3f} | {row['share']:6.1%} |")
    total = results["total_ms"]
    print(f"| {'total':<28} | {total['mean']:8.3f} | {total['p99']:8.3f} | {1:6.1%} |")
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
