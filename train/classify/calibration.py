"""Calibrating a classifier's scores on out-of-fold predictions (training only).

:func:`platt_scale` fits the sigmoid that turns decision scores into probabilities;
:func:`best_f1_threshold` tunes a multi-label threshold. What they fit is applied at prediction time
by :mod:`newsdesk.train.classify.decisions`, which needs neither scipy's optimiser nor this module.
"""

from __future__ import annotations

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
