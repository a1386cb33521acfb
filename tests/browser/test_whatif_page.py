"""The What if panel in a real browser: the demo data, one handoff picked, the prediction, the to-be map saved."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.waits import rerun, wait_still

TIMEOUT_MS = 120_000
BROWSE = "Browse in store → Associate checks stock"


def test_pick_a_handoff_see_the_prediction_and_save_the_to_be_map(
    page: Page, app_url: str, screenshot_dir: Path
) -> None:
    page.goto(f"{app_url}/overlay")
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("button", name="Use the demo dataset").click()
    expect(page.get_by_role("heading", name="What if")).to_be_visible(timeout=TIMEOUT_MS)
    ranking = page.get_by_test_id("stDataFrame").filter(has_text="Predicted gain")
    expect(ranking).to_be_visible(timeout=TIMEOUT_MS)

    picker = page.get_by_test_id("stMultiSelect").filter(has_text="Handoffs to fix")
    picker.scroll_into_view_if_needed()
    picker.locator("input").click()
    with rerun(page, TIMEOUT_MS):
        page.get_by_role("option", name=BROWSE, exact=True).click()
    page.keyboard.press("Escape")

    kpis = page.get_by_test_id("stDataFrame").filter(has_text="Change (95% interval)")
    expect(kpis).to_be_visible(timeout=TIMEOUT_MS)
    outcomes = page.get_by_test_id("stDataFrame").filter(has_text="Effect of keeping it")
    expect(outcomes).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Browse in store → Associate checks stock: 1,426 crossings"))).to_be_visible()
    expect(page.get_by_text("Assumptions of the journey graph re-run")).to_be_visible()

    save = page.get_by_role("button", name="Save as to-be map")
    save.scroll_into_view_if_needed()
    with rerun(page, TIMEOUT_MS):
        save.click()
    saved = page.get_by_text(re.compile(r"^Saved the to-be map as revision \d+: context carried in full across Browse"))
    expect(saved).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("link", name="Compare as is and to be on the Review page")).to_be_visible()
    # The overlay now reads the to-be revision, and the prediction stays on screen for the same choice.
    expect(kpis).to_be_visible(timeout=TIMEOUT_MS)

    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height)})
    page.mouse.move(5, 5)
    wait_still(page)
    page.screenshot(path=str(screenshot_dir / "whatif.png"), full_page=True)
