"""Is this article like the ones the sentence scorer learned from? A guard against a change of source.

A scorer learned from one outlet's references learns that outlet's habits (BBC's references pick
central sentences from all over the article and ignore the lead). On news from elsewhere those
habits can be worse than the oldest rule of news writing: the lead says what matters. So the
supervised summariser keeps a profile of its training articles (the mean and spread of each
standardised sentence feature over an article's sentences) and, for an article whose profile lies
further from the training articles than all but 1% of those training articles themselves, falls
back to Lead (the position prior) instead of trusting the learned scores.

The threshold comes from the training data alone (its 99th percentile), not from any other source;
with fewer than 100 training articles there is no guard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

METHOD = "lead-prior"
"""The summary method reported when the guard fell back to Lead."""
QUANTILE = 99.0
MIN_ARTICLES = 100
"""Fewer training articles than this give no reliable 99th percentile: no guard then."""


def article_profile(standardized: np.ndarray) -> np.ndarray:
    """One article's profile: per feature, the mean and the spread over its sentences (standardised features)."""
    return np.concatenate([standardized.mean(axis=0), standardized.std(axis=0)])


@dataclass(frozen=True)
class SourceProfile:
    """Where training articles' profiles lie, and how far from them an article may be before it is unfamiliar."""

    mean: np.ndarray
    scale: np.ndarray
    threshold: float

    @classmethod
    def fit(cls, standardized: Sequence[np.ndarray], quantile: float = QUANTILE) -> SourceProfile | None:
        """Learn from the training articles' standardised feature rows (one array per article);
        None when there are fewer than :data:`MIN_ARTICLES` of them."""
        if len(standardized) < MIN_ARTICLES:
            return None
        profiles = np.vstack([article_profile(rows) for rows in standardized])
        mean = profiles.mean(axis=0)
        scale = profiles.std(axis=0)
        scale[scale == 0] = 1.0
        distances = np.sqrt((((profiles - mean) / scale) ** 2).mean(axis=1))
        return cls(mean, scale, float(np.percentile(distances, quantile)))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The profile as the summariser's bundle arrays."""
        return {"profile_mean": self.mean, "profile_scale": self.scale, "profile_threshold": np.array([self.threshold])}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], size: int) -> SourceProfile | None:
        """The profile saved by :meth:`to_arrays`; None for a summariser saved before the guard existed."""
        if "profile_threshold" not in arrays:
            return None
        for key in ("profile_mean", "profile_scale"):
            if key not in arrays or arrays[key].shape != (size,):
                found = arrays[key].shape if key in arrays else "missing"
                raise ValueError(f"summariser array {key!r} should have shape ({size},), found {found}")
        mean, scale = (np.asarray(arrays[k], dtype=np.float64) for k in ("profile_mean", "profile_scale"))
        return cls(mean, scale, float(arrays["profile_threshold"][0]))

    def distance(self, standardized: np.ndarray) -> float:
        """How far one article (its standardised feature rows) lies from the training articles."""
        return float(np.sqrt((((article_profile(standardized) - self.mean) / self.scale) ** 2).mean()))

    def is_unfamiliar(self, standardized: np.ndarray) -> bool:
        """Whether the article lies beyond the training articles' 99th percentile of distance."""
        return self.distance(standardized) > self.threshold


def lead_prior(n_sentences: int) -> np.ndarray:
    """Scores that rank sentences in article order (1, 1/2, 1/3, ...)."""
    return 1.0 / (np.arange(n_sentences) + 1.0)
