"""The maps page and the app shell under AppTest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.demo import DEMO_AUTHOR
from journeymap.model import map_to_json
from journeymap.store import list_maps, session_scope
from journeymap.templates import list_templates
from journeymap.ui.state import StateKeys
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]


@pytest.mark.parametrize(
    ("page", "title"),
    [("app.py", "Map editor"), ("pages/editor.py", "Map editor"), ("pages/maps.py", "Maps")],
)
def test_every_page_runs_and_shows_its_title(make_app: MakeApp, page: str, title: str) -> None:
    at = make_app(page).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [title]


def test_demo_workspace_is_seeded_once(make_app: MakeApp, engine: Engine) -> None:
    make_app("pages/maps.py").run()
    make_app("pages/maps.py").run()
    with session_scope(engine) as session:
        maps = list_maps(session=session)
    assert sorted(m.name for m in maps) == sorted(info.name for info in list_templates())
    assert {m.owner for m in maps} == {DEMO_AUTHOR}


def test_maps_table_lists_and_searches(make_app: MakeApp, frame: Callable[..., Any]) -> None:
    at = make_app("pages/maps.py").run()
    table = frame(at, "Name", "Owner")
    assert list(table.columns) == ["Name", "Owner", "Last change", "Revisions", "Touchpoints", "Silo handoffs"]
    retail = next(info for info in list_templates() if info.id == "retail-bopis")
    row = table[table["Name"] == retail.name].iloc[0]
    assert (row["Owner"], row["Revisions"], row["Touchpoints"]) == (DEMO_AUTHOR, 1, retail.touchpoints)
    at.text_input(key=StateKeys.MAPS_SEARCH).set_value("RETAIL").run()
    assert frame(at, "Name", "Owner")["Name"].tolist() == [retail.name]
    at.text_input(key=StateKeys.MAPS_SEARCH).set_value("no such map").run()
    assert frame(at, "Name", "Owner").empty
    assert at.info[0].value == "No saved map matches that name."


def test_template_picker_shows_description_and_counts(make_app: MakeApp) -> None:
    at = make_app("pages/maps.py").run()
    info = next(t for t in list_templates() if t.id == "telecom-support")
    at.selectbox(key=StateKeys.MAPS_TEMPLATE).set_value(info.id).run()
    assert info.description in [t.value for t in at.text]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Touchpoints": str(info.touchpoints),
        "Channels": str(info.channels),
        "Transitions": str(info.transitions),
    }


def test_create_from_template_opens_it_in_the_editor(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("pages/maps.py").run()
    at.selectbox(key=StateKeys.MAPS_TEMPLATE).set_value("saas-subscription")
    at.text_input(key=StateKeys.MAPS_TEMPLATE_NAME).set_value("Our SaaS journey")
    at.button(key=StateKeys.MAPS_TEMPLATE_SUBMIT).click().run()
    assert not at.exception
    assert at.title[0].value == "Map editor"
    assert at.subheader[0].value == "Our SaaS journey"
    with session_scope(engine) as session:
        names = [m.name for m in list_maps(session=session)]
    assert names.count("Our SaaS journey") == 1
    assert len(names) == len(list_templates()) + 1


def test_create_from_scratch_needs_a_name(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("pages/maps.py").run()
    at.button(key=StateKeys.MAPS_NEW_SUBMIT).click().run()
    assert at.error[0].value == "Map name: enter a name for the new map."
    at.text_input(key=StateKeys.MAPS_NEW_NAME).set_value("Workshop map")
    at.button(key=StateKeys.MAPS_NEW_SUBMIT).click().run()
    assert not at.exception
    assert at.subheader[0].value == "Workshop map"
    assert {m.label: m.value for m in at.metric}["Stages"] == "5"
    assert {m.label: m.value for m in at.metric}["Touchpoints"] == "0"


def test_import_a_map_file(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("pages/maps.py").run()
    at.file_uploader(key=StateKeys.MAPS_IMPORT_FILE).set_value(
        ("bopis.json", map_to_json(bopis_map()).encode(), "application/json")
    )
    at.run()
    at.button(key=StateKeys.MAPS_IMPORT_SUBMIT).click().run()
    assert not at.exception
    assert at.title[0].value == "Map editor"
    assert {m.label: m.value for m in at.metric}["Touchpoints"] == "8"


def test_import_of_a_foreign_file_writes_nothing(make_app: MakeApp, engine: Engine) -> None:
    at = make_app("pages/maps.py").run()
    with session_scope(engine) as session:
        before = len(list_maps(session=session))
    document = json.loads(map_to_json(bopis_map()))
    document["touchpoints"][0]["emotion"] = 7
    at.file_uploader(key=StateKeys.MAPS_IMPORT_FILE).set_value(
        ("theirs.json", json.dumps(document).encode(), "application/json")
    )
    at.run()
    at.button(key=StateKeys.MAPS_IMPORT_SUBMIT).click().run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "")
    assert message.startswith("theirs.json, field 'touchpoints.0.emotion': Input should be less than or equal to 2")
    with session_scope(engine) as session:
        assert len(list_maps(session=session)) == before


def test_open_a_saved_map(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("pages/maps.py").run()
    info = next(t for t in list_templates() if t.id == "travel-hotel")
    with session_scope(engine) as session:
        travel = next(m for m in list_maps(session=session) if m.name == info.name)
    at.selectbox(key=StateKeys.MAPS_OPEN_CHOICE).set_value(travel.id)
    at.button(key=StateKeys.MAPS_OPEN_SUBMIT).click().run()
    assert not at.exception
    assert at.title[0].value == "Map editor"
    assert at.subheader[0].value.replace("\\", "") == info.name
    assert at.query_params["map"] == [str(travel.id)] or at.query_params["map"] == str(travel.id)
