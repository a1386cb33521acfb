"""The workshop page under AppTest: lobby, participant and presenter views, lock and promotion.

Workshops are seeded through the services, as the page writes them; the database is read back directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.services import reviews
from journeymap.store import create_map, init_db, latest_revision, list_revisions, session_scope
from journeymap.store.access import create_user, start_sign_in
from journeymap.store.reviews import (
    WorkshopItemInfo,
    is_locked,
    list_opportunities,
    list_workshop_items,
    list_workshops,
)
from journeymap.ui.state import ReviewKeys
from journeymap.viz import PROJECTOR_SCALE
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
EDITOR = Actor("Ana", Role.EDITOR)
GUEST = Actor("Guest", Role.GUEST)


def _seed(engine: Engine) -> tuple[int, int, str]:
    """A saved BOPIS map and a running workshop on it: map id, workshop id, join code."""
    init_db(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    workshop = reviews.start_workshop(engine, EDITOR, map_id=map_id, title="Pick-up review")
    return map_id, workshop.id, workshop.join_code


def _add(engine: Engine, code: str, who: str, touchpoint: str, kind: str, text: str) -> WorkshopItemInfo:
    return reviews.add_workshop_item(
        engine, GUEST, join_code=code, participant=who, touchpoint_id=touchpoint, kind=kind, text=text
    )


def _account(engine: Engine, username: str, role: Role = Role.VIEWER) -> None:
    with session_scope(engine) as session:
        create_user(session=session, username=username, password="correct horse", role=role)


def _page(make_app: MakeApp, **params: str) -> AppTest:
    at = make_app("views/workshop.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def _plain(elements: Any) -> list[str]:
    """The text of alert elements, without the escapes that keep Markdown from interpreting it."""
    return [str(e.value).replace("\\", "") for e in elements]


def test_editor_starts_a_workshop_and_lands_on_the_presenter_view(make_app: MakeApp, engine: Engine) -> None:
    init_db(engine)
    with session_scope(engine) as session:
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
    item = _add(engine, code, "Di", "search", "idea", "Show stock in search")
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
    for who, tp, kind in (("Cy", "checkout", "pain point"), ("Di", "checkout", "idea"), ("Ed", "search", "idea")):
        _add(engine, code, who, tp, kind, who)
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
    pain = _add(engine, code, "Cy", "checkout", "pain point", "Card declined twice")
    idea = _add(engine, code, "Di", "search", "idea", "Filter by store")
    at = _page(make_app, code=code, present="1")
    at.button(key=f"{ReviewKeys.WS_PROMOTE_PAIN_PREFIX}_{pain.id}").click().run()
    assert not at.exception
    assert _plain(at.success) == ["'Card declined twice' added as a pain point: revision 2 of the map."]
    at.button(key=f"{ReviewKeys.WS_PROMOTE_OPP_PREFIX}_{idea.id}").click().run()
    (opportunity,) = reviews.list_opportunities(engine, EDITOR, map_id=map_id)
    assert _plain(at.success) == [f"'Filter by store' is now opportunity #{opportunity.id} on the map's backlog."]
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
    item = _add(engine, code, "Cy", "checkout", "idea", "x")
    _account(engine, "ana")
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


def test_names_differing_in_case_are_one_voter(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    item = _add(engine, code, "Di", "search", "idea", "Show stock in search")
    ana = _page(make_app, code=code, name="Ana")
    ana.button(key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}").click().run()
    lower = _page(make_app, code=code, name="ana ")
    lower.button(key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}").click().run()
    assert _plain(lower.info) == ["You already voted for that one."]
    assert "Product search · idea: Show stock in search (Di, 1 vote)" in _texts(lower)
    with Session(engine) as session:
        assert [i.votes for i in list_workshop_items(session=session, workshop_id=workshop_id)] == [1]


def test_items_are_ranked_by_votes(make_app: MakeApp, engine: Engine) -> None:
    _, _, code = _seed(engine)
    first = _add(engine, code, "Cy", "checkout", "pain point", "Card declined")
    second = _add(engine, code, "Di", "search", "idea", "Filter by store")
    third = _add(engine, code, "Ed", "pickup-desk", "pain point", "Queue")
    for voter, item in (("Cy", third), ("Di", third), ("Ed", second)):
        assert reviews.vote(engine, GUEST, join_code=code, participant=voter, item_id=item.id) is True
    at = _page(make_app, code=code, name="Fa")
    listed = [t for t in _texts(at) if " · " in t]
    assert listed == [
        "Pick-up desk · pain point: Queue (Ed, 2 votes)",
        "Product search · idea: Filter by store (Di, 1 vote)",
        "Online checkout · pain point: Card declined (Cy, 0 votes)",
    ]
    assert [b.key for b in at.button if b.key and b.key.startswith(ReviewKeys.WS_VOTE_PREFIX)] == [
        f"{ReviewKeys.WS_VOTE_PREFIX}_{i.id}" for i in (third, second, first)
    ]


def test_a_participants_error_goes_away_after_their_next_success(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    item = _add(engine, code, "Di", "search", "idea", "Show stock in search")
    at = _page(make_app, code=code, name="Cy")
    at.button(key=ReviewKeys.WS_ADD_SUBMIT).click().run()  # nothing written in the text field
    assert _plain(at.error) == ["workshop, field 'text': is empty. Write something first."]
    at.button(key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}").click().run()
    assert _plain(at.error) == []
    assert "Product search · idea: Show stock in search (Di, 1 vote)" in _texts(at)
    with Session(engine) as session:
        assert len(list_workshop_items(session=session, workshop_id=workshop_id)) == 1


def test_a_closed_workshops_code_shows_no_map(make_app: MakeApp, engine: Engine) -> None:
    _, workshop_id, code = _seed(engine)
    reviews.close_workshop(engine, EDITOR, workshop_id=workshop_id)
    for params in ({"code": code, "name": "Cy"}, {"code": code, "present": "1"}):
        at = _page(make_app, **params)
        assert _plain(at.error) == [f"workshop: the workshop '{code}' is closed. Ask the facilitator for a new code."]
        assert at.get("component_instance") == [] and len(at.main.text_input) == 0


def _viewer(engine: Engine) -> dict[str, object]:
    """The session state of a signed-in viewer (account and running sign-in token)."""
    with session_scope(engine) as session:
        account = create_user(session=session, username="bo", password="correct horse", role=Role.VIEWER)
        token = start_sign_in(session=session, account_id=account.id)
    return {
        ReviewKeys.ACCOUNT: {"id": account.id, "username": "bo", "display_name": "bo"},
        ReviewKeys.SIGN_IN_TOKEN: token,
    }


@pytest.mark.parametrize("who", ["signed out", "share link", "viewer"])
def test_no_facilitator_control_and_no_map_list_for_others(make_app: MakeApp, engine: Engine, who: str) -> None:
    map_id, _, code = _seed(engine)
    item = _add(engine, code, "Cy", "checkout", "idea", "x")
    _account(engine, "ana", role=Role.OWNER)
    state = {"signed out": {}, "share link": {ReviewKeys.SHARE_MAP_ID: map_id}}.get(who) or _viewer(engine)
    for params in ({}, {"code": code, "present": "1"}):
        at = make_app("views/workshop.py")
        for key, value in state.items():
            at.session_state[key] = value
        at.query_params.update(params)
        at.run()
        assert not at.exception
        if not params:  # the lobby: joining only, no map and no running workshop listed
            assert [b.label for b in at.main.button] == ["Join"]
            assert len(at.main.selectbox) == 0 and not [t for t in _texts(at) if code in t]
        else:  # the presenter view the join code opens: no facilitator control
            assert [b.label for b in at.main.button] == []
            assert f"{ReviewKeys.WS_PROMOTE_OPP_PREFIX}_{item.id}" not in [b.key for b in at.button]


FACILITATOR_CONTROLS = {
    "lock": (ReviewKeys.WS_LOCK, "facilitate workshops"),
    "close": (ReviewKeys.WS_CLOSE, "facilitate workshops"),
    "promote to pain point": (f"{ReviewKeys.WS_PROMOTE_PAIN_PREFIX}_1", "facilitate workshops"),
    "promote to opportunity": (f"{ReviewKeys.WS_PROMOTE_OPP_PREFIX}_1", "facilitate workshops"),
}


@pytest.mark.parametrize("control", list(FACILITATOR_CONTROLS))
def test_a_facilitator_control_drawn_before_the_sign_in_ended_writes_nothing(
    make_app: MakeApp, engine: Engine, control: str
) -> None:
    map_id, workshop_id, code = _seed(engine)
    _add(engine, code, "Cy", "checkout", "pain point", "Card declined")
    at = _page(make_app, code=code, present="1")  # open local mode: the facilitator's controls are drawn
    _account(engine, "ana")  # open mode ends: this browser is now a visitor who is not signed in
    key, action = FACILITATOR_CONTROLS[control]
    at.button(key=key).click().run()
    assert not at.exception
    assert _plain(at.error) == [
        f"Guest: visitors who are not signed in may not {action}. Sign in with an account that may do this."
    ]
    with Session(engine) as session:
        (workshop,) = list_workshops(session=session, map_id=map_id)
        assert (workshop.id, workshop.locked, workshop.closed) == (workshop_id, False, False)
        assert [i.promoted_as for i in list_workshop_items(session=session, workshop_id=workshop_id)] == [None]
        assert list_opportunities(session=session, map_id=map_id) == []
        assert len(list_revisions(session=session, map_id=map_id)) == 1


def test_promoting_works_while_the_workshop_holds_the_lock(make_app: MakeApp, engine: Engine) -> None:
    map_id, _, code = _seed(engine)
    pain = _add(engine, code, "Cy", "checkout", "pain point", "Card declined twice")
    at = _page(make_app, code=code, present="1")
    at.button(key=ReviewKeys.WS_LOCK).click().run()
    assert at.button(key=ReviewKeys.WS_LOCK).label == "Unlock map"
    at.button(key=f"{ReviewKeys.WS_PROMOTE_PAIN_PREFIX}_{pain.id}").click().run()
    assert _plain(at.success) == ["'Card declined twice' added as a pain point: revision 2 of the map."]
    with Session(engine) as session:
        assert is_locked(session=session, map_id=map_id) is True
        revision = latest_revision(session=session, map_id=map_id)
    assert (revision.number, revision.author) == (2, "Local user")
    assert revision.journey_map.touchpoint("checkout").pain_points[-1] == "Card declined twice"


def test_the_presenter_shows_large_type_for_a_projector_and_can_turn_it_off(make_app: MakeApp, engine: Engine) -> None:
    _, _, code = _seed(engine)
    at = _page(make_app, code=code, present="1")

    def node_fonts() -> dict[str, tuple[str, int]]:
        (graph,) = [el for el in at.get("component_instance") if el.proto.component_name == "streamlit_agraph.agraph"]  # type: ignore[attr-defined]
        nodes = json.loads(json.loads(graph.proto.json_args)["data"])["nodes"]  # type: ignore[attr-defined]
        return {n["id"]: (n["label"], n["font"]["size"]) for n in nodes if "font" in n}

    large = node_fonts()
    assert at.toggle(key=ReviewKeys.WS_PROJECTOR).value is True  # on by default: the presenter is projected
    at.toggle(key=ReviewKeys.WS_PROJECTOR).set_value(False).run()
    normal = node_fonts()
    assert large.keys() == normal.keys() and large
    assert all(large[k][1] == round(normal[k][1] * PROJECTOR_SCALE) for k in large)
    assert all(len(large[k][0]) <= 18 for k in large if not large[k][0].endswith("]"))
