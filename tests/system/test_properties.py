"""Property tests (hypothesis) for the text path: cleaning, sentence splitting, summarising, classifying.

Inputs mix realistic news lines (story sentences, bylines, timestamps, share links, menus) with
adversarial Unicode (control characters, NUL, bidi marks and overrides, zero-width characters,
emoji and ZWJ sequences, combining marks, astral characters, HTML fragments), so both the
boilerplate rules and the Unicode handling are exercised. Each property runs a bounded number
of examples; ``HYPOTHESIS_PROFILE=thorough`` runs many more.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from helpers.training import composite_articles
from newsdesk.train.classify.tfidf import TopicClassifier
from newsdesk.train.summarize.base import SummaryError
from newsdesk.train.summarize.extractive import ExtractiveSummarizer
from newsdesk.train.summarize.hygiene import candidate_sentences
from newsdesk.train.text.cleaning import (
    _CONTROL,
    CleaningOptions,
    clean_body,
    clean_body_report,
    clean_text,
    clean_title,
    join_title_body,
    prepare_article,
)
from newsdesk.train.text.sentences import split_sentences

_PROFILES = {"default": 200, "thorough": 5000}
_EXAMPLES = _PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", "default"), _PROFILES["default"])
PROPERTY = settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Settings of every property: bounded examples, no deadline (model calls vary in speed)."""
SLOW_PROPERTY = settings(PROPERTY, max_examples=max(_EXAMPLES // 2, 1))

TEXT_OPTIONS = (
    CleaningOptions(),
    CleaningOptions(remove_boilerplate=False),
    CleaningOptions(format="text"),
    CleaningOptions(format="text", remove_boilerplate=False),
    CleaningOptions(format="html"),
    CleaningOptions(format="html", remove_boilerplate=False),
)

# ---------------------------------------------------------------------------- strategies

NEWS_LINES = (
    "The central bank raised interest rates by a quarter of a percentage point on Thursday.",
    "Shares in house builders fell sharply after the announcement, and the pound rose against the dollar.",
    '"We will not hesitate to act again if inflation stays high," the governor told reporters.',
    "United moved to the top of the league after a late goal from their captain settled the match.",
    "The minister said the new rules would come into force in April, according to officials.",
    "Is it over? Not yet! Wait.",
    "Dr. Jones arrived at 9 a.m. on Monday. She left at No. 10 Downing Street.",
    "Profits rose 3.5% to $10.9bn.For the full year, sales fell.",
    "Election results",
    "Analysis",
    "By Jane Smith",
    "By Jane Smith, Political correspondent",
    "- 10 hours ago",
    "Updated 12:03 GMT, 5 May 2025",
    "Published 2024-03-01T10:00:00Z",
    "Share this article",
    "Share",
    "Read more: Bank raises rates again",
    "Home | World | Sport | Business",
    "Home » News » Politics",
    "Image caption, The governor at the press conference",
    "Advertisement",
    "34 comments",
    "© 2025 BBC. All rights reserved.",
    "Sign up to our newsletter to get the news in your inbox.",
    "We use cookies to personalise your experience. Accept all cookies",
    "Most read",
    "- Rates rise to 5%",
    "• Inflation falls",
    "The main measures:",
    "Photograph: Reuters (Reuters)",
)

NASTY = (
    "\x00",
    "\x01",
    "\x07",
    "\x1b",
    "\x1c",
    "\x7f",
    "\x85",
    "\x9f",
    "\r",
    "\r\n",
    "\t",
    "\x0b",
    "\x0c",
    "\u00a0",
    "\u00ad",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u2028",
    "\u2029",
    "\u3000",
    "\ufeff",
    "\ufff9",
    "\ufffd",
    "\U000e0001",
    "😀",
    "👩\u200d👩\u200d👧\u200d👦",
    "🏳\ufe0f\u200d🌈",
    "🇬🇧",
    "👍🏽",
    "e\u0301",
    "\u0301",
    "a" + "\u0300" * 30,
    "\u0345",
    "\u1100\u1161\u11a8",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "𠜎𠜱",
    "\U0010fffd",
    "\ufb01",
    "\uff21\uff22",
    "\u2167",
    "\u00bd",
    "\u00df",
    "\u0130",
    "\ufdfa",
    "\u2026",
    "\u201c",
    "\u201d",
    "\u2014",
    "\u00a9",
    "مرحبا بالعالم",
    "שלום",
    "नमस्ते",
    "ไทย",
    "...",
    "?!",
    "|",
    "»",
    "<",
    ">",
    "&",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&#xD800;",
    "&#",
    "&nbsp",
    "<p>",
    "</p>",
    "<br/>",
    "<div class='nav'>",
    "</div>",
    "<!--",
    "-->",
    "<!-- comment -->",
    "<script>",
    "</script>",
    "<style>p{}</style>",
    "<![CDATA[",
    "<![if",
    "<![foo[",
    "<!",
    "<!doctype",
    "<?xml version='1.0' encoding='utf-8'?>",
    "<html>",
    "<!DOCTYPE html>",
    "<body>",
    "<a href='",
    "<p <p",
    "</",
    "<svg><text>x</text></svg>",
)

nasty = st.sampled_from(NASTY)
news_line = st.sampled_from(NEWS_LINES)
separator = st.sampled_from(["\n", "\n\n", " ", "", "\r\n", "\u2029", "\n \n", "\n\n\n"])


@st.composite
def spoiled_line(draw: st.DrawFn) -> str:
    """A news line with adversarial fragments inserted at random places."""
    line = draw(news_line)
    for fragment, at in draw(st.lists(st.tuples(nasty, st.floats(0, 1)), max_size=4)):
        cut = int(at * len(line))
        line = line[:cut] + fragment + line[cut:]
    return line


piece = st.one_of(news_line, news_line, spoiled_line(), nasty, st.text(max_size=40))


@st.composite
def news_documents(draw: st.DrawFn) -> str:
    """A document of news lines, adversarial fragments and arbitrary text, joined by assorted breaks."""
    parts = draw(st.lists(st.tuples(piece, separator), min_size=draw(st.sampled_from([0, 4, 12])), max_size=30))
    return "".join(p + s for p, s in parts)


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    """A web page (or a fragment of one) whose elements hold news lines and adversarial fragments."""
    tags = st.sampled_from(["p", "p", "p", "li", "h1", "h2", "nav", "div", "span", "a", "script", "style", "footer"])
    elements = draw(st.lists(st.tuples(tags, piece, st.sampled_from(["", "\n", "<br>"])), min_size=1, max_size=30))
    body = "".join(f"<{tag}>{text}</{tag}>{after}" for tag, text, after in elements)
    if draw(st.booleans()):
        body = f"<!DOCTYPE html><html><head><title>News</title></head><body><article>{body}</article></body></html>"
    return body + draw(st.sampled_from(["", "<p", "<!--", "</div", "<![if", "&"]))


documents = st.one_of(
    news_documents(),
    news_documents(),
    html_pages(),
    st.text(),
    st.text(alphabet=st.sampled_from("<>/!-&#;p \n.")),
)
titles = st.one_of(st.just(""), news_line, spoiled_line(), st.text(max_size=80))

# The named nasties, as explicit examples of every property.
NAMED = (
    "\n" * 100_000,
    "a" * 100_000,
    "\u200f\u202eThe bank\u202c raised rates.\u200e",
    "😀👩\u200d👩\u200d👧\u200d👦 The team won. 🇬🇧👍🏽",
    "   \t \u3000 \u00a0 ",
    "?!.,;:--...",
    "\x00",
    "",
)


def named_examples(param: str = "text", **others: object):  # type: ignore[no-untyped-def]
    """Run a property on each of :data:`NAMED` (as ``param``, the other arguments fixed) before random inputs."""

    def decorate(test):  # type: ignore[no-untyped-def]
        for text in NAMED:
            test = example(**{param: text}, **others)(test)
        return test

    return decorate


def _words(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------- cleaning


@named_examples()
@given(documents)
@PROPERTY
def test_clean_text_is_idempotent_and_drops_control_characters(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert not _CONTROL.search(cleaned)
    assert "\r" not in cleaned and cleaned == cleaned.strip()


@named_examples("title")
@given(titles)
@PROPERTY
def test_clean_title_is_idempotent_and_one_line(title: str) -> None:
    cleaned = clean_title(title)
    assert clean_title(cleaned) == cleaned
    assert "\n" not in cleaned


@named_examples(title="", options=CleaningOptions(format="html"))
@given(documents, titles, st.sampled_from(TEXT_OPTIONS))
@PROPERTY
def test_clean_body_report_never_raises(text: str, title: str, options: CleaningOptions) -> None:
    report = clean_body_report(text, clean_title(title), options)
    event(
        f"{report.format}, {'some' if report.removed else 'no'} lines removed, {'empty' if not report.text else 'text'}"
    )
    assert isinstance(report.text, str) and report.format in ("text", "html")
    assert all(isinstance(line, str) and isinstance(reason, str) for line, reason in report.removed)
    assert prepare_article(text, title, options) is not None


@named_examples(title="By Jane Smith", boilerplate=True)
@given(documents, titles, st.booleans())
@PROPERTY
def test_clean_body_as_text_is_idempotent(text: str, title: str, boilerplate: bool) -> None:
    options = CleaningOptions(format="text", remove_boilerplate=boilerplate)
    title = clean_title(title)
    cleaned = clean_body(text, title, options)
    assert clean_body(cleaned, title, options) == cleaned


@named_examples(title="", options=CleaningOptions())
@given(documents, titles, st.sampled_from(TEXT_OPTIONS))
@PROPERTY
def test_prepared_article_body_is_a_fixed_point(text: str, title: str, options: CleaningOptions) -> None:
    """Whatever the input format, the body prepare_article uses is plain text that cleaning leaves alone.

    Re-cleaning is checked as text: ``"auto"`` detection is a heuristic on the raw input, and a text
    article whose first line was furniture may start with ``<html>`` once that line is gone.
    """
    title = clean_title(title)
    cleaned = clean_body(text, title, options)
    assert prepare_article(text, title, options) == join_title_body(title, cleaned)
    assert clean_body(cleaned, title, options.overridden(format="text")) == cleaned


# ---------------------------------------------------------------------------- sentences


def _check_sentences(text: str) -> None:
    sentences = split_sentences(text)
    previous_end, previous_paragraph = 0, 0
    for s in sentences:
        assert previous_end <= s.start < s.end <= len(text)
        assert s.text and s.text == s.text.strip()
        assert _words(text[s.start : s.end]) == s.text
        assert s.paragraph >= previous_paragraph
        previous_end, previous_paragraph = s.end, s.paragraph
    assert bool(sentences) == bool(text.strip())


@named_examples()
@given(documents)
@PROPERTY
def test_sentence_offsets_slice_the_raw_text(text: str) -> None:
    _check_sentences(text)


@named_examples()
@given(documents)
@PROPERTY
def test_sentence_offsets_slice_the_cleaned_text(text: str) -> None:
    _check_sentences(clean_body(text))


# ---------------------------------------------------------------------------- summaries


@pytest.fixture(scope="module")
def supervised(articles: pd.DataFrame) -> ExtractiveSummarizer:
    composites = composite_articles(articles)
    return ExtractiveSummarizer().fit(list(composites["text"]), list(composites["title"]), list(composites["summary"]))


@pytest.fixture(scope="module")
def textrank(supervised: ExtractiveSummarizer) -> ExtractiveSummarizer:
    return supervised.as_textrank()


def _check_summary(
    model: ExtractiveSummarizer,
    text: str,
    title: str,
    options: CleaningOptions,
    max_sentences: int | None,
    max_words: int | None,
) -> None:
    body = clean_body(text, clean_title(title), options)
    # The summariser chooses among whole prose sentences (hygiene drops furniture, glues fragments).
    sentences = candidate_sentences(body)
    try:
        summary = model.summarize(text, title, max_sentences=max_sentences, max_words=max_words, cleaning=options)
    except SummaryError:
        assert not sentences, "only text with no sentences after cleaning may be refused"
        event("refused: nothing to summarise")
        return
    event(
        f"summarised by {summary.method}, {min(summary.n_sentences, 10)}{'+' if summary.n_sentences >= 10 else ''} sentences"
    )
    assert summary.cleaned_text == body and summary.n_sentences == len(sentences)
    assert summary.sentences, "a summary has at least one sentence"
    indices = [s.index for s in summary.sentences]
    assert indices == sorted(set(indices))
    for chosen in summary.sentences:
        original = sentences[chosen.index]
        assert (chosen.start, chosen.end, chosen.text) == (original.start, original.end, original.text)
        assert _words(body[chosen.start : chosen.end]) == chosen.text
        assert math.isfinite(chosen.score)
    if max_sentences is not None:
        assert len(summary.sentences) <= max_sentences
    if max_words is not None and len(summary.sentences) > 1:
        assert sum(len(s.text.split()) for s in summary.sentences) <= max_words


lengths = st.one_of(st.none(), st.integers(1, 6))
word_budgets = st.one_of(st.none(), st.integers(1, 80))


@named_examples(title="", options=CleaningOptions(), max_sentences=2, max_words=None)
@given(documents, titles, st.sampled_from(TEXT_OPTIONS), lengths, word_budgets)
@SLOW_PROPERTY
def test_supervised_summary_is_input_sentences_in_order(
    supervised: ExtractiveSummarizer,
    text: str,
    title: str,
    options: CleaningOptions,
    max_sentences: int | None,
    max_words: int | None,
) -> None:
    _check_summary(supervised, text, title, options, max_sentences, max_words)


@named_examples(title="Rates", options=CleaningOptions(format="text"), max_sentences=None, max_words=5)
@given(documents, titles, st.sampled_from(TEXT_OPTIONS), lengths, word_budgets)
@SLOW_PROPERTY
def test_textrank_summary_is_input_sentences_in_order(
    textrank: ExtractiveSummarizer,
    text: str,
    title: str,
    options: CleaningOptions,
    max_sentences: int | None,
    max_words: int | None,
) -> None:
    _check_summary(textrank, text, title, options, max_sentences, max_words)


# ---------------------------------------------------------------------------- classification


@pytest.fixture(scope="module")
def classifier(articles: pd.DataFrame) -> TopicClassifier:
    texts = [prepare_article(body, title) for body, title in zip(articles["text"], articles["title"])]
    return TopicClassifier(calibration_folds=3).fit(texts, list(articles["category"]))


@named_examples()
@given(documents)
@PROPERTY
def test_classifier_probabilities_are_a_distribution(classifier: TopicClassifier, text: str) -> None:
    texts = [text, prepare_article(text), ""]
    probs = classifier.predict_proba(texts)
    assert probs.shape == (3, len(classifier.classes_))
    assert np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert all(len(labels) == 1 and labels[0] in classifier.classes_ for labels in classifier.predict(texts))


# ---------------------------------------------------------------------------- cost of pathological input

PATHOLOGICAL = {
    "100,000 newlines": "\n" * 100_000,
    "a 1 MB word": "a" * 1_000_000,
    "100,000 one-word lines": "word\n" * 100_000,
    "100,000 dots": "." * 100_000,
    "unclosed tags": "<p " * 30_000,
    "unclosed comments": "<!--" * 30_000,
    "agency credits without a bracket": "(ap" * 30_000,
    "tags": "<p>" * 30_000,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
@pytest.mark.parametrize(
    "options", [CleaningOptions(format="text"), CleaningOptions(format="html")], ids=["text", "html"]
)
def test_pathological_input_is_cleaned_and_split_quickly(text: str, options: CleaningOptions) -> None:
    """Linear work: a quadratic regex or parser takes minutes on these, linear code well under a second."""
    started = time.perf_counter()
    split_sentences(clean_body(text, options=options))
    assert time.perf_counter() - started < 5.0
