"""Shared fixtures: tiny real-looking articles, a trained tiny bundle, and the shared datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from helpers.training import ARTICLES_CSV, DATA_ENV, composite_articles, shared_data_dir, train_tiny

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test reaches a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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


@pytest.fixture(scope="session")
def tiny_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``models/tiny`` trained once per session; tests must not modify it."""
    models = tmp_path_factory.mktemp("models")
    train_tiny(models)
    return models / "tiny"


@pytest.fixture(scope="session")
def summaries_csv(articles: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 composite articles (4 topics) with lede-sentence reference summaries; see :func:`composite_articles`."""
    path = tmp_path_factory.mktemp("summaries") / "summaries.csv"
    composite_articles(articles).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a 2-layer BERT (hidden size 32, 64 positions) with random weights."""
    pytest.importorskip("transformers", reason="the transformer backends need the 'transformers' extra")
    from helpers.tiny_models import build_tiny_bert

    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_bart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a 2-layer BART (d_model 32, 128 positions) with random weights."""
    pytest.importorskip("transformers", reason="the transformer backends need the 'transformers' extra")
    from helpers.tiny_models import build_tiny_bart

    return build_tiny_bart(tmp_path_factory.mktemp("tiny-bart"))
