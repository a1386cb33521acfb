"""The Start page: the three jobs, each opening the demo workspace; what a visitor without a sign-in sees."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.services import data as data_services
from journeymap.services import maps as map_services
from journeymap.store import init_db, session_scope
from journeymap.store.access import create_user
from journeymap.templates import load_template
from journeymap.ui.state import OverlayKeys, QueryParams, StateKeys

MakeApp = Callable[..., AppTest]
OWNER = Actor("Local user", Role.OWNER)


def test_root_is_the_start_page_with_the_three_jobs(make_app: MakeApp) -> None:
    at = make_app().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Start here"
    assert [h.value for h in at.main.subheader] == [
        "1 · Map the journey",
        "2 · Overlay what customers did",
        "3 · Assess omnichannel maturity",
    ]
    labels = {b.key: b.label for b in at.button}
    assert labels[StateKeys.HOME_MAP] == f"Open the demo map: {load_template('retail-bopis').name}"
    assert labels[StateKeys.HOME_OVERLAY] == "Overlay the demo events (38k)"


def test_the_map_job_opens_the_demo_map_in_the_editor(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    at.button(key=StateKeys.HOME_MAP).click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Map editor"
    demo = next(m for m in map_services.list_maps(engine, OWNER) if m.name == load_template("retail-bopis").name)
    assert at.query_params[QueryParams.MAP] == str(demo.id)
    assert at.subheader[0].value.replace("\\", "") == demo.name


def test_the_overlay_job_computes_the_demo_overlay_on_arrival(make_app: MakeApp, engine: Engine) -> None:
    at = make_app().run()
    assert data_services.list_datasets(engine, OWNER) == []
    at.button(key=StateKeys.HOME_OVERLAY).click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Overlay"
    (dataset,) = data_services.list_datasets(engine, OWNER)
    assert dataset.name == "retail_events.csv.gz"
    # The map picker shows the map the demo overlays, not whichever map it showed before.
    assert at.selectbox(key=OverlayKeys.MAP_CHOICE).value == dataset.map_id
    assert [m.label for m in at.metric][:2] == ["Journeys", "Customers"]  # the overlay is drawn, no second click


def test_the_maturity_job_opens_the_demo_assessments(make_app: MakeApp) -> None:
    at = make_app().run()
    at.button(key=StateKeys.HOME_MATURITY).click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Omnichannel maturity"
    assert any("Retail" in str(o) for o in at.selectbox[0].options)  # the demo's assessments are there to open


def test_a_visitor_without_a_sign_in_is_told_to_sign_in_and_sees_no_job(make_app: MakeApp, engine: Engine) -> None:
    init_db(engine)
    with session_scope(engine) as session:
        create_user(session=session, username="ana", password="correct horse", display_name="Ana")
    at = make_app().run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [
        "This workspace needs a sign-in: sign in in the sidebar, or open the share link you were given."
    ]
    assert not {StateKeys.HOME_MAP, StateKeys.HOME_OVERLAY, StateKeys.HOME_MATURITY} & {b.key for b in at.button}
