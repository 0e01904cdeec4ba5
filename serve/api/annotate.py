"""The article as display blocks: kept lines with the summary's sentences marked, removed lines where they sat.

The API reports the cleaned text (with sentence offsets into it) and the removed
lines separately; a reader wants one document. :func:`annotate_article` rebuilds
it from the original text, the :class:`~newsdesk.serve.analysis.CleanArticle` and the
:class:`~newsdesk.train.summarize.extractive.Summary`, calling the same cleaning functions the
models' input came from (nothing here decides what is boilerplate):

* **plain text**: the lines of ``clean_text(original)`` in order; each is kept
  (one of the cleaned body's lines) or removed (with the reason cleaning gave).
* **HTML**: the page's visible lines in order; lines left out of the article are
  removed blocks ("not part of the article"), and the cleaned body's paragraphs
  (the extractor's text, which need not match the page's lines one to one) are
  placed where their first page line sat.

Kept blocks are split into spans, each marked with the summary sentence it
belongs to (or none), so a client never does offset arithmetic; offsets are in
code points while JavaScript strings count UTF-16 units. When the lines cannot
be aligned (which should not happen), the body comes first and the removed lines
follow at the end, with ``placed`` false. Nothing here raises on odd input.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from newsdesk.serve.analysis import CleanArticle
from newsdesk.train.summarize.base import Summary
from newsdesk.train.text.cleaning import clean_text, word_key
from newsdesk.train.text.webpage import visible_lines

KEPT = "kept"
REMOVED = "removed"
UNKNOWN_REASON = "removed by cleaning"


@dataclass(frozen=True)
class Span:
    """A piece of a kept line: its text and the summary sentence it belongs to (None: not in the summary)."""

    text: str
    sentence: int | None = None


@dataclass(frozen=True)
class Block:
    """One line of the document: kept (with spans) or removed (with the reason)."""

    kind: str
    text: str
    reason: str | None = None
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Document:
    """The article as the reader pasted it, in order; ``placed`` is False when removed lines went to the end."""

    format: str
    blocks: tuple[Block, ...]
    placed: bool = True


@dataclass(frozen=True)
class _Line:
    text: str
    start: int  # offset in the cleaned body

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def annotate_article(original: str, article: CleanArticle, summary: Summary | None = None) -> Document:
    """The document view of ``original`` after cleaning, with ``summary``'s sentences marked in the kept lines."""
    lines = _body_lines(article.body)
    sentences = _sentence_spans(summary, len(article.body))
    kept = [Block(KEPT, line.text, None, tuple(_spans(article.body, line, sentences))) for line in lines]
    if article.format == "html":
        blocks = _html_blocks(original, article, lines, kept)
    else:
        blocks = _text_blocks(original, article, lines, kept)
    if blocks is None:
        removed = [Block(REMOVED, line, reason or UNKNOWN_REASON) for line, reason in article.removed]
        return Document(article.format, tuple(kept + removed), placed=False)
    return Document(article.format, tuple(blocks))


def _body_lines(body: str) -> list[_Line]:
    """The non-empty lines of the cleaned body with their offsets in it."""
    lines = []
    offset = 0
    for text in body.split("\n"):
        if text.strip():
            lines.append(_Line(text, offset))
        offset += len(text) + 1
    return lines


def _sentence_spans(summary: Summary | None, body_length: int) -> list[tuple[int, int, int]]:
    """(start, end, index) of the summary sentences that point into the body, in order (abstractive ones do not)."""
    if summary is None:
        return []
    spans = [
        (s.start, s.end, s.index) for s in summary.sentences if 0 <= s.start < s.end <= body_length and s.index >= 0
    ]
    return sorted(spans)


def _spans(body: str, line: _Line, sentences: Sequence[tuple[int, int, int]]) -> list[Span]:
    """Cut a kept line into plain and highlighted spans."""
    spans: list[Span] = []
    cursor = line.start
    for start, end, index in sentences:
        a, b = max(start, cursor), min(end, line.end)
        if a >= b:
            continue
        if a > cursor:
            spans.append(Span(body[cursor:a]))
        spans.append(Span(body[a:b], index))
        cursor = b
    if cursor < line.end or not spans:
        spans.append(Span(body[cursor : line.end]))
    return spans


def _text_blocks(
    original: str, article: CleanArticle, body_lines: list[_Line], kept: list[Block]
) -> list[Block] | None:
    """Walk the normalised original's lines: each is the next body line (kept) or a removed one.

    Cleaning only drops lines, so the body is a subsequence of these lines; matching greedily finds one
    such alignment (when a line occurs several times, which copy was dropped cannot be told apart anyway).
    """
    lines = [line for line in clean_text(original).split("\n") if line.strip()]
    reasons: dict[str, deque[str]] = defaultdict(deque)
    for line, reason in article.removed:
        reasons[line].append(reason)
    blocks: list[Block] = []
    next_kept = 0
    for line in lines:
        if next_kept < len(body_lines) and body_lines[next_kept].text == line:
            blocks.append(kept[next_kept])
            next_kept += 1
        elif reasons[line]:
            blocks.append(Block(REMOVED, line, reasons[line].popleft() or UNKNOWN_REASON))
        else:
            return None
    if next_kept != len(body_lines) or any(reasons.values()):
        return None
    return blocks


def _html_blocks(
    original: str, article: CleanArticle, body_lines: list[_Line], kept: list[Block]
) -> list[Block] | None:
    """Walk the page's visible lines: removed ones in place, each body paragraph where its first page line sat."""
    removed = deque(article.removed)
    keys = [f" {word_key(line.text)} " for line in body_lines]
    blocks: list[Block] = []
    next_kept = 0
    for line in visible_lines(original):
        if removed and removed[0][0] == line:
            blocks.append(Block(REMOVED, line, removed.popleft()[1] or UNKNOWN_REASON))
            continue
        key = word_key(line)
        if not key or (next_kept > 0 and f" {key} " in keys[next_kept - 1]):
            continue  # more of the paragraph just placed
        found = next((j for j in range(next_kept, len(keys)) if f" {key} " in keys[j]), None)
        if found is None:
            continue  # a page line the extractor reworded; its paragraph is placed by another line or at the end
        blocks.extend(kept[next_kept : found + 1])
        next_kept = found + 1
    if removed:
        return None
    blocks.extend(kept[next_kept:])
    return blocks
