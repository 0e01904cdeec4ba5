"""Texts that are not scraped web pages: e-mail, forum posts, wire copy, press releases, transcripts, newsletters.

Boilerplate removal was built for scraped pages, where menus, share links and lists of other
headlines surround the story. Other kinds of text have lines of the same *shape* that are content:
an e-mail's ``From:``/``Subject:`` headers and quoted reply, a forum signature, a wire story's slug
and ``(Reporting by ...)`` credit, a press release's ``###`` end mark and media contact, a
transcript's ``SPEAKER:`` turns, a newsletter's footer. :func:`detect_genre` recognises these from
their structure, and :func:`page_evidence` counts the lines that only a web page has, so the cleaner
can leave such a text alone unless it clearly is a page as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

EMAIL, FORUM, WIRE, PRESS_RELEASE, TRANSCRIPT, NEWSLETTER = (
    "email",
    "forum",
    "wire",
    "press release",
    "transcript",
    "newsletter",
)
GENRES = (EMAIL, FORUM, WIRE, PRESS_RELEASE, TRANSCRIPT, NEWSLETTER)

_HEADER = re.compile(
    r"^(?:from|to|cc|bcc|subject|date|sent|reply-to|organi[sz]ation|message-id|newsgroups|lines|"
    r"nntp-posting-host|keywords|summary|references|in-reply-to|x-[\w-]+):\s*\S",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*(?:>|\|>)")
_REPLY_INTRO = re.compile(
    r"^(?:on\b.{4,120}\bwrote:|in message .{1,120}(?:writes|wrote):|.{1,80}\bwrote:)$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*(?:original message|forwarded message)\s*-{2,}$", re.IGNORECASE)
_USENET = re.compile(
    r"^(?:newsgroups|lines|nntp-posting-host):\s*\S|^in article <[^>]+>.{0,120}writes:$", re.IGNORECASE
)
_SIGNATURE = re.compile(r"^--\s?$")
_FORUM_CUE = re.compile(
    r"^(?:quote(?:\s+from)?:?|originally posted by\b|posted by\b.{0,60}$|re:\s|reply #\d+|#\d+\s*$|"
    r"(?:join(?:ed)? date|posts|member since):\s*\S)",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_AGENCY = r"(?:reuters|ap|afp|upi|pa|dpa|bloomberg|ani|xinhua|ians|efe|ansa|[A-Z][A-Za-z ]{1,20} wire)"
_DATELINE = re.compile(
    rf"^[A-Z][A-Z .'’/-]{{2,40}}(?:,\s*[A-Z][A-Za-z .]{{0,30}})?(?:,?\s+{_MONTH}\s+\d{{1,2}})?"
    rf"\s*(?:\({_AGENCY}\))?\s*[-—–]{{1,2}}\s+\S",
    re.IGNORECASE,
)
_DATELINE_CAPS = re.compile(r"^[A-Z][A-Z .'’/-]{2,40}\b")
_WIRE_CREDIT = re.compile(
    r"^\(?(?:reporting|additional reporting|writing|editing) by\b.{0,200}\)?$|^reuters?$|^\(?[a-z]{2,6}/[a-z]{2,6}\)?$",
    re.IGNORECASE,
)
_SLUG = re.compile(r"^[A-Z0-9][A-Z0-9&'.-]{1,}(?:[-/ ][A-Z0-9&'.-]+){0,8}$")
_RELEASE_CUE = re.compile(
    r"^(?:for immediate release|embargoed until\b|#{3}|-\s*ends\s*-|ends|media (?:contacts?|enquiries|inquiries):?|"
    r"press (?:contacts?|office):?|about [A-Z][\w&.,' -]{1,60}:?|source:\s|contact:\s)|"
    r"\b(?:prnewswire|business wire|globe newswire|accesswire|/pr newswire/)\b",
    re.IGNORECASE,
)
_SPEAKER = re.compile(r"^(?:[A-Z][A-Za-z.'’-]*(?:\s+[A-Z][A-Za-z.'’-]*){0,3}|Q|A)\s*(?:\(\d[\d:]*\))?:\s+\S")
_NEWSLETTER_CUE = re.compile(
    r"\b(?:unsubscribe|view (?:this email |it )?in (?:your|a) browser|you(?:'re| are) receiving this|"
    r"forward(?:ed)? (?:this|to a friend)|update (?:your )?(?:email )?preferences|manage (?:your )?subscription|"
    r"this (?:week's|issue|edition)|in this (?:issue|edition)|was this (?:email|newsletter) forwarded)\b",
    re.IGNORECASE,
)
_NEWSLETTER_WORDS = (
    "unsubscribe",
    "browser",
    "receiving this",
    "forward",
    "preferences",
    "subscription",
    "this week's",
    "this issue",
    "this edition",
)
"""Every :data:`_NEWSLETTER_CUE` match holds one of these: a substring test rules out most lines at a fraction of the scan."""

PAGE_ONLY_REASONS = frozenset(
    {
        "relative time",
        "count",
        "menu or breadcrumb",
        "link or widget label",
        "call to action",
        "cookie, login or subscription prompt",
        "photo caption",
        "repeated title",
    }
)
"""Furniture reasons that only a web page produces; bylines, dates and copyright lines also head e-mails and releases."""


MIN_PAGE_EVIDENCE_IN_GENRE = 2
"""Page-only furniture lines it takes to treat an e-mail, wire story, release... as a scraped page."""


def _is_dateline(line: str) -> bool:
    # The place name is in capitals ("LONDON, March 4 (Reuters) - ..."), not a sentence that has a dash.
    # The cheap tests go first; the dateline pattern is the dear one.
    return (
        bool(_DATELINE_CAPS.match(line)) and line.split()[0].rstrip(",").isupper() and _DATELINE.match(line) is not None
    )


def is_newsletter_cue(line: str) -> bool:
    """Whether ``line`` is a newsletter's own line: an unsubscribe footer, "view in your browser", "in this issue"..."""
    lowered = line.lower()
    return any(word in lowered for word in _NEWSLETTER_WORDS) and _NEWSLETTER_CUE.search(line) is not None


def genre_scores(lines: Sequence[str]) -> dict[str, int]:
    """How many structural cues of each genre the (non-blank, cleaned) lines show."""
    head = lines[:15]
    scores = dict.fromkeys(GENRES, 0)
    headers = sum(bool(_HEADER.match(line)) for line in head)
    quoted = sum(bool(_QUOTED.match(line)) for line in lines)
    scores[EMAIL] = (
        (2 * headers if headers >= 2 else 0)
        + (2 if quoted >= 2 else 0)
        + 2 * sum(bool(_REPLY_INTRO.match(line) or _ORIGINAL_MESSAGE.match(line)) for line in lines)
    )
    signature = any(_SIGNATURE.match(line) for line in lines[1:])
    usenet = sum(bool(_USENET.match(line)) for line in lines)
    scores[FORUM] = 2 * signature + 2 * usenet + sum(bool(_FORUM_CUE.match(line)) for line in lines)
    if usenet:  # a Usenet post: a forum post with e-mail headers
        scores[FORUM], scores[EMAIL] = scores[FORUM] + scores[EMAIL], 0
    dateline = any(_is_dateline(line) for line in lines[:4])
    credits = sum(bool(_WIRE_CREDIT.match(line.strip("() "))) for line in lines[-4:])
    slug = any(_SLUG.match(line) and len(line) <= 60 and any(c in line for c in "-/") for line in lines[:2])
    scores[WIRE] = 2 * dateline + 2 * credits + slug
    scores[PRESS_RELEASE] = 2 * sum(bool(_RELEASE_CUE.search(line) if len(line) < 120 else False) for line in lines)
    speakers = sum(bool(_SPEAKER.match(line)) for line in lines) - headers
    scores[TRANSCRIPT] = 2 * speakers if speakers >= 3 and speakers >= len(lines) / 3 else 0
    scores[NEWSLETTER] = sum(map(is_newsletter_cue, lines))
    return scores


def detect_genre(lines: Sequence[str]) -> str | None:
    """The non-page genre the lines' structure shows (two cues or more), or None for a page or plain prose."""
    content = [line.strip() for line in lines if line.strip()]
    if not content:
        return None
    scores = genre_scores(content)
    best = max(GENRES, key=lambda genre: scores[genre])
    return best if scores[best] >= 2 else None


def page_evidence(furniture: Sequence[tuple[str, str]], genre: str | None) -> int:
    """How many (line, reason) furniture lines show a web page.

    For plain prose any furniture counts. For a genre only page-only shapes count, and not the
    genre's own lines (a newsletter's "Unsubscribe" footer is the newsletter, not a page).
    """
    if genre is None:
        return len(furniture)
    own = genre == NEWSLETTER
    return sum(1 for line, reason in furniture if reason in PAGE_ONLY_REASONS and not (own and is_newsletter_cue(line)))


def is_scraped_page(lines: Sequence[str], furniture: Sequence[tuple[str, str]]) -> tuple[bool, str | None]:
    """Whether boilerplate removal should treat the text as a page, and the genre found (None for none).

    Plain prose with no furniture line is left alone; a text with a genre's structure is a page only
    when at least :data:`MIN_PAGE_EVIDENCE_IN_GENRE` lines have page-only shapes.
    """
    genre = detect_genre(lines)
    needed = 1 if genre is None else MIN_PAGE_EVIDENCE_IN_GENRE
    return page_evidence(furniture, genre) >= needed, genre
