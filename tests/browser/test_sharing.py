"""Share links and workshops in a real browser: read-only view, participants seeing each other's items, and a
participant's error banner that goes away with their next successful action (a vote reruns only its fragment)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from journeymap.access import Actor, Role
from journeymap.demo import seed_demo
from journeymap.services import reviews
from journeymap.store import create_map, init_db, make_engine, session_scope
from tests.browser.waits import poll, rerun, wait_idle, wait_still
from tests.fixtures import bopis_map

pytestmark = pytest.mark.browser

EDITOR = Actor("Browser facilitator", Role.EDITOR)
GRAPH_IFRAME = 'iframe[title="streamlit_agraph.agraph"]'
# Streamlit test ids of every control that could change something.
EDIT_CONTROLS = ", ".join(
    f'[data-testid="{test_id}"]'
    for test_id in (
        "stButton",
        "stFormSubmitButton",
        "stTextInput",
        "stTextArea",
        "stSelectbox",
        "stMultiSelect",
        "stCheckbox",
        "stRadio",
        "stNumberInput",
        "stDateInput",
        "stFileUploader",
        "stDataFrameGlideDataEditor",
        "stDownloadButton",
    )
)


@pytest.fixture(scope="module")
def review_url(app_url: str) -> str:
    """The app's URL: its navigation has the view and workshop pages."""
    return app_url


def _seed() -> tuple[int, str, str]:
    """The demo maps (as the server would seed them), a BOPIS map, a share link and a workshop on it."""
    engine = make_engine()
    init_db(engine)
    with session_scope(engine) as session:
        seed_demo(session)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Browser test").map_id
    token, _ = reviews.create_share_link(engine, EDITOR, map_id=map_id, label="browser")
    code = reviews.start_workshop(engine, EDITOR, map_id=map_id, title="Pick-up workshop").join_code
    engine.dispose()
    return map_id, token, code


def _graph_drawn(page: Page) -> int:
    """Wait for the graph canvas and return how many non-white pixels it has."""
    page.wait_for_selector(GRAPH_IFRAME, timeout=30_000)
    frame = page.frame_locator(GRAPH_IFRAME)
    frame.locator("div.vis-network canvas").wait_for(timeout=30_000)
    handle = page.query_selector(GRAPH_IFRAME)
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    count = poll(
        frame,
        """() => { const c = document.querySelector('div.vis-network canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
                   for (let p = 0; p < d.length; p += 4) if (d[p+3] > 200 && (d[p] < 200 || d[p+2] < 200)) n++;
                   return n; }""",
        "(count) => count > 500",
        timeout=30_000,
    )
    return int(count)


def _screenshot(page: Page, path: Path) -> None:
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height) + 40})
    wait_still(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_share_link_opens_a_read_only_map_in_another_browser(
    browser: Browser, review_url: str, screenshot_dir: Path
) -> None:
    _, token, _ = _seed()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{review_url}/view?share={token}&edit=1")
        wait_idle(page)
        expect(page.get_by_role("heading", name=bopis_map().name)).to_be_visible(timeout=30_000)
        assert _graph_drawn(page) > 500
        expect(page.get_by_text("Read-only: this map was shared with you through a link.")).to_be_visible()
        assert page.locator(EDIT_CONTROLS).count() == 0
        assert page.get_by_text("Page not found").count() == 0
        _screenshot(page, screenshot_dir / "view.png")

        page.goto(f"{review_url}/view?share={token[:-2]}xx")
        wait_idle(page)
        expect(page.get_by_text("this share link is not valid")).to_be_visible(timeout=30_000)
        assert page.locator(GRAPH_IFRAME).count() == 0
    finally:
        context.close()


def _join(browser: Browser, url: str, code: str, name: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/workshop?code={code}&name={name}")
    wait_idle(page)
    expect(page.get_by_label("What did you notice?")).to_be_visible(timeout=30_000)
    return page


def test_two_participants_see_each_others_items_within_seconds(
    browser: Browser, review_url: str, screenshot_dir: Path
) -> None:
    _, _, code = _seed()
    ana, bo = _join(browser, review_url, code, "Ana"), _join(browser, review_url, code, "Bo")
    try:
        for page, text in ((ana, "Ana cannot find the pick-up code"), (bo, "Bo wants stock in search")):
            # Both leave the touchpoint on its first choice: the same touchpoint for both.
            page.get_by_label("What did you notice?").fill(text)
            with rerun(page):
                page.get_by_role("button", name="Add").click()
        for page in (ana, bo):
            for text in ("Ana cannot find the pick-up code", "Bo wants stock in search"):
                # Once the live list settles, each item is listed once (a rerun may briefly show the old row too).
                expect(page.get_by_text(text, exact=False)).to_have_count(1, timeout=8_000)
        expect(ana.get_by_text("Everyone's additions (2)")).to_be_visible(timeout=8_000)
        _screenshot(bo, screenshot_dir / "workshop-participant.png")

        presenter = ana.context.new_page()
        presenter.goto(f"{review_url}/workshop?code={code}&present=1")
        wait_idle(presenter)
        expect(presenter.get_by_text(f"join with code {code}")).to_be_visible(timeout=30_000)
        assert _graph_drawn(presenter) > 500
        # The facilitator's promotion list names both items (the counts table is a canvas grid).
        for text in ("pain point: Ana cannot find the pick-up code", "pain point: Bo wants stock in search"):
            expect(presenter.get_by_text(text)).to_have_count(1, timeout=8_000)
        assert presenter.get_by_text("Page not found").count() == 0
        _screenshot(presenter, screenshot_dir / "workshop.png")
    finally:
        ana.context.close()
        bo.context.close()


def test_a_participants_error_goes_away_with_their_next_vote(browser: Browser, review_url: str) -> None:
    _, _, code = _seed()
    engine = make_engine()
    reviews.add_workshop_item(
        engine,
        Actor("Guest", Role.GUEST),
        join_code=code,
        participant="Di",
        touchpoint_id="search",
        kind="idea",
        text="Stock in search",
    )
    engine.dispose()
    page = _join(browser, review_url, code, "Cy")
    try:
        with rerun(page):
            page.get_by_role("button", name="Add").click()  # nothing written: refused
        banner = page.get_by_text("field 'text': is empty")
        expect(banner).to_be_visible(timeout=8_000)
        with rerun(page):
            page.get_by_role("button", name="Vote").click()
        expect(page.get_by_text("Stock in search (Di, 1 vote)", exact=False)).to_be_visible(timeout=8_000)
        expect(banner).to_have_count(0, timeout=8_000)
    finally:
        page.context.close()
