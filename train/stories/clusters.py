"""Group sketched articles: near-duplicates (estimated Jaccard of shingles) and stories (cosine of TF-IDF terms).

Both groupings are connected components (a union-find, here scipy's ``connected_components``) over
LSH candidate pairs that pass a check: near-duplicate pairs need an estimated Jaccard of at least
``duplicate_threshold``, or the shorter text mostly contained in the longer (``containment_threshold``:
a truncated copy, or one with lines inserted or removed); story pairs a cosine of their top-term vectors of at least ``story_threshold``
(near-duplicates are always the same story). With dates, pairs further apart than ``window_days``
are dropped. Memory is linear in the rows (the candidates per row are bounded by the LSH bands), so
200,000 articles need no pairwise matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from newsdesk.train.stories.config import ClusterConfig
from newsdesk.train.stories.minhash import candidate_pairs, estimated_jaccard
from newsdesk.train.stories.sketches import Sketches

NONE = -1
_PAIR_BATCH = 50_000


@dataclass
class Assignment:
    """Per row: ``duplicate_of`` (the first row of its near-duplicate group, or -1 for the first itself and
    rows without text) and ``story`` (the first row of its story, -1 without text); plus the checked pairs."""

    duplicate_of: np.ndarray
    story: np.ndarray
    duplicate_pairs: tuple[np.ndarray, np.ndarray]
    story_pairs: tuple[np.ndarray, np.ndarray]

    @property
    def duplicate_rows(self) -> int:
        """Rows that are a near-duplicate of an earlier row."""
        return int((self.duplicate_of != NONE).sum())

    @property
    def stories(self) -> int:
        """Distinct stories among rows with text."""
        return len(np.unique(self.story[self.story != NONE]))


def cosine(sketches: Sketches, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine similarity of the top-term vectors of each pair (vectors are L2-normalised)."""
    out = np.empty(len(i), dtype=np.float32)
    for s in range(0, len(i), _PAIR_BATCH):
        a, b = i[s : s + _PAIR_BATCH], j[s : s + _PAIR_BATCH]
        match = sketches.terms[a][:, :, None] == sketches.terms[b][:, None, :]
        products = sketches.weights[a][:, :, None] * sketches.weights[b][:, None, :]
        out[s : s + _PAIR_BATCH] = (products * match).sum(axis=(1, 2))
    return out


def near_duplicate(sketches: Sketches, i: np.ndarray, j: np.ndarray, config: ClusterConfig) -> np.ndarray:
    """Whether each pair is a near-duplicate: Jaccard, or containment of the shorter text, above threshold."""
    jaccard = estimated_jaccard(sketches.duplicate, i, j)
    small = np.minimum(sketches.size[i], sketches.size[j]).astype(np.float32)
    large = np.maximum(sketches.size[i], sketches.size[j]).astype(np.float32)
    # |A & B| = J (|A| + |B|) / (1 + J); containment = |A & B| / min(|A|, |B|)
    containment = jaccard * (small + large) / (1 + jaccard) / np.maximum(small, 1)
    contained = (containment >= config.containment_threshold) & (small >= config.min_length_ratio * large)
    return (jaccard >= config.duplicate_threshold) | contained


def _within_window(dates: np.ndarray | None, i: np.ndarray, j: np.ndarray, days: float) -> np.ndarray:
    if dates is None:
        return np.ones(len(i), dtype=bool)
    gap = np.abs(dates[i] - dates[j])
    return ~(gap > days)  # NaN (a missing date) passes


def _first_row_of_component(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """For each row, the smallest row index of its connected component."""
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


def assign(sketches: Sketches, config: ClusterConfig, dates: np.ndarray | None = None) -> Assignment:
    """Near-duplicate groups and stories of the sketched rows (``dates``: days, NaN where unknown)."""
    n = len(sketches)
    valid = sketches.valid
    order = None if dates is None else np.where(np.isnan(dates), np.inf, dates)
    di, dj = candidate_pairs(sketches.duplicate, config.duplicate_candidate_threshold, order, valid)
    keep = near_duplicate(sketches, di, dj, config) & _within_window(dates, di, dj, config.window_days)
    di, dj = di[keep], dj[keep]
    duplicate_first = _first_row_of_component(n, di, dj)
    rows = np.arange(n)
    # Stories are looked for among the first article of each near-duplicate group only (the others
    # follow it): a file of many copies costs what its distinct texts cost.
    heads = valid & (duplicate_first == rows)
    si, sj = candidate_pairs(sketches.story, config.story_candidate_threshold, order, heads)
    keep = (cosine(sketches, si, sj) >= config.story_threshold) & _within_window(dates, si, sj, config.window_days)
    si, sj = np.concatenate([si[keep], di]), np.concatenate([sj[keep], dj])
    story_first = _first_row_of_component(n, si, sj)
    duplicate_of = np.where((duplicate_first != rows) & valid, duplicate_first, NONE)
    story = np.where(valid, story_first, NONE)
    return Assignment(duplicate_of, story, (di, dj), (si, sj))
