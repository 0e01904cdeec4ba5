"""Fine-tuning a tiny random BERT as a sequence classifier: the loop, early stopping, multi-label, bundles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.training import ARTICLES_CSV, train_tiny
from newsdesk.train.bundle import load_bundle
from newsdesk.train.classify.finetune import FinetuneConfig, FinetunedClassifier

FAST = {"epochs": 2, "batch_size": 8, "max_length": 32, "learning_rate": 1e-3}


def test_finetune_bundle_round_trip(tiny_bert: Path, tmp_path: Path) -> None:
    result = train_tiny(tmp_path, "ft", backend="finetune", finetune=FinetuneConfig(str(tiny_bert), **FAST))
    bundle = load_bundle(result.path)
    entry = bundle.manifest["classifier"]
    assert entry["backend"] == "finetuned-transformer"
    assert entry["params"]["max_length"] == 32 and 1 <= entry["training"]["best_epoch"] <= 2
    assert "transformer/model.safetensors" in bundle.manifest["files"]
    assert not [name for name in bundle.manifest["files"] if name.endswith((".bin", ".pkl", ".pt"))]
    config = json.loads((result.path / "transformer" / "config.json").read_text())
    assert config["problem_type"] == "single_label_classification"
    assert list(config["id2label"].values()) == ["business", "politics", "sport", "tech"]
    texts = result.dataset.texts
    probs = bundle.classifier.predict_proba(texts)
    assert probs.shape == (24, 4) and np.allclose(probs.sum(axis=1), 1.0)
    assert np.allclose(probs, load_bundle(result.path).classifier.predict_proba(texts), atol=1e-6)
    assert all(len(labels) == 1 for labels in bundle.classifier.predict(texts))
    assert "finetuned-transformer" in (result.path / "README.md").read_text()


def test_multi_label_finetuning(tiny_bert: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)
    frame["category"] = [f"{c}|economy" if c in ("business", "politics") else c for c in frame.category]
    path = tmp_path / "multi.csv"
    frame.to_csv(path, index=False)
    result = train_tiny(tmp_path, "ml", data=path, backend="finetune", finetune=FinetuneConfig(str(tiny_bert), **FAST))
    bundle = load_bundle(result.path)
    assert bundle.manifest["multi_label"] is True
    config = json.loads((result.path / "transformer" / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    probs = bundle.classifier.predict_proba(result.dataset.texts)
    assert probs.shape == (24, 5) and not np.allclose(probs.sum(axis=1), 1.0)
    assert bundle.classifier.thresholds_.shape == (5,)
    assert all(len(labels) >= 1 for labels in bundle.classifier.predict(result.dataset.texts))
    assert "micro_f1" in bundle.manifest["metrics"]


def test_early_stopping_keeps_the_best_epoch(tiny_bert: Path) -> None:
    frame = pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)
    texts = [f"{t}. {b}" for t, b in zip(frame.title, frame.text)]
    # A learning rate too small to change the validation loss: no epoch improves on the first.
    config = FinetuneConfig(str(tiny_bert), epochs=5, batch_size=16, max_length=32, learning_rate=1e-12, patience=1)
    model = FinetunedClassifier(config).fit(texts, list(frame.category), progress=False)
    assert len(model.history_) == 2 and model.best_epoch_ == 1


def test_long_articles_are_predicted_from_every_window(tiny_bert: Path) -> None:
    frame = pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)
    texts = [f"{t}. {b}" for t, b in zip(frame.title, frame.text)]
    # Trained enough that the prediction depends on the words: one epoch at the default rate left it near
    # uniform, where windows past the first moved it by about 1e-6, under allclose's tolerance in some runs.
    config = FinetuneConfig(str(tiny_bert), epochs=4, batch_size=8, learning_rate=3e-3, max_length=16, stride=4)
    model = FinetunedClassifier(config).fit(texts, list(frame.category), progress=False)
    long_text = " ".join(texts[:3])
    head = model.tokenizer_.decode(model.tokenizer_(long_text, add_special_tokens=False)["input_ids"][:14])
    # Text past the first 16 tokens changes the prediction: it is read, not cut off.
    assert not np.allclose(model.predict_proba([long_text]), model.predict_proba([head]))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"epochs": 0}, "epochs=0"), ({"max_length": 4}, "max_length=4"), ({"validation_size": 1.0}, "validation_size")],
)
def test_bad_finetune_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FinetuneConfig("model", **options)


def test_finetune_needs_a_base_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--base-model"):
        train_tiny(tmp_path, backend="finetune")
