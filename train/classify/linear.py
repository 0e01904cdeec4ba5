"""A fitted TF-IDF topic model: TF-IDF vectors, one linear score per label, calibrated probabilities.

This is what a bundle's TF-IDF classifier is once it is fitted, and all that serving needs: numpy
and scipy.sparse, no scikit-learn (a server process that never imports it holds about 120 MB less).
:class:`newsdesk.train.classify.tfidf.TopicClassifier` fits one with scikit-learn and is one.

Single-label models turn the calibrated per-label probabilities into one distribution (rows sum to
1); multi-label models keep each label's own probability and its tuned threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from newsdesk.train.classify.decisions import LabelDecisions, sigmoid
from newsdesk.train.text.vectors import TfidfVectors

ARRAY_SHAPES = {
    "idf": ("terms",),
    "coef": ("labels", "terms"),
    "intercept": ("labels",),
    "platt": ("labels", 2),
    "thresholds": ("labels",),
}
"""The arrays a fitted model is saved as, with their shapes."""


class NotFittedModelError(ValueError, AttributeError):
    """A prediction was asked of a model that was never fitted or loaded."""


class LinearTopicModel(LabelDecisions):
    """Fitted state: ``vectorizer_`` (:class:`TfidfVectors`), ``coef_`` (labels x terms), ``intercept_``,
    ``platt_`` (a, b per label), ``thresholds_``, ``classes_`` and ``multi_label_``."""

    vectorizer_: TfidfVectors
    coef_: np.ndarray
    intercept_: np.ndarray
    platt_: np.ndarray

    def training_params(self) -> dict[str, Any]:
        """The settings the model was fitted with (saved in the bundle's manifest)."""
        return dict(getattr(self, "params_", {}))

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedModelError("this topic model is not fitted yet; call fit() or load a bundle")

    # ------------------------------------------------------------------ predicting

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Raw linear scores, shape (n_texts, n_labels)."""
        self._check_fitted()
        if len(texts) == 0:
            return np.zeros((0, len(self.classes_)))
        return self.decision_function_features(self.vectorizer_.transform(texts))

    def decision_function_features(self, features: Any) -> np.ndarray:
        """Raw linear scores of already vectorised texts (``vectorizer_.transform``)."""
        return np.asarray(features @ self.coef_.T, dtype=np.float64) + self.intercept_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (n_texts, n_labels).

        Single-label: rows sum to 1. Multi-label: each column is that label's own probability.
        """
        self._check_fitted()
        if len(texts) == 0:
            return self.predict_proba_features(np.zeros((0, len(self.vectorizer_.vocabulary_))))
        return self.predict_proba_features(self.vectorizer_.transform(texts))

    def predict_proba_features(self, features: Any) -> np.ndarray:
        """Calibrated probabilities of already vectorised texts (so an explanation can reuse the features)."""
        probs = sigmoid(self.decision_function_features(features) * self.platt_[:, 0] + self.platt_[:, 1])
        if not self.multi_label_:
            totals = probs.sum(axis=1, keepdims=True)
            probs = np.divide(probs, totals, out=np.full_like(probs, 1 / probs.shape[1]), where=totals > 0)
        return probs

    # ------------------------------------------------------------------ state for bundles

    def fitted_state(self) -> tuple[list[str], dict[str, np.ndarray], dict[str, Any]]:
        """The fitted parts as plain data: vocabulary terms, numeric arrays, JSON-able metadata."""
        self._check_fitted()
        arrays = {
            "idf": self.vectorizer_.idf_.astype(np.float32),
            "coef": self.coef_,
            "intercept": self.intercept_,
            "platt": self.platt_,
            "thresholds": self.thresholds_,
        }
        meta = {
            "labels": [str(c) for c in self.classes_],
            "multi_label": bool(self.multi_label_),
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.training_params().items()},
        }
        return list(self.vectorizer_.terms), arrays, meta

    @classmethod
    def from_fitted_state(
        cls, terms: list[str], arrays: dict[str, np.ndarray], meta: dict[str, Any]
    ) -> LinearTopicModel:
        """Rebuild a fitted model from :meth:`fitted_state` output, checking the shapes agree."""
        params = dict(meta["params"])
        sizes = {"labels": len(meta["labels"]), "terms": len(terms)}
        for key, dims in ARRAY_SHAPES.items():
            shape = tuple(sizes.get(d, d) for d in dims)
            if key not in arrays or arrays[key].shape != shape:
                found = arrays[key].shape if key in arrays else "missing"
                raise ValueError(
                    f"array {key!r} should have shape {shape} for {sizes['labels']} labels and {sizes['terms']} "
                    f"terms, found {found}"
                )
        model = LinearTopicModel()
        model.params_ = params
        model.at_least_one_label = bool(params.get("at_least_one_label", True))
        model.vectorizer_ = TfidfVectors.from_terms(
            terms,
            arrays["idf"],
            ngram_range=(1, int(params.get("ngram_max", 2))),
            stop_words=params.get("stop_words", "english"),
            sublinear_tf=bool(params.get("sublinear_tf", True)),
        )
        model.classes_ = np.array(meta["labels"], dtype=object)
        model.multi_label_ = bool(meta["multi_label"])
        # Fortran order makes ``coef_.T`` C-contiguous, so scipy multiplies a TF-IDF row by it without a copy.
        model.coef_ = np.asfortranarray(arrays["coef"], dtype=np.float32)
        model.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
        model.platt_ = np.asarray(arrays["platt"], dtype=np.float64)
        model.thresholds_ = np.asarray(arrays["thresholds"], dtype=np.float64)
        return model
