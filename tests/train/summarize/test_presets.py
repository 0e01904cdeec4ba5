"""Summary length presets and their precedence over the model default and under explicit options."""

from __future__ import annotations

import pytest

from newsdesk.serve.api.schemas import SummaryOptions
from newsdesk.train.summarize.presets import (
    BRIEF,
    DEFAULT_PRESET,
    PRESET_LENGTHS,
    PRESETS,
    REFERENCE,
    STANDARD,
    LengthChoice,
    SummaryLength,
    resolve_length,
    within_words,
)


def test_brief_is_the_default_without_a_bundle_default() -> None:
    assert DEFAULT_PRESET == BRIEF
    choice = resolve_length()
    assert (choice.preset, choice.num_sentences, choice.about_words, choice.max_words) == (BRIEF, 3, 75, None)


def test_the_bundle_default_applies_when_nothing_is_asked() -> None:
    assert resolve_length(default=REFERENCE) == LengthChoice(REFERENCE, whole_quotes=False)
    assert resolve_length(default=STANDARD).num_sentences == 5


def test_an_asked_preset_beats_the_bundle_default() -> None:
    assert resolve_length(BRIEF, default=REFERENCE).preset == BRIEF


@pytest.mark.parametrize("option", [{"max_sentences": 4}, {"max_words": 200}, {"ratio": 0.5}])
def test_explicit_options_win_over_a_preset(option: dict) -> None:
    choice = resolve_length(BRIEF, default=STANDARD, **option)
    assert choice.preset is None and choice.num_sentences is None
    assert {k: getattr(choice, k) for k in option} == option


def test_an_unknown_preset_names_the_presets() -> None:
    with pytest.raises(ValueError, match="brief, standard, reference"):
        resolve_length("tiny")
    with pytest.raises(ValueError, match="expected one of"):
        resolve_length(default="tiny")


def test_summary_length_checks_its_options() -> None:
    assert SummaryLength(BRIEF).as_kwargs() == {
        "length": BRIEF,
        "max_sentences": None,
        "max_words": None,
        "ratio": None,
    }
    with pytest.raises(ValueError, match="max_words"):
        SummaryLength(max_words=0)
    with pytest.raises(ValueError, match="ratio"):
        SummaryLength(ratio=1.5)


def test_the_http_field_accepts_exactly_the_presets() -> None:
    assert set(PRESET_LENGTHS) == set(PRESETS)
    field = SummaryOptions.model_json_schema()["properties"]["length"]
    allowed = {v for option in field["anyOf"] if "enum" in option for v in option["enum"]}
    assert allowed == set(PRESETS)


def test_a_preset_word_length_is_come_near_and_max_words_is_a_cap() -> None:
    # about 75 words: a sentence joins while at least half of it fits
    assert within_words(50, 50, None, 75)  # 100 words, nearer 75 than 50 is
    assert not within_words(50, 52, None, 75)  # 102 words is further from 75 than 50
    assert within_words(0, 140, None, 75)
    # max_words is a ceiling
    assert within_words(50, 25, 75, None) and not within_words(50, 26, 75, None)
    assert not within_words(50, 30, 75, 75)  # both apply
    assert within_words(10**6, 1, None, None)
