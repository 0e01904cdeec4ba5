"""Benchmark newsdesk's extractive summariser in-domain (BBC) and on another source (CNN/Daily Mail).

What it measures, with the project's own loading, cleaning, split and summariser:

* the deduplicated BBC set (about 2,090 articles) split 80/20 with ``newsdesk.train.pipeline.split_dataset``
  (seeded, stratified by topic; the same split ``newsdesk train`` uses); the summariser is fitted on
  the 80% only (``bbc.train_seconds``: sentence splitting, labelling against the references,
  features, the scorer and the length model);
* ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 (``rouge-score``, stemming on, newline-separated sentences),
  on BBC's held-out 20% and on ``cnndm-frank`` (250 CNN/Daily Mail stories with editors' highlights;
  the model never sees it: trained on BBC only), for: ours at each length preset (brief, standard,
  reference = its learned length) and at the reference's own length, each beside Lead-k at the same
  length; Lead-3; ours and Lead at 4 sentences (``cnndm.ours_k``/``cnndm.lead_k``); TextRank and
  PacSum (the unsupervised summarisers) with k matched to ours; the greedy extractive oracle;
* ``brief.median_words``: the median length of brief summaries (the larger of the two sets' medians);
* ``bbc.ours.articles_per_s``: held-out articles summarised per second on one core with the default
  (brief) length, by a model loaded back from its bundle files, from raw text (cleaning and sentence
  splitting included), best of 3 runs.

Targets (reported as met or not; the script exits 0 either way): on cnndm-frank ours at 4 sentences
>= Lead-4 + 0.01 ROUGE-2 and >= Lead-4 ROUGE-1, brief >= Lead-3 on ROUGE-1 and ROUGE-2; BBC's
reference preset ROUGE-2 >= 0.76; brief median 40-80 words; >= 300 articles/s; training <= 30 s.

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

from newsdesk.train.summarize.comparison import SUMMARY_ROWS  # the systems `newsdesk evaluate` reports

CNNDM_FILE = Path("cnndm-frank") / "cnndm-frank-250.csv"
K = 4
THROUGHPUT_RUNS = 3

TARGETS = (
    Target("cnndm.ours_k_minus_lead_k.rouge2", 0.01),
    Target("cnndm.ours_k_minus_lead_k.rouge1", 0.0),
    Target("cnndm.ours_brief_minus_lead3.rouge1", 0.0),
    Target("cnndm.ours_brief_minus_lead3.rouge2", 0.0),
    Target("bbc.ours_reference.rouge2", 0.76),
    Target("brief.median_words", 40.0),
    Target("brief.median_words", 80.0001, below=True),
    Target("bbc.ours.articles_per_s", 300.0),
    Target("bbc.train_seconds", 30.0001, below=True),
)

TABLE_ROWS = (
    ("bbc.train_articles", "BBC training articles"),
    ("bbc.test_articles", "BBC held-out articles"),
    ("cnndm.articles", "cnndm-frank articles (never trained on)"),
    *(
        (f"{where}.{system}.{metric}", f"{where} {system} {label}")
        for where in ("bbc", "cnndm")
        for system in (*SUMMARY_ROWS, "ours_k", "lead_k")
        for metric, label in (("rouge1", "ROUGE-1 F1"), ("rouge2", "ROUGE-2 F1"))
    ),
    ("bbc.ours_reference.rouge2", "BBC ours, reference preset, ROUGE-2"),
    ("cnndm.ours_k_minus_lead_k.rouge1", "cnndm ours@4 - Lead-4, ROUGE-1"),
    ("cnndm.ours_k_minus_lead_k.rouge2", "cnndm ours@4 - Lead-4, ROUGE-2"),
    ("cnndm.ours_brief_minus_lead3.rouge1", "cnndm brief - Lead-3, ROUGE-1"),
    ("cnndm.ours_brief_minus_lead3.rouge2", "cnndm brief - Lead-3, ROUGE-2"),
    ("bbc.ours_brief.median_words", "BBC brief: median words"),
    ("cnndm.ours_brief.median_words", "cnndm brief: median words"),
    ("brief.median_words", "brief: median words (larger of the two)"),
    ("bbc.ours.mean_sentences", "BBC ours (reference preset): sentences per summary"),
    ("bbc.reference_mean_sentences", "BBC reference: sentences per summary"),
    ("cnndm.reference_mean_sentences", "cnndm reference: sentences per summary"),
    ("bbc.ours.articles_per_s", "ours: articles/s, 1 core, loaded model, brief"),
    ("bbc.train_seconds", "summariser training on BBC (s)"),
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


def at_k(summarizer: Any, articles: Sequence[Any], k: int) -> dict[str, dict[str, float]]:
    """Ours and Lead at exactly ``k`` sentences (ROUGE-1/2/Lsum F1)."""
    from newsdesk.train.summarize.metrics import referenced_articles
    from newsdesk.train.summarize.rouge import mean_rouge

    ours, lead, references = [], [], []
    for item in referenced_articles(articles):
        summary = summarizer.summarize_clean(item.body, item.title, num_sentences=k)
        ours.append([s.text for s in summary.sentences])
        lead.append(item.sentences[:k])
        references.append(item.reference)
    return {"ours_k": mean_rouge(ours, references), "lead_k": mean_rouge(lead, references)}


def scores_of(where: str, summarizer: Any, articles: Sequence[Any]) -> dict[str, Any]:
    """Every system's ROUGE on ``articles`` under keys ``WHERE.SYSTEM.METRIC``."""
    from newsdesk.train.summarize.metrics import evaluate_summarizer

    scores = evaluate_summarizer(summarizer, articles, progress=True)
    scores.update(at_k(summarizer, articles, K))
    results: dict[str, Any] = {
        f"{where}.reference_mean_sentences": scores["reference_mean_sentences"],
        f"{where}.ours.mean_sentences": scores["ours"]["mean_sentences"],
        f"{where}.ours.mean_words": scores["ours"]["mean_words"],
        f"{where}.ours_brief.median_words": scores["ours_brief"]["median_words"],
    }
    for system in (*SUMMARY_ROWS, "ours_k", "lead_k"):
        for metric in ("rouge1", "rouge2", "rougeLsum"):
            results[f"{where}.{system}.{metric}"] = scores[system][metric]
    for metric in ("rouge1", "rouge2"):
        results[f"{where}.ours_reference.{metric}"] = scores["ours"][metric]
        results[f"{where}.ours_k_minus_lead_k.{metric}"] = round(scores["ours_k"][metric] - scores["lead_k"][metric], 4)
        results[f"{where}.ours_brief_minus_lead3.{metric}"] = round(
            scores["ours_brief"][metric] - scores["lead3"][metric], 4
        )
    results[f"{where}.notes"] = {
        **scores["notes"],
        "ours_k": f"ours with exactly {K} sentences",
        "lead_k": f"the first {K} sentences",
    }
    results[f"{where}.articles" if where == "cnndm" else f"{where}.test_articles"] = scores["articles"]
    return results


def load_cnndm(data_dir: Path) -> list[Any]:
    """The cnndm-frank stories as articles with reference summaries (no labels: evaluation only)."""
    import pandas as pd

    from newsdesk.train.data import Article

    frame = pd.read_csv(data_dir / CNNDM_FILE, keep_default_na=False, dtype=str)
    return [Article(id=row.id, text=row.text, title=row.title, summary=row.summary) for row in frame.itertuples()]


def run(data_dir: Path) -> dict[str, Any]:
    from newsdesk.train.data import ColumnMap, load_dataset
    from newsdesk.train.pipeline import split_dataset
    from newsdesk.train.summarize.extractive import ExtractiveSummarizer

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
    results: dict[str, Any] = {
        "bbc.train_articles": len(train),
        "bbc.train_seconds": round(seconds, 2),
        "bbc.length_model": model.fitted_state()[2]["length"],
        "bbc.ours.articles_per_s": round(throughput(loaded, test), 1),
    }
    results.update(scores_of("bbc", loaded, test))
    results.update(scores_of("cnndm", loaded, load_cnndm(data_dir)))
    results["brief.median_words"] = max(
        results["bbc.ours_brief.median_words"], results["cnndm.ours_brief.median_words"]
    )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    limit_threads()
    args = parse_args(argv)
    data_dir = args.data if args.data is not None else default_data_dir()
    missing = [data_dir / name for name in (BBC_FILE, CNNDM_FILE) if not (data_dir / name).is_file()]
    if missing:
        print(missing_data_message(data_dir, missing), file=sys.stderr)
        return 2
    ensure_project_importable()
    results = results_header(data_dir)
    results.update(run(data_dir))
    report(results, TABLE_ROWS, TARGETS, args.out or RESULTS_DIR / "summarize.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
