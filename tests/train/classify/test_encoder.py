"""The sentence-encoder and ensemble backends on a tiny random BERT: windows, pooling, training, bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers.training import ARTICLES_CSV, train_tiny
from newsdesk.train.bundle import load_bundle
from newsdesk.train.classify.encoder import (
    EncoderClassifier,
    EncoderConfig,
    SentenceEncoder,
    SentenceSimilarityFeatures,
)
from newsdesk.train.classify.ensemble import EnsembleConfig, combine
from newsdesk.train.classify.linear_head import LinearHead
from newsdesk.train.versions import BundleError


@pytest.fixture(scope="module")
def encoder_bundle(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory, summaries_csv: Path) -> Path:
    """An encoder-backend bundle trained on the composite articles (with reference summaries)."""
    models = tmp_path_factory.mktemp("encoder-models")
    return train_tiny(models, "enc", data=summaries_csv, backend="encoder", encoder=EncoderConfig(str(tiny_bert))).path


def manual_mean_pool(folder: Path, text: str) -> np.ndarray:
    """sentence-transformers' recipe written out: mean of token vectors over the mask, then L2 norm."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    encoded = tokenizer([text], return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**{k: v for k, v in encoded.items() if k != "token_type_ids"}).last_hidden_state[0]
    vector = hidden.mean(dim=0).numpy()
    return vector / np.linalg.norm(vector)


def test_a_short_text_gets_the_sentence_transformers_vector(tiny_bert: Path) -> None:
    encoder = SentenceEncoder(str(tiny_bert))
    text = "The central bank raised interest rates."
    vectors = encoder.encode([text, "Rain is expected."])
    assert vectors.shape == (2, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], manual_mean_pool(tiny_bert, text), atol=1e-5)


def test_long_texts_are_windowed_not_truncated(tiny_bert: Path) -> None:
    encoder = SentenceEncoder(str(tiny_bert), window=16, stride=4)
    words = " ".join(f"shares fell by {n} points in london" for n in range(30))
    ids, owner = encoder.windows([words, "short text"])
    assert max(len(w) for w in ids) <= 16 and list(owner).count(0) > 5 and list(owner).count(1) == 1
    tokenizer = encoder._parts()[0]
    content = tokenizer(words, add_special_tokens=False)["input_ids"]
    inner = [w[1:-1] for w in ids[: list(owner).count(0)]]  # without [CLS] ... [SEP]
    # Every token is in a window, in order: consecutive windows share exactly `stride` (4) tokens.
    assert [t for i, w in enumerate(inner) for t in w[4 if i else 0 :]] == content
    # Text beyond the first window changes the embedding (a truncating encoder would ignore it).
    first_window = tokenizer.decode(content[:14])
    longer = first_window + " the government announced an election campaign"
    a, b = encoder.encode([first_window, longer])
    assert not np.allclose(a, b)


def test_linear_head_single_and_multi_label() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8))
    x = np.vstack([c + 0.1 * rng.normal(size=(20, 8)) for c in centres])
    y = [label for label in ("a", "b", "c") for _ in range(20)]
    head = LinearHead().fit(x, y)
    probs = head.predict_proba_features(x)
    assert np.allclose(probs.sum(axis=1), 1.0) and [p[0] for p in head.predict_from_proba(probs)] == y
    multi = [("a", "x") if i % 2 else (label,) for i, label in enumerate(y)]
    multi_head = LinearHead(C=4.0).fit(x, multi)
    assert multi_head.multi_label_ and list(multi_head.classes_) == ["a", "b", "c", "x"]
    assert (
        multi_head.thresholds_.shape == (4,)
        and ((0.2 <= multi_head.thresholds_) & (multi_head.thresholds_ <= 0.8)).all()
    )
    assert all(len(row) >= 1 for row in multi_head.predict_from_proba(multi_head.predict_proba_features(x)))
    arrays, meta = multi_head.fitted_state()
    again = LinearHead.from_fitted_state(arrays, json.loads(json.dumps(meta)))
    assert np.allclose(again.predict_proba_features(x), multi_head.predict_proba_features(x))


class RecordingEncoder:
    """A stand-in sentence encoder: a fixed vector per word, and a record of every text it was asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        rows = []
        for text in texts:
            vector = np.zeros(16)
            for word in text.lower().split():
                vector[sum(map(ord, word)) % 16] += 1.0
            rows.append(vector / max(np.linalg.norm(vector), 1e-9))
        return np.array(rows)


SHORT_VIEW_ARTICLES = [
    ("Shares rise\n\nMarkets gained today. Traders were pleased.", "business"),
    ("Bank rates cut\n\nThe bank cut rates. Lenders followed.", "business"),
    ("Team wins cup\n\nThe team won the final. Fans cheered.", "sport"),
    ("Striker scores twice\n\nA striker scored two goals. The coach smiled.", "sport"),
]


def test_the_encoder_head_also_learns_each_articles_headline_and_lead() -> None:
    texts, labels = zip(*SHORT_VIEW_ARTICLES)
    encoder = RecordingEncoder()
    model = EncoderClassifier(encoder, folds=2).fit(list(texts), list(labels))
    assert model.short_views_used_ and model.head_.coef_.shape == (2, 16)
    # Headline alone, then headline + lead sentence, each labelled as its article.
    assert encoder.seen[:4] == list(texts) and "Shares rise" in encoder.seen
    assert "Shares rise\n\nMarkets gained today." in encoder.seen
    # The scope test's centroids are those of the whole articles only.
    business = RecordingEncoder().encode(list(texts[:2])).mean(axis=0)
    assert np.allclose(model.class_centroids_[0], business / np.linalg.norm(business))


def test_short_views_are_off_for_multi_label_heads_and_on_request() -> None:
    texts, labels = zip(*SHORT_VIEW_ARTICLES)
    for model in (
        EncoderClassifier(RecordingEncoder(), folds=2, short_views=False).fit(list(texts), list(labels)),
        EncoderClassifier(RecordingEncoder(), folds=2).fit(list(texts), [(label, "news") for label in labels]),
    ):
        assert not model.short_views_used_ and model.sentence_encoder.seen == list(texts)


def test_two_classes_give_proper_probabilities() -> None:
    x = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]] * 3)
    head = LinearHead(C=10.0, folds=2).fit(x, ["a", "a", "b", "b"] * 3)
    probs = head.predict_proba_features(x)
    assert probs.shape == (12, 2) and np.allclose(probs.sum(axis=1), 1.0)
    assert [p[0] for p in head.predict_from_proba(probs)] == ["a", "a", "b", "b"] * 3


def test_encoder_bundle_round_trip(encoder_bundle: Path, articles) -> None:
    bundle = load_bundle(encoder_bundle)
    manifest = bundle.manifest
    assert manifest["classifier"]["backend"] == "sentence-encoder-linear"
    assert manifest["classifier"]["params"]["window"] == 64 and manifest["classifier"]["params"]["pooling"] == "mean"
    assert "encoder/model.safetensors" in manifest["files"] and "encoder_head.npz" in manifest["files"]
    assert not [name for name in manifest["files"] if name.endswith((".bin", ".pkl", ".pt"))]
    assert {"torch", "transformers"} <= set(manifest["libraries"])
    texts = [f"{t}. {b}" for t, b in zip(articles.title, articles.text)]
    assert isinstance(bundle.classifier, EncoderClassifier)
    again = load_bundle(encoder_bundle)
    assert np.allclose(bundle.classifier.predict_proba(texts), again.classifier.predict_proba(texts), atol=1e-6)
    top = bundle.classifier.top_k(texts[:2], k=2)
    assert len(top) == 2 and len(top[0]) == 2 and top[0][0][1] >= top[0][1][1]
    assert all(len(labels) == 1 for labels in bundle.classifier.predict(texts))
    assert "sentence-encoder-linear" in (encoder_bundle / "README.md").read_text()


def test_the_encoder_backend_learns_headlines_too_by_default(
    encoder_bundle: Path, tiny_bert: Path, tmp_path: Path
) -> None:
    params = load_bundle(encoder_bundle).manifest["classifier"]["params"]
    assert params["short_views"] is True and params["head_C"] == 1.0
    off = train_tiny(tmp_path, "enc-long", backend="encoder", encoder=EncoderConfig(str(tiny_bert), short_views=False))
    assert load_bundle(off.path).manifest["classifier"]["params"]["short_views"] is False


def test_the_encoder_summariser_features_are_saved_and_reported(encoder_bundle: Path) -> None:
    bundle = load_bundle(encoder_bundle)
    entry = bundle.manifest["summarizer"]
    assert entry["kind"] == "supervised-extractive" and entry["sentence_encoder"]["folder"] == "encoder"
    assert entry["extra_features"] == list(SentenceSimilarityFeatures.names)
    # The summariser shares the classifier's encoder instead of loading a second copy.
    assert bundle.summarizer.extra_features.encoder is bundle.classifier.sentence_encoder
    metrics = json.loads((encoder_bundle / "metrics.json").read_text())["summarizer"]
    assert metrics["extra_features"] == list(SentenceSimilarityFeatures.names)
    assert set(metrics["without_extra_features"]) == {"rouge1", "rouge2", "rougeLsum"}
    assert "Extra sentence features from the sentence encoder" in (encoder_bundle / "README.md").read_text()
    article = "The bank raised rates. Shares fell.\n\nThe pound rose sharply. Exporters were worried."
    first = bundle.summarizer.summarize(article, "Rates rise")
    assert first == load_bundle(encoder_bundle).summarizer.summarize(article, "Rates rise")


def test_a_damaged_encoder_file_is_refused(encoder_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(encoder_bundle, copy)
    weights = copy / "encoder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BundleError, match="does not match its checksum"):
        load_bundle(copy)


def test_manifest_paths_outside_the_bundle_are_refused(encoder_bundle: Path, tmp_path: Path) -> None:
    import newsdesk.train.manifest as manifest_module

    assert manifest_module._is_inside("encoder/model.safetensors")
    for bad in ("../x", "/etc/passwd", "encoder/../../x", "a\\b", "./x", ""):
        assert not manifest_module._is_inside(bad)


def test_an_unknown_backend_says_to_upgrade(encoder_bundle: Path, tmp_path: Path) -> None:
    import newsdesk.train.manifest as manifest_module

    copy = tmp_path / "copy"
    shutil.copytree(encoder_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["classifier"]["backend"] = "quantum-svm"
    manifest["manifest_sha256"] = manifest_module.manifest_digest(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="quantum-svm.*upgrade newsdesk"):
        load_bundle(copy)


def test_ensemble_reports_all_three_and_round_trips(tiny_bert: Path, tmp_path: Path, articles) -> None:
    result = train_tiny(
        tmp_path,
        "ens",
        backend="ensemble",
        encoder=EncoderConfig(str(tiny_bert)),
        ensemble=EnsembleConfig(keep="always"),
    )
    bundle = load_bundle(result.path)
    comparison = bundle.manifest["backend_comparison"]
    assert set(comparison["held_out"]) == {"tfidf", "encoder", "ensemble"}
    assert comparison["kept"] == "ensemble" and bundle.manifest["classifier"]["backend"] == "ensemble"
    assert 0.0 <= comparison["weight_tfidf"] <= 1.0
    assert {"vocabulary.json", "classifier.npz", "encoder_head.npz", "ensemble.npz"} <= set(bundle.manifest["files"])
    texts = result.dataset.texts
    again = load_bundle(result.path)
    probs = bundle.classifier.predict_proba(texts)
    assert np.allclose(probs, again.classifier.predict_proba(texts), atol=1e-6)
    assert np.allclose(probs.sum(axis=1), 1.0)
    p_tfidf, p_encoder = bundle.classifier.member_probabilities(texts)
    assert np.allclose(combine(p_tfidf, p_encoder, comparison["weight_tfidf"], False), probs)
    assert json.loads((result.path / "metrics.json").read_text())["backend_comparison"] == comparison


def test_ensemble_saves_the_better_member_unless_it_beats_both(tiny_bert: Path, tmp_path: Path) -> None:
    result = train_tiny(tmp_path, "ens", backend="ensemble", encoder=EncoderConfig(str(tiny_bert)))
    bundle = load_bundle(result.path)
    comparison = bundle.manifest["backend_comparison"]
    held_out = comparison["held_out"]
    rank = {name: tuple(scores.values()) for name, scores in held_out.items()}
    expected = (
        "ensemble"
        if rank["ensemble"] > max(rank["tfidf"], rank["encoder"])
        else ("tfidf" if rank["tfidf"] >= rank["encoder"] else "encoder")
    )
    assert comparison["kept"] == expected
    backend = {"ensemble": "ensemble", "tfidf": "tfidf-linear-svm", "encoder": "sentence-encoder-linear"}[expected]
    assert bundle.manifest["classifier"]["backend"] == backend
    assert bundle.manifest["metrics"] == held_out[expected]


def test_combine_weights() -> None:
    a = np.array([[0.9, 0.1], [0.2, 0.8]])
    b = np.array([[0.5, 0.5], [0.6, 0.4]])
    assert np.allclose(combine(a, b, 1.0, False), a) and np.allclose(combine(a, b, 0.0, False), b)
    assert np.allclose(combine(a, b, 1.0, True), a) and np.allclose(combine(a, b, 0.5, False).sum(axis=1), 1.0)


def test_cli_trains_an_encoder_model(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from newsdesk.serve.cli import main

    code = main([
        "train", "--data", str(ARTICLES_CSV), "--label-col", "category", "--name", "cli", "--models-dir",
        str(tmp_path), "--test-size", "0.25", "--calibration-folds", "3", "--backend", "encoder",
        "--encoder", str(tiny_bert), "--encoder-window", "32", "--refit-on-all",
    ])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "embedding 24 articles" in err and "refitting on all articles" in err
    bundle = load_bundle(tmp_path / "cli")
    assert bundle.manifest["classifier"]["params"]["window"] == 32
    assert bundle.manifest["training"]["train_articles"] == 24


class _Payload:
    """Unpickling this creates a file: the proof that a pickle was run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (str(self.marker), "pwned"))  # type: ignore[return-value]


def test_a_pickled_weights_file_is_never_unpickled(encoder_bundle: Path, tmp_path: Path) -> None:
    """A forged bundle (checksums recomputed) whose encoder weights are a pickle is refused, not run."""
    import pickle

    import newsdesk.train.manifest as manifest_module

    copy = tmp_path / "copy"
    shutil.copytree(encoder_bundle, copy)
    marker = tmp_path / "unpickled"
    (copy / "encoder" / "model.safetensors").unlink()
    (copy / "encoder" / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload(marker)))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"] = {
        f.relative_to(copy).as_posix(): manifest_module.sha256_file(f)
        for f in sorted(copy.rglob("*"))
        if f.is_file()
        and f.name != "manifest.json"
        and f.relative_to(copy).as_posix() in manifest["files"]
        or f.name == "pytorch_model.bin"
    }
    manifest["manifest_sha256"] = manifest_module.manifest_digest(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="cannot be loaded.*safetensors"):
        load_bundle(copy)
    assert not marker.exists(), "loading the bundle ran the pickle"
