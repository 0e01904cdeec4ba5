"""The source guard: articles unlike the training articles get Lead's position prior, not the learned scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.training import ARTICLES_CSV, composite_articles
from newsdesk.train.summarize.extractive import SUPERVISED, ExtractiveSummarizer
from newsdesk.train.summarize.presets import REFERENCE
from newsdesk.train.summarize.shift import METHOD, MIN_ARTICLES, SourceProfile

RNG = np.random.default_rng(0)


def _articles(n: int, shift: float = 0.0) -> list[np.ndarray]:
    return [RNG.normal(shift, 1.0, size=(int(RNG.integers(5, 30)), 4)) for _ in range(n)]


def test_a_far_article_is_unfamiliar_and_a_typical_one_is_not() -> None:
    profile = SourceProfile.fit(_articles(300))
    assert profile is not None
    assert not profile.is_unfamiliar(RNG.normal(0.0, 1.0, size=(15, 4)))
    assert profile.is_unfamiliar(RNG.normal(4.0, 1.0, size=(15, 4)))
    # about 1% of training-like articles are flagged, by construction of the threshold
    flagged = np.mean([profile.is_unfamiliar(a) for a in _articles(400)])
    assert flagged < 0.05


def test_too_few_training_articles_give_no_guard() -> None:
    assert SourceProfile.fit(_articles(MIN_ARTICLES - 1)) is None


def test_arrays_round_trip_and_bad_shapes_are_refused() -> None:
    profile = SourceProfile.fit(_articles(150))
    assert profile is not None
    back = SourceProfile.from_arrays(profile.to_arrays(), 8)
    assert back is not None and back.threshold == profile.threshold
    assert np.array_equal(back.mean, profile.mean)
    assert SourceProfile.from_arrays({}, 8) is None  # saved before the guard
    with pytest.raises(ValueError, match="profile_mean"):
        SourceProfile.from_arrays({**profile.to_arrays(), "profile_mean": np.zeros(3)}, 8)


@pytest.fixture(scope="module")
def supervised() -> ExtractiveSummarizer:
    frame = composite_articles(pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False))
    return ExtractiveSummarizer().fit(list(frame["text"]), list(frame["title"]), list(frame["summary"]))


def test_an_unfamiliar_article_is_summarised_by_its_lead(supervised: ExtractiveSummarizer) -> None:
    text = "The council approved the new bridge on Monday. Campaigners had opposed it for years. Work starts in spring. The bridge will cost four million pounds. Shops nearby welcomed the decision."
    learned = supervised.summarize(text, length=REFERENCE)
    assert learned.method == SUPERVISED
    n_features = len(supervised.feature_names)
    supervised.profile_ = SourceProfile(
        np.zeros(2 * n_features), np.ones(2 * n_features), -1.0
    )  # every article is unfamiliar now
    try:
        summary = supervised.summarize(text, length=REFERENCE)
    finally:
        supervised.profile_ = None
    assert summary.method == METHOD
    assert [s.index for s in summary.sentences] == list(range(len(learned.sentences)))
    _terms, arrays, _meta = supervised.fitted_state()
    assert "profile_threshold" not in arrays
