"""Who sees what on the Review page: a share-link visitor reviews their one map only, a visitor who is not
signed in sees no map, and a restore drawn before a sign-in ended writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.store import create_map, init_db, list_revisions, save_revision, session_scope
from journeymap.store.access import create_user
from journeymap.ui.state import ReviewKeys, StateKeys
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
PAGE = "views/review.py"
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
