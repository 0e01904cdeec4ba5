"""ROUGE scoring and the greedy extractive oracle.

Reported scores come from the ``rouge-score`` package (Google's reference
implementation of Lin, 2004) with stemming on; ROUGE-Lsum gets its sentences
separated by newlines, as that package expects. The oracle needs thousands of
ROUGE evaluations per article, so it counts n-grams itself over the same
tokens (``rouge-score``'s tokenisation with a cached Porter stemmer).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

ROUGE_TYPES = ("rouge1", "rouge2", "rougeLsum")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from nltk.stem import porter

    return porter.PorterStemmer("ORIGINAL_ALGORITHM")


@lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    return _stemmer().stem(token) if len(token) > 3 else token


def rouge_tokens(text: str) -> list[str]:
    """Tokens as ``rouge-score`` makes them with ``use_stemmer=True``: lower case, alphanumeric, stemmed."""
    return [_stem(t) for t in _NON_ALNUM.sub(" ", text.lower()).split()]


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: int, predicted: int, reference: int) -> float:
    if overlap == 0 or predicted == 0 or reference == 0:
        return 0.0
    precision, recall = overlap / predicted, overlap / reference
    return 2 * precision * recall / (precision + recall)


def _f1_many(overlap: np.ndarray, predicted: np.ndarray, reference: int) -> np.ndarray:
    """:func:`_f1` for many candidates at once (the same float operations, so the same values)."""
    if reference == 0:
        return np.zeros(len(overlap))
    safe = (overlap > 0) & (predicted > 0)
    precision = np.divide(overlap, predicted, out=np.zeros(len(overlap)), where=safe)
    recall = overlap / reference
    total = precision + recall
    return np.divide(2 * precision * recall, total, out=np.zeros(len(overlap)), where=safe)


def _reference_matrix(
    tokens: Sequence[Sequence[str]], reference: Sequence[str], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The reference's n-gram counts (a vector), each sentence's counts of those n-grams, all sentences' totals."""
    ref = _ngrams(reference, n)
    index = {gram: i for i, gram in enumerate(ref)}
    counts = np.zeros((len(tokens), len(index)), dtype=np.int64)
    totals = np.zeros(len(tokens), dtype=np.int64)
    for row, sentence in enumerate(tokens):
        grams = _ngrams(sentence, n)
        totals[row] = sum(grams.values())
        for gram, count in grams.items():
            column = index.get(gram)
            if column is not None:
                counts[row, column] = count
    return np.fromiter(ref.values(), dtype=np.int64, count=len(ref)), counts, totals, int(sum(ref.values()))


def greedy_oracle(sentences: Sequence[str], reference: str, max_sentences: int | None = None) -> list[int]:
    """Indices (in article order) of the sentences that greedily maximise ROUGE-1 + ROUGE-2 F1.

    The usual extractive oracle (Nallapati et al., 2017): add the sentence
    that most improves the score, stop when nothing improves it (ties go to the
    earliest sentence). Every candidate of a step is scored at once with numpy,
    on the same integer overlaps and the same float operations as scoring them
    one by one, so the choices are the same.
    """
    ref_tokens = rouge_tokens(reference)
    tokens = [rouge_tokens(s) for s in sentences]
    ref1, counts1, totals1, n_ref1 = _reference_matrix(tokens, ref_tokens, 1)
    ref2, counts2, totals2, n_ref2 = _reference_matrix(tokens, ref_tokens, 2)
    have1, have2 = np.zeros_like(ref1), np.zeros_like(ref2)
    total1 = total2 = 0
    available = np.ones(len(sentences), dtype=bool)
    chosen: list[int] = []
    best = 0.0
    limit = max_sentences or len(sentences)
    while len(chosen) < limit and available.any():
        overlap1 = np.minimum(have1 + counts1, ref1).sum(axis=1).astype(float)
        overlap2 = np.minimum(have2 + counts2, ref2).sum(axis=1).astype(float)
        scores = _f1_many(overlap1, (total1 + totals1).astype(float), n_ref1) + _f1_many(
            overlap2, (total2 + totals2).astype(float), n_ref2
        )
        scores[~available] = -np.inf
        index = int(np.argmax(scores))
        if not scores[index] > best:
            break
        chosen.append(index)
        available[index] = False
        have1 += counts1[index]
        have2 += counts2[index]
        total1 += int(totals1[index])
        total2 += int(totals2[index])
        best = float(scores[index])
    return sorted(chosen)


@lru_cache(maxsize=1)
def _scorer():  # type: ignore[no-untyped-def]
    import logging

    from rouge_score import rouge_scorer

    logging.getLogger("absl").setLevel(logging.WARNING)  # it logs "Using default tokenizer." at INFO
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def rouge_f1(prediction: Sequence[str], reference: Sequence[str]) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 of one summary, both given as lists of sentences."""
    scores = _scorer().score("\n".join(reference), "\n".join(prediction))
    return {name: float(scores[name].fmeasure) for name in ROUGE_TYPES}


def mean_rouge(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean ROUGE F1 over many summaries (each a list of sentences)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no summaries to score")
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, reference in zip(predictions, references):
        for name, value in rouge_f1(prediction, reference).items():
            totals[name] += value
    return {name: round(total / len(predictions), 4) for name, total in totals.items()}
