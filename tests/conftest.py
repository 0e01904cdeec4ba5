"""Shared fixtures: tiny real-looking articles, a trained tiny bundle, and the shared datasets."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from train.bundle import set_current
from train.data import ColumnMap
from train.training import ClassifierConfig, TrainConfig, TrainResult, train_model

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES_CSV = FIXTURES / "articles.csv"
DATA_ENV = "NEWSDESK_DATA"


def shared_data_dir() -> Path:
    """``$NEWSDESK_DATA``, or ``shared/data`` beside the checkout."""
    return Path(os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[2] / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets; tests that need them are skipped with a reason when absent."""
    path = shared_data_dir()
    if not (path / "bbc-news-summary").is_dir():
        pytest.skip(f"real datasets not found at {path}; set {DATA_ENV} to the folder holding bbc-news-summary/")
    return path


@pytest.fixture(scope="session")
def articles_csv() -> Path:
    """24 short news articles in 4 topics (columns id, title, text, category)."""
    return ARTICLES_CSV


@pytest.fixture(scope="session")
def articles() -> pd.DataFrame:
    return pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)


def train_tiny(models_dir: Path, name: str = "tiny", data: Path = ARTICLES_CSV, **overrides) -> TrainResult:
    """Train a bundle on the fixture articles into ``models_dir``."""
    config = TrainConfig(
        data=data,
        name=name,
        models_dir=models_dir,
        columns=ColumnMap(label="category"),
        test_size=0.25,
        classifier=ClassifierConfig(calibration_folds=3),
        **overrides,
    )
    return train_model(config, progress=lambda line: None)


def train_versions(models_dir: Path, count: int) -> Path:
    """``models_dir/tiny`` with ``count`` versions (seeds 0, 1, ...) saved and v0001 current."""
    for seed in range(count):
        train_tiny(models_dir, seed=seed)
    set_current(models_dir / "tiny", "v0001")
    return models_dir / "tiny"


def private_copy(model: Path, tmp_path: Path) -> Path:
    """A copy of a model folder that one test may change."""
    target = tmp_path / "models" / model.name
    shutil.copytree(model, target)
    return target


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``models/tiny`` trained once per session; tests must not modify it."""
    models = tmp_path_factory.mktemp("models")
    train_tiny(models)
    return models / "tiny"


def composite_articles(articles: pd.DataFrame, per_article: int = 3) -> pd.DataFrame:
    """Longer articles with extractive reference summaries, built from the fixture articles.

    Each composite joins ``per_article`` fixture articles of one topic as paragraphs; its
    reference summary is the first sentence of each paragraph (the ledes), glued together
    without spaces the way the BBC summaries are. A summariser that learns anything about
    position learns to pick the ledes.
    """
    from itertools import combinations

    from train.sentences import sentence_texts

    rows = []
    for category, group in articles.groupby("category", sort=True):
        bodies = list(group["text"])
        titles = list(group["title"])
        for n, combo in enumerate(combinations(range(len(bodies)), per_article)):
            paragraphs = [bodies[i] for i in combo]
            ledes = [sentence_texts(p)[0] for p in paragraphs]
            rows.append(
                {
                    "id": f"{category}-c{n:02d}",
                    "title": titles[combo[0]],
                    "text": "\n\n".join(paragraphs),
                    "summary": "".join(reversed(ledes)),  # out of article order, as in BBC
                    "category": category,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def summaries_csv(articles: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 composite articles (4 topics) with lede-sentence reference summaries; see :func:`composite_articles`."""
    path = tmp_path_factory.mktemp("summaries") / "summaries.csv"
    composite_articles(articles).to_csv(path, index=False)
    return path
