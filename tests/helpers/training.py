"""Training helpers shared by tests: the fixture articles, tiny bundles, composite summaries."""

from __future__ import annotations

import os
import shutil
from itertools import combinations
from pathlib import Path

import pandas as pd

from helpers.paths import FIXTURES, ROOT
from newsdesk.train.bundle import (
    CLASSIFIER_ARRAYS,
    CONFUSION_PNG,
    METRICS,
    MODEL_CARD,
    SUMMARIZER_ARRAYS,
    SUMMARIZER_JSON,
    VOCABULARY,
)
from newsdesk.train.data import ColumnMap
from newsdesk.train.pipeline import ClassifierConfig, TrainConfig, TrainResult, train_model
from newsdesk.train.text.sentences import sentence_texts
from newsdesk.train.versions import set_current

ARTICLES_CSV = FIXTURES / "articles.csv"
DATA_ENV = "NEWSDESK_DATA"
BUNDLE_FILES = [VOCABULARY, CLASSIFIER_ARRAYS, SUMMARIZER_JSON, SUMMARIZER_ARRAYS, METRICS, CONFUSION_PNG, MODEL_CARD]
"""Every file a TF-IDF bundle's manifest lists (the manifest itself is checked by its own digest)."""


def shared_data_dir() -> Path:
    """``$NEWSDESK_DATA``, or ``shared/data`` beside the checkout."""
    return Path(os.environ.get(DATA_ENV) or ROOT.parent / "shared" / "data")


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


def composite_articles(articles: pd.DataFrame, per_article: int = 3) -> pd.DataFrame:
    """Longer articles with extractive reference summaries, built from the fixture articles.

    Each composite joins ``per_article`` fixture articles of one topic as paragraphs; its
    reference summary is the first sentence of each paragraph (the ledes), glued together
    without spaces the way the BBC summaries are. A summariser that learns anything about
    position learns to pick the ledes.
    """
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
