"""The app as a user meets it: a real Streamlit server and Chromium (see conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from journeymap.model import ChannelKind, JourneyMap
from journeymap.store import create_map, init_db, make_engine, session_scope
from journeymap.viz import channel_colors
from tests.browser.waits import poll, rerun, wait_idle, wait_still
from tests.fixtures import bopis_map

pytestmark = pytest.mark.browser

GRAPH_IFRAME = 'iframe[title="streamlit_agraph.agraph"]'
EVIL = "<img src=x onerror=alert(1)>"
HOVER_TIMEOUT_MS = 5_000
"""How long a hovered node's tooltip may take to show (vis-network waits ``tooltipDelay``, 300 ms, first)."""

# Matching pixels of given colours on the graph canvas: count and centre (in CSS pixels of the canvas).
_FIND_COLOURS_JS = """
(colours) => {
  const canvas = document.querySelector('div.vis-network canvas');
  if (!canvas) return null;
  const ctx = canvas.getContext('2d');
  const {width, height} = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const scale = width / canvas.clientWidth;
  const wanted = colours.map(h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16)));
  const found = wanted.map(() => ({count: 0, x: 0, y: 0}));
  for (let p = 0; p < data.length; p += 4) {
    if (data[p + 3] < 250) continue;
    for (let k = 0; k < wanted.length; k++) {
      const [r, g, b] = wanted[k];
      if (Math.abs(data[p] - r) <= 6 && Math.abs(data[p + 1] - g) <= 6 && Math.abs(data[p + 2] - b) <= 6) {
        const i = p / 4;
        found[k].count += 1; found[k].x += i % width; found[k].y += Math.floor(i / width);
        break;
      }
    }
  }
  return found.map(f => f.count ? {count: f.count, x: f.x / f.count / scale, y: f.y / f.count / scale}
                                 : {count: 0, x: 0, y: 0});
}
"""


def _graph_frame(page: Page) -> Frame:
    page.wait_for_selector(GRAPH_IFRAME, timeout=30_000)
    frame = page.frame_locator(GRAPH_IFRAME)
    frame.locator("div.vis-network canvas").wait_for(timeout=30_000)
    handle = page.query_selector(GRAPH_IFRAME)
    assert handle is not None
    content = handle.content_frame()
    assert content is not None
    return content


def _colour_pixels(page: Page, colours: list[str]) -> list[dict[str, float]]:
    frame = _graph_frame(page)
    # vis-network draws after the data arrives; poll until every colour is on the canvas.
    found: list[dict[str, float]] | None = poll(
        frame, _FIND_COLOURS_JS, "(found) => !!found && found.every(f => f.count > 20)", arg=colours, timeout=30_000
    )
    return found or []


def _screenshot(page: Page, directory: Path, name: str) -> None:
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height) + 40})
    wait_still(page)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def _save_map(journey_map: JourneyMap) -> int:
    engine = make_engine()
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=journey_map, author="Browser test", message="seed").map_id


def _open_combobox(page: Page, label: str) -> None:
    """Open a selectbox's list (a first click can be swallowed while another input gives up focus)."""
    combo = page.get_by_role("combobox", name=label)
    for _ in range(3):
        combo.click()
        try:
            page.get_by_role("listbox").wait_for(timeout=2_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the selectbox '{label}' does not open")


def _choose(page: Page, label: str, option: str) -> None:
    if page.get_by_role("combobox", name=label).input_value() == option:
        return  # already chosen: choosing it again would not rerun the page
    _open_combobox(page, label)
    with rerun(page):
        page.get_by_role("option", name=option, exact=True).click()


def test_create_edit_save_and_reload(page: Page, app_url: str, screenshot_dir: Path) -> None:
    page.goto(f"{app_url}/editor")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Map editor")).to_be_visible()
    _graph_frame(page)
    _screenshot(page, screenshot_dir, "01-landing-editor")

    with rerun(page):
        page.get_by_role("link", name="Maps").click()
    expect(page.get_by_role("heading", name="Maps", exact=True)).to_be_visible()
    _choose(page, "Template", "Telecom: broadband support")
    page.get_by_label("Name of the new map (optional)").fill("Browser journey")
    with rerun(page):
        page.get_by_label("Name of the new map (optional)").press("Enter")
    _screenshot(page, screenshot_dir, "02-maps-page")
    with rerun(page):
        page.get_by_role("button", name="Create from template").click()
    expect(page.get_by_role("heading", name="Browser journey")).to_be_visible()
    assert "map=" in page.url and "client=" in page.url

    _open_combobox(page, "Touchpoint (or click a node in the graph)")
    options = page.get_by_role("option")
    first = options.nth(1)  # 0 is "— choose —"
    original = first.inner_text().strip()
    with rerun(page):
        first.click()
    name_input = page.locator('[data-testid="stForm"]').get_by_label("Name", exact=True).first
    expect(name_input).to_have_value(original)
    name_input.fill("Renamed in the browser")
    with rerun(page):
        page.get_by_role("button", name="Save touchpoint").click()
    expect(page.get_by_text("Saved 'Renamed in the browser'.")).to_be_visible()

    page.get_by_label("What changed?").fill("Renamed a touchpoint")
    with rerun(page):
        page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text("Saved revision 2.")).to_be_visible()
    _screenshot(page, screenshot_dir, "03-editor-after-save")

    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Browser journey")).to_be_visible()
    _open_combobox(page, "Touchpoint (or click a node in the graph)")
    expect(page.get_by_role("option", name="Renamed in the browser", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_text("Revision history").click()  # an expander: it opens in the browser, no rerun
    wait_idle(page)
    # No unsaved-draft notice: the edit was saved as a revision, not restored from a draft.
    expect(page.get_by_text("Restored unsaved edits")).to_have_count(0)


def test_unsaved_edit_survives_a_refresh(page: Page, app_url: str) -> None:
    map_id = _save_map(bopis_map())
    page.goto(f"{app_url}/editor?map={map_id}")
    wait_idle(page)
    # A link to the editor with a map opens it at once: no "Page not found" notice first.
    expect(page.get_by_role("heading", name="Map editor")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    _choose(page, "Touchpoint (or click a node in the graph)", "Curbside hand-over")
    name_input = page.locator('[data-testid="stForm"]').get_by_label("Name", exact=True).first
    name_input.fill("Kerbside")
    with rerun(page):
        page.get_by_role("button", name="Save touchpoint").click()
    assert "client=" in page.url
    page.reload()
    wait_idle(page)
    expect(page.get_by_text("Restored unsaved edits from")).to_be_visible()
    _open_combobox(page, "Touchpoint (or click a node in the graph)")
    expect(page.get_by_role("option", name="Kerbside", exact=True)).to_be_visible()


def test_untrusted_names_render_as_text(page: Page, app_url: str, screenshot_dir: Path) -> None:
    base = bopis_map()
    touchpoints = tuple(tp.model_copy(update={"name": EVIL}) if tp.id == "curbside" else tp for tp in base.touchpoints)
    map_id = _save_map(base.model_copy(update={"touchpoints": touchpoints, "name": "Untrusted names"}))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{app_url}/editor?map={map_id}")
    wait_idle(page)
    store_colour = channel_colors(base)["store"]
    found = _colour_pixels(page, [store_colour])
    assert found[0]["count"] > 20

    # The name is visible, literally, in the details table and the selectbox.
    _choose(page, "Touchpoint (or click a node in the graph)", EVIL)
    table = page.locator('[data-testid="stTable"]')
    expect(table.get_by_text(EVIL, exact=True)).to_be_visible()

    # The node tooltip shows the text (vis-network puts it in div.vis-tooltip).
    frame = _graph_frame(page)
    page.locator(GRAPH_IFRAME).scroll_into_view_if_needed()
    wait_still(page)
    canvas_box = frame.locator("div.vis-network canvas").bounding_box()
    assert canvas_box is not None
    tooltip_text = ""
    tooltip = frame.locator("div.vis-tooltip")
    # Store nodes are squares: hover each store-coloured blob until the evil one's tooltip appears.
    for target in _store_node_centres(frame, store_colour):
        # Moving off the last node hides its tooltip; the one under the pointer shows after vis-network's delay.
        page.mouse.move(canvas_box["x"] + target[0], canvas_box["y"] + target[1], steps=8)
        try:
            expect(tooltip).to_be_visible(timeout=HOVER_TIMEOUT_MS)
        except AssertionError:
            continue  # no node under this blob
        tooltip_text = tooltip.inner_text().replace("\u2060", "")
        if EVIL in tooltip_text:
            break
    assert EVIL in tooltip_text, tooltip_text
    assert frame.locator("div.vis-tooltip img").count() == 0
    assert page.locator("img[src=x]").count() == 0
    _screenshot(page, screenshot_dir, "04-untrusted-names")
    assert dialogs == []


def _store_node_centres(frame: Frame, colour: str) -> list[tuple[float, float]]:
    """Centres of separate blobs of one colour on the canvas (CSS pixels), by a coarse grid."""
    js = """
    (hex) => {
      const canvas = document.querySelector('div.vis-network canvas');
      if (!canvas || !canvas.width || !canvas.height) return [];
      const ctx = canvas.getContext('2d');
      const {width, height} = canvas;
      const data = ctx.getImageData(0, 0, width, height).data;
      const scale = width / canvas.clientWidth;
      const [r, g, b] = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
      const cells = new Map();
      const size = Math.round(24 * scale);
      for (let y = 0; y < height; y += 2) for (let x = 0; x < width; x += 2) {
        const p = (y * width + x) * 4;
        if (Math.abs(data[p] - r) <= 6 && Math.abs(data[p + 1] - g) <= 6 && Math.abs(data[p + 2] - b) <= 6) {
          const key = Math.floor(x / size) + ',' + Math.floor(y / size);
          const c = cells.get(key) || {n: 0, x: 0, y: 0};
          c.n++; c.x += x; c.y += y; cells.set(key, c);
        }
      }
      return [...cells.values()].filter(c => c.n > 8).map(c => [c.x / c.n / scale, c.y / c.n / scale]);
    }
    """
    # The graph may be redrawing after the last rerun: wait until the colour is on the canvas again.
    centres: list[Any] = poll(frame, js, "(centres) => centres.length > 0", arg=colour, timeout=30_000)
    return [(float(x), float(y)) for x, y in centres]


def test_graph_canvas_draws_every_channel_colour_and_clicks_select(
    page: Page, app_url: str, screenshot_dir: Path
) -> None:
    journey_map = bopis_map()
    map_id = _save_map(journey_map)
    page.goto(f"{app_url}/editor?map={map_id}")
    wait_idle(page)
    colours = channel_colors(journey_map)
    ordered = [colours[ch.id] for ch in journey_map.channels]
    found = _colour_pixels(page, ordered)
    counts = {ch.id: f["count"] for ch, f in zip(journey_map.channels, found, strict=True)}
    assert all(count > 20 for count in counts.values()), counts
    _screenshot(page, screenshot_dir, "05-bopis-graph")

    # Clicking the call-center node (the only one in that channel) selects it in the page.
    call = found[[ch.id for ch in journey_map.channels].index("call")]
    assert journey_map.channel("call").kind == ChannelKind.ASSISTED
    frame = _graph_frame(page)
    page.locator(GRAPH_IFRAME).scroll_into_view_if_needed()
    wait_still(page)
    canvas_box = frame.locator("div.vis-network canvas").bounding_box()
    assert canvas_box is not None
    with rerun(page):
        page.mouse.click(canvas_box["x"] + call["x"], canvas_box["y"] + call["y"])
    expect(page.locator('[data-testid="stTable"]').get_by_text("Order help line", exact=True)).to_be_visible()
