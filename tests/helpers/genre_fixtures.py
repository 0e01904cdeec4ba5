"""Genre fixtures (e-mail, forum, wire, press release, transcript, newsletter): texts whose every line is content.

See ``tests/fixtures/genres/README.md`` for the format.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.paths import FIXTURES

GENRE_DIR = FIXTURES / "genres"
FRONT_MATTER_END = "---"


@dataclass(frozen=True)
class GenreFixture:
    """One non-page text: its genre, title, raw body and content lines (every non-blank line)."""

    name: str
    genre: str
    title: str
    raw: str

    @property
    def content_lines(self) -> tuple[str, ...]:
        """Every non-blank line of the body, whitespace-normalised."""
        return tuple(" ".join(line.split()) for line in self.raw.splitlines() if line.strip())


def parse_genre_fixture(name: str, text: str) -> GenreFixture:
    """Parse one fixture file's text; raise ValueError naming what is missing."""
    head, sep, body = text.partition(f"\n{FRONT_MATTER_END}\n")
    if not sep:
        raise ValueError(f"{name}: expected a front matter ended by a '{FRONT_MATTER_END}' line")
    fields = dict(line.split(":", 1) for line in head.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    missing = {"genre", "title"} - set(fields)
    if missing:
        raise ValueError(f"{name}: front matter lacks {sorted(missing)}; it has {sorted(fields)}")
    return GenreFixture(name=name, genre=fields["genre"], title=fields["title"], raw=body)


def load_genre_fixtures() -> list[GenreFixture]:
    """Every fixture in ``tests/fixtures/genres``, sorted by file name."""
    return [
        parse_genre_fixture(path.stem, path.read_text(encoding="utf-8")) for path in sorted(GENRE_DIR.glob("*.txt"))
    ]
