"""PacSum, the summariser fitted without references: position-aware directed centrality."""

from __future__ import annotations

import numpy as np
import pytest

from newsdesk.train.summarize.extractive import PACSUM, ExtractiveSummarizer
from newsdesk.train.summarize.pacsum import PacSumConfig, pacsum_scores
from newsdesk.train.summarize.textrank import overlap_similarity, textrank_scores

# The lead says what happened; every later sentence develops one part of it, and the last one
# repeats it all (TextRank's favourite: it is the most similar to everything).
LEAD_ARTICLE = [
    "The city council approved the new river bridge on Monday after a two-year dispute with campaigners.",
    "The river crossing will take four years to build.",
    "Campaigners had argued the dispute was about the cost.",
    "The council said Monday's vote settled the matter.",
    "Local shops welcomed the plans.",
    "So the council approved the river bridge, ending the dispute with campaigners, on Monday.",
]


def _similarity(sentences: list[str]) -> np.ndarray:
    return overlap_similarity(sentences)


def test_pacsum_picks_the_lead_where_textrank_does_not() -> None:
    similarity = _similarity(LEAD_ARTICLE)
    assert int(np.argmax(pacsum_scores(similarity))) == 0
    assert int(np.argmax(textrank_scores(similarity))) != 0  # why plain TextRank was replaced


def test_edges_to_earlier_sentences_count_against() -> None:
    similarity = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 1.0]])
    scores = pacsum_scores(similarity, PacSumConfig(lambda_forward=1.0, lambda_backward=-2.0, beta=0.0))
    assert scores[0] > scores[2] > scores[1]


def test_no_shared_words_falls_back_to_article_order() -> None:
    assert list(np.argsort(-pacsum_scores(np.eye(4)))) == [0, 1, 2, 3]
    assert pacsum_scores(np.zeros((0, 0))).shape == (0,)


def test_beta_must_be_below_one() -> None:
    with pytest.raises(ValueError, match="beta"):
        PacSumConfig(beta=1.0)


def test_fitting_without_references_gives_pacsum_and_it_summarises_with_the_lead() -> None:
    bodies = [" ".join(LEAD_ARTICLE), "The bridge opens in May. Shops are pleased. The council agreed."]
    model = ExtractiveSummarizer().fit(bodies)
    assert model.kind == PACSUM
    summary = model.summarize(" ".join(LEAD_ARTICLE), num_sentences=1)
    assert summary.method == PACSUM
    assert [s.index for s in summary.sentences] == [0]
