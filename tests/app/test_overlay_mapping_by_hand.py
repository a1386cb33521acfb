"""The mapping step never dead-ends: a field the guess cannot fill is shown empty, with the reason, and the
user finishes the mapping by hand.

``seen.csv`` writes its times as ``12-Mar-2024 09:15`` under a column named ``seen``: neither the name nor
the values read as a time, so the guess leaves the event time empty. Customer ``c1`` browses, asks in chat,
calls; ``c2`` browses and asks; ``c3`` browses. Once the user picks ``seen`` and its format
``%d-%b-%Y %H:%M``: 3 customers, 3 journeys (all on one day), 6 events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.store import create_map, init_db, list_datasets, session_scope
from journeymap.ui.state import OverlayKeys
from tests.app.test_overlay_page import _by_key_prefix as _one
from tests.app.test_overlay_page import support_map

PAGE = "views/overlay.py"


@pytest.fixture(autouse=True)
def _files_in_tmp_path_are_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "File on the server" reads only under the data roots: the test's own folder is one."""
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(tmp_path))


SEEN = """customer_id,seen,channel,activity
c1,12-Mar-2024 09:15,web,browse
c1,12-Mar-2024 09:20,chat,ask
c1,12-Mar-2024 09:40,phone,call
c2,12-Mar-2024 10:00,web,browse
c2,12-Mar-2024 10:05,chat,ask
c3,12-Mar-2024 11:00,web,browse
"""


@pytest.fixture
def map_id(engine: Engine) -> int:
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=support_map(), author="Test").map_id


def _read(make_app: Callable[..., AppTest], map_id: int, path: Path) -> AppTest:
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click().run()
    assert not at.exception, at.exception
    return at


def test_no_time_found_shows_the_form_with_an_empty_time_and_a_hint_then_finishes_by_hand(
    make_app: Callable[..., AppTest], map_id: int, tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "seen.csv"
    path.write_text(SEEN, encoding="utf-8")
    at = _read(make_app, map_id, path)

    # The form is there, with no error: the guessed fields filled, the time empty.
    assert not at.error, [e.value for e in at.error]
    assert _one(at.multiselect, OverlayKeys.M_CUSTOMER).value == ["customer_id"]
    assert _one(at.selectbox, OverlayKeys.M_TIME).value is None
    assert _one(at.selectbox, OverlayKeys.M_TOUCHPOINT).value == "activity"
    assert _one(at.selectbox, OverlayKeys.M_CHANNEL).value == "channel"
    captions = [c.value.replace("\\", "") for c in at.caption]
    hints = [c for c in captions if c.startswith("Not found: no column reads as dates or times")]
    assert len(hints) == 1 and hints[0].endswith("choose the event time column, and its format.")
    assert "Guessed (high confidence): named like an activity ('activity'), 3 distinct values in 6 rows." in captions
    apply = _one(at.button, OverlayKeys.M_APPLY)
    assert apply.disabled
    assert "Choose the event time to compute the overlay." in captions

    # By hand: the time column and its format.
    _one(at.selectbox, OverlayKeys.M_TIME).select("seen").run()
    _one(at.text_input, OverlayKeys.M_PREFIX + "time_format").input("%d-%b-%Y %H:%M").run()
    apply = _one(at.button, OverlayKeys.M_APPLY)
    assert not apply.disabled
    apply.click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

    kpis = {m.label: m.value for m in at.metric}
    assert (kpis["Customers"], kpis["Journeys"]) == ("3", "3")
    with session_scope(engine) as session:
        datasets = list_datasets(session=session)
    assert [(d.name, d.rows, d.customers) for d in datasets] == [("seen.csv", 6, 3)]


def test_no_identifier_found_still_shows_the_form(
    make_app: Callable[..., AppTest], map_id: int, tmp_path: Path
) -> None:
    """No column is named as an identifier: the customer field is empty with its reason; choosing one finishes."""
    path = tmp_path / "who.csv"
    path.write_text(SEEN.replace("customer_id", "who").replace("seen", "timestamp"), encoding="utf-8")
    path.write_text(path.read_text().replace("12-Mar-2024 ", "2024-03-12 "), encoding="utf-8")
    at = _read(make_app, map_id, path)
    assert not at.error, [e.value for e in at.error]
    assert _one(at.multiselect, OverlayKeys.M_CUSTOMER).value == []
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith("Not found: no column is named as an identifier") for c in captions)
    assert _one(at.button, OverlayKeys.M_APPLY).disabled
    _one(at.multiselect, OverlayKeys.M_CUSTOMER).select("who").run()
    _one(at.button, OverlayKeys.M_APPLY).click().run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Customers"] == "3"
