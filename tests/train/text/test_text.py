"""Tests for train/text/cleaning.py: the one cleaning path shared by training, serving and batch scoring."""

from __future__ import annotations

import time
import unicodedata

import pytest

from newsdesk.train.text.cleaning import (
    TITLE_SEPARATOR,
    clean_body,
    clean_text,
    join_title_body,
    lines_left_out,
    normalize_unicode,
    normalize_whitespace,
    prepare_article,
    strip_control_characters,
)

# --------------------------------------------------------------------------- Unicode form


def test_normalize_unicode_folds_ligatures():
    assert normalize_unicode("The \ufb01nal \ufb02ight") == "The final flight"


def test_clean_text_folds_ligatures():
    assert clean_text("O\ufb03cials con\ufb01rmed the \ufb01gures") == "Officials confirmed the figures"


def test_clean_text_folds_full_width_letters_digits_and_space():
    full_width = "\uff35\uff25\uff26\uff21\u3000\uff23\uff48\uff41\uff4d\uff50\uff49\uff4f\uff4e\uff53\u3000\uff12\uff10\uff12\uff14"
    assert clean_text(full_width) == "UEFA Champions 2024"


def test_clean_text_turns_no_break_space_into_plain_space():
    assert clean_text("Prices rose 5\u00a0% in\u00a0May") == "Prices rose 5 % in May"


def test_clean_text_composes_accents_after_removing_invisible_characters():
    # The zero-width space sits between the letter and its combining accent;
    # once it is gone the pair must still be composed into one character.
    assert clean_text("Caf\u0065\u200b\u0301 owners protest") == "Caf\u00e9 owners protest"


# --------------------------------------------------------------------------- invisible characters


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x01", "\x07", "\x08", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_control_characters_are_removed(char):
    assert clean_text(f"Reu{char}ters reported") == "Reuters reported"


@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"],
    ids=["zero-width-space", "zwnj", "zwj", "word-joiner", "bom"],
)
def test_zero_width_characters_are_removed(char):
    assert clean_text(f"Parlia{char}ment votes{char} today") == "Parliament votes today"


@pytest.mark.parametrize(
    "char",
    ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_bidi_control_characters_are_removed(char):
    assert clean_text(f"{char}Election{char} results") == "Election results"


def test_arabic_letter_mark_is_removed_like_the_other_bidi_marks():
    assert clean_text("Election\u061c results") == "Election results"


def test_tab_becomes_a_space():
    assert clean_text("Markets\tclosed\t\thigher") == "Markets closed higher"


def test_strip_control_characters_keeps_newlines():
    assert strip_control_characters("one\x00\ntwo") == "one\ntwo"


def test_text_of_only_invisible_characters_cleans_to_empty():
    assert clean_text("\u200b\u200e\ufeff\x00 \t") == ""


# --------------------------------------------------------------------------- line breaks


@pytest.mark.parametrize(
    "line_break",
    ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"],
    ids=["LF", "CRLF", "CR", "U+2028", "U+2029", "NEL", "VT", "FF"],
)
def test_line_breaks_are_unified_to_newline(line_break):
    assert clean_text(f"Storm hits coast.{line_break}Thousands without power.") == (
        "Storm hits coast.\nThousands without power."
    )


@pytest.mark.parametrize("line_break", ["\r\n", "\r", "\u2028"], ids=["CRLF", "CR", "U+2028"])
def test_paragraph_break_with_any_line_break_becomes_one_blank_line(line_break):
    text = f"Storm hits coast.{line_break}{line_break}Thousands without power."
    assert clean_text(text) == "Storm hits coast.\n\nThousands without power."


def test_clean_text_leaves_no_carriage_returns():
    assert "\r" not in clean_text("a\r\nb\rc\r\n\r\nd")


# --------------------------------------------------------------------------- whitespace


def test_runs_of_spaces_collapse_and_lines_are_trimmed():
    assert clean_text("   Stocks    rose   sharply   ") == "Stocks rose sharply"


def test_single_newline_is_kept():
    assert clean_text("Line one  \n   line two") == "Line one\nline two"


def test_many_blank_lines_become_one_blank_line():
    assert clean_text("First paragraph.\n\n\n\n\nSecond paragraph.") == "First paragraph.\n\nSecond paragraph."


def test_blank_lines_holding_only_spaces_count_as_one_paragraph_break():
    text = "First paragraph.\n   \n\t\n \u3000 \nSecond paragraph."
    assert clean_text(text) == "First paragraph.\n\nSecond paragraph."


def test_leading_and_trailing_blank_lines_are_removed():
    assert clean_text("\n\n  \nHeadline story.\n\n\n") == "Headline story."


def test_normalize_whitespace_keeps_paragraphs():
    assert normalize_whitespace("a  b\n\n\n c \n d") == "a b\n\nc\nd"


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\t\r\n", "\u3000\u00a0", "\u2028\u2029"])
def test_empty_or_blank_input_gives_empty_string(text):
    assert clean_text(text) == ""


# --------------------------------------------------------------------------- idempotence

NASTY = [
    "",
    "Plain sentence.",
    "  Leading and trailing  ",
    "Para one.\r\n\r\n\r\nPara two.\rLine three.\u2028Line four.\u2029\u2029Para five.",
    "\ufeffBOM at start and \u200bzero\u200dwidth\u2060joiners",
    "\u202eReversed\u202c \u2066isolate\u2069 \u200emark\u200f",
    "\x00\x01\x1b[31mred\x1b[0m\x7f\x85next",
    "\ufb01nancial \ufb02ows \uff26\uff35\uff2c\uff2c\u3000\uff37\uff29\uff24\uff34\uff28 \u2460 \u00bd \u2126",
    "e\u200b\u0301 and a\u0308 and \u00a8 alone",
    "\u00a8 diaeresis at line start\n\u00b4 acute too",
    "tabs\t\tand\x0bvertical\x0cfeed",
    " \n \n \n ",
    "\u1100\u1161\u11a8 Hangul jamo and \uac00",
    "Mixed\u00a0no-break\u2003em\u2009thin\u202fnarrow spaces",
    "\ufdfa ligature expanding to words",
    "\u3300 square katakana and \u2161 roman numeral",
]


@pytest.mark.parametrize("text", NASTY)
def test_clean_text_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once


@pytest.mark.parametrize("text", NASTY)
def test_clean_text_output_is_nfkc_and_free_of_invisible_characters(text):
    out = clean_text(text)
    assert unicodedata.normalize("NFKC", out) == out
    assert "\r" not in out and "\t" not in out and "\n\n\n" not in out
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") and ch != "\n" for ch in out)
    assert out == out.strip()


def test_clean_body_is_clean_text():
    raw = "  Para\u200b one.\r\n\r\n\r\nPara  two. "
    assert clean_body(raw) == clean_text(raw)


# --------------------------------------------------------------------------- titles and bodies

BODY = "The central bank held rates at 5%.\n\nAnalysts had expected a cut."


def test_prepare_article_body_only():
    assert prepare_article("  The central bank held rates.  ") == "The central bank held rates."


def test_prepare_article_title_only():
    assert prepare_article("", title="  Bank holds rates  ") == "Bank holds rates"


def test_prepare_article_title_and_body_joined_by_separator():
    assert prepare_article(BODY, title="Bank holds rates") == f"Bank holds rates{TITLE_SEPARATOR}{BODY}"
    assert TITLE_SEPARATOR == "\n\n"


def test_prepare_article_with_title_equals_prepare_article_of_joined_raw_text():
    # A caller that already glued title and body together must get the same model input.
    title = "Bank  holds rates"
    assert prepare_article(BODY, title=title) == prepare_article(f"{title}\n\n{BODY}")


def test_prepare_article_cleans_title_and_body():
    out = prepare_article("Rates\u200b unchanged\r\n\r\n\r\nfor now.", title="\ufb01nal   decision\t")
    assert out == "final decision\n\nRates unchanged\n\nfor now."


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\u2028"], ids=["LF", "CRLF", "U+2028"])
def test_prepare_article_title_with_line_break_becomes_one_line(line_break):
    out = prepare_article(BODY, title=f"Bank holds rates{line_break}as inflation cools")
    assert out == f"Bank holds rates as inflation cools{TITLE_SEPARATOR}{BODY}"


def test_prepare_article_title_with_blank_line_has_single_spaces():
    out = prepare_article(BODY, title="Bank holds rates\n\nas inflation cools")
    assert out == f"Bank holds rates as inflation cools{TITLE_SEPARATOR}{BODY}"
    assert prepare_article(out) == out


@pytest.mark.parametrize("title", [None, "", "   ", "\u200b\n\t"])
def test_prepare_article_blank_title_gives_body_only(title):
    assert prepare_article(BODY, title=title) == BODY


@pytest.mark.parametrize("text,title", [("", None), ("", ""), ("  \n ", "\t"), ("\u200b", "\ufeff")])
def test_prepare_article_empty_input_gives_empty_string(text, title):
    assert prepare_article(text, title=title) == ""


@pytest.mark.parametrize(
    "text,title",
    [(BODY, None), ("", "Bank holds rates"), (BODY, "Bank holds rates"), ("Rates\r\n\r\nheld", "Bank\nholds")],
)
def test_prepare_article_output_is_stable_when_prepared_again(text, title):
    once = prepare_article(text, title=title)
    assert prepare_article(once) == once


@pytest.mark.parametrize(
    "title,body,expected",
    [
        ("Title", "Body", "Title\n\nBody"),
        ("Title", "", "Title"),
        ("", "Body", "Body"),
        ("", "", ""),
        ("  Title ", " Body  ", "Title\n\nBody"),
    ],
)
def test_join_title_body(title, body, expected):
    assert join_title_body(title, body) == expected


# --------------------------------------------------------------------------- lines left out of an HTML page


def test_lines_left_out_are_those_not_in_the_body() -> None:
    body = "The bank raised rates on Thursday.\n\nShares fell sharply."
    page = ("Home", "The bank raised rates on Thursday.", "raised rates on", "Shares fell", "Rates rise in May", "bank")
    assert lines_left_out(page, body) == ["Home", "Shares fell", "Rates rise in May", "bank"]


def test_lines_left_out_do_not_run_across_paragraphs() -> None:
    body = "The bank raised rates.\n\nShares fell sharply."
    assert lines_left_out(("raised rates shares fell",), body) == ["raised rates shares fell"]


def test_lines_left_out_of_a_long_page_take_linear_time() -> None:
    """Each line was searched for in the whole body: 6 s for 20,000 menu lines and 5,000 paragraphs."""
    menu = tuple(f"Menu item {i} here" for i in range(20_000))
    body = "\n\n".join(f"The central bank raised rates by {i} points after a long meeting." for i in range(5_000))
    started = time.perf_counter()
    assert lines_left_out(menu, body) == list(menu)
    assert time.perf_counter() - started < 2.0
