"""The "needs review" rule: thresholds learned for a coverage, out-of-scope and low-confidence decisions, bundles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers.training import ARTICLES_CSV, train_tiny
from newsdesk.train.bundle import load_bundle
from newsdesk.train.classify.review import (
    LOW_CONFIDENCE,
    OUT_OF_SCOPE,
    REVIEW_ARRAYS,
    REVIEW_JSON,
    ReviewConfig,
    decide,
    fit_review_rule,
    learn_review,
    review_articles,
    risk_coverage,
    short_views,
)
from newsdesk.train.classify.tfidf import TopicClassifier
from newsdesk.train.data import ColumnMap, load_dataset
from newsdesk.train.versions import BundleError

RECIPE = (
    "Whisk the eggs with the caster sugar until pale, then fold in the flour and melted butter. "
    "Pour the batter into a greased tin and bake for twenty-five minutes until a skewer comes out clean."
)
SPORT = (
    "The striker scored twice in the second half as the champions beat their rivals 3-1 in the league. "
    "The manager praised the team after the win, and the club now top the table."
)


@pytest.fixture(scope="module")
def fitted() -> tuple[TopicClassifier, list[str], list[str]]:
    dataset = load_dataset(ARTICLES_CSV, ColumnMap(label="category"))
    texts, labels = dataset.texts, [labels[0] for labels in dataset.labels]
    return TopicClassifier(calibration_folds=3).fit(texts, labels), texts, labels


def test_thresholds_keep_the_chosen_coverage() -> None:
    rng = np.random.default_rng(0)
    confidences, similarities = rng.uniform(0.2, 1.0, 1000), rng.uniform(0.0, 0.5, 1000)
    for coverage in (0.8, 0.9, 0.95):
        rule = fit_review_rule(confidences, ReviewConfig(coverage=coverage), similarities, np.ones((2, 3)))
        answered = np.mean([not d.needs_review for d in decide(rule, confidences, similarities)])
        assert answered == pytest.approx(coverage, abs=0.01)
        # Half the review budget goes to the scope test.
        assert np.mean(similarities < rule.min_similarity) == pytest.approx((1 - coverage) / 2, abs=0.01)


def test_out_of_scope_and_low_confidence_decisions_say_why() -> None:
    rule = fit_review_rule(
        np.array([0.9, 0.8, 0.7]), ReviewConfig(coverage=1.0), np.array([0.3, 0.4, 0.5]), np.ones((2, 2))
    )
    rule = type(rule)(min_confidence=0.6, min_similarity=0.2, centroids=rule.centroids)
    far, unsure, fine = decide(rule, np.array([0.95, 0.5, 0.9]), np.array([0.1, 0.3, 0.3]))
    assert far.needs_review and far.reason == OUT_OF_SCOPE and "0.100 < 0.200" in far.detail
    assert unsure.needs_review and unsure.reason == LOW_CONFIDENCE and "0.500 < 0.600" in unsure.detail
    assert not fine.needs_review and fine.reason is None
    assert not any(d.needs_review for d in decide(None, np.array([0.1]), np.array([0.0])))


def test_crafted_out_of_scope_text_is_sent_for_review_and_an_in_scope_one_is_not(fitted) -> None:
    _, texts, labels = fitted
    held_out = list(range(0, len(texts), 3))  # a third held out, as training would
    train = [i for i in range(len(texts)) if i not in held_out]
    model = TopicClassifier(calibration_folds=3).fit([texts[i] for i in train], [labels[i] for i in train])
    rule, metrics = learn_review(
        model,
        ([texts[i] for i in train], [labels[i] for i in train]),
        ([texts[i] for i in held_out], [labels[i] for i in held_out]),
        ReviewConfig(coverage=0.9),
    )
    assert metrics["held_out_coverage"] >= 0.75
    probs = model.predict_proba([RECIPE, SPORT])
    recipe, sport = review_articles(rule, model, [RECIPE, SPORT], probs)
    assert recipe.needs_review and recipe.reason == OUT_OF_SCOPE
    assert not sport.needs_review
    assert model.classes_[probs[1].argmax()] == "sport"


def test_a_multi_label_model_always_answers(fitted) -> None:
    _, texts, labels = fitted
    rule = fit_review_rule(np.array([0.9]), ReviewConfig(coverage=0.5), None, None)
    multi = TopicClassifier(calibration_folds=3, multi_label=True).fit(texts, [(label,) for label in labels])
    assert not review_articles(rule, multi, [RECIPE], np.array([[0.1] * len(multi.classes_)]))[0].needs_review


def test_risk_coverage_curve_rises_as_the_least_confident_are_dropped() -> None:
    confidences = np.linspace(0, 1, 100)
    correct = confidences > 0.3  # the confident ones are right
    curve = risk_coverage(confidences, correct)
    assert curve["curve"][13] == {"coverage": 0.7, "accuracy": 1.0}
    assert curve["curve"][-1] == {"coverage": 1.0, "accuracy": 0.7}
    assert curve["selective_accuracy_at_80"] == 0.875 > curve["selective_accuracy_at_95"]


@pytest.mark.parametrize("coverage", [0.0, 1.5])
def test_coverage_outside_zero_one_is_refused(coverage: float) -> None:
    with pytest.raises(ValueError, match="coverage must be in"):
        ReviewConfig(coverage=coverage)


def test_training_saves_the_rule_and_metrics_and_loading_checks_it(tmp_path: Path) -> None:
    result = train_tiny(tmp_path, review=ReviewConfig(min_held_out=1, coverage=0.8))
    assert {REVIEW_JSON, REVIEW_ARRAYS} <= {p.name for p in result.path.iterdir()}
    metrics = json.loads((result.path / "metrics.json").read_text())["classifier"]["review"]
    assert {"selective_accuracy_at_80", "selective_accuracy_at_90", "selective_accuracy_at_95", "curve"} <= set(
        metrics["risk_coverage"]
    )
    bundle = load_bundle(tmp_path / "tiny")
    assert bundle.review is not None and bundle.review.centroids is not None
    assert bundle.manifest["review"]["coverage"] == 0.8
    # A changed byte in the rule's arrays is refused like any other file.
    target = result.path / REVIEW_ARRAYS
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=f"{REVIEW_ARRAYS} does not match its checksum"):
        load_bundle(tmp_path / "tiny")


def test_too_few_held_out_articles_or_no_review_give_no_rule(tmp_path: Path) -> None:
    assert load_bundle(train_tiny(tmp_path / "a").path).review is None  # 6 held out < 50
    assert (
        load_bundle(train_tiny(tmp_path / "b", review=ReviewConfig(enabled=False, min_held_out=1)).path).review is None
    )


def test_short_views_are_the_headline_and_the_headline_with_the_lead() -> None:
    text = "Rates held at 4%\n\nThe central bank kept rates on hold. It said inflation was falling.\nMore text."
    assert short_views(text) == ["Rates held at 4%", "Rates held at 4%\n\nThe central bank kept rates on hold."]
    assert short_views("A body without a headline.") == []
