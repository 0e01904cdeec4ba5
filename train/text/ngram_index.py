"""Counting a vocabulary's n-grams in texts with word ids and numpy, instead of one dict lookup per n-gram.

:class:`~newsdesk.train.text.vectors.TfidfVectors` counted an article's terms by building every
n-gram as a string and looking each up in the vocabulary: about 800 lookups for a BBC article with
word bigrams, in a dict of some 47,000 terms that does not stay in the CPU cache. In a server under
load those lookups were about a tenth of a /v1/predict request (py-spy, ``bench/serve.py``).

An :class:`NgramIndex` gives every word of the vocabulary's terms an id (1, 2, ...; 0 is "not a word of
any term"). A text's tokens become ids with one lookup each (stop words and one-letter tokens get
:data:`SKIP` and are dropped, in numpy, before n-grams are made), and an n-gram of ids becomes one integer,
the ids as digits in base (number of words + 1): n-grams of different lengths never share a key (the
leading digit is never 0) and an n-gram with an unknown word is never looked up. The multi-word
terms' keys are one sorted array, so finding a batch's n-grams is one ``searchsorted``. The texts of a
batch are joined with a 0 between them, so no n-gram runs from one text into the next.

The counts are exactly those of looking the n-gram strings up: a key is found exactly when every word
of the n-gram is a word of a term and the words, in order, are that term
(``tests/train/text/test_vectors.py``). When the keys would not fit in 64 bits (a vocabulary of more
than about 6,000 words with 5-grams), :meth:`NgramIndex.build` returns None and the strings are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

UNKNOWN = 0
"""The id of a token that is not a word of any term."""
SKIP = -1
"""The id of a token the analyzer leaves out before making n-grams (a stop word, a one-letter token)."""
_MAX_KEY = 2**63 - 1


@dataclass(frozen=True)
class NgramIndex:
    """The vocabulary's terms as word ids: one-word terms by id, longer terms as sorted integer keys."""

    lookup: dict[str, int]
    """Every word of a term -> its id (from 1), and every skipped token -> :data:`SKIP`."""
    unigram_columns: np.ndarray
    """Id -> column of the one-word term, -1 where the word is only part of longer terms (and for id 0)."""
    keys: np.ndarray
    """The multi-word terms' keys, sorted (int64)."""
    key_columns: np.ndarray
    """The column of each key."""
    ngram_range: tuple[int, int]

    @property
    def base(self) -> int:
        """The number of word ids, 0 included: the base of the keys' digits."""
        return len(self.unigram_columns)

    @classmethod
    def build(
        cls, vocabulary: Mapping[str, int], ngram_range: tuple[int, int], skip: Iterable[str] = ()
    ) -> NgramIndex | None:
        """The index of ``vocabulary`` (term -> column, words joined by one space), or None when its
        longest n-grams' keys would not fit in 64 bits. ``skip``: tokens left out before n-grams are made."""
        low, high = ngram_range
        words: dict[str, int] = {}
        unigrams: list[tuple[int, int]] = []
        grams: list[tuple[list[int], int]] = []
        for term, column in vocabulary.items():
            parts = term.split(" ")
            if "" in parts or not low <= len(parts) <= high:
                continue  # the analyzer never produces it
            ids = [words.setdefault(part, len(words) + 1) for part in parts]
            if len(ids) == 1:
                unigrams.append((ids[0], column))
            else:
                grams.append((ids, column))
        base = len(words) + 1
        if base**high > _MAX_KEY:
            return None
        unigram_columns = np.full(base, -1, dtype=np.int32)
        for word, column in unigrams:
            unigram_columns[word] = column
        keys = np.array([_key(ids, base) for ids, _ in grams], dtype=np.int64)
        columns = np.array([column for _, column in grams], dtype=np.int32)
        order = np.argsort(keys, kind="stable")
        lookup = words  # the words' ids, and the skipped tokens over them
        lookup.update(zip(skip, repeat(SKIP)))
        return cls(lookup, unigram_columns, keys[order], columns[order], (low, high))

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """The tokens' word ids (:data:`UNKNOWN` for a word of no term, :data:`SKIP` for a skipped token)."""
        return np.fromiter(map(self.lookup.get, tokens, repeat(UNKNOWN)), dtype=np.int64, count=len(tokens))

    def columns(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every vocabulary n-gram in a run of word ids: its column, and where in ``ids`` it starts.

        Separate texts by an :data:`UNKNOWN` id so that no n-gram spans two of them; no id may be :data:`SKIP`.
        """
        low, high = self.ngram_range
        found_columns: list[np.ndarray] = []
        found_starts: list[np.ndarray] = []
        if low == 1:
            column = self.unigram_columns[ids]
            starts = np.flatnonzero(column >= 0)
            found_columns.append(column[starts])
            found_starts.append(starts)
        base = np.int64(self.base)
        for n in range(max(low, 2), high + 1):
            count = len(ids) - n + 1
            if count <= 0 or len(self.keys) == 0:
                break
            key = ids[:count].copy()
            known = key != UNKNOWN
            for offset in range(1, n):
                word = ids[offset : offset + count]
                key *= base
                key += word
                known &= word != UNKNOWN
            starts = np.flatnonzero(known)
            key = key[starts]
            position = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
            hit = self.keys[position] == key
            found_columns.append(self.key_columns[position[hit]])
            found_starts.append(starts[hit])
        if not found_columns:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int64)
        return np.concatenate(found_columns), np.concatenate(found_starts)


def _key(ids: Sequence[int], base: int) -> int:
    key = 0
    for word in ids:
        key = key * base + word
    return key
