"""Bad input on the pages: one ``st.error`` naming the file, the line and what to do; no exception, nothing saved.

The messages are the ones the CLI prints (``tests/unit/test_bad_input.py``): the pages and the
command line read through the same functions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from journeymap.store import create_map, init_db, list_datasets, list_maps, list_revisions, session_scope
from journeymap.ui.state import OverlayKeys, QueryParams, StateKeys
from journeymap.ui.text import md
from tests.fixtures import bopis_map, linear_journey
from tests.unit.test_bad_input import BAD_FILES

MakeApp = Callable[..., AppTest]
DEEP = ("[" * 100_000).encode()
TOO_DEEP = "line 1, column 65: is nested more than 64 levels deep, which no Journeymap document is."


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_maps_page_refuses_a_deep_map_file(make_app: MakeApp, engine: Engine) -> None:
    at = make_app("views/maps.py").run()
    with session_scope(engine) as session:
        before = len(list_maps(session=session))
    at.file_uploader(key=StateKeys.MAPS_IMPORT_FILE).set_value(("deep.json", DEEP, "application/json"))
    at.run()
    at.button(key=StateKeys.MAPS_IMPORT_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert _errors(at) == [md(f"deep.json, {TOO_DEEP} Export the map again from Journeymap, or fix the JSON syntax.")]
    with session_scope(engine) as session:
        assert len(list_maps(session=session)) == before


def test_editor_refuses_a_deep_map_file_and_keeps_the_revision(make_app: MakeApp, engine: Engine) -> None:
    init_db(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana", message="fixture").map_id
    at = make_app("views/editor.py")
    at.query_params[QueryParams.MAP] = str(map_id)
    at.run()
    at.file_uploader(key=StateKeys.IMPORT_FILE).set_value(("deep.json", DEEP, "application/json"))
    at.run()
    at.button(key=StateKeys.IMPORT_SUBMIT).click().run()
    assert not at.exception, at.exception
    expected = md(f"deep.json, {TOO_DEEP} Export the map again from Journeymap, or fix the JSON syntax.")
    assert expected in _errors(at)
    with session_scope(engine) as session:
        assert len(list_revisions(session=session, map_id=map_id)) == 1


def test_maturity_page_refuses_a_deep_assessment_and_a_deep_framework(make_app: MakeApp, engine: Engine) -> None:
    at = make_app("views/maturity.py")
    at.run()
    assert not at.exception, at.exception

    at.file_uploader(key="jm_maturity_import_file").set_value(("deep.json", DEEP, "application/json"))
    at.run()
    at.button(key="jm_maturity_import_submit").click().run()
    assert not at.exception, at.exception
    assert _errors(at) == [md(f"deep.json, {TOO_DEEP} Export the assessment again from Journeymap.")]

    at.text_area(key="jm_maturity_framework_text").input(DEEP.decode())
    at.button(key="jm_maturity_framework_submit").click().run()
    assert not at.exception, at.exception
    assert _errors(at) == [md(f"framework document, {TOO_DEEP} Fix the JSON syntax.")]


# --- the overlay page: event files ---------------------------------------------------------------------------


@pytest.fixture
def map_id(engine: Engine) -> int:
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=linear_journey(), author="Test").map_id


def _read_on_the_page(make_app: MakeApp, map_id: int, path: Path) -> AppTest:
    """The overlay page after 'Read this file' on a server-side path."""
    at = make_app("views/overlay.py")
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click()
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_overlay_page_names_the_bad_line_as_the_cli_does(
    make_app: MakeApp, map_id: int, engine: Engine, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    at = _read_on_the_page(make_app, map_id, path)
    assert _errors(at) == [md(expected)]
    with session_scope(engine) as session:
        assert list_datasets(session=session) == []


def test_overlay_page_shows_the_form_when_no_column_can_be_guessed(
    make_app: MakeApp, map_id: int, tmp_path: Path
) -> None:
    """Nothing in the file looks like an identifier or a time: no dead end, the form waits for a choice."""
    path = tmp_path / "export.csv"
    path.write_text("x,y\n1,2\n")
    at = _read_on_the_page(make_app, map_id, path)
    assert _errors(at) == []
    assert not at.exception
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith("Not found: no column is named as an identifier") for c in captions), captions
    assert [b.disabled for b in at.button if str(b.key).startswith(OverlayKeys.M_APPLY)] == [True]


# --- CSV downloads ---------------------------------------------------------------------------------------------

INJECTED = '=HYPERLINK("http://evil.example","Click")'


@pytest.fixture
def csv_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes of every CSV the page offers for download, by file name."""
    caught: dict[str, bytes] = {}
    original = MediaFileManager.add

    def add(self: MediaFileManager, path_or_data: bytes | str, mimetype: str, *args: Any, **kwargs: Any) -> str:
        file_name = kwargs.get("file_name", args[1] if len(args) > 1 else None)
        if mimetype == "text/csv" and isinstance(path_or_data, bytes):
            caught[str(file_name)] = path_or_data
        return original(self, path_or_data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return caught


def test_overlay_page_csv_downloads_quote_formula_labels(
    make_app: MakeApp, map_id: int, tmp_path: Path, csv_downloads: dict[str, bytes]
) -> None:
    # Customer c1 moves from the web to a channel whose raw label is a formula, and back.
    quoted = '"' + INJECTED.replace('"', '""') + '"'
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id,timestamp,channel,activity\n"
        "c1,2024-05-01T09:00:00Z,web,landing\n"
        f"c1,2024-05-01T09:10:00Z,{quoted},cart\n"
        "c1,2024-05-01T09:20:00Z,web,confirmation\n"
    )
    at = _read_on_the_page(make_app, map_id, path)
    assert not at.error, _errors(at)
    [apply] = [b for b in at.button if b.key and b.key.startswith(OverlayKeys.M_APPLY)]
    apply.click().run()
    assert not at.exception, at.exception
    text = csv_downloads["channel_switches.csv"].decode()
    assert "'" + INJECTED.replace('"', '""') in text
    rows = list(csv.reader(io.StringIO(text)))
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "@"))], rows
