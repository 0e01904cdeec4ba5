"""Benchmark newsdesk's extractive summariser on BBC News Summary.

What it measures, with the project's own loading, cleaning, split and summariser:

* the deduplicated BBC set (about 2,090 articles) split 80/20 with ``newsdesk.train.pipeline.split_dataset``
  (seeded, stratified by topic; the same split ``newsdesk train`` uses);
* ``bbc.train_seconds``: fitting the summariser on the 80% (sentence splitting, labelling against
  the references, features, the scorer and the length model);
* ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 (``rouge-score``, stemming on, newline-separated sentences)
  on the held-out 20% for: ours (the model choosing its own length), Lead-3, Lead-k with k matched
  to ours, TextRank with k matched to ours, and the greedy extractive oracle (the ceiling);
* ``bbc.ours.articles_per_s``: held-out articles summarised per second on one core by a model
  loaded back from its bundle files, from raw text (cleaning and sentence splitting included),
  best of 3 runs.

Targets (reported as met or not; the script exits 0 either way): ROUGE-2 >= 0.58, ROUGE-1 >= 0.70,
>= 150 articles/s, training < 60 s.

Usage, from the project root::

    python bench/summarize.py [--data PATH] [--out PATH]

Data comes from ``--data``, else ``NEWSDESK_DATA``, else ``shared/data`` beside the checkout.
Results are printed as a table and written to ``bench/results/summarize.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
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

SYSTEMS = ("ours", "lead3", "lead_matched", "textrank", "oracle")
THROUGHPUT_RUNS = 3

TARGETS = (
    Target("bbc.ours.rouge2", 0.58),
    Target("bbc.ours.rouge1", 0.70),
    Target("bbc.ours.articles_per_s", 150.0),
    Target("bbc.train_seconds", 60.0, below=True),
)

TABLE_ROWS = (
    ("bbc.train_articles", "BBC training articles"),
    ("bbc.test_articles", "BBC held-out articles"),
    *(
        (f"bbc.{system}.{metric}", f"{system} {label}")
        for system in SYSTEMS
        for metric, label in (("rouge1", "ROUGE-1 F1"), ("rouge2", "ROUGE-2 F1"), ("rougeLsum", "ROUGE-Lsum F1"))
    ),
    ("bbc.ours.mean_sentences", "ours: sentences per summary"),
    ("bbc.reference_mean_sentences", "reference: sentences per summary"),
    ("bbc.ours.articles_per_s", "ours: articles/s, 1 core, loaded model"),
    ("bbc.train_seconds", "summariser training (s)"),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (overrides NEWSDESK_DATA)")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON results path (default bench/results/summarize.json)"
    )
    return parser.parse_args(argv)


def reload(summarizer: Any) -> Any:
    """Write the summariser's bundle files and load them back, as a server would."""
    from newsdesk.train.bundle import load_summarizer, write_summarizer

    with tempfile.TemporaryDirectory() as tmp:
        entry = write_summarizer(Path(tmp), summarizer)
        return load_summarizer(Path(tmp), {"summarizer": entry})


def throughput(summarizer: Any, articles: Sequence[Any], runs: int = THROUGHPUT_RUNS) -> float:
    """Articles per second summarised from raw text, best of ``runs``."""
    best = float("inf")
    for _ in range(runs):
        _, seconds = timed(lambda: [summarizer.summarize(a.text, a.title) for a in articles])
        best = min(best, seconds)
    return len(articles) / best


def run_bbc(data_dir: Path) -> dict[str, Any]:
    from newsdesk.train.data import ColumnMap, load_dataset
    from newsdesk.train.pipeline import split_dataset
    from newsdesk.train.summarize.extractive import ExtractiveSummarizer
    from newsdesk.train.summarize.metrics import evaluate_summarizer

    dataset = load_dataset(data_dir / BBC_FILE, ColumnMap(label="category"))
    train_idx, test_idx = split_dataset(dataset, 0.2, seed=0)
    train = [dataset.articles[i] for i in train_idx]
    test = [dataset.articles[i] for i in test_idx]
    print(f"BBC: {len(dataset)} distinct articles, training on {len(train)}, holding out {len(test)}", file=sys.stderr)

    model, seconds = timed(
        lambda: ExtractiveSummarizer().fit(
            [a.text for a in train], [a.title for a in train], [a.summary for a in train], progress=True
        )
    )
    loaded = reload(model)
    scores = evaluate_summarizer(loaded, test, progress=True)
    results: dict[str, Any] = {
        "bbc.train_articles": len(train),
        "bbc.test_articles": scores["articles"],
        "bbc.train_seconds": round(seconds, 2),
        "bbc.length_model": model.fitted_state()[2]["length"],
        "bbc.reference_mean_sentences": scores["reference_mean_sentences"],
        "bbc.ours.mean_sentences": scores["ours"]["mean_sentences"],
        "bbc.ours.mean_words": scores["ours"]["mean_words"],
        "bbc.ours.articles_per_s": round(throughput(loaded, test), 1),
    }
    for system in SYSTEMS:
        for metric in ("rouge1", "rouge2", "rougeLsum"):
            results[f"bbc.{system}.{metric}"] = scores[system][metric]
    results["bbc.notes"] = scores["notes"]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    limit_threads()
    args = parse_args(argv)
    data_dir = args.data if args.data is not None else default_data_dir()
    if not (data_dir / BBC_FILE).is_file():
        print(missing_data_message(data_dir, [data_dir / BBC_FILE]), file=sys.stderr)
        return 2
    ensure_project_importable()
    results = results_header(data_dir)
    results.update(run_bbc(data_dir))
    report(results, TABLE_ROWS, TARGETS, args.out or RESULTS_DIR / "summarize.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
