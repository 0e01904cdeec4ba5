"""ROUGE through rouge-score, and the greedy oracle's own n-gram counting."""

from __future__ import annotations

import pytest
from rouge_score import tokenizers

from newsdesk.train.summarize.rouge import greedy_oracle, mean_rouge, rouge_f1, rouge_tokens


@pytest.mark.parametrize(
    "text", ["Profits ROSE 3.5% to $10.9bn, the firm's chairman said.", "Running runners ran; connections connected!"]
)
def test_oracle_tokens_match_rouge_score(text: str) -> None:
    assert rouge_tokens(text) == tokenizers.DefaultTokenizer(use_stemmer=True).tokenize(text)


def test_identical_summaries_score_one_and_disjoint_zero() -> None:
    sentences = ["The bank raised rates.", "Shares fell."]
    assert rouge_f1(sentences, sentences) == {"rouge1": 1.0, "rouge2": 1.0, "rougeLsum": 1.0}
    assert rouge_f1(["Cats sleep all day."], sentences)["rouge1"] == 0.0


def test_stemming_is_on() -> None:
    assert rouge_f1(["Shares falling"], ["share falls"])["rouge1"] == 1.0


def test_mean_rouge_averages_and_checks_lengths() -> None:
    scores = mean_rouge([["a b c"], ["x y"]], [["a b c"], ["p q"]])
    assert scores["rouge1"] == 0.5
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        mean_rouge([["a"], ["b"]], [["a"]])
    with pytest.raises(ValueError, match="no summaries"):
        mean_rouge([], [])


def test_greedy_oracle_finds_the_copied_sentences_in_article_order() -> None:
    sentences = [
        "The central bank raised interest rates on Thursday.",
        "The weather was mild.",
        "Economists expect another rise in the spring.",
        "A football match was postponed.",
    ]
    reference = "Economists expect another rise in the spring.\nThe central bank raised interest rates on Thursday."
    assert greedy_oracle(sentences, reference) == [0, 2]
    assert greedy_oracle(sentences, reference, max_sentences=1) in ([0], [2])
    assert greedy_oracle(sentences, "Cats sleep all day.") == []
