"""News lengths rank sentences by position, which the learned score only adjusts (``position.py``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from helpers.training import ARTICLES_CSV, composite_articles
from newsdesk.train.summarize.extractive import SUPERVISED, ExtractiveSummarizer, SummarizerConfig
from newsdesk.train.summarize.position import ADJUSTED, LEAD_PRIOR, adjusted_scores, log_position_prior
from newsdesk.train.summarize.presets import BRIEF, REFERENCE
from newsdesk.train.summarize.selection import select_sentences
from newsdesk.train.text.sentences import sentence_texts


@pytest.fixture(scope="module")
def composites() -> pd.DataFrame:
    return composite_articles(pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False))


@pytest.fixture(scope="module")
def supervised(composites: pd.DataFrame) -> ExtractiveSummarizer:
    train = composites[np.arange(len(composites)) % 4 != 0]
    return ExtractiveSummarizer().fit(list(train["text"]), list(train["title"]), list(train["summary"]))


def with_weight(model: ExtractiveSummarizer, weight: float) -> ExtractiveSummarizer:
    terms, arrays, meta = model.fitted_state()
    meta = {**meta, "config": {**meta["config"], "learned_weight": weight}}
    return ExtractiveSummarizer.from_fitted_state(terms, arrays, meta)


def test_the_prior_ranks_by_position_and_the_weight_adjusts_it() -> None:
    prior = log_position_prior(4)
    assert prior[0] == 0.0 and np.all(np.diff(prior) < 0)
    assert np.array_equal(adjusted_scores(np.array([0.0, 3.0, 0.0, 0.0]), 0.0), prior)
    # log(2) separates the first two sentences: a log-odds lead of 3 overtakes it at weight 1, not at 0.2.
    assert np.argmax(adjusted_scores(np.array([0.0, 3.0, 0.0, 0.0]), 1.0)) == 1
    assert np.argmax(adjusted_scores(np.array([0.0, 3.0, 0.0, 0.0]), 0.2)) == 0


@pytest.mark.parametrize("weight", [-0.1, float("inf"), float("nan")])
def test_learned_weight_must_be_finite_and_not_negative(weight: float) -> None:
    with pytest.raises(ValueError, match="learned_weight"):
        SummarizerConfig(learned_weight=weight)


def test_news_lengths_take_the_lead_and_reference_takes_the_learned_ranking(
    supervised: ExtractiveSummarizer, composites: pd.DataFrame
) -> None:
    test = composites[np.arange(len(composites)) % 4 == 0]
    hits = total = 0
    for text, title in zip(test["text"], test["title"]):
        news = supervised.summarize(text, title, num_sentences=3)
        assert news.method == LEAD_PRIOR
        assert [s.index for s in news.sentences] == [0, 1, 2]
        learned = supervised.summarize(text, title, length=REFERENCE)
        assert learned.method == SUPERVISED
        ledes = {sentence_texts(paragraph)[0] for paragraph in text.split("\n\n")}
        hits += len(ledes & {s.text for s in learned.sentences})
        total += len(ledes)
    assert hits / total >= 0.9


def test_a_learned_weight_moves_news_lengths_towards_the_learned_ranking(
    supervised: ExtractiveSummarizer, composites: pd.DataFrame
) -> None:
    test = composites[np.arange(len(composites)) % 4 == 0]
    adjusted = with_weight(supervised, 100.0)
    assert adjusted.config.learned_weight == 100.0  # saved with the bundle's config
    hits = total = 0
    for text, title in zip(test["text"], test["title"]):
        summary = adjusted.summarize(text, title, num_sentences=3)
        assert summary.method == ADJUSTED
        ledes = {sentence_texts(paragraph)[0] for paragraph in text.split("\n\n")}
        hits += len(ledes & {s.text for s in summary.sentences})
        total += len(ledes)
    assert hits / total >= 0.9


def test_a_bundle_saved_before_the_weight_existed_loads_with_the_prior(supervised: ExtractiveSummarizer) -> None:
    terms, arrays, meta = supervised.fitted_state()
    config = {k: v for k, v in meta["config"].items() if k != "learned_weight"}
    loaded = ExtractiveSummarizer.from_fitted_state(terms, arrays, {**meta, "config": config})
    assert loaded.config == dataclasses.replace(supervised.config, learned_weight=0.0)


def test_a_sentence_over_the_word_budget_ends_a_position_ranked_summary(supervised: ExtractiveSummarizer) -> None:
    long = " ".join(["The long sentence goes on"] * 8) + "."
    body = f"Rain fell on the town today. Roads were closed by noon. {long} Schools shut early."
    p = supervised.prepare(body)
    assert len(p.sentences) == 4
    scores = log_position_prior(4)
    assert select_sentences(p, scores, 3, 20, 0.7) == [0, 1, 3]  # passes over the long one for a filler
    assert select_sentences(p, scores, 3, 20, 0.7, stop_at_overflow=True) == [0, 1]
    assert select_sentences(p, -scores, 3, 20, 0.7, stop_at_overflow=True) == [3]  # the best fits, then stop
    summary = supervised.summarize_clean(body, length=BRIEF, max_words=None)
    assert summary.method == LEAD_PRIOR and [s.index for s in summary.sentences] == [0, 1, 2]
    capped = supervised.summarize_clean(body, max_sentences=3, max_words=20)
    assert [s.index for s in capped.sentences] == [0, 1]


def test_brief_comes_near_its_word_length_and_max_words_caps_it(supervised: ExtractiveSummarizer) -> None:
    def sentence(subject: str, words: int) -> str:  # words of its own, so no sentence is a near-duplicate
        return subject.title() + " " + " ".join(f"{subject}{i}" for i in range(words - 2)) + f" {subject}ed."

    lead = " ".join(sentence(s, 27) for s in ("mayor", "budget", "school", "bridge"))  # four 27-word sentences
    brief = supervised.summarize_clean(lead, length=BRIEF)
    assert len(brief.sentences) == 3  # 81 words, nearer 75 than two sentences' 54
    capped = supervised.summarize_clean(lead, max_sentences=3, max_words=75)
    assert len(capped.sentences) == 2  # an explicit max_words is a ceiling
    long = " ".join(sentence(s, 52) for s in ("mayor", "budget", "school"))
    assert len(supervised.summarize_clean(long, length=BRIEF).sentences) == 1  # 104 would be further from 75 than 52
