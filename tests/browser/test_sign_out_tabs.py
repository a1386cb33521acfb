"""In a real browser: signing out in one tab ends the sign-in of every open tab, and open local mode
stays on the server's own machine.

Every wait is on a condition (a text, a cookie), never a fixed sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from journeymap.demo import seed_demo
from journeymap.store import create_map, init_db, make_engine, session_scope
from journeymap.store.access import create_user
from journeymap.ui.access import SIGNED_OUT_NOTE
from tests.browser.server import serve
from tests.fixtures import bopis_map

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
SIGNED_IN = "Signed in as Ana (owner)."


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A server on its own database with an editor account and a map: ``(url, map id)``."""
    db = tmp_path_factory.mktemp("sign-out-tabs") / "journeymap.db"
    engine = make_engine(f"sqlite:///{db}")
    init_db(engine)
    with session_scope(engine) as session:
        seed_demo(session)
        create_user(session=session, username="ana", password="correct horse", display_name="Ana")
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    engine.dispose()
    with serve(db) as server:
        yield server.url, map_id


def _sidebar_text(page: Page, text: str) -> None:
    expect(page.get_by_test_id("stSidebar").get_by_text(text)).to_be_visible(timeout=TIMEOUT_MS)


def test_signing_out_in_one_tab_makes_the_other_read_only_at_its_next_interaction(
    browser: Browser, accounts_server: tuple[str, int], screenshot_dir: Path
) -> None:
    url, map_id = accounts_server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        first = context.new_page()
        first.goto(f"{url}/maps")
        _sidebar_text(first, SIGNED_OUT_NOTE)
        sidebar = first.get_by_test_id("stSidebar")
        sidebar.get_by_test_id("stExpander").locator("summary").click()
        sidebar.get_by_role("textbox", name="Username").fill("ana")
        sidebar.get_by_role("textbox", name="Password").fill("correct horse")
        sidebar.get_by_role("button", name="Sign in").click()
        _sidebar_text(first, SIGNED_IN)
        # The sign-in cookie is written by a component once the page has drawn.
        first.wait_for_function("document.cookie.includes('journeymap_sign_in=')", timeout=TIMEOUT_MS)

        # The second tab opens the editor on the map, signed in from the cookie.
        second = context.new_page()
        second.goto(f"{url}/editor?map={map_id}")
        _sidebar_text(second, SIGNED_IN)
        save = second.get_by_role("button", name="Save revision")
        expect(save).to_be_visible(timeout=TIMEOUT_MS)

        first.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        _sidebar_text(first, SIGNED_OUT_NOTE)

        # The second tab has not rerun yet; its next interaction (a layout change) finds the sign-in ended.
        second.get_by_text("Stages as columns, one lane per channel").click()
        _sidebar_text(second, "You were signed out (in another tab, or your sign-in expired)")
        _sidebar_text(second, SIGNED_OUT_NOTE)
        expect(second.get_by_text("Sign in with an editor account to change maps.")).to_be_visible(timeout=TIMEOUT_MS)
        expect(second.get_by_role("button", name="Save revision")).to_have_count(0)
        second.screenshot(path=str(screenshot_dir / "sign-out-second-tab.png"))
    finally:
        context.close()
