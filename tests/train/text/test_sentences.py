"""Sentence splitting of articles and of glued reference summaries."""

from __future__ import annotations

import random
import re

import punkt
import pytest

from newsdesk.train.text.sentences import (
    FAST_MULTI_CHAR,
    PUNKT_MULTI_CHAR,
    _tokenizer,
    normalize_sentence,
    sentence_texts,
    split_reference,
    split_sentences,
    unglue,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. economy grew. Mr. Smith said so.", ["The U.S. economy grew.", "Mr. Smith said so."]),
        (
            "Dr. Jones arrived at 9 a.m. on Monday. She left at noon.",
            ["Dr. Jones arrived at 9 a.m. on Monday.", "She left at noon."],
        ),
        ("He lives at No. 10 Downing Street. It is big.", ["He lives at No. 10 Downing Street.", "It is big."]),
        ("Profits rose 3.5% to $10.9bn. Sales fell.", ["Profits rose 3.5% to $10.9bn.", "Sales fell."]),
        (
            '"We will win," he said. "It is certain." Then he left.',
            ['"We will win," he said.', '"It is certain."', "Then he left."],
        ),
        ('He said: "We are done." The crowd cheered.', ['He said: "We are done."', "The crowd cheered."]),
        ("It cost £1.2m. That was in Jan. 2005.", ["It cost £1.2m.", "That was in Jan. 2005."]),
        ("Shares in U.K. firms rose. The FTSE gained 0.4%.", ["Shares in U.K. firms rose.", "The FTSE gained 0.4%."]),
        ("Is it over? Not yet! Wait.", ["Is it over?", "Not yet!", "Wait."]),
    ],
)
def test_splits_news_prose(text: str, expected: list[str]) -> None:
    assert sentence_texts(text) == expected


def test_paragraph_breaks_end_sentences_and_are_counted() -> None:
    text = "Headline without a full stop\n\nThe story starts here. It goes on.\n\nA new paragraph"
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Headline without a full stop",
        "The story starts here.",
        "It goes on.",
        "A new paragraph",
    ]
    assert [s.paragraph for s in sentences] == [0, 1, 1, 2]


def test_offsets_point_into_the_original_text() -> None:
    text = "First  sentence\nwrapped here. Second one.\n\nThird."
    sentences = split_sentences(text)
    assert sentences[0].text == "First sentence wrapped here."  # whitespace collapsed in .text
    for sentence in sentences:
        assert " ".join(text[sentence.start : sentence.end].split()) == sentence.text


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n"])
def test_empty_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_glued_reference_is_split_with_the_article_as_guide() -> None:
    article = [
        "TimeWarner said fourth quarter sales rose 2% to $11.1bn from $10.9bn.",
        "For the full-year, TimeWarner posted a profit of $3.36bn.",
        "Quarterly profits jumped 76% to $1.13bn.",
        "It lost 464,000 subscribers.",
    ]
    glued = article[0] + article[1] + article[2]
    assert split_reference(glued, article) == article[:3]
    # out of article order, as BBC summaries are
    assert split_reference(article[2] + article[0], article) == [article[2], article[0]]


def test_glued_reference_without_the_article_falls_back_to_ungluing() -> None:
    glued = 'Sales rose to $10.9bn.For the full-year, profit grew.It said: "We are pleased."Shares rose.'
    assert split_reference(glued) == [
        "Sales rose to $10.9bn.",
        "For the full-year, profit grew.",
        'It said: "We are pleased."',
        "Shares rose.",
    ]


def test_reference_parts_missing_from_the_article_are_still_split() -> None:
    article = ["The match ended level.", "Fans were unhappy."]
    reference = "The match ended level.A late penalty was missed.Fans were unhappy."
    assert split_reference(reference, article) == [
        "The match ended level.",
        "A late penalty was missed.",
        "Fans were unhappy.",
    ]


@pytest.mark.parametrize("text", ["the U.S.A. team", "growth of 3.5% in Q4", "visit bbc.co.uk today", "e.g. this"])
def test_unglue_leaves_abbreviations_decimals_and_domains_alone(text: str) -> None:
    assert unglue(text) == text


def test_normalized_sentences_ignore_case_punctuation_and_spacing() -> None:
    assert normalize_sentence("Profits ROSE, by 3%!") == normalize_sentence("profits rose by 3 %")
    assert normalize_sentence("...") == ""


def test_list_items_on_single_lines_are_sentences() -> None:
    text = "Key facts about the plant:\n- It opened in 1952\n- It employs 3,000 people.\n• Output rose 4%"
    assert sentence_texts(text) == [
        "Key facts about the plant:",
        "- It opened in 1952",
        "- It employs 3,000 people.",
        "• Output rose 4%",
    ]
    for sentence in split_sentences(text):
        assert text[sentence.start : sentence.end] == sentence.text


def test_the_faster_multi_character_pattern_finds_punkts_runs() -> None:
    assert punkt.DEFAULT_LANGUAGE_VARS.multi_char_punct_pattern == PUNKT_MULTI_CHAR  # else the swap is skipped
    rng = random.Random(7)
    texts = ["Wait . . . what?", "He paused... Then spoke.", "A -- B --- C.", ". . . . x", "x.. y", "-.-. .", ""]
    texts += ["".join(rng.choice("-. \n\ta") for _ in range(rng.randint(1, 24))) for _ in range(20_000)]
    for suffix in ("", r"(?=\.|a)"):  # alone, and inside a larger pattern that backtracks into it
        punkts, ours = re.compile(PUNKT_MULTI_CHAR + suffix), re.compile(FAST_MULTI_CHAR + suffix)
        for text in texts:
            assert [m.span() for m in punkts.finditer(text)] == [m.span() for m in ours.finditer(text)], text
    plain = punkt.tokenizer_for("english", prefixes=True, line_breaks="paragraph")
    for text in texts[:2000]:
        assert list(_tokenizer().span_tokenize(text)) == list(plain.span_tokenize(text)), text
