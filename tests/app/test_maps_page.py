"""The maps page and the app shell under AppTest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.demo import DEMO_AUTHOR
from journeymap.events.goals import default_settings
from journeymap.events.ingest import load_log
from journeymap.events.overlay import compute_overlay
from journeymap.maturity import Answer, load_builtin_framework
from journeymap.model import map_to_json
from journeymap.store import create_map, latest_revision, list_datasets, list_maps, session_scope
from journeymap.store.assessments import create_assessment, ensure_framework, save_answers
from journeymap.store.maps import count_silo_handoffs
from journeymap.store.reviews import (
    TargetKind,
    add_comment,
    add_opportunity,
    resolve_comment,
    update_opportunity,
)
from journeymap.templates import list_templates, load_template
from journeymap.ui.state import OverlayKeys, StateKeys
from tests.fixtures import bopis_map, linear_journey

MakeApp = Callable[..., AppTest]
BOPIS = bopis_map().name


@pytest.mark.parametrize(
    ("page", "title"),
    [("app.py", "Start here"), ("views/editor.py", "Map editor"), ("views/maps.py", "Maps"), ("views/team.py", "Team")],
)
def test_every_page_runs_and_shows_its_title(make_app: MakeApp, page: str, title: str) -> None:
    at = make_app(page).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [title]


def test_demo_workspace_is_seeded_once(make_app: MakeApp, engine: Engine) -> None:
    make_app("views/maps.py").run()
    make_app("views/maps.py").run()
    with session_scope(engine) as session:
        maps = list_maps(session=session)
    assert sorted(m.name for m in maps) == sorted(info.name for info in list_templates())
    assert {m.owner for m in maps} == {DEMO_AUTHOR}


def test_maps_table_lists_and_searches(make_app: MakeApp, frame: Callable[..., Any]) -> None:
    at = make_app("views/maps.py").run()
    table = frame(at, "Name", "Owner")
    assert list(table.columns) == [
        "Name",
        "Owner",
        "Last change",
        "Revisions",
        "Touchpoints",
        "Silo handoffs",
        "Open comments",
        "Open opportunities",
        "Friction headline",
    ]
    retail = next(info for info in list_templates() if info.id == "retail-bopis")
    row = table[table["Name"] == retail.name].iloc[0]
    assert (row["Owner"], row["Revisions"], row["Touchpoints"]) == (DEMO_AUTHOR, 1, retail.touchpoints)
    assert (row["Silo handoffs"], row["Open comments"], row["Open opportunities"], row["Friction headline"]) == (
        count_silo_handoffs(load_template("retail-bopis")),
        0,
        0,
        "—",  # no dataset registered for any map yet
    )
    at.text_input(key=StateKeys.MAPS_SEARCH).set_value("RETAIL").run()
    assert frame(at, "Name", "Owner")["Name"].tolist() == [retail.name]
    at.text_input(key=StateKeys.MAPS_SEARCH).set_value("no such map").run()
    assert frame(at, "Name", "Owner").empty
    assert at.info[0].value == "No saved map matches that name."


def test_template_picker_shows_description_and_counts(make_app: MakeApp) -> None:
    at = make_app("views/maps.py").run()
    info = next(t for t in list_templates() if t.id == "telecom-support")
    at.selectbox(key=StateKeys.MAPS_TEMPLATE).set_value(info.id).run()
    assert info.description in [t.value for t in at.text]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Maps": str(len(list_templates())),
        "Open comments": "0",
        "Open opportunities": "0",
        # The demo's follow-up assessment: medians 3, 3, 2, 3, 2.5, 3.5, 2.5, 2, 2.5 → mean 24 / 9.
        "Maturity (newest assessment)": "2.7 / 5",
        "Touchpoints": str(info.touchpoints),
        "Channels": str(info.channels),
        "Transitions": str(info.transitions),
    }


def test_create_from_template_opens_it_in_the_editor(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("views/maps.py").run()
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
    at.switch_page("views/maps.py").run()
    at.button(key=StateKeys.MAPS_NEW_SUBMIT).click().run()
    assert [e.value.replace("\\", "") for e in at.error] == ["Map name: enter a name for the new map."]
    with session_scope(engine) as session:
        assert len(list_maps(session=session)) == len(list_templates())
    at.text_input(key=StateKeys.MAPS_NEW_NAME).set_value("Workshop map")
    at.button(key=StateKeys.MAPS_NEW_SUBMIT).click().run()
    assert not at.exception
    assert at.subheader[0].value == "Workshop map"
    assert {m.label: m.value for m in at.metric}["Stages"] == "5"
    assert {m.label: m.value for m in at.metric}["Touchpoints"] == "0"


def test_a_map_name_over_200_characters_is_refused_before_saving(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("views/maps.py").run()
    at.text_input(key=StateKeys.MAPS_TEMPLATE_NAME).set_value("R" * 201)
    at.button(key=StateKeys.MAPS_TEMPLATE_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Maps"
    assert [e.value.replace("\\", "") for e in at.error] == [
        "save map, field 'name': String should have at most 200 characters. "
        "Nothing was saved: shorten or correct that field and save again."
    ]
    with session_scope(engine) as session:
        assert len(list_maps(session=session)) == len(list_templates())


def test_import_a_map_file(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.switch_page("views/maps.py").run()
    at.file_uploader(key=StateKeys.MAPS_IMPORT_FILE).set_value(
        ("bopis.json", map_to_json(bopis_map()).encode(), "application/json")
    )
    at.run()
    at.button(key=StateKeys.MAPS_IMPORT_SUBMIT).click().run()
    assert not at.exception
    assert at.title[0].value == "Map editor"
    assert {m.label: m.value for m in at.metric}["Touchpoints"] == "8"


def test_import_of_a_foreign_file_writes_nothing(make_app: MakeApp, engine: Engine) -> None:
    at = make_app("views/maps.py").run()
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
    at.switch_page("views/maps.py").run()
    info = next(t for t in list_templates() if t.id == "travel-hotel")
    with session_scope(engine) as session:
        travel = next(m for m in list_maps(session=session) if m.name == info.name)
    at.selectbox(key=StateKeys.MAPS_OPEN_CHOICE).set_value(travel.id)
    at.button(key=StateKeys.MAPS_OPEN_SUBMIT).click().run()
    assert not at.exception
    assert at.title[0].value == "Map editor"
    assert at.subheader[0].value.replace("\\", "") == info.name
    assert at.query_params["map"] == [str(travel.id)] or at.query_params["map"] == str(travel.id)


# --- the workspace home's figures ------------------------------------------------------------------------


def _seed_review_items(engine: Engine) -> tuple[int, int]:
    """Cy's bopis map (2 silo handoffs) with 1 open opportunity, 1 done and 2 open comments of 3; the retail map
    with 1 open comment. Returns (bopis id, retail id)."""
    cy = Actor("Cy", Role.EDITOR)
    with session_scope(engine) as session:
        bopis = create_map(session=session, journey_map=bopis_map(), author="Cy").map_id
        retail = next(m.id for m in list_maps(session=session) if m.name == load_template("retail-bopis").name)
        add_opportunity(session=session, actor=cy, map_id=bopis, title="Tell the desk about the order")
        done = add_opportunity(session=session, actor=cy, map_id=bopis, title="Fix the FAQ")
        update_opportunity(session=session, opportunity_id=done.id, status="done")
        for body in ("Too many steps", "Which team owns this?", "Typo"):
            comment = add_comment(session=session, actor=cy, map_id=bopis, body=body)
        resolve_comment(session=session, actor=cy, comment_id=comment.id)
        add_comment(
            session=session,
            actor=cy,
            map_id=retail,
            body="Slow",
            target_kind=TargetKind.TOUCHPOINT,
            target_id="wismo-call",
        )
    return bopis, retail


def test_home_shows_open_review_items_per_map(make_app: MakeApp, engine: Engine, frame: Callable[..., Any]) -> None:
    make_app("views/maps.py").run()  # seeds the demo workspace
    bopis, retail = _seed_review_items(engine)
    at = make_app("views/maps.py").run()
    assert not at.exception, at.exception
    table = frame(at, "Name", "Owner").set_index("Name")
    retail_name = load_template("retail-bopis").name
    assert table.loc[BOPIS, ["Owner", "Silo handoffs", "Open comments", "Open opportunities"]].tolist() == [
        "Cy",
        2,
        2,
        1,
    ]
    assert table.loc[retail_name, ["Open comments", "Open opportunities"]].tolist() == [1, 0]
    others = table.drop(index=[BOPIS, retail_name])
    assert set(others["Open comments"]) == {0} and set(others["Open opportunities"]) == {0}
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Maps"], metrics["Open comments"], metrics["Open opportunities"]) == (
        str(len(list_templates()) + 1),
        "3",
        "1",
    )


def test_home_filters_by_owner_silo_handoffs_and_open_opportunities(
    make_app: MakeApp, engine: Engine, frame: Callable[..., Any]
) -> None:
    make_app("views/maps.py").run()
    _seed_review_items(engine)
    with session_scope(engine) as session:  # one channel, no handoff: left out by "Has silo handoffs"
        create_map(session=session, journey_map=linear_journey(), author="Cy")
    at = make_app("views/maps.py").run()
    names = lambda: frame(at, "Name", "Owner")["Name"].tolist()  # noqa: E731
    with_silos = sorted(
        [info.name for info in list_templates() if count_silo_handoffs(load_template(info.id)) > 0] + [BOPIS]
    )
    assert at.multiselect(key="jm_maps_filter_owners").options == sorted(["Cy", DEMO_AUTHOR])

    at.multiselect(key="jm_maps_filter_owners").set_value(["Cy"]).run()
    assert sorted(names()) == sorted([BOPIS, "Linear journey"])
    assert sorted(at.selectbox(key=StateKeys.MAPS_OPEN_CHOICE).options) == sorted(
        [f"{BOPIS} (#{_id(engine, BOPIS)})", f"Linear journey (#{_id(engine, 'Linear journey')})"]
    )
    at.multiselect(key="jm_maps_filter_owners").set_value([]).run()

    assert "Linear journey" in names()
    at.checkbox(key="jm_maps_filter_silo").check().run()
    assert sorted(names()) == with_silos
    at.checkbox(key="jm_maps_filter_opportunities").check().run()
    assert names() == [BOPIS]
    at.checkbox(key="jm_maps_filter_silo").uncheck().run()
    assert names() == [BOPIS]

    at.multiselect(key="jm_maps_filter_owners").set_value([DEMO_AUTHOR]).run()
    assert names() == []
    assert at.info[0].value == "No saved map matches these filters."


def _id(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        return next(m.id for m in list_maps(session=session) if m.name == name)


def test_friction_headline_of_the_newest_dataset_after_the_demo(
    make_app: MakeApp, engine: Engine, frame: Callable[..., Any]
) -> None:
    at = make_app().run()
    at.switch_page("views/overlay.py").run()
    at.button(key=OverlayKeys.DEMO).click().run()
    assert not at.exception, at.exception
    at.switch_page("views/maps.py").run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        (dataset,) = list_datasets(session=session)
        assert dataset.map_id is not None
        journey_map = latest_revision(session=session, map_id=dataset.map_id).journey_map
    # The top of the friction board, computed here from the stored log with the Overlay page's defaults.
    settings = default_settings(journey_map)
    expected = compute_overlay(load_log(dataset.cache_path), journey_map, settings).friction["finding"][0]
    table = frame(at, "Name", "Owner").set_index("Name")
    assert table.loc[journey_map.name, "Friction headline"] == expected
    assert expected.startswith("In ")  # a sentence, not a code
    assert set(table.drop(index=journey_map.name)["Friction headline"]) == {"—"}


def test_a_missing_dataset_cache_is_said_in_the_cell(
    make_app: MakeApp, engine: Engine, frame: Callable[..., Any]
) -> None:
    at = make_app().run()
    at.switch_page("views/overlay.py").run()
    at.button(key=OverlayKeys.DEMO).click().run()
    with session_scope(engine) as session:
        (dataset,) = list_datasets(session=session)
    Path(dataset.cache_path).unlink()
    st.cache_data.clear()
    st.cache_resource.clear()
    at.switch_page("views/maps.py").run()
    assert not at.exception, at.exception
    table = frame(at, "Name", "Owner").set_index("Name")
    assert table.loc[load_template("retail-bopis").name, "Friction headline"] == (
        "Overlay unavailable: open the dataset on the Overlay page to see why."
    )


def test_maturity_metric_is_the_newest_assessments_mean_level(make_app: MakeApp, engine: Engine) -> None:
    make_app("views/maps.py").run()  # seeds the demo workspace, whose newest assessment is dated today
    framework = load_builtin_framework()
    autumn = date.today() + timedelta(days=1)
    with session_scope(engine) as session:
        saved = ensure_framework(session=session, framework=framework)
        for name, day, answers in (
            ("Spring", date.today() - timedelta(days=1), [Answer("Ana", "cf_journeys_mapped", 5)]),
            # Customer focus: Ana (2 + 3) / 2 = 2.5, Ben 4 → median 3.25; data integration 2.0 → mean 2.625.
            (
                "Autumn",
                autumn,
                [
                    Answer("Ana", "cf_journeys_mapped", 2),
                    Answer("Ana", "cf_priorities", 3),
                    Answer("Ben", "cf_journeys_mapped", 4),
                    Answer("Ana", "di_profile", 2),
                    Answer("Ben", "di_profile", None),
                ],
            ),
        ):
            info = create_assessment(
                session=session,
                name=name,
                business_unit="Retail",
                assessed_on=day,
                framework_key=framework.key,
                framework_revision=saved.number,
            )
            save_answers(session=session, assessment_id=info.id, answers=answers)
    at = make_app("views/maps.py").run()
    (maturity,) = [m for m in at.metric if m.label == "Maturity (newest assessment)"]
    assert maturity.value == "2.6 / 5"
    assert f"Autumn · Retail · {autumn.isoformat()}" in maturity.proto.help
