"""The document view (serve/api/annotate.py): kept lines with summary sentences marked, removed lines in place."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.api_fixtures import serving
from helpers.messy_fixtures import load_messy_fixtures
from newsdesk.serve.analysis import CleanArticle, clean_article
from newsdesk.serve.api.annotate import KEPT, REMOVED, UNKNOWN_REASON, Document, annotate_article
from newsdesk.train.summarize.base import Summary, SummarySentence
from newsdesk.train.text.cleaning import CleaningOptions
from newsdesk.train.text.sentences import split_sentences

TITLE = "Chelsea sign Danish striker Larsen"
BBC_PAGE = """Home | News | Sport | Football
Chelsea sign Danish striker Larsen
- 10 hours ago
Share this article
Chelsea have completed the signing of Danish striker Jon Larsen from Ajax for a fee of £12m.

The 23-year-old scored 19 goals in the Dutch league last season and has signed a five-year contract.

Manager Jose Mourinho said Larsen would add pace to an attack that has struggled away from home. \
He is expected to make his debut against Everton on Saturday.
Share this article
Related stories
Arsenal beaten at home by Bolton
Liverpool held to a draw at Anfield
United name new assistant manager
"""
STORY = [
    "Chelsea have completed the signing of Danish striker Jon Larsen from Ajax for a fee of £12m.",
    "The 23-year-old scored 19 goals in the Dutch league last season and has signed a five-year contract.",
    (
        "Manager Jose Mourinho said Larsen would add pace to an attack that has struggled away from home. "
        "He is expected to make his debut against Everton on Saturday."
    ),
]
HTML_PAGE = """<!doctype html><html><head><title>Larsen joins Chelsea</title><script>var x = 1;</script></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li><li><a href="/news">News</a></li></ul></nav>
<main><article>
<h1>Chelsea sign Danish striker Larsen</h1>
<p class="byline">By Sam Reporter, Football correspondent</p>
<p>Chelsea have completed the signing of Danish striker Jon Larsen from Ajax for a fee of 12 million pounds.</p>
<p>The 23-year-old scored 19 goals in the Dutch league last season and has signed a five-year contract.</p>
<aside><h2>Most read</h2><ul><li>Arsenal beaten at home by Bolton</li><li>Liverpool held at Anfield</li></ul></aside>
<p>Manager Jose Mourinho said Larsen would add pace to an attack that has struggled away from home.</p>
<p>He is expected to make his debut against Everton on Saturday, when the club hope to end a run of draws.</p>
</article></main>
<footer><p>Copyright 2025 The Daily Example. All rights reserved.</p><p>Contact us</p></footer>
</body></html>
"""


def summary_of(article: CleanArticle, indexes: list[int]) -> Summary:
    """A summary choosing these sentences of the cleaned body (as the extractive summariser reports them)."""
    sentences = split_sentences(article.body)
    chosen = tuple(SummarySentence(i, sentences[i].start, sentences[i].end, sentences[i].text, 0.5) for i in indexes)
    return Summary(chosen, "test", len(sentences), article.body)


def body_lines(article: CleanArticle) -> list[str]:
    return [line for line in article.body.split("\n") if line.strip()]


def check_consistent(document: Document, article: CleanArticle) -> None:
    """Kept blocks are the body's lines in order, spans rebuild each line, removed blocks are cleaning's lines."""
    kept = [block for block in document.blocks if block.kind == KEPT]
    assert [block.text for block in kept] == body_lines(article)
    for block in kept:
        assert "".join(span.text for span in block.spans) == block.text and block.reason is None
    removed = [(block.text, block.reason) for block in document.blocks if block.kind == REMOVED]
    expected = [(line, reason or UNKNOWN_REASON) for line, reason in article.removed]
    assert Counter(removed) == Counter(expected)


def test_a_text_page_keeps_its_order_with_removed_lines_in_place() -> None:
    article = clean_article(BBC_PAGE, TITLE)
    document = annotate_article(BBC_PAGE, article, summary_of(article, [0, 3]))
    assert document.format == "text" and document.placed
    assert [(block.kind, block.text) for block in document.blocks] == [
        (REMOVED, "Home | News | Sport | Football"),
        (REMOVED, TITLE),
        (REMOVED, "- 10 hours ago"),
        (REMOVED, "Share this article"),
        (KEPT, STORY[0]),
        (KEPT, STORY[1]),
        (KEPT, STORY[2]),
        (REMOVED, "Share this article"),
        (REMOVED, "Related stories"),
        (REMOVED, "Arsenal beaten at home by Bolton"),
        (REMOVED, "Liverpool held to a draw at Anfield"),
        (REMOVED, "United name new assistant manager"),
    ]
    reasons = {block.text: block.reason for block in document.blocks if block.kind == REMOVED}
    assert reasons["- 10 hours ago"] == "relative time" and reasons[TITLE] == "repeated title"
    check_consistent(document, article)


def test_summary_sentences_are_marked_inside_their_lines() -> None:
    article = clean_article(BBC_PAGE, TITLE)
    summary = summary_of(article, [0, 3])
    document = annotate_article(BBC_PAGE, article, summary)
    marked = [
        (span.sentence, span.text) for block in document.blocks for span in block.spans if span.sentence is not None
    ]
    assert marked == [(s.index, s.text) for s in summary.sentences]
    last = next(block for block in document.blocks if block.text == STORY[2])
    # Sentence 3 is the second half of the line: plain text, then the marked sentence.
    assert [span.sentence for span in last.spans] == [None, 3]
    assert last.spans[1].text == "He is expected to make his debut against Everton on Saturday."


def test_a_sentence_across_a_line_break_is_marked_in_both_lines() -> None:
    text = (
        "The council approved the budget on Monday after a long\n"
        "debate about road repairs and school funding.\n\n"
        "Opposition members voted against the plan. The vote was 31 to 12."
    )
    article = clean_article(text, options=CleaningOptions(remove_boilerplate=False))
    summary = summary_of(article, [0])
    document = annotate_article(text, article, summary)
    pieces = [span.text for block in document.blocks for span in block.spans if span.sentence == 0]
    assert len(pieces) == 2 and " ".join(pieces) == summary.sentences[0].text
    check_consistent(document, article)


def test_without_a_summary_or_with_generated_sentences_nothing_is_marked() -> None:
    article = clean_article(BBC_PAGE, TITLE)
    generated = Summary(
        (SummarySentence(-1, -1, -1, "Chelsea bought a striker.", 1.0),), "abstractive", 4, article.body
    )
    for summary in (None, generated):
        document = annotate_article(BBC_PAGE, article, summary)
        assert all(span.sentence is None for block in document.blocks for span in block.spans)
        check_consistent(document, article)


def test_with_boilerplate_removal_off_every_line_is_kept() -> None:
    article = clean_article(BBC_PAGE, TITLE, CleaningOptions(remove_boilerplate=False))
    document = annotate_article(BBC_PAGE, article)
    assert document.placed and {block.kind for block in document.blocks} == {KEPT}
    assert len(document.blocks) == 12


def test_an_html_page_shows_the_lines_left_out_where_they_were() -> None:
    article = clean_article(HTML_PAGE, TITLE)
    assert article.format == "html"
    document = annotate_article(HTML_PAGE, article, summary_of(article, [0]))
    assert document.format == "html" and document.placed
    check_consistent(document, article)
    kinds = "".join("k" if block.kind == KEPT else "r" for block in document.blocks)
    texts = [block.text for block in document.blocks]
    assert kinds.startswith("r") and kinds.endswith("r") and "k" in kinds
    assert texts.index("Home") < texts.index(body_lines(article)[0])
    assert texts.index("Contact us") > texts.index(body_lines(article)[-1])
    assert {block.reason for block in document.blocks if block.kind == REMOVED} == {"not part of the article"}
    assert "var x = 1;" not in texts  # scripts are not visible lines


def test_lines_that_cannot_be_placed_follow_the_kept_lines() -> None:
    # A CleanArticle that does not come from this text: the view still renders, and says so.
    article = CleanArticle(title="", body="First line of a story.\nSecond line.", removed=(("Menu", "menu"),))
    document = annotate_article("Something else entirely", article)
    assert not document.placed
    assert [(block.kind, block.text) for block in document.blocks] == [
        (KEPT, "First line of a story."),
        (KEPT, "Second line."),
        (REMOVED, "Menu"),
    ]


@pytest.mark.parametrize("fixture", load_messy_fixtures(), ids=lambda fixture: fixture.name)
def test_every_messy_fixture_is_placed(fixture) -> None:
    article = clean_article(fixture.raw, fixture.title)
    document = annotate_article(fixture.raw, article, summary_of(article, [0]))
    assert document.placed
    check_consistent(document, article)


LINE = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(
        [
            "Share this article",
            "- 6 hours ago",
            "Home | News | Sport",
            "Read more: Other story",
            "The minister said the plan would cut costs by a third over five years.",
            "Shares rose 4% in early trading after the results were published.",
            "<p>A paragraph in a tag.</p>",
            "<div>",
            "© 2025 Example Media",
            "",
        ]
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=14), title=st.sampled_from(["", "Share this article", "Plan to cut costs"]))
def test_never_raises_and_stays_consistent(lines: list[str], title: str) -> None:
    text = "\n".join(lines)
    article = clean_article(text, title)
    sentences = split_sentences(article.body)
    summary = summary_of(article, list(range(0, len(sentences), 2)))
    document = annotate_article(text, article, summary)
    kept = [block.text for block in document.blocks if block.kind == KEPT]
    assert kept == body_lines(article)
    if article.format == "text":
        assert document.placed
        check_consistent(document, article)


# --------------------------------------------------------------------------- over HTTP


def test_the_api_returns_the_document_when_asked(tiny_bundle_dir: Path) -> None:
    with serving(tiny_bundle_dir) as client:
        plain = client.post("/v1/analyze", json={"text": BBC_PAGE, "title": TITLE})
        assert plain.status_code == 200 and plain.json()["document"] is None
        for path in ("/v1/analyze", "/v1/summarize"):
            response = client.post(path, json={"text": BBC_PAGE, "title": TITLE, "return_document": True})
            assert response.status_code == 200, response.text
            body = response.json()
            summary = body["summary"] if path == "/v1/analyze" else body
            document = body["document"]
            assert document["format"] == "text" and document["placed"] is True
            marked = [
                span["text"] for block in document["blocks"] for span in block["spans"] if span["sentence"] is not None
            ]
            assert marked == [sentence["text"] for sentence in summary["sentences"]]
            removed = [block for block in document["blocks"] if block["kind"] == "removed"]
            assert len(removed) == body["cleaning"]["removed_lines"] == 9
            assert removed[0] == {
                "kind": "removed",
                "text": "Home | News | Sport | Football",
                "reason": "menu or breadcrumb",
                "spans": [],
            }
        unknown = client.post("/v1/predict", json={"text": BBC_PAGE, "return_document": True})
        assert unknown.status_code == 422 and "return_document" in unknown.json()["error"]["message"]
