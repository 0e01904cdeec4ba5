"""PacSum (Zheng & Lapata, 2019): position-aware sentence centrality for summaries without references.

TextRank treats the sentence graph as undirected, so a sentence near the end that repeats the story
scores as high as the lead that first told it. PacSum makes the graph directed by position: an edge
to a *later* sentence (the story goes on to develop what this sentence said) counts for the sentence,
an edge to an *earlier* one (this sentence repeats what came before) counts against it::

    centrality(i) = lambda_forward * sum_{j > i} e_ij + lambda_backward * sum_{j < i} e_ij

Edge weights are the sentences' similarities less a threshold ``min + beta * (max - min)`` over the
article (weak edges dropped). The defaults are the paper's TF-IDF setting (lambda_forward 1,
lambda_backward -2, beta 0.6); no reference summaries are needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PacSumConfig:
    """PacSum's three settings (Zheng & Lapata, 2019, Section 3)."""

    lambda_forward: float = 1.0
    lambda_backward: float = -2.0
    beta: float = 0.6

    def __post_init__(self) -> None:
        if not 0.0 <= self.beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {self.beta}")


def pacsum_scores(similarity: np.ndarray, config: PacSumConfig | None = None) -> np.ndarray:
    """Directed, position-aware centrality of each sentence from a symmetric sentence similarity matrix.

    Returns one score per sentence (higher is more central); ties are broken towards the earlier
    sentence by a tiny position term, so an article whose sentences share nothing falls back to Lead-k.
    """
    config = config or PacSumConfig()
    n = similarity.shape[0]
    if n == 0:
        return np.zeros(0)
    position = -np.arange(n) * 1e-9
    if n == 1:
        return np.ones(1) + position
    off_diagonal = ~np.eye(n, dtype=bool)
    values = similarity[off_diagonal]
    low, high = float(values.min()), float(values.max())
    edges = np.where(off_diagonal, np.maximum(similarity - (low + config.beta * (high - low)), 0.0), 0.0)
    later = np.triu(edges, k=1).sum(axis=1)  # edges to j > i
    earlier = np.tril(edges, k=-1).sum(axis=1)  # edges to j < i
    return config.lambda_forward * later + config.lambda_backward * earlier + position
