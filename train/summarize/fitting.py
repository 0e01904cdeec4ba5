"""The two steps of fitting a supervised extractive summariser that use scikit-learn (training only).

:func:`fit_vocabulary` chooses the TF-IDF vocabulary and idf weights; :func:`fit_scorer` fits the
logistic-regression sentence scorer. What they return is plain data (:class:`TfidfVectors`, numpy
weights), so a summariser that was fitted or loaded scores sentences without scikit-learn, and a
server process never imports it (about 120 MB less per worker).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from newsdesk.train.text.stop_words import ENGLISH
from newsdesk.train.text.vectors import TfidfVectors


def fit_vocabulary(bodies: Sequence[str]) -> TfidfVectors:
    """TF-IDF over words seen in two or more ``bodies``, English stop words left out.

    When that leaves nothing (every word is a stop word or appears once), every word is kept.
    """
    try:
        vectorizer = TfidfVectorizer(stop_words=ENGLISH, sublinear_tf=True, min_df=2, dtype=np.float32)
        vectorizer.fit(bodies)
    except ValueError:
        vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit(bodies)
    return TfidfVectors.from_vectorizer(vectorizer)


def fit_scorer(x: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float]:
    """Logistic-regression weights and intercept for standardised sentence features ``x`` and 0/1 labels ``y``."""
    scorer = LogisticRegression(C=C, max_iter=1000).fit(x, y)
    return scorer.coef_.ravel().astype(np.float64), float(scorer.intercept_[0])
