"""The read-only share view and the access guards, under AppTest: no share session ever gets an edit widget.

Data is seeded through the services (as the pages write it) or, for accounts, through the store in a
committed session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.services import reviews
from journeymap.store import create_map, init_db, list_revisions, session_scope
from journeymap.store.access import ShareLink, create_user, start_sign_in
from journeymap.store.reviews import TargetKind
from journeymap.ui.state import ReviewKeys
from journeymap.ui.text import md
from journeymap.viz import HEADER_PREFIX
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
EDITOR = Actor("Ana", Role.EDITOR)
# Every widget type that could change something.
INPUT_WIDGETS = (
    "button",
    "checkbox",
    "color_picker",
    "date_input",
    "multiselect",
    "number_input",
    "radio",
    "select_slider",
    "selectbox",
    "slider",
    "text_area",
    "text_input",
    "time_input",
    "toggle",
)


def _inputs(at: AppTest) -> dict[str, int]:
    return {kind: len(at.get(kind)) for kind in INPUT_WIDGETS if at.get(kind)}


def _seed(engine: Engine) -> tuple[int, str]:
    """A saved BOPIS map and a share link to it; returns the map id and the token."""
    init_db(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    token, _ = reviews.create_share_link(engine, EDITOR, map_id=map_id, label="Board")
    return map_id, token


def _account(engine: Engine, username: str, role: Role = Role.VIEWER, display_name: str = "") -> int:
    """A local account with the password "correct horse" (the first one is the owner); returns its id."""
    with session_scope(engine) as session:
        return create_user(
            session=session, username=username, password="correct horse", role=role, display_name=display_name
        ).id


def _view(make_app: MakeApp, **params: str) -> AppTest:
    at = make_app("views/view.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _graph_nodes(at: AppTest) -> list[str]:
    found = [el for el in at.get("component_instance") if el.proto.component_name == "streamlit_agraph.agraph"]  # type: ignore[attr-defined]
    if not found:
        return []
    nodes = json.loads(json.loads(found[0].proto.json_args)["data"])["nodes"]  # type: ignore[attr-defined]
    return sorted(n["id"] for n in nodes if not n["id"].startswith(HEADER_PREFIX))


@pytest.mark.parametrize("extra", [{}, {"edit": "1"}, {"edit": "1", "map": "1", "mode": "editor"}])
def test_share_link_shows_the_map_and_no_edit_widget(make_app: MakeApp, engine: Engine, extra: dict[str, str]) -> None:
    _, token = _seed(engine)
    at = _view(make_app, share=token, **extra)
    assert not at.exception
    assert [t.value for t in at.title] == [md(bopis_map().name)]
    assert _graph_nodes(at) == sorted(tp.id for tp in bopis_map().touchpoints)
    assert _inputs(at) == {}
    assert "Read-only: this map was shared with you through a link." in [c.value for c in at.sidebar.caption]
    table = next(df.value for df in at.dataframe if "Touchpoint" in df.value.columns)
    assert table["Touchpoint"].tolist() == [tp.name for tp in bopis_map().touchpoints]


def test_view_lists_open_comments_and_opportunities(make_app: MakeApp, engine: Engine) -> None:
    map_id, token = _seed(engine)
    reviews.add_comment(engine, EDITOR, map_id=map_id, body="Why two apps?")
    reviews.add_comment(
        engine, EDITOR, map_id=map_id, body="Slow desk", target_kind=TargetKind.TOUCHPOINT, target_id="pickup-desk"
    )
    reviews.add_opportunity(
        engine, EDITOR, map_id=map_id, title="Hand order to desk", owner="Stores", touchpoint_id="pickup-desk"
    )
    at = _view(make_app, share=token)
    comments = next(df.value for df in at.dataframe if "Comment" in df.value.columns)
    assert comments.to_dict("records") == [
        {"On": "the map", "Author": "Ana", "Comment": "Why two apps?"},
        {"On": "Pick-up desk", "Author": "Ana", "Comment": "Slow desk"},
    ]
    backlog = next(df.value for df in at.dataframe if "Opportunity" in df.value.columns)
    assert backlog[["Opportunity", "Owner", "Status"]].to_dict("records") == [
        {"Opportunity": "Hand order to desk", "Owner": "Stores", "Status": "open"}
    ]


def test_revoked_link_shows_a_clear_message_and_no_map(make_app: MakeApp, engine: Engine) -> None:
    map_id, token = _seed(engine)
    (link,) = reviews.list_share_links(engine, EDITOR, map_id=map_id)
    reviews.revoke_share_link(engine, EDITOR, link_id=link.id)
    at = _view(make_app, share=token, edit="1")
    assert len(at.error) == 1 and "this share link was revoked on" in at.error[0].value
    assert "Ask the person who shared the map for a new link" in at.error[0].value
    assert _graph_nodes(at) == [] and len(at.dataframe) == 0
    assert [t.value for t in at.title] == ["Shared map"]
    assert _inputs(at) == {}


def test_expired_and_unknown_links_show_a_message_and_no_map(make_app: MakeApp, engine: Engine) -> None:
    _, token = _seed(engine)
    with Session(engine) as session:
        row = session.get(ShareLink, 1)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        session.commit()
    at = _view(make_app, share=token)
    assert "this share link expired on" in at.error[0].value and _graph_nodes(at) == []
    at = _view(make_app, share=token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert "this share link is not valid" in at.error[0].value and _graph_nodes(at) == []


def test_without_a_token_guests_only_get_a_hint(make_app: MakeApp, engine: Engine) -> None:
    _seed(engine)
    _account(engine, "ana")
    at = make_app("views/view.py").run()
    assert at.info[0].value.startswith("Open the share link you were sent")
    assert [b.label for b in at.main.button] == [] and len(at.main.selectbox) == 0


def _members_view(make_app: MakeApp) -> AppTest:
    """The Shared map page without a token, reached through the app's navigation (it links to the Review page)."""
    at = make_app("app.py")
    at.switch_page("views/view.py")
    return at.run()


def test_sign_in_with_wrong_then_right_password(make_app: MakeApp, engine: Engine) -> None:
    _seed(engine)
    _account(engine, "ana", display_name="Ana")
    at = _members_view(make_app)
    at.text_input(key=ReviewKeys.SIGNIN_USER).set_value("ana")
    at.text_input(key=ReviewKeys.SIGNIN_PASSWORD).set_value("wrong horse")
    at.button(key=ReviewKeys.SIGNIN_SUBMIT).click().run()
    assert "wrong username or password" in at.error[0].value
    assert ReviewKeys.ACCOUNT not in at.session_state
    at.text_input(key=ReviewKeys.SIGNIN_USER).set_value("ana")
    at.text_input(key=ReviewKeys.SIGNIN_PASSWORD).set_value("correct horse")
    at.button(key=ReviewKeys.SIGNIN_SUBMIT).click().run()
    assert at.session_state[ReviewKeys.ACCOUNT]["role"] == "owner"
    assert [t.value for t in at.title] == ["Shared map"]
    assert _graph_nodes(at) == sorted(tp.id for tp in bopis_map().touchpoints)


def test_members_read_the_map_as_a_link_shows_it_and_are_sent_to_review_for_the_rest(
    make_app: MakeApp, engine: Engine
) -> None:
    map_id, _ = _seed(engine)
    reviews.add_comment(engine, EDITOR, map_id=map_id, body="Why two apps?")
    reviews.add_opportunity(engine, EDITOR, map_id=map_id, title="Hand order to desk", touchpoint_id="pickup-desk")
    at = _members_view(make_app)  # open local mode: the owner
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Shared map"]
    assert [h.value for h in at.subheader][0] == md(bopis_map().name)
    (link,) = at.get("page_link")
    assert (link.proto.label, link.proto.page) == (  # type: ignore[attr-defined]
        "Comments, opportunities and share links: on the Review page",
        "review",
    )
    comments = next(df.value for df in at.dataframe if "Comment" in df.value.columns)
    assert comments.to_dict("records") == [{"On": "the map", "Author": "Ana", "Comment": "Why two apps?"}]
    backlog = next(df.value for df in at.dataframe if "Opportunity" in df.value.columns)
    assert backlog[["Opportunity", "Touchpoint"]].to_dict("records") == [
        {"Opportunity": "Hand order to desk", "Touchpoint": "Pick-up desk"}
    ]
    # Read-only even for the owner: the map picker is the page's only input (no comment, backlog or share form).
    assert {kind: len(at.main.get(kind)) for kind in INPUT_WIDGETS if at.main.get(kind)} == {"selectbox": 1}
    assert at.main.selectbox[0].key == ReviewKeys.REVIEW_MAP


def _guarded_page() -> None:
    """A stand-in for an edit page: guard first, then an edit control."""
    import streamlit as st

    from journeymap.ui.access import can_edit, enter_share_session, require_editor
    from journeymap.ui.resources import get_engine

    engine = get_engine()
    if st.query_params.get("share_session"):
        enter_share_session(1)
    map_id = int(st.query_params["map"]) if st.query_params.get("map") else None
    st.session_state["can_edit"] = can_edit(engine, map_id=map_id)
    require_editor(engine, map_id=map_id)
    st.button("Save revision", key="save")


def _guarded(**params: str) -> AppTest:
    at = AppTest.from_function(_guarded_page, default_timeout=30)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def test_require_editor_lets_open_mode_edit_but_not_a_share_session(engine: Engine) -> None:
    init_db(engine)
    at = _guarded()
    assert [b.label for b in at.button] == ["Save revision"] and at.session_state["can_edit"] is True
    at = _guarded(share_session="1", edit="1")
    assert _inputs(at) == {} and "read-only share link" in at.warning[0].value
    assert at.session_state["can_edit"] is False


def test_require_editor_refuses_guests_and_viewers_and_locked_maps(engine: Engine) -> None:
    map_id, _ = _seed(engine)
    workshop = reviews.start_workshop(engine, EDITOR, map_id=map_id)
    reviews.set_workshop_locked(engine, EDITOR, workshop_id=workshop.id, locked=True)
    ana_id, bo_id = _account(engine, "ana"), _account(engine, "bo", display_name="Bo")
    with session_scope(engine) as session:
        # A signed-in session holds its account and its sign-in token, which is checked on every run.
        tokens = {account: start_sign_in(session=session, account_id=account) for account in (ana_id, bo_id)}
    at = _guarded()
    assert at.warning[0].value == "Sign in with an editor account to change maps."
    assert [b.label for b in at.button] == ["Sign in"]  # the sign-in form, never the edit control
    at.session_state[ReviewKeys.ACCOUNT] = {"id": bo_id, "username": "bo", "display_name": "Bo", "role": "viewer"}
    at.session_state[ReviewKeys.SIGN_IN_TOKEN] = tokens[bo_id]
    at.run()
    assert "Bo is a viewer" in at.warning[0].value.replace("\\", "") and _inputs(at) == {}
    at.session_state[ReviewKeys.ACCOUNT] = {"id": ana_id, "username": "ana", "display_name": "Ana", "role": "editor"}
    at.session_state[ReviewKeys.SIGN_IN_TOKEN] = tokens[ana_id]
    at.query_params["map"] = str(map_id)
    at.run()
    assert "A workshop has locked this map" in at.warning[0].value and _inputs(at) == {}
    assert at.session_state["can_edit"] is False
    at.query_params.pop("map")
    at.run()
    assert [b.label for b in at.button] == ["Save revision"] and at.session_state["can_edit"] is True


def test_editor_page_after_a_share_link_has_no_edit_widgets(make_app: MakeApp, engine: Engine) -> None:
    map_id, token = _seed(engine)
    at = make_app("app.py")
    at.query_params["share"] = token
    at.query_params["edit"] = "1"
    at.switch_page("views/view.py").run()
    assert _graph_nodes(at)  # the shared map is shown
    at.query_params["map"] = str(map_id)
    at.switch_page("views/editor.py").run()
    assert not at.exception
    assert "read-only share link" in at.warning[0].value
    # Nothing that edits the map, in the page or in the sidebar.
    assert {kind: len(at.main.get(kind)) for kind in INPUT_WIDGETS if at.main.get(kind)} == {}
    assert not at.sidebar.text_input
    assert not at.sidebar.button
    with session_scope(engine) as session:
        assert len(list_revisions(session=session, map_id=map_id)) == 1


def _second_map(engine: Engine) -> int:
    with session_scope(engine) as session:
        return create_map(
            session=session, journey_map=bopis_map().model_copy(update={"name": "Private"}), author="Ana"
        ).map_id


def test_share_visitor_without_the_token_sees_only_the_shared_map(make_app: MakeApp, engine: Engine) -> None:
    map_id, token = _seed(engine)
    private = _second_map(engine)
    reviews.add_comment(engine, EDITOR, map_id=private, body="Secret plan")
    reviews.add_comment(engine, EDITOR, map_id=map_id, body="Shared note")
    at = make_app("app.py")
    at.query_params["share"] = token
    at.switch_page("views/view.py").run()
    at.query_params.pop("share")
    at.session_state[ReviewKeys.REVIEW_MAP] = private  # forced: the page must not follow it
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Shared map"]
    assert [h.value for h in at.subheader][0] == md(bopis_map().name)
    assert _graph_nodes(at) == sorted(tp.id for tp in bopis_map().touchpoints)
    comments = next(df.value for df in at.dataframe if "Comment" in df.value.columns)
    assert comments["Comment"].tolist() == ["Shared note"]
    assert {kind: len(at.main.get(kind)) for kind in INPUT_WIDGETS if at.main.get(kind)} == {}
