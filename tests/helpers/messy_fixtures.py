"""Messy scraped-news fixtures for testing the boilerplate/HTML cleaner (no pytest dependency).

Each file in ``tests/fixtures/messy`` starts with a front-matter header (``topic``, ``title`` and ``styles`` lines),
then a ``---`` line, then the page body as a scraper would return it:

- ``.txt`` bodies are scraped text, one block per line; every boilerplate line starts with the marker ``~ ``, which
  the loader removes to build ``raw``. Unmarked non-blank lines are story lines.
- ``.html`` bodies are whole pages; every story element carries the ``data-story`` attribute (kept in ``raw``).
  Story lines are the texts of those elements; boilerplate lines are the texts of the other visible blocks.

See ``tests/fixtures/messy/README.md`` for the format and the list of fixtures and styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from helpers.paths import FIXTURES

FIXTURE_DIR = FIXTURES / "messy"
TOPICS = ("business", "entertainment", "politics", "sport", "tech")
FORMATS = {".txt": "text", ".html": "html"}
TEXT_MARKER = "~ "
STORY_ATTRIBUTE = "data-story"
FRONT_MATTER_END = "---"
HEADER_KEYS = frozenset({"topic", "title", "styles"})

# Elements whose text is never shown on the page.
_HIDDEN_TAGS = frozenset({"head", "script", "style", "template", "svg", "title"})
# Elements without an end tag.
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# Elements that start a new block of text; anything else (a, span, strong, time, ...) is inline.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "button", "caption", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "html", "label", "legend", "li", "main", "nav", "noscript", "ol", "option", "p", "pre",
        "section", "select", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip


@dataclass(frozen=True)
class MessyFixture:
    """One scraped page: the input a caller would send and which of its lines are story or boilerplate."""

    name: str
    """File name without the extension, e.g. ``01_nav-byline-related-after``."""
    topic: str
    """One of :data:`TOPICS`."""
    title: str
    """The article's headline (passed to the cleaner separately from the body)."""
    format: str
    """``"text"`` or ``"html"``."""
    styles: tuple[str, ...]
    """The kinds of boilerplate and quirks the page shows (see the README's style table)."""
    raw: str
    """The body exactly as a caller would send it, with the ``~ `` markers removed."""
    story_lines: tuple[str, ...]
    """The story's paragraphs, sub-headings and list items, in order, whitespace-normalised."""
    boilerplate_lines: tuple[str, ...]
    """The page's other visible lines or blocks, in order, whitespace-normalised."""


def normalise(text: str) -> str:
    """``text`` with runs of whitespace collapsed to single spaces and the ends trimmed."""
    return " ".join(text.split())


class _PageParser(HTMLParser):
    """Splits a page's visible text into story lines (``data-story`` elements) and boilerplate blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.story: list[str] = []
        self.boilerplate: list[str] = []
        self._stack: list[str] = []
        self._story_level: int | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element: a block or story element ends the current boilerplate block."""
        is_story = any(name == STORY_ATTRIBUTE for name, _ in attrs)
        if tag in _VOID_TAGS:
            if is_story:
                raise ValueError(f"<{tag}> cannot hold story text")
            if tag in _BLOCK_TAGS and self._story_level is None:
                self._flush()
            return
        if self._story_level is None and (is_story or tag in _BLOCK_TAGS):
            self._flush()
        if is_story:
            if self._story_level is not None:
                raise ValueError(f"<{tag} {STORY_ATTRIBUTE}> inside another story element")
            self._story_level = len(self._stack)
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close ``tag`` (and any unclosed elements inside it); a story element's text becomes a story line."""
        if tag in _VOID_TAGS or tag not in self._stack:
            return
        while self._stack:
            opened = self._stack.pop()
            if self._story_level is not None and len(self._stack) == self._story_level:
                self._finish_story()
            if opened == tag:
                break
        if self._story_level is None and tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        """Collect visible text."""
        if not _HIDDEN_TAGS.intersection(self._stack):
            self._buffer.append(data)

    def close(self) -> None:
        """Finish parsing and keep any trailing text as boilerplate."""
        super().close()
        if self._story_level is not None:
            raise ValueError(f"unclosed {STORY_ATTRIBUTE} element")
        self._flush()

    def _flush(self) -> None:
        text = normalise("".join(self._buffer))
        self._buffer.clear()
        if text:
            self.boilerplate.append(text)

    def _finish_story(self) -> None:
        text = normalise("".join(self._buffer))
        self._buffer.clear()
        self._story_level = None
        if not text:
            raise ValueError(f"empty {STORY_ATTRIBUTE} element")
        self.story.append(text)


def split_html(page: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The story lines and the boilerplate lines of an HTML page whose story elements carry ``data-story``."""
    parser = _PageParser()
    parser.feed(page)
    parser.close()
    return tuple(parser.story), tuple(parser.boilerplate)


def split_text(body: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``raw`` (markers removed), the story lines and the boilerplate lines of a marked plain-text body."""
    raw: list[str] = []
    story: list[str] = []
    boilerplate: list[str] = []
    for number, line in enumerate(body.splitlines(keepends=True), start=1):
        if line.startswith(TEXT_MARKER):
            line = line[len(TEXT_MARKER) :]
            if not line.strip():
                raise ValueError(f"body line {number}: empty boilerplate line")
            boilerplate.append(normalise(line))
        elif line.startswith(TEXT_MARKER.strip()):
            raise ValueError(f"body line {number}: malformed marker (use {TEXT_MARKER!r})")
        elif line.strip():
            story.append(normalise(line))
        raw.append(line)
    return "".join(raw), tuple(story), tuple(boilerplate)


def parse_fixture(path: Path) -> MessyFixture:
    """Read one fixture file; raises ``ValueError`` naming the file when it is malformed."""
    fmt = FORMATS.get(path.suffix)
    if fmt is None:
        raise ValueError(f"{path.name}: not a .txt or .html fixture")
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.rstrip("\r\n") == FRONT_MATTER_END:
            body = "".join(lines[index + 1 :])
            break
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or key not in HEADER_KEYS or key in header:
            raise ValueError(f"{path.name}: bad front-matter line {line.rstrip()!r}")
        header[key] = value.strip()
    else:
        raise ValueError(f"{path.name}: no {FRONT_MATTER_END!r} line after the front matter")
    if missing := HEADER_KEYS - header.keys():
        raise ValueError(f"{path.name}: front matter lacks {sorted(missing)}")
    if header["topic"] not in TOPICS:
        raise ValueError(f"{path.name}: topic {header['topic']!r} is not one of {TOPICS}")
    styles = tuple(style.strip() for style in header["styles"].split(","))
    if not header["title"] or not all(styles) or len(set(styles)) != len(styles):
        raise ValueError(f"{path.name}: empty title, or empty or repeated styles")
    try:
        if fmt == "text":
            raw, story, boilerplate = split_text(body)
        else:
            raw = body
            story, boilerplate = split_html(body)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from error
    return MessyFixture(
        name=path.stem,
        topic=header["topic"],
        title=header["title"],
        format=fmt,
        styles=styles,
        raw=raw,
        story_lines=story,
        boilerplate_lines=boilerplate,
    )


def load_messy_fixtures(directory: Path | None = None) -> list[MessyFixture]:
    """Every ``.txt`` and ``.html`` fixture in ``directory`` (default ``tests/fixtures/messy``), sorted by name."""
    folder = FIXTURE_DIR if directory is None else directory
    paths = sorted(path for path in folder.iterdir() if path.is_file() and path.suffix in FORMATS)
    return [parse_fixture(path) for path in paths]
