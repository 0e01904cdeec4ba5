"""Held-out evaluation of a summariser against reference summaries, beside baselines and the oracle."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from newsdesk.train.data import Article
from newsdesk.train.summarize.extractive import ExtractiveSummarizer
from newsdesk.train.summarize.rouge import greedy_oracle, mean_rouge
from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions, clean_body, clean_text, clean_title
from newsdesk.train.text.sentences import split_reference, split_sentences

SYSTEMS = ("ours", "lead3", "lead_matched", "textrank", "oracle")
SYSTEM_NOTES = {
    "ours": "this bundle's summariser, choosing its own length",
    "lead3": "the first three sentences",
    "lead_matched": "the first k sentences, k = the number of sentences ours chose for that article",
    "textrank": "TextRank (word-overlap similarity, as the bundle's unsupervised summariser), k matched to ours",
    "oracle": "greedy ROUGE-1+2 oracle over the article's sentences (the extractive ceiling)",
}


@dataclass(frozen=True)
class ReferencedArticle:
    """A held-out article cleaned as in training, split into sentences, with its reference summary."""

    title: str
    body: str
    sentences: list[str]
    reference: list[str]

    def baselines(self, k: int) -> dict[str, list[str]]:
        """Lead-3, Lead-k (k matched to the summary being judged) and the greedy extractive oracle."""
        oracle = greedy_oracle(self.sentences, "\n".join(self.reference))
        return {
            "lead3": self.sentences[:3],
            "lead_matched": self.sentences[:k],
            "oracle": [self.sentences[i] for i in oracle],
        }


def referenced_articles(
    articles: Sequence[Any], cleaning: CleaningOptions = DEFAULT_CLEANING, progress: bool = False
) -> Iterator[ReferencedArticle]:
    """The articles that have a body and a reference summary, cleaned the one way training cleans them."""
    pairs = [a for a in articles if a.summary and a.summary.strip() and a.text.strip()]
    if not pairs:
        raise ValueError("none of the articles has both a body and a reference summary to evaluate against")
    for article in tqdm(pairs, desc="evaluating summaries", unit="article", disable=not progress, leave=False):
        title = clean_title(article.title)
        body = clean_body(article.text, title, cleaning)
        if not body:
            continue
        sentences = [s.text for s in split_sentences(body)]
        yield ReferencedArticle(title, body, sentences, split_reference(clean_text(article.summary or ""), sentences))


def evaluate_summarizer(
    summarizer: ExtractiveSummarizer,
    articles: Sequence[Article],
    *,
    progress: bool = False,
    cleaning: CleaningOptions = DEFAULT_CLEANING,
) -> dict[str, Any]:
    """ROUGE-1/2/Lsum F1 of ``summarizer`` and of the baselines on articles that have reference summaries."""
    textrank = summarizer.as_textrank()
    outputs: dict[str, list[list[str]]] = {name: [] for name in SYSTEMS}
    references: list[list[str]] = []
    words: list[int] = []
    seconds = 0.0
    for item in referenced_articles(articles, cleaning, progress):
        started = time.perf_counter()
        ours = summarizer.summarize_clean(item.body, item.title)
        seconds += time.perf_counter() - started
        k = len(ours.sentences)
        references.append(item.reference)
        outputs["ours"].append([s.text for s in ours.sentences])
        for name, chosen in item.baselines(k).items():
            outputs[name].append(chosen)
        textrank_summary = textrank.summarize_clean(item.body, item.title, num_sentences=k)
        outputs["textrank"].append([s.text for s in textrank_summary.sentences])
        words.append(sum(len(s.text.split()) for s in ours.sentences))
    results: dict[str, Any] = {name: mean_rouge(outputs[name], references) for name in SYSTEMS}
    results["articles"] = len(references)
    results["ours"]["mean_sentences"] = round(float(np.mean([len(o) for o in outputs["ours"]])), 2)
    results["ours"]["mean_words"] = round(float(np.mean(words)), 1)
    results["ours"]["articles_per_s"] = round(len(references) / seconds, 1) if seconds > 0 else None
    results["reference_mean_sentences"] = round(float(np.mean([len(r) for r in references])), 2)
    results["kind"] = summarizer.kind
    results["notes"] = SYSTEM_NOTES
    return results


def rouge_headline(results: dict[str, Any]) -> dict[str, float]:
    """The summariser's own ROUGE F1 scores, for manifests and logs."""
    return {name: results["ours"][name] for name in ("rouge1", "rouge2", "rougeLsum")}


def not_evaluated(kind: str) -> dict[str, Any]:
    """The metrics entry of a summariser trained on data without reference summaries."""
    return {"kind": kind, "evaluated": False, "reason": "the data has no reference summaries"}


def headline_line(results: dict[str, Any]) -> str:
    """One progress line with the held-out ROUGE and the Lead-3 baseline."""
    scores = ", ".join(f"{name} {value:.4f}" for name, value in rouge_headline(results).items())
    return (
        f"held-out summaries: {scores} (lead-3 rouge2 {results['lead3']['rouge2']:.4f}); {results['articles']} articles"
    )
