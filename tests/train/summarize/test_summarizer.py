"""The extractive summariser: labelling, learning, length options, selection, state round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.training import composite_articles
from newsdesk.train.summarize.base import SummaryError
from newsdesk.train.summarize.extractive import PACSUM, SUPERVISED, TEXTRANK, ExtractiveSummarizer, SummarizerConfig
from newsdesk.train.summarize.features import FEATURES
from newsdesk.train.summarize.length import LengthModel
from newsdesk.train.summarize.presets import REFERENCE
from newsdesk.train.summarize.textrank import textrank_scores
from newsdesk.train.text.sentences import sentence_texts, split_sentences


@pytest.fixture(scope="module")
def composites(articles: pd.DataFrame) -> pd.DataFrame:
    return composite_articles(articles)


@pytest.fixture(scope="module")
def split(composites: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on composites from three of each topic's articles' combinations, test on the rest."""
    test_mask = np.arange(len(composites)) % 4 == 0
    return composites[~test_mask], composites[test_mask]


@pytest.fixture(scope="module")
def supervised(split: tuple[pd.DataFrame, pd.DataFrame]) -> ExtractiveSummarizer:
    train, _ = split
    return ExtractiveSummarizer().fit(list(train["text"]), list(train["title"]), list(train["summary"]))


@pytest.fixture(scope="module")
def textrank(composites: pd.DataFrame) -> ExtractiveSummarizer:
    return ExtractiveSummarizer().fit(list(composites["text"]), list(composites["title"]))


# ---------------------------------------------------------------------------- labelling and fitting


def test_labels_are_the_reference_sentences_found_verbatim(supervised: ExtractiveSummarizer) -> None:
    text = "The bank raised rates. Shares fell sharply. The pound rose.\n\nExporters were worried."
    reference = "Exporters were worried.The bank raised rates."  # glued and out of order
    labels, used_oracle = supervised.label_sentences(split_sentences(text), reference)
    assert labels.tolist() == [1, 0, 0, 1]
    assert not used_oracle


def test_labels_fall_back_to_the_rouge_oracle_for_abstractive_references(supervised: ExtractiveSummarizer) -> None:
    text = (
        "The central bank raised interest rates by a quarter point. Shares in house builders fell. "
        "The weather in the capital was mild. Economists expect another rise in the spring."
    )
    reference = "Interest rates were raised by the central bank, and economists expect another rise."
    labels, used_oracle = supervised.label_sentences(split_sentences(text), reference)
    assert used_oracle
    assert labels[0] == 1 and labels[3] == 1 and labels[2] == 0


def test_supervised_fit_learns_to_pick_the_ledes(
    supervised: ExtractiveSummarizer, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    assert supervised.kind == SUPERVISED
    assert supervised.training_["oracle_labelled_articles"] == 0
    assert supervised.training_["positive_share"] == pytest.approx(1 / 3, abs=0.01)
    # Three paragraphs, three ledes: the learned length is a third of the sentences.
    assert supervised.length.ratio == pytest.approx(1 / 3, abs=0.01)
    _, test = split
    hits = total = 0
    for text, title in zip(test["text"], test["title"]):
        summary = supervised.summarize(text, title, length=REFERENCE)  # the learned scorer's own ranking
        ledes = {sentence_texts(paragraph)[0] for paragraph in text.split("\n\n")}
        hits += len(ledes & {s.text for s in summary.sentences})
        total += len(ledes)
    assert hits / total >= 0.9


def test_length_model_learns_share_and_bounds() -> None:
    model = LengthModel.fit([10, 20, 30, 40], [4, 8, 12, 16])
    assert model.ratio == pytest.approx(0.4)
    assert model.min_sentences == 4 and model.max_sentences == 16
    assert model.sentences_for(25) == 10
    assert model.sentences_for(5) == 4  # lower bound
    assert model.sentences_for(3) == 3  # never more than the article has
    assert model.sentences_for(100) == 16  # upper bound
    with pytest.raises(ValueError, match="no article"):
        LengthModel.fit([0, 5], [3, 0])


def test_fit_needs_two_articles_and_learnable_references() -> None:
    with pytest.raises(ValueError, match="at least 2 non-empty articles"):
        ExtractiveSummarizer().fit(["One article. Only one."], [""])
    texts = ["Rates rose. Shares fell.", "The team won. Fans cheered."]
    with pytest.raises(ValueError, match="nothing to learn"):
        ExtractiveSummarizer().fit(texts, ["", ""], texts)  # every sentence is in the summary
    with pytest.raises(ValueError, match="bodies but"):
        ExtractiveSummarizer().fit(texts, [""], None)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="redundancy"):
        SummarizerConfig(redundancy=0)
    with pytest.raises(ValueError, match="C must be positive"):
        SummarizerConfig(C=0)


# ---------------------------------------------------------------------------- prediction

ARTICLE = (
    "United moved to the top of the league after a late goal settled the derby on Sunday.\n\n"
    "The striker scored in the ninetieth minute. The goalkeeper had saved two penalties before that. "
    "Fans stayed long after the final whistle.\n\n"
    "The manager praised his players for their fitness. He said the title race was far from over. "
    "City play away at Chelsea next week. Tickets for that match have sold out."
)


def test_summary_sentences_come_from_the_text_in_article_order(supervised: ExtractiveSummarizer) -> None:
    summary = supervised.summarize(ARTICLE, "United go top", length=REFERENCE)
    indices = [s.index for s in summary.sentences]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert summary.n_sentences == 8
    for sentence in summary.sentences:
        assert summary.cleaned_text[sentence.start : sentence.end] == sentence.text
    assert summary.text == " ".join(s.text for s in summary.sentences)
    assert summary.method == SUPERVISED


def test_learned_length_applies_by_default(supervised: ExtractiveSummarizer) -> None:
    summary = supervised.summarize(ARTICLE)
    assert len(summary.sentences) == supervised.length.sentences_for(8)


@pytest.mark.parametrize("max_sentences", [1, 2])
def test_max_sentences_caps_the_length(supervised: ExtractiveSummarizer, max_sentences: int) -> None:
    assert len(supervised.summarize(ARTICLE, max_sentences=max_sentences).sentences) == max_sentences


def test_ratio_replaces_the_learned_length(supervised: ExtractiveSummarizer) -> None:
    assert len(supervised.summarize(ARTICLE, ratio=0.5).sentences) == 4
    assert len(supervised.summarize(ARTICLE, ratio=1.0).sentences) == 8
    assert len(supervised.summarize(ARTICLE, ratio=0.01).sentences) == 1


def test_num_sentences_is_exact(supervised: ExtractiveSummarizer) -> None:
    assert len(supervised.summarize(ARTICLE, num_sentences=5).sentences) == 5
    assert len(supervised.summarize(ARTICLE, num_sentences=50).sentences) == 8


@pytest.mark.parametrize("max_words", [8, 15, 30, 60])
def test_max_words_is_a_budget(supervised: ExtractiveSummarizer, max_words: int) -> None:
    summary = supervised.summarize(ARTICLE, ratio=1.0, max_words=max_words)
    words = sum(len(s.text.split()) for s in summary.sentences)
    assert words <= max_words
    assert summary.sentences


def test_max_words_below_every_sentence_still_returns_the_best_one(supervised: ExtractiveSummarizer) -> None:
    summary = supervised.summarize(ARTICLE, max_words=2)
    assert len(summary.sentences) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_sentences": 0}, "max_sentences"),
        ({"max_words": 0}, "max_words"),
        ({"ratio": 0.0}, "ratio"),
        ({"ratio": 1.5}, "ratio"),
        ({"num_sentences": 0}, "num_sentences"),
    ],
)
def test_bad_length_options_are_errors(supervised: ExtractiveSummarizer, options: dict, message: str) -> None:
    with pytest.raises(SummaryError, match=message):
        supervised.summarize(ARTICLE, **options)


@pytest.mark.parametrize("text", ["One sentence only.", "First sentence here. Second one here."])
def test_one_or_two_sentences_return_themselves(supervised: ExtractiveSummarizer, text: str) -> None:
    summary = supervised.summarize(text)
    assert summary.text == text
    assert summary.method == "whole-text"


def test_one_sentence_is_returned_whole_whatever_the_word_budget(supervised: ExtractiveSummarizer) -> None:
    summary = supervised.summarize("One sentence only, and rather longer than the budget.", max_words=2)
    assert summary.method == "whole-text" and len(summary.sentences) == 1


@pytest.mark.parametrize("options", [{"max_sentences": 1}, {"num_sentences": 1}, {"max_words": 8}])
@pytest.mark.parametrize("kind", ["supervised", "textrank"])
def test_two_sentences_respect_the_length_options(kind: str, options: dict, request: pytest.FixtureRequest) -> None:
    """Found by the property tests: a two-sentence text came back whole even with max_sentences=1 or max_words."""
    model: ExtractiveSummarizer = request.getfixturevalue(kind)
    text = "The central bank raised interest rates on Thursday. Shares in house builders fell sharply after it."
    summary = model.summarize(text, **options)
    assert len(summary.sentences) == 1
    assert summary.sentences[0].text in text


@pytest.mark.parametrize("text", ["", "   \n\n  ", "\u200b\u200b"])
def test_empty_text_is_an_error(supervised: ExtractiveSummarizer, text: str) -> None:
    with pytest.raises(SummaryError, match="empty"):
        supervised.summarize(text)


def test_near_duplicate_sentences_are_not_both_chosen(supervised: ExtractiveSummarizer) -> None:
    repeated = "United moved to the top of the league after a late goal settled the derby on Sunday."
    text = ARTICLE.replace("Fans stayed long after the final whistle.", repeated)
    summary = supervised.summarize(text, ratio=1.0)
    assert [s.text for s in summary.sentences].count(repeated) == 1
    assert len(summary.sentences) == 7


def test_cosines_are_the_similarity_entries_and_vectorise_only_their_sentences(
    supervised: ExtractiveSummarizer,
) -> None:
    lazy, full = supervised.prepare(ARTICLE), supervised.prepare(ARTICLE)
    rows, columns = [3, 0], [1, 2, 0]
    assert np.allclose(lazy.cosines(rows, columns), full.similarity[np.ix_(rows, columns)], atol=1e-6)
    assert "vectors" not in vars(lazy)  # only sentences 0 to 3 were vectorised
    assert np.allclose(full.cosines(rows, columns), full.similarity[np.ix_(rows, columns)])


def test_a_position_ranked_summary_vectorises_only_what_it_compares(supervised: ExtractiveSummarizer) -> None:
    prepared = supervised.prepare(ARTICLE)
    by_position = supervised.summarize_clean(ARTICLE, length="brief", prepared=prepared)
    assert by_position.method != "supervised" and len(by_position.sentences) >= 2  # compared for redundancy
    assert "vectors" not in vars(prepared)
    assert by_position == supervised.summarize_clean(ARTICLE, length="brief")


def test_unfitted_summariser_says_so() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        ExtractiveSummarizer().summarize(ARTICLE)


# ---------------------------------------------------------------------------- TextRank


def test_without_references_the_summariser_is_pacsum(textrank: ExtractiveSummarizer) -> None:
    assert textrank.kind == PACSUM
    assert textrank.as_textrank().kind == TEXTRANK


def test_the_textrank_baseline_picks_central_sentences(textrank: ExtractiveSummarizer) -> None:
    textrank = textrank.as_textrank()
    text = (
        "The weather was cold. United scored a late goal against City in the league. "
        "The striker scored the goal after the goalkeeper slipped. Tickets sold out. "
        "City said the league match was hard and United deserved the late goal."
    )
    summary = textrank.summarize(text, num_sentences=2)
    assert summary.method == TEXTRANK
    # Central sentences, not the off-topic weather and tickets ones.
    indices = [s.index for s in summary.sentences]
    assert indices == sorted(indices) and not {0, 3} & set(indices)


def test_textrank_falls_back_to_lead_when_sentences_share_no_words(textrank: ExtractiveSummarizer) -> None:
    text = "Rain fell overnight. Markets opened calmly. Voters queued early. Engineers fixed servers."
    summary = textrank.summarize(text, ratio=0.5)
    assert summary.method == "lead"
    assert [s.index for s in summary.sentences] == [0, 1]


def test_textrank_scores_favour_the_central_sentence() -> None:
    similarity = np.array([[1.0, 0.5, 0.5, 0.0], [0.5, 1.0, 0.0, 0.0], [0.5, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    scores = textrank_scores(similarity)
    assert scores.sum() == pytest.approx(1.0)
    assert scores.argmax() == 0 and scores.argmin() == 3
    assert textrank_scores(np.eye(3)) == pytest.approx(np.full(3, 1 / 3))


# ---------------------------------------------------------------------------- state


@pytest.mark.parametrize("which", ["supervised", "textrank"])
def test_fitted_state_round_trip_gives_the_same_summaries(which: str, request: pytest.FixtureRequest) -> None:
    model: ExtractiveSummarizer = request.getfixturevalue(which)
    terms, arrays, meta = model.fitted_state()
    rebuilt = ExtractiveSummarizer.from_fitted_state(terms, arrays, meta)
    for options in ({}, {"max_sentences": 2}, {"ratio": 0.5}, {"max_words": 20}):
        assert rebuilt.summarize(ARTICLE, "United go top", **options) == model.summarize(
            ARTICLE, "United go top", **options
        )


def test_state_with_other_features_or_shapes_is_refused(supervised: ExtractiveSummarizer) -> None:
    terms, arrays, meta = supervised.fitted_state()
    with pytest.raises(ValueError, match="retrain"):
        ExtractiveSummarizer.from_fitted_state(terms, arrays, {**meta, "features": list(FEATURES[:-1])})
    with pytest.raises(ValueError, match="coef"):
        ExtractiveSummarizer.from_fitted_state(terms, {**arrays, "coef": arrays["coef"][:-1]}, meta)
    with pytest.raises(ValueError, match="idf"):
        ExtractiveSummarizer.from_fitted_state(terms[:-1], arrays, meta)
    with pytest.raises(ValueError, match="unknown summariser kind"):
        ExtractiveSummarizer.from_fitted_state(terms, arrays, {**meta, "kind": "magic"})
