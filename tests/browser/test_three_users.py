"""The three people Journeymap is for, each walking their path in Chromium at 1440x900.

- A CX strategist starts from "Start here": opens the demo map, then overlays the demo events, and reads the
  result in plain words (no contract column names, rates as percentages, no "Page not found").
- A facilitator runs a workshop on the map open in the editor: the workshop page starts on that map,
  participants add and vote ("ana" and "Ana" are one voter), items are ranked by votes, a promotion says what it
  did, and while the map is locked the editor says so.
- A manager opens a saved map from Maps and finds its comments, opportunities and share links on Review; the
  link they create opens the map read-only in another browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from journeymap.demo import seed_demo
from journeymap.store import init_db, list_maps, make_engine, session_scope
from journeymap.templates import load_template
from tests.browser.waits import rerun, wait_idle, wait_still

pytestmark = pytest.mark.browser

TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1440, "height": 900}
RAW_COLUMNS = ("repeat_step_rate", "context_loss_score", "dropoff_rate", "reidentify_rate", "bounce_back_rate")


def _context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport=VIEWPORT)


def _graph_drawn(page: Page) -> None:
    frame = page.frame_locator('iframe[title="streamlit_agraph.agraph"]').first
    expect(frame.locator("div.vis-network canvas")).to_be_visible(timeout=TIMEOUT_MS)


def _demo_map_id() -> int:
    """The id of the demo retail map, seeding the demo workspace when the server has not done it yet."""
    engine = make_engine()
    init_db(engine)
    name = load_template("retail-bopis").name
    with session_scope(engine) as session:
        if not any(m.name == name for m in list_maps(session=session)):
            seed_demo(session)
    with session_scope(engine) as session:
        found = next(m.id for m in list_maps(session=session) if m.name == name)
    engine.dispose()
    return found


def _shot(page: Page, path: Path) -> None:
    wait_still(page)
    page.screenshot(path=str(path))


def test_strategist_maps_then_overlays_the_demo(browser: Browser, app_url: str, screenshot_dir: Path) -> None:
    context = _context(browser)
    page = context.new_page()
    try:
        page.goto(app_url)
        expect(page.get_by_role("heading", name="Start here")).to_be_visible(timeout=TIMEOUT_MS)
        for job in ("1 · Map the journey", "2 · Overlay what customers did"):
            expect(page.get_by_role("heading", name=job)).to_be_visible()
        wait_idle(page, TIMEOUT_MS)
        demo = load_template("retail-bopis").name
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name=f"Open the demo map: {demo}").click()
        expect(page.get_by_role("heading", name="Map editor")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_role("heading", name=demo)).to_be_visible()
        _graph_drawn(page)
        assert page.get_by_text("Page not found").count() == 0

        page.goto(app_url)
        wait_idle(page, TIMEOUT_MS)
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name=re.compile(r"^Overlay the demo events")).click()
        expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        _graph_drawn(page)
        # The KPIs read as percentages with plain names, and no table shows a contract column name.
        kpi = page.get_by_test_id("stMetric").filter(has_text="Completion rate").first
        expect(kpi).to_be_visible()
        expect(kpi).to_contain_text("%")
        body = page.locator("[data-testid=stMain]").inner_text()
        for raw in RAW_COLUMNS:
            assert raw not in body, f"'{raw}' is on the Overlay page"
        # The sections are numbered one after the other.
        numbers = [int(n) for n in re.findall(r"^(\d+) · ", body, flags=re.MULTILINE)]
        assert numbers == list(range(1, len(numbers) + 1)), numbers
        _shot(page, screenshot_dir / "strategist-overlay.png")
    finally:
        context.close()


def test_facilitator_runs_a_workshop_on_the_open_map(browser: Browser, app_url: str, screenshot_dir: Path) -> None:
    map_id = _demo_map_id()
    demo = load_template("retail-bopis").name
    facilitator = _context(browser)
    room: list[BrowserContext] = []
    try:
        page = facilitator.new_page()
        page.goto(app_url)
        wait_idle(page, TIMEOUT_MS)
        page.goto(f"{app_url}/editor?map={map_id}")
        expect(page.get_by_role("heading", name=demo)).to_be_visible(timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("link", name="Workshop").click()
        # The workshop starts on the map open in the editor, not on the first map of the list.
        expect(page.get_by_role("combobox", name="Map")).to_have_value(demo, timeout=TIMEOUT_MS)
        page.get_by_label("Title (optional)").fill("Walk-through workshop")
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name="Start workshop").click()
        title = page.get_by_role("heading", name=re.compile(r"Walk-through workshop · join with code"))
        expect(title).to_be_visible(timeout=TIMEOUT_MS)
        code = (title.inner_text().rsplit(" ", 1)[-1]).strip()

        def join(name: str) -> Page:
            context = _context(browser)
            room.append(context)
            participant = context.new_page()
            participant.goto(f"{app_url}/workshop?code={code}&name={name}")
            expect(participant.get_by_label("What did you notice?")).to_be_visible(timeout=TIMEOUT_MS)
            return participant

        ana, bo = join("ana"), join("Bo")
        for who, text in ((ana, "The pick-up code email arrives late"), (bo, "Store staff cannot see the order")):
            who.get_by_label("What did you notice?").fill(text)
            with rerun(who, TIMEOUT_MS):
                who.get_by_role("button", name="Add").click()
        staff = "Store staff cannot see the order"
        row = bo.get_by_test_id("stHorizontalBlock").filter(has_text=staff).last
        expect(row).to_be_visible(timeout=30_000)
        with rerun(bo, TIMEOUT_MS):
            row.get_by_role("button", name="Vote").click()
        # "Ana" is the same voter as "ana": her vote on her own item counts once.
        ana_again = join("Ana")
        own = ana_again.get_by_test_id("stHorizontalBlock").filter(has_text="The pick-up code email").last
        expect(own).to_be_visible(timeout=30_000)
        with rerun(ana_again, TIMEOUT_MS):
            own.get_by_role("button", name="Vote").click()
        ana_row = ana.get_by_test_id("stHorizontalBlock").filter(has_text="The pick-up code email").last
        expect(ana_row).to_contain_text("1 vote)", timeout=30_000)
        with rerun(ana, TIMEOUT_MS):
            ana_row.get_by_role("button", name="Vote").click()
        expect(ana.get_by_text("You already voted for that one.")).to_be_visible(timeout=30_000)

        # The presenter ranks by votes; a promotion says what it did.
        promote = page.get_by_role("heading", name="Promote items")
        expect(promote).to_be_visible(timeout=30_000)
        rows = page.get_by_test_id("stHorizontalBlock").filter(has=page.get_by_role("button", name="Pain point"))
        expect(rows).to_have_count(2, timeout=30_000)
        first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
        assert "(1 vote)" in first and "(1 vote)" in second, (first, second)
        with rerun(page, TIMEOUT_MS):
            rows.filter(has_text=staff).get_by_role("button", name="Pain point").click()
        expect(page.get_by_text(re.compile(rf"'{staff}' added as a pain point: revision \d+"))).to_be_visible(
            timeout=30_000
        )
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name="Lock map").click()
        expect(page.get_by_role("button", name="Unlock map")).to_be_visible(timeout=30_000)
        _shot(page, screenshot_dir / "facilitator-workshop.png")

        # While the workshop holds the map, the editor says so instead of showing nothing.
        editor = facilitator.new_page()
        editor.goto(f"{app_url}/editor?map={map_id}")
        expect(editor.get_by_text("A workshop has locked this map")).to_be_visible(timeout=TIMEOUT_MS)
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name="Close workshop").click()
    finally:
        for context in room:
            context.close()
        facilitator.close()


def test_manager_opens_a_saved_map_reviews_and_shares(browser: Browser, app_url: str, screenshot_dir: Path) -> None:
    _demo_map_id()
    manager = _context(browser)
    guest = _context(browser)
    try:
        page = manager.new_page()
        page.goto(f"{app_url}/maps")
        open_button = page.get_by_role("button", name="Open in editor")
        expect(open_button).to_be_visible(timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        # "Name (#id)": the map the picker offers first.
        name = page.get_by_role("combobox", name="Map to open").input_value().rsplit(" (#", 1)[0]
        with rerun(page, TIMEOUT_MS):
            open_button.click()
        expect(page.get_by_role("heading", name="Map editor")).to_be_visible(timeout=TIMEOUT_MS)
        assert re.search(r"/editor\?map=\d+", page.url), page.url
        assert page.get_by_text("Page not found").count() == 0
        expect(page.get_by_role("heading", name=name)).to_be_visible()

        with rerun(page, TIMEOUT_MS):
            page.get_by_role("link", name="Review").click()
        expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        wait_idle(page, TIMEOUT_MS)
        # The sidebar names the map Review shows: the one opened.
        expect(page.get_by_test_id("stSidebar")).to_contain_text(name)
        for section in ("Comments", "Opportunities", "Share this map read-only", "Compare", "Export"):
            expect(page.get_by_role("heading", name=re.compile(rf"^{section}"))).to_be_visible()

        page.get_by_role("textbox", name="Comment").fill("Walk-through: check the pick-up handoff")
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name="Add comment").click()
        expect(page.get_by_text("Walk-through: check the pick-up handoff")).to_be_visible(timeout=30_000)

        page.get_by_label("Label (who the link is for)").fill("Steering group")
        with rerun(page, TIMEOUT_MS):
            page.get_by_role("button", name="Create share link").click()
        link = page.locator("[data-testid=stCode] code").filter(has_text="/view?share=").first
        expect(link).to_be_visible(timeout=30_000)
        url = link.inner_text().strip()
        _shot(page, screenshot_dir / "manager-review.png")

        shared = guest.new_page()
        shared.goto(url if url.startswith("http") else f"{app_url}{url}")
        expect(shared.get_by_text("Read-only: this map was shared with you through a link.")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        expect(shared.get_by_role("heading", name=name)).to_be_visible()
        _graph_drawn(shared)
    finally:
        guest.close()
        manager.close()
