"""Each vendored real log reaches an overlay in a real browser with the guessed mapping, no column renamed.

One server for all four (the session's ``app_url``). Three logs go through "File on the server", the complaints
CSV through an upload. The test waits on what the page shows (the mapping step's heading, the guessed values,
an enabled button, the friction board), never on a fixed delay. It does not save the mappings, so no later test
meets a saved mapping instead of the guess.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_overlay_page import TIMEOUT_MS
from tests.browser.waits import rerun, wait_idle, wait_still

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
SHOT = "mapping_guess_bpic2012.png"

# file: (how it is read, event time, activity, team, customers shown once overlaid)
LOGS = {
    "helpdesk.xes.gz": ("path", "time:timestamp", "concept:name", "workgroup", "4,580"),
    "receipt.parquet": ("path", "time:timestamp", "concept:name", "org:group", "1,434"),
    "bpic2012.xes.gz": ("path", "time:timestamp", "concept:name", "org:resource", "13,087"),
    "BPI2016_Complaints.csv": ("upload", "ContactDate", "ComplaintTopic_EN", "(none)", "226"),
}


@pytest.mark.parametrize("file", list(LOGS))
def test_a_real_log_reaches_the_overlay_with_the_guessed_mapping(
    page: Page, app_url: str, screenshot_dir: Path, file: str
) -> None:
    route, time_column, activity, team, customers = LOGS[file]
    path = REAL / file
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/overlay")
    expect(page.get_by_role("heading", name="Overlay", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    if route == "path":
        page.get_by_role("tab", name="File on the server").click()
        page.get_by_label("Path of an event file on the server").fill(str(path))
        page.get_by_role("button", name="Read this file").click()
    else:
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        read = page.get_by_role("button", name="Read the uploaded file")
        expect(read).to_be_enabled(timeout=TIMEOUT_MS)
        read.click()
    expect(page.get_by_text(f"2 · Map the columns of {file}")).to_be_visible(timeout=TIMEOUT_MS)

    # The guessed fields, each with its reason (or the saved mapping a user made for these columns).
    expect(page.get_by_role("combobox", name="Event time")).to_have_value(time_column, timeout=TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Activity / touchpoint")).to_have_value(activity)
    expect(page.get_by_role("combobox", name="Resource / owner team")).to_have_value(team)
    told = page.get_by_text(re.compile(r"^(Guessed \((high|medium|low) confidence\)|Using the saved mapping)"))
    expect(told.first).to_be_visible()
    if file == "bpic2012.xes.gz":
        template = page.get_by_role("textbox", name="Touchpoint label (template)")
        expect(template).to_have_value("{event} · {lifecycle:transition}")
        expect(page.get_by_text(re.compile(r"classifier is concept:name \+ lifecycle:transition"))).to_be_visible()
    save_as = page.get_by_role("textbox", name="Save this mapping as (reused for the next file with the same columns)")
    save_as.fill("")
    with rerun(page, TIMEOUT_MS):
        save_as.press("Enter")
    expect(save_as).to_have_value("")
    apply = page.get_by_role("button", name="Apply and compute the overlay")
    expect(apply).to_be_enabled(timeout=TIMEOUT_MS)
    if file == "bpic2012.xes.gz":
        height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": 1400, "height": int(height)})
        page.mouse.move(5, 5)
        wait_idle(page, TIMEOUT_MS)
        wait_still(page)
        page.screenshot(path=str(screenshot_dir / SHOT), full_page=True)
    apply.click()

    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stMetric").filter(has_text="Customers")).to_contain_text(customers, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stAlert").filter(has_text="error")).to_have_count(0)


# Renamed exports (see tests/unit/events/test_guess_real_exports.py): the guess must find the case, the time,
# the activity (not its row id) and the team under names it was never told.
RENAMED = {
    "receipt-ticket_no.csv": ("receipt", 0, "logged", "concept:name", "queue_name", "1,434"),
    "helpdesk-claim_ref.parquet": ("helpdesk-workgroup", 1, "moment", "concept:name", "handling_unit", "4,580"),
}


@pytest.mark.parametrize("file", list(RENAMED))
def test_a_renamed_real_export_reaches_the_overlay_with_the_guessed_mapping(
    page: Page, app_url: str, tmp_path: Path, file: str
) -> None:
    from tests.unit.events.test_guess_real_exports import VARIANTS, renamed

    name, variant, time_column, activity, team, customers = RENAMED[file]
    frame, _log = renamed(name, VARIANTS[variant])
    path = tmp_path / file
    if file.endswith(".csv"):
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{app_url}/overlay")
    expect(page.get_by_role("heading", name="Overlay", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="File on the server").click()
    page.get_by_label("Path of an event file on the server").fill(str(path))
    page.get_by_role("button", name="Read this file").click()
    expect(page.get_by_text(f"2 · Map the columns of {file}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Event time")).to_have_value(time_column, timeout=TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Activity / touchpoint")).to_have_value(activity)
    expect(page.get_by_role("combobox", name="Resource / owner team")).to_have_value(team)
    apply = page.get_by_role("button", name="Apply and compute the overlay")
    expect(apply).to_be_enabled(timeout=TIMEOUT_MS)
    apply.click()
    expect(page.get_by_role("heading", name="Friction board")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stMetric").filter(has_text="Customers")).to_contain_text(customers, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stAlert").filter(has_text="error")).to_have_count(0)
