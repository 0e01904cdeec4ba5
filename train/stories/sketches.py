"""What clustering keeps of each article: a near-duplicate signature, its top TF-IDF terms, a story signature.

:class:`Sketcher` turns texts into :class:`Sketches` (fixed-size arrays per row, so a batch job can
write them beside each part and read them all back for the second pass: about 600 bytes a row).
Story terms are weighted with the bundle's own TF-IDF: its vocabulary, idf and stop words
(:meth:`StoryTerms.from_classifier`); sublinear tf as in training. A bundle without a TF-IDF vectoriser
(e.g. an encoder-only backend) falls back to hashed words weighted by tf alone.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from newsdesk.train.stories.config import ClusterConfig
from newsdesk.train.stories.minhash import signatures
from newsdesk.train.stories.shingles import SAMPLE_FROM, WordHasher, shingle_hashes, shingle_hashes_at, words
from newsdesk.train.text.stop_words import ENGLISH_STOP_WORDS

if TYPE_CHECKING:
    import pyarrow as pa

NO_TERM = -1


def _crc32(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


@dataclass
class StoryTerms:
    """Term ids and idf weights for story vectors: the classifier's vocabulary, or hashed words."""

    vocabulary: Mapping[str, int] | None
    idf: np.ndarray | None
    stop_words: frozenset[str]

    @classmethod
    def from_classifier(cls, classifier: Any) -> StoryTerms:
        """The TF-IDF of a fitted classifier (``TopicClassifier`` or an ensemble holding one), else hashed words."""
        for model in (classifier, getattr(classifier, "tfidf", None)):
            vectorizer = getattr(model, "vectorizer_", None)
            if vectorizer is not None and hasattr(vectorizer, "idf_"):
                stop = vectorizer.get_stop_words() or ()
                return cls(vectorizer.vocabulary_, np.asarray(vectorizer.idf_, np.float32), frozenset(stop))
        return cls(None, None, frozenset(ENGLISH_STOP_WORDS))

    def vector(
        self, tokens: Sequence[str], keep: int, word_hashes: Mapping[str, int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``keep`` heaviest terms of a text (int ids) and their L2-normalised weights (1 + log tf) * idf."""
        counts = Counter(tokens)
        if self.vocabulary is None:
            for word in self.stop_words.intersection(counts) | {w for w in counts if len(w) < 2}:
                del counts[word]
            hashed = word_hashes.__getitem__ if word_hashes is not None else _crc32
            ids = np.fromiter(map(hashed, counts), np.int64, len(counts)) & 0x7FFFFFFF
            weights = 1.0 + np.log(np.fromiter(counts.values(), np.float32, len(counts)))
        else:  # the vocabulary has no stop words
            ids = np.fromiter(map(self.vocabulary.get, counts, repeat(-1)), np.int64, len(counts))
            found = ids >= 0
            ids = ids[found]
            tf = np.fromiter(counts.values(), np.float32, len(counts))[found]
            weights = (1.0 + np.log(tf)) * self.idf[ids]  # type: ignore[index]
        if len(ids) > keep:
            top = np.argpartition(-weights, keep - 1)[:keep]
            ids, weights = ids[top], weights[top]
        norm = float(np.sqrt((weights * weights).sum())) or 1.0
        return ids, (weights / norm).astype(np.float32)


@dataclass
class Sketches:
    """Per-row arrays for clustering; ``valid`` is False where a row has no text (it joins nothing)."""

    duplicate: np.ndarray  # (n, num_perm) uint32
    story: np.ndarray  # (n, story_perm) uint32
    terms: np.ndarray  # (n, story_terms) int32, NO_TERM padded
    weights: np.ndarray  # (n, story_terms) float32
    valid: np.ndarray  # (n,) bool
    size: np.ndarray  # (n,) int32: shingles (after sampling) behind the near-duplicate signature

    def __len__(self) -> int:
        return len(self.valid)

    @classmethod
    def concat(cls, parts: Sequence[Sketches]) -> Sketches:
        """Rows of several sketches, in order."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def to_arrow(self) -> pa.Table:
        """One row per article (fixed-size lists), for a part's side file."""
        import pyarrow as pa  # only batch scoring writes side files; server processes leave pyarrow out

        columns = {}
        for name in _FIELDS:
            array = getattr(self, name)
            if array.ndim == 1:
                columns[name] = pa.array(array)
            else:
                flat = pa.array(array.reshape(-1))
                columns[name] = pa.FixedSizeListArray.from_arrays(flat, array.shape[1])
        return pa.table(columns)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Sketches:
        """The inverse of :meth:`to_arrow`."""
        import pyarrow as pa

        arrays = []
        for name in _FIELDS:
            column = table.column(name).combine_chunks()
            if pa.types.is_fixed_size_list(column.type):
                width = column.type.list_size
                arrays.append(column.flatten().to_numpy().reshape(-1, width))
            else:
                arrays.append(column.to_numpy(zero_copy_only=False))
        return cls(*arrays)


_FIELDS = ("duplicate", "story", "terms", "weights", "valid", "size")


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy's hash-based unique is several times slower on a million int64)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


class Sketcher:
    """Turns article texts into :class:`Sketches` with one :class:`ClusterConfig` and one :class:`StoryTerms`."""

    def __init__(self, config: ClusterConfig, terms: StoryTerms) -> None:
        self.config = config
        self.terms = terms
        self._hasher = WordHasher()

    def sketch(self, texts: Sequence[str | None]) -> Sketches:
        """Sketch each text (None or '' for a row without text); numpy works on the whole batch at once."""
        cfg = self.config
        n = len(texts)
        token_lists = [words(text) if text else [] for text in texts]
        lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)
        flat = [word for tokens in token_lists for word in tokens]
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        hashes = self._hasher.hashes(flat)
        shingle_sets = self._shingle_sets(hashes, doc, lengths)
        ids, weights = self._story_vectors(flat, hashes, doc, n)
        term_sets = [row[row != NO_TERM].astype(np.uint32) for row in ids]
        return Sketches(
            duplicate=signatures(shingle_sets, cfg.num_perm, cfg.seed),
            story=signatures(term_sets, cfg.story_perm, cfg.seed + 1),
            terms=ids,
            weights=weights,
            valid=lengths > 0,
            size=np.array([len(s) for s in shingle_sets], dtype=np.int32),
        )

    def _shingle_sets(self, hashes: np.ndarray, doc: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        """Each text's sampled shingle hashes, as :func:`shingle_hashes` gives them, for all texts in one pass."""
        cfg, n = self.config, len(lengths)
        size = cfg.shingle_words
        ends = np.cumsum(lengths)
        sets: list[np.ndarray] = [np.empty(0, np.uint32)] * n
        for row in np.flatnonzero((lengths > 0) & (lengths < size)):  # shorter than a shingle: the whole text
            sets[row] = shingle_hashes(hashes[ends[row] - lengths[row] : ends[row]], size, cfg.shingle_sample)
        count = len(hashes) - size + 1
        if count <= 0:
            return sets
        combined = shingle_hashes_at(hashes, size, count)
        start_doc = doc[:count]
        inside = np.arange(count) + size <= ends[start_doc]  # the shingle does not run into the next text
        keys = _sorted_unique((start_doc[inside] << np.int64(32)) | combined[inside].astype(np.int64))
        owner, values = keys >> np.int64(32), (keys & np.int64(0xFFFFFFFF)).astype(np.uint32)
        distinct = np.bincount(owner, minlength=n)
        if cfg.shingle_sample > 1:
            keep = (distinct[owner] < SAMPLE_FROM) | (values % np.uint32(cfg.shingle_sample) == 0)
            owner, values = owner[keep], values[keep]
        bounds = np.searchsorted(owner, np.arange(n + 1))
        long_enough = lengths >= size
        for row in np.flatnonzero(long_enough):
            sets[row] = values[bounds[row] : bounds[row + 1]]
        return sets

    def _story_vectors(
        self, flat: list[str], hashes: np.ndarray, doc: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each text's ``story_terms`` heaviest terms and L2-normalised weights, (1 + log tf) * idf."""
        keep_terms = self.config.story_terms
        terms = self.terms
        if terms.vocabulary is not None:  # the vocabulary has no stop words and no one-character terms
            term = np.fromiter(map(terms.vocabulary.get, flat, repeat(-1)), np.int64, len(flat))
        else:
            stop = terms.stop_words
            usable = np.fromiter((len(w) > 1 and w not in stop for w in flat), bool, len(flat))
            term = np.where(usable, (hashes & np.uint64(0x7FFFFFFF)).astype(np.int64), -1)
        found = term >= 0
        keys, tf = np.unique((doc[found] << np.int64(32)) | term[found], return_counts=True)
        owner, term_id = keys >> np.int64(32), keys & np.int64(0xFFFFFFFF)
        weight = 1.0 + np.log(tf.astype(np.float32))
        if terms.idf is not None:
            weight = weight * terms.idf[term_id]
        order = np.lexsort((term_id, -weight, owner))
        owner, term_id, weight = owner[order], term_id[order], weight[order]
        first = np.searchsorted(owner, owner)  # index of each owner's first (heaviest) term
        rank = np.arange(len(owner)) - first
        top = rank < keep_terms
        owner, term_id, weight, rank = owner[top], term_id[top], weight[top], rank[top]
        norm = np.sqrt(np.bincount(owner, weight * weight, minlength=n))
        ids = np.full((n, keep_terms), NO_TERM, dtype=np.int32)
        weights = np.zeros((n, keep_terms), dtype=np.float32)
        ids[owner, rank] = term_id
        weights[owner, rank] = weight / np.where(norm[owner] > 0, norm[owner], 1.0)
        return ids, weights
