"""The open map, shared by the pages: their map pickers preselect it, and the sidebar names the map a page shows.

Two saved maps: "Linear" saved first, then the BOPIS map, so the BOPIS map is listed first (most recently
changed) and "Linear" is the one a picker only shows when it follows the open map. The app runs in open
local mode (no account yet), so everyone may facilitate and share.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.store import create_map, init_db, session_scope
from journeymap.ui.state import OverlayKeys, ReviewKeys
from journeymap.ui.text import md
from tests.fixtures import bopis_map, linear_journey

MakeApp = Callable[..., AppTest]
NO_MAP = "No map open yet."


@pytest.fixture
def two_maps(engine: Engine) -> tuple[int, int]:
    """The ids of "Linear" (saved first, listed second) and the BOPIS map (listed first)."""
    init_db(engine)
    with session_scope(engine) as session:
        linear = create_map(session=session, journey_map=linear_journey(), author="Ana").map_id
        bopis = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    return linear, bopis


def _open_in_editor(make_app: MakeApp, map_id: int) -> AppTest:
    """The whole app, with ``map_id`` opened in the editor the way a link to it opens it."""
    at = make_app("app.py")
    at.query_params["map"] = str(map_id)
    at.switch_page("views/editor.py").run()
    assert not at.exception, at.exception
    assert at.main.subheader[0].value == md(linear_journey().name)
    return at


def _sidebar_map(at: AppTest) -> tuple[list[str], list[str]]:
    """What the sidebar's "Current map" section says: its text lines and its captions."""
    return [t.value for t in at.sidebar.text], [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize(
    ("page", "picker"),
    [
        ("views/workshop.py", ReviewKeys.WS_MAP),
        ("views/view.py", ReviewKeys.REVIEW_MAP),
        ("views/review.py", ReviewKeys.PICK_MAP),
    ],
)
def test_a_page_with_a_map_picker_preselects_the_map_open_in_the_editor(
    make_app: MakeApp, two_maps: tuple[int, int], page: str, picker: str
) -> None:
    linear, _ = two_maps
    at = _open_in_editor(make_app, linear)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.selectbox(key=picker).value == linear


def test_the_shared_map_page_shows_the_open_map_read_only(make_app: MakeApp, two_maps: tuple[int, int]) -> None:
    linear, _ = two_maps
    at = _open_in_editor(make_app, linear)
    at.switch_page("views/view.py").run()
    touchpoints = next(df.value for df in at.dataframe if list(df.value.columns)[:1] == ["Touchpoint"])
    assert touchpoints["Touchpoint"].tolist() == [tp.name for tp in linear_journey().touchpoints]


def test_the_review_page_names_the_map_it_shows_in_the_sidebar(make_app: MakeApp, two_maps: tuple[int, int]) -> None:
    linear, bopis = two_maps
    at = make_app("app.py")
    at.switch_page("views/review.py").run()  # nothing open: the first map listed
    assert not at.exception, at.exception
    assert _sidebar_map(at)[0] == [bopis_map().name]
    assert "8 touchpoints · 9 transitions" in _sidebar_map(at)[1]
    at.selectbox(key=ReviewKeys.PICK_MAP).set_value(linear).run()
    texts, captions = _sidebar_map(at)
    assert texts == [linear_journey().name] and NO_MAP not in captions
    assert f"{len(linear_journey().touchpoints)} touchpoints · {len(linear_journey().transitions)} transitions" in (
        captions
    )


def test_the_review_page_names_its_own_pick_even_with_another_map_open(
    make_app: MakeApp, two_maps: tuple[int, int]
) -> None:
    linear, bopis = two_maps
    at = _open_in_editor(make_app, linear)
    at.switch_page("views/review.py").run()
    at.selectbox(key=ReviewKeys.PICK_MAP).set_value(bopis).run()
    assert _sidebar_map(at)[0] == [bopis_map().name]


def test_the_overlay_page_names_the_map_picked_there_in_the_sidebar(
    make_app: MakeApp, two_maps: tuple[int, int]
) -> None:
    linear, _ = two_maps
    at = make_app("app.py")
    at.switch_page("views/overlay.py").run()
    assert not at.exception, at.exception
    at.selectbox(key=OverlayKeys.MAP_CHOICE).set_value(linear).run()
    assert not at.exception, at.exception
    texts, captions = _sidebar_map(at)
    assert texts == [linear_journey().name] and NO_MAP not in captions
