"""TopicClassifier: shapes, calibration, determinism, multi-label, validation, behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from newsdesk.train.classify.calibration import best_f1_threshold, platt_scale
from newsdesk.train.classify.decisions import sigmoid
from newsdesk.train.classify.tfidf import TopicClassifier
from newsdesk.train.text.cleaning import prepare_article


@pytest.fixture(scope="module")
def texts_labels(articles: pd.DataFrame) -> tuple[list[str], list[str]]:
    texts = [prepare_article(t, title) for t, title in zip(articles.text, articles.title)]
    return texts, list(articles.category)


@pytest.fixture(scope="module")
def fitted(texts_labels) -> TopicClassifier:
    texts, labels = texts_labels
    return TopicClassifier(calibration_folds=3).fit(texts, labels)


def test_single_label_shapes_and_probabilities(fitted: TopicClassifier, texts_labels) -> None:
    texts, labels = texts_labels
    probs = fitted.predict_proba(texts)
    assert probs.shape == (len(texts), 4)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert ((probs >= 0) & (probs <= 1)).all()
    predicted = fitted.predict(texts)
    assert all(len(p) == 1 for p in predicted)
    assert list(fitted.classes_) == sorted(set(labels))
    # Training articles are recovered; the most probable label is the predicted one.
    assert np.mean([p[0] == y for p, y in zip(predicted, labels)]) == 1.0
    assert [p[0] for p in predicted] == [fitted.classes_[i] for i in probs.argmax(axis=1)]


def test_empty_input_gives_empty_output(fitted: TopicClassifier) -> None:
    assert fitted.predict_proba([]).shape == (0, 4)
    assert fitted.predict([]) == []


def test_top_k_is_sorted_and_bounded(fitted: TopicClassifier) -> None:
    ranked = fitted.top_k(["The striker scored twice as the team won the league match."], k=10)[0]
    assert len(ranked) == 4
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert ranked[0][0] == "sport"


def test_deterministic_with_seed(texts_labels) -> None:
    texts, labels = texts_labels
    a = TopicClassifier(calibration_folds=3, seed=7).fit(texts, labels).predict_proba(texts)
    b = TopicClassifier(calibration_folds=3, seed=7).fit(texts, labels).predict_proba(texts)
    assert np.array_equal(a, b)


def test_multi_label_fits_thresholds_and_predicts_sets(texts_labels) -> None:
    texts, labels = texts_labels
    # Give the economy-flavoured politics stories a second label.
    multi = [(y, "economy") if y == "business" or "budget" in t or "tax" in t else (y,) for t, y in zip(texts, labels)]
    model = TopicClassifier(calibration_folds=3).fit(texts, multi)
    assert model.multi_label_
    assert model.thresholds_.shape == (5,)
    assert ((model.thresholds_ >= 0.2) & (model.thresholds_ <= 0.8)).all()
    probs = model.predict_proba(texts)
    assert probs.shape == (len(texts), 5)
    predicted = model.predict(texts)
    assert all(len(p) >= 1 for p in predicted)  # at least one label per article
    hits = sum(set(p) == set(m) for p, m in zip(predicted, multi))
    assert hits >= len(texts) * 0.8


def test_validation_errors(texts_labels) -> None:
    texts, labels = texts_labels
    with pytest.raises(ValueError, match="must match"):
        TopicClassifier().fit(texts, labels[:-1])
    with pytest.raises(ValueError, match="two distinct labels"):
        TopicClassifier().fit(texts, ["sport"] * len(texts))
    with pytest.raises(ValueError, match="C > 0"):
        TopicClassifier(C=0).fit(texts, labels)
    with pytest.raises(ValueError, match="exactly one label"):
        TopicClassifier(multi_label=False).fit(texts[:2], [("sport", "tech"), ("business",)])
    with pytest.raises(NotFittedError):
        TopicClassifier().predict(["text"])


def test_fitted_state_round_trip(fitted: TopicClassifier, texts_labels) -> None:
    texts, _ = texts_labels
    terms, arrays, meta = fitted.fitted_state()
    rebuilt = TopicClassifier.from_fitted_state(terms, arrays, meta)
    assert np.allclose(rebuilt.predict_proba(texts), fitted.predict_proba(texts))
    broken = dict(arrays, coef=arrays["coef"][:, :-1])
    with pytest.raises(ValueError, match="coef"):
        TopicClassifier.from_fitted_state(terms, broken, meta)


def test_platt_scaling_recovers_a_sigmoid() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=4000)
    targets = (rng.random(4000) < sigmoid(2.0 * scores - 0.5)).astype(float)
    a, b = platt_scale(scores, targets)
    assert a == pytest.approx(2.0, abs=0.25)
    assert b == pytest.approx(-0.5, abs=0.15)


def test_best_f1_threshold_separates_classes() -> None:
    probs = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    targets = np.array([1, 1, 1, 0, 0, 0])
    threshold = best_f1_threshold(probs, targets)
    assert 0.3 < threshold < 0.7
    assert best_f1_threshold(probs, np.zeros(6)) == 0.5


# ---------------------------------------------------------------- behavioural (Made-With-ML style)


def test_invariance_to_menu_bar(fitted: TopicClassifier, articles: pd.DataFrame) -> None:
    """The same article with site navigation glued on keeps its topic."""
    menu = "Home | News | Sport | Business | Technology | Politics | Weather"
    for text, title, label in zip(articles.text, articles.title, articles.category):
        assert fitted.predict([prepare_article(f"{menu}\n{text}", title)])[0][0] == label


def test_direction_sports_words_move_towards_sport(fitted: TopicClassifier) -> None:
    base = "The company said its results would be published next week."
    sporty = base + " The striker scored a late goal and the team won the league match."
    sport = list(fitted.classes_).index("sport")
    assert fitted.predict_proba([sporty])[0, sport] > fitted.predict_proba([base])[0, sport]


@pytest.mark.parametrize(
    "headline, topic",
    [
        ("Striker scores twice as team wins league match", "sport"),
        ("Bank raises interest rates as inflation and share prices rise", "business"),
        ("Hackers target users of broadband internet software", "tech"),
        ("MPs vote on government bill ahead of general election", "politics"),
    ],
)
def test_minimum_functionality_obvious_headlines(fitted: TopicClassifier, headline: str, topic: str) -> None:
    assert fitted.predict([headline])[0][0] == topic


def test_fits_on_the_smallest_possible_data() -> None:
    """Two articles, one per label: folds fall back to plain K-fold instead of failing."""
    model = TopicClassifier().fit(["The striker scored a goal", "Shares fell on the market"], ["sport", "business"])
    assert model.predict_proba(["goal"]).shape == (1, 2)


def test_multi_label_accepts_articles_without_any_label(texts_labels) -> None:
    texts, labels = texts_labels
    sets = [() if i % 6 == 0 else (y,) for i, y in enumerate(labels)]
    model = TopicClassifier(calibration_folds=3, multi_label=True, at_least_one_label=False).fit(texts, sets)
    assert model.predict_proba(texts).shape == (len(texts), 4)


def test_uniform_prior_decides_from_words_alone(fitted: TopicClassifier, texts_labels) -> None:
    # The default: no per-label intercepts and one shared sigmoid, so the ranking is the words' scores.
    texts, _ = texts_labels
    assert fitted.prior == "uniform"
    assert not fitted.intercept_.any()
    assert (fitted.platt_ == fitted.platt_[0]).all()
    raw = np.asarray(fitted.vectorizer_.transform(texts) @ fitted.coef_.T)
    assert (fitted.predict_proba(texts).argmax(axis=1) == raw.argmax(axis=1)).all()
    # A text with no known term favours no topic.
    assert np.allclose(fitted.predict_proba(["zzqx wvlk"]), 1 / len(fitted.classes_))


def test_training_prior_keeps_the_intercepts(texts_labels) -> None:
    texts, labels = texts_labels
    model = TopicClassifier(calibration_folds=3, prior="training").fit(texts, labels)
    assert model.intercept_.any()
    assert not np.allclose(model.predict_proba(["zzqx wvlk"]), 1 / len(model.classes_))
    # Multi-label models always keep theirs: the per-label thresholds are tuned with them.
    multi = TopicClassifier(calibration_folds=3).fit(texts, [(label,) for label in labels[:-1]] + [()])
    assert multi.multi_label_ and multi.intercept_.any()
    with pytest.raises(ValueError, match="prior must be one of"):
        TopicClassifier(prior="balanced").fit(texts, labels)


def test_uniform_prior_is_still_calibrated_and_accurate(texts_labels) -> None:
    # Out-of-fold calibration without the intercepts: held-out confidence tracks held-out accuracy.
    texts, labels = texts_labels
    train, test = list(range(0, len(texts), 2)), list(range(1, len(texts), 2))
    model = TopicClassifier(calibration_folds=3).fit([texts[i] for i in train], [labels[i] for i in train])
    probs = model.predict_proba([texts[i] for i in test])
    accuracy = np.mean(model.classes_[probs.argmax(axis=1)] == np.array([labels[i] for i in test]))
    assert accuracy >= 0.75
    assert abs(probs.max(axis=1).mean() - accuracy) < 0.35


def test_bundles_saved_before_the_prior_option_keep_their_intercepts(fitted: TopicClassifier, texts_labels) -> None:
    texts, labels = texts_labels
    old = TopicClassifier(calibration_folds=3, prior="training").fit(texts, labels)
    terms, arrays, meta = old.fitted_state()
    params = {k: v for k, v in meta["params"].items() if k != "prior"}
    rebuilt = TopicClassifier.from_fitted_state(terms, arrays, {**meta, "params": params})
    assert rebuilt.intercept_.any()
    assert np.allclose(rebuilt.predict_proba(texts), old.predict_proba(texts))
    terms, arrays, meta = fitted.fitted_state()
    assert TopicClassifier.from_fitted_state(terms, arrays, meta).training_params()["prior"] == "uniform"
