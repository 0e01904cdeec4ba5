"""What the server and the batch scorer both do with a loaded bundle: clean once, classify, summarise.

Kept in one place so an article gets exactly the same topic and summary from
``POST /v1/analyze`` as from ``newsdesk score``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from newsdesk.train.bundle import Bundle
from newsdesk.train.classify.explain import Explanation, explain
from newsdesk.train.classify.review import ReviewDecision, review_articles
from newsdesk.train.summarize.base import Summary, SummaryError
from newsdesk.train.text.cleaning import (
    DEFAULT_CLEANING,
    CleaningOptions,
    clean_body_report,
    clean_title,
    join_title_body,
)

ANSWERED = ReviewDecision(False)
"""The review decision of an article that gets its topic."""


class NoSummarizerError(RuntimeError):
    """The bundle was saved without a summariser (bundle format 1)."""


@dataclass(frozen=True)
class CleanArticle:
    """An article after the shared cleaning: what both models see, and what cleaning removed."""

    title: str
    body: str
    format: str = "text"
    removed: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def model_input(self) -> str:
        """The classifier input: title and body joined the one way training joined them."""
        return join_title_body(self.title, self.body)

    @property
    def is_empty(self) -> bool:
        return not self.body and not self.title


def clean_article(text: str, title: str | None = None, options: CleaningOptions = DEFAULT_CLEANING) -> CleanArticle:
    """Clean a raw body and title with the same functions training used.

    Pass the bundle's options (``bundle.cleaning``) so serving cleans exactly as training did;
    the result also says which lines were removed and why.
    """
    clean = clean_title(title or "")
    report = clean_body_report(text, clean, options)
    return CleanArticle(
        title=clean, body=report.text, format=report.format, removed=report.removed, warnings=report.warnings
    )


@dataclass(frozen=True)
class TopicResult:
    """The predicted topic(s) of one article and the top-k scores behind them."""

    labels: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    review: ReviewDecision = ANSWERED
    """Whether the article needs review instead of a topic (then ``labels`` is empty), and why."""
    explanation: Explanation | None = None
    """The terms behind the best topic (with ``explain=True``)."""

    @property
    def needs_review(self) -> bool:
        return self.review.needs_review

    @property
    def topic(self) -> str:
        """The best-scored predicted label ("" when a multi-label model predicts none or it needs review)."""
        return self.labels[0] if self.labels else ""

    @property
    def score(self) -> float:
        """The probability of :attr:`topic` (the best score when no label is predicted)."""
        lookup = dict(self.scores)
        return lookup.get(self.topic, self.scores[0][1] if self.scores else 0.0)


def predict_topics(
    bundle: Bundle, articles: Sequence[CleanArticle], top_k: int = 3, explain_terms: bool = False
) -> list[TopicResult]:
    """Classify many cleaned articles in one vectorised call; results in input order.

    A single-label bundle with a needs-review rule gives an article it should not guess no label
    (``review`` says why); ``explain_terms`` adds the terms behind the best topic.
    """
    if not articles:
        return []
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    classifier = bundle.classifier
    inputs = [a.model_input for a in articles]
    features = None
    if callable(getattr(type(classifier), "predict_proba_features", None)):  # not through a batching wrapper
        # Vectorise once: the review's scope test and the explanation reuse the prediction's features.
        features = classifier.vectorizer_.transform(inputs)
        probabilities = classifier.predict_proba_features(features)
    else:
        probabilities = classifier.predict_proba(inputs)
    predicted = classifier.predict_from_proba(probabilities)
    reviews = review_articles(getattr(bundle, "review", None), classifier, inputs, probabilities, features)
    labels = [str(c) for c in classifier.classes_]
    k = min(top_k, len(labels))
    results = []
    for row, chosen in zip(probabilities, predicted):
        order = sorted(range(len(labels)), key=lambda i: (-row[i], labels[i]))[:k]
        ranked = tuple((labels[i], round(float(row[i]), 6)) for i in order)
        # Predicted labels, best first, so TopicResult.topic is the strongest one.
        chosen_sorted = tuple(sorted(chosen, key=lambda label: -row[labels.index(label)]))
        results.append(TopicResult(labels=chosen_sorted, scores=ranked))
    results = [
        TopicResult(labels=(), scores=r.scores, review=review) if review.needs_review else r
        for r, review in zip(results, reviews)
    ]
    if explain_terms:
        best = [r.topic or (r.scores[0][0] if r.scores else None) for r in results]
        explanations = explain(classifier, inputs, best, features=features)
        results = [replace(r, explanation=e) for r, e in zip(results, explanations)]
    return results


def summarize_article(
    bundle: Bundle,
    article: CleanArticle,
    *,
    max_sentences: int | None = None,
    max_words: int | None = None,
    ratio: float | None = None,
    length: str | None = None,
) -> Summary:
    """Summarise a cleaned article with the bundle's summariser.

    ``length`` names a preset (brief, standard, reference); explicit ``max_sentences``, ``max_words``
    and ``ratio`` win over it, and without any option the bundle's default length applies.

    Raises :class:`NoSummarizerError` when the bundle has none and
    :class:`~newsdesk.train.summarize.extractive.SummaryError` for an empty body or bad options.
    """
    if bundle.summarizer is None:
        raise NoSummarizerError(
            f"model {bundle.name} {bundle.version} was saved without a summariser (bundle format 1); "
            f"retrain it with this version of newsdesk"
        )
    if not article.body:
        raise SummaryError("the text is empty after cleaning; send the article body to summarise")
    return bundle.summarizer.summarize_clean(
        article.body, article.title, max_sentences=max_sentences, max_words=max_words, ratio=ratio, length=length
    )
