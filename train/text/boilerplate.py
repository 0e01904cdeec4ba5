"""Boilerplate removal for plain-text articles: which lines belong to the story.

Scraped articles carry menus, bylines, timestamps, share and "read more"
links, cookie notices, captions, subscription prompts and lists of other
headlines. They differ from story text in shape more than in words, so each
line is scored on shape, in the spirit of jusText (Pomikálek, 2011):

* **good** lines look like prose: several words, sentence punctuation at the
  end, a normal share of function words (stop words), and no page-furniture
  cue;
* **bad** lines match a page-furniture shape: only a timestamp or a relative
  time ("- 6 hours ago", "Updated 12:03 GMT"), a byline, a run of separators
  ("Home | News | Sport"), a call to action or widget label at the start
  ("Share", "Read more", "Sign up", "Advertisement", "Image caption"), a
  count ("34 comments"), a copyright line, the title repeated, a line that
  recurs in the page, or prose dense in cookie/subscription vocabulary;
* everything else is **short** (headline-like or a short sentence) and is
  decided by its context: a run of three or more unpunctuated short lines is
  a list of links or headlines; a short line is kept when it sits between
  story lines (a sub-heading, a one-line paragraph) and dropped at the top or
  bottom of the page or next to other furniture.

The decision is repeated until nothing changes, so cleaning is idempotent.
Text that is not a scraped page is left alone: prose with no furniture line at all, and
e-mail, forum, wire, press-release, transcript and newsletter text (recognised from their
structure by :mod:`newsdesk.train.text.genres`) unless page-only furniture surrounds it.
Text with no good line at all (a headline, a one-line note) is left alone
except for lines that match a furniture shape, and nothing is removed if
nothing would remain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from newsdesk.train.text.genres import detect_genre, is_scraped_page
from newsdesk.train.text.stop_words import ENGLISH_STOP_WORDS


class LineKind(Enum):
    GOOD = "good"
    BAD = "bad"
    SHORT = "short"


@dataclass(frozen=True)
class BoilerplateResult:
    """The kept text and the removed lines (each with the reason it was removed)."""

    text: str
    removed: tuple[tuple[str, str], ...]
    found_genre: str | None = None
    genre_unsought: bool = False
    """No line looked like furniture, so the genre did not matter and was not looked for (:attr:`genre` finds it)."""

    @cached_property
    def genre(self) -> str | None:
        """The non-page genre recognised (e-mail, wire, ...), if any; see :mod:`newsdesk.train.text.genres`."""
        return detect_genre(self.text.split("\n")) if self.genre_unsought else self.found_genre

    @property
    def removed_lines(self) -> tuple[str, ...]:
        return tuple(line for line, _ in self.removed)


_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAYS = r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
_ZONES = r"gmt|bst|utc|cet|cest|est|edt|pst|pdt|et|pt|z"
# Pieces a timestamp line is made of; whatever is left after removing them must be (almost) nothing.
_TIMESTAMP_PARTS = re.compile(
    rf"""
    \b\d{{4}}-\d{{2}}-\d{{2}}(?:[t ]\d{{2}}:\d{{2}}(?::\d{{2}})?(?:\.\d+)?(?:z|[+-]\d{{2}}:?\d{{2}})?)?\b  # ISO 8601
    | \b\d{{1,2}}[:.]\d{{2}}(?::\d{{2}})?\s*(?:a\.?m\.?|p\.?m\.?)?(?=\W|$)      # 12:03, 18.02, 9:30pm
    | \b\d{{1,2}}(?:st|nd|rd|th)?\b | \b\d{{4}}\b | \b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b  # day numbers, years, 5/5/2025
    | \b(?:{_MONTHS})\b\.? | \b(?:{_DAYS})\b\.? | \b(?:{_ZONES})\b
    | \b(?:updated|published|posted|last\s+(?:modified|updated)|first\s+published|modified|on|at|am|pm)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_HAS_TIME_OR_DATE = re.compile(
    rf"\d{{1,2}}[:.]\d{{2}}|\d{{4}}-\d{{2}}-\d{{2}}|\b(?:{_MONTHS})\b|\b(?:{_DAYS})\b|\b\d{{4}}\b", re.IGNORECASE
)
_RELATIVE_TIME = re.compile(
    r"^\W*(?:(?:posted|updated|published|last\s+updated)\s+)?(?:about\s+)?(?:\d+|an?|one)\s*"
    r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|months?|y|yrs?|years?)\s+ago\W*$"
    r"|^\W*(?:just\s+now|yesterday|today)\W*$",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\W*(?i:by|written\s+by|words\s+by|reporting\s+by|reported\s+by|edited\s+by|story\s+by)\s+[A-Z][a-z]"
)
_SEPARATORS = re.compile(r"\s[|»›>•·/]\s|^[|»›>•·]|[|»›>•·]$")
_COUNT_LINE = re.compile(
    r"^\W*\d[\d,.]*k?\s+(?:comments?|shares?|replies|reactions|views|likes|responses)\W*$", re.IGNORECASE
)
_COPYRIGHT = re.compile(r"^\W*(?:©|\(c\)|copyright\b)", re.IGNORECASE)
# Labels of page widgets and calls to action that open a line. These are the
# generic vocabulary of web pages (any site), matched only at the start of a
# line, and they decide alone only for lines too short to be a paragraph.
_WIDGET_START = re.compile(
    r"""^\W*(?:
        share(?:\s+(?:this|on|via|the\s+story|article))?|tweet|e-?mail(?:\s+this)?|copy\s+link|print(?:\s+this)?|
        follow(?:\s+us)?|like\s+us|subscribe|sign\s+(?:up|in)|log\s*in|register|already\s+a\s+(?:subscriber|member)|
        read\s+more|continue\s+reading|read\s+next|see\s+also|more\s+on\s+this|related(?:\s+(?:stories|articles|topics|links))?|
        most\s+(?:read|popular|viewed|shared)|top\s+stories|trending|latest(?:\s+news)?|you\s+may\s+(?:also\s+)?like|
        recommended|more\s+from|around\s+the\s+web|sponsored|advertisement|advert(?:isement)?|ad\b|promoted|
        image(?:\s+(?:caption|source|copyright))?|photo(?:graph)?(?:\s*(?:caption|credit))?|picture|video(?:\s+caption)?|
        media\s+caption|caption|getty\s+images|click\s+here|download\s+(?:the|our)\s+app|watch(?:\s+now)?|listen|
        comments?|join\s+the\s+(?:conversation|discussion)|leave\s+a\s+comment|topics?|tags?|filed\s+under|
        skip\s+to|jump\s+to|back\s+to\s+top|home|menu|search|accept(?:\s+all)?(?:\s+cookies)?|manage\s+cookies|
        we\s+use\s+cookies|cookie|terms|privacy|contact\s+us|about\s+us
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
# Calls to action in the imperative, anywhere a sentence starts in a short line ("Want more? Subscribe...").
_CALL_TO_ACTION = re.compile(
    r"(?:^|[.?!:]\s+)\W*(?:subscribe|sign\s+up|sign\s+in|log\s*in|register\s+(?:now|today|for|to|free)|"
    r"join\s+(?:now|today|us|the\s+(?:debate|conversation|discussion))|download\s+(?:the|our)|follow\s+us|"
    r"share\s+(?:this|on|via)|read\s+more|continue\s+reading|click\s+here|tap\s+here|"
    r"(?:please\s+)?(?:enable|turn\s+on)\s+javascript|update\s+your\s+browser)\b",
    re.IGNORECASE,
)
_AGENCY_CREDIT = re.compile(
    r"\((?:getty(?:\s+images)?|reuters|ap|afp|pa(?:\s+media)?|epa|shutterstock|alamy|bloomberg)[^)]{0,100}\)\W*$",
    re.IGNORECASE,
)
# Words that make up cookie notices, paywalls and newsletter prompts.
_FURNITURE_WORDS = frozenset(
    [
        "unlimited",
        "access",
        "articles",
        "free",
        "ads",
        "ad-free",
        "personalise",
        "personalize",
        "javascript",
        "trial",
        "cancel",
        "anytime",
        "cookie",
        "cookies",
        "consent",
        "browser",
        "browsing",
        "subscribe",
        "subscriber",
        "subscribers",
        "subscription",
        "newsletter",
        "newsletters",
        "inbox",
        "unsubscribe",
        "login",
        "password",
        "account",
        "privacy",
        "settings",
        "preferences",
        "advertising",
        "personalised",
        "personalized",
        "partners",
        "sign",
    ]
)
_READER_WORDS = frozenset(["you", "your", "we", "our", "us", "you've", "you're", "you'll", "we'd", "we're", "we've"])
_TERMINAL = (".", "!", "?", "…")
_CLOSERS = "\"'”’)]"
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_LETTER = re.compile(r"[^\W\d_]")
_MAX_PASSES = 5


def _is_timestamp_line(line: str) -> bool:
    if not _HAS_TIME_OR_DATE.search(line) or len(line.split()) > 12:
        return False
    residue = _TIMESTAMP_PARTS.sub(" ", line)
    return len(_WORD.findall(residue)) <= 1


def _normalise(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))


def furniture_reason(
    line: str, title_key: str = "", repeated: bool = False, lowered: list[str] | None = None
) -> str | None:
    """Why ``line`` is page furniture, or None. Only shapes that rarely occur in story text.

    ``lowered``: the line's words lower-cased (:func:`_lowered_words`), when the caller has them already.
    """
    words = line.split()
    n = len(words)
    short = n <= 12
    if n > 25:  # paragraph length: only a reader-addressed prompt can still be furniture
        return _prompt_reason(line, lowered)
    if _RELATIVE_TIME.match(line):
        return "relative time"
    if _is_timestamp_line(line):
        return "timestamp"
    if _COUNT_LINE.match(line):
        return "count"
    if _COPYRIGHT.match(line):
        return "copyright"
    if n <= 25 and ("©" in line or "all rights reserved" in line.lower()):
        return "copyright"
    if short and _BYLINE.match(line):
        return "byline"
    if n <= 25 and len(_SEPARATORS.findall(line)) >= 2:
        return "menu or breadcrumb"
    # Widget labels are capitalised ("Share", "Read more"); a lower-case start continues a sentence.
    first_letter = _LETTER.search(line)
    capitalised = first_letter is not None and first_letter.group().isupper()
    widget = _WIDGET_START.match(line) if n <= 20 and capitalised else None
    if widget and short and (n <= 3 or not _has_terminal(line) or line[widget.end() :].lstrip()[:1] in tuple(":-|›»>")):
        return "link or widget label"
    if widget and n <= 20 and line[widget.end() :].lstrip()[:1] in (",", ":"):
        return "link or widget label"  # an explicit label: "Image caption, ...", "Topics: ..."
    if n <= 20 and _CALL_TO_ACTION.search(line):
        return "call to action"
    if n <= 25 and _AGENCY_CREDIT.search(line):
        return "photo caption"
    if title_key and _normalise(line) == title_key:
        return "repeated title"
    if repeated and n <= 15:
        return "repeated line"
    return _prompt_reason(line, lowered)


def _lowered_words(line: str) -> list[str]:
    return list(map(str.lower, _WORD.findall(line)))


def _prompt_reason(line: str, lowered: list[str] | None = None) -> str | None:
    if lowered is None:
        lowered = _lowered_words(line)
    # Prompts address the reader ("we use cookies", "your inbox"); news prose about cookies does not.
    if _READER_WORDS.isdisjoint(lowered):
        return None
    if _FURNITURE_WORDS.isdisjoint(lowered) and "cookie" not in line.lower():
        return None  # no furniture word at all (the count below would be 0)
    furniture = sum(2 if w.startswith("cookie") else w in _FURNITURE_WORDS for w in lowered)
    if furniture >= max(2, len(lowered) // 8):
        return "cookie, login or subscription prompt"
    return None


def _is_prose(line: str, words: list[str]) -> bool:
    """A story-like line: enough words, sentence punctuation at the end, a normal share of function words.

    ``words``: the line's words lower-cased (:func:`_lowered_words`).
    """
    if len(words) < 8:
        return False
    stop_share = sum(map(ENGLISH_STOP_WORDS.__contains__, words)) / len(words)
    if line.rstrip().endswith("?") and len(words) < 15:
        return False  # a question this short is a headline ("Is your smart TV spying on you?")
    if not line.rstrip(_CLOSERS).endswith(_TERMINAL):
        # A long sentence without its full stop (a lead paragraph, a cut-off paragraph) is still prose;
        # headlines are shorter and sparser in function words.
        return len(words) >= 12 and stop_share >= 0.3
    return stop_share >= 0.2


def _has_terminal(line: str) -> bool:
    return line.rstrip(_CLOSERS).endswith(_TERMINAL)


def _furniture_reasons(lines: list[str], title: str) -> tuple[list[str | None], list[list[str]]]:
    """Why each line is page furniture (None when it is not), and each line's lower-cased words."""
    title_key = _normalise(title) if title else ""
    keys = [" ".join(line.lower().split()) for line in lines]
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    lowered = [_lowered_words(line) for line in lines]
    reasons = [
        furniture_reason(line, title_key, counts[key] > 1, words) for line, key, words in zip(lines, keys, lowered)
    ]
    return reasons, lowered


def _kinds(lines: list[str], reasons: list[str | None], lowered: list[list[str]]) -> list[tuple[LineKind, str]]:
    """Furniture (with its reason), prose or a short line, from :func:`_furniture_reasons`' answers."""
    kinds: list[tuple[LineKind, str]] = []
    for line, reason, words in zip(lines, reasons, lowered):
        if reason is not None:
            kinds.append((LineKind.BAD, reason))
        elif _is_prose(line, words):
            kinds.append((LineKind.GOOD, ""))
        else:
            kinds.append((LineKind.SHORT, ""))
    return kinds


def _demote_stray_paragraphs(kinds: list[tuple[LineKind, str]]) -> list[tuple[LineKind, str]]:
    """A prose line fenced in by furniture above and below, before or after the whole story, is a caption or teaser.

    Inside the story a paragraph between an advert and a link is still story, so only lines before the
    first or after the last paragraph that has story (or short) lines next to it are demoted.
    """
    n = len(kinds)

    def fenced(i: int) -> bool:
        return kinds[i][0] is LineKind.GOOD and 0 < i < n - 1 and kinds[i - 1][0] is kinds[i + 1][0] is LineKind.BAD

    anchored = [i for i in range(n) if kinds[i][0] is LineKind.GOOD and not fenced(i)]
    if not anchored:
        return kinds
    first, last = anchored[0], anchored[-1]
    return [
        (LineKind.BAD, "caption or teaser outside the story") if fenced(i) and (i < first or i > last) else kind
        for i, kind in enumerate(kinds)
    ]


def _resolve(lines: list[str], kinds: list[tuple[LineKind, str]]) -> list[tuple[bool, str]]:
    """Keep or drop each line: good kept, bad dropped, short decided by its neighbours."""
    kinds = _demote_stray_paragraphs(kinds)
    n = len(lines)
    decisions: list[tuple[bool, str]] = [(kind is LineKind.GOOD, reason) for kind, reason in kinds]
    if not any(kind is LineKind.GOOD for kind, _ in kinds):
        # Nothing looks like a story paragraph: only drop clear furniture.
        return [(kind is not LineKind.BAD, reason) for kind, reason in kinds]
    i = 0
    while i < n:
        if kinds[i][0] is not LineKind.SHORT:
            i += 1
            continue
        j = i
        while j < n and kinds[j][0] is LineKind.SHORT:
            j += 1
        run = range(i, j)
        before = next((kinds[k][0] for k in range(i - 1, -1, -1) if kinds[k][0] is not LineKind.SHORT), None)
        after = next((kinds[k][0] for k in range(j, n) if kinds[k][0] is not LineKind.SHORT), None)
        unpunctuated = sum(not _has_terminal(lines[k]) for k in run)
        # A list the story introduces ("The main measures:"), by a paragraph or by the run's first line.
        introduced = before is LineKind.GOOD and (
            (i > 0 and lines[i - 1].rstrip().endswith(":")) or lines[i].rstrip().endswith(":")
        )
        if introduced and after is not LineKind.BAD:
            verdict, reason = True, ""
        elif unpunctuated >= 3:
            verdict, reason = False, "list of links or headlines"
        elif before is LineKind.GOOD and after is LineKind.GOOD:
            verdict, reason = True, ""
        elif before is None or after is None:
            # At the top or bottom of the page: keep only punctuated lines that touch the story.
            touching_story = LineKind.GOOD in (before, after)
            verdict = touching_story and unpunctuated == 0
            reason = "" if verdict else "page header or footer"
        elif LineKind.GOOD not in (before, after):
            verdict, reason = False, "surrounded by page furniture"
        else:  # between the story and furniture
            verdict = unpunctuated == 0
            reason = "" if verdict else "next to page furniture"
        for k in run:
            decisions[k] = (verdict, reason)
        i = j
    return decisions


def remove_boilerplate(text: str, title: str = "", known_page: bool = False) -> BoilerplateResult:
    """Drop the lines of ``text`` (already cleaned by ``clean_text``) that are not part of the story.

    ``known_page``: the text was extracted from HTML, so it is a page whatever its lines look like.
    """
    removed: list[tuple[str, str]] = []
    current = text
    genre: str | None = None
    for attempt in range(_MAX_PASSES):
        lines = current.split("\n")
        content = [(index, line) for index, line in enumerate(lines) if line.strip()]
        if not content:
            break
        content_lines = [line for _, line in content]
        reasons, lowered = _furniture_reasons(content_lines, title)
        if attempt == 0 and not known_page:
            # Not a scraped page (no furniture at all, or an e-mail/wire/transcript... structure): leave it alone.
            # Decided before any line's prose test, which only the removal below needs.
            furniture = [(line, reason) for line, reason in zip(content_lines, reasons) if reason is not None]
            if not furniture:  # plain prose: not a page whatever its genre
                return BoilerplateResult(text, (), genre_unsought=True)
            page, genre = is_scraped_page(content_lines, furniture)
            if not page:
                return BoilerplateResult(text, (), genre)
        kinds = _kinds(content_lines, reasons, lowered)
        decisions = _resolve(content_lines, kinds)
        drop = {index for (index, _), (keep, _) in zip(content, decisions) if not keep}
        if not drop:
            break
        if len(drop) == len(content):
            break  # nothing would remain: keep the text as it is
        removed.extend((line, reason) for (index, line), (keep, reason) in zip(content, decisions) if not keep)
        kept = [line for index, line in enumerate(lines) if index not in drop]
        current = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return BoilerplateResult(current, tuple(removed), genre)
