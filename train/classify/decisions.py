"""How probabilities become labels, shared by every classifier backend.

:class:`LabelDecisions` turns a backend's ``predict_proba`` into labels (one per article, or every
label over its threshold for multi-label data) and top-k lists; :func:`platt_scale` calibrates
decision scores; :func:`best_f1_threshold` tunes a multi-label threshold on out-of-fold predictions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize


def platt_scale(scores: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * score + b)`` by Platt's method (smoothed targets, log loss)."""
    positives = float(targets.sum())
    negatives = float(len(targets) - positives)
    smoothed = np.where(targets > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * scores + params[1]
        # log(1 + exp(z)) - t * z, written to stay finite for large |z|
        value = np.logaddexp(0, z) - smoothed * z
        residual = 1 / (1 + np.exp(-z)) - smoothed
        grad = np.array([np.dot(residual, scores), residual.sum()])
        return float(value.sum()), grad

    start = np.array([1.0, np.log((negatives + 1) / (positives + 1)) * -1.0])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return np.exp(-np.logaddexp(0, -z))


def best_f1_threshold(probabilities: np.ndarray, targets: np.ndarray, default: float = 0.5) -> float:
    """The probability threshold that maximises F1 on (out-of-fold) predictions for one label."""
    positives = int(targets.sum())
    if positives == 0:
        return default
    order = np.argsort(-probabilities, kind="stable")
    sorted_probs = probabilities[order]
    true_positives = np.cumsum(targets[order])
    predicted = np.arange(1, len(order) + 1)
    f1 = 2 * true_positives / (predicted + positives)
    # Only cut between distinct probability values.
    distinct = np.r_[sorted_probs[1:] < sorted_probs[:-1], True]
    f1 = np.where(distinct, f1, -1)
    best = int(np.argmax(f1))
    if best + 1 < len(sorted_probs):
        # Midway to the next lower score generalises better than the exact score.
        return float((sorted_probs[best] + sorted_probs[best + 1]) / 2)
    return float(sorted_probs[best] / 2)


class LabelDecisions:
    """``predict_from_proba``, ``predict`` and ``top_k`` over ``classes_``, ``multi_label_`` and ``thresholds_``."""

    classes_: np.ndarray
    multi_label_: bool
    thresholds_: np.ndarray
    at_least_one_label: bool = True

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - every backend defines it
        raise NotImplementedError

    def predict_from_proba(self, probs: np.ndarray) -> list[tuple[str, ...]]:
        """Turn probabilities into label tuples (exactly one label unless multi-label), most probable first."""
        if not self.multi_label_:
            return [(str(self.classes_[i]),) for i in probs.argmax(axis=1)]
        result = []
        for row, mask in zip(probs, probs >= self.thresholds_):
            picked = np.flatnonzero(mask)
            if picked.size == 0 and self.at_least_one_label:
                picked = np.array([row.argmax()])
            picked = picked[np.argsort(-row[picked], kind="stable")]
            result.append(tuple(str(self.classes_[i]) for i in picked))
        return result

    def predict(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Predicted labels for each text, most probable first."""
        return self.predict_from_proba(self.predict_proba(texts))

    def top_k(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable labels with their probabilities, for each text."""
        probs = self.predict_proba(texts)
        k = max(1, min(k, probs.shape[1]))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[(str(self.classes_[i]), float(row[i])) for i in idx] for row, idx in zip(probs, order)]
