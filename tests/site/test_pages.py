"""The built book in a real headless browser: pages load without console errors, every plotly
figure draws, and no page pulls a script or stylesheet from the network.

Run by ``make browser`` with ``REPROBOOK_SITE`` pointing at a built ``_build/html``.
Set ``REPROBOOK_SCREENSHOTS`` to a folder to keep a full-page PNG of every chapter.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

SITE = Path(os.environ.get("REPROBOOK_SITE", "_build/html")).resolve()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EXTERNAL = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.IGNORECASE)

if not (SITE / "index.html").exists():
    raise RuntimeError(f"no built book at {SITE}: build it first (python -m reprobook build)")
if CHROMIUM is None:
    raise RuntimeError("headless Chromium is required for the page tests: install Debian's 'chromium'")

PAGES = sorted(path.relative_to(SITE).as_posix() for path in (SITE / "chapters").glob("*.html"))
ALL_HTML = sorted(SITE.rglob("*.html"))


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))

    class Quiet(handler.func):  # type: ignore[name-defined]
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(SITE)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield launched
        launched.close()


def test_there_are_chapter_pages():
    assert PAGES, f"no chapter pages under {SITE / 'chapters'}"


@pytest.mark.parametrize("path", ALL_HTML, ids=lambda path: path.name)
def test_no_external_scripts_or_stylesheets(path):
    found = EXTERNAL.findall(path.read_text(encoding="utf-8"))
    assert not found, f"{path} loads from the network: {found[:3]}"


REDIRECT = re.compile(r"""<meta\s+http-equiv=["']Refresh["']\s+content=["']0;\s*url=([^"']+)["']""", re.IGNORECASE)


def landing_page() -> str:
    """The page ``index.html`` sends the reader to (jupyter-book writes it as an instant redirect)."""
    match = REDIRECT.search((SITE / "index.html").read_text(encoding="utf-8"))
    return match.group(1) if match else "index.html"


def test_index_leads_to_a_page_of_the_book(server, browser):
    target = landing_page()
    assert (SITE / target).is_file(), f"index.html redirects to {target}, which is not in the site"
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.goto(f"{server}/index.html", wait_until="load")
    tab.wait_for_url(f"{server}/{target}", timeout=20_000)
    tab.wait_for_load_state("load")
    title = tab.title()
    tab.close()
    assert title, f"index.html led to {target}, which has no title"


# The landing page is tested where index.html leads: testing index.html itself races its redirect
# (the page's context is destroyed mid-check when the refresh fires).
@pytest.mark.parametrize("page", [landing_page(), "scoreboard.html", *PAGES])
def test_page_renders_every_figure(server, browser, page):
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    missing: list[str] = []
    tab.on("response", lambda response: missing.append(f"{response.status} {response.url}")
           if response.status >= 400 else None)
    outside: list[str] = []
    tab.on("request", lambda request: outside.append(request.url)
           if not request.url.startswith(server) and not request.url.startswith("data:") else None)
    response = tab.goto(f"{server}/{page}", wait_until="load")
    assert response is not None and response.ok, f"{page} did not load: {response and response.status}"
    figures = tab.locator("div.plotly-graph-div")
    count = figures.count()
    if page.startswith("chapters/"):
        assert count > 0, f"{page} has no plotly figure"
    for index in range(count):
        figures.nth(index).locator("svg.main-svg").first.wait_for(state="attached", timeout=20_000)
    assert tab.evaluate("typeof window.Plotly") == ("object" if count else tab.evaluate("typeof window.Plotly"))
    screenshots = os.environ.get("REPROBOOK_SCREENSHOTS")
    if screenshots:
        Path(screenshots).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(screenshots) / (page.replace("/", "_") + ".png")), full_page=True)
    tab.close()
    assert not errors, f"{page} logged console errors: {errors[:5]}; failed requests: {missing[:5]}"
    assert not outside, f"{page} requested resources outside the book: {outside[:5]}"


def test_scoreboard_shows_verdicts_by_evidence_level(server, browser):
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.goto(f"{server}/scoreboard.html", wait_until="load")
    headers = [text.strip() for text in tab.locator("table th").all_inner_texts()]
    tab.close()
    for column in ("paper setting", "miniature", "stand-in", "with control", "replicates", "checks"):
        assert column in headers, f"the scoreboard has no {column!r} column: {headers[:20]}"


@pytest.mark.parametrize("page", PAGES)
def test_chapter_ledger_shows_interval_control_and_evidence(server, browser, page):
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.goto(f"{server}/{page}", wait_until="load")
    headers = [text.strip() for text in tab.locator("table th").all_inner_texts()]
    tab.close()
    for column in ("verdict", "evidence", "ours [95 % interval], n", "control (same rule)"):
        assert column in headers, f"{page}: the claims ledger has no {column!r} column"


@pytest.mark.parametrize("page", PAGES)
def test_chapter_opens_with_its_summary_box(server, browser, page):
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    tab.goto(f"{server}/{page}", wait_until="load")
    box = tab.locator(".chapter-summary").first
    assert box.count() == 1, f"{page} has no summary box"
    text = box.inner_text()
    first_figure = tab.locator("div.plotly-graph-div").first
    box_top = box.bounding_box()["y"]
    figure_top = first_figure.bounding_box()["y"] if first_figure.count() else float("inf")
    tab.close()
    assert "Verdicts at the" in text and "python -m reprobook run" in text, f"{page}: summary box is empty"
    assert box_top < figure_top, f"{page}: the summary box is not at the top"


@pytest.mark.parametrize("width", [1400, 1024], ids=["desktop", "laptop"])
@pytest.mark.parametrize("page", [landing_page(), "scoreboard.html", "performance.html", *PAGES])
def test_nothing_overflows_the_column_without_a_scrollbar(server, browser, page, width):
    tab = browser.new_page(viewport={"width": width, "height": 900})
    tab.goto(f"{server}/{page}", wait_until="load")
    overflowing = tab.evaluate("""() => {
        const column = document.querySelector('main article') || document.querySelector('main');
        const right = column.getBoundingClientRect().right + 2;
        const hidden = [];
        for (const element of column.querySelectorAll('pre, table, .cell_output, .highlight, img')) {
            const box = element.getBoundingClientRect();
            if (box.width === 0 || box.right <= right) continue;
            let scrolls = false;
            for (let node = element; node && node !== column; node = node.parentElement) {
                const style = getComputedStyle(node);
                if (['auto', 'scroll'].includes(style.overflowX) && node.scrollWidth > node.clientWidth
                    && node.getBoundingClientRect().right <= right) { scrolls = true; break; }
            }
            if (!scrolls) hidden.push(element.tagName + '.' + element.className + ' ' + Math.round(box.right - right));
        }
        return hidden;
    }""")
    tab.close()
    assert not overflowing, f"{page}: elements cut at the column's edge: {overflowing[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_download_links_resolve_to_files_in_the_site(page):
    html = (SITE / page).read_text(encoding="utf-8")
    links = re.findall(r'href="(\.\./data/[^"]+)"', html)
    assert links, f"{page} offers no downloads"
    missing = [link for link in links if not (SITE / page).parent.joinpath(link).resolve().is_file()]
    assert not missing, f"{page}: download links without a file: {missing[:5]}"
