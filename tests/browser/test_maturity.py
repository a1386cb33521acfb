"""The maturity page in a real browser: answer, save, reload, compare two assessments, and look at it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from journeymap.ui.access import LOCAL_USER
from tests.browser.waits import rerun, wait_idle, wait_still

pytestmark = pytest.mark.browser

ANSWER_FORM = '[data-testid="stForm"]'


def _screenshot(page: Page, path: Path) -> None:
    # Streamlit scrolls inside stMain: grow the viewport to its height for a full-page picture.
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": int(height) + 40})
    wait_still(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def _type_option(page: Page, label: str, typed: str) -> Locator:
    """Open a selectbox or multiselect and type the start of an option, as a keyboard user would; return it
    once the list is narrowed to options starting with the typed text (Enter then takes the first)."""
    combo = page.get_by_role("combobox", name=label)
    combo.click()
    combo.press_sequentially(typed)
    expect(page.get_by_role("listbox").get_by_role("option").first).to_have_text(re.compile("^" + re.escape(typed)))
    return combo


def _pick(page: Page, label: str, typed: str) -> None:
    """Choose in a selectbox of the answer form (no rerun until the form is saved) by typing."""
    combo = _type_option(page, label, typed)
    combo.press("Enter")
    expect(combo).to_have_value(re.compile("^" + re.escape(typed)))


def _create(page: Page, name: str, unit: str) -> None:
    expander = page.get_by_text("New assessment", exact=True)
    if not page.get_by_label("Business unit", exact=True).is_visible():
        expander.click()
    page.get_by_label("Name", exact=True).first.fill(name)
    page.get_by_label("Business unit", exact=True).fill(unit)
    with rerun(page):
        page.get_by_role("button", name="Create assessment").click()
    expect(page.get_by_text(f"Created '{name} · {unit} · ", exact=False)).to_be_visible()


def _answer(page: Page, answers: dict[str, int]) -> None:
    page.get_by_role("tab", name="Answer").click()
    for question, level in answers.items():
        _pick(page, question, f"{level} · ")
    with rerun(page):
        page.get_by_role("button", name="Save my answers").click()


def test_answer_reload_and_compare(page: Page, app_url: str, screenshot_dir: Path) -> None:
    page.goto(f"{app_url}/maturity")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Omnichannel maturity")).to_be_visible()
    _create(page, "Browser review", "Retail")
    assert "assessment=" in page.url
    _answer(
        page,
        {
            "Is there one customer profile that every channel reads and writes?": 2,
            "Can a channel see what the customer did in the other channels, and how fresh is it?": 3,
            "Who is accountable when a customer's problem spans two channels?": 2,
        },
    )
    # The assessor is the person acting: on this machine, before any account exists, the local user.
    expect(page.get_by_text(f"Saved 3 answer(s) for {LOCAL_USER}.")).to_be_visible()

    # A refresh loses session state; the answers come from the database.
    page.reload()
    wait_idle(page)
    page.get_by_role("tab", name="Answer").click()
    profile = page.get_by_role("combobox", name="Is there one customer profile that every channel reads and writes?")
    expect(profile).to_have_value(re.compile(r"^2 · Multichannel \(silos\)"))

    page.get_by_role("tab", name="Scores").click()
    expect(page.get_by_text(f"1 assessor(s): {LOCAL_USER}.", exact=False)).to_be_visible()

    _create(page, "Browser review", "Online")
    _answer(
        page,
        {
            "Is there one customer profile that every channel reads and writes?": 4,
            "Who is accountable when a customer's problem spans two channels?": 4,
        },
    )
    page.get_by_role("tab", name="Compare").click()
    overlay = _type_option(
        page, "Assessments to overlay (business units, or the same unit over time)", "Browser review · Retail"
    )
    with rerun(page):
        overlay.press("Enter")
    page.keyboard.press("Escape")
    wait_idle(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').last
    expect(chart.get_by_text("Browser review · Retail", exact=False).first).to_be_attached()
    expect(chart.get_by_text("Browser review · Online", exact=False).first).to_be_attached()
    _screenshot(page, screenshot_dir / "maturity.png")
