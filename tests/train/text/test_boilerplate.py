"""Boilerplate removal and HTML extraction: one test per page-furniture style, and no damage to stories."""

from __future__ import annotations

import logging
import time

import pytest

from newsdesk.train.text.boilerplate import furniture_reason, remove_boilerplate
from newsdesk.train.text.cleaning import CleaningOptions, clean_body, clean_body_report, clean_text
from newsdesk.train.text.webpage import extract_article, looks_like_html, visible_lines

STORY = [
    "The central bank raised interest rates by a quarter of a percentage point on Thursday, the first rise in a year.",
    'Its governor said the decision was "finely balanced" and that inflation was expected to fall back next year.',
    "Shares in house builders fell by as much as 4% after the announcement, while the pound rose against the dollar.",
    "Economists had been split on whether the bank would act before the spring, when new figures are due.",
]


def page(before: list[str], after: list[str] | None = None, middle: list[str] | None = None) -> str:
    body = STORY[:2] + (middle or []) + STORY[2:]
    return "\n\n".join(before + body + (after or []))


def kept_story(text: str) -> bool:
    return all(sentence in text for sentence in STORY)


@pytest.mark.parametrize(
    ("style", "lines"),
    [
        ("nav menu on one line", ["Home | News | Business | Sport | Weather"]),
        ("nav menu one link per line", ["Home", "News", "Business", "Markets", "Weather"]),
        ("breadcrumbs", ["Home > Business > Economy"]),
        ("byline", ["By Jane Doe, Economics correspondent"]),
        ("relative time", ["- 6 hours ago"]),
        ("relative time posted", ["Posted 35 minutes ago"]),
        ("timestamp updated", ["Updated 12:03 GMT"]),
        ("timestamp published", ["Published 3 March 2025"]),
        ("timestamp with day", ["14:32 BST, Tue 5 May 2025"]),
        ("timestamp iso", ["2025-05-05T14:32:00Z"]),
        ("timestamp modified", ["Last modified on Fri 9 Feb 2024 18.02 GMT"]),
        ("share links", ["Share this", "Share on Facebook", "Tweet", "Email", "Copy link"]),
        (
            "cookie notice",
            ["We use cookies to improve your experience. By continuing to browse you accept our cookie policy."],
        ),
        (
            "related headlines before",
            [
                "Top Stories",
                "Minister quits over expenses row",
                "Floods hit northern towns",
                "Striker signs record deal",
                "New phone goes on sale",
            ],
        ),
        ("subscription prompt", ["Subscribe for £1 a week", "Already a subscriber? Log in"]),
        ("advert", ["Advertisement"]),
        ("breadcrumbs arrows", ["News › Business › Economy"]),
    ],
)
def test_furniture_before_the_story_is_removed(style: str, lines: list[str]) -> None:
    result = remove_boilerplate(clean_text(page(lines)))
    assert kept_story(result.text), style
    assert set(result.removed_lines) == set(lines), style


@pytest.mark.parametrize(
    ("style", "lines"),
    [
        (
            "related headlines after",
            [
                "More on this story",
                "Rates: what a rise means for you",
                "Mortgage lenders pull deals",
                "Pound hits six-month high",
            ],
        ),
        ("read more link", ["Read more: How the bank sets interest rates"]),
        ("comments", ["34 comments", "Join the conversation"]),
        ("tags", ["Topics: Economy, Interest rates"]),
        ("footer", ["© 2025 Daily Ledger Ltd", "Terms | Privacy | Contact us"]),
        ("newsletter", ["Sign up to our newsletter for the morning briefing in your inbox."]),
    ],
)
def test_furniture_after_the_story_is_removed(style: str, lines: list[str]) -> None:
    result = remove_boilerplate(clean_text(page([], after=lines)))
    assert kept_story(result.text), style
    assert set(result.removed_lines) == set(lines), style


@pytest.mark.parametrize(
    ("style", "lines"),
    [
        ("photo caption", ["Image caption, The governor at the bank's press conference"]),
        ("agency credit caption", ["The governor speaks to reporters in London (Getty Images)"]),
        ("read more inside the story", ["READ MORE: Why inflation is falling"]),
        ("advert inside the story", ["ADVERTISEMENT"]),
    ],
)
def test_furniture_inside_the_story_is_removed(style: str, lines: list[str]) -> None:
    result = remove_boilerplate(clean_text(page([], middle=lines)))
    assert kept_story(result.text), style
    assert set(result.removed_lines) == set(lines), style


def test_repeated_title_is_removed() -> None:
    title = "Bank raises interest rates"
    result = remove_boilerplate(clean_text(page([title])), title=title)
    assert result.removed_lines == (title,)


@pytest.mark.parametrize(
    "extra",
    [
        ["The rise was expected."],  # a one-sentence paragraph
        ["Why it matters"],  # a sub-heading inside the story
        ['"This is the right decision," he said.'],
        ["The main measures:", "- Rates up to 4.75%", "- Bond buying paused", "- Review in March"],
        ["Shares in U.K. lenders rose 2.5% to £10.9bn."],
    ],
)
def test_story_lines_that_look_risky_are_kept(extra: list[str]) -> None:
    text = clean_text(page([], middle=extra))
    result = remove_boilerplate(text)
    assert result.removed == ()
    assert result.text == text


def test_reasons_are_given() -> None:
    result = remove_boilerplate(clean_text(page(["Updated 12:03 GMT", "By Jane Doe"], after=["Share this"])))
    assert dict(result.removed) == {
        "Updated 12:03 GMT": "timestamp",
        "By Jane Doe": "byline",
        "Share this": "link or widget label",
    }


@pytest.mark.parametrize(
    "line",
    [
        "Home prices rose 3% last month, the lender said.",
        "By early 2005 the net could have two new domain names.",
        "home to Leicester in the quarter-finals",
        "Kraft plans to cut back on advertising of products like Oreo cookies to children, the company said today.",
        "Share prices fell sharply on Monday as investors took fright at the figures.",
    ],
)
def test_story_sentences_are_not_furniture(line: str) -> None:
    assert furniture_reason(line) is None


def test_text_without_any_paragraph_is_left_alone_except_furniture() -> None:
    text = "Minister resigns\n\nUpdated 12:03 GMT"
    result = remove_boilerplate(text)
    assert result.text == "Minister resigns"


def test_nothing_is_removed_when_nothing_would_remain() -> None:
    text = "Share this\n\nAdvertisement"
    assert remove_boilerplate(text).text == text


def test_cleaning_is_idempotent_on_messy_pages() -> None:
    text = page(["Home | News", "- 2 hours ago"], after=["Most Read", "A", "B headline here", "C headline there"])
    once = clean_body(text)
    assert clean_body(once) == once


def test_boilerplate_removal_can_be_turned_off() -> None:
    text = page(["Updated 12:03 GMT"])
    assert "Updated 12:03 GMT" in clean_body(text, options=CleaningOptions(remove_boilerplate=False))
    assert "Updated 12:03 GMT" not in clean_body(text)


# ---------------------------------------------------------------------------- HTML

HTML_PAGE = f"""<!doctype html>
<html><head><title>Bank raises rates</title><script>var tracking = "Share this";</script>
<style>.nav {{ color: red; }}</style></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<article>
<h1>Bank raises rates</h1>
<p class="byline">By Jane Doe</p>
{"".join(f"<p>{s}</p>" for s in STORY)}
<figure><img src="x.jpg"><figcaption>The governor at the bank (Getty Images)</figcaption></figure>
</article>
<aside><h3>Most read</h3><ul><li><a href="/1">Minister quits over expenses row</a></li>
<li><a href="/2">Floods hit northern towns</a></li><li><a href="/3">Striker signs record deal</a></li></ul></aside>
<footer><p>© 2025 Daily Ledger Ltd</p><p><a href="/t">Terms</a> | <a href="/p">Privacy</a></p></footer>
</body></html>"""


def test_html_is_detected() -> None:
    assert looks_like_html(HTML_PAGE)
    assert looks_like_html("<p>One paragraph.</p><p>Another one.</p><p>A third.</p>")
    assert not looks_like_html("Use the <p> tag for paragraphs, the editor said.")
    assert not looks_like_html(page([]))


def test_html_page_gives_the_story_without_menus_or_footer() -> None:
    report = clean_body_report(HTML_PAGE, "Bank raises rates")
    assert report.format == "html"
    assert kept_story(report.text)
    for furniture in ("Home", "Most read", "Minister quits", "©", "cookies", "Terms", "Getty", "var tracking", "color"):
        assert furniture not in report.text
    assert "Minister quits over expenses row" in report.removed_lines
    assert not report.warnings


def test_html_without_an_article_falls_back_to_stripping_tags_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("newsdesk.train.text.webpage._trafilatura_text", lambda page: "")  # the extractor finds nothing
    fragment = "<div><b>Rates rise</b></div><div>Banks &amp; lenders react.</div><span>Briefly.</span>"
    report = clean_body_report(fragment, options=CleaningOptions(format="html"))
    assert report.format == "html"
    assert "Banks & lenders react." in report.text
    assert report.warnings and "fell back to removing the tags" in report.warnings[0]


def test_html_can_be_forced_off() -> None:
    text = "<p>One paragraph.</p><p>Another one.</p><p>A third.</p>"
    assert clean_body(text, options=CleaningOptions(format="text", remove_boilerplate=False)) == text


def test_extraction_reports_every_visible_line() -> None:
    extraction = extract_article(HTML_PAGE)
    assert "Home" in extraction.page_lines and STORY[0] in extraction.page_lines
    assert not any("tracking" in line for line in extraction.page_lines)


@pytest.mark.parametrize("page", ["<![\x00if raised", "<![ifThe bank", "<p>Rates</p><![foo[ bar]>"])
def test_unknown_marked_sections_do_not_crash_the_parser(page: str) -> None:
    """Python 3.11's html.parser raised AssertionError ("expected name token", "unknown status keyword")."""
    clean_body_report(page, options=CleaningOptions(format="html"))
    assert visible_lines("<p>Rates</p><![foo[ bar]><p>rise</p>") == ["Rates", "rise"]


@pytest.mark.parametrize("page", ["<p " * 30_000, "<!--" * 30_000, "<!--a>" * 30_000, "</" * 30_000])
def test_unfinished_tags_and_comments_are_parsed_in_linear_time(page: str) -> None:
    """html.parser rescanned to the end from each unfinished construct: about 90 s for 30,000 of them."""
    started = time.perf_counter()
    lines = visible_lines(page)
    assert time.perf_counter() - started < 2.0
    assert "".join(lines).replace(" ", "") == page.replace(" ", "")  # left as text, as the parser does


def test_unfinished_markup_stays_text_and_finished_markup_still_parses() -> None:
    assert visible_lines("<p>x</p> <b and more") == ["x", "<b and more"]
    assert visible_lines("<p>Hi<!-- x --> there <!-- y") == ["Hi there <!-- y"]
    assert visible_lines("a < b and c > d <p>z</p><p") == ["a < b and c > d", "z", "<p"]


def test_the_same_page_is_cleaned_the_same_way_every_time() -> None:
    """Found by the property tests: trafilatura's deduplicate=True cache dropped the story on the fourth call."""
    first = clean_body_report(HTML_PAGE, "Bank raises rates")
    for _ in range(4):
        assert clean_body_report(HTML_PAGE, "Bank raises rates") == first
    assert kept_story(first.text)


def test_agency_credits_are_found_in_linear_time() -> None:
    """The credit pattern searched to the end from every '(ap': 3 s for '(ap' * 40000, minutes for 1 MB."""
    started = time.perf_counter()
    assert furniture_reason("(ap" * 100_000) is None
    assert time.perf_counter() - started < 1.0
    assert furniture_reason("The minister at the summit (Getty Images/AFP via Getty Images)") == "photo caption"


def test_fragments_the_extractor_cannot_parse_log_no_errors(caplog: pytest.LogCaptureFixture) -> None:
    report = clean_body_report("\x01\r\n", options=CleaningOptions(format="html"))  # "Document is empty"
    assert report.text == "" and report.warnings
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_bad_format_option_is_refused() -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        CleaningOptions(format="pdf")
