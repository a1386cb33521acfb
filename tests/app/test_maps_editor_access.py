"""Who may write on the Maps and editor pages, under AppTest.

A viewer, a share-link visitor and a visitor who is not signed in get no control that creates,
imports, saves or restores a map. A control drawn while the session could still edit (a tab left
open while its account was made a viewer, or signed out elsewhere, or turned into a share-link
session) still fires its callback: the service refuses it, the page says so, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col
from streamlit.testing.v1 import AppTest

from journeymap.access import Role
from journeymap.store import (
    MapRevision,
    create_map,
    init_db,
    list_maps,
    list_revisions,
    save_revision,
    session_scope,
)
from journeymap.store.access import UserAccount, create_user, end_sign_in, start_sign_in
from journeymap.store.maps import MapDraft
from journeymap.ui.state import QueryParams, ReviewKeys, StateKeys
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]

CREATE_CONTROLS = {StateKeys.MAPS_TEMPLATE_SUBMIT, StateKeys.MAPS_NEW_SUBMIT, StateKeys.MAPS_IMPORT_SUBMIT}
EDIT_CONTROLS = {
    StateKeys.SAVE_SUBMIT,
    StateKeys.IMPORT_SUBMIT,
    StateKeys.RESTORE_READABLE,
    StateKeys.DISCARD_DRAFT,
    StateKeys.TR_SUBMIT,
    StateKeys.STAGE_ADD,
}
VIEWER_REFUSAL = (
    "Vera: viewers may not edit maps. Ask an editor to do this for you, or the owner to make you an editor."
)
SIGNED_OUT_REFUSAL = (
    "Guest: visitors who are not signed in may not edit maps. Sign in with an account that may do this."
)
SHARE_REFUSAL = "Share link: share-link visitors may not edit maps."


@dataclass(frozen=True)
class Workspace:
    """The bopis map saved by the owner, and a signed-in token per account."""

    map_id: int
    tokens: dict[str, tuple[int, str]]


@pytest.fixture
def workspace(engine: Engine) -> Workspace:
    init_db(engine)
    tokens: dict[str, tuple[int, str]] = {}
    with session_scope(engine) as session:
        for username, role in (("olive", Role.OWNER), ("eddie", Role.EDITOR), ("vera", Role.VIEWER)):
            account = create_user(
                session=session, username=username, password="correct horse", role=role, display_name=username.title()
            )
            tokens[username] = (account.id, start_sign_in(session=session, account_id=account.id))
        map_id = create_map(session=session, journey_map=bopis_map(), author="Olive").map_id
    return Workspace(map_id, tokens)


def _as(at: AppTest, workspace: Workspace, who: str) -> AppTest:
    """Sign the session in as ``who`` (an account), or make it a share-link visitor or a signed-out one."""
    if who in workspace.tokens:
        account_id, token = workspace.tokens[who]
        at.session_state[ReviewKeys.ACCOUNT] = {"id": account_id}
        at.session_state[ReviewKeys.SIGN_IN_TOKEN] = token
    elif who == "share_link":
        at.session_state[ReviewKeys.SHARE_MAP_ID] = workspace.map_id
    return at


def _maps_page(make_app: MakeApp, workspace: Workspace, who: str) -> AppTest:
    # Through the app's navigation, as a browser opens it (page links need it).
    at = _as(make_app(), workspace, who)
    at.switch_page("views/maps.py").run()
    assert not at.exception, at.exception
    return at


def _editor(make_app: MakeApp, workspace: Workspace, who: str) -> AppTest:
    at = make_app()
    at.query_params[QueryParams.MAP] = str(workspace.map_id)
    at.query_params[QueryParams.CLIENT] = "tab-1"
    _as(at, workspace, who).switch_page("views/editor.py").run()
    assert not at.exception, at.exception
    return at


def _texts(elements: object) -> list[str]:
    return [str(e.value).replace("\\", "") for e in elements]  # type: ignore[attr-defined]


def _everything(engine: Engine) -> tuple[list[tuple[int, int]], int]:
    """(map id, revision count) of every map, and the number of drafts: what a refused write leaves alone."""
    with session_scope(engine) as session:
        maps = [(m.id, m.revision_count) for m in list_maps(session=session, include_archived=True)]
        drafts = len(session.exec(MapDraft.__table__.select()).all())  # type: ignore[attr-defined]
    return maps, drafts


def _demote(engine: Engine, workspace: Workspace, who: str) -> None:
    with session_scope(engine) as session:
        session.exec(
            update(UserAccount).where(col(UserAccount.id) == workspace.tokens[who][0]).values(role=Role.VIEWER.value)
        )


def _sign_out_elsewhere(engine: Engine, workspace: Workspace, who: str) -> None:
    with session_scope(engine) as session:
        end_sign_in(session=session, token=workspace.tokens[who][1])


# --- what each person is offered --------------------------------------------------------------------------------


def test_an_editor_is_offered_every_write(make_app: MakeApp, workspace: Workspace) -> None:
    assert {b.key for b in _maps_page(make_app, workspace, "eddie").button} >= CREATE_CONTROLS
    editor = _editor(make_app, workspace, "eddie")
    assert {StateKeys.SAVE_SUBMIT, StateKeys.IMPORT_SUBMIT, StateKeys.TR_SUBMIT} <= {b.key for b in editor.button}


def test_a_viewer_reads_the_maps_page_without_create_controls(make_app: MakeApp, workspace: Workspace) -> None:
    at = _maps_page(make_app, workspace, "vera")
    assert bopis_map().name in at.dataframe[0].value["Name"].tolist()
    assert _texts(at.info) == ["Vera may read maps here; creating one needs an editor account."]
    assert not CREATE_CONTROLS & {b.key for b in at.button}
    assert not at.file_uploader


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("signed_out", "Guest: visitors who are not signed in may not read the workspace."),
        ("share_link", "Share link: share-link visitors may not read the workspace."),
    ],
)
def test_a_visitor_gets_neither_the_workspace_nor_create_controls(
    make_app: MakeApp, workspace: Workspace, who: str, refusal: str
) -> None:
    at = _maps_page(make_app, workspace, who)
    (warning,) = _texts(at.main.warning)
    assert warning.startswith(refusal)
    assert not at.dataframe and not CREATE_CONTROLS & {b.key for b in at.button}


@pytest.mark.parametrize(
    ("who", "warning"),
    [
        ("vera", "Vera is a viewer: only editors can change maps."),
        ("signed_out", "Sign in with an editor account to change maps."),
        ("share_link", "This session opened a read-only share link: editing is not available."),
    ],
)
def test_the_editor_offers_no_write_to_others(make_app: MakeApp, workspace: Workspace, who: str, warning: str) -> None:
    at = _editor(make_app, workspace, who)
    assert _texts(at.main.warning) == [warning]
    assert not EDIT_CONTROLS & {b.key for b in at.button}
    assert not at.get("component_instance") or all(
        getattr(c.proto, "component_name", "") != "streamlit_agraph.agraph" for c in at.get("component_instance")
    )


# --- writes forced through a control drawn earlier --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda engine, ws, at: _demote(engine, ws, "eddie"), "Eddie: viewers may not edit maps."),
        (lambda engine, ws, at: _sign_out_elsewhere(engine, ws, "eddie"), SIGNED_OUT_REFUSAL),
        (
            lambda engine, ws, at: (
                at.session_state.__setitem__(ReviewKeys.ACCOUNT, None)
                or at.session_state.__setitem__(ReviewKeys.SHARE_MAP_ID, ws.map_id)
            ),
            SHARE_REFUSAL,
        ),
    ],
    ids=["made a viewer", "signed out elsewhere", "now a share link"],
)
@pytest.mark.parametrize("control", sorted(CREATE_CONTROLS - {StateKeys.MAPS_IMPORT_SUBMIT}))
def test_a_forced_create_on_the_maps_page_writes_nothing(
    make_app: MakeApp,
    engine: Engine,
    workspace: Workspace,
    change: Callable[[Engine, Workspace, AppTest], object],
    refusal: str,
    control: str,
) -> None:
    at = _maps_page(make_app, workspace, "eddie")
    at.text_input(key=StateKeys.MAPS_NEW_NAME).set_value("Sneaky map")
    before = _everything(engine)
    change(engine, workspace, at)
    at.button(key=control).click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Maps"  # not taken to the editor
    assert any(e.startswith(refusal) for e in _texts(at.error)), _texts(at.error)
    assert not CREATE_CONTROLS & {b.key for b in at.button}
    assert _everything(engine) == before


def test_a_forced_import_on_the_maps_page_writes_nothing(
    make_app: MakeApp, engine: Engine, workspace: Workspace
) -> None:
    at = _maps_page(make_app, workspace, "eddie")
    at.file_uploader(key=StateKeys.MAPS_IMPORT_FILE).set_value(
        ("bopis.json", bopis_map().model_dump_json().encode(), "application/json")
    )
    at.run()
    before = _everything(engine)
    _demote(engine, workspace, "eddie")
    at.button(key=StateKeys.MAPS_IMPORT_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert any(e.startswith("Eddie: viewers may not edit maps.") for e in _texts(at.error)), _texts(at.error)
    assert _everything(engine) == before


def _edited(make_app: MakeApp, workspace: Workspace) -> AppTest:
    """Eddie's editor with one accepted edit (a new stage, kept as this browser's draft)."""
    at = _editor(make_app, workspace, "eddie")
    at.text_input(key=StateKeys.STAGE_NAME).set_value("Aftercare")
    at.button(key=StateKeys.STAGE_ADD).click().run()
    assert not at.exception and [s.name for s in at.session_state[StateKeys.WORKING_MAP].stages][-1] == "Aftercare"
    return at


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda engine, ws, at: _demote(engine, ws, "eddie"), "Eddie: viewers may not edit maps."),
        (lambda engine, ws, at: _sign_out_elsewhere(engine, ws, "eddie"), SIGNED_OUT_REFUSAL),
    ],
    ids=["made a viewer", "signed out elsewhere"],
)
@pytest.mark.parametrize("control", [StateKeys.SAVE_SUBMIT, StateKeys.DISCARD_DRAFT, StateKeys.STAGE_ADD])
def test_a_forced_write_in_the_editor_writes_nothing(
    make_app: MakeApp,
    engine: Engine,
    workspace: Workspace,
    change: Callable[[Engine, Workspace, AppTest], object],
    refusal: str,
    control: str,
) -> None:
    at = _edited(make_app, workspace)
    at.text_input(key=StateKeys.STAGE_NAME).set_value("Second thoughts")
    before = _everything(engine)
    assert before[1] == 1  # the draft of the first edit
    change(engine, workspace, at)
    at.button(key=control).click().run()
    assert not at.exception, at.exception
    assert any(e.startswith(refusal) for e in _texts(at.error)), _texts(at.error)
    assert not EDIT_CONTROLS & {b.key for b in at.button}
    assert _everything(engine) == before
    with session_scope(engine) as session:
        assert [r.number for r in list_revisions(session=session, map_id=workspace.map_id)] == [1]


def test_a_forced_restore_of_a_damaged_map_writes_nothing(
    make_app: MakeApp, engine: Engine, workspace: Workspace
) -> None:
    with session_scope(engine) as session:  # revision 2 no longer reads; revision 1 does
        newer = save_revision(
            session=session,
            map_id=workspace.map_id,
            journey_map=bopis_map().model_copy(update={"description": "v2"}),
            author="Olive",
            message="v2",
            base_revision_id=list_revisions(session=session, map_id=workspace.map_id)[0].id,
        )
        session.exec(update(MapRevision).where(col(MapRevision.id) == newer.id).values(document="{}"))
    at = _editor(make_app, workspace, "eddie")
    assert StateKeys.RESTORE_READABLE in {b.key for b in at.button}
    before = _everything(engine)
    _demote(engine, workspace, "eddie")
    at.button(key=StateKeys.RESTORE_READABLE).click().run()
    assert not at.exception, at.exception
    assert any(e.startswith("Eddie: viewers may not edit maps.") for e in _texts(at.error)), _texts(at.error)
    assert StateKeys.RESTORE_READABLE not in {b.key for b in at.button}
    assert _everything(engine) == before
