"""Signing in survives a browser refresh and a new tab; signing out ends it everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from journeymap.access import Role
from journeymap.store import init_db, make_engine, session_scope
from journeymap.store.access import SignInSession, create_user
from journeymap.ui.access import SIGNED_OUT_NOTE
from tests.browser.server import serve

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
HAS_SIGN_IN_COOKIE = "document.cookie.split('; ').some(c => c.startsWith('journeymap_sign_in='))"


@pytest.fixture(scope="module")
def accounts_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server on its own database, which has accounts (so it is not in open local mode)."""
    db = tmp_path_factory.mktemp("sign-in") / "journeymap.db"
    engine = make_engine(f"sqlite:///{db}")
    init_db(engine)
    with session_scope(engine) as session:
        create_user(session=session, username="ana", password="correct horse", display_name="Ana")  # the owner
        create_user(session=session, username="bo", password="battery staple", display_name="Bo", role=Role.VIEWER)
    with serve(db) as server:
        yield server.url, db


def test_sign_in_survives_refresh_and_new_tab_until_sign_out(browser: Browser, accounts_url: tuple[str, Path]) -> None:
    url, db = accounts_url
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/maps")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(SIGNED_OUT_NOTE)).to_be_visible(timeout=TIMEOUT_MS)
    sidebar.get_by_test_id("stExpander").locator("summary").click()
    sidebar.get_by_role("textbox", name="Username").fill("ana")
    sidebar.get_by_role("textbox", name="Password").fill("correct horse")
    sidebar.get_by_role("button", name="Sign in").click()
    expect(sidebar.get_by_text("Signed in as Ana (owner).")).to_be_visible(timeout=TIMEOUT_MS)
    # The cookie is written by a component once the page has drawn.
    page.wait_for_function(HAS_SIGN_IN_COOKIE, timeout=TIMEOUT_MS)
    assert any(c["name"] == "journeymap_sign_in" for c in context.cookies())

    page.reload()
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as Ana (owner).")).to_be_visible(timeout=TIMEOUT_MS)
    second = context.new_page()
    second.goto(f"{url}/maps")
    expect(second.get_by_test_id("stSidebar").get_by_text("Signed in as Ana (owner).")).to_be_visible(
        timeout=TIMEOUT_MS
    )

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("stSidebar").get_by_text(SIGNED_OUT_NOTE)).to_be_visible(timeout=TIMEOUT_MS)
    # Signing out clears the cookie the same way, once the page has drawn.
    page.wait_for_function(f"!({HAS_SIGN_IN_COOKIE})", timeout=TIMEOUT_MS)
    assert not any(c["name"] == "journeymap_sign_in" for c in context.cookies())
    page.reload()
    expect(page.get_by_test_id("stSidebar").get_by_text(SIGNED_OUT_NOTE)).to_be_visible(timeout=TIMEOUT_MS)
    # The other tab's token was the same sign-in: it is ended in the database, so a new tab is signed out too.
    third = context.new_page()
    third.goto(f"{url}/maps")
    expect(third.get_by_test_id("stSidebar").get_by_text(SIGNED_OUT_NOTE)).to_be_visible(timeout=TIMEOUT_MS)
    engine = make_engine(f"sqlite:///{db}")
    with session_scope(engine) as session:
        ended = [row.ended_at is not None for row in session.exec(select(SignInSession)).all()]
    assert ended == [True]
    context.close()
