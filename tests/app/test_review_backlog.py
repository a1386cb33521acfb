"""The Review page keeps a map's comments, its opportunity backlog and its share links (open local mode: the owner).

The workspace is one saved BOPIS map, seeded through the store; what the page writes is read back directly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.services import reviews
from journeymap.store import create_map, init_db, session_scope
from journeymap.store.access import list_share_links, resolve_share_link
from journeymap.store.reviews import TargetKind, list_comments, list_opportunities
from journeymap.ui.state import ReviewKeys
from journeymap.ui.text import md
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
PAGE = "views/review.py"
EDITOR = Actor("Ana", Role.EDITOR)


@pytest.fixture
def map_id(engine: Engine) -> int:
    """The only saved map: bopis_map(), saved by Ana."""
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=bopis_map(), author="Ana").map_id


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_review_holds_comments_opportunities_and_share_links_in_that_order(
    make_app: MakeApp, engine: Engine, map_id: int
) -> None:
    reviews.add_comment(engine, EDITOR, map_id=map_id, body="Why two apps?")
    reviews.add_opportunity(engine, EDITOR, map_id=map_id, title="Hand order to desk", touchpoint_id="pickup-desk")
    at = make_app(PAGE).run()
    assert not at.exception, at.exception
    assert [h.value for h in at.main.subheader] == [
        "History",
        "Comments (1 open)",
        "Opportunities",
        "Compare",
        "Differences",
        "Export",
        "Share this map read-only",
    ]
    texts = _texts(at)
    assert "The whole map · Ana: Why two apps?" in texts
    assert "Hand order to desk · Pick-up desk · owner unassigned" in texts
    assert at.main.caption[-1].value == "No share link yet."


def test_a_comment_on_a_touchpoint_is_listed_and_resolved(make_app: MakeApp, engine: Engine, map_id: int) -> None:
    at = make_app(PAGE).run()
    at.selectbox(key=ReviewKeys.COMMENT_TARGET).set_value("touchpoint|pickup-desk")
    at.text_area(key=ReviewKeys.COMMENT_BODY).set_value("Queue is long")
    at.button(key=ReviewKeys.COMMENT_SUBMIT).click().run()
    assert not at.exception, at.exception
    with Session(engine) as session:
        (made,) = list_comments(session=session, map_id=map_id)
    assert (made.author, made.target_kind, made.target_id, made.body) == (
        "Local user",
        TargetKind.TOUCHPOINT,
        "pickup-desk",
        "Queue is long",
    )
    assert "Touchpoint: Pick-up desk · Local user: Queue is long" in _texts(at)
    at.button(key=f"{ReviewKeys.COMMENT_RESOLVE_PREFIX}_{made.id}").click().run()
    with Session(engine) as session:
        assert [c.resolved_by for c in list_comments(session=session, map_id=map_id)] == ["Local user"]
    assert at.main.subheader[1].value == "Comments (0 open)"


def test_the_owner_keeps_the_opportunity_backlog(make_app: MakeApp, engine: Engine, map_id: int) -> None:
    at = make_app(PAGE).run()
    at.text_input(key=ReviewKeys.OPP_TITLE).set_value("Show order at the desk")
    at.selectbox(key=ReviewKeys.OPP_TOUCHPOINT).set_value("pickup-desk")
    at.text_input(key=ReviewKeys.OPP_OWNER).set_value("Stores")
    at.date_input(key=ReviewKeys.OPP_DUE).set_value(date(2027, 1, 15))
    at.button(key=ReviewKeys.OPP_SUBMIT).click().run()
    assert not at.exception, at.exception
    with Session(engine) as session:
        (made,) = list_opportunities(session=session, map_id=map_id)
    assert (made.title, made.touchpoint_id, made.owner, made.due, made.status.value) == (
        "Show order at the desk",
        "pickup-desk",
        "Stores",
        date(2027, 1, 15),
        "open",
    )
    at.selectbox(key=f"{ReviewKeys.OPP_STATUS_PREFIX}_{made.id}").set_value("in progress").run()
    with Session(engine) as session:
        assert [o.status.value for o in list_opportunities(session=session, map_id=map_id)] == ["in progress"]


def test_the_owner_creates_a_share_link_that_opens_the_map_and_revokes_it(
    make_app: MakeApp, engine: Engine, map_id: int
) -> None:
    reviews.create_share_link(engine, EDITOR, map_id=map_id, label="Board")
    at = make_app(PAGE).run()
    at.text_input(key=ReviewKeys.SHARE_LABEL).set_value("Steering group")
    at.selectbox(key=ReviewKeys.SHARE_EXPIRY).set_value("7 days")
    at.button(key=ReviewKeys.SHARE_SUBMIT).click().run()
    assert not at.exception, at.exception
    (shown,) = [c.value for c in at.code]
    assert shown.startswith("view?share=")  # no browser address under AppTest: a path relative to the app
    token = shown.split("share=", 1)[1]
    with Session(engine) as session:
        link = resolve_share_link(session=session, token=token)
    assert (link.map_id, link.label, link.created_by) == (map_id, "Steering group", "Local user")
    assert link.expires_at is not None and timedelta(days=6, hours=23) < link.expires_at - link.created_at
    visitor = make_app("views/view.py")
    visitor.query_params["share"] = token
    visitor.run()
    assert [t.value for t in visitor.title] == [md(bopis_map().name)]
    at.button(key=f"{ReviewKeys.SHARE_REVOKE_PREFIX}_{link.id}").click().run()
    with Session(engine) as session:
        assert [lk.revoked_by for lk in list_share_links(session=session, map_id=map_id)] == ["Local user", None]
    assert [t for t in _texts(at) if t.startswith("Steering group by Local user")][0].endswith(": revoked")
