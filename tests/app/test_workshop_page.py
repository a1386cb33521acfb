"""The workshop page under AppTest: lobby, participant and presenter views, lock and promotion."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.store import create_map, init_db, latest_revision
from journeymap.store.access import create_user
from journeymap.store.reviews import (
    add_workshop_item,
    is_locked,
    list_opportunities,
    list_workshop_items,
    list_workshops,
    set_workshop_locked,
    start_workshop,
)
from journeymap.ui.state import ReviewKeys
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
EDITOR = Actor("Ana", Role.EDITOR)


def _seed(engine: Engine) -> tuple[int, int, str]:
    """A saved BOPIS map and a running workshop on it: map id, workshop id, join code."""
    init_db(engine)
    with Session(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
        workshop = start_workshop(session=session, actor=EDITOR, map_id=map_id, title="Pick-up review")
    return map_id, workshop.id, workshop.join_code


def _page(make_app: MakeApp, **params: str) -> AppTest:
    at = make_app("views/workshop.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_editor_starts_a_workshop_and_lands_on_the_presenter_view(make_app: MakeApp, engine: Engine) -> None:
    init_db(engine)
    with Session(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    at = _page(make_app)
    assert [t.value for t in at.title] == ["Workshop"]
    at.selectbox(key=ReviewKeys.WS_MAP).set_value(map_id)
    at.text_input(key=ReviewKeys.WS_TITLE).set_value("Friday session")
    at.button(key=ReviewKeys.WS_START).click().run()
    assert not at.exception
    with Session(engine) as session:
        (workshop,) = list_workshops(session=session, map_id=map_id)
    assert (workshop.title, workshop.facilitator) == ("Friday session", "Local user")
    assert dict(at.query_params) == {"code": workshop.join_code, "present": "1"}
    assert at.title[0].value == f"Friday session · join with code {workshop.join_code}"
    assert [b.label for b in at.main.button] == ["Lock map", "Close workshop"]


def test_participant_joins_adds_an_item_and_sees_it(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    at = _page(make_app)
    at.text_input(key=ReviewKeys.WS_JOIN_CODE).set_value(code.lower())
    at.text_input(key=ReviewKeys.WS_JOIN_NAME).set_value("Cy")
    at.button(key=ReviewKeys.WS_JOIN_SUBMIT).click().run()
    assert not at.exception
    assert at.caption[0].value.replace("\\", "") == f"Workshop {code} · you are Cy"
    at.selectbox(key=ReviewKeys.WS_ADD_TOUCHPOINT).set_value("pickup-desk")
    at.radio(key=ReviewKeys.WS_ADD_KIND).set_value("pain point")
    at.text_input(key=ReviewKeys.WS_ADD_TEXT).set_value("Desk cannot find my order")
    at.button(key=ReviewKeys.WS_ADD_SUBMIT).click().run()
    assert not at.exception
    with Session(engine) as session:
        items = list_workshop_items(session=session, workshop_id=workshop_id)
    assert [(i.participant, i.touchpoint_id, i.kind.value, i.text) for i in items] == [
        ("Cy", "pickup-desk", "pain point", "Desk cannot find my order")
    ]
    assert "Pick-up desk · pain point: Desk cannot find my order (Cy, 0 votes)" in _texts(at)
    assert "Everyone's additions (1)" in [h.value for h in at.subheader]


def test_participant_sees_others_items_and_votes_once(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    with Session(engine) as session:
        item = add_workshop_item(
            session=session,
            workshop_id=workshop_id,
            participant="Di",
            touchpoint_id="search",
            kind="idea",
            text="Show stock in search",
        )
    at = _page(make_app, code=code, name="Cy")
    assert "Product search · idea: Show stock in search (Di, 0 votes)" in _texts(at)
    at.button(key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}").click().run()
    assert "Product search · idea: Show stock in search (Di, 1 vote)" in _texts(at)
    at.button(key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}").click().run()
    assert "Product search · idea: Show stock in search (Di, 1 vote)" in _texts(at)
    assert "You already voted for that one." in [i.value.replace("\\", "") for i in at.info]


def test_locked_workshop_refuses_additions(make_app: MakeApp, engine: Engine) -> None:
    map_id, workshop_id, code = _seed(engine)
    at = _page(make_app, code=code, present="1")
    at.button(key=ReviewKeys.WS_LOCK).click().run()
    with Session(engine) as session:
        assert is_locked(session=session, map_id=map_id) is True
    assert at.button(key=ReviewKeys.WS_LOCK).label == "Unlock map"
    participant = _page(make_app, code=code, name="Cy")
    assert "The facilitator has locked the map: you can read, but not add or vote." in [
        w.value for w in participant.warning
    ]
    participant.text_input(key=ReviewKeys.WS_ADD_TEXT).set_value("Late idea")
    participant.button(key=ReviewKeys.WS_ADD_SUBMIT).click().run()
    assert "locked the map" in participant.error[0].value
    with Session(engine) as session:
        assert list_workshop_items(session=session, workshop_id=workshop_id) == []


def test_presenter_counts_items_per_touchpoint_on_graph_and_table(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    with Session(engine) as session:
        for who, tp, kind in (("Cy", "checkout", "pain point"), ("Di", "checkout", "idea"), ("Ed", "search", "idea")):
            add_workshop_item(
                session=session, workshop_id=workshop_id, participant=who, touchpoint_id=tp, kind=kind, text=f"{who}"
            )
    at = _page(make_app, code=code, present="1")
    counts = next(df.value for df in at.dataframe if "Ideas" in df.value.columns)
    assert counts.to_dict("records") == [
        {"Touchpoint": "Online checkout", "Pain points": 1, "Ideas": 1, "Votes": 0},
        {"Touchpoint": "Product search", "Pain points": 0, "Ideas": 1, "Votes": 0},
    ]
    (graph,) = [el for el in at.get("component_instance") if el.proto.component_name == "streamlit_agraph.agraph"]  # type: ignore[attr-defined]
    nodes = {n["id"]: n["label"] for n in json.loads(json.loads(graph.proto.json_args)["data"])["nodes"]}  # type: ignore[attr-defined]
    assert nodes["checkout"].endswith(" [2]") and nodes["search"].endswith(" [1]")
    assert not nodes["pickup-desk"].endswith("]")


def test_facilitator_promotes_items(make_app: MakeApp, engine: Engine) -> None:
    map_id, workshop_id, code = _seed(engine)
    with Session(engine) as session:
        pain = add_workshop_item(
            session=session,
            workshop_id=workshop_id,
            participant="Cy",
            touchpoint_id="checkout",
            kind="pain point",
            text="Card declined twice",
        )
        idea = add_workshop_item(
            session=session,
            workshop_id=workshop_id,
            participant="Di",
            touchpoint_id="search",
            kind="idea",
            text="Filter by store",
        )
    at = _page(make_app, code=code, present="1")
    at.button(key=f"{ReviewKeys.WS_PROMOTE_PAIN_PREFIX}_{pain.id}").click().run()
    assert not at.exception
    at.button(key=f"{ReviewKeys.WS_PROMOTE_OPP_PREFIX}_{idea.id}").click().run()
    with Session(engine) as session:
        revision = latest_revision(session=session, map_id=map_id)
        assert revision.number == 2
        assert "Card declined twice" in revision.journey_map.touchpoint("checkout").pain_points
        assert [(o.title, o.touchpoint_id) for o in list_opportunities(session=session, map_id=map_id)] == [
            ("Filter by store", "search")
        ]
    assert "Promote items" not in [h.value for h in at.subheader]


def test_guests_get_no_facilitator_controls(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    with Session(engine) as session:
        create_user(session=session, username="ana", password="correct horse")
        item = add_workshop_item(
            session=session, workshop_id=workshop_id, participant="Cy", touchpoint_id="checkout", kind="idea", text="x"
        )
        set_workshop_locked(session=session, actor=EDITOR, workshop_id=workshop_id, locked=False)
    lobby = _page(make_app)
    assert [b.label for b in lobby.main.button] == ["Join"]
    presenter = _page(make_app, code=code, present="1")
    assert [b.label for b in presenter.main.button] == []
    assert f"{ReviewKeys.WS_PROMOTE_OPP_PREFIX}_{item.id}" not in [b.key for b in presenter.button]


def test_unknown_code_is_explained(make_app: MakeApp, engine: Engine) -> None:
    _seed(engine)
    at = _page(make_app, code="NOPE22", name="Cy")
    assert at.error[0].value.replace("\\", "").startswith("join workshop, field 'join code': no workshop has the join")
    assert len(at.main.text_input) == 0
