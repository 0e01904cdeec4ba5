"""Progress: bars only on a terminal (or with --progress); in a log, one line per stage and no carriage return."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from helpers.training import ARTICLES_CSV
from newsdesk.serve.cli import main
from newsdesk.train import progress
from newsdesk.train.progress import StageLine, bars_wanted, progress_bar, set_progress_bars, stage_line, track


@pytest.fixture(autouse=True)
def decide_by_terminal() -> None:
    set_progress_bars(None)
    yield
    set_progress_bars(None)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_follow_the_terminal_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not bars_wanted()
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert bars_wanted()
    set_progress_bars(False)
    assert not bars_wanted()
    set_progress_bars(True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert bars_wanted()


def test_a_log_gets_one_line_per_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    assert list(track(range(5), "reading", "files")) == [0, 1, 2, 3, 4]
    bar = progress_bar("scoring", " rows", initial=10, unit_scale=True)
    assert isinstance(bar, StageLine)
    bar.update(90)
    bar.set_postfix_str("100% of input")
    bar.close()
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue()
    assert lines[0].startswith("reading: 5 files in ") and lines[1].startswith("scoring: 90 rows in ")
    assert lines[1].endswith("; 100% of input")


def test_a_terminal_gets_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert sum(track(range(3), "reading", "files")) == 3
    assert "\r" in screen.getvalue() and "reading" in screen.getvalue()


def test_disabled_progress_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    assert list(track([1, 2], "x", "items", enabled=False)) == [1, 2]
    bar = progress_bar("x", "items", enabled=False)
    bar.update(3)
    bar.close()
    assert log.getvalue() == ""


def test_stage_line_says_count_seconds_and_rate() -> None:
    assert stage_line("evaluating", 2000, "articles", 4.0) == "evaluating: 2000 articles in 4.0 s, 500.0 articles/s"
    assert stage_line("empty", 0, "rows", 0.0) == "empty: 0 rows in 0.0 s"


def test_train_evaluate_and_score_logs_have_no_carriage_return(
    tmp_path: Path, summaries_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    train = ["train", "--data", str(summaries_csv), "--label-col", "category", "--name", "news"]
    assert main([*train, "--models-dir", str(models), "--calibration-folds", "3"]) == 0
    train_log = capsys.readouterr().err
    assert "\r" not in train_log
    assert "summariser features: " in train_log and "evaluating summaries: " in train_log
    assert "held-out summaries: rouge1" in train_log

    evaluate = ["evaluate", "--model", str(models / "news"), "--data", str(summaries_csv), "--label-col", "category"]
    assert main([*evaluate, "--jobs", "1"]) == 0
    evaluate_log = capsys.readouterr().err
    assert "\r" not in evaluate_log and "evaluating summaries: 80 articles in " in evaluate_log

    out = tmp_path / "scored.csv"
    assert main(["score", str(ARTICLES_CSV), "--model", str(models / "news"), "--out", str(out)]) == 0
    score_log = capsys.readouterr().err
    assert "\r" not in score_log and "scoring: 24 rows in " in score_log

    assert (
        main(
            [
                "score",
                str(ARTICLES_CSV),
                "--model",
                str(models / "news"),
                "--out",
                str(out),
                "--overwrite",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "scoring:" not in capsys.readouterr().err


def test_progress_forces_bars_into_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    train = ["train", "--data", str(ARTICLES_CSV), "--label-col", "category", "--name", "tiny"]
    assert main([*train, "--models-dir", str(models), "--calibration-folds", "3", "--progress"]) == 0
    assert "\r" in capsys.readouterr().err
    assert progress.bars_wanted()  # the choice stays until the next command sets it
