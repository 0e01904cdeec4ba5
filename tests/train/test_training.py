"""The training pipeline: the split (seeded, stratified, rare labels on both sides) and the summariser it saves."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from helpers.training import train_tiny
from newsdesk.train.bundle import load_bundle
from newsdesk.train.data import Article, Dataset, LoadReport
from newsdesk.train.pipeline import split_dataset, split_strata


def make_dataset(label_sets: list[tuple[str, ...]], multi: bool) -> Dataset:
    articles = [Article(id=str(i), text=f"article number {i}", labels=labels) for i, labels in enumerate(label_sets)]
    return Dataset(articles=articles, multi_label=multi, report=LoadReport(source="test"))


def test_single_label_split_is_stratified_and_seeded() -> None:
    dataset = make_dataset([("a",)] * 50 + [("b",)] * 30 + [("c",)] * 20, multi=False)
    train_idx, test_idx = split_dataset(dataset, 0.2, seed=0)
    assert len(test_idx) == 20 and len(train_idx) == 80
    assert not set(train_idx) & set(test_idx)
    test_counts = Counter(dataset.labels[i][0] for i in test_idx)
    assert test_counts == {"a": 10, "b": 6, "c": 4}
    again = split_dataset(dataset, 0.2, seed=0)
    assert (again[1] == test_idx).all()
    assert not (split_dataset(dataset, 0.2, seed=1)[1] == test_idx).all()


def test_multi_label_split_keeps_rare_labels_on_both_sides() -> None:
    common = [("earn",)] * 60 + [("acq", "earn")] * 20
    rare = [("earn", "tin")] * 2 + [("acq", "zinc")] * 2
    dataset = make_dataset(common + rare, multi=True)
    assert split_strata(dataset)[-1] == "zinc"
    for seed in range(5):
        train_idx, test_idx = split_dataset(dataset, 0.25, seed=seed)
        for label in ("tin", "zinc"):
            assert any(label in dataset.labels[i] for i in train_idx)
            assert any(label in dataset.labels[i] for i in test_idx)


def test_too_few_articles_to_hold_out_is_an_error() -> None:
    dataset = make_dataset([("a",)], multi=False)
    with pytest.raises(ValueError, match="too few"):
        split_dataset(dataset, 0.5, seed=0)


def test_training_with_summaries_saves_an_evaluated_supervised_summariser(summaries_csv, tmp_path) -> None:
    result = train_tiny(tmp_path, data=summaries_csv)
    bundle = load_bundle(tmp_path / "tiny")
    assert bundle.summarizer is not None
    assert bundle.manifest["summarizer"]["kind"] == "supervised-extractive"
    metrics = json.loads((result.path / "metrics.json").read_text())["summarizer"]
    assert metrics["evaluated"] and metrics["articles"] == 20
    for system in ("ours", "lead3", "lead_matched", "textrank", "oracle"):
        assert set(metrics[system]) >= {"rouge1", "rouge2", "rougeLsum"}
    # The references are the paragraph ledes: learnable, and the oracle finds them all.
    assert metrics["oracle"]["rouge2"] > 0.95
    assert metrics["ours"]["rouge2"] > metrics["lead3"]["rouge2"]
    assert bundle.manifest["summary_metrics"]["rouge2"] == metrics["ours"]["rouge2"]
    article = "The bank raised rates. Shares fell.\n\nThe pound rose sharply. Exporters were worried."
    assert bundle.summarizer.summarize(article).sentences


def test_training_without_summaries_saves_pacsum(tiny_bundle_dir) -> None:
    bundle = load_bundle(tiny_bundle_dir)
    assert bundle.summarizer is not None and bundle.summarizer.kind == "pacsum"
    assert bundle.manifest["summarizer"]["kind"] == "pacsum"
    assert bundle.manifest["summarizer"]["default_length"] == "brief"
    metrics = json.loads((bundle.path / "metrics.json").read_text())["summarizer"]
    assert metrics == {"kind": "pacsum", "evaluated": False, "reason": "the data has no reference summaries"}


def test_classifier_config_refuses_an_unknown_prior() -> None:
    from newsdesk.train.pipeline import ClassifierConfig

    with pytest.raises(ValueError, match="prior must be one of"):
        ClassifierConfig(prior="balanced")
    assert ClassifierConfig().build(seed=0).prior == "uniform"
