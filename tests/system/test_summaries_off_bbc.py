"""A summariser trained on BBC, judged on CNN/Daily Mail stories it never saw (slow: real datasets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newsdesk.train.data import Article, ColumnMap, load_dataset
from newsdesk.train.summarize.extractive import ExtractiveSummarizer
from newsdesk.train.summarize.metrics import referenced_articles
from newsdesk.train.summarize.rouge import mean_rouge

pytestmark = pytest.mark.slow


def test_brief_summaries_of_cnndm_beat_lead3_minus_a_point(shared_data: Path) -> None:
    bbc = load_dataset(shared_data / "bbc-news-summary" / "bbc-news-summary.csv", ColumnMap(label="category"))
    model = ExtractiveSummarizer().fit(
        [a.text for a in bbc.articles], [a.title for a in bbc.articles], [a.summary for a in bbc.articles]
    )
    frame = pd.read_csv(shared_data / "cnndm-frank" / "cnndm-frank-250.csv", keep_default_na=False, dtype=str)
    stories = [Article(id=r.id, text=r.text, title=r.title, summary=r.summary) for r in frame.itertuples()]
    brief, lead3, references = [], [], []
    for item in referenced_articles(stories):
        summary = model.summarize_clean(item.body, item.title)  # the default: brief
        assert len(summary.sentences) <= 3
        brief.append([s.text for s in summary.sentences])
        lead3.append(item.sentences[:3])
        references.append(item.reference)
    ours, lead = mean_rouge(brief, references), mean_rouge(lead3, references)
    assert ours["rouge2"] >= lead["rouge2"] - 0.01
