"""What every summariser shares: the summary types, the error, length checks, and reading a raw article.

:class:`RawTextSummarizer` is the one way a summariser reads a raw article (cleaned exactly as in
training); each summariser implements ``summarize_clean``.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsdesk.train.text.cleaning import DEFAULT_CLEANING, CleaningOptions, clean_body, clean_title


class SummaryError(ValueError):
    """The input cannot be summarised (for example, it is empty)."""


@dataclass(frozen=True)
class SummarySentence:
    """A sentence chosen for a summary: its index among the article's sentences and its offsets in the cleaned text."""

    index: int
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Summary:
    """The chosen sentences in article order, plus what produced them."""

    sentences: tuple[SummarySentence, ...]
    method: str
    n_sentences: int
    cleaned_text: str

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


class RawTextSummarizer:
    """The one way a summariser reads a raw article: the title and body are cleaned exactly as in
    training, then :meth:`summarize_clean` (each summariser's own) does the work."""

    def summarize(
        self,
        text: str,
        title: str | None = None,
        *,
        max_sentences: int | None = None,
        max_words: int | None = None,
        ratio: float | None = None,
        num_sentences: int | None = None,
        cleaning: CleaningOptions = DEFAULT_CLEANING,
        length: str | None = None,
    ) -> Summary:
        """Summarise a raw article body; see :meth:`summarize_clean` for the length options."""
        clean = clean_title(title or "")
        return self.summarize_clean(
            clean_body(text, clean, cleaning),
            clean,
            max_sentences=max_sentences,
            max_words=max_words,
            ratio=ratio,
            num_sentences=num_sentences,
            length=length,
        )

    def summarize_clean(
        self,
        body: str,
        title: str = "",
        *,
        max_sentences: int | None = None,
        max_words: int | None = None,
        ratio: float | None = None,
        num_sentences: int | None = None,
        length: str | None = None,
    ) -> Summary:
        raise NotImplementedError


def check_length_options(max_sentences: int | None, max_words: int | None, ratio: float | None) -> None:
    """Fail with a :class:`SummaryError` naming the bad value when a length option is out of range."""
    if max_sentences is not None and max_sentences < 1:
        raise SummaryError(f"max_sentences must be at least 1, got {max_sentences}")
    if max_words is not None and max_words < 1:
        raise SummaryError(f"max_words must be at least 1, got {max_words}")
    if ratio is not None and not 0.0 < ratio <= 1.0:
        raise SummaryError(f"ratio must be in (0, 1], got {ratio}")
