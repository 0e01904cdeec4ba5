"""The fast evaluation path gives exactly the numbers of the slow one: RougeJudge vs rouge-score, the oracle."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pandas as pd
import pytest

from helpers.training import ARTICLES_CSV
from newsdesk.train.summarize.rouge import _f1, _ngrams, greedy_oracle, rouge_f1, rouge_tokens
from newsdesk.train.summarize.rouge_judge import RougeJudge, lcs_indices, mean_scores
from newsdesk.train.text.sentences import sentence_texts


def article_sentences() -> list[list[str]]:
    texts = pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)["text"]
    return [sentence_texts(text) for text in texts]


def recounted_oracle(sentences: Sequence[str], reference: str, max_sentences: int | None = None) -> list[int]:
    """The oracle as first written: recount the whole union for every candidate (the specification)."""
    ref_tokens = rouge_tokens(reference)
    ref1, ref2 = _ngrams(ref_tokens, 1), _ngrams(ref_tokens, 2)
    n1, n2 = sum(ref1.values()), sum(ref2.values())
    grams1 = [_ngrams(rouge_tokens(s), 1) for s in sentences]
    grams2 = [_ngrams(rouge_tokens(s), 2) for s in sentences]
    chosen: list[int] = []
    have1: Counter = Counter()
    have2: Counter = Counter()
    best = 0.0
    while len(chosen) < (max_sentences or len(sentences)):
        best_index, best_score = -1, best
        for i in range(len(sentences)):
            if i in chosen:
                continue
            c1, c2 = have1 + grams1[i], have2 + grams2[i]
            score = _f1(sum((c1 & ref1).values()), sum(c1.values()), n1) + _f1(
                sum((c2 & ref2).values()), sum(c2.values()), n2
            )
            if score > best_score:
                best_index, best_score = i, score
        if best_index < 0:
            break
        chosen.append(best_index)
        have1 += grams1[best_index]
        have2 += grams2[best_index]
        best = best_score
    return sorted(chosen)


def summaries_of(sentences: list[str], rng: random.Random) -> list[list[str]]:
    """Summaries as evaluation makes them, plus awkward ones."""
    k = rng.randint(1, len(sentences))
    picked = sorted(rng.sample(range(len(sentences)), k))
    return [
        sentences[:3],
        sentences[:k],
        [sentences[i] for i in picked],
        [sentences[-1], sentences[0]],
        [s.replace("the", "a") for s in sentences[:2]],
        ["Nothing in common here at all."],
        ["", "!!!"],
        [sentences[0] + "\n" + sentences[-1]],
        [],
    ]


def test_the_judge_gives_exactly_what_rouge_score_gives() -> None:
    rng = random.Random(7)
    checked = 0
    for sentences in article_sentences():
        if len(sentences) < 2:
            continue
        references = [
            sentences[:2],
            [sentences[-1], sentences[0]],
            [s.upper() for s in sentences[1:3]],
            [sentences[0], "A sentence the article never had.", sentences[0]],
            ["?"],
        ]
        for reference in references:
            judge = RougeJudge(reference)
            for summary in summaries_of(sentences, rng):
                assert judge.score(summary) == rouge_f1(summary, reference), (summary, reference)
                checked += 1
    assert checked > 500


@pytest.mark.parametrize(
    ("ref", "can"),
    [("a b c d", "a c b d"), ("a a b b", "b a b a"), ("x y", "p q"), ("a b a b a", "b a b"), ("", "a"), ("a", "")],
)
def test_lcs_indices_break_ties_as_rouge_score_does(ref: str, can: str) -> None:
    from rouge_score.rouge_scorer import lcs_ind

    assert lcs_indices(ref.split(), can.split()) == lcs_ind(ref.split(), can.split())


def test_the_vectorised_oracle_picks_what_recounting_picks() -> None:
    rng = random.Random(3)
    for sentences in article_sentences():
        reference = "\n".join(rng.sample(sentences, min(3, len(sentences))) + ["The minister said rates would rise."])
        assert greedy_oracle(sentences, reference) == recounted_oracle(sentences, reference)
        assert greedy_oracle(sentences, reference, max_sentences=2) == recounted_oracle(
            sentences, reference, max_sentences=2
        )
    assert greedy_oracle(["Same words.", "Same words."], "Same words.") == [0]  # ties go to the earliest
    assert greedy_oracle([], "anything") == []


def test_mean_scores_rounds_like_mean_rouge() -> None:
    assert mean_scores(
        [{"rouge1": 1.0, "rouge2": 0.5, "rougeLsum": 0.0}] * 2 + [{"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 1.0}]
    ) == {
        "rouge1": 0.6667,
        "rouge2": 0.3333,
        "rougeLsum": 0.3333,
    }
    with pytest.raises(ValueError, match="no summaries"):
        mean_scores([])
