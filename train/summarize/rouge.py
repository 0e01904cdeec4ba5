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


def greedy_oracle(sentences: Sequence[str], reference: str, max_sentences: int | None = None) -> list[int]:
    """Indices (in article order) of the sentences that greedily maximise ROUGE-1 + ROUGE-2 F1.

    The usual extractive oracle (Nallapati et al., 2017): add the sentence
    that most improves the score, stop when nothing improves it.
    """
    ref_tokens = rouge_tokens(reference)
    ref1, ref2 = _ngrams(ref_tokens, 1), _ngrams(ref_tokens, 2)
    n_ref1, n_ref2 = sum(ref1.values()), sum(ref2.values())
    sentence_tokens = [rouge_tokens(s) for s in sentences]
    sentence1 = [_ngrams(t, 1) for t in sentence_tokens]
    sentence2 = [_ngrams(t, 2) for t in sentence_tokens]
    chosen: list[int] = []
    have1: Counter[tuple[str, ...]] = Counter()
    have2: Counter[tuple[str, ...]] = Counter()
    best = 0.0
    limit = max_sentences or len(sentences)
    while len(chosen) < limit:
        best_index, best_score = -1, best
        for i in range(len(sentences)):
            if i in chosen:
                continue
            c1, c2 = have1 + sentence1[i], have2 + sentence2[i]
            score = _f1(sum((c1 & ref1).values()), sum(c1.values()), n_ref1) + _f1(
                sum((c2 & ref2).values()), sum(c2.values()), n_ref2
            )
            if score > best_score:
                best_index, best_score = i, score
        if best_index < 0:
            break
        chosen.append(best_index)
        have1 += sentence1[best_index]
        have2 += sentence2[best_index]
        best = best_score
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
