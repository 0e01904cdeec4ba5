"""Which sentences may appear in a summary: whole sentences of prose, never page furniture.

:func:`candidate_sentences` turns a cleaned body into the units a summariser may choose from:

1. Sentences as :func:`~newsdesk.train.text.sentences.split_sentences` finds them, then cut again
   at a line break that follows a line without sentence-final punctuation, when the text is laid
   out one sentence or paragraph per line (a headline or a photo caption on its own line is not
   the start of the next sentence). Hard-wrapped text (lines that run on into a lower-case next
   line, as in Reuters) is left alone.
2. Fragments glued back: a piece that starts in lower case continues the previous one, and a
   quotation that Punkt cut at its inner full stops (``"It is over. We lost."``) is one unit.
3. Units that no summary should contain are dropped (:func:`rejection_reason`): a line without a
   verb or final punctuation (a headline, a caption, a label), a byline, a dateline on its own, a
   photo credit, share and "click here" prompts, and a question put to the reader.

When every unit would be dropped, the units are kept as they are, so a summary is still possible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from newsdesk.train.text.sentences import Sentence, split_sentences

_FINAL = re.compile(r"""[.!?…][\"'’”)\]]*$""")
_LETTER = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")

# A verb-free headline still needs one of these to read as a sentence (a tiny closed list of
# auxiliaries and the commonest reporting verbs; any word ending in -ed/-ing/-s may be a verb too).
_COMMON_VERBS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "say",
        "says",
        "said",
        "tell",
        "tells",
        "told",
        "get",
        "gets",
        "got",
        "make",
        "makes",
        "made",
        "go",
        "goes",
        "went",
        "win",
        "wins",
        "won",
        "lose",
        "loses",
        "lost",
        "take",
        "takes",
        "took",
        "give",
        "gives",
        "gave",
        "find",
        "finds",
        "found",
        "set",
        "sets",
        "cut",
        "cuts",
        "hit",
        "hits",
        "put",
        "puts",
        "run",
        "runs",
        "ran",
        "let",
        "lets",
    ]
)

BYLINE = "byline"
DATELINE = "dateline alone"
PHOTO_CREDIT = "photo credit"
SHARE_PROMPT = "share prompt"
CLICK_PROMPT = "click prompt"
READER_QUESTION = "question to the reader"
HEADLINE = "headline or caption line"
REASONS = (HEADLINE, BYLINE, DATELINE, PHOTO_CREDIT, SHARE_PROMPT, CLICK_PROMPT, READER_QUESTION)

_BYLINE = re.compile(
    r"^(?:[Bb][Yy]\s+[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|and|&|de|van|von|der|la))*(?:\s*(?:,|-|–|\|)\s*[^.!?]*)?"
    r"|(?i:(?:daily mail|mailonline|associated press|press association|cnn|reuters|afp)\s+reporter)"
    r"|(?i:(?:published|updated|last updated)\s*:.*))$"
)
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .'’-]+(?:,\s*[A-Za-z0-9 .]+)?\s*(?:\((?:[A-Za-z .]+)\)\s*[-–—]*|[-–—]+)"
    r"|\((?:CNN|AP|AFP|Reuters)\)\s*[-–—]*)$"
)
_DATE_ONLY = re.compile(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?"
    r"(?:\s+\d{4})?(?:\s+\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?|gmt|bst|est|edt|et|utc)?)?\.?$|^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$",
    re.IGNORECASE,
)
# A credit line starts like one ("Photo: ...", "© ...") or ends with an agency after a slash ("... / Getty Images").
# Two patterns, so that the starts are tried at the start only and the ending only when the text has a slash.
_PHOTO_CREDIT_START = re.compile(
    r"\(?(?:photo|picture|pictures|image|images|photograph|credit|source|video)s?(?:\s+(?:by|credit|copyright))?"
    r"\s*[:©-]|©|image copyright\b|(?:photo|picture)\s+by\s",
    re.IGNORECASE,
)
_PHOTO_CREDIT_END = re.compile(
    r"/\s*(?:getty images|reuters|afp|ap|rex|pa|epa|shutterstock|alamy)\)?\.?$",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"^(?:share\s+(?:this|or comment|on|via)\b|(?:email|facebook|twitter|pinterest|whatsapp|linkedin)"
    r"(?:\s+(?:email|facebook|twitter|pinterest|whatsapp|linkedin|google\+?|reddit|messenger)){2,})",
    re.IGNORECASE,
)
_CLICK = re.compile(
    r"^(?:click\s+(?:here|on|to)|scroll\s+down\b|read\s+more\b|see\s+(?:also|more)\b|sign\s+up\b|"
    r"subscribe\b|follow\s+us\b|watch\s+(?:the\s+)?video\b|(?:download|get)\s+the\s+app\b)",
    re.IGNORECASE,
)
_READER = re.compile(r"\b(?:you|your|yours|yourself|we|us|our)\b", re.IGNORECASE)
_OPEN_QUOTES = ('"', "“")
# A line break after a line without final punctuation, and the first letter of the next line (what
# :func:`bare_breaks` finds; the regex is the definition its test checks against).
_BARE_BREAK = re.compile(r"""[^.!?…"'’”)\]\s][ \t]*\n\s*(\S)""")
_FINAL_PUNCTUATION = frozenset(""".!?…"'’”)]""")
_MAX_QUOTE_SENTENCES = 4


def candidate_sentences(body: str) -> list[Sentence]:
    """The units of ``body`` a summary may use, in article order (see the module docstring)."""
    units = _glue_fragments(body, _cut_at_bare_lines(body, split_sentences(body)))
    kept = [u for u in units if rejection_reason(u.text, _is_own_line(body, u)) is None]
    return kept or units


def rejection_reason(text: str, own_line: bool = False) -> str | None:
    """Why ``text`` must not be in a summary (one of :data:`REASONS`), or None when it may.

    ``own_line`` says the unit stands alone on its line; a line without final punctuation and
    without a verb is then a headline, a caption or a label.
    """
    stripped = text.strip()
    if not _LETTER.search(stripped):
        return HEADLINE
    if _SHARE.search(stripped):
        return SHARE_PROMPT
    if _CLICK.search(stripped):
        return CLICK_PROMPT
    if len(stripped.split()) <= 14 and _is_photo_credit(stripped):
        return PHOTO_CREDIT
    if len(stripped.split()) <= 12 and not _FINAL.search(stripped) and _BYLINE.match(stripped):
        return BYLINE
    if _DATELINE.match(stripped) or _DATE_ONLY.match(stripped):
        return DATELINE
    if _is_reader_question(stripped):
        return READER_QUESTION
    if not _FINAL.search(stripped) and (own_line or not has_verb(stripped)):
        return HEADLINE
    return None


def _is_photo_credit(text: str) -> bool:
    return _PHOTO_CREDIT_START.match(text) is not None or ("/" in text and _PHOTO_CREDIT_END.search(text) is not None)


def has_verb(text: str) -> bool:
    """Whether ``text`` plausibly has a finite verb (a cheap test, no tagger: good enough for headlines)."""
    words = [w.lower() for w in _WORD.findall(text)]
    for word in words[1:] if len(words) > 1 else words:
        if word in _COMMON_VERBS or (len(word) > 3 and word.endswith(("ed", "es", "ing"))):
            return True
    return False


def _is_reader_question(text: str) -> bool:
    """A question in the article's own voice (not inside a quotation) that addresses the reader."""
    if not text.rstrip("\"'’”) ").endswith("?"):
        return False
    if text.startswith(_OPEN_QUOTES + ("‘", "'")):
        return False  # someone quoted asking: part of the story
    return bool(_READER.search(text)) or not re.search(r"\b(?:said|says|asked|told)\b", text)


def _is_own_line(body: str, unit: Sentence) -> bool:
    """Whether the unit is a whole line of ``body`` (nothing else before or after it on that line)."""
    before = body.rfind("\n", 0, unit.start)
    after = body.find("\n", unit.end)
    line = body[before + 1 : after if after != -1 else len(body)]
    return line.strip() == body[unit.start : unit.end].strip()


def bare_breaks(body: str) -> list[str]:
    """``_BARE_BREAK.findall(body)``, found from the line breaks instead of trying the regex at every
    character (which took about a twentieth of a /v1/summarize request).

    Each break has one possible start: the last character before it that is not a space or tab. A match
    runs on through the whitespace after the break to the next visible character, and, as with
    ``findall``, the next match cannot start inside it.
    """
    found: list[str] = []
    resume = 0  # where findall would go on looking
    size = len(body)
    newline = body.find("\n")
    while newline != -1:
        start = newline - 1
        while start >= 0 and body[start] in " \t":
            start -= 1
        last = body[start] if start >= 0 else ""
        if start >= resume and last and not last.isspace() and last not in _FINAL_PUNCTUATION:
            following = newline + 1
            while following < size and body[following].isspace():
                following += 1
            if following < size:
                found.append(body[following])
                resume = following + 1
                newline = body.find("\n", resume)
                continue
        newline = body.find("\n", newline + 1)
    return found


def _hard_wrapped(body: str) -> bool:
    """Whether ``body`` is prose wrapped at a fixed width: many lines run on into a lower-case next line."""
    breaks = bare_breaks(body)
    return bool(breaks) and sum(1 for nxt in breaks if nxt.islower()) > 0.25 * len(breaks)


def _cut_at_bare_lines(body: str, sentences: Sequence[Sentence]) -> list[Sentence]:
    """Cut sentences after a line that has no final punctuation, in line-structured text."""
    if "\n" not in body or _hard_wrapped(body):
        return list(sentences)
    out: list[Sentence] = []
    for sentence in sentences:
        if body.find("\n", sentence.start, sentence.end) == -1:
            out.append(sentence)  # no line inside it to cut at
            continue
        start = sentence.start
        for match in re.finditer(r"\n", body[sentence.start : sentence.end]):
            cut = sentence.start + match.start()
            piece = body[start:cut].strip()
            following = body[cut + 1 : sentence.end].lstrip()[:1]
            if piece and not _FINAL.search(piece) and not following.islower():
                out.append(_make(body, start, cut, sentence.paragraph))
                start = cut + 1
        out.append(_make(body, start, sentence.end, sentence.paragraph))
    return [s for s in out if s.text]


def quote_groups(sentences: Sequence[Sentence]) -> list[int]:
    """A group number per sentence: the sentences of one quotation that Punkt cut at its inner full stops
    (``"It is over.`` / ``We lost."``) share a number; every other sentence has its own.

    A summary takes a quotation whole or not at all, so it never shows half a quote.
    """
    groups: list[int] = []
    open_since = -1
    for i, sentence in enumerate(sentences):
        continues = (
            open_since >= 0
            and sentence.paragraph == sentences[i - 1].paragraph
            and i - open_since < _MAX_QUOTE_SENTENCES
        )
        if continues:
            groups.append(groups[-1])
            if _quote_open(sentence.text):  # the closing mark
                open_since = -1
            continue
        groups.append(i)
        open_since = i if _quote_open(sentence.text) else -1
    return groups


def _glue_fragments(body: str, units: Sequence[Sentence]) -> list[Sentence]:
    """Join a piece that starts in lower case (``"Why?" / asked Tom.``) to the previous one."""
    out: list[Sentence] = []
    for unit in units:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.paragraph == unit.paragraph
            and unit.text[:1].islower()
            and _FINAL.search(previous.text) is not None
        ):
            out[-1] = _make(body, previous.start, unit.end, previous.paragraph)
            continue
        out.append(unit)
    return out


def _quote_open(text: str) -> bool:
    """Whether ``text`` has an odd number of double quotation marks (opens or closes a quotation it does not hold)."""
    if "“" in text or "”" in text:
        return text.count("“") != text.count("”")
    return text.count('"') % 2 == 1


def _make(body: str, start: int, end: int, paragraph: int) -> Sentence:
    """A unit over ``body[start:end]`` with surrounding whitespace trimmed and inner whitespace collapsed."""
    raw = body[start:end]
    left = len(raw) - len(raw.lstrip())
    right = len(raw.rstrip())
    return Sentence(" ".join(raw.split()), start + left, start + right, paragraph)
