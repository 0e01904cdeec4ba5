"""Helpers for the HTTP API tests: settings without stray NEWSDESK_* variables, apps, articles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from helpers.paths import FIXTURES
from newsdesk.serve.api.app import create_app
from newsdesk.serve.api.settings import ENV_PREFIX, ServeSettings

FIXTURE_ARTICLES = FIXTURES / "articles.csv"
SPORT_TEXT = (
    "The striker scored twice in the second half as the champions beat their rivals 3-1 at home. "
    "The manager praised the defence after a fourth league win in a row. "
    "The goalkeeper made three fine saves before half-time. "
    "The club now sit two points clear at the top of the table with six matches left."
)


@contextmanager
def clean_environment() -> Iterator[None]:
    """Hide every NEWSDESK_* and PROMETHEUS_MULTIPROC_DIR variable while the block runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(ENV_PREFIX) or name == "PROMETHEUS_MULTIPROC_DIR":
                patch.delenv(name)
        yield


def make_settings(model: Path, **overrides: Any) -> ServeSettings:
    """Settings for ``model`` from these arguments only (the environment is ignored)."""
    with clean_environment():
        return ServeSettings(model=model, **overrides)


def make_app(model: Path, **overrides: Any) -> FastAPI:
    """An app serving ``model``; start it with ``with TestClient(app)``."""
    return create_app(make_settings(model, **overrides))


@contextmanager
def serving(model: Path, **overrides: Any) -> Iterator[TestClient]:
    """A started app (lifespan run) with a test client."""
    with TestClient(make_app(model, **overrides)) as client:
        yield client


def fixture_articles() -> pd.DataFrame:
    """The 24 fixture articles (id, title, text, category)."""
    return pd.read_csv(FIXTURE_ARTICLES, dtype=str, keep_default_na=False)


def flip_byte(path: Path, offset: int = 100) -> None:
    """Damage a file in place by inverting one byte."""
    data = bytearray(path.read_bytes())
    data[min(offset, len(data) - 1)] ^= 0xFF
    path.write_bytes(bytes(data))


def metric_value(text: str, metric: str, /, **labels: str) -> float:
    """The value of one sample in Prometheus text output (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(metric + "{") and line.split(" ")[0] != metric:
            continue
        sample, _, value = line.rpartition(" ")
        if all(f'{key}="{val}"' in sample for key, val in labels.items()):
            return float(value)
    return 0.0
