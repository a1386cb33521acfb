"""The overlay page in a real browser: upload a real event log, map it, see the graph drawn, inspect a finding."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from playwright.sync_api import Page, expect

from journeymap.events.read import read_events
from tests.browser.test_editor_browser import _open_combobox
from tests.browser.waits import poll, rerun, wait_still

REAL_LOG = Path(__file__).resolve().parents[1] / "data" / "real" / "receipt.parquet"
HELPDESK_LOG = Path(__file__).resolve().parents[1] / "data" / "real" / "helpdesk.xes.gz"
TIMEOUT_MS = 120_000
HANDOFFS_SHOT = Path("/tmp/handoffs.png")
GRAPH_IFRAME = 'iframe[title="streamlit_agraph.agraph"]'

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


def test_upload_map_overlay_and_inspect_a_finding(page: Page, app_url: str, screenshot_dir: Path) -> None:
    page.goto(f"{app_url}/overlay")
    expect(page.get_by_role("heading", name="Overlay", exact=True)).to_be_visible(timeout=TIMEOUT_MS)

    with rerun(page, TIMEOUT_MS):
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(REAL_LOG))
    read = page.get_by_role("button", name="Read the uploaded file")
    expect(read).to_be_enabled(timeout=TIMEOUT_MS)
    with rerun(page, TIMEOUT_MS):
        read.click()
    expect(page.get_by_text(f"2 · Map the columns of {REAL_LOG.name}")).to_be_visible(timeout=TIMEOUT_MS)
    # The guessed mapping names the XES-style columns.
    expect(page.get_by_role("combobox", name="Activity / touchpoint")).to_be_visible()
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("button", name="Apply and compute the overlay").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)

    # KPIs from the receipt log (1,434 cases; cutting by a 3-day gap gives more journeys than cases).
    expect(page.get_by_test_id("stMetric").filter(has_text="Customers")).to_contain_text("1,434")

    graph = page.frame_locator(GRAPH_IFRAME)
    canvas = graph.locator("div.vis-network canvas")
    expect(canvas).to_be_visible(timeout=TIMEOUT_MS)
    iframe = page.locator(GRAPH_IFRAME).element_handle()
    frame = iframe.content_frame()
    assert frame is not None
    # vis-network draws once its data has arrived: poll the canvas until the graph is there.
    drawn = poll(
        frame,
        f"() => ({COUNT_DRAWN_PIXELS})(document.querySelector('div.vis-network canvas'))",
        "(drawn) => drawn > 2000",
        timeout=TIMEOUT_MS,
    )
    assert drawn > 2_000, f"the overlay graph looks empty ({drawn} drawn pixels)"

    # Click the first friction item: the row's selection cell at the left of the board.
    board = page.get_by_test_id("stDataFrame").filter(has_text="Touchpoint / transition")
    board.scroll_into_view_if_needed()
    wait_still(page)
    box = board.bounding_box()
    assert box is not None
    with rerun(page, TIMEOUT_MS):
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    chosen = page.get_by_role("combobox", name="Finding to inspect")
    expect(chosen).to_have_value(re.compile(r"^(touchpoint|transition): \S"), timeout=TIMEOUT_MS)
    expect(page.get_by_text("sample journeys behind this finding")).to_be_visible(timeout=TIMEOUT_MS)

    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height)})
    page.mouse.move(5, 5)  # no hover tooltip over the page
    wait_still(page)
    page.screenshot(path=str(screenshot_dir / "overlay.png"), full_page=True)


def test_demo_dataset_and_clicking_a_heatmap_cell(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/overlay")
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("button", name="Use the demo dataset").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    pair = page.get_by_role("combobox", name="Channel switch to list")
    expect(pair).to_have_value("Store → Loyalty app")  # the busiest switch is listed first

    # Row "Social media", column "Website" of the switch matrix: the third cell marker of the first row.
    heatmap = page.get_by_test_id("stPlotlyChart").filter(has_text="Channel switches (count)")
    heatmap.scroll_into_view_if_needed()
    wait_still(page)
    cell = heatmap.locator("g.scatterlayer path.point").nth(2)
    box = cell.bounding_box()
    assert box is not None
    with rerun(page, TIMEOUT_MS):
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(pair).to_have_value("Social media → Website", timeout=TIMEOUT_MS)
    transitions = page.get_by_test_id("stDataFrame").filter(has_text="From touchpoint")
    expect(transitions).to_be_visible(timeout=TIMEOUT_MS)


WHOLE_CASES_GAP_H = 1_000_000
"""A journey gap (hours, over a century) longer than any helpdesk case: every journey is a whole case,
whether the page cuts customers by a gap or takes the mapped cases as journeys."""


def _helpdesk_team_pairs() -> pd.Series:
    """Team handoffs of the helpdesk log by (from, to), counted with pandas apart from the engine.

    Rows in case and time order (file order on ties), an exact duplicate row dropped; a journey is a whole
    case; a handoff is two consecutive rows of one case whose ``org:resource`` values are both given and
    differ.
    """
    frame = read_events(HELPDESK_LOG).to_pandas().drop_duplicates()
    frame["_row"] = range(len(frame))
    frame["_ts"] = pd.to_datetime(frame["time:timestamp"], utc=True)
    frame = frame.sort_values(["case:concept:name", "_ts", "_row"], kind="mergesort").reset_index(drop=True)
    case = frame["case:concept:name"].astype(str)
    team = frame["org:resource"].astype("string")
    previous = team.shift(1)
    handoff = ((case == case.shift(1)) & team.notna() & previous.notna() & (team != previous)).fillna(False)
    moves = handoff.astype(bool)
    return pd.DataFrame({"from": previous[moves], "to": team[moves]}).value_counts()


def test_team_handoffs_of_a_real_helpdesk_log(page: Page, app_url: str) -> None:
    pairs = _helpdesk_team_pairs()
    (busiest_from, busiest_to), busiest = pairs.index[0], int(pairs.iloc[0])
    teams = read_events(HELPDESK_LOG).to_pandas()["org:resource"].dropna().nunique()

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{app_url}/overlay")
    expect(page.get_by_role("heading", name="Overlay", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="File on the server").click()
    page.get_by_label("Path of an event file on the server").fill(str(HELPDESK_LOG))
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("button", name="Read this file").click()
    expect(page.get_by_text(f"2 · Map the columns of {HELPDESK_LOG.name}")).to_be_visible(timeout=TIMEOUT_MS)

    # The guess takes the group (workgroup) as the team; handoffs between the people who work a ticket need the
    # XES resource, chosen by hand. Not saved, so the next reader of this file meets the guess again.
    team = page.get_by_role("combobox", name="Resource / owner team")
    expect(team).to_have_value("workgroup")
    _open_combobox(page, "Resource / owner team")
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("option", name="org:resource", exact=True).click()
    expect(team).to_have_value("org:resource", timeout=TIMEOUT_MS)
    save_as = page.get_by_role("textbox", name="Save this mapping as (reused for the next file with the same columns)")
    save_as.fill("")
    with rerun(page, TIMEOUT_MS):
        save_as.press("Enter")
    expect(save_as).to_have_value("")
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("button", name="Apply and compute the overlay").click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    gap = page.get_by_role("spinbutton", name="Journey gap (h)")
    gap.fill(str(WHOLE_CASES_GAP_H))
    with rerun(page, TIMEOUT_MS):
        gap.press("Enter")
    expect(gap).to_have_value(f"{WHOLE_CASES_GAP_H:.2f}")

    # One channel for the whole file: the channel section says so; the team section is full.
    expect(page.get_by_text("No customer switched channel in the filtered data.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stMetric").filter(has_text="Team handoffs per journey")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    heading = page.get_by_role("heading", name="Team handoffs")
    heading.scroll_into_view_if_needed()
    table = page.get_by_test_id("stDataFrame").filter(has_text="From team")
    expect(table).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(f"{len(pairs)} of {len(pairs)} team pairs shown.")).to_be_visible(timeout=TIMEOUT_MS)
    # The grid draws on a canvas; its accessible table (inside the canvas) holds every pair, busiest first.
    grid = table.locator("table[role=grid]")
    # The header row, then the pairs.
    expect(grid).to_have_attribute("aria-rowcount", str(len(pairs) + 1), timeout=TIMEOUT_MS)
    first_row = grid.locator('tr[aria-rowindex="2"] td')
    for column, text in enumerate((busiest_from, busiest_to, str(busiest))):
        expect(first_row.nth(column)).to_have_text(text, timeout=TIMEOUT_MS)
    heatmap = page.get_by_test_id("stPlotlyChart").filter(has_text="Team handoffs (count)")
    expect(heatmap.locator("g.heatmaplayer image, g.heatmaplayer path").first).to_be_attached(timeout=TIMEOUT_MS)
    expect(page.get_by_text(f"{teams} of {teams} teams shown.")).to_be_visible(timeout=TIMEOUT_MS)

    # The 1440 × 900 view of the handoffs section, from the team handoffs heading down.
    page.evaluate(
        """() => {
        const main = document.querySelector('[data-testid=stMain]');
        const heading = [...document.querySelectorAll('h3')].find(h => h.textContent.trim() === 'Team handoffs');
        main.scrollTop += heading.getBoundingClientRect().top - 60;
    }"""
    )
    page.mouse.move(5, 5)
    wait_still(page)  # the scroll has settled before the picture (the assertions above waited on state)
    page.screenshot(path=str(HANDOFFS_SHOT))

    search = page.get_by_label("Find a team")
    search.fill("value 13")
    with rerun(page, TIMEOUT_MS):
        search.press("Enter")
    wanted = sum(1 for a, b in pairs.index if "value 13" in a.lower() or "value 13" in b.lower())
    expect(page.get_by_text(f"{wanted} of {len(pairs)} team pairs shown.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(f"1 of {teams} teams shown.")).to_be_visible(timeout=TIMEOUT_MS)
