"""Boilerplate removal leaves text that is not a scraped page alone (e-mail, forum, wire, release, transcript, newsletter)."""

from __future__ import annotations

import pytest

from helpers.genre_fixtures import GenreFixture, load_genre_fixtures
from helpers.messy_fixtures import load_messy_fixtures
from newsdesk.train.text.boilerplate import remove_boilerplate
from newsdesk.train.text.cleaning import CleaningOptions, clean_body, clean_body_report, clean_text
from newsdesk.train.text.genres import _NEWSLETTER_CUE, GENRES, detect_genre, is_newsletter_cue

FIXTURES = load_genre_fixtures()


def by_name(fixture: GenreFixture) -> str:
    return fixture.name


def test_there_is_a_fixture_for_every_genre() -> None:
    assert sorted({fixture.genre for fixture in FIXTURES}) == sorted(GENRES)


@pytest.mark.parametrize("fixture", FIXTURES, ids=by_name)
def test_every_content_line_survives_cleaning(fixture: GenreFixture) -> None:
    report = clean_body_report(fixture.raw, fixture.title)
    kept = {" ".join(line.split()) for line in report.text.split("\n")}
    missing = [line for line in fixture.content_lines if clean_text(line) not in kept]
    assert not missing, f"{fixture.name}: content lines removed: {missing}; reasons {report.removed}"
    assert report.removed == ()
    # And exactly what cleaning with boilerplate removal off gives.
    assert report.text == clean_body(fixture.raw, fixture.title, CleaningOptions(remove_boilerplate=False))


@pytest.mark.parametrize("fixture", FIXTURES, ids=by_name)
def test_genre_is_recognised(fixture: GenreFixture) -> None:
    assert detect_genre(clean_text(fixture.raw).split("\n")) == fixture.genre
    assert remove_boilerplate(clean_text(fixture.raw), fixture.title).genre == fixture.genre


def test_plain_prose_without_furniture_is_left_alone() -> None:
    # Short unpunctuated lines at the top and a list of three would look like a page header and links.
    text = (
        "Spring budget\nKey measures\n"
        "The chancellor set out a budget that raises spending on schools and hospitals by four per cent.\n"
        "Fuel duty frozen\nPersonal allowance raised\nTobacco duty up\n"
        "Opposition parties said the measures would not reach the households that need them most."
    )
    assert remove_boilerplate(text).text == text


def test_a_scraped_page_around_a_wire_story_is_still_cleaned() -> None:
    story = (
        "LONDON, March 4 (Reuters) - Shares in Harland Foods rose 9% on Tuesday after the company raised its forecast."
    )
    page = f"Home | Markets | Business | Tech\nShare this article\n{story}\nRead more:\nTopics: Retail, Food"
    result = remove_boilerplate(page)
    assert result.text == story
    assert result.genre == "wire"


def test_messy_pages_are_not_mistaken_for_a_genre_text() -> None:
    """Every plain-text messy page still has furniture removed, whatever genre cues it shows."""
    for fixture in load_messy_fixtures():
        if fixture.format == "text":
            assert clean_body_report(fixture.raw, fixture.title).removed, fixture.name


NEWSLETTER_LINES = [
    "To stop these e-mails, UNSUBSCRIBE here.",
    "View this email in your browser",
    "View it in a Browser",
    "You're receiving this because you signed up.",
    "You are receiving this as a member.",
    "Forward this to a friend",
    "Forwarded to a friend? Sign up.",
    "Update your email preferences",
    "Manage your subscription",
    "This week's top stories",
    "In this issue: rates, rents and rail",
    "This edition was written by the politics desk.",
    "Was this email forwarded to you?",
]


@pytest.mark.parametrize("line", NEWSLETTER_LINES)
def test_the_newsletter_word_test_never_hides_a_cue(line: str) -> None:
    assert _NEWSLETTER_CUE.search(line) and is_newsletter_cue(line)


def test_the_newsletter_word_test_agrees_with_the_pattern_on_the_fixtures() -> None:
    lines = [line for fixture in FIXTURES for line in fixture.raw.splitlines()]
    lines += [line for fixture in load_messy_fixtures() for line in fixture.raw.splitlines()]
    lines += ["Forward guidance from the central bank.", "The browser war is over.", "Our subscription model"]
    assert len(lines) > 100
    assert [is_newsletter_cue(line) for line in lines] == [_NEWSLETTER_CUE.search(line) is not None for line in lines]
