"""``newsdesk train``: near-duplicates reported before the split, removed with ``--dedupe near``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newsdesk.train.data import ColumnMap
from newsdesk.train.pipeline import ClassifierConfig, TrainConfig, train_model
from newsdesk.train.stories.clusters import NONE
from newsdesk.train.stories.dedupe import find_near_duplicates, keep_first, near_duplicate_lines


def with_near_copies(articles: pd.DataFrame, path: Path) -> Path:
    """The fixture articles plus lightly edited copies of four of them (one relabelled)."""
    copies = articles.iloc[[0, 6, 12, 18]].copy()
    copies["id"] = copies["id"] + "-update"
    copies["text"] = "UPDATE 1 - " + copies["text"] + " (Reporting by Jane Doe)"
    copies.iloc[3, copies.columns.get_loc("category")] = articles.category.iloc[0]
    pd.concat([articles, copies]).to_csv(path, index=False)
    return path


def test_find_near_duplicates_counts_groups_conflicts_and_leaks(articles: pd.DataFrame) -> None:
    texts = articles.text.tolist()
    texts += ["UPDATE - " + texts[0] + " More follows.", texts[1] + " Share this."]
    labels = [(c,) for c in articles.category] + [("other",), (articles.category[1],)]
    found = find_near_duplicates(texts, labels)
    n = len(articles)
    assert found.count == 2 and found.groups == 2 and found.conflicting == 1
    assert found.duplicate_of[n] == 0 and found.duplicate_of[n + 1] == 1
    assert found.leaking(train_idx=[0, 1], test_idx=[n, n + 1, 5]) == 2
    assert found.leaking(train_idx=[0, n + 1], test_idx=[1, n]) == 2  # the first can leak too
    assert found.leaking(train_idx=[2, 3], test_idx=[0, n]) == 0
    assert keep_first(found) == list(range(n))
    assert "removed 2 near-duplicate texts in 2 groups" in near_duplicate_lines(found, removed=True)[0]
    lines = near_duplicate_lines(found, removed=False, leaking=2)
    assert "1 of them had a different label" in lines[0] and "--dedupe near" in lines[1]
    assert near_duplicate_lines(find_near_duplicates(texts[:3], labels[:3]), False) == [
        "no near-duplicate texts found (beyond exact duplicates)"
    ]
    assert (find_near_duplicates(texts[:3], labels[:3]).duplicate_of == NONE).all()


def tiny_config(tmp_path: Path, name: str, data: Path, **overrides: object) -> TrainConfig:
    return TrainConfig(
        data=data,
        name=name,
        models_dir=tmp_path / "models",
        columns=ColumnMap(label="category"),
        test_size=0.25,
        classifier=ClassifierConfig(calibration_folds=3),
        **overrides,  # type: ignore[arg-type]
    )


def test_train_reports_and_removes_near_duplicates(articles: pd.DataFrame, tmp_path: Path) -> None:
    data = with_near_copies(articles, tmp_path / "with_copies.csv")
    lines: list[str] = []
    train_model(tiny_config(tmp_path, "kept", data), progress=lines.append)
    assert any(line.startswith("found 4 near-duplicate texts in 4 groups") for line in lines), lines
    assert any("28 articles" in line for line in lines)
    lines.clear()
    train_model(tiny_config(tmp_path, "near", data, dedupe="near"), progress=lines.append)
    assert any(line.startswith("removed 4 near-duplicate texts") for line in lines), lines
    assert any("24 articles" in line for line in lines)


def test_dedupe_mode_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dedupe must be one of exact, near"):
        TrainConfig(data=tmp_path / "x.csv", name="x", dedupe="fuzzy")
