"""How long a summary is: the length learned from reference summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LengthModel:
    """How many sentences a summary gets: a share of the article, bounded."""

    ratio: float = 0.3
    min_sentences: int = 1
    max_sentences: int = 5

    def sentences_for(self, n_sentences: int) -> int:
        """The learned summary length for an article of ``n_sentences`` sentences."""
        k = round(self.ratio * n_sentences)
        return max(1, min(n_sentences, max(self.min_sentences, min(self.max_sentences, k))))

    @classmethod
    def fit(cls, article_sentences: Sequence[int], summary_sentences: Sequence[int]) -> LengthModel:
        """Learn the share (median over articles) and the bounds (5th and 95th percentiles) from references."""
        n = np.asarray(article_sentences, dtype=float)
        k = np.asarray(summary_sentences, dtype=float)
        keep = (n > 0) & (k > 0)
        if not keep.any():
            raise ValueError("no article has both sentences and a reference summary to learn a length from")
        n, k = n[keep], k[keep]
        ratio = float(np.median(k / n))
        low, high = np.percentile(k, [5, 95])
        return cls(
            ratio=round(ratio, 4),
            min_sentences=max(1, math.floor(low)),
            max_sentences=max(1, math.ceil(high)),
        )
