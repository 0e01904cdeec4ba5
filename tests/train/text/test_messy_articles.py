"""Behaviour on the messy fixtures: boilerplate changes neither the topic nor the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.messy_fixtures import MessyFixture, load_messy_fixtures
from newsdesk.serve.analysis import clean_article, predict_topics, summarize_article
from newsdesk.train.bundle import Bundle, load_bundle
from newsdesk.train.text.cleaning import clean_text

FIXTURES = load_messy_fixtures()


@pytest.fixture(scope="module")
def bundle(tiny_bundle_dir: Path) -> Bundle:
    loaded = load_bundle(tiny_bundle_dir)
    assert loaded.cleaning.remove_boilerplate  # trained with the default cleaning, recorded in the manifest
    return loaded


def story_text(fixture: MessyFixture) -> str:
    return "\n\n".join(fixture.story_lines)


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_topic_of_the_messy_page_is_the_topic_of_the_clean_story(bundle: Bundle, fixture: MessyFixture) -> None:
    messy = clean_article(fixture.raw, fixture.title, bundle.cleaning)
    clean = clean_article(story_text(fixture), fixture.title, bundle.cleaning)
    assert predict_topics(bundle, [messy])[0].topic == predict_topics(bundle, [clean])[0].topic


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_summary_of_the_messy_page_has_only_story_sentences(bundle: Bundle, fixture: MessyFixture) -> None:
    article = clean_article(fixture.raw, fixture.title, bundle.cleaning)
    summary = summarize_article(bundle, article, ratio=1.0)  # every sentence the cleaner kept
    story = [" ".join(clean_text(line).split()) for line in fixture.story_lines]
    for sentence in summary.sentences:
        text = sentence.text.lstrip("-•* ")  # the HTML extractor writes list items as "- item"
        assert any(text in line for line in story), f"{fixture.name}: {sentence.text!r} is not story text"


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if f.format == "html"], ids=lambda f: f.name)
def test_html_pages_are_detected_and_keep_every_story_paragraph(fixture: MessyFixture) -> None:
    article = clean_article(fixture.raw, fixture.title)
    body = " ".join(article.body.split())
    missing = [line for line in fixture.story_lines if " ".join(clean_text(line).split()) not in body]
    assert not missing
