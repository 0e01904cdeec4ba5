""" "Needs review" instead of a forced guess: when a single-label model should not name a topic.

An article is sent for review when its best topic is not trustworthy:

* **out of scope**: it is far from every topic the model was trained on (its cosine similarity to
  the nearest class centroid is below ``min_similarity``), e.g. a recipe sent to a model of
  business/politics/sport. The centroids are in the classifier's own space (``ReviewRule.space``):
  sentence embeddings for the encoder and ensemble backends, which tell another outlet's in-scope
  headlines from its out-of-scope ones far better than TF-IDF vectors do (ROC AUC 0.71 against 0.54
  on huffpost-10k, ``bench/shift.py``), TF-IDF vectors for the TF-IDF backend;
* **low confidence**: the calibrated probability of its best topic is below ``min_confidence``.

Both thresholds are learned on the held-out articles of the training run (and, by default, on each
one's headline and headline + lead sentence, since short inputs score lower on both tests) so that a
chosen share of them (``coverage``, default 0.9) still gets a topic: first the similarity threshold (it takes
``scope_share`` of the review budget), then the confidence threshold among the rest. The rule is
saved in the bundle (``review.json`` and ``review.npz``, covered by the manifest's checksums);
bundles saved before it have no rule and always answer.

The fine-tuned backend has neither space and gets the confidence test only. Rules saved before
``space`` existed are TF-IDF rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from newsdesk.train.text.cleaning import TITLE_SEPARATOR, join_title_body

REVIEW_JSON = "review.json"
REVIEW_ARRAYS = "review.npz"
OUT_OF_SCOPE = "out_of_scope"
LOW_CONFIDENCE = "low_confidence"
TFIDF_SPACE = "tfidf"
ENCODER_SPACE = "encoder"
SPACES = (TFIDF_SPACE, ENCODER_SPACE)
REPORTED_COVERAGES = (0.8, 0.9, 0.95)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class ReviewConfig:
    """How the "needs review" rule trades coverage for accuracy (``newsdesk train --coverage``)."""

    coverage: float = field(
        default=0.9,
        metadata={"help": "share of held-out articles that must still get a topic (the rest are sent for review)"},
    )
    scope_share: float = field(
        default=0.5, metadata={"help": "share of the review budget spent on the out-of-scope test (0 = off)"}
    )
    enabled: bool = field(default=True, metadata={"help": "learn a needs-review rule (single-label models)"})
    short_views: bool = field(
        default=True,
        metadata={
            "help": "also learn the thresholds on each held-out article's headline and headline + lead sentence, "
            "so short inputs (headlines, teasers) are not all sent for review"
        },
    )
    min_held_out: int = field(
        default=50, metadata={"help": "fewest held-out articles to learn the rule from (fewer: no rule, always answer)"}
    )

    def __post_init__(self) -> None:
        if not 0 < self.coverage <= 1:
            raise ValueError(f"coverage must be in (0, 1], a share of held-out articles; got {self.coverage}")
        if not 0 <= self.scope_share <= 1:
            raise ValueError(f"scope_share must be in [0, 1]; got {self.scope_share}")


@dataclass(frozen=True)
class ReviewRule:
    """Thresholds under which an article gets no topic, and the class centroids for the scope test."""

    min_confidence: float
    min_similarity: float | None = None
    coverage: float = 0.9
    centroids: np.ndarray | None = None
    """L2-normalised mean vector of each class, shape (n_labels, n_terms or embedding size); None: no scope test."""
    space: str = TFIDF_SPACE
    """Where the centroids live: ``"tfidf"`` (TF-IDF vectors) or ``"encoder"`` (sentence embeddings)."""

    @cached_property
    def centroids_by_term(self) -> np.ndarray | None:
        """The centroids as one contiguous (n_terms, n_labels) array: a sparse product then copies nothing."""
        return None if self.centroids is None else np.ascontiguousarray(self.centroids.T)

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_confidence": self.min_confidence,
            "min_similarity": self.min_similarity,
            "coverage": self.coverage,
            "scope_test": self.centroids is not None,
            "space": self.space,
        }


@dataclass(frozen=True)
class ReviewDecision:
    """Whether one article needs review, and why (``None`` when it gets its topic)."""

    needs_review: bool
    reason: str | None = None
    """``"out_of_scope"`` or ``"low_confidence"``."""
    detail: str | None = None
    """A sentence a person can read: which score was under which threshold."""


def class_centroids(features: Any, label_index: Sequence[int], n_labels: int) -> np.ndarray:
    """The L2-normalised mean row of ``features`` (sparse, rows L2-normalised) for each class."""
    index = np.asarray(label_index)
    rows = []
    for k in range(n_labels):
        members = np.flatnonzero(index == k)
        mean = np.asarray(features[members].mean(axis=0)).ravel() if members.size else np.zeros(features.shape[1])
        norm = float(np.linalg.norm(mean))
        rows.append(mean / norm if norm > 0 else mean)
    return np.vstack(rows).astype(np.float32)


def encoder_part(classifier: Any) -> Any:
    """The classifier itself when it classifies sentence embeddings, or an ensemble's encoder member, or None."""
    if hasattr(classifier, "predict_proba_embeddings"):
        return classifier
    member = getattr(classifier, "encoder", None)
    return member if hasattr(member, "predict_proba_embeddings") else None


def scope_space(classifier: Any) -> str | None:
    """The space a new rule measures scope in: sentence embeddings when the classifier has them, else TF-IDF."""
    if encoder_part(classifier) is not None:
        return ENCODER_SPACE
    return TFIDF_SPACE if hasattr(tfidf_part(classifier), "vectorizer_") else None


def supports_scope(classifier: Any, space: str | None = None) -> bool:
    """Whether the classifier can measure scope (in ``space``; by default in any space)."""
    if space == ENCODER_SPACE:
        return encoder_part(classifier) is not None
    if space == TFIDF_SPACE:
        return hasattr(tfidf_part(classifier), "vectorizer_")
    return scope_space(classifier) is not None


def tfidf_part(classifier: Any) -> Any:
    """The classifier itself, or the TF-IDF member of an ensemble, or None."""
    if hasattr(classifier, "vectorizer_"):
        return classifier
    return getattr(classifier, "tfidf", None)


def scope_similarity(
    classifier: Any,
    centroids: np.ndarray,
    texts: Sequence[str],
    features: Any = None,
    *,
    by_term: bool = False,
    space: str = TFIDF_SPACE,
) -> np.ndarray:
    """Cosine similarity of each text's vector in ``space`` to the nearest class centroid.

    ``centroids`` is (n_labels, width), or (width, n_labels) with ``by_term`` (see
    :attr:`ReviewRule.centroids_by_term`); ``features`` are the texts' TF-IDF rows when the caller has them
    already (the prediction's own). In encoder space the texts are embedded (the encoder remembers the
    embeddings of the texts it just classified, so a prediction's own are reused).
    """
    if len(texts) == 0:
        return np.zeros(0)
    if space == ENCODER_SPACE:
        embeddings = encoder_part(classifier).embed(list(texts))
        products = embeddings @ (centroids if by_term else centroids.T)
        return np.asarray(products.max(axis=1), dtype=np.float64)
    if features is None:
        features = tfidf_part(classifier).vectorizer_.transform(list(texts))
    products = features @ (centroids if by_term else np.ascontiguousarray(centroids.T))
    return np.asarray(products.max(axis=1)).ravel().astype(np.float64)


def fit_centroids(classifier: Any, texts: Sequence[str], labels: Sequence[str], space: str = TFIDF_SPACE) -> np.ndarray:
    """Class centroids of the training texts in ``space`` (in encoder space, those the encoder computed when it
    was fitted on these texts, so nothing is embedded again)."""
    if space == ENCODER_SPACE:
        part = encoder_part(classifier)
        if getattr(part, "class_centroids_", None) is not None:
            return np.asarray(part.class_centroids_, dtype=np.float32)
        classes = [str(c) for c in part.classes_]
        return class_centroids(part.embed(list(texts)), [classes.index(label) for label in labels], len(classes))
    part = tfidf_part(classifier)
    classes = [str(c) for c in part.classes_]
    features = part.vectorizer_.transform(list(texts))
    return class_centroids(features, [classes.index(label) for label in labels], len(classes))


def fit_review_rule(
    confidences: np.ndarray,
    config: ReviewConfig,
    similarities: np.ndarray | None = None,
    centroids: np.ndarray | None = None,
    space: str = TFIDF_SPACE,
) -> ReviewRule:
    """Thresholds that keep ``config.coverage`` of these (held-out) articles, spending ``scope_share`` on scope."""
    budget = 1.0 - config.coverage
    min_similarity = None
    passing = np.ones(len(confidences), dtype=bool)
    if similarities is not None and centroids is not None and config.scope_share > 0 and len(similarities):
        min_similarity = float(np.quantile(similarities, budget * config.scope_share))
        passing = similarities >= min_similarity
    kept = confidences[passing]
    if len(kept) == 0 or budget <= 0:
        min_confidence = 0.0
    else:
        # Keep coverage / passing-share of the passing articles by confidence.
        share = min(1.0, config.coverage * len(confidences) / len(kept))
        min_confidence = float(np.quantile(kept, 1.0 - share))
    return ReviewRule(
        min_confidence=min_confidence,
        min_similarity=min_similarity,
        coverage=config.coverage,
        centroids=centroids if min_similarity is not None else None,
        space=space,
    )


def decide(
    rule: ReviewRule | None, confidences: np.ndarray, similarities: np.ndarray | None = None
) -> list[ReviewDecision]:
    """The review decision for each article (never one when there is no rule)."""
    if rule is None:
        return [ReviewDecision(False) for _ in confidences]
    out = []
    for i, confidence in enumerate(confidences):
        if rule.min_similarity is not None and similarities is not None and similarities[i] < rule.min_similarity:
            out.append(
                ReviewDecision(
                    True,
                    OUT_OF_SCOPE,
                    f"far from every topic the model was trained on (similarity {similarities[i]:.3f} "
                    f"< {rule.min_similarity:.3f})",
                )
            )
        elif confidence < rule.min_confidence:
            out.append(
                ReviewDecision(
                    True, LOW_CONFIDENCE, f"best topic too uncertain ({confidence:.3f} < {rule.min_confidence:.3f})"
                )
            )
        else:
            out.append(ReviewDecision(False))
    return out


def review_articles(
    rule: ReviewRule | None, classifier: Any, texts: Sequence[str], probs: np.ndarray, features: Any = None
) -> list[ReviewDecision]:
    """Decisions for cleaned model inputs whose probabilities are ``probs`` (``features``: their TF-IDF rows, if known)."""
    if rule is None or getattr(classifier, "multi_label_", False):
        return [ReviewDecision(False) for _ in texts]
    similarities = (
        scope_similarity(
            classifier,
            rule.centroids_by_term,
            texts,
            features if rule.space == TFIDF_SPACE else None,
            by_term=True,
            space=rule.space,
        )
        if rule.centroids is not None and supports_scope(classifier, rule.space)
        else None
    )
    return decide(rule, probs.max(axis=1), similarities)


def risk_coverage(confidences: np.ndarray, correct: np.ndarray, steps: int = 20) -> dict[str, Any]:
    """Selective accuracy when only the most confident articles are answered, at coverages 1/steps .. 1."""
    order = np.argsort(-confidences, kind="stable")
    hits = np.cumsum(np.asarray(correct, dtype=float)[order])
    n = len(order)

    def at(coverage: float) -> float:
        count = max(1, round(coverage * n))
        return round(float(hits[count - 1] / count), 4)

    curve = [{"coverage": round(k / steps, 4), "accuracy": at(k / steps)} for k in range(1, steps + 1)] if n else []
    return {
        "curve": curve,
        **({f"selective_accuracy_at_{int(c * 100)}": at(c) for c in REPORTED_COVERAGES} if n else {}),
    }


def review_metrics(
    rule: ReviewRule, decisions: Sequence[ReviewDecision], confidences: np.ndarray, correct: np.ndarray
) -> dict[str, Any]:
    """What the rule does on held-out articles, plus the risk-coverage curve of the confidence alone."""
    answered = np.array([not d.needs_review for d in decisions], dtype=bool)
    correct = np.asarray(correct, dtype=bool)
    return {
        "rule": rule.to_dict(),
        "held_out_coverage": round(float(answered.mean()), 4) if len(answered) else 0.0,
        "held_out_selective_accuracy": round(float(correct[answered].mean()), 4) if answered.any() else 0.0,
        "out_of_scope": sum(d.reason == OUT_OF_SCOPE for d in decisions),
        "low_confidence": sum(d.reason == LOW_CONFIDENCE for d in decisions),
        "risk_coverage": risk_coverage(confidences, correct),
    }


def write_review(directory: Path, rule: ReviewRule) -> dict[str, Any]:
    """Write ``review.json`` (and ``review.npz`` with the centroids); return the manifest entry."""
    (directory / REVIEW_JSON).write_text(json.dumps(rule.to_dict(), indent=2), encoding="utf-8")
    files = [REVIEW_JSON]
    if rule.centroids is not None:
        np.savez_compressed(directory / REVIEW_ARRAYS, centroids=rule.centroids)
        files.append(REVIEW_ARRAYS)
    return {**rule.to_dict(), "files": files}


def load_review(
    version_dir: Path,
    entry: dict[str, Any] | None,
    n_labels: int,
    n_terms: int | None,
    n_dims: int | None = None,
) -> ReviewRule | None:
    """The bundle's rule, or None for bundles saved without one. Raises ValueError when it is damaged.

    ``n_terms``: the classifier's TF-IDF vocabulary size; ``n_dims``: its embedding size (None: it has none).
    """
    if not entry:
        return None
    data = json.loads((version_dir / REVIEW_JSON).read_text(encoding="utf-8"))
    space = data.get("space", TFIDF_SPACE)
    if space not in SPACES:
        raise ValueError(f"unknown review space {space!r}; expected one of {SPACES} (upgrade newsdesk?)")
    centroids = None
    if data.get("scope_test"):
        with np.load(version_dir / REVIEW_ARRAYS, allow_pickle=False) as npz:
            centroids = np.asarray(npz["centroids"], dtype=np.float32)
        width, what = (n_terms, "terms") if space == TFIDF_SPACE else (n_dims, "embedding size")
        if width is None or centroids.shape != (n_labels, width):
            raise ValueError(
                f"review centroids ({space} space) should have shape ({n_labels}, {width}) for the classifier's "
                f"labels and {what}, found {centroids.shape}"
            )
    min_similarity = data.get("min_similarity")
    return ReviewRule(
        min_confidence=float(data["min_confidence"]),
        min_similarity=None if min_similarity is None else float(min_similarity),
        coverage=float(data.get("coverage", 0.9)),
        centroids=centroids,
        space=space,
    )


def short_views(text: str) -> list[str]:
    """A prepared article's headline alone and its headline with the lead sentence (none without a headline)."""
    title, separator, body = text.partition(TITLE_SEPARATOR)
    if not separator or not title.strip():
        return []
    lead_line = next((line for line in body.split("\n") if line.strip()), "")
    lead = _SENTENCE_END.split(lead_line.strip(), maxsplit=1)[0]
    return [title.strip(), join_title_body(title, lead)] if lead else [title.strip()]


def short_view_rows(
    texts: Sequence[str], labels: Sequence[Sequence[str] | str]
) -> tuple[list[str], list[Sequence[str] | str]]:
    """Each article's short views (headline; headline + lead sentence), each with its article's label."""
    views: list[str] = []
    view_labels: list[Sequence[str] | str] = []
    for text, label in zip(texts, labels):
        for view in short_views(text):
            views.append(view)
            view_labels.append(label)
    return views, view_labels


def learn_review(
    classifier: Any,
    train: tuple[Sequence[str], Sequence[str]],
    held_out: tuple[Sequence[str], Sequence[str]],
    config: ReviewConfig,
) -> tuple[ReviewRule, dict[str, Any]]:
    """Learn the rule on held-out (texts, labels) of a model fitted on ``train``; return it and its metrics."""
    texts, labels = list(held_out[0]), list(held_out[1])
    if config.short_views:
        views, view_labels = short_view_rows(texts, labels)
        texts, labels = texts + views, labels + view_labels
    probs = classifier.predict_proba(texts)
    classes = np.array([str(c) for c in classifier.classes_])
    correct = classes[probs.argmax(axis=1)] == np.array(labels)
    confidences = probs.max(axis=1)
    centroids = similarities = None
    space = scope_space(classifier)
    if space is not None and config.scope_share > 0:
        centroids = fit_centroids(classifier, *train, space=space)
        similarities = scope_similarity(classifier, centroids, texts, space=space)
    rule = fit_review_rule(confidences, config, similarities, centroids, space or TFIDF_SPACE)
    decisions = decide(rule, confidences, similarities)
    # Reported on the held-out articles themselves; their headline views separately.
    n = len(held_out[0])
    metrics = review_metrics(rule, decisions[:n], confidences[:n], correct[:n])
    if len(texts) > n:
        views = review_metrics(rule, decisions[n:], confidences[n:], correct[n:])
        metrics["headline_views"] = {
            "count": len(texts) - n,
            "coverage": views["held_out_coverage"],
            "selective_accuracy": views["held_out_selective_accuracy"],
        }
    return rule, metrics
