"""The newsdesk command, called in-process with argument lists."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from newsdesk.serve.cli import main
from newsdesk.train.bundle import load_bundle


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["evaluate", "--help"], ["versions", "--help"]])
def test_help_works_for_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: newsdesk" in out


def test_train_then_evaluate_json(tmp_path: Path, articles_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    code = main(
        [
            "train",
            "--data",
            str(articles_csv),
            "--label-col",
            "category",
            "--name",
            "tiny",
            "--models-dir",
            str(models),
            "--test-size",
            "0.25",
            "--calibration-folds",
            "3",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(models / "tiny" / "v0001")
    assert "holding out 6" in captured.err
    assert load_bundle(models / "tiny").version == "v0001"

    code = main(
        ["evaluate", "--model", str(models / "tiny"), "--data", str(articles_csv), "--label-col", "category", "--json"]
    )
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1"} <= set(metrics)
    assert metrics["accuracy"] >= 0.9


def test_evaluate_counts_unseen_labels_as_errors(
    tmp_path: Path, tiny_bundle_dir: Path, articles: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    data = articles.copy()
    data.loc[data.category == "tech", "category"] = "science"
    path = tmp_path / "relabelled.csv"
    data.to_csv(path, index=False)
    code = main(["evaluate", "--model", str(tiny_bundle_dir), "--data", str(path), "--label-col", "category", "--json"])
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["unseen_labels"] == ["science"]
    assert metrics["accuracy"] <= 0.75 + 1e-9  # the six 'science' rows cannot be right
    assert metrics["per_class"]["science"]["recall"] == 0.0


def test_evaluate_multi_label_json_keys(
    tmp_path: Path, articles: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    data = articles.copy()
    data["category"] = [f"{c}|economy" if c in ("business", "politics") else c for c in data.category]
    path = tmp_path / "multi.csv"
    data.to_csv(path, index=False)
    models = tmp_path / "models"
    assert (
        main(
            [
                "train",
                "--data",
                str(path),
                "--label-col",
                "category",
                "--name",
                "multi",
                "--models-dir",
                str(models),
                "--calibration-folds",
                "3",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(["evaluate", "--model", str(models / "multi"), "--data", str(path), "--label-col", "category", "--json"])
        == 0
    )
    metrics = json.loads(capsys.readouterr().out)
    assert {"micro_f1", "macro_f1"} <= set(metrics)
    assert "accuracy" not in metrics


def test_missing_column_is_a_clear_error(
    tmp_path: Path, articles_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "--data", str(articles_csv), "--name", "x", "--models-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "column 'label' not found" in err
    assert "pass --label-col category" in err
    assert not (tmp_path / "x").exists()


def test_missing_model_is_a_clear_error(tmp_path: Path, articles_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--model", str(tmp_path / "nope"), "--data", str(articles_csv)])
    assert code == 2
    assert "no model at" in capsys.readouterr().err


def test_bad_option_values_are_refused(tmp_path: Path, articles_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "train",
            "--data",
            str(articles_csv),
            "--label-col",
            "category",
            "--name",
            "x",
            "--models-dir",
            str(tmp_path),
            "--test-size",
            "1.5",
        ]
    )
    assert code == 2
    assert "test_size must be between 0 and 1" in capsys.readouterr().err


def test_models_dir_from_environment(
    tmp_path: Path, articles_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSDESK_MODELS", str(tmp_path / "env-models"))
    assert (
        main(
            [
                "train",
                "--data",
                str(articles_csv),
                "--label-col",
                "category",
                "--name",
                "envy",
                "--calibration-folds",
                "3",
            ]
        )
        == 0
    )
    assert (tmp_path / "env-models" / "envy" / "v0001" / "manifest.json").is_file()


def test_versions_lists_and_rolls_back(tmp_path: Path, articles_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "train",
        "--data",
        str(articles_csv),
        "--label-col",
        "category",
        "--name",
        "tiny",
        "--models-dir",
        str(tmp_path),
        "--calibration-folds",
        "3",
    ]
    assert main(args) == 0 and main(args + ["--seed", "1"]) == 0
    capsys.readouterr()
    assert main(["versions", "--model", str(tmp_path / "tiny")]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].startswith("  v0001") and listing[1].startswith("* v0002")
    assert "accuracy" in listing[0]
    assert main(["versions", "--model", str(tmp_path / "tiny"), "--use", "v0001"]) == 0
    assert load_bundle(tmp_path / "tiny").version == "v0001"
    assert main(["versions", "--model", str(tmp_path / "tiny"), "--use", "v0007"]) == 2
    assert "no version v0007" in capsys.readouterr().err


def test_console_script_is_installed_and_imports_stay_light() -> None:
    """`newsdesk` is on PATH beside this Python, and importing the CLI loads no torch and does no work."""
    import shutil
    import subprocess
    import sys

    script = Path(sys.executable).with_name("newsdesk")
    assert script.exists() or shutil.which("newsdesk"), "the newsdesk console script is not installed"
    done = subprocess.run(
        [str(script) if script.exists() else "newsdesk", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "train" in done.stdout and "evaluate" in done.stdout
    probe = (
        "import sys, os; before = set(os.listdir('.')); import newsdesk.serve.cli, newsdesk.train.pipeline, newsdesk.train.bundle; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules; "
        "assert set(os.listdir('.')) == before"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False).returncode == 0


def test_train_and_evaluate_with_summaries_report_rouge(
    tmp_path: Path, summaries_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    assert (
        main(
            [
                "train",
                "--data",
                str(summaries_csv),
                "--label-col",
                "category",
                "--name",
                "news",
                "--models-dir",
                str(models),
                "--calibration-folds",
                "3",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "held-out summaries: rouge1" in err and "lead-3 rouge2" in err
    assert (
        main(["evaluate", "--model", str(models / "news"), "--data", str(summaries_csv), "--label-col", "category"])
        == 0
    )
    out = capsys.readouterr().out
    assert "summaries (80 articles with references), ROUGE F1:" in out
    assert all(system in out for system in ("ours", "lead3", "lead_matched", "textrank", "oracle"))
    assert main(["versions", "--model", str(models / "news")]) == 0
    assert "rouge2" in capsys.readouterr().out


@pytest.mark.parametrize("prior", ["uniform", "training"])
def test_train_prior_option_reaches_the_bundle(tmp_path: Path, articles_csv: Path, prior: str) -> None:
    argv = ["train", "--data", str(articles_csv), "--label-col", "category", "--name", "p"]
    argv += ["--models-dir", str(tmp_path), "--calibration-folds", "3", "--prior", prior, "--no-progress"]
    assert main(argv) == 0
    classifier = load_bundle(tmp_path / "p").classifier
    assert classifier.training_params()["prior"] == prior
    assert classifier.intercept_.any() == (prior == "training")


def test_train_refuses_an_unknown_prior(tmp_path: Path, articles_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "--data", str(articles_csv), "--label-col", "category", "--name", "p"]
    with pytest.raises(SystemExit):
        main([*argv, "--models-dir", str(tmp_path), "--prior", "balanced"])
    assert "invalid choice: 'balanced'" in capsys.readouterr().err
