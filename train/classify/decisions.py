"""How probabilities become labels, shared by every classifier backend.

:class:`LabelDecisions` turns a backend's ``predict_proba`` into labels (one per article, or every
label over its threshold for multi-label data) and top-k lists. Fitting the calibration and the
thresholds is :mod:`newsdesk.train.classify.calibration` (training only: it needs scipy's optimiser).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PRIORS = ("uniform", "training")
"""``prior`` of the single-label classifiers: decisions without per-label intercepts (uniform) or with the
fitted model's own (training)."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return np.exp(-np.logaddexp(0, -z))


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
