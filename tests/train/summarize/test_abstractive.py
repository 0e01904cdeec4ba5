"""The abstractive summariser on a tiny random BART: windows at sentence boundaries, merging, training, bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.training import ARTICLES_CSV, train_tiny
from newsdesk.train.bundle import load_bundle
from newsdesk.train.summarize.abstractive import AbstractiveConfig, AbstractiveSummarizer
from newsdesk.train.summarize.base import Summary, SummaryError
from newsdesk.train.text.sentences import split_sentences

MARKER = "The zebra quartet finally played in Reykjavik."
GENERATION = {"max_new_tokens": 12, "min_new_tokens": 2, "num_beams": 1, "no_repeat_ngram_size": 0}


def long_article(tokenizer, tokens: int = 5000) -> str:
    """Fixture sentences repeated in paragraphs until the text has ``tokens`` tokens, then the marker sentence."""
    frame = pd.read_csv(ARTICLES_CSV, dtype=str, keep_default_na=False)
    sentences = [s.text for body in frame.text for s in split_sentences(body)]
    paragraphs, count, n = [], 0, 0
    while count < tokens:
        paragraph = " ".join(sentences[(n + k) % len(sentences)] for k in range(4))
        paragraphs.append(paragraph)
        count += len(tokenizer(paragraph, add_special_tokens=False)["input_ids"])
        n += 4
    return "\n\n".join([*paragraphs, MARKER])


@pytest.fixture(scope="module")
def summarizer(tiny_bart: Path) -> AbstractiveSummarizer:
    return AbstractiveSummarizer(AbstractiveConfig(str(tiny_bart), finetune=False, **GENERATION)).load()


def test_windows_cover_every_sentence_in_order_within_the_limit(summarizer: AbstractiveSummarizer) -> None:
    tokenizer = summarizer._parts()[0]
    article = long_article(tokenizer)
    assert len(tokenizer(article)["input_ids"]) > 5000 > summarizer.input_limit == 128
    windows = summarizer.chunk(article)
    assert len(windows) > 40
    assert all(len(tokenizer(w)["input_ids"]) <= summarizer.input_limit for w in windows)
    # Every sentence is in exactly one window, in article order, and windows end at sentence boundaries.
    assert [s.text for w in windows for s in split_sentences(w)] == [s.text for s in split_sentences(article)]
    assert windows[-1].endswith(MARKER)


def test_a_sentence_longer_than_a_window_is_split_between_words(summarizer: AbstractiveSummarizer) -> None:
    tokenizer = summarizer._parts()[0]
    sentence = " ".join(["the minister said the budget would rise"] * 40) + "."
    windows = summarizer.chunk(sentence)
    assert len(windows) > 1 and all(len(tokenizer(w)["input_ids"]) <= summarizer.input_limit for w in windows)
    assert " ".join(windows).split() == sentence.split()


def test_the_last_sentence_reaches_the_merged_summary_input(
    summarizer: AbstractiveSummarizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokenizer = summarizer._parts()[0]
    article = long_article(tokenizer)
    # A stand-in model that "summarises" a window by its last sentence, so the marker must survive every merge.
    monkeypatch.setattr(summarizer, "generate", lambda texts: [split_sentences(t)[-1].text for t in texts])
    result = summarizer.summarize_long(article)
    assert len(result.rounds) >= 2
    assert MARKER in result.rounds[0][-1]
    assert MARKER in " ".join(result.rounds[1])  # the input of the merged-summary round
    assert result.text.endswith(MARKER)


def test_a_long_article_is_summarised_with_the_real_model(summarizer: AbstractiveSummarizer) -> None:
    tokenizer = summarizer._parts()[0]
    article = long_article(tokenizer, tokens=1500)
    seen: list[list[str]] = []
    generate = summarizer.generate

    def recording(texts: list[str]) -> list[str]:
        seen.append(list(texts))
        return generate(texts)

    summarizer.generate = recording  # type: ignore[method-assign]
    try:
        summary = summarizer.summarize_clean(article, max_sentences=2)
    finally:
        del summarizer.generate
    assert isinstance(summary, Summary) and summary.method == "abstractive"
    assert 1 <= len(summary.sentences) <= 2
    assert all(s.index == -1 and s.start == -1 and s.end == -1 for s in summary.sentences)
    assert summary.n_sentences == len(split_sentences(article)) and summary.cleaned_text == article
    assert MARKER in seen[0][-1] and len(seen) >= 2


def test_length_options_and_empty_input(summarizer: AbstractiveSummarizer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        summarizer, "summarize_long", lambda body: type("R", (), {"text": "One two. Three four five. Six."})()
    )
    body = " ".join(f"Sentence number {n} is about the markets." for n in range(10))
    assert len(summarizer.summarize_clean(body).sentences) == 3
    assert len(summarizer.summarize_clean(body, max_sentences=1).sentences) == 1
    assert len(summarizer.summarize_clean(body, ratio=0.2).sentences) == 2
    assert [s.text for s in summarizer.summarize_clean(body, max_words=4).sentences] == ["One two."]
    with pytest.raises(SummaryError, match="empty"):
        summarizer.summarize_clean("   ")
    with pytest.raises(SummaryError, match="ratio"):
        summarizer.summarize_clean(body, ratio=2.0)


def test_fine_tuned_abstractive_bundle_round_trip(tiny_bart: Path, tmp_path: Path, summaries_csv: Path) -> None:
    config = AbstractiveConfig(str(tiny_bart), epochs=1, batch_size=8, learning_rate=1e-3, **GENERATION)
    result = train_tiny(tmp_path, "abs", data=summaries_csv, summarizer_kind="abstractive", abstractive=config)
    bundle = load_bundle(result.path)
    entry = bundle.manifest["summarizer"]
    assert entry["kind"] == "abstractive" and entry["training"]["finetuned"] is True
    assert entry["training"]["pairs"] == 60 and entry["config"]["max_new_tokens"] == 12
    assert "summarizer_model/model.safetensors" in bundle.manifest["files"]
    metrics = json.loads((result.path / "metrics.json").read_text())["summarizer"]
    assert metrics["evaluated"] and metrics["kind"] == "abstractive" and metrics["articles"] == 20
    assert set(bundle.manifest["summary_metrics"]) == {"rouge1", "rouge2", "rougeLsum"}
    card = (result.path / "README.md").read_text()
    assert "Abstractive:" in card and "fine-tuned on the reference summaries" in card
    article = pd.read_csv(summaries_csv).text[0]
    first = bundle.summarizer.summarize_long(article)
    # Greedy decoding: the reloaded model writes the same text (a tiny model may well write nothing at all).
    assert first.text == load_bundle(result.path).summarizer.summarize_long(article).text


def test_abstractive_without_finetuning_and_evaluate(
    tiny_bart: Path,
    tmp_path: Path,
    summaries_csv: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from newsdesk.serve.cli import main

    models = tmp_path / "models"
    code = main([
        "train", "--data", str(summaries_csv), "--label-col", "category", "--name", "abs", "--models-dir",
        str(models), "--calibration-folds", "3", "--summarizer", "abstractive", "--base-model", str(tiny_bart),
        "--no-finetune", "--max-new-tokens", "8", "--num-beams", "1",
    ])  # fmt: skip
    assert code == 0
    bundle = load_bundle(models / "abs")
    assert bundle.manifest["summarizer"]["training"] == {"finetuned": False}
    assert bundle.manifest["classifier"]["backend"] == "tfidf-linear-svm"
    capsys.readouterr()
    assert (
        main(["evaluate", "--model", str(models / "abs"), "--data", str(summaries_csv), "--label-col", "category"]) == 0
    )
    out = capsys.readouterr().out
    assert "ours" in out and "lead3" in out and "textrank" not in out


def test_abstractive_needs_a_model_and_references(tiny_bart: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--base-model"):
        train_tiny(tmp_path, summarizer_kind="abstractive")
    with pytest.raises(ValueError, match="no-finetune"):
        train_tiny(tmp_path, summarizer_kind="abstractive", abstractive=AbstractiveConfig(str(tiny_bart)))
