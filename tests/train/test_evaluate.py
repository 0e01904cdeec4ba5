"""``newsdesk evaluate``: the quick check without baselines, the same numbers in parallel, readable logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.training import train_tiny
from newsdesk.serve.cli import main
from newsdesk.train.bundle import load_bundle
from newsdesk.train.data import ColumnMap, load_dataset
from newsdesk.train.summarize.metrics import QUICK_SYSTEMS, SYSTEMS, evaluate_summarizer


@pytest.fixture(scope="module")
def summary_model(summaries_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("evaluated")
    train_tiny(models, name="news", data=summaries_csv)
    return models / "news"


def evaluate_json(model: Path, data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict, str]:
    code = main(["evaluate", "--model", str(model), "--data", str(data), "--label-col", "category", "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def test_no_baselines_scores_ours_and_the_leads_only(
    summary_model: Path, summaries_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quick, _ = evaluate_json(summary_model, summaries_csv, capsys, "--no-baselines", "--jobs", "1")
    full, _ = evaluate_json(summary_model, summaries_csv, capsys, "--jobs", "1")
    summary = quick["summarizer"]
    assert set(SYSTEMS) - set(QUICK_SYSTEMS) == {"textrank", "oracle"}
    assert all(name in summary for name in QUICK_SYSTEMS)
    assert "textrank" not in summary and "oracle" not in summary
    assert set(summary["notes"]) == set(QUICK_SYSTEMS)
    assert summary["articles"] == 80 and set(summary["ours"]) >= {"rouge1", "rouge2", "rougeLsum", "mean_sentences"}
    for name in QUICK_SYSTEMS:  # the quick check measures the same things, only fewer of them
        for metric in ("rouge1", "rouge2", "rougeLsum"):
            assert summary[name][metric] == full["summarizer"][name][metric]
    assert all(name in full["summarizer"] for name in SYSTEMS)
    assert quick["accuracy"] == full["accuracy"] and quick["per_class"] == full["per_class"]


def test_no_baselines_text_report_has_no_baseline_rows(
    summary_model: Path, summaries_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "--model", str(summary_model), "--data", str(summaries_csv), "--label-col", "category"]
    assert main([*argv, "--no-baselines"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and "R-1" not in line]
    assert {"ours", "lead3", "lead_matched"} <= set(rows) and not {"textrank", "oracle"} & set(rows)


def test_two_processes_give_the_same_numbers(summary_model: Path, summaries_csv: Path) -> None:
    bundle = load_bundle(summary_model)
    articles = load_dataset(summaries_csv, ColumnMap(label="category")).articles
    assert bundle.summarizer is not None
    one = evaluate_summarizer(bundle.summarizer, articles, jobs=1)
    two = evaluate_summarizer(bundle.summarizer, articles, jobs=2)
    for results in (one, two):
        results["ours"].pop("articles_per_s")
    assert one == two


def test_jobs_must_be_positive(summary_model: Path, summaries_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--model", str(summary_model), "--data", str(summaries_csv), "--jobs", "0"])
    assert code == 2 and "--jobs must be at least 1, got 0" in capsys.readouterr().err
