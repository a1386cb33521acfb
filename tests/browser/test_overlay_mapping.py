"""The table of raw activity values → touchpoints in a real browser: each pick lands on the row clicked, and the
picks are still there after a visit to the Map editor.

The file's ``step`` column has the help desk's own words, ``view`` (3 events), ``chat`` (2) and ``dial`` (1):
the table lists them in that order, each first kept as its raw label.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from journeymap.events.mapping import mapping_from_json
from journeymap.store import list_datasets, make_engine, session_scope
from tests.app.test_overlay_mapping_kept import DESK, desk_map
from tests.browser.test_editor_browser import _choose, _save_map
from tests.browser.waits import rerun, wait_idle, wait_still

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000
OPEN_TIMEOUT_MS = 2_000
"""How long a clicked cell may take to open its list before the click is taken as one that only selected it."""
KEEP = "(keep the raw label)"
TIME_FORMAT = "%d.%m.%Y %H:%M"
ROW_PX = 35
"""Height of a header or body row of Streamlit's grid (its default row height)."""


def _value_table(page: Page) -> Locator:
    return page.get_by_test_id("stDataFrame").filter(has_text="Touchpoint").filter(has_text="Raw value")


def _expect_touchpoints(page: Page, expected: list[str]) -> None:
    """The Touchpoint column, row by row (the grid's accessible table: header row 1, then the rows)."""
    grid = _value_table(page).locator("table[role=grid]")
    for row, text in enumerate(expected):
        expect(grid.locator(f'tr[aria-rowindex="{row + 2}"] td').nth(2)).to_have_text(text, timeout=TIMEOUT_MS)


def _pick(page: Page, row: int, option: str) -> None:
    """Choose a touchpoint for one row with the mouse: a click selects the cell, a second opens its list."""
    table = _value_table(page)
    table.scroll_into_view_if_needed()
    wait_still(page)
    box = table.bounding_box()
    assert box is not None
    # The Touchpoint column is the last, right of about 62% of the width; the rows start under the header.
    x, y = box["x"] + 0.8 * box["width"], box["y"] + ROW_PX * (row + 1) + ROW_PX / 2
    choice = page.get_by_role("option", name=option, exact=True)
    # A click on a cell selects it, a click on the selected cell opens its list; the grid may take a click
    # given while it redraws after the last rerun as a first one again.
    for _ in range(4):
        page.mouse.click(x, y)
        try:
            choice.wait_for(timeout=OPEN_TIMEOUT_MS)
            break
        except PlaywrightTimeoutError:
            continue
    else:
        raise AssertionError(f"row {row} of the values table does not open its list of touchpoints")
    with rerun(page):
        choice.click()


def test_picks_land_on_the_clicked_row_and_survive_a_visit_to_the_editor(
    page: Page, app_url: str, tmp_path: Path, screenshot_dir: Path
) -> None:
    journey_map = desk_map().model_copy(update={"name": "Help desk (value picks)"})
    map_id = _save_map(journey_map)
    path = tmp_path / "desk.csv"
    path.write_text(DESK, encoding="utf-8")

    page.goto(f"{app_url}/overlay")
    wait_idle(page)
    _choose(page, "Journey map to overlay", f"{journey_map.name} (#{map_id})")
    page.get_by_role("tab", name="File on the server").click()
    page.get_by_label("Path of an event file on the server").fill(str(path))
    with rerun(page):
        page.get_by_role("button", name="Read this file").click()
    expect(page.get_by_text("2 · Map the columns of desk.csv")).to_be_visible(timeout=TIMEOUT_MS)
    _choose(page, "Activity / touchpoint", "step")
    time_format = page.get_by_role("textbox", name="Time format (optional)")
    time_format.fill(TIME_FORMAT)
    with rerun(page):
        time_format.press("Enter")
    _expect_touchpoints(page, [KEEP, KEEP, KEEP])

    _pick(page, 0, "Browse [browse]")
    _expect_touchpoints(page, ["Browse [browse]", KEEP, KEEP])
    _pick(page, 2, "Call [call]")
    _expect_touchpoints(page, ["Browse [browse]", KEEP, "Call [call]"])

    with rerun(page):
        page.get_by_role("link", name="Map editor").click()
    expect(page.get_by_role("heading", name="Map editor")).to_be_visible(timeout=TIMEOUT_MS)
    with rerun(page):
        page.get_by_role("link", name="Overlay").click()
    expect(page.get_by_text("2 · Map the columns of desk.csv")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Activity / touchpoint")).to_have_value("step")
    expect(time_format).to_have_value(TIME_FORMAT)
    _expect_touchpoints(page, ["Browse [browse]", KEEP, "Call [call]"])

    _pick(page, 1, "Ask in chat [ask]")
    _expect_touchpoints(page, ["Browse [browse]", "Ask in chat [ask]", "Call [call]"])
    _value_table(page).scroll_into_view_if_needed()
    page.mouse.move(5, 5)
    wait_still(page)
    page.screenshot(path=str(screenshot_dir / "overlay-value-picks.png"))

    with rerun(page):
        page.get_by_role("button", name="Apply and compute the overlay").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    with session_scope(make_engine()) as session:
        (dataset,) = [d for d in list_datasets(session=session) if d.map_id == map_id]
    assert mapping_from_json(dataset.mapping_json).value_map == {"view": "browse", "chat": "ask", "dial": "call"}
