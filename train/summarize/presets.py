"""Named summary lengths (brief, standard, reference) and how they combine with explicit length options.

Standard library only: ``newsdesk score`` and the HTTP schemas read these names when the command line
is built, before any model code is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BRIEF = "brief"
STANDARD = "standard"
REFERENCE = "reference"
PRESETS = (BRIEF, STANDARD, REFERENCE)
DEFAULT_PRESET = BRIEF
"""What a caller who asks for no length gets, unless the bundle was trained with another default."""

PRESET_HELP = (
    "brief: 3 sentences, about 75 words (a news brief); standard: 5 sentences, about 150 words; "
    "reference: the length learned from the training references"
)


def within_words(words: int, n_words: int, max_words: int | None, about_words: int | None) -> bool:
    """Whether a sentence of ``n_words`` may join a summary of ``words``: within ``max_words`` (a hard cap,
    as a caller's ``max_words`` is), and, for a preset's ``about_words`` (a length to come near), when at
    least half of the sentence fits, so the summary ends as close to that length as whole sentences allow.
    """
    if max_words is not None and words + n_words > max_words:
        return False
    return about_words is None or words + n_words / 2 <= about_words


@dataclass(frozen=True)
class LengthPreset:
    """A named summary length: a sentence count and a word length to come near (both None: the learned length).

    The word length is not a hard cap: a brief of three 30-word lead sentences is 90 words rather
    than two sentences of 60 (:func:`within_words`). A caller who needs a ceiling passes ``max_words``.

    ``whole_quotes`` keeps a quotation that the sentence splitter cut at its inner full stops whole (all
    of it or none of it). The ``reference`` preset turns it off to imitate the training references,
    which (in BBC's case) keep single sentences of longer quotations.
    """

    name: str
    sentences: int | None
    about_words: int | None
    whole_quotes: bool = True


PRESET_LENGTHS = {
    BRIEF: LengthPreset(BRIEF, 3, 75),
    STANDARD: LengthPreset(STANDARD, 5, 150),
    REFERENCE: LengthPreset(REFERENCE, None, None, whole_quotes=False),
}


@dataclass(frozen=True)
class LengthChoice:
    """The length options a summariser applies, after a preset and explicit options are reconciled."""

    preset: str | None
    num_sentences: int | None = None
    max_sentences: int | None = None
    max_words: int | None = None
    ratio: float | None = None
    whole_quotes: bool = True
    about_words: int | None = None


def check_preset(name: str) -> str:
    """``name`` when it is a preset; otherwise a ValueError that lists the presets."""
    if name not in PRESETS:
        raise ValueError(f"unknown summary length {name!r}; expected one of {', '.join(PRESETS)}")
    return name


def resolve_length(
    preset: str | None = None,
    *,
    default: str | None = None,
    max_sentences: int | None = None,
    max_words: int | None = None,
    ratio: float | None = None,
) -> LengthChoice:
    """Reconcile a preset with explicit options: explicit ``max_sentences``, ``max_words`` or ``ratio`` win.

    With any explicit option, the preset is set aside and the options apply as they always have
    (the learned length, capped by ``max_sentences``/``max_words`` or replaced by ``ratio``).
    Otherwise the preset (else ``default``, else :data:`DEFAULT_PRESET`) sets the length.
    """
    if preset is not None:
        check_preset(preset)
    if any(option is not None for option in (max_sentences, max_words, ratio)):
        return LengthChoice(None, max_sentences=max_sentences, max_words=max_words, ratio=ratio)
    chosen = PRESET_LENGTHS[preset or check_preset(default or DEFAULT_PRESET)]
    return LengthChoice(
        chosen.name, num_sentences=chosen.sentences, whole_quotes=chosen.whole_quotes, about_words=chosen.about_words
    )


@dataclass(frozen=True)
class SummaryLength:
    """What a caller asked for: a preset, explicit options, or neither (the model's default)."""

    preset: str | None = None
    max_sentences: int | None = None
    max_words: int | None = None
    ratio: float | None = None

    def __post_init__(self) -> None:
        if self.preset is not None:
            check_preset(self.preset)
        for name in ("max_sentences", "max_words"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.ratio is not None and not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {self.ratio}")

    def as_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``summarize``/``summarize_clean`` and ``summarize_article``."""
        return {
            "length": self.preset,
            "max_sentences": self.max_sentences,
            "max_words": self.max_words,
            "ratio": self.ratio,
        }
