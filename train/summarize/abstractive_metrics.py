"""Scoring an abstractive summariser on held-out articles: ROUGE beside Lead-3, matched Lead-k and the oracle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from newsdesk.train.summarize.abstractive import KIND, AbstractiveSummarizer
from newsdesk.train.summarize.base import SummaryError
from newsdesk.train.summarize.metrics import referenced_articles
from newsdesk.train.summarize.rouge import mean_rouge
from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions


def evaluate_abstractive(
    summarizer: AbstractiveSummarizer,
    articles: Sequence[Any],
    *,
    progress: bool = False,
    cleaning: CleaningOptions = DEFAULT_CLEANING,
) -> dict[str, Any]:
    """ROUGE F1 of the generated summaries beside Lead-3, Lead-k matched to ours, and the extractive oracle."""
    outputs: dict[str, list[list[str]]] = {"ours": [], "lead3": [], "lead_matched": [], "oracle": []}
    references: list[list[str]] = []
    for item in referenced_articles(articles, cleaning, progress):
        try:
            ours = [s.text for s in summarizer.summarize_clean(item.body, item.title).sentences]
        except SummaryError:  # the model wrote nothing: an empty summary, scored as such
            ours = []
        references.append(item.reference)
        outputs["ours"].append(ours)
        for name, chosen in item.baselines(len(ours)).items():
            outputs[name].append(chosen)
    results: dict[str, Any] = {name: mean_rouge(values, references) for name, values in outputs.items()}
    results["articles"] = len(references)
    results["ours"]["mean_sentences"] = round(float(np.mean([len(o) for o in outputs["ours"]])), 2)
    results["ours"]["empty"] = sum(1 for o in outputs["ours"] if not o)
    results["kind"] = KIND
    return results
