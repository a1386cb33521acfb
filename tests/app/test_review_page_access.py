"""Who sees what on the Review page: a share-link visitor reviews their one map only and writes nothing, a
viewer comments but keeps no backlog and shares nothing, a visitor who is not signed in sees no map, and a
control drawn before a sign-in ended writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.services import reviews
from journeymap.store import create_map, init_db, list_revisions, save_revision, session_scope
from journeymap.store.access import create_user, list_share_links
from journeymap.store.reviews import TargetKind, list_comments, list_opportunities, review_counts
from journeymap.ui.state import ReviewKeys, StateKeys
from tests.app.signing import sign_in
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
PAGE = "views/review.py"
EDITOR = Actor("Ana", Role.EDITOR)
REFUSED = "Share link: share-link visitors may not read this map. Sign in with an account that may do this."


@pytest.fixture
def two_maps(engine: Engine) -> tuple[int, int]:
    """The shared map (two revisions) and a private one nobody shared."""
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=bopis_map(), author="Ana", message="First draft")
        save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=bopis_map().model_copy(update={"description": "v2"}),
            author="Bo",
            message="Described",
            base_revision_id=first.id,
        )
        private = create_map(
            session=session, journey_map=bopis_map().model_copy(update={"name": "Private plans"}), author="Ana"
        )
    return first.map_id, private.map_id


def _account(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session=session, username="ana", password="correct horse")


def _plain(elements: Any) -> list[str]:
    return [str(e.value).replace("\\", "") for e in elements]


def _history(at: AppTest) -> list[list[Any]]:
    (frame,) = [df.value for df in at.dataframe if list(df.value.columns)[:2] == ["Revision", "Author"]]
    return frame[["Revision", "Author", "Message"]].values.tolist()


def _shared_session(make_app: MakeApp, engine: Engine, map_id: int) -> AppTest:
    _account(engine)  # a workspace with an owner: the link's visitor is no local editor
    at = make_app(PAGE)
    at.session_state[ReviewKeys.SHARE_MAP_ID] = map_id
    return at


def test_share_link_visitor_reviews_only_the_shared_map(
    make_app: MakeApp, engine: Engine, two_maps: tuple[int, int]
) -> None:
    shared, private = two_maps
    at = _shared_session(make_app, engine, shared).run()
    assert not at.exception, at.exception
    assert at.selectbox(key=ReviewKeys.PICK_MAP).options == [f"{bopis_map().name} (#{shared}, 2 revisions)"]
    assert at.selectbox(key=f"{ReviewKeys.OTHER_MAP}_{shared}").options == ["Another revision of this map"]
    assert _history(at) == [[2, "Bo", "Described"], [1, "Ana", "First draft"]]
    assert at.selectbox(key=f"{ReviewKeys.RESTORE_CHOICE}_{shared}").disabled
    assert at.button(key=ReviewKeys.RESTORE_SUBMIT).disabled
    # The report is the shared map's; workspace assessments are not offered.
    assessment = at.selectbox(key=ReviewKeys.EXPORT_ASSESSMENT)
    assert (assessment.options, assessment.disabled) == (["None"], True)
    assert [b.proto.label for b in at.get("download_button")][:2] == ["Download JSON", "Download HTML report"]  # type: ignore[attr-defined]
    assert at.error == []


def test_share_link_visitor_reads_the_shared_maps_comments_and_backlog_and_writes_none(
    make_app: MakeApp, engine: Engine, two_maps: tuple[int, int]
) -> None:
    shared, private = two_maps
    reviews.add_comment(engine, EDITOR, map_id=shared, body="Shared note")
    reviews.add_comment(engine, EDITOR, map_id=private, body="Secret plan")
    reviews.add_opportunity(engine, EDITOR, map_id=shared, title="Fix desk", touchpoint_id="pickup-desk")
    reviews.create_share_link(engine, EDITOR, map_id=shared, label="Board")
    at = _shared_session(make_app, engine, shared).run()
    assert not at.exception, at.exception
    texts = [t.value for t in at.text]
    assert "The whole map · Ana: Shared note" in texts and not [t for t in texts if "Secret plan" in t]
    assert "Fix desk · Pick-up desk · owner unassigned" in texts and "open" in texts  # the status, as text
    keys = [w.key or "" for w in [*at.button, *at.selectbox, *at.text_area, *at.text_input]]
    assert [k for k in keys if k.startswith(("jm_comment", "jm_opp", "jm_share"))] == []
    assert "Share this map read-only" not in [h.value for h in at.subheader]
    assert not [t for t in texts if t.startswith("Board by")]  # the links to the map are not listed either


def test_viewer_comments_and_resolves_own_but_cannot_manage_the_backlog(
    make_app: MakeApp, engine: Engine, two_maps: tuple[int, int]
) -> None:
    shared, _ = two_maps
    _account(engine)
    other = reviews.add_comment(engine, EDITOR, map_id=shared, body="Editor note")
    reviews.add_opportunity(engine, EDITOR, map_id=shared, title="Fix desk", touchpoint_id="pickup-desk")
    at = sign_in(make_app(PAGE), engine, "Bo", Role.VIEWER)
    at.session_state[ReviewKeys.PICK_MAP] = shared
    at.run()
    at.selectbox(key=ReviewKeys.COMMENT_TARGET).set_value("touchpoint|pickup-desk")
    at.text_area(key=ReviewKeys.COMMENT_BODY).set_value("Queue is long")
    at.button(key=ReviewKeys.COMMENT_SUBMIT).click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        mine = list_comments(session=session, map_id=shared, target_kind=TargetKind.TOUCHPOINT)
    assert [(c.author, c.target_id, c.body) for c in mine] == [("Bo", "pickup-desk", "Queue is long")]
    assert "Touchpoint: Pick-up desk · Bo: Queue is long" in [t.value for t in at.text]
    resolve_keys = [b.key for b in at.button if b.key and b.key.startswith(ReviewKeys.COMMENT_RESOLVE_PREFIX)]
    assert resolve_keys == [f"{ReviewKeys.COMMENT_RESOLVE_PREFIX}_{mine[0].id}"]  # not the editor's comment
    assert f"{ReviewKeys.COMMENT_RESOLVE_PREFIX}_{other.id}" not in resolve_keys
    at.button(key=resolve_keys[0]).click().run()
    with session_scope(engine) as session:
        assert review_counts(session=session, map_id=shared).open_comments == 1
    # The backlog is read-only for a viewer: no status selectbox, no form, no share links.
    assert "Fix desk · Pick-up desk · owner unassigned" in [t.value for t in at.text]
    assert [s.key for s in at.selectbox if s.key.startswith(("jm_opp", "jm_share"))] == []
    assert ReviewKeys.OPP_SUBMIT not in [b.key for b in at.button]
    assert ReviewKeys.SHARE_SUBMIT not in [b.key for b in at.button]


@pytest.mark.parametrize("forced", [ReviewKeys.PICK_MAP, StateKeys.MAP_ID])
def test_forcing_another_map_is_refused_with_a_message(
    make_app: MakeApp, engine: Engine, two_maps: tuple[int, int], forced: str
) -> None:
    shared, private = two_maps
    at = _shared_session(make_app, engine, shared)
    at.session_state[forced] = private
    at.run()
    assert not at.exception, at.exception
    assert _plain(at.error) == [REFUSED]
    assert at.selectbox(key=ReviewKeys.PICK_MAP).value == shared
    assert _history(at) == [[2, "Bo", "Described"], [1, "Ana", "First draft"]]
    assert "Private plans" not in " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.selectbox])


def test_signed_out_visitor_sees_no_map(make_app: MakeApp, engine: Engine, two_maps: tuple[int, int]) -> None:
    _account(engine)
    at = make_app(PAGE).run()
    assert not at.exception, at.exception
    assert _plain(at.info) == ["Sign in (in the sidebar) to review maps, or open the share link you were sent."]
    assert len(at.main.selectbox) == 0 and len(at.dataframe) == 0 and at.get("download_button") == []


def test_a_restore_drawn_before_the_sign_in_ended_writes_nothing(
    make_app: MakeApp, engine: Engine, two_maps: tuple[int, int]
) -> None:
    shared, _ = two_maps
    at = make_app(PAGE).run()  # open local mode: the owner may restore
    at.selectbox(key=ReviewKeys.PICK_MAP).set_value(shared).run()
    assert not at.button(key=ReviewKeys.RESTORE_SUBMIT).disabled
    _account(engine)  # open mode ends: this browser is now a visitor who is not signed in
    at.button(key=ReviewKeys.RESTORE_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert _plain(at.error) == [
        "Guest: visitors who are not signed in may not edit maps. Sign in with an account that may do this."
    ]
    with session_scope(engine) as session:
        assert [r.number for r in list_revisions(session=session, map_id=shared)] == [2, 1]


CONTROLS = {
    "add opportunity": (ReviewKeys.OPP_SUBMIT, "manage opportunities"),
    "resolve comment": (f"{ReviewKeys.COMMENT_RESOLVE_PREFIX}_1", "comment"),  # a visitor may not even comment
    "revoke share link": (f"{ReviewKeys.SHARE_REVOKE_PREFIX}_1", "manage share links"),
    "add comment": (ReviewKeys.COMMENT_SUBMIT, "comment"),
}


@pytest.mark.parametrize("control", list(CONTROLS))
def test_a_review_control_drawn_before_the_sign_in_ended_writes_nothing(
    make_app: MakeApp, engine: Engine, two_maps: tuple[int, int], control: str
) -> None:
    shared, _ = two_maps
    reviews.add_comment(engine, Actor("Vera", Role.VIEWER), map_id=shared, body="Viewer note")
    reviews.create_share_link(engine, EDITOR, map_id=shared, label="Board")
    at = make_app(PAGE).run()  # open local mode: the owner's controls are drawn
    at.selectbox(key=ReviewKeys.PICK_MAP).set_value(shared).run()
    at.text_input(key=ReviewKeys.OPP_TITLE).set_value("Sneaky")
    at.text_area(key=ReviewKeys.COMMENT_BODY).set_value("Sneaky")
    with session_scope(engine) as session:
        before = (
            list_comments(session=session, map_id=shared),
            list_opportunities(session=session, map_id=shared),
            list_share_links(session=session, map_id=shared),
        )
    _account(engine)  # open mode ends: this browser is now a visitor who is not signed in
    key, action = CONTROLS[control]
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    assert _plain(at.error) == [
        f"Guest: visitors who are not signed in may not {action}. Sign in with an account that may do this."
    ]
    assert _plain(at.info) == ["Sign in (in the sidebar) to review maps, or open the share link you were sent."]
    with session_scope(engine) as session:
        after = (
            list_comments(session=session, map_id=shared),
            list_opportunities(session=session, map_id=shared),
            list_share_links(session=session, map_id=shared),
        )
    assert after == before
