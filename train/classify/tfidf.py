"""The default topic classifier: TF-IDF n-grams, a linear SVM, and calibrated probabilities (fitting).

Single-label data gets one label per article plus a probability for every label.
Multi-label data (several topics per article, as in Reuters) is fitted one-vs-rest,
and each label gets its own decision threshold tuned on out-of-fold predictions.

Probabilities come from Platt scaling fitted on out-of-fold decision scores, so a
0.9 means "right about nine times in ten" on data like the training set.

Single-label models decide with a uniform prior by default (``prior="uniform"``): the SVMs are
fitted without intercepts and one Platt sigmoid serves every label, so an article's topic comes from
its words alone and not from how often each topic occurred in the training set. Intercepts otherwise
decide short or unfamiliar texts (a headline from another outlet has few known terms), where the
training outlet's label balance and the width of each topic's vocabulary say nothing about the
article. ``prior="training"`` keeps them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from newsdesk.train.classify.calibration import best_f1_threshold, platt_scale
from newsdesk.train.classify.decisions import PRIORS, sigmoid
from newsdesk.train.classify.linear import LinearTopicModel
from newsdesk.train.progress import track
from newsdesk.train.text.vectors import TfidfVectors


class TopicClassifier(LinearTopicModel, ClassifierMixin, BaseEstimator):
    """TF-IDF + linear SVM topic classifier with calibrated probabilities and multi-label support.

    Parameters are stored as given; ``fit`` validates them. ``multi_label=None`` infers the
    task from the labels: any article with more or fewer than one label makes it multi-label.
    ``prior`` applies to single-label models only (multi-label thresholds need the intercepts).
    """

    def __init__(
        self,
        ngram_max: int = 2,
        min_df: int = 2,
        max_df: float = 1.0,
        stop_words: str | None = "english",
        sublinear_tf: bool = True,
        C: float = 1.0,
        calibration_folds: int = 5,
        multi_label: bool | None = None,
        at_least_one_label: bool = True,
        threshold_bounds: tuple[float, float] = (0.2, 0.8),
        threshold_shrinkage: float = 10.0,
        prior: str = "uniform",
        seed: int = 0,
    ) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_df = max_df
        self.stop_words = stop_words
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.calibration_folds = calibration_folds
        self.multi_label = multi_label
        self.at_least_one_label = at_least_one_label
        self.threshold_bounds = threshold_bounds
        self.threshold_shrinkage = threshold_shrinkage
        self.prior = prior
        self.seed = seed

    # ------------------------------------------------------------------ fitting

    def _make_vectorizer(self, n_docs: int | None = None) -> TfidfVectorizer:
        # min_df counts documents; on a tiny dataset, ask for no more than it has.
        min_df = self.min_df if n_docs is None or n_docs >= 10 * self.min_df else 1
        return TfidfVectorizer(
            ngram_range=(1, self.ngram_max),
            min_df=min_df,
            max_df=self.max_df,
            stop_words=self.stop_words,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )

    def _make_svm(self) -> OneVsRestClassifier:
        # A uniform prior is trained without intercepts, so the weights are fitted for the decision they make.
        return OneVsRestClassifier(LinearSVC(C=self.C, fit_intercept=not self._uniform_prior(), random_state=self.seed))

    def _validate(self, texts: Sequence[str], labels: Sequence[Sequence[str] | str]) -> list[tuple[str, ...]]:
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} label entries; they must match one to one")
        low, high = self.threshold_bounds
        if (
            self.ngram_max < 1
            or self.min_df < 1
            or self.C <= 0
            or self.calibration_folds < 2
            or not 0 <= low <= high <= 1
            or self.threshold_shrinkage < 0
        ):
            raise ValueError(
                "ngram_max and min_df must be >= 1, C > 0, calibration_folds >= 2, 0 <= threshold_bounds <= 1, "
                "threshold_shrinkage >= 0"
            )
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        label_sets = [(item,) if isinstance(item, str) else tuple(item) for item in labels]
        if len({label for labels_ in label_sets for label in labels_}) < 2:
            raise ValueError("a topic classifier needs at least two distinct labels")
        return label_sets

    def fit(self, texts: Sequence[str], labels: Sequence[Sequence[str] | str]) -> TopicClassifier:
        """Fit on cleaned texts and their labels (a label string or a sequence of labels per text)."""
        label_sets = self._validate(texts, labels)
        self.multi_label_ = self.multi_label if self.multi_label is not None else any(len(s) != 1 for s in label_sets)
        if not self.multi_label_ and any(len(s) != 1 for s in label_sets):
            raise ValueError("multi_label=False needs exactly one label per text; some texts have none or several")
        self.binarizer_ = MultiLabelBinarizer()
        targets = self.binarizer_.fit_transform(label_sets)
        self.classes_ = np.array(self.binarizer_.classes_, dtype=object)
        vectorizer = self._make_vectorizer(len(texts))
        features = vectorizer.fit_transform(texts)

        oof_scores = self._out_of_fold_scores(features, targets, label_sets)
        if self._uniform_prior():
            # One sigmoid shared by every label: per-label offsets would bring the prior back.
            shared = platt_scale(oof_scores.ravel(), targets.ravel())
            self.platt_ = np.tile(np.asarray(shared, dtype=np.float64), (targets.shape[1], 1))
        else:
            self.platt_ = np.array([platt_scale(oof_scores[:, k], targets[:, k]) for k in range(targets.shape[1])])
        if self.multi_label_:
            oof_probs = sigmoid(oof_scores * self.platt_[:, 0] + self.platt_[:, 1])
            tuned = np.array([best_f1_threshold(oof_probs[:, k], targets[:, k]) for k in range(targets.shape[1])])
            # A label with a handful of examples gets a noisy tuned threshold (often near 0, which
            # floods predictions with false positives): shrink it towards the calibrated 0.5 in
            # proportion to how few positives it was tuned on, then bound it.
            positives = targets.sum(axis=0)
            strength = self.threshold_shrinkage
            shrunk = (positives * tuned + strength * 0.5) / (positives + strength)
            low, high = self.threshold_bounds
            self.thresholds_ = np.clip(shrunk, low, high)
        else:
            self.thresholds_ = np.full(targets.shape[1], 0.5)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
            svm = self._make_svm().fit(features, targets)
        # Predictions transform with the fitted vocabulary without scikit-learn (the same matrix).
        self.vectorizer_ = TfidfVectors.from_vectorizer(vectorizer)
        coef, self.intercept_ = _linear_weights(svm, features.shape[1])
        self.coef_ = np.asfortranarray(coef)
        return self

    def _uniform_prior(self) -> bool:
        return self.prior == "uniform" and not self.multi_label_

    def _out_of_fold_scores(self, features: Any, targets: np.ndarray, label_sets: list[tuple[str, ...]]) -> np.ndarray:
        n = features.shape[0]
        folds = min(self.calibration_folds, n)
        y = [s[0] if s else "" for s in label_sets]
        smallest = int(min(np.unique(y, return_counts=True)[1]))
        if self.multi_label_ or smallest < 2:
            # Stratifying needs two examples of every class; tiny or multi-label data folds plainly.
            splitter = KFold(max(2, folds), shuffle=True, random_state=self.seed).split(np.zeros(n))
        else:
            splitter = StratifiedKFold(min(folds, smallest), shuffle=True, random_state=self.seed).split(np.zeros(n), y)
        scores = np.zeros(targets.shape, dtype=np.float64)
        with warnings.catch_warnings():
            # A fold may hold no positive of a rare label; one-vs-rest then predicts a constant.
            warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
            warnings.filterwarnings("ignore", message="Label not .* is present in all training examples")
            folds_iter = track(list(splitter), "out-of-fold calibration", "folds")
            for train_idx, test_idx in folds_iter:
                model = self._make_svm().fit(features[train_idx], targets[train_idx])
                scores[test_idx] = model.decision_function(features[test_idx]).reshape(len(test_idx), -1)
        return scores

    # ------------------------------------------------------------------ state

    def training_params(self) -> dict[str, Any]:
        """The settings the model was fitted with (saved in the bundle's manifest)."""
        return self.get_params()

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this TopicClassifier is not fitted yet; call fit() or load a bundle")


def _linear_weights(svm: OneVsRestClassifier, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack the one-vs-rest SVMs into one (n_labels, n_features) weight matrix and intercepts."""
    coefs, intercepts = [], []
    for estimator in svm.estimators_:
        if hasattr(estimator, "coef_"):
            coefs.append(np.asarray(estimator.coef_, dtype=np.float32).ravel())
            intercepts.append(float(np.ravel(estimator.intercept_)[0]))
        else:  # a label present in every (or no) training example: a constant score
            coefs.append(np.zeros(n_features, dtype=np.float32))
            intercepts.append(1.0 if float(np.ravel(estimator.y_)[0]) > 0 else -1.0)
    return np.vstack(coefs), np.array(intercepts, dtype=np.float64)
