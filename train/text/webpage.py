"""HTML input: detect a web page and extract its main article text.

Extraction uses trafilatura (Barbaresi, 2021), which scores the page's
blocks and keeps the main content, dropping navigation, asides, footers,
comments and scripts. When it finds nothing (a fragment, a page with no
article), the tags are stripped instead and a warning says so.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser

FORMATS = ("auto", "text", "html")

_DOCUMENT_START = re.compile(r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|span|a|br|li|ul|ol|article|section|nav|header|footer|main|aside|h[1-6]|table|tr|td|img|"
    r"figure|figcaption|script|style|meta|link|body|html)\b[^<>]*>",
    re.IGNORECASE,
)
_COMMENT_CLOSE = re.compile(r"--\s*>")  # what html.parser takes as the end of a comment
_SKIP_CONTENT = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "article",
        "section",
        "nav",
        "header",
        "footer",
        "main",
        "aside",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "td",
        "th",
        "figure",
        "figcaption",
        "blockquote",
        "title",
        "dt",
        "dd",
        "pre",
        "form",
        "button",
        "label",
        "option",
    }
)


@dataclass(frozen=True)
class Extraction:
    """Text taken out of an HTML page: the article, every visible line of the page, and any warning."""

    text: str
    page_lines: tuple[str, ...]
    warning: str | None = None


def looks_like_html(text: str) -> bool:
    """Whether ``text`` is an HTML document or fragment rather than plain text that mentions a tag."""
    if _DOCUMENT_START.match(text[:2000]):
        return True
    sample = text[:20000]
    tags = _BLOCK_TAG.findall(sample)
    return len(tags) >= 3 and sum(len(t) for t in tags) >= 0.02 * len(sample.strip() or "x")


class _TextCollector(HTMLParser):
    """The visible text of a page, one line per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._skipping = 0

    def _flush(self) -> None:
        line = " ".join("".join(self._current).split())
        if line:
            self.lines.append(line)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT:
            self._skipping += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _defuse(page: str) -> str:
    """``page`` with the markup html.parser cannot finish turned into text, so parsing is linear and never raises.

    Python 3.11's parser raises AssertionError on a marked section it does not know (``<![foo``), and
    at the end of the input it rescans to the end from every unfinished tag or comment, one after the
    other (minutes for ``"<p " * 30000``). A tag can only end at a later ``>`` and a comment at a later
    ``-->``; the parser turns the ones that never end into text anyway, so escaping them up front gives
    the same lines in linear time. A marked section is a bogus comment up to ``>`` in HTML, and so here.
    """
    page = page.replace("<![", "<! [")
    last_comment_close = -1
    for match in _COMMENT_CLOSE.finditer(page):
        last_comment_close = match.start()
    unfinished_comments = max(0, last_comment_close - 3)  # a comment opened here or later has no end
    page = page[:unfinished_comments] + page[unfinished_comments:].replace("<!--", "&lt;!--")
    last_tag_end = page.rfind(">") + 1
    return page[:last_tag_end] + page[last_tag_end:].replace("<", "&lt;")


def visible_lines(page: str) -> list[str]:
    """Every visible block of text of a page, in order (scripts, styles and the head left out)."""
    collector = _TextCollector()
    collector.feed(_defuse(page))
    collector.close()
    return collector.lines


def extract_article(page: str) -> Extraction:
    """The main article text of an HTML page (paragraphs separated by blank lines)."""
    lines = tuple(visible_lines(page))
    text = _trafilatura_text(page)
    if text:
        return Extraction(text=text, page_lines=lines)
    fallback = "\n\n".join(lines)
    return Extraction(
        text=html.unescape(fallback),
        page_lines=lines,
        warning="no article found in the HTML by the extractor; fell back to removing the tags",
    )


def _trafilatura_text(page: str) -> str:
    import trafilatura

    # It logs ERROR for every fragment lxml finds empty ("Document is empty"); we fall back and warn instead.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    try:
        # No deduplicate=True: trafilatura keeps it in a process-wide cache, so a paragraph it has seen
        # three times, in any page, would be dropped from every later page (serving would drift).
        text = trafilatura.extract(
            page,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            deduplicate=False,
            favor_precision=True,
        )
    except (ValueError, TypeError):  # pages lxml cannot parse at all
        return ""
    if not text:
        return ""
    # trafilatura separates blocks with single newlines; make them paragraphs.
    return "\n\n".join(line.strip() for line in text.split("\n") if line.strip())
