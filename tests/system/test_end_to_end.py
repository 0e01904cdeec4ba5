"""End-to-end runs on the real datasets in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsdesk.serve.cli import main
from newsdesk.train.bundle import load_bundle
from newsdesk.train.data import ColumnMap, load_dataset
from newsdesk.train.text.cleaning import prepare_article

pytestmark = pytest.mark.slow


def test_bbc_csv_train_reaches_95_percent_held_out(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = shared_data / "bbc-news-summary" / "bbc-news-summary.csv"
    assert (
        main(["train", "--data", str(data), "--label-col", "category", "--name", "bbc", "--models-dir", str(tmp_path)])
        == 0
    )
    err = capsys.readouterr().err
    assert "removed 133 exact duplicate texts" in err
    bundle = load_bundle(tmp_path / "bbc")
    metrics = json.loads((bundle.path / "metrics.json").read_text())["classifier"]
    assert metrics["n"] == 418  # 20% of 2,092 distinct articles
    assert metrics["accuracy"] >= 0.95
    assert metrics["macro_f1"] >= 0.95
    # calibrated: confident and right on held-out data, not over-confident
    assert metrics["calibration"]["ece"] < 0.1
    # obvious headlines get obvious topics
    predicted = bundle.classifier.predict(
        [
            prepare_article("The striker scored twice as Chelsea beat Arsenal in the Premiership.", ""),
            prepare_article("Shares fell as the central bank raised interest rates.", ""),
            prepare_article("The prime minister told MPs the election would be held in May.", ""),
            prepare_article("The new games console and broadband software were shown to users.", ""),
            prepare_article("The actor won an Oscar for best film at the Academy Awards.", ""),
        ]
    )
    assert [p[0] for p in predicted] == ["sport", "business", "politics", "tech", "entertainment"]

    # The summariser was trained on the references and beats the lead baselines on the same split.
    summary = json.loads((bundle.path / "metrics.json").read_text())["summarizer"]
    assert bundle.summarizer is not None and bundle.manifest["summarizer"]["kind"] == "supervised-extractive"
    assert summary["articles"] == 418
    assert summary["ours"]["rouge2"] > summary["lead3"]["rouge2"]
    assert summary["ours"]["rouge2"] > summary["lead_matched"]["rouge2"]
    assert summary["ours"]["rouge2"] >= 0.58 and summary["ours"]["rouge1"] >= 0.70
    assert summary["oracle"]["rouge2"] >= summary["ours"]["rouge2"]


def test_bbc_raw_tree_loads_with_summaries_and_latin1(shared_data: Path) -> None:
    dataset = load_dataset(shared_data / "bbc-news-summary" / "raw")
    assert dataset.report.rows_read == 2225
    assert any(path.endswith("sport/199.txt") for path in dataset.report.encoding_fallbacks)
    assert dataset.has_summaries
    assert len(dataset) == 2225 - dataset.report.duplicates_removed
    assert set(dataset.label_counts) == {"business", "entertainment", "politics", "sport", "tech"}
    first = dataset.articles[0]
    assert first.title == "Ad sales boost Time Warner profit" and first.labels == ("business",)
    assert "£" in next(a for a in dataset.articles if a.id == "sport/199").text


def test_reuters_multi_label_train(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_file = shared_data / "reuters21578" / "modapte-train.jsonl"
    assert (
        main(
            [
                "train",
                "--data",
                str(train_file),
                "--label-col",
                "topics",
                "--name",
                "reuters",
                "--models-dir",
                str(tmp_path),
                "--drop-rare-labels",
                "--calibration-folds",
                "3",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "without a label" in err
    bundle = load_bundle(tmp_path / "reuters")
    assert bundle.manifest["multi_label"]
    assert bundle.manifest["metrics"]["micro_f1"] >= 0.8
    test = load_dataset(shared_data / "reuters21578" / "modapte-test.jsonl", ColumnMap(label="topics"))
    assert test.multi_label
