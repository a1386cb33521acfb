"""Authoring a map in the editor as a workshop does it live: a persona typed into the table, a stage and a
touchpoint added and seen at once on the graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect

from journeymap.store import latest_revision, make_engine, session_scope
from journeymap.viz import channel_colors
from tests.browser.test_editor_browser import GRAPH_IFRAME, _save_map, _screenshot
from tests.browser.waits import poll, rerun, wait_idle, wait_still
from tests.fixtures import bopis_map

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35
"""Height of a header or body row of Streamlit's data grid, in CSS pixels."""
NAME_COLUMN_X = 200
"""From the grid's left edge, a point inside the ``name`` column of the personas table of :func:`bopis_map`
(row markers, then ``id`` sized to "busy-parent", then ``name``)."""

# The box around everything drawn on the graph canvas and around the pixels of one colour, in CSS pixels of
# the canvas, with the canvas size: vis-network draws nodes, edges and stage headers, nothing else.
_DRAWN_BOXES_JS = """
(colour) => {
  const canvas = document.querySelector('div.vis-network canvas');
  if (!canvas || !canvas.width) return null;
  const {width, height} = canvas;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const scale = width / canvas.clientWidth;
  const [r, g, b] = [1, 3, 5].map(i => parseInt(colour.slice(i, i + 2), 16));
  const box = () => ({n: 0, left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity});
  const drawn = box(), painted = box();
  const grow = (b, x, y) => {
    b.n++; b.left = Math.min(b.left, x); b.right = Math.max(b.right, x);
    b.top = Math.min(b.top, y); b.bottom = Math.max(b.bottom, y);
  };
  for (let p = 0; p < data.length; p += 4) {
    if (data[p + 3] < 30) continue;
    const x = (p / 4) % width, y = Math.floor(p / 4 / width);
    if (data[p] < 240 || data[p + 1] < 240 || data[p + 2] < 240) grow(drawn, x, y);
    if (Math.abs(data[p] - r) <= 6 && Math.abs(data[p + 1] - g) <= 6 && Math.abs(data[p + 2] - b) <= 6) {
      grow(painted, x, y);
    }
  }
  const css = (b) => b.n ? {n: b.n, left: b.left / scale, right: b.right / scale, top: b.top / scale,
                             bottom: b.bottom / scale} : {n: 0};
  return {width: canvas.clientWidth, height: canvas.clientHeight, drawn: css(drawn), colour: css(painted)};
}
"""
WEBSITE = channel_colors(bopis_map())["web"]
"""The fill of the Website's touchpoints, the channel a new touchpoint gets unless another is chosen."""


def _graph(page: Page) -> Frame:
    """The graph's frame as it is now (the editor makes a new one when the drawing grows)."""
    expect(page.locator(GRAPH_IFRAME)).to_have_count(1, timeout=30_000)
    handle = page.locator(GRAPH_IFRAME).element_handle()
    frame = handle.content_frame() if handle else None
    assert frame is not None
    return frame


def _open_editor(page: Page, app_url: str, map_name: str) -> int:
    """A new copy of :func:`bopis_map` named ``map_name``, open in the editor; its map id."""
    map_id = _save_map(bopis_map().model_copy(update={"name": map_name}))
    page.goto(f"{app_url}/editor?map={map_id}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Edit the map")).to_be_visible(timeout=60_000)
    return map_id


def _expect_persona(page: Page, persona_id: str, name: str) -> None:
    """The personas table shows a row with that id and name (waiting for the table, which a change redraws)."""
    grid = page.get_by_role("tabpanel", name="Personas").get_by_test_id("stDataFrame")
    # The grid is drawn on a canvas; its cells are also in a table for assistive technology, hidden from view.
    row = grid.locator("tbody tr").filter(has=page.locator(f'td:text-is("{persona_id}")'))
    expect(row.locator(f'td:text-is("{name}")')).to_have_count(1, timeout=30_000)


def test_a_persona_typed_into_the_empty_row_is_added_and_saved(page: Page, app_url: str, screenshot_dir: Path) -> None:
    map_id = _open_editor(page, app_url, "Persona typed in the table")
    page.get_by_role("tab", name="Personas").click()
    grid = page.get_by_role("tabpanel", name="Personas").get_by_test_id("stDataFrame")
    expect(grid).to_be_visible(timeout=60_000)
    grid.scroll_into_view_if_needed()
    wait_still(page)
    _expect_persona(page, "busy-parent", "Busy parent")
    expect(grid.locator("tbody tr")).to_have_count(1)
    box = grid.bounding_box()
    assert box is not None

    # The empty row under the last persona: a click there adds a row and opens its name cell for typing.
    with rerun(page):
        page.mouse.click(box["x"] + NAME_COLUMN_X, box["y"] + 2 * ROW_HEIGHT + ROW_HEIGHT / 2)
    expect(page.locator("textarea.gdg-input")).to_be_focused()
    page.keyboard.type("Weekend gardener")
    with rerun(page):
        page.keyboard.press("Enter")
    expect(page.get_by_text("Updated personas.")).to_be_visible()
    _expect_persona(page, "weekend-gardener", "Weekend gardener")

    # Another rerun (a layout change) keeps it; so does a save, and a reload after it.
    with rerun(page):
        page.get_by_text("Stages as columns, one lane per channel").click()
    _expect_persona(page, "weekend-gardener", "Weekend gardener")
    page.get_by_label("What changed?").fill("Added a persona")
    with rerun(page):
        page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text("Saved revision 2.")).to_be_visible()
    with session_scope(make_engine()) as session:
        saved = latest_revision(session=session, map_id=map_id).journey_map
    assert [(p.id, p.name) for p in saved.personas] == [("busy-parent", "Busy parent"),
                                                        ("weekend-gardener", "Weekend gardener")]  # fmt: skip
    page.reload()
    wait_idle(page)
    page.get_by_role("tab", name="Personas").click()
    expect(page.get_by_role("tabpanel", name="Personas").get_by_test_id("stDataFrame")).to_be_visible()
    _expect_persona(page, "weekend-gardener", "Weekend gardener")
    _screenshot(page, screenshot_dir, "editor-persona-added")


def test_a_new_stage_and_its_touchpoint_are_drawn_inside_the_canvas(
    page: Page, app_url: str, screenshot_dir: Path
) -> None:
    _open_editor(page, app_url, "Stage added live")
    before = poll(_graph(page), _DRAWN_BOXES_JS, "(b) => !!b && b.drawn.n > 2000", arg=WEBSITE)
    # The Website's touchpoints are in the first three stages, in the left part of the drawing.
    assert 0 < before["colour"]["right"] < 0.6 * before["width"], before

    page.get_by_role("tab", name="Stages").click()
    page.get_by_label("New name").fill("Aftercare")
    with rerun(page):
        page.get_by_role("button", name="Add stage (new name)").click()
    expect(page.get_by_text("Added stage 'Aftercare'.")).to_be_visible()
    page.get_by_role("tab", name="Touchpoints").click()
    page.get_by_text("Add a touchpoint").click()
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Add touchpoint"))
    form.get_by_label("Name", exact=True).fill("Care call")
    form.get_by_role("combobox", name="Stage").click()
    page.get_by_role("option", name="Aftercare", exact=True).click()  # inside a form: no rerun yet
    with rerun(page):
        form.get_by_role("button", name="Add touchpoint").click()
    expect(page.get_by_text("Added 'Care call'.")).to_be_visible()

    page.locator(GRAPH_IFRAME).scroll_into_view_if_needed()
    wait_still(page)
    # Once the new drawing is in, a Website node stands right of every column drawn before.
    after = poll(
        _graph(page), _DRAWN_BOXES_JS, "(b) => !!b && b.colour.n > 0 && b.colour.right > 0.75 * b.width", arg=WEBSITE
    )
    drawn = after["drawn"]
    assert after["colour"]["right"] > 0.75 * after["width"], after
    # The whole drawing, the new stage's header and node at its right edge included, fits in the canvas:
    # nothing touches its sides.
    assert drawn["left"] >= 8 and drawn["right"] <= after["width"] - 8, after
    assert drawn["top"] >= 4 and drawn["bottom"] <= after["height"] - 4, after
    _screenshot(page, screenshot_dir, "editor-stage-added")
