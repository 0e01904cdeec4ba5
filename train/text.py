"""Text cleaning shared by training, serving and batch scoring.

Every path that turns raw article text into model input goes through
:func:`prepare_article`, so training and serving can never disagree about
how an article looks. Later cleaning steps (HTML extraction, boilerplate
removal) plug into :func:`clean_body`.
"""

from __future__ import annotations

import re
import unicodedata

TITLE_SEPARATOR = "\n\n"
"""How a title and a body are joined, everywhere."""

# C0/C1 control characters and other invisible format characters, except the
# whitespace we keep (tab, newline). Zero-width joiners/spaces and bidi marks
# carry no meaning for topic or summary and break tokenisation.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u061c"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def normalize_unicode(text: str) -> str:
    """Return ``text`` in NFKC form with typographic variants folded (ligatures, full-width forms)."""
    return unicodedata.normalize("NFKC", text)


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces inside lines, trim lines, and keep paragraphs as single blank lines."""
    text = _INLINE_SPACE.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def strip_control_characters(text: str) -> str:
    """Remove control and invisible format characters; unify line breaks to ``\\n``."""
    text = _LINE_BREAKS.sub("\n", text)
    text = text.replace("\t", " ")
    return _CONTROL.sub("", text)


def clean_text(text: str) -> str:
    """Normalise one piece of text: line breaks, control characters, Unicode form, whitespace.

    Idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
    """
    text = strip_control_characters(text)
    text = normalize_unicode(text)
    # NFKC can produce new control characters or line breaks (e.g. from
    # compatibility forms), so strip once more after it.
    text = strip_control_characters(text)
    return normalize_whitespace(text)


def clean_body(text: str) -> str:
    """Clean an article body. The single place where page-level cleaning steps belong."""
    return clean_text(text)


def join_title_body(title: str, body: str) -> str:
    """Join an already cleaned title and body the one way newsdesk always does."""
    title = title.strip()
    body = body.strip()
    if title and body:
        return f"{title}{TITLE_SEPARATOR}{body}"
    return title or body


def clean_title(title: str) -> str:
    """Clean a title: as :func:`clean_text`, then on one line."""
    return " ".join(clean_text(title).split()) if title else ""


def prepare_article(text: str, title: str | None = None) -> str:
    """Turn a raw body (and optional title) into the model input used in training and serving."""
    return join_title_body(clean_title(title or ""), clean_body(text))
