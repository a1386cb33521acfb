"""The workspace home in a real browser: after the demo dataset is loaded, the maps table shows every map's figures."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from journeymap.events.ingest import load_log
from journeymap.events.overlay import compute_overlay
from journeymap.events.settings import OverlaySettings
from journeymap.store import latest_revision, list_datasets, make_engine, session_scope
from journeymap.templates import load_template
from journeymap.ui.overlay_state import DEMO_EVENTS
from tests.browser.waits import rerun, wait_idle, wait_still

TIMEOUT_MS = 120_000
WIDTH = 1800
HOME_COLUMNS = ("Open comments", "Open opportunities", "Friction headline")


def _demo_headline() -> str:
    """The top friction finding of the demo map's newest dataset, computed here from the stored log.

    The table shows the newest dataset registered for each map: the demo file's, or one another browser test
    registered on the same map since.
    """
    engine = make_engine()
    with session_scope(engine) as session:
        datasets = list_datasets(session=session)  # newest first
        demo_map = next(d.map_id for d in datasets if d.source_filename == DEMO_EVENTS.name)
        dataset = next(d for d in datasets if d.map_id == demo_map)
        assert dataset.map_id is not None
        journey_map = latest_revision(session=session, map_id=dataset.map_id).journey_map
    return str(compute_overlay(load_log(dataset.cache_path), journey_map, OverlaySettings()).friction["finding"][0])


def test_home_lists_figures_after_the_demo_dataset(page: Page, app_url: str, screenshot_dir: Path) -> None:
    # A manager's screen: wide enough for every column (the grid only renders the columns in view).
    page.set_viewport_size({"width": WIDTH, "height": 1000})
    # The entry script first, so the server knows the app's navigation before a page is opened by its URL.
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Start here")).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)
    page.goto(f"{app_url}/overlay")
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("button", name="Use the demo dataset").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)

    page.goto(f"{app_url}/maps")
    expect(page.get_by_role("heading", name="Saved maps")).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)
    for label in ("Maps", "Open comments", "Open opportunities", "Maturity (newest assessment)"):
        expect(page.get_by_test_id("stMetric").filter(has_text=label).first).to_be_visible()
    table = page.get_by_test_id("stDataFrame").filter(has_text="Friction headline")
    expect(table).to_be_visible(timeout=TIMEOUT_MS)
    for column in HOME_COLUMNS:
        expect(table).to_contain_text(column)
    retail = load_template("retail-bopis").name
    headline = _demo_headline()
    expect(table).to_contain_text(retail)
    expect(table).to_contain_text(headline[:60])
    expect(table).to_contain_text("—")  # maps without a dataset

    # The filters narrow the table: every demo map has silo handoffs, none has an open opportunity yet.
    with rerun(page, TIMEOUT_MS):
        page.get_by_text("Has open opportunities").click()
    expect(page.get_by_text("No saved map matches these filters.")).to_be_visible(timeout=TIMEOUT_MS)
    with rerun(page, TIMEOUT_MS):
        page.get_by_text("Has open opportunities").click()
    expect(table).to_contain_text(headline[:60])

    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": int(height)})
    page.mouse.move(5, 5)
    wait_still(page)
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)
