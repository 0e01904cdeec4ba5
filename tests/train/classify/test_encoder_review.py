"""Robustness of the encoder backends: the head's uniform prior, the embedding cache, needs review in encoder space.

The behavioural tests use a keyword encoder (a stand-in :class:`SentenceEncoder` whose embedding of a text
counts topic words), so they run without torch; the bundle tests use the tiny random BERT.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from helpers.training import train_tiny
from newsdesk.train.bundle import load_bundle
from newsdesk.train.classify.encoder import DEFAULT_C, EncoderClassifier, EncoderConfig, SentenceEncoder
from newsdesk.train.classify.linear_head import LinearHead
from newsdesk.train.classify.review import (
    ENCODER_SPACE,
    OUT_OF_SCOPE,
    REVIEW_ARRAYS,
    REVIEW_JSON,
    TFIDF_SPACE,
    ReviewConfig,
    encoder_part,
    learn_review,
    review_articles,
    scope_space,
)
from newsdesk.train.classify.tfidf import TopicClassifier
from newsdesk.train.versions import BundleError

TOPIC_WORDS = {
    "sport": ("match", "goal", "league", "striker", "coach"),
    "business": ("shares", "profit", "market", "bank", "investors"),
    "politics": ("minister", "election", "parliament", "vote", "party"),
}
RECIPE = "Whisk the eggs with sugar, fold in the flour and bake the cake for twenty minutes."


class KeywordEncoder(SentenceEncoder):
    """Embeds a text as its normalised counts of each topic's words plus a small constant (no model)."""

    def __init__(self, cache_size: int = 100) -> None:
        super().__init__("keywords", cache_size=cache_size)
        self.calls: list[int] = []

    @property
    def dimension(self) -> int:
        return len(TOPIC_WORDS) + 1

    def _encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        rows = []
        for text in texts:
            words = text.lower().replace(",", " ").replace(".", " ").split()
            counts = [sum(words.count(w) for w in vocab) for vocab in TOPIC_WORDS.values()]
            rows.append([*counts, 0.3])
        x = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def corpus(per_topic: int = 12, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short articles of each topic built from its words (the headline too) and some neutral filler."""
    rng = np.random.default_rng(seed)
    filler = ("today", "said", "new", "year", "report", "people")
    texts, labels = [], []
    for label, vocab in TOPIC_WORDS.items():
        for _ in range(per_topic):
            title = " ".join(rng.choice(vocab, 2))
            words = list(rng.choice(vocab, 4)) + list(rng.choice(filler, 3))
            texts.append(f"{title}\n\n" + " ".join(words) + ".")
            labels.append(label)
    return texts, labels


# --------------------------------------------------------------------------- the head's prior


def test_a_uniform_prior_head_has_no_intercepts_and_says_so_in_its_state() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(2, 1, (20, 4)), rng.normal(-2, 1, (20, 4)), rng.normal((2, -2, 0, 0), 1, (20, 4))])
    y = ["a"] * 20 + ["b"] * 20 + ["c"] * 20
    uniform = LinearHead(C=1.0, folds=2, prior="uniform").fit(x, y)
    training = LinearHead(C=1.0, folds=2, prior="training").fit(x, y)
    assert np.all(uniform.intercept_ == 0) and np.any(training.intercept_ != 0)
    arrays, meta = uniform.fitted_state()
    assert meta["prior"] == "uniform"
    again = LinearHead.from_fitted_state(arrays, meta)
    assert again.prior == "uniform" and np.allclose(again.predict_proba_features(x), uniform.predict_proba_features(x))
    # Heads saved before the option had intercepts.
    del meta["prior"]
    assert LinearHead.from_fitted_state(arrays, meta).prior == "training"


def test_multi_label_heads_keep_their_intercepts_and_a_bad_prior_is_refused() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3))
    labels = [("a",) if v > 0 else ("a", "b") if v > -0.5 else ("b",) for v in x[:, 0]]
    head = LinearHead(C=1.0, folds=2, prior="uniform").fit(x, labels)
    assert head.multi_label_ and np.any(head.intercept_ != 0)
    with pytest.raises(ValueError, match="prior must be one of"):
        LinearHead(prior="flat").fit(x, ["a", "b"] * 15)


# --------------------------------------------------------------------------- the embedding cache


def test_recent_embeddings_are_reused_and_the_cache_stays_bounded() -> None:
    encoder = KeywordEncoder(cache_size=3)
    first = encoder.encode(["match goal", "shares profit", "match goal"])
    assert encoder.calls == [2]  # a text repeated within a call is embedded once
    assert np.allclose(encoder.encode(["shares profit"]), first[1:2]) and encoder.calls == [2]
    encoder.encode(["vote", "party", "minister"])
    assert len(encoder._recent) == 3
    encoder.encode(["match goal"])  # pushed out by the three newer texts
    assert encoder.calls[-1] == 1
    assert encoder.encode([]).shape == (0, encoder.dimension)


def test_a_zero_cache_embeds_every_time() -> None:
    encoder = KeywordEncoder(cache_size=0)
    encoder.encode(["match"])
    encoder.encode(["match"])
    assert encoder.calls == [1, 1] and not encoder._recent


# --------------------------------------------------------------------------- needs review in encoder space


@pytest.fixture(scope="module")
def keyword_model() -> tuple[EncoderClassifier, tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    train, held_out = corpus(12, seed=0), corpus(20, seed=1)
    model = EncoderClassifier(KeywordEncoder(cache_size=1000), C=1.0, folds=3).fit(*train)
    return model, train, held_out


def test_encoder_models_measure_scope_in_encoder_space(keyword_model) -> None:
    model, train, held_out = keyword_model
    assert scope_space(model) == ENCODER_SPACE and encoder_part(model) is model
    assert scope_space(TopicClassifier(calibration_folds=3).fit(*train)) == TFIDF_SPACE
    assert scope_space(TopicClassifier()) is None  # not fitted: no space to measure in
    rule, metrics = learn_review(model, train, held_out, ReviewConfig(coverage=0.9))
    assert rule.space == ENCODER_SPACE and rule.to_dict()["space"] == ENCODER_SPACE
    assert rule.centroids is not None and rule.centroids.shape == (3, model.sentence_encoder.dimension)
    assert np.allclose(np.linalg.norm(rule.centroids, axis=1), 1.0, atol=1e-5)
    assert metrics["held_out_coverage"] >= 0.85


def test_a_recipe_is_out_of_scope_in_encoder_space_and_a_match_report_is_not(keyword_model) -> None:
    model, train, held_out = keyword_model
    rule, _ = learn_review(model, train, held_out, ReviewConfig(coverage=0.9))
    texts = ["Cup final\n\nThe striker scored a late goal to win the match for the league leaders.", RECIPE]
    calls = len(model.sentence_encoder.calls)
    probs = model.predict_proba(texts)
    sport, recipe = review_articles(rule, model, texts, probs)
    # The scope test reuses the embeddings of the prediction: one pass of the encoder for both.
    assert len(model.sentence_encoder.calls) == calls + 1
    assert not sport.needs_review
    assert recipe.needs_review and recipe.reason == OUT_OF_SCOPE and "similarity" in recipe.detail


def test_the_scope_test_works_through_the_servers_micro_batching_wrapper(keyword_model) -> None:
    from newsdesk.serve.api.state import BatchedClassifier

    model, train, held_out = keyword_model
    rule, _ = learn_review(model, train, held_out, ReviewConfig(coverage=0.9))
    served = BatchedClassifier(model)
    try:
        calls = len(model.sentence_encoder.calls)
        probs = served.predict_proba([RECIPE + " Served warm."])  # one article: through the batcher's thread
        (decision,) = review_articles(rule, served, [RECIPE + " Served warm."], probs)
        assert decision.reason == OUT_OF_SCOPE
        assert len(model.sentence_encoder.calls) == calls + 1  # the batcher's embedding is reused
    finally:
        served.batcher.close(0)


def test_the_uniform_prior_helps_a_text_with_little_evidence() -> None:
    """With intercepts, a text without topic words goes to the topic the intercepts favour; without, to none."""
    texts, labels = corpus(12)
    # Unbalanced training data: sport four times as often.
    texts, labels = texts + texts[:12] * 3, labels + labels[:12] * 3
    encoder = KeywordEncoder(cache_size=1000)
    neutral = ["Headline\n\ntoday people said a new report"]
    training = EncoderClassifier(encoder, C=1.0, folds=3, prior="training").fit(texts, labels)
    uniform = EncoderClassifier(encoder, C=1.0, folds=3, prior="uniform").fit(texts, labels)
    assert training.predict(neutral)[0] == ("sport",)
    assert np.ptp(uniform.predict_proba(neutral)) < np.ptp(training.predict_proba(neutral))


# --------------------------------------------------------------------------- bundles (tiny BERT)


@pytest.fixture(scope="module")
def reviewed_encoder_bundle(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encoder bundle with a needs-review rule (the fixture holds out fewer than 50 articles: allow it)."""
    models = tmp_path_factory.mktemp("encoder-review")
    config = EncoderConfig(str(tiny_bert))
    return train_tiny(models, "enc", backend="encoder", encoder=config, review=ReviewConfig(min_held_out=1)).path


def test_an_encoder_bundle_saves_and_loads_its_encoder_space_rule(reviewed_encoder_bundle: Path) -> None:
    bundle = load_bundle(reviewed_encoder_bundle)
    assert bundle.manifest["review"]["space"] == ENCODER_SPACE
    assert bundle.manifest["classifier"]["params"]["prior"] == "uniform"
    assert np.all(bundle.classifier.head_.intercept_ == 0)
    assert bundle.review.space == ENCODER_SPACE and bundle.review.centroids.shape == (4, 32)
    assert REVIEW_ARRAYS in bundle.manifest["files"]
    decisions = review_articles(bundle.review, bundle.classifier, [RECIPE], bundle.classifier.predict_proba([RECIPE]))
    assert len(decisions) == 1


def _rewrite(bundle: Path, tmp_path: Path, edit) -> Path:
    """A copy of ``bundle`` with a review file changed and the manifest's checksums updated to match."""
    from newsdesk.train.durable import sha256_file
    from newsdesk.train.manifest import manifest_digest

    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    changed = edit(copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"][changed] = sha256_file(copy / changed)
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return copy


def test_encoder_space_centroids_of_the_wrong_size_are_refused(reviewed_encoder_bundle: Path, tmp_path: Path) -> None:
    def shrink(copy: Path) -> str:
        np.savez_compressed(copy / REVIEW_ARRAYS, centroids=np.ones((4, 7), dtype=np.float32))
        return REVIEW_ARRAYS

    with pytest.raises(BundleError, match=r"encoder space.*\(4, 32\).*embedding size.*\(4, 7\)"):
        load_bundle(_rewrite(reviewed_encoder_bundle, tmp_path, shrink))


def test_an_unknown_review_space_is_refused(reviewed_encoder_bundle: Path, tmp_path: Path) -> None:
    def unknown(copy: Path) -> str:
        data = json.loads((copy / REVIEW_JSON).read_text())
        (copy / REVIEW_JSON).write_text(json.dumps({**data, "space": "pixels"}))
        return REVIEW_JSON

    with pytest.raises(BundleError, match="unknown review space 'pixels'"):
        load_bundle(_rewrite(reviewed_encoder_bundle, tmp_path, unknown))


def test_the_cli_sets_the_encoder_head_strength_and_prior(tiny_bert: Path, tmp_path: Path) -> None:
    from helpers.training import ARTICLES_CSV
    from newsdesk.serve.cli import main

    code = main([
        "train", "--data", str(ARTICLES_CSV), "--label-col", "category", "--name", "cli", "--models-dir",
        str(tmp_path), "--test-size", "0.25", "--calibration-folds", "3", "--backend", "encoder",
        "--encoder", str(tiny_bert), "--encoder-C", "1", "--prior", "training",
    ])  # fmt: skip
    assert code == 0
    params = load_bundle(tmp_path / "cli").manifest["classifier"]["params"]
    assert params["head_C"] == 1.0 and params["prior"] == "training"


def test_encoder_c_overrides_the_ensemble_members_default(tiny_bert: Path, tmp_path: Path) -> None:
    from newsdesk.train.classify.ensemble import EnsembleConfig

    config = EncoderConfig(str(tiny_bert), C=4.0)
    result = train_tiny(tmp_path, "ens", backend="ensemble", encoder=config, ensemble=EnsembleConfig(keep="always"))
    assert load_bundle(result.path).manifest["classifier"]["members"]["encoder"]["params"]["head_C"] == 4.0


def test_rules_saved_before_the_space_existed_are_tfidf_rules(tmp_path: Path) -> None:
    result = train_tiny(tmp_path / "m", review=ReviewConfig(min_held_out=1))

    def old(copy: Path) -> str:
        data = json.loads((copy / REVIEW_JSON).read_text())
        del data["space"]
        (copy / REVIEW_JSON).write_text(json.dumps(data))
        return REVIEW_JSON

    bundle = load_bundle(_rewrite(result.path, tmp_path, old))
    assert bundle.review.space == TFIDF_SPACE and bundle.review.centroids is not None


def test_an_ensemble_measures_scope_in_encoder_space_after_refitting(tiny_bert: Path, tmp_path: Path) -> None:
    from newsdesk.train.classify.ensemble import EnsembleConfig

    result = train_tiny(
        tmp_path,
        "ens",
        backend="ensemble",
        encoder=EncoderConfig(str(tiny_bert)),
        ensemble=EnsembleConfig(keep="always"),
        review=ReviewConfig(min_held_out=1),
        refit_on_all=True,
    )
    bundle = load_bundle(result.path)
    assert bundle.manifest["classifier"]["backend"] == "ensemble"
    # The encoder member's head is strongly regularised unless --encoder-C says otherwise; like the weight and
    # the keep check, it is fitted on whole articles (short views are --backend encoder's).
    member = bundle.manifest["classifier"]["members"]["encoder"]["params"]
    assert member["head_C"] == DEFAULT_C == 1.0
    assert member["short_views"] is False
    assert bundle.classifier.encoder.C == 1.0
    assert bundle.review.space == ENCODER_SPACE and bundle.review.centroids.shape == (4, 32)
    # After the refit the centroids are those of every article (the refitted encoder's), not of the training part.
    assert np.allclose(np.linalg.norm(bundle.review.centroids, axis=1), 1.0, atol=1e-5)
