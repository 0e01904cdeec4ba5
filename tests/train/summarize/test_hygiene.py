"""Sentence hygiene: what may never be in a summary, and whole sentences (one test per rule)."""

from __future__ import annotations

import random

import pytest

from newsdesk.train.summarize.hygiene import (
    _BARE_BREAK,
    BYLINE,
    CLICK_PROMPT,
    DATELINE,
    HEADLINE,
    PHOTO_CREDIT,
    READER_QUESTION,
    SHARE_PROMPT,
    bare_breaks,
    candidate_sentences,
    has_verb,
    quote_groups,
    rejection_reason,
)
from newsdesk.train.text.sentences import split_sentences

STORY = "The council approved the new bridge on Monday after a two-year dispute."


@pytest.mark.parametrize(
    ("line", "own_line", "reason"),
    [
        ("Bridge row ends in triumph for campaigners", True, HEADLINE),
        ("Council's new bridge", False, HEADLINE),
        ("By Jane Smith, Political Editor", True, BYLINE),
        ("By JANE SMITH", True, BYLINE),
        ("Published: 10:32 EST, 3 April 2015", True, BYLINE),
        ("LONDON (Reuters) -", True, DATELINE),
        ("WASHINGTON -", True, DATELINE),
        ("3 April 2015", True, DATELINE),
        ("Photo: Getty Images", True, PHOTO_CREDIT),
        ("Picture by John Brown/Reuters", True, PHOTO_CREDIT),
        ("The mayor at the opening. (John Brown/Getty Images)", True, PHOTO_CREDIT),
        ("Share this with Email Facebook Twitter Pinterest", True, SHARE_PROMPT),
        ("Email Facebook Twitter Pinterest WhatsApp", True, SHARE_PROMPT),
        ("Click here to read the full report.", False, CLICK_PROMPT),
        ("Scroll down for video", True, CLICK_PROMPT),
        ("What do you think of the new bridge?", False, READER_QUESTION),
        ("Would you cross it?", False, READER_QUESTION),
    ],
)
def test_each_rule_rejects_its_case(line: str, own_line: bool, reason: str) -> None:
    assert rejection_reason(line, own_line) == reason


@pytest.mark.parametrize(
    "sentence",
    [
        STORY,
        "By Monday's close, the index was down 2.1%.",  # "By" starting a sentence is not a byline
        '"Is it fair?" she asked the committee.',  # a quoted question is part of the story
        "The chancellor told Reuters the plan was affordable.",  # an agency named in prose is no credit
        "The deal was signed in Paris.",
    ],
)
def test_ordinary_sentences_pass(sentence: str) -> None:
    assert rejection_reason(sentence, own_line=False) is None


def test_has_verb_tells_headlines_from_sentences() -> None:
    assert not has_verb("Council's new bridge")
    assert has_verb("The council approved the bridge")


def test_candidates_drop_headline_byline_and_furniture_lines() -> None:
    body = f"Bridge row ends in triumph\nBy Jane Smith\n{STORY}\nCampaigners had opposed the plan since 2019.\nThe mayor opens the bridge\nShare this with Email Facebook Twitter Pinterest\nWork will start in the spring and take a year."
    texts = [s.text for s in candidate_sentences(body)]
    assert texts == [
        STORY,
        "Campaigners had opposed the plan since 2019.",
        "Work will start in the spring and take a year.",
    ]
    for sentence in candidate_sentences(body):  # offsets still point into the body
        assert body[sentence.start : sentence.end] == sentence.text


def test_a_caption_line_is_cut_from_the_sentence_after_it() -> None:
    body = "The mayor opens the bridge\nThe council approved it on Monday.\nWork starts in spring."
    assert [s.text for s in candidate_sentences(body)] == [
        "The council approved it on Monday.",
        "Work starts in spring.",
    ]


def test_hard_wrapped_text_is_not_cut_at_line_breaks() -> None:
    body = "The council approved the new\nbridge on Monday after a long\ndispute with campaigners.\nWork starts soon."
    texts = [s.text for s in candidate_sentences(body)]
    assert texts[0] == "The council approved the new bridge on Monday after a long dispute with campaigners."


def test_sentences_are_not_split_at_abbreviations() -> None:
    body = "The U.S. Army said on Monday it would leave. Officials in the U.K. agreed."
    assert [s.text for s in candidate_sentences(body)] == [
        "The U.S. Army said on Monday it would leave.",
        "Officials in the U.K. agreed.",
    ]


def test_a_quoted_exclamation_keeps_its_attribution() -> None:
    body = '"We won!" shouted the mayor at the opening. The bridge opens in May.'
    assert next(s.text for s in candidate_sentences(body)) == '"We won!" shouted the mayor at the opening.'


def test_a_quotation_cut_at_inner_full_stops_is_one_group() -> None:
    body = 'She said: "It is over. We lost. Nobody cares." Then she left. The vote was 5-4.'
    sentences = split_sentences(body)
    assert len(sentences) == 5
    groups = quote_groups(sentences)
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[2], groups[3], groups[4]}) == 3


def test_when_everything_would_be_dropped_the_text_is_kept() -> None:
    assert [s.text for s in candidate_sentences("Bridge opens")] == ["Bridge opens"]


def test_bare_breaks_are_what_the_regex_finds() -> None:
    """bare_breaks walks the line breaks instead of trying _BARE_BREAK at every character; same answers,
    including where findall's matches would overlap ("a\nb\nc" has one) and after Unicode spaces."""
    rng = random.Random(11)
    alphabet = list("ab. \t\n\n!?…\"'’”)]\u00a0\u2028\u3000xY")
    texts = ["a\nb\nc", "a\n\n\nb", "end.\nnext", "x \t\n \n y", "no break", "\n\n", "a\n", "\u00a0\nb"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(20_000)]
    for text in texts:
        assert bare_breaks(text) == _BARE_BREAK.findall(text), repr(text)
