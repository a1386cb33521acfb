"""A real Streamlit server on a fresh database, driven by Debian's Chromium through Playwright.

The browser is never downloaded: it is ``/usr/bin/chromium``. Without it the tests skip, except
in CI (``CI=true``), where a missing browser fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, ROOT, serve

SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if str(item.fspath).startswith(str(Path(__file__).parent)):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium package to run browser tests")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium, offline-friendly, instead of a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def server_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite file the test server uses (tests may seed maps into it)."""
    return tmp_path_factory.mktemp("browser-db") / "journeymap.db"


@pytest.fixture(scope="session")
def app_url(server_db: Path) -> Iterator[str]:
    """URL of a Streamlit server running ``app.py`` on a fresh, seeded database."""
    with serve(server_db) as server:
        yield server.url


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def _seed_into_server_db(server_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``journeymap.store.make_engine()`` in a test opens the server's database."""
    monkeypatch.setenv("JOURNEYMAP_DB", str(server_db))
