"""Why this topic: exact term weights of the linear model, terms from the text, faithfulness, other backends."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.training import ARTICLES_CSV
from newsdesk.train.classify.explain import LINEAR, UNAVAILABLE, deletion_drop, explain
from newsdesk.train.classify.tfidf import TopicClassifier
from newsdesk.train.data import ColumnMap, load_dataset
from newsdesk.train.text.cleaning import prepare_article

TITLE = "Chancellor sets out budget"
BODY = (
    "The chancellor told MPs the budget would raise spending on schools and cut taxes for small firms. "
    "Opposition parties said the election promises did not add up, and ministers defended the plans in parliament."
)


@pytest.fixture(scope="module")
def model() -> TopicClassifier:
    dataset = load_dataset(ARTICLES_CSV, ColumnMap(label="category"))
    return TopicClassifier(calibration_folds=3).fit(dataset.texts, [labels[0] for labels in dataset.labels])


def test_weights_are_coefficient_times_feature_value(model: TopicClassifier) -> None:
    text = prepare_article(BODY, TITLE)
    [explanation] = explain(model, [text], [None])
    assert explanation.method == LINEAR
    topic = list(model.classes_).index(explanation.topic)
    assert explanation.topic == model.predict([text])[0][0]
    vocabulary = model.vectorizer_.vocabulary_
    features = model.vectorizer_.transform([text]).toarray()[0]
    for item in explanation.towards:
        j = vocabulary[item.term]
        assert item.weight == pytest.approx(model.coef_[topic, j] * features[j], abs=1e-6)
    weights = [t.weight for t in explanation.towards]
    assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
    runner = list(model.classes_).index(explanation.runner_up)
    for item in explanation.against_runner_up:
        j = vocabulary[item.term]
        margin = (model.coef_[topic, j] - model.coef_[runner, j]) * features[j]
        assert item.weight == pytest.approx(margin, abs=1e-6)


def test_explained_terms_occur_in_the_cleaned_text(model: TopicClassifier) -> None:
    text = prepare_article(BODY, TITLE)
    [explanation] = explain(model, [text], [None])
    assert explanation.terms()
    words = " ".join(text.lower().replace(",", " ").replace(".", " ").split())
    for term in explanation.terms():
        assert term in words, term


def test_deleting_the_top_terms_lowers_the_topic_more_than_random_terms(model: TopicClassifier) -> None:
    text = prepare_article(BODY, TITLE)
    [explanation] = explain(model, [text], [None], k=5)
    vocabulary = model.vectorizer_.vocabulary_
    top = [vocabulary[t.term] for t in explanation.towards[:5]]
    present = model.vectorizer_.transform([text]).indices
    rng = np.random.default_rng(0)
    random_drops = [
        deletion_drop(model, text, rng.choice(present, 5, replace=False), explanation.topic) for _ in range(20)
    ]
    top_drop = deletion_drop(model, text, top, explanation.topic)
    # The 3x target is measured on BBC by bench/classify.py; this short text of a tiny model shows 2.5x.
    assert top_drop > 0 and top_drop > 2 * float(np.mean(random_drops))


def test_an_explanation_for_a_named_topic_and_for_a_backend_without_term_weights(model: TopicClassifier) -> None:
    text = prepare_article(BODY, TITLE)
    [for_sport] = explain(model, [text], ["sport"])
    assert for_sport.topic == "sport"

    class NoTerms:
        classes_ = np.array(["a", "b"], dtype=object)

    [plain] = explain(NoTerms(), [text], ["b"])
    assert plain.method == UNAVAILABLE and plain.towards == () and plain.topic == "b"
    assert explain(model, [], []) == []
