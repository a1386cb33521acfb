"""PNG export hands the configured browser to kaleido as an argument and leaves the environment alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from journeymap import report
from tests.fixtures import bopis_map


def test_the_browser_goes_to_kaleido_as_an_argument(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    browser = tmp_path / "my-chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BROWSER_PATH", str(browser))
    before = dict(os.environ)
    seen: dict[str, Any] = {}

    def write(specs: list[dict[str, Any]], *, kopts: dict[str, Any]) -> None:
        seen["kopts"], seen["environ"] = kopts, dict(os.environ)
        seen["opts"] = [spec["opts"] for spec in specs]
        for spec in specs:
            Path(spec["path"]).write_bytes(b"PNG")

    monkeypatch.setattr(report.kaleido, "write_fig_from_object_sync", write)
    assert report.render_png_graph(bopis_map(), scale=1.0) == b"PNG"
    assert seen["kopts"] == {"path": str(browser)}
    assert seen["environ"] == before == dict(os.environ)
    assert seen["opts"][0]["format"] == "png" and seen["opts"][0]["scale"] == 1.0
