"""Why this topic: the terms that pushed an article towards its topic, and against the runner-up.

For the linear TF-IDF model the explanation is exact: the topic's decision score is
``intercept + sum_j coef[topic, j] * x_j`` over the article's TF-IDF features ``x``, so each term's
weight is its ``coef × feature value`` and the weights plus the intercept add up to the score. The
terms "against the runner-up" are ranked by ``(coef[topic, j] - coef[runner_up, j]) * x_j``, their
share of the margin between the two scores.

For an ensemble the terms shown are those of its TF-IDF member (exact for that member only; the
encoder member's share is not broken down). Encoder and fine-tuned backends have no term weights:
their explanation is empty, with ``method`` saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsdesk.train.classify.review import tfidf_part

LINEAR = "linear: coefficient x tf-idf value (exact)"
ENSEMBLE_TFIDF = "tf-idf member of the ensemble: coefficient x tf-idf value (exact for that member only)"
UNAVAILABLE = "not available for this backend (no term weights)"
DEFAULT_TERMS = 8


@dataclass(frozen=True)
class TermWeight:
    """One term and its contribution to a score."""

    term: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """The terms behind one article's topic."""

    topic: str
    runner_up: str | None
    towards: tuple[TermWeight, ...]
    """Terms with the largest positive contribution to the topic's score."""
    against_runner_up: tuple[TermWeight, ...]
    """Terms with the largest share of the margin over the runner-up."""
    method: str

    def terms(self) -> list[str]:
        """Every term named, without repeats, towards-first."""
        return list(dict.fromkeys(t.term for t in (*self.towards, *self.against_runner_up)))


def _top(indices: np.ndarray, weights: np.ndarray, terms: np.ndarray, k: int) -> tuple[TermWeight, ...]:
    if len(weights) > k:  # the k largest, then sorted: cheaper than sorting every feature
        best = np.argpartition(-weights, k - 1)[:k]
        order = best[np.argsort(-weights[best], kind="stable")]
    else:
        order = np.argsort(-weights, kind="stable")
    return tuple(TermWeight(str(terms[indices[i]]), round(float(weights[i]), 6)) for i in order if weights[i] > 0)


def explain_linear(
    model: Any,
    texts: Sequence[str],
    topics: Sequence[str | None],
    k: int = DEFAULT_TERMS,
    method: str = LINEAR,
    features: Any = None,
) -> list[Explanation | None]:
    """Exact term contributions of a fitted TopicClassifier for each text towards ``topics[i]``
    (its best label when None). The runner-up is the next-best label by decision score.
    ``features``: the texts already vectorised by the model (saves doing it twice)."""
    if len(texts) == 0:
        return []
    features = (model.vectorizer_.transform(list(texts)) if features is None else features).tocsr()
    scores = model.decision_function_features(features)
    classes = [str(c) for c in model.classes_]
    terms = model.vectorizer_.terms
    out: list[Explanation | None] = []
    for i in range(len(texts)):
        start, end = features.indptr[i], features.indptr[i + 1]
        order = np.argsort(-scores[i], kind="stable")
        topic_index = classes.index(topics[i]) if topics[i] in classes else int(order[0])
        runner_index = next((int(j) for j in order if j != topic_index), None)
        idx, values = features.indices[start:end], features.data[start:end].astype(np.float64)
        towards = _top(idx, model.coef_[topic_index, idx] * values, terms, k)
        against: tuple[TermWeight, ...] = ()
        if runner_index is not None:
            margin = (model.coef_[topic_index, idx] - model.coef_[runner_index, idx]) * values
            against = _top(idx, margin, terms, k)
        out.append(
            Explanation(
                topic=classes[topic_index],
                runner_up=None if runner_index is None else classes[runner_index],
                towards=towards,
                against_runner_up=against,
                method=method,
            )
        )
    return out


def explain(
    classifier: Any,
    texts: Sequence[str],
    topics: Sequence[str | None],
    k: int = DEFAULT_TERMS,
    features: Any = None,
) -> list[Explanation | None]:
    """Explanations for any backend: exact for TF-IDF, the TF-IDF member's for an ensemble, empty otherwise.

    ``features``: the TF-IDF features of ``texts`` when the caller already has them (TF-IDF backend only).
    """
    part = tfidf_part(classifier)
    if part is not None and hasattr(part, "coef_"):
        shared = features if part is classifier else None
        return explain_linear(part, texts, topics, k, LINEAR if part is classifier else ENSEMBLE_TFIDF, shared)
    classes = [str(c) for c in classifier.classes_]
    return [
        Explanation(topic=t or classes[0], runner_up=None, towards=(), against_runner_up=(), method=UNAVAILABLE)
        for t in topics
    ]


def deletion_drop(model: Any, text: str, feature_indices: Sequence[int], topic: str) -> float:
    """How much the calibrated probability of ``topic`` falls when these features are zeroed (faithfulness)."""
    from newsdesk.train.classify.decisions import sigmoid

    features = model.vectorizer_.transform([text]).tocsr()
    reduced = features.copy()
    mask = np.isin(reduced.indices, np.asarray(list(feature_indices), dtype=int))
    reduced.data[mask] = 0.0

    def probability(x: Any) -> float:
        raw = np.asarray(x @ model.coef_.T, dtype=np.float64) + model.intercept_
        probs = sigmoid(raw * model.platt_[:, 0] + model.platt_[:, 1])
        if not model.multi_label_:
            probs = probs / probs.sum(axis=1, keepdims=True)
        return float(probs[0, [str(c) for c in model.classes_].index(topic)])

    return probability(features) - probability(reduced)
