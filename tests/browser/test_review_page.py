"""The review page in a real browser: compare revision 1 with 2 after an edit, then download the HTML report."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from journeymap.compare import ADDED_COLOR, CHANGED_COLOR
from journeymap.model import ContextCarry, Touchpoint, Transition
from journeymap.store import create_map, init_db, make_engine, save_revision, session_scope
from tests.browser.waits import poll, rerun, wait_idle, wait_still
from tests.fixtures import bopis_map

pytestmark = pytest.mark.browser

GRAPH_IFRAME = 'iframe[title="streamlit_agraph.agraph"]'
MAP_NAME = "Review in the browser <b>"

_COUNT_COLOUR_JS = """
(hex) => {
  const canvas = document.querySelector('div.vis-network canvas');
  if (!canvas) return -1;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const [r, g, b] = [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
  let count = 0;
  for (let p = 0; p < data.length; p += 4) {
    if (data[p + 3] > 250 && Math.abs(data[p] - r) <= 6 && Math.abs(data[p + 1] - g) <= 6
        && Math.abs(data[p + 2] - b) <= 6) count += 1;
  }
  return count;
}
"""


@pytest.fixture(scope="module")
def review_url(app_url: str) -> str:
    """The review page, through app.py's navigation."""
    return f"{app_url}/review"


def _seed_two_revisions() -> int:
    """Revision 1: bopis_map(); revision 2: curbside removed, chat help added, pick-up desk and a handoff changed."""
    m = bopis_map().model_copy(update={"name": MAP_NAME})
    edited = m.model_copy(
        update={
            "touchpoints": (
                *(
                    tp.model_copy(update={"emotion": 1}) if tp.id == "pickup-desk" else tp
                    for tp in m.touchpoints
                    if tp.id != "curbside"
                ),
                Touchpoint(id="chat-help", name="Chat help", channel="call", stage="collect", is_final=True),
            ),
            "transitions": (
                *(
                    tr.model_copy(update={"context_carry": ContextCarry.FULL})
                    if (tr.source, tr.target) == ("ready-notice", "pickup-desk")
                    else tr
                    for tr in m.transitions
                    if tr.source != "curbside"
                ),
                Transition(source="order-help", target="chat-help"),
            ),
        }
    )
    engine = make_engine()
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=m, author="Ana", message="First draft")
        save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=edited,
            author="Bo",
            message="Desk sees the order",
            base_revision_id=first.id,
        )
    return first.map_id


def _choose(page: Page, label: str, option: str) -> None:
    combo = page.get_by_role("combobox", name=label)
    if combo.input_value() == option:
        return  # already chosen (the only map, say): choosing it again would not rerun the page
    for _ in range(3):
        combo.click()
        try:
            page.get_by_role("listbox").wait_for(timeout=2_000)
            break
        except PlaywrightTimeoutError:
            continue
    with rerun(page):
        page.get_by_role("option", name=option, exact=True).click()


def _graph_frames(page: Page) -> list[Frame]:
    page.wait_for_function(f"document.querySelectorAll('{GRAPH_IFRAME}').length === 2", timeout=30_000)
    frames = []
    for handle in page.query_selector_all(GRAPH_IFRAME):
        frame = handle.content_frame()
        assert frame is not None
        frame.wait_for_selector("div.vis-network canvas", timeout=30_000)
        frames.append(frame)
    return frames


def _colour_count(frame: Frame, colour: str) -> int:
    """Pixels of ``colour`` on the graph, once there are more than 20 (or however many after 30 s)."""
    return int(poll(frame, _COUNT_COLOUR_JS, "(count) => count > 20", arg=colour, timeout=30_000))


def _screenshot(page: Page, path: Path) -> None:
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height) + 40})
    wait_still(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_compare_revisions_and_download_the_html_report(
    page: Page, review_url: str, screenshot_dir: Path, tmp_path: Path
) -> None:
    map_id = _seed_two_revisions()
    page.goto(review_url)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()
    _choose(page, "Map to review", f"{MAP_NAME} (#{map_id}, 2 revisions)")

    # Defaults compare revision 1 (older) with revision 2 (newer).
    expect(page.get_by_role("combobox", name="Older revision")).to_have_value(re.compile(r"^Revision 1: Ana"))
    expect(page.get_by_role("combobox", name="Newer revision")).to_have_value(re.compile(r"^Revision 2: Bo"))
    expect(page.get_by_text("1 touchpoint added: Chat help.")).to_be_visible()
    expect(page.get_by_text("1 touchpoint removed: Curbside hand-over.")).to_be_visible()
    expect(page.get_by_text("is no longer a silo handoff (carry none → full)", exact=False)).to_be_visible()
    silo_metric = page.locator('[data-testid="stMetric"]', has_text="Silo handoffs")
    expect(silo_metric.locator('[data-testid="stMetricValue"]')).to_have_text("1")
    expect(silo_metric.locator('[data-testid="stMetricDelta"]')).to_contain_text("-1")

    # Both graphs drawn, with the differences in their colours.
    # (Removed parts are red, like the warning borders and silo handoffs of both maps; green and amber are not.)
    old_frame, new_frame = _graph_frames(page)
    assert _colour_count(new_frame, ADDED_COLOR) > 20, "added chat help not drawn green on the newer graph"
    assert _colour_count(old_frame, CHANGED_COLOR) > 20, "changed pick-up desk not amber on the older graph"
    # The older graph is drawn (its amber is there): none of it is green.
    assert int(old_frame.evaluate(_COUNT_COLOUR_JS, ADDED_COLOR)) == 0, "nothing is added on the older graph"
    assert _colour_count(new_frame, CHANGED_COLOR) > 20, "changed pick-up desk not amber on the newer graph"

    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download HTML report").click()
    download = download_info.value
    assert download.suggested_filename == f"review-in-the-browser-b-r{2}.html"
    saved = tmp_path / "report.html"
    download.save_as(saved)
    report = saved.read_text(encoding="utf-8")
    assert f"<h1>{html.escape(MAP_NAME)}</h1>" in report
    assert "Revision 2 by Bo" in report and "Chat help" in report
    wait_idle(page)
    _screenshot(page, screenshot_dir / "review.png")
