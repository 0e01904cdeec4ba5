"""A logistic-regression head on dense features, and the label decisions every classifier backend shares.

The transformer backends (sentence-encoder features, the ensemble, fine-tuning) give
probabilities from different models, but turn them into labels the same way the TF-IDF
classifier does: the most probable label for single-label data; for multi-label data every
label whose probability reaches its own threshold, tuned for F1 on held-out predictions and
shrunk towards 0.5 by how few positives it was tuned on (see ``newsdesk.train.classify.tfidf``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from newsdesk.train.classify.calibration import best_f1_threshold
from newsdesk.train.classify.decisions import PRIORS, LabelDecisions, sigmoid

C_GRID = (1.0, 4.0, 16.0, 64.0)
"""Regularisation strengths tried for the head; the best out-of-fold log loss wins."""
THRESHOLD_BOUNDS = (0.2, 0.8)
THRESHOLD_SHRINKAGE = 10.0
EPSILON = 1e-9


def label_sets_of(labels: Sequence[Sequence[str] | str]) -> list[tuple[str, ...]]:
    """Labels as tuples: a string becomes a one-label tuple."""
    return [(item,) if isinstance(item, str) else tuple(item) for item in labels]


def targets_for(label_sets: Sequence[tuple[str, ...]], classes: Sequence[str]) -> np.ndarray:
    """A 0/1 matrix (n_texts, n_classes) of the labels each text carries."""
    index = {label: i for i, label in enumerate(classes)}
    targets = np.zeros((len(label_sets), len(classes)), dtype=np.int8)
    for row, labels in enumerate(label_sets):
        for label in labels:
            if label in index:
                targets[row, index[label]] = 1
    return targets


def tuned_thresholds(probabilities: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-label F1-best thresholds on held-out probabilities, shrunk towards 0.5 and bounded."""
    tuned = np.array([best_f1_threshold(probabilities[:, k], targets[:, k]) for k in range(targets.shape[1])])
    positives = targets.sum(axis=0)
    shrunk = (positives * tuned + THRESHOLD_SHRINKAGE * 0.5) / (positives + THRESHOLD_SHRINKAGE)
    return np.clip(shrunk, *THRESHOLD_BOUNDS)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = z - z.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def check_labels(texts: Sequence[Any], labels: Sequence[Sequence[str] | str], multi_label: bool | None) -> tuple:
    """Validate texts against labels; return (label tuples, sorted classes, whether multi-label)."""
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} label entries; they must match one to one")
    label_sets = label_sets_of(labels)
    classes = sorted({label for row in label_sets for label in row})
    if len(classes) < 2:
        raise ValueError("a topic classifier needs at least two distinct labels")
    multi = multi_label if multi_label is not None else any(len(row) != 1 for row in label_sets)
    if not multi and any(len(row) != 1 for row in label_sets):
        raise ValueError("multi_label=False needs exactly one label per text; some texts have none or several")
    return label_sets, classes, multi


def fold_splits(n: int, y: Sequence[str] | None, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds when every class has two members, plain K-fold otherwise."""
    if y is not None:
        smallest = int(min(np.unique(np.asarray(y, dtype=object), return_counts=True)[1]))
        if smallest >= 2:
            splitter = StratifiedKFold(min(folds, smallest), shuffle=True, random_state=seed)
            return list(splitter.split(np.zeros(n), y))
    return list(KFold(max(2, min(folds, n)), shuffle=True, random_state=seed).split(np.zeros(n)))


def validation_split(label_sets: Sequence[tuple[str, ...]], size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of a fitting part and a validation part, stratified by each text's rarest label when possible."""
    counts: dict[str, int] = {}
    for row in label_sets:
        for label in row:
            counts[label] = counts.get(label, 0) + 1
    strata = [min(row, key=lambda label: (counts[label], label)) if row else "" for row in label_sets]
    indices = np.arange(len(label_sets))
    n_val = min(len(indices) - 1, max(len(set(strata)), round(size * len(indices))))
    stratify = strata if min(strata.count(s) for s in set(strata)) >= 2 else None
    try:
        fit_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed, stratify=stratify)
    except ValueError:  # too few texts per stratum for the requested size
        fit_idx, val_idx = train_test_split(indices, test_size=n_val, random_state=seed)
    return np.sort(fit_idx), np.sort(val_idx)


class LinearHead(LabelDecisions):
    """Logistic regression on dense features (for example sentence embeddings).

    Single-label: one multinomial model, probabilities from its softmax. Multi-label: one
    binary model per label, probabilities from its sigmoid, thresholds tuned out of fold.
    ``C=None`` picks the strength from :data:`C_GRID` by out-of-fold log loss.

    ``prior="uniform"`` fits a single-label model without intercepts, as the TF-IDF classifier's
    uniform prior does: on normalised sentence embeddings the intercepts are large (on BBC with C = 4,
    +1.0 for entertainment and -0.9 for politics although the topics are about equally frequent) and
    decide short or unfamiliar texts, whose embeddings project weakly on every topic. Multi-label heads
    keep them (their thresholds are tuned with them).
    """

    def __init__(
        self,
        C: float | None = None,
        folds: int = 5,
        multi_label: bool | None = None,
        seed: int = 0,
        prior: str = "training",
    ) -> None:
        self.C = C
        self.folds = folds
        self.multi_label = multi_label
        self.seed = seed
        self.prior = prior

    def _uniform_prior(self) -> bool:
        return self.prior == "uniform" and not self.multi_label_

    def _fit_one(self, x: np.ndarray, targets: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
        """Weights (n_classes, dim) and intercepts (n_classes,) fitted on ``x``."""
        n_classes = targets.shape[1]
        if not self.multi_label_:
            y = targets.argmax(axis=1)
            present = np.unique(y)
            coef = np.zeros((n_classes, x.shape[1]))
            intercept = np.full(n_classes, -30.0)  # a class absent from this part: never predicted
            if len(present) == 1:
                intercept[present[0]] = 0.0
                return coef, intercept
            model = LogisticRegression(C=C, max_iter=3000, fit_intercept=not self._uniform_prior()).fit(x, y)
            if len(present) == 2:  # sklearn keeps one row for two classes: softmax([-z/2, z/2]) = sigmoid(z)
                half = model.coef_[0] / 2
                coef[present[0]], coef[present[1]] = -half, half
                intercept[present[0]], intercept[present[1]] = -model.intercept_[0] / 2, model.intercept_[0] / 2
            else:
                coef[present], intercept[present] = model.coef_, model.intercept_
            return coef, intercept
        coef = np.zeros((n_classes, x.shape[1]))
        intercept = np.zeros(n_classes)
        for k in range(n_classes):
            column = targets[:, k]
            if column.min() == column.max():  # in every (or no) example: a constant probability
                intercept[k] = 30.0 if column[0] else -30.0
                continue
            model = LogisticRegression(C=C, max_iter=3000).fit(x, column)
            coef[k], intercept[k] = model.coef_[0], model.intercept_[0]
        return coef, intercept

    def _probabilities(self, x: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        z = x @ coef.T + intercept
        return sigmoid(z) if self.multi_label_ else softmax(z)

    def _log_loss(self, probs: np.ndarray, targets: np.ndarray) -> float:
        p = np.clip(probs, EPSILON, 1 - EPSILON)
        if self.multi_label_:
            return float(-np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)))
        return float(-np.mean(np.log(p[targets.astype(bool)])))

    def fit(self, features: np.ndarray, labels: Sequence[Sequence[str] | str]) -> LinearHead:
        """Fit on a (n_texts, dim) feature matrix and the texts' labels."""
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        x = np.asarray(features, dtype=np.float64)
        label_sets, classes, self.multi_label_ = check_labels(x, labels, self.multi_label)
        self.classes_ = np.array(classes, dtype=object)
        targets = targets_for(label_sets, classes)
        y = None if self.multi_label_ else [row[0] for row in label_sets]
        splits = fold_splits(len(x), y, self.folds, self.seed)
        grid = (self.C,) if self.C is not None else C_GRID
        best: tuple[float, float, np.ndarray] | None = None
        for C in grid:
            oof = np.zeros(targets.shape)
            for train_idx, test_idx in splits:
                coef, intercept = self._fit_one(x[train_idx], targets[train_idx], C)
                oof[test_idx] = self._probabilities(x[test_idx], coef, intercept)
            loss = self._log_loss(oof, targets)
            if best is None or loss < best[0]:
                best = (loss, C, oof)
        assert best is not None
        self.oof_log_loss_, self.C_, oof = best
        self.thresholds_ = tuned_thresholds(oof, targets) if self.multi_label_ else np.full(len(classes), 0.5)
        self.coef_, self.intercept_ = self._fit_one(x, targets, self.C_)
        return self

    def predict_proba_features(self, features: np.ndarray) -> np.ndarray:
        """Probabilities for a feature matrix, shape (n, n_labels)."""
        if len(features) == 0:
            return np.zeros((0, len(self.classes_)))
        return self._probabilities(np.asarray(features, dtype=np.float64), self.coef_, self.intercept_)

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """Here the "texts" are feature rows: the head has no text model of its own."""
        return self.predict_proba_features(np.asarray(texts))

    # ------------------------------------------------------------------ state for bundles

    def fitted_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Numeric arrays and JSON-able metadata."""
        arrays = {"coef": self.coef_, "intercept": self.intercept_, "thresholds": self.thresholds_}
        meta = {
            "labels": [str(c) for c in self.classes_],
            "multi_label": bool(self.multi_label_),
            "C": float(self.C_),
            "folds": self.folds,
            "seed": self.seed,
            "prior": self.prior,
        }
        return arrays, meta

    @classmethod
    def from_fitted_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> LinearHead:
        """Rebuild a fitted head, checking the array shapes against the labels."""
        head = cls(
            C=float(meta["C"]),
            folds=int(meta["folds"]),
            multi_label=bool(meta["multi_label"]),
            seed=meta["seed"],
            prior=str(meta.get("prior", "training")),  # heads saved before the option had intercepts
        )
        n_labels = len(meta["labels"])
        coef = np.asarray(arrays.get("coef"))
        if coef.ndim != 2 or coef.shape[0] != n_labels:
            raise ValueError(f"head weights should have {n_labels} rows (one per label), found shape {coef.shape}")
        for key in ("intercept", "thresholds"):
            if key not in arrays or arrays[key].shape != (n_labels,):
                raise ValueError(f"head array {key!r} should have shape ({n_labels},)")
        head.classes_ = np.array(meta["labels"], dtype=object)
        head.multi_label_ = bool(meta["multi_label"])
        head.C_ = float(meta["C"])
        head.coef_ = coef.astype(np.float64)
        head.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
        head.thresholds_ = np.asarray(arrays["thresholds"], dtype=np.float64)
        return head
