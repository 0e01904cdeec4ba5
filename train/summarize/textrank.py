"""TextRank (Mihalcea & Tarau, 2004): sentence centrality by PageRank over word-overlap similarities."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from newsdesk.train.text.stop_words import ENGLISH_STOP_WORDS

_TOKEN = re.compile(r"\w+")


def overlap_similarity(sentences: Sequence[str]) -> np.ndarray:
    """TextRank's original sentence similarity: shared content words / (log |S1| + log |S2|)."""
    words = [{w for w in _TOKEN.findall(s.lower()) if w not in ENGLISH_STOP_WORDS} for s in sentences]
    n = len(words)
    similarity = np.zeros((n, n))
    logs = [math.log(len(w)) if len(w) > 1 else 0.0 for w in words]
    for i in range(n):
        if logs[i] == 0.0:
            continue
        for j in range(i + 1, n):
            if logs[j] > 0.0:
                similarity[i, j] = similarity[j, i] = len(words[i] & words[j]) / (logs[i] + logs[j])
    return similarity


def textrank_scores(similarity: np.ndarray, damping: float = 0.85) -> np.ndarray:
    """PageRank over a sentence similarity matrix; returns scores summing to 1 (uniform when there are no edges).

    The PageRank vector is the solution of ``(I - damping * P^T) r = (1 - damping) / n`` for the row-stochastic
    transition matrix ``P`` (a sentence without edges jumps anywhere): solved directly, which for an
    article's few dozen sentences is exact and faster than iterating to convergence.
    """
    n = similarity.shape[0]
    if n == 0:
        return np.zeros(0)
    weights = similarity.copy()
    np.fill_diagonal(weights, 0.0)
    out = weights.sum(axis=1)
    if not (out > 0).any():
        return np.full(n, 1.0 / n)
    transition = np.divide(weights, out[:, None], out=np.full_like(weights, 1.0 / n), where=out[:, None] > 0)
    scores = np.linalg.solve(np.eye(n) - damping * transition.T, np.full(n, (1 - damping) / n))
    return scores / scores.sum()


def shares_words(similarity: np.ndarray) -> bool:
    """Whether any two different sentences have a term in common."""
    return bool((similarity - np.diag(np.diag(similarity)) > 0).any())
