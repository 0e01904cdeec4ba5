"""Self-check of the messy scraped-news fixtures: counts, topics, markers, story text and the README's tables."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest

from helpers.messy_fixtures import FIXTURE_DIR, TOPICS, MessyFixture, load_messy_fixtures, normalise, parse_fixture

FIXTURES = load_messy_fixtures()
README = FIXTURE_DIR / "README.md"
SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)]?$")
_HIDDEN = re.compile(
    r"<!--.*?-->|<(script|style|template|svg)\b.*?</\1\s*>|<head\b.*?</head\s*>", re.DOTALL | re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def visible_text(page: str) -> str:
    """``page`` with comments, head, scripts and styles removed, tags stripped, entities decoded, whitespace collapsed."""
    return normalise(html.unescape(_TAG.sub("", _HIDDEN.sub(" ", page))))


def readme_table(first_header: str) -> list[list[str]]:
    """The body rows (cells stripped of spaces and backticks) of the README table whose first header cell is given."""
    rows: list[list[str]] = []
    in_table = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip().strip("`").replace("\\|", "|") for cell in _CELL_SPLIT.split(line.strip())[1:-1]]
        if cells and cells[0] == first_header:
            in_table = True
        elif in_table and not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    assert rows, f"README has no table headed {first_header!r}"
    return rows


def by_name(fixture: MessyFixture) -> str:
    """Test id: the fixture's name."""
    return fixture.name


def test_fixture_counts() -> None:
    """At least 34 fixtures, 12 HTML and 20 text, and at least 6 in each topic."""
    formats = Counter(fixture.format for fixture in FIXTURES)
    topics = Counter(fixture.topic for fixture in FIXTURES)
    assert len(FIXTURES) >= 34
    assert formats["html"] >= 12
    assert formats["text"] >= 20
    assert set(topics) == set(TOPICS)
    assert min(topics.values()) >= 6, topics


def test_names_and_titles_are_unique() -> None:
    """File numbers and titles are not reused."""
    assert len({fixture.name[:2] for fixture in FIXTURES}) == len(FIXTURES)
    assert len({fixture.title for fixture in FIXTURES}) == len(FIXTURES)


@pytest.mark.parametrize("fixture", FIXTURES, ids=by_name)
def test_fixture_has_story_and_boilerplate(fixture: MessyFixture) -> None:
    """Every page has at least 4 story lines and 3 boilerplate lines."""
    assert len(fixture.story_lines) >= 4
    assert len(fixture.boilerplate_lines) >= 3


@pytest.mark.parametrize("fixture", FIXTURES, ids=by_name)
def test_no_markers_left_in_raw(fixture: MessyFixture) -> None:
    """The ``~ `` marker (and the tilde at all) is gone from ``raw``; HTML is a whole page."""
    assert "~" not in fixture.raw
    if fixture.format == "html":
        assert fixture.raw.lstrip().lower().startswith("<!doctype html")
        assert "<title>" in fixture.raw.lower()


@pytest.mark.parametrize("fixture", FIXTURES, ids=by_name)
def test_story_lines_occur_in_raw(fixture: MessyFixture) -> None:
    """Each story line is in ``raw`` (HTML: in its visible, tag-stripped text); no boilerplate line equals one."""
    text = normalise(fixture.raw) if fixture.format == "text" else visible_text(fixture.raw)
    for line in fixture.story_lines:
        assert line in text
    assert not set(fixture.story_lines) & set(fixture.boilerplate_lines)


@pytest.mark.parametrize("fixture", FIXTURES, ids=by_name)
def test_story_is_news_prose(fixture: MessyFixture) -> None:
    """Story paragraphs are full sentences of 15-60 words; only ``tricky-story`` pages may have other lines."""
    prose = [line for line in fixture.story_lines if 15 <= len(line.split()) <= 60 and SENTENCE_END.search(line)]
    if "tricky-story" in fixture.styles:
        assert len(prose) >= 4
        assert len(prose) < len(fixture.story_lines)
    else:
        assert prose == list(fixture.story_lines)


def test_readme_styles_cover_fixtures() -> None:
    """Each style in the README's style table is used by a fixture, and fixtures use no other style."""
    documented = [row[0] for row in readme_table("Style")]
    used = Counter(style for fixture in FIXTURES for style in fixture.styles)
    assert len(documented) == len(set(documented))
    assert [style for style in documented if not used[style]] == []
    assert sorted(set(used) - set(documented)) == []


def test_readme_lists_every_fixture() -> None:
    """The README's fixture table lists every file with its topic, format, title and styles."""
    listed = {row[0]: row[1:] for row in readme_table("File")}
    actual = {
        f"{fixture.name}.{'txt' if fixture.format == 'text' else 'html'}": [
            fixture.topic,
            fixture.format,
            fixture.title,
            ", ".join(fixture.styles),
        ]
        for fixture in FIXTURES
    }
    assert listed == actual


def test_loader_rejects_malformed_files(tmp_path: Path) -> None:
    """Bad front matter and bad markers are reported with the file name."""
    cases = {
        "no_separator.txt": "topic: sport\ntitle: T\nstyles: byline\nbody\n",
        "bad_topic.txt": "topic: weather\ntitle: T\nstyles: byline\n---\nStory.\n",
        "bad_marker.txt": "topic: sport\ntitle: T\nstyles: byline\n---\n~Share\nStory.\n",
        "nested.html": "topic: sport\ntitle: T\nstyles: byline\n---\n<div data-story><p data-story>x</p></div>\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(ValueError, match=name):
            parse_fixture(path)


def test_loader_splits_text_and_html(tmp_path: Path) -> None:
    """Markers are removed from text; HTML story elements and visible blocks are split, scripts ignored."""
    text = tmp_path / "01_t.txt"
    text.write_text("topic: tech\ntitle: T\nstyles: byline\n---\n~ By Jo\n\nA  story line.\n", encoding="utf-8")
    page = tmp_path / "02_h.html"
    page.write_text(
        "topic: tech\ntitle: T\nstyles: byline\n---\n<!doctype html><html><head><title>T</title>"
        "<script>var x = '<p>no</p>';</script></head><body><nav><ul><li><a href='/'>Home</a></li></ul></nav>"
        "<p data-story>One <a href='#'>linked</a> line.</p><div>Share <span>this</span></div></body></html>",
        encoding="utf-8",
    )
    loaded = load_messy_fixtures(tmp_path)
    assert [fixture.name for fixture in loaded] == ["01_t", "02_h"]
    assert loaded[0].raw == "By Jo\n\nA  story line.\n"
    assert (loaded[0].story_lines, loaded[0].boilerplate_lines) == (("A story line.",), ("By Jo",))
    assert (loaded[1].story_lines, loaded[1].boilerplate_lines) == (("One linked line.",), ("Home", "Share this"))
