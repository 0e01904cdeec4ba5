"""The web page at ``GET /``: its headers and files (TestClient), then real use in headless Chromium.

The browser tests start ``newsdesk serve`` as a process on a free port (with an API key and a small
text limit), drive Debian's Chromium with Playwright, and route every request: anything not
addressed to 127.0.0.1 is aborted and recorded, and each test asserts that nothing was. They are
skipped, with the reason, when Playwright or Chromium is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from helpers.api_fixtures import serving
from helpers.server_process import running_server
from newsdesk.serve.api.routes.page import STATIC_FILES

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "serve" / "api" / "static"
CHROMIUM = os.environ.get("NEWSDESK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_KEY = "page-test-key"
MAX_TEXT_CHARS = 3000
TIMEOUT_MS = 10_000

TITLE = "Chelsea sign Danish striker Larsen"
ARTICLE = """Home | News | Sport | Football
- 10 hours ago
Share this article
The striker scored twice in the second half as the champions beat their rivals 3-1 at home.

The manager praised the defence after a fourth league win in a row and a clean sheet in the cup.

The goalkeeper made three fine saves before half-time to keep the visitors out.

The club now sit two points clear at the top of the table with six matches left to play.
Share this article
Related stories
Arsenal beaten at home by Bolton
Liverpool held to a draw at Anfield
United name new assistant manager
"""
BOILERPLATE = [
    "Home | News | Sport | Football",
    "- 10 hours ago",
    "Share this article",
    "Related stories",
    "Arsenal beaten at home by Bolton",
]


# --------------------------------------------------------------------------- without a browser


def test_the_page_and_its_files_are_served_with_security_headers(tiny_bundle_dir: Path) -> None:
    with serving(tiny_bundle_dir) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        # Only local files, and no inline script or style for the policy to forbid.
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
        assert "<style" not in page.text and not re.search(r"\s(style|on[a-z]+)=", page.text)
        assert re.findall(r"<script[^>]*>", page.text) == [
            '<script src="static/page.js" defer>',
            '<script src="static/app.js" defer>',
            '<script src="static/stories.js" defer>',
        ]
        for name, media_type in (
            ("app.css", "text/css"),
            ("app.js", "text/javascript"),
            ("icon.svg", "image/svg+xml"),
            ("page.js", "text/javascript"),
            ("stories.css", "text/css"),
            ("stories.js", "text/javascript"),
        ):
            response = client.get(f"/static/{name}")
            assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.content == (STATIC / name).read_bytes()
        other = client.get("/static/secrets.txt")
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"


def test_the_page_stays_open_when_the_server_has_a_key(tiny_bundle_dir: Path) -> None:
    with serving(tiny_bundle_dir, api_key="k") as client:
        assert client.get("/").status_code == 200 and client.get("/static/app.js").status_code == 200
        assert client.get("/v1/models").status_code == 401


def test_the_page_files_ship_with_the_package() -> None:
    """Every file of serve/api/static is served, and pyproject's package-data installs them."""
    assert {path.name for path in STATIC.iterdir()} == {"index.html", *STATIC_FILES}
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "newsdesk.serve.api.static" in setuptools["packages"]
    patterns = setuptools["package-data"]["newsdesk.serve.api.static"]
    for path in STATIC.iterdir():
        assert any(fnmatch(path.name, pattern) for pattern in patterns), f"{path.name} would not be installed"


def test_the_script_never_puts_text_into_html() -> None:
    script = (STATIC / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), shared by the module's tests."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the web-page tests need playwright (pip install -e '.[test]')"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"the web-page tests need Chromium at {CHROMIUM} (apt-get install chromium, or set NEWSDESK_CHROMIUM)"
        )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tiny_bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``newsdesk serve`` with an API key and a 3,000-character text limit, for the whole module."""
    log = tmp_path_factory.mktemp("web-page") / "server.log"
    with running_server(
        tiny_bundle_dir, log, "--max-text-chars", str(MAX_TEXT_CHARS), env={"NEWSDESK_API_KEY": API_KEY}
    ) as url:
        yield url


@dataclass
class Tab:
    """A page in its own browser context, and what it tried to reach."""

    page: Any
    url: str
    outside: list[str] = field(default_factory=list)
    api_calls: list[tuple[str, str | None]] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def open(self, key: str | None = API_KEY) -> None:
        """Load the page; type the API key (if any) the way a user does, leaving the field."""
        self.page.goto(self.url + "/")
        self.wait_for_footer()
        if key is not None:
            self.page.fill("#api-key", key)
            self.page.press("#api-key", "Tab")
            if key == API_KEY:
                self.page.wait_for_selector("#model-info .model-name")

    def wait_for_footer(self) -> None:
        self.page.locator("#model-info", has_not_text="loading").wait_for()

    def paste(self, text: str = ARTICLE, title: str = TITLE) -> None:
        self.page.fill("#title", title)
        self.page.fill("#text", text)

    def texts(self, selector: str) -> list[str]:
        return self.page.locator(selector).all_inner_texts()


@pytest.fixture
def tab(browser: Any, server: str) -> Iterator[Tab]:
    """A fresh context (own sessionStorage) whose requests may only go to 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(page, server)

    def guard(route: Any) -> None:
        request = route.request
        if urlsplit(request.url).hostname == "127.0.0.1":
            if "/v1/" in request.url:
                tab.api_calls.append((urlsplit(request.url).path, request.headers.get("x-api-key")))
            route.continue_()
        else:
            tab.outside.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page.on("pageerror", lambda error: tab.script_errors.append(str(error)))
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and tab.script_errors.append(message.text)
    )
    yield tab
    context.close()
    assert tab.outside == [], f"the page tried to reach other hosts: {tab.outside}"
    assert tab.script_errors == []


def api(server: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(server + path, json=body, headers={"X-API-Key": API_KEY}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_network_guard_sees_requests_to_other_hosts(browser: Any, server: str) -> None:
    """The guard every test relies on: a request to another host is recorded and never leaves."""
    context = browser.new_context()
    outside: list[str] = []
    context.route("**/*", lambda route: outside.append(route.request.url) or route.abort())
    page = context.new_page()
    with pytest.raises(Exception, match="ERR_FAILED"):
        page.goto("http://example.org/")
    context.close()
    assert outside == ["http://example.org/"]


def test_classify_shows_the_topic_and_the_model(tab: Tab, server: str) -> None:
    tab.open(key=None)
    assert "enter the API key" in tab.page.inner_text("#model-info")
    tab.open()
    footer = tab.page.inner_text("#model-info")
    assert footer.startswith("tiny v0001") and "held-out accuracy" in footer
    tab.paste()
    tab.page.click("#classify")
    tab.page.wait_for_selector("#topic-card:not([hidden])")
    expected = api(server, "/v1/predict", {"text": ARTICLE, "title": TITLE, "top_k": 5})
    assert expected["topic"] == "sport"
    assert tab.page.inner_text("#topic").lower() == "sport"
    labels = tab.texts("#scores .score-label")
    assert labels == [item["label"] for item in expected["scores"]]
    assert tab.page.locator("#scores li.chosen .score-label").inner_text() == "sport"
    assert tab.page.is_hidden("#summary-card") and "topic sport" in tab.page.inner_text("#status")
    assert ("/v1/predict", API_KEY) in tab.api_calls
    # The key is kept for the tab, across a reload.
    tab.page.reload()
    assert tab.page.input_value("#api-key") == API_KEY


def test_summarise_marks_the_summary_and_strikes_removed_lines(tab: Tab, server: str, tmp_path: Path) -> None:
    tab.open()
    tab.paste()
    tab.page.click("#summarize")
    tab.page.wait_for_selector("#summary-card:not([hidden])")
    expected = api(server, "/v1/summarize", {"text": ARTICLE, "title": TITLE})
    sentences = [sentence["text"] for sentence in expected["sentences"]]
    assert tab.page.inner_text("#summary") == expected["summary"]
    assert tab.texts("#document .highlight") == sentences and sentences
    struck = tab.texts("#document .line.removed del")
    assert struck[:3] == BOILERPLATE[:3] and set(BOILERPLATE) <= set(struck)
    assert len(struck) == expected["cleaning"]["removed_lines"]
    first = tab.page.locator("#document .line.removed del").first
    assert first.get_attribute("title") == "Removed: menu or breadcrumb"
    assert "list of links or headlines" in tab.texts("#document .line.removed .reason")
    # Removed lines sit where they were: before and after the story.
    kinds = tab.page.eval_on_selector_all("#document .line", "lines => lines.map(l => l.classList[1])")
    assert kinds[0] == "removed" and kinds[-1] == "removed" and "kept" in kinds
    assert tab.page.locator("#document .line.kept").first.inner_text().startswith("The striker scored twice")
    assert tab.page.is_hidden("#topic-card")
    tab.page.uncheck("#show-removed")
    assert tab.page.locator("#document .line.removed").first.is_hidden()
    tab.page.screenshot(path=tmp_path / "summary-desktop.png", full_page=True)
    assert (tmp_path / "summary-desktop.png").stat().st_size > 10_000


def test_analyse_highlights_the_terms_behind_the_topic(tab: Tab, server: str, tmp_path: Path) -> None:
    tab.open()
    tab.paste()
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#document mark.term")
    expected = api(server, "/v1/analyze", {"text": ARTICLE, "title": TITLE, "top_k": 5, "explain": True})
    explanation = expected["prediction"]["explanation"]
    terms = [item["term"] for item in explanation["towards"]]
    assert terms and tab.texts("#terms .term-chip") == terms
    assert tab.page.inner_text("#terms-heading").startswith("Why " + explanation["topic"])
    marked = {" ".join(re.findall(r"\w+", text.lower())) for text in tab.texts("#document mark.term")}
    assert marked and marked <= set(terms)
    # Every explained unigram that occurs in a kept line is marked there.
    kept = " ".join(tab.texts("#document .line.kept")).lower()
    for term in terms:
        if " " not in term and re.search(rf"\b{re.escape(term)}\b", kept):
            assert term in marked, term
    # Removed lines are never highlighted, and the summary sentences keep their text.
    assert tab.page.locator("#document .line.removed mark.term").count() == 0
    sentences = [sentence["text"] for sentence in expected["summary"]["sentences"]]
    assert tab.texts("#document .highlight") == sentences
    tab.page.screenshot(path=tmp_path / "terms.png", full_page=True)


def test_errors_are_shown_as_readable_messages(tab: Tab) -> None:
    tab.open(key=None)
    tab.paste()
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#error:not([hidden])")
    assert tab.page.inner_text("#error-title") == "The server needs a valid API key (401)"
    assert "needs the server's API key" in tab.page.inner_text("#error-message")

    tab.page.fill("#api-key", "wrong-key")
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#error-message:has-text('not valid')")
    assert "[unauthorized]" in tab.page.inner_text("#error-message")

    tab.page.fill("#api-key", API_KEY)
    tab.paste(text="The striker scored again. " * 200)  # 5,200 characters: over the server's 3,000
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#error-title:has-text('too long')")
    assert tab.page.inner_text("#error-title") == "The article is too long for this server (413)"
    message = tab.page.inner_text("#error-message")
    assert f"at most {MAX_TEXT_CHARS}" in message and "[text_too_long]" in message
    assert tab.page.is_hidden("#topic-card") and tab.page.is_hidden("#summary-card")

    # A 422 from the real server: half an emoji pair (a lone surrogate) is not valid Unicode text.
    tab.paste()
    tab.page.eval_on_selector("#text", "el => { el.value = el.value + ' \\uD83D'; }")
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#error-title:has-text('(422)')")
    assert tab.page.inner_text("#error-title") == "The server could not use this article (422)"
    message = tab.page.inner_text("#error-message")
    assert "field 'text'" in message and "[validation_error]" in message
    assert tab.page.is_hidden("#topic-card") and tab.page.is_hidden("#summary-card")

    calls = len(tab.api_calls)
    tab.paste(text="   ")
    tab.page.click("#analyze")
    assert tab.page.inner_text("#error-title") == "Nothing to analyse"
    assert len(tab.api_calls) == calls  # refused in the page, no request
    assert tab.page.evaluate("document.activeElement.id") == "text"

    tab.paste()
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#summary-card:not([hidden])")
    assert tab.page.is_hidden("#error")


def test_the_page_works_from_the_keyboard_alone(tab: Tab) -> None:
    keyboard = tab.page.keyboard
    tab.open(key=None)

    def tab_to(element_id: str) -> None:
        for _ in range(12):
            keyboard.press("Tab")
            if tab.page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("title")
    keyboard.type(TITLE)
    tab_to("example")
    keyboard.press("Enter")  # loads the example and moves to the text
    assert tab.page.evaluate("document.activeElement.id") == "text"
    keyboard.press("Control+a")
    keyboard.insert_text(ARTICLE)
    tab_to("api-key")
    keyboard.type(API_KEY)
    tab_to("classify")
    outline = tab.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # focus is visible
    keyboard.press("Enter")
    tab.page.wait_for_selector("#topic-card:not([hidden])")
    assert tab.page.inner_text("#topic").lower() == "sport"
    assert tab.page.evaluate("document.activeElement.id") == "classify"  # focus stays put

    tab.page.focus("#text")  # Ctrl+Enter in the text analyses (topic and summary)
    keyboard.press("Control+Enter")
    tab.page.wait_for_selector("#summary-card:not([hidden])")
    assert tab.page.is_visible("#topic-card") and tab.texts("#document .highlight")
    assert tab.page.evaluate("document.activeElement.id") == "text"
    for control in ("title", "file", "text", "max-sentences", "api-key", "show-removed"):
        assert tab.page.locator(f"label[for='{control}']").count() == 1


SAVED_PAGE = """<!doctype html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<title>Chelsea sign Danish striker | Sport</title></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a></nav>
<article><h1>Chelsea sign Danish striker</h1>
<p>Chelsea have completed the signing of Danish striker Jon Larsen from Ajax for a fee of £12m.</p>
<p>The 23-year-old scored 19 goals in the Dutch league last season and has signed a five-year contract.</p>
<p>Manager Jose Mourinho said Larsen would add pace to the attack before the cup final.</p>
<p>Larsen is expected to make his debut in Saturday's Premiership match against Everton.</p></article>
<footer>Share this article</footer></body></html>
"""


def test_a_saved_page_is_opened_in_its_own_charset_and_analysed(tab: Tab, tmp_path: Path) -> None:
    """An editor opens a page saved from a site in windows-1252: the pound sign survives, the page is
    read as HTML, and the keyboard reaches the file control."""
    saved = tmp_path / "chelsea.html"
    saved.write_bytes(SAVED_PAGE.encode("cp1252"))
    tab.open()
    tab.page.set_input_files("#file", str(saved))
    tab.page.wait_for_selector("#status:has-text('Opened chelsea.html')")
    text = tab.page.input_value("#text")
    assert "a fee of £12m" in text and text.startswith("<!doctype html>")
    assert tab.page.evaluate("document.activeElement.id") == "text"
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#summary-card:not([hidden])")
    assert tab.page.inner_text("#topic").lower() == "sport"
    assert "a fee of £12m" in tab.page.inner_text("#document")  # the text the models read
    assert tab.texts("#document .highlight")
    struck = tab.texts("#document del")
    assert any("Share this article" in line for line in struck), struck

    tab.page.focus("#title")
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("document.activeElement.id") == "file"
    assert tab.page.evaluate("getComputedStyle(document.querySelector('label[for=file]')).outlineStyle") == "solid"


def test_phone_width_has_no_horizontal_overflow(tab: Tab, tmp_path: Path) -> None:
    tab.page.set_viewport_size({"width": 375, "height": 812})
    tab.open()
    tab.paste()
    tab.page.click("#analyze")
    tab.page.wait_for_selector("#summary-card:not([hidden])")
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide at a 375 px viewport"
    too_wide = tab.page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert too_wide == []
    for button in ("#analyze", "#classify", "#summarize"):
        box = tab.page.locator(button).bounding_box()
        assert box is not None and box["height"] >= 40 and box["x"] >= 0
    tab.page.screenshot(path=tmp_path / "phone.png", full_page=True)
    assert (tmp_path / "phone.png").stat().st_size > 10_000


def test_answers_without_a_result_are_explained(tab: Tab) -> None:
    """A 503 with the error body, a proxy's HTML 502 and a dropped connection each get a readable message."""
    tab.open()
    tab.paste()
    answers = [
        {"status": 503, "json": {"error": {"code": "not_ready", "message": "no model is loaded yet"}}},
        {"status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"},
        None,  # the connection fails
    ]

    def answer(route: Any) -> None:
        reply = answers.pop(0)
        route.fulfill(**reply) if reply is not None else route.abort()

    tab.page.route("**/v1/analyze", answer)
    expected = [
        ("The model is not loaded yet; try again in a moment (503)", "no model is loaded yet [not_ready]"),
        ("The request failed (502)", "The server answered 502"),
        ("Could not reach the server", "The request did not get an answer"),
    ]
    for title, message in expected:
        tab.page.click("#analyze")
        tab.page.wait_for_selector(f"#error-title:text-is('{title}')")
        assert message in tab.page.inner_text("#error-message")
    assert answers == []


# --------------------------------------------------------------------------- several articles: POST /v1/cluster


def test_the_stories_script_never_puts_text_into_html() -> None:
    script = (STATIC / "stories.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_several_articles_are_shown_grouped(tab: Tab, server: str, tmp_path: Path) -> None:
    other = (
        "Shares in the bank fell 5% after profits missed forecasts and the chief executive warned of a hard year.\n\n"
        "Analysts said the bank's costs had risen faster than its income for a third quarter in a row."
    )
    copy = "UPDATE 1 - " + ARTICLE.split("Share this article\n", 1)[1]
    page = tmp_path / "saved-copy.html"
    page.write_text(f"<html><body><article><p>{other.replace(chr(10) * 2, '</p><p>')}</p></article></body></html>")
    tab.open()
    tab.page.fill("#stories-text", f"{TITLE}\n\n{ARTICLE}\n---\n{copy}\n---\nBank profits miss forecasts\n\n{other}")
    tab.page.set_input_files("#stories-file", str(page))
    tab.page.wait_for_selector("#stories-files:has-text('saved-copy.html')")
    tab.page.click("#stories-run")
    tab.page.wait_for_selector("#stories-groups:not([hidden]) .story-group")
    expected = api(
        server,
        "/v1/cluster",
        {
            "articles": [
                {"id": "pasted 1", "title": TITLE, "text": ARTICLE.strip()},
                {"id": "pasted 2", "text": copy.strip()},
                {"id": "pasted 3", "title": "Bank profits miss forecasts", "text": other},
                {"id": "saved-copy.html", "text": page.read_text()},
            ],
            "summarize": True,
        },
    )
    groups = tab.page.locator(".story-group")
    assert groups.count() == expected["stories"] == 2
    first = groups.nth(0)
    assert first.locator(".story-member").count() == 2
    assert "near-duplicate of " + TITLE in first.inner_text()
    assert first.locator(".story-summary li").count() >= 1
    assert groups.nth(1).locator(".story-member").count() == 2  # the pasted bank story and the saved page
    assert "4 articles in 2 stories, 2 near-duplicates" in tab.page.inner_text("#stories-status")
    assert ("/v1/cluster", API_KEY) in tab.api_calls
    tab.page.click("#stories-clear")
    tab.page.fill("#stories-text", "only one article here")
    tab.page.click("#stories-run")
    assert "at least two articles" in tab.page.inner_text("#stories-error")
