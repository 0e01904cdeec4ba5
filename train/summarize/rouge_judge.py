"""ROUGE-1/2/Lsum F1 exactly as ``rouge-score`` computes them, quick when one article has many summaries.

``newsdesk evaluate`` scores five systems (ours, Lead-3, Lead-k, TextRank, the oracle) against the
same reference, and every system picks sentences of the same article. ``rouge-score`` tokenises
and stems every text again for each call (its Porter stemmer has no cache) and builds each
ROUGE-Lsum LCS table in pure Python, which made evaluation take minutes. :class:`RougeJudge`
computes the very same numbers (the same tokeniser, stemmer, counts, LCS tie-breaking and float
operations, checked against ``rouge-score`` in ``tests/train/summarize/test_rouge_judge.py``) but
tokenises each distinct sentence once and computes each (reference sentence, summary sentence)
union-LCS once per article, with two exact shortcuts:

* a summary sentence whose tokens equal a reference sentence's makes that reference sentence's
  union-LCS every index (``rouge-score``'s backtrack walks the diagonal), whatever else is chosen;
* a pair of sentences with no token in common has an empty LCS.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from newsdesk.train.summarize.rouge import ROUGE_TYPES

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")
_VALID = re.compile(r"^[a-z0-9]+$")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from nltk.stem import porter

    return porter.PorterStemmer()  # rouge-score's (NLTK extensions mode), not the oracle's original algorithm


@lru_cache(maxsize=500_000)
def _stem(token: str) -> str:
    return _stemmer().stem(token)


@lru_cache(maxsize=100_000)
def score_tokens(text: str) -> tuple[str, ...]:
    """``rouge_score.tokenize.tokenize(text, PorterStemmer())``, with stems cached."""
    tokens = _SPACES.split(_NON_ALNUM.sub(" ", text.lower()))
    stemmed = (_stem(t) if len(t) > 3 else t for t in tokens)
    return tuple(t for t in stemmed if _VALID.match(t))


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _fmeasure(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _ngram_f1(target: Counter[tuple[str, ...]], prediction: Counter[tuple[str, ...]]) -> float:
    overlap = 0
    for gram in target:
        overlap += min(target[gram], prediction[gram])
    precision = overlap / max(sum(prediction.values()), 1)
    recall = overlap / max(sum(target.values()), 1)
    return _fmeasure(precision, recall)


def lcs_indices(ref: Sequence[str], can: Sequence[str]) -> list[int]:
    """Indices into ``ref`` of the LCS that ``rouge_score.rouge_scorer.lcs_ind`` returns (same tie-breaking)."""
    cols = len(can)
    table = [[0] * (cols + 1)]
    present = set(can)
    for token in ref:
        above = table[-1]
        if token not in present:  # no match in this row: it equals the row above
            table.append(above)
            continue
        row = [0] * (cols + 1)
        left = 0
        for j in range(cols):
            if token == can[j]:
                left = above[j] + 1
            elif above[j + 1] > left:
                left = above[j + 1]
            row[j + 1] = left
        table.append(row)
    i, j = len(ref), cols
    found: list[int] = []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            found.append(i - 1)
            i -= 1
            j -= 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    found.reverse()
    return found


def _lines(sentences: Sequence[str]) -> list[str]:
    """What rouge-score's ROUGE-Lsum sees: the sentences joined by newlines, split on them, blanks dropped."""
    return [line for line in "\n".join(sentences).split("\n") if line]


class RougeJudge:
    """Scores any number of summaries against one reference (both lists of sentences), sharing the work."""

    def __init__(self, reference: Sequence[str]) -> None:
        self._ref_lines = [score_tokens(line) for line in _lines(reference)]
        tokens = score_tokens("\n".join(reference))
        self._ref1, self._ref2 = _ngrams(tokens, 1), _ngrams(tokens, 2)
        self._ref_counts: Counter[str] = Counter()
        for line in self._ref_lines:
            self._ref_counts.update(line)
        self._ref_sets = [set(line) for line in self._ref_lines]
        self._union: dict[tuple[int, tuple[str, ...]], list[int]] = {}

    def _pair(self, r: int, can: tuple[str, ...]) -> list[int]:
        key = (r, can)
        found = self._union.get(key)
        if found is None:
            ref = self._ref_lines[r]
            found = lcs_indices(ref, can) if self._ref_sets[r].intersection(can) else []
            self._union[key] = found
        return found

    def _lsum_f1(self, lines: list[tuple[str, ...]]) -> float:
        m = sum(map(len, self._ref_lines))
        n = sum(map(len, lines))
        if not self._ref_lines or not lines or not m or not n:
            return 0.0
        ref_counts = self._ref_counts.copy()
        can_counts: Counter[str] = Counter()
        for line in lines:
            can_counts.update(line)
        distinct = set(lines)
        hits = 0
        for r, ref in enumerate(self._ref_lines):
            if ref in distinct:
                union = range(len(ref))
            else:
                chosen: set[int] = set()
                for can in lines:
                    chosen.update(self._pair(r, can))
                union = sorted(chosen)  # type: ignore[assignment]
            for i in union:
                token = ref[i]
                if can_counts[token] > 0 and ref_counts[token] > 0:
                    hits += 1
                    can_counts[token] -= 1
                    ref_counts[token] -= 1
        return _fmeasure(hits / n, hits / m)

    def score(self, prediction: Sequence[str]) -> dict[str, float]:
        """ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 of one summary (a list of sentences), as ``rouge_f1`` gives them."""
        tokens = score_tokens("\n".join(prediction))
        return {
            "rouge1": _ngram_f1(self._ref1, _ngrams(tokens, 1)),
            "rouge2": _ngram_f1(self._ref2, _ngrams(tokens, 2)),
            "rougeLsum": self._lsum_f1([score_tokens(line) for line in _lines(prediction)]),
        }


def mean_scores(per_summary: Sequence[dict[str, float]]) -> dict[str, float]:
    """The mean of many summaries' scores, summed in order and rounded as ``rouge.mean_rouge`` does."""
    if not per_summary:
        raise ValueError("no summaries to score")
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for scores in per_summary:
        for name in ROUGE_TYPES:
            totals[name] += scores[name]
    return {name: round(total / len(per_summary), 4) for name, total in totals.items()}
