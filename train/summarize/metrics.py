"""Held-out evaluation of a summariser against reference summaries, beside baselines and the oracle."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from newsdesk.train.data import Article
from newsdesk.train.progress import track
from newsdesk.train.summarize.comparison import LENGTH_SYSTEMS, length_notes, length_outputs
from newsdesk.train.summarize.extractive import ExtractiveSummarizer
from newsdesk.train.summarize.features import PreparedArticle
from newsdesk.train.summarize.presets import REFERENCE
from newsdesk.train.summarize.rouge import greedy_oracle
from newsdesk.train.summarize.rouge_judge import RougeJudge, mean_scores
from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions, clean_body, clean_text, clean_title
from newsdesk.train.text.sentences import split_reference, split_sentences

SYSTEMS = ("ours", "lead3", "lead_matched", "textrank", "oracle")
FULL_SYSTEMS = SYSTEMS + LENGTH_SYSTEMS
"""What ``evaluate`` scores with baselines: also ours at each preset and at the reference's length,
each beside Lead at the same length, and PacSum (``comparison.py``)."""
QUICK_SYSTEMS = ("ours", "lead3", "lead_matched")
"""What ``newsdesk evaluate --no-baselines`` scores: no TextRank and no oracle, the slow baselines."""
PARALLEL_CHUNK = 16
"""Articles handed to a worker process at a time (``jobs`` > 1)."""
SYSTEM_NOTES = {
    "ours": "this bundle's summariser, choosing its own length (the reference preset)",
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

    def baselines(self, k: int, oracle: bool = True) -> dict[str, list[str]]:
        """Lead-3, Lead-k (k matched to the summary being judged) and the greedy extractive oracle."""
        chosen = {"lead3": self.sentences[:3], "lead_matched": self.sentences[:k]}
        if oracle:
            chosen["oracle"] = [self.sentences[i] for i in greedy_oracle(self.sentences, "\n".join(self.reference))]
        return chosen


def _with_references(articles: Sequence[Any]) -> list[Any]:
    pairs = [a for a in articles if a.summary and a.summary.strip() and a.text.strip()]
    if not pairs:
        raise ValueError("none of the articles has both a body and a reference summary to evaluate against")
    return pairs


def referenced_article(
    article: Any, cleaning: CleaningOptions = DEFAULT_CLEANING, split: Callable[[str, str], list[str]] | None = None
) -> ReferencedArticle | None:
    """One article cleaned the one way training cleans it, split, with its reference (None if no body is left).

    ``split(body, title)`` returns the body's sentences when the caller has split it already.
    """
    title = clean_title(article.title)
    body = clean_body(article.text, title, cleaning)
    if not body:
        return None
    sentences = split(body, title) if split is not None else [s.text for s in split_sentences(body)]
    return ReferencedArticle(title, body, sentences, split_reference(clean_text(article.summary or ""), sentences))


def referenced_articles(
    articles: Sequence[Any], cleaning: CleaningOptions = DEFAULT_CLEANING, progress: bool = False
) -> Iterator[ReferencedArticle]:
    """The articles that have a body and a reference summary, cleaned the one way training cleans them."""
    for article in track(_with_references(articles), "evaluating summaries", "articles", enabled=progress):
        item = referenced_article(article, cleaning)
        if item is not None:
            yield item


@dataclass(frozen=True)
class ArticleScores:
    """Every system's ROUGE on one article, plus what the summary of ours looked like."""

    scores: dict[str, dict[str, float]]
    reference_sentences: int
    sentences: int
    words: int
    seconds: float
    preset_words: dict[str, int] = field(default_factory=dict)
    """Words in ours' summary at each preset that was scored (``ours_brief``, ``ours_standard``)."""


@dataclass(frozen=True)
class SummaryJudge:
    """Summarises one article with ours (and TextRank) and scores every system against its reference."""

    summarizer: ExtractiveSummarizer
    textrank: ExtractiveSummarizer | None
    systems: tuple[str, ...]
    cleaning: CleaningOptions
    pacsum: ExtractiveSummarizer | None = None
    """With it, the :data:`LENGTH_SYSTEMS` are scored too."""

    def __call__(self, article: Any) -> ArticleScores | None:
        """The scores of one raw article (None when nothing is left of its body after cleaning)."""
        prepared: list[PreparedArticle] = []
        seconds = 0.0

        def split(body: str, title: str) -> list[str]:
            # Ours splits and vectorises the body anyway (split_sentences, as referenced_article would).
            nonlocal seconds
            started = time.perf_counter()
            prepared.append(self.summarizer.prepare(body, title))
            seconds += time.perf_counter() - started
            return [s.text for s in prepared[0].sentences]

        item = referenced_article(article, self.cleaning, split)
        if item is None:
            return None
        started = time.perf_counter()
        ours = self.summarizer.summarize_clean(item.body, item.title, length=REFERENCE, prepared=prepared[0])
        seconds += time.perf_counter() - started
        k = len(ours.sentences)
        outputs = {"ours": [s.text for s in ours.sentences], **item.baselines(k, oracle="oracle" in self.systems)}
        if self.textrank is not None:  # the same vocabulary, so the same split and vectors
            textrank = self.textrank.summarize_clean(item.body, item.title, num_sentences=k, prepared=prepared[0])
            outputs["textrank"] = [s.text for s in textrank.sentences]
        preset_words: dict[str, int] = {}
        if self.pacsum is not None:
            added = length_outputs(self.summarizer, self.pacsum, item, k, prepared[0])
            outputs.update(added)
            preset_words = {n: sum(len(s.split()) for s in added[n]) for n in ("ours_brief", "ours_standard")}
        judge = RougeJudge(item.reference)
        words = sum(len(s.text.split()) for s in ours.sentences)
        scores = {name: judge.score(outputs[name]) for name in self.systems}
        return ArticleScores(scores, len(item.reference), k, words, seconds, preset_words)


_forked_judge: SummaryJudge | None = None
"""The judge a forked worker process inherits (set just before the pool forks)."""


def _judge_in_worker(article: Any) -> ArticleScores | None:
    assert _forked_judge is not None
    return _forked_judge(article)


def _judged(judge: SummaryJudge, articles: list[Any], jobs: int) -> Iterator[ArticleScores | None]:
    """Each article's scores, in input order: here, or in ``jobs`` forked processes."""
    global _forked_judge
    if jobs <= 1 or len(articles) < 2 * PARALLEL_CHUNK or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(judge, articles)
        return
    _forked_judge = judge
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap(_judge_in_worker, articles, chunksize=PARALLEL_CHUNK)
    finally:
        _forked_judge = None


def evaluate_summarizer(
    summarizer: ExtractiveSummarizer,
    articles: Sequence[Article],
    *,
    progress: bool = False,
    cleaning: CleaningOptions = DEFAULT_CLEANING,
    baselines: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """ROUGE-1/2/Lsum F1 of ``summarizer`` and of the baselines on articles that have reference summaries.

    With ``baselines=False`` only ours, Lead-3 and Lead-k are scored (no TextRank, no oracle: the quick check).
    Each article's summaries are scored together (:class:`RougeJudge`, the same numbers as ``rouge-score``);
    with ``jobs`` > 1 the articles are shared among that many forked processes, and the results are
    summed in article order, so they are the same.
    """
    systems = FULL_SYSTEMS if baselines else QUICK_SYSTEMS
    judge = SummaryJudge(
        summarizer,
        summarizer.as_textrank() if baselines else None,
        systems,
        cleaning,
        summarizer.as_pacsum() if baselines else None,
    )
    pairs = _with_references(articles)
    judged = [
        result
        for result in track(
            _judged(judge, pairs, jobs), "evaluating summaries", "articles", total=len(pairs), enabled=progress
        )
        if result is not None
    ]
    if not judged:
        raise ValueError("no summaries to score")
    seconds = sum(r.seconds for r in judged)
    results: dict[str, Any] = {name: mean_scores([r.scores[name] for r in judged]) for name in systems}
    results["articles"] = len(judged)
    results["ours"]["mean_sentences"] = round(float(np.mean([r.sentences for r in judged])), 2)
    results["ours"]["mean_words"] = round(float(np.mean([r.words for r in judged])), 1)
    results["ours"]["articles_per_s"] = round(len(judged) / seconds, 1) if seconds > 0 else None
    for name in ("ours_brief", "ours_standard"):
        if name in systems:
            results[name]["median_words"] = float(np.median([r.preset_words[name] for r in judged]))
    results["reference_mean_sentences"] = round(float(np.mean([r.reference_sentences for r in judged])), 2)
    results["kind"] = summarizer.kind
    notes = {**SYSTEM_NOTES, **length_notes()}
    results["notes"] = {name: notes[name] for name in systems}
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
