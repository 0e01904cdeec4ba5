"""TF-IDF vectors of texts with a fitted vocabulary, computed with numpy and scipy.sparse alone.

Training fits scikit-learn's ``TfidfVectorizer`` (it chooses the vocabulary and the idf weights);
:meth:`TfidfVectors.from_vectorizer` keeps what it learned, and every later ``transform`` — in
training's held-out scoring, in a server, in batch scoring — is :meth:`TfidfVectors.transform`. It
gives the same matrix as ``TfidfVectorizer.transform`` (``tests/train/text/test_vectors.py`` checks
this on real articles) for the settings newsdesk uses: word n-grams of the default token pattern,
lower-cased, optional English stop words, optional sublinear term frequency, l2 norm.

Two reasons not to call scikit-learn at inference: a server process that never imports it holds
about 120 MB less (``bench/serve.py``), and one article is transformed about three times faster,
without the per-call input validation scikit-learn does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from newsdesk.train.text.ngram_index import SKIP, NgramIndex
from newsdesk.train.text.stop_words import ENGLISH, ENGLISH_STOP_WORDS

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
"""scikit-learn's default token pattern: runs of two or more word characters."""
# The same tokens as TOKEN_PATTERN, a third faster: every maximal run of two or more word characters
# (a greedy run ends where the word does, and a failed match cannot start inside a run of two or more).
_TOKEN = re.compile(r"\w\w+")
# In ASCII text the word characters are [A-Za-z0-9_]: splitting at everything else gives the same tokens
# (keeping those of two or more characters) in a quarter less time than the regex.
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")})
_ASCII_ONE_CHARACTER_TOKENS = frozenset(chr(c) for c in range(128) if chr(c).isalnum() or chr(c) == "_")
NORMS = ("l2", None)
INDEX_MIN_TOKENS = 120
"""From this many tokens in one call (stop words included), n-grams are counted through word ids
(:mod:`.ngram_index`); below it, by looking n-gram strings up (cheaper for a sentence or a headline)."""


@dataclass(eq=False)
class TfidfVectors:
    """A fitted TF-IDF vocabulary that turns texts into l2-normalised sparse rows.

    ``vocabulary_`` maps each term (a word, or words joined by one space) to its column; ``idf_``
    holds one weight per column. The attribute names are scikit-learn's, so code written for a
    fitted ``TfidfVectorizer`` reads this the same way.
    """

    vocabulary_: dict[str, int]
    idf_: np.ndarray
    ngram_range: tuple[int, int] = (1, 1)
    stop_words: str | None = None
    sublinear_tf: bool = False
    lowercase: bool = True
    norm: str | None = "l2"
    dtype: Any = np.float32
    _stop: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        low, high = self.ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range must be (low, high) with 1 <= low <= high, got {self.ngram_range}")
        if self.stop_words not in (ENGLISH, None):
            raise ValueError(f"stop_words must be {ENGLISH!r} or None, got {self.stop_words!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be 'l2' or None, got {self.norm!r}")
        self.idf_ = np.asarray(self.idf_, dtype=self.dtype)
        if self.idf_.shape != (len(self.vocabulary_),):
            raise ValueError(
                f"idf_ should have one weight per term: shape ({len(self.vocabulary_)},), found {self.idf_.shape}"
            )
        self.ngram_range = (int(low), int(high))
        self._stop = ENGLISH_STOP_WORDS if self.stop_words == ENGLISH else frozenset()

    @classmethod
    def from_terms(cls, terms: Sequence[str], idf: np.ndarray, **settings: Any) -> TfidfVectors:
        """Vectors over ``terms`` in column order (as a bundle stores them), with their idf weights."""
        vocabulary = {term: i for i, term in enumerate(terms)}
        if len(vocabulary) != len(terms):
            raise ValueError("the vocabulary has repeated terms")
        return cls(vocabulary, idf, **settings)

    @classmethod
    def from_vectorizer(cls, vectorizer: Any) -> TfidfVectors:
        """What a fitted scikit-learn ``TfidfVectorizer`` learned, checking it uses settings this class reproduces."""
        unsupported = {
            "analyzer": (vectorizer.analyzer, "word"),
            "token_pattern": (vectorizer.token_pattern, TOKEN_PATTERN),
            "strip_accents": (vectorizer.strip_accents, None),
            "preprocessor": (vectorizer.preprocessor, None),
            "tokenizer": (vectorizer.tokenizer, None),
            "use_idf": (vectorizer.use_idf, True),
        }
        for name, (value, expected) in unsupported.items():
            if value != expected:
                raise ValueError(f"TfidfVectors reproduces {name}={expected!r} only; the vectorizer has {value!r}")
        return cls(
            dict(vectorizer.vocabulary_),
            vectorizer.idf_,
            ngram_range=tuple(vectorizer.ngram_range),
            stop_words=vectorizer.stop_words,
            sublinear_tf=bool(vectorizer.sublinear_tf),
            lowercase=bool(vectorizer.lowercase),
            norm=vectorizer.norm,
            dtype=vectorizer.dtype,
        )

    @cached_property
    def terms(self) -> tuple[str, ...]:
        """The terms in column order (built once)."""
        terms = [""] * len(self.vocabulary_)
        for term, index in self.vocabulary_.items():
            terms[index] = term
        return tuple(terms)

    def get_stop_words(self) -> frozenset[str] | None:
        """The stop words left out of every text (None without any), as scikit-learn names it."""
        return self._stop or None

    def tokens(self, text: str) -> list[str]:
        """The words of ``text`` in order, stop words left out: what the n-grams are made of."""
        return self._kept(self._raw_tokens(text))

    def _kept(self, raw_tokens: list[str]) -> list[str]:
        stop = self._stop
        return [token for token in raw_tokens if len(token) > 1 and token not in stop]

    def _raw_tokens(self, text: str) -> list[str]:
        """:meth:`tokens` with the stop words still in, and in ASCII text the one-character tokens too."""
        if self.lowercase:
            text = text.lower()
        if text.isascii():
            return text.translate(_ASCII_NON_WORD).split()
        return _TOKEN.findall(text)

    def analyze(self, text: str) -> list[str]:
        """The terms of ``text`` in order, before the vocabulary filters them (scikit-learn's analyzer)."""
        return self._grams(self.tokens(text))

    def _grams(self, tokens: list[str]) -> list[str]:
        low, high = self.ngram_range
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams.extend(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
        return grams

    @cached_property
    def ngram_index(self) -> NgramIndex | None:
        """The vocabulary as word ids (built once; None when its keys would not fit, see :mod:`.ngram_index`)."""
        return NgramIndex.build(self.vocabulary_, self.ngram_range, skip=self._stop | _ASCII_ONE_CHARACTER_TOKENS)

    def prepare(self) -> None:
        """Build what :meth:`transform` uses (the n-gram index) now rather than on its first call."""
        _ = self.ngram_index

    def _counts(
        self, texts: Sequence[str], first_seen_order: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each text's vocabulary columns, ascending, and their counts, concatenated; and where each text starts.

        ``first_seen_order`` (one text): the columns in the order their terms first occur in :meth:`analyze`'s
        output instead, the order :meth:`_row` has always summed them in (float sums depend on the order).

        Few words (a sentence, a headline) are counted by looking their n-grams up as strings: the word-id
        route (:mod:`.ngram_index`) costs a fixed ~0.05 ms of numpy calls and wins from about
        :data:`INDEX_MIN_TOKENS` tokens on. Both give the same counts in the same order.
        """
        raw = [self._raw_tokens(text) for text in texts]
        index = self.ngram_index
        if index is None or sum(map(len, raw)) < INDEX_MIN_TOKENS:
            return self._counts_by_string([self._kept(tokens) for tokens in raw], ascending=not first_seen_order)
        flat: list[str] = []
        for tokens in raw:
            flat += tokens
            flat.append("")  # no word of any term: no n-gram runs into the next text
        ids = index.ids(flat)
        kept = ids != SKIP
        ids = ids[kept]
        columns, starts = index.columns(ids)
        if len(raw) == 1:
            # index.columns lists the hits in analyze's order (one-word terms, then two-word terms, ... by start).
            columns, first, counts = np.unique(columns, return_index=True, return_counts=True)
            if first_seen_order:
                order = np.argsort(first, kind="stable")
                columns, counts = columns[order], counts[order]
            return columns, counts, np.array([0, len(columns)], dtype=np.int32)
        rows = np.repeat(np.arange(len(raw), dtype=np.int64), [len(tokens) + 1 for tokens in raw])[kept][starts]
        keys, counts = np.unique((rows << np.int64(32)) | columns, return_counts=True)
        offsets = np.zeros(len(raw) + 1, dtype=np.int32)
        np.cumsum(np.bincount(keys >> np.int64(32), minlength=len(raw)), out=offsets[1:])
        return (keys & np.int64(0xFFFFFFFF)).astype(np.int32), counts, offsets

    def _counts_by_string(
        self, token_lists: list[list[str]], ascending: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_counts` by looking every n-gram up as a string (one dict lookup per n-gram)."""
        vocabulary = self.vocabulary_
        offsets, columns, counts = [0], [], []
        for tokens in token_lists:
            row: dict[int, int] = {}
            for gram in self._grams(tokens):
                column = vocabulary.get(gram)
                if column is not None:
                    row[column] = row.get(column, 0) + 1
            for column in sorted(row) if ascending else row:
                columns.append(column)
                counts.append(row[column])
            offsets.append(len(columns))
        return np.asarray(columns, dtype=np.int32), np.asarray(counts), np.asarray(offsets, dtype=np.int32)

    def _weigh(self, counts: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """TF-IDF weights of term counts (not yet normalised)."""
        data = np.asarray(counts, dtype=self.dtype)
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf_[columns]
        return data

    def transform(self, texts: Iterable[str]) -> csr_matrix:
        """One TF-IDF row per text, shape (n_texts, n_terms); terms outside the vocabulary are ignored."""
        columns, counts, offsets = self._counts(texts if isinstance(texts, Sequence) else list(texts))
        data = self._weigh(counts, columns)
        if self.norm == "l2" and len(data):
            lengths = np.diff(offsets)
            squares = np.add.reduceat(data * data, offsets[:-1][lengths > 0])
            norms = np.ones(len(lengths), dtype=self.dtype)
            norms[lengths > 0] = np.sqrt(squares)
            data /= np.repeat(norms, lengths)
        return csr_matrix((data, columns, offsets), shape=(len(offsets) - 1, len(self.vocabulary_)))

    def _row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's columns and their TF-IDF weights (normalised as :meth:`transform` does), without a matrix."""
        columns, counts, _ = self._counts([text], first_seen_order=True)
        data = self._weigh(counts, columns)
        if self.norm == "l2" and len(data):
            data /= np.sqrt(np.dot(data, data))
        return columns, data

    def row_weights(self, text: str) -> dict[int, float]:
        """The TF-IDF row of one text as column -> weight (a row of :meth:`transform`, without a sparse matrix).

        For a few short texts (the sentences a summary compares) this costs a fraction of building a matrix.
        """
        columns, data = self._row(text)
        return dict(zip(columns.tolist(), data.tolist()))

    def transform_dense(self, text: str) -> np.ndarray:
        """The TF-IDF row of one text as a dense 1-D array (a row of :meth:`transform`, without a sparse matrix)."""
        columns, data = self._row(text)
        dense = np.zeros(len(self.vocabulary_), dtype=self.dtype)
        dense[columns] = data
        return dense
