"""The overlay page in a real browser: upload a real event log, map it, see the graph drawn, inspect a finding."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

REAL_LOG = Path(__file__).resolve().parents[1] / "data" / "real" / "receipt.parquet"
TIMEOUT_MS = 120_000

# Non-background pixels on the graph canvas: vis-network draws nodes and edges, nothing else.
COUNT_DRAWN_PIXELS = """
(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) drawn += 1;
  }
  return drawn;
}
"""


def _wait_idle(page: Page) -> None:
    """Wait until Streamlit has finished its rerun (the status widget says nothing is running)."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)


def test_upload_map_overlay_and_inspect_a_finding(page: Page, app_url: str, screenshot_dir: Path) -> None:
    page.goto(f"{app_url}/overlay")
    expect(page.get_by_role("heading", name="Overlay", exact=True)).to_be_visible(timeout=TIMEOUT_MS)

    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(REAL_LOG))
    _wait_idle(page)
    page.get_by_role("button", name="Read the uploaded file").click()
    expect(page.get_by_text(f"2 · Map the columns of {REAL_LOG.name}")).to_be_visible(timeout=TIMEOUT_MS)
    # The guessed mapping names the XES-style columns.
    expect(page.get_by_role("combobox", name="Activity / touchpoint")).to_be_visible()
    _wait_idle(page)
    page.get_by_role("button", name="Apply and compute the overlay").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    _wait_idle(page)

    # KPIs from the receipt log (1,434 cases; cutting by a 3-day gap gives more journeys than cases).
    expect(page.get_by_test_id("stMetric").filter(has_text="Customers")).to_contain_text("1,434")

    graph = page.frame_locator('iframe[title="streamlit_agraph.agraph"]')
    canvas = graph.locator("div.vis-network canvas")
    expect(canvas).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    drawn = canvas.evaluate(COUNT_DRAWN_PIXELS)
    assert drawn > 2_000, f"the overlay graph looks empty ({drawn} drawn pixels)"

    # Click the first friction item: the row's selection cell at the left of the board.
    board = page.get_by_test_id("stDataFrame").filter(has_text="Touchpoint / transition")
    board.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = board.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    _wait_idle(page)
    chosen = page.get_by_role("combobox", name="Finding to inspect")
    expect(chosen).to_have_value(re.compile(r"^(touchpoint|transition): \S"), timeout=TIMEOUT_MS)
    expect(page.get_by_text("sample journeys behind this finding")).to_be_visible(timeout=TIMEOUT_MS)

    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height)})
    page.mouse.move(5, 5)  # no hover tooltip over the page
    page.wait_for_timeout(1500)
    page.screenshot(path=str(screenshot_dir / "overlay.png"), full_page=True)


def test_demo_dataset_and_clicking_a_heatmap_cell(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/overlay")
    page.get_by_role("button", name="Use the demo dataset").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    _wait_idle(page)
    pair = page.get_by_role("combobox", name="Channel switch to list")
    expect(pair).to_have_value("Store → Loyalty app")  # the busiest switch is listed first

    # Row "Social media", column "Website" of the switch matrix: the third cell marker of the first row.
    heatmap = page.get_by_test_id("stPlotlyChart").filter(has_text="Channel switches (count)")
    heatmap.scroll_into_view_if_needed()
    cell = heatmap.locator("g.scatterlayer path.point").nth(2)
    box = cell.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    _wait_idle(page)
    expect(pair).to_have_value("Social media → Website", timeout=TIMEOUT_MS)
    transitions = page.get_by_test_id("stDataFrame").filter(has_text="repeat_step_rate")
    expect(transitions).to_be_visible()
