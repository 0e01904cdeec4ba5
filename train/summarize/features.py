"""Sentence features for the supervised extractive scorer: position, length, similarity, centrality, style.

Every feature is one an editor would recognise; :func:`sentence_features` computes them for one
article prepared by :func:`prepare_article` (split into sentences and vectorised once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
from scipy import sparse

from newsdesk.train.summarize.hygiene import candidate_sentences, quote_groups
from newsdesk.train.summarize.textrank import overlap_similarity, textrank_scores
from newsdesk.train.text.sentences import Sentence
from newsdesk.train.text.vectors import TfidfVectors

FEATURES = (
    "position",  # relative position in the article, 0 = first sentence
    "inverse_position",  # 1 / (index + 1)
    "first_sentence",
    "paragraph_position",  # relative position of the paragraph
    "first_in_paragraph",
    "log_words",
    "short",  # fewer than 6 words
    "similarity_article",  # cosine to the whole article (TF-IDF)
    "similarity_title",
    "centrality",  # mean cosine to the other sentences
    "textrank",  # TextRank score over TF-IDF cosines, times the number of sentences
    "textrank_overlap",  # TextRank over Mihalcea & Tarau's word-overlap similarity, times the number of sentences
    "quotation",  # contains quotation marks
    "starts_with_quote",
    "attribution",  # "said", "says", "told", "according to"
    "numbers",  # share of tokens that are numbers
    "capitalised",  # share of non-initial words that are capitalised (names)
    "tfidf_weight",  # mean TF-IDF weight of the sentence's terms within the article
    "question",
    "log_sentences",  # article length, so the model can weigh position by it
)

_QUOTES = re.compile(r"[\"“”‘’]|(?:^|\s)'")
_STARTS_QUOTE = re.compile(r"^[\"“‘']")
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|according to|added)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^[£$€]?\d[\d,.]*(?:%|bn|m|k)?$")
_WORD = re.compile(r"\S+")
_CAPITALISED = re.compile(r"^[\"“‘(]?[A-Z][\w'-]*")
_TOKEN = re.compile(r"\w+")


class SentenceFeatureProvider(Protocol):
    """Extra sentence features appended after :data:`FEATURES` (for example from a sentence encoder)."""

    names: tuple[str, ...]

    def sentence_features(self, sentences: Sequence[str], title: str) -> np.ndarray:
        """One row per sentence, one column per name in :attr:`names`."""
        ...


@dataclass
class PreparedArticle:
    """One article split into candidate sentences: everything selection and features need.

    Vectors are computed when first asked for. The brief and standard lengths rank by position and only
    compare the few sentences they consider for redundancy (:meth:`cosines`), so they vectorise only those.
    """

    body: str
    sentences: list[Sentence]
    vectorizer: TfidfVectors
    title_text: str = ""
    _term_weights: dict[int, dict[int, float]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def vectors(self) -> sparse.csr_matrix:
        """One L2-normalised TF-IDF row per sentence."""
        return self.vectorizer.transform([s.text for s in self.sentences])

    def cosines(self, rows: Sequence[int], columns: Sequence[int]) -> np.ndarray:
        """TF-IDF cosines of sentences ``rows`` to sentences ``columns`` (the entries of :attr:`similarity`).

        Unless every sentence is already vectorised, only these sentences are (once each).
        """
        if "vectors" in self.__dict__:
            return self.similarity[np.ix_(rows, columns)]
        weights = self._term_weights
        for i in (*rows, *columns):
            if i not in weights:
                weights[i] = self.vectorizer.row_weights(self.sentences[i].text)
        return np.array([[_dot(weights[r], weights[c]) for c in columns] for r in rows])

    @cached_property
    def article(self) -> np.ndarray:
        """L2-normalised TF-IDF of the whole body (dense, 1-D); computed only when a feature needs it."""
        return self.vectorizer.transform_dense(self.body)

    @cached_property
    def title(self) -> np.ndarray | None:
        """L2-normalised TF-IDF of the title (dense, 1-D), or None without a title."""
        return self.vectorizer.transform_dense(self.title_text) if self.title_text else None

    @cached_property
    def similarity(self) -> np.ndarray:
        """Dense sentence-by-sentence TF-IDF cosine similarities."""
        # Over the article's own terms only: a small dense product instead of a sparse one.
        terms, columns = np.unique(self.vectors.indices, return_inverse=True)
        dense = np.zeros((self.vectors.shape[0], len(terms)), dtype=self.vectors.dtype)
        dense[np.repeat(np.arange(self.vectors.shape[0]), np.diff(self.vectors.indptr)), columns] = self.vectors.data
        return dense @ dense.T

    @cached_property
    def word_counts(self) -> list[int]:
        """Each sentence's length in words (whitespace-separated), as word budgets count them."""
        return [len(s.text.split()) for s in self.sentences]

    @cached_property
    def quote_groups(self) -> list[int]:
        """Sentences of one quotation share a number (see :func:`quote_groups`)."""
        return quote_groups(self.sentences)

    @cached_property
    def overlap(self) -> np.ndarray:
        """TextRank's word-overlap similarities (see :func:`overlap_similarity`)."""
        return overlap_similarity([s.text for s in self.sentences])


def prepare_article(vectorizer: TfidfVectors, body: str, title: str) -> PreparedArticle:
    """Split ``body`` into candidate sentences (:func:`candidate_sentences`), to be vectorised with ``vectorizer``
    (sentences, body and title are vectorised when a feature or the selection first asks for them)."""
    return PreparedArticle(body, candidate_sentences(body), vectorizer, title)


def _dot(a: dict[int, float], b: dict[int, float]) -> float:
    """The dot product of two sparse rows given as column -> weight."""
    if len(b) < len(a):
        a, b = b, a
    return sum(weight * b[column] for column, weight in a.items() if column in b)


def sentence_features(p: PreparedArticle, damping: float, extra: SentenceFeatureProvider | None = None) -> np.ndarray:
    """One row of :data:`FEATURES` (then ``extra``'s columns) per sentence of ``p``."""
    n = len(p.sentences)
    similarity = p.similarity
    centrality = (similarity.sum(axis=1) - np.diag(similarity)) / max(n - 1, 1)
    rank = textrank_scores(similarity, damping) * n
    rank_overlap = textrank_scores(p.overlap, damping) * n
    sim_article = p.vectors @ p.article
    sim_title = p.vectors @ p.title if p.title is not None else np.zeros(n)
    paragraphs = max(s.paragraph for s in p.sentences) + 1
    # Mean weight of the sentence's terms in the article's own TF-IDF vector.
    present = p.vectors.copy()
    present.data[:] = 1.0
    counts = np.asarray(present.sum(axis=1)).ravel()
    weight = np.divide(present @ p.article, counts, out=np.zeros(n), where=counts > 0)
    rows = np.zeros((n, len(FEATURES)))
    previous_paragraph = -1
    for i, sentence in enumerate(p.sentences):
        words = _WORD.findall(sentence.text)
        n_words = len(words)
        numbers = sum(1 for w in words if _NUMBER.match(w.strip(".,;:()\"'")))
        capitalised = sum(1 for w in words[1:] if _CAPITALISED.match(w))
        rows[i] = (
            i / max(n - 1, 1),
            1.0 / (i + 1),
            float(i == 0),
            sentence.paragraph / max(paragraphs - 1, 1),
            float(sentence.paragraph != previous_paragraph),
            math.log1p(n_words),
            float(n_words < 6),
            sim_article[i],
            sim_title[i],
            centrality[i],
            rank[i],
            rank_overlap[i],
            float(bool(_QUOTES.search(sentence.text))),
            float(bool(_STARTS_QUOTE.match(sentence.text))),
            float(bool(_ATTRIBUTION.search(sentence.text))),
            numbers / max(n_words, 1),
            capitalised / max(n_words - 1, 1),
            weight[i],
            float(sentence.text.rstrip("\"'”’").endswith("?")),
            math.log(n),
        )
        previous_paragraph = sentence.paragraph
    if extra is not None:
        columns = extra.sentence_features([s.text for s in p.sentences], p.title_text)
        rows = np.hstack([rows, np.asarray(columns, dtype=np.float64).reshape(n, -1)])
    return rows
