"""Who may register event data on the Overlay page: editors only, and edits of a map only while it is unlocked.

A signed-out visitor, a share-link visitor and a viewer get no upload, no "File on the server", no
demo ingest, no column mapping and no "Create touchpoints from data"; a write forced through a
callback (a stale tab, a crafted request) is refused with a message, not a traceback, and writes
nothing. An editor on a map a workshop has locked may register data but not add touchpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from streamlit.testing.v1 import AppTest

import journeymap.ui.access as ui_access
from journeymap.access import Actor, Role
from journeymap.services.data import RawSource, hash_file
from journeymap.store import create_map, init_db, session_scope
from journeymap.store.access import UserAccount
from journeymap.store.reviews import Workshop
from journeymap.ui.state import OverlayKeys
from tests.app.test_overlay_page import EVENTS, support_map

PAGE = "views/overlay.py"
FAQ_EVENTS = EVENTS + "c3,2024-05-01T11:20:00Z,web,Read FAQ,,regular\n"


@pytest.fixture
def support_map_id(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(tmp_path))
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=support_map(), author="Test").map_id


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with Session(engine) as session:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in session.connection().execute(select(table)))
            for table in SQLModel.metadata.sorted_tables
        }


def _acting(monkeypatch: pytest.MonkeyPatch, actor: Actor) -> None:
    """The page (and its callbacks) see ``actor`` as the person in this browser session."""
    monkeypatch.setattr(ui_access, "current_actor", lambda engine: actor)


def _account(engine: Engine, name: str, role: Role) -> Actor:
    with session_scope(engine) as session:
        row = UserAccount(username=name.lower(), display_name=name, role=role.value, password_hash="-")
        session.add(row)
        session.flush()
        assert row.id is not None
        return Actor(name, role, account_id=row.id)


@pytest.fixture
def faq_source(tmp_path: Path) -> Iterator[RawSource]:
    path = tmp_path / "faq.csv"
    path.write_text(FAQ_EVENTS, encoding="utf-8")
    yield RawSource(str(path), path.name, hash_file(path))


def _keys(elements: Any) -> list[str]:
    return [str(el.key) for el in elements if el.key]


def _no_write_controls(at: AppTest) -> None:
    assert OverlayKeys.PATH not in _keys(at.text_input)
    assert OverlayKeys.PATH_SUBMIT not in _keys(at.button)
    assert not at.get("file_uploader")
    assert not [k for k in _keys(at.button) if k.startswith(OverlayKeys.M_APPLY)]
    assert not [k for k in _keys(at.checkbox) if k.startswith(OverlayKeys.M_CREATE)]
    demo = [b for b in at.button if b.key == OverlayKeys.DEMO]
    assert all(b.disabled for b in demo)


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("signed_out", "The overlay reads the workspace's event data: sign in with an account to see it."),
        ("share_link", "A share link opens its one map, not the workspace's event data: the overlay is for signed-in "
                       "accounts."),
    ],
)  # fmt: skip
def test_visitors_without_an_account_see_no_data_and_no_control(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    engine: Engine,
    faq_source: RawSource,
    monkeypatch: pytest.MonkeyPatch,
    who: str,
    message: str,
) -> None:
    _account(engine, "Olive", Role.OWNER)  # the workspace has accounts: no open local mode
    actor = (
        Actor("Guest", Role.GUEST) if who == "signed_out" else Actor("Share link", Role.GUEST, map_scope=support_map_id)
    )
    _acting(monkeypatch, actor)
    before = _rows(engine)
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.session_state[OverlayKeys.SOURCE] = faq_source  # forced: as if a file had been read
    at.run()
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [message]
    _no_write_controls(at)
    assert not at.selectbox  # not even the list of maps or of datasets
    assert _rows(engine) == before


def test_a_viewer_reads_saved_datasets_but_registers_nothing(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    engine: Engine,
    faq_source: RawSource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _account(engine, "Olive", Role.OWNER)
    _acting(monkeypatch, _account(engine, "Vera", Role.VIEWER))
    before = _rows(engine)
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.run()
    assert not at.exception, at.exception
    _no_write_controls(at)
    assert [i.value for i in at.info] == ["No dataset has been ingested yet.", "Open a saved dataset above."]
    # A file forced into the session: the mapping step is not offered.
    at.session_state[OverlayKeys.SOURCE] = faq_source
    at.run()
    assert not at.exception, at.exception
    _no_write_controls(at)
    assert [w.value for w in at.warning] == ["Only editors can register event data: sign in with an editor account."]
    assert _rows(engine) == before


def test_an_editor_may_not_add_touchpoints_to_a_locked_map(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    engine: Engine,
    faq_source: RawSource,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _account(engine, "Olive", Role.OWNER)
    _acting(monkeypatch, _account(engine, "Eddie", Role.EDITOR))
    with session_scope(engine) as session:
        session.add(Workshop(map_id=support_map_id, join_code="ABC234", facilitator="Olive", locked=True))
    before = _rows(engine)
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.session_state[OverlayKeys.SOURCE] = faq_source
    at.run()
    create = next(c for c in at.checkbox if str(c.key).startswith(OverlayKeys.M_CREATE))
    assert create.disabled
    at.session_state[str(create.key)] = True  # forced, as a stale tab or a crafted request would
    at.run()
    next(b for b in at.button if str(b.key).startswith(OverlayKeys.M_APPLY)).click().run()
    assert not at.exception, at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [
        f"map {support_map_id}: a workshop has locked this map. "
        "Edits are refused until the facilitator unlocks it or closes the workshop."
    ]
    assert _rows(engine) == before  # no revision, no dataset, no saved mapping
    logs = tmp_path / "datasets" / "logs"
    assert not logs.exists() or not list(logs.iterdir())  # and no cache file


def test_a_click_after_the_role_was_lowered_is_refused_with_a_message(
    make_app: Callable[..., AppTest], support_map_id: int, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tab drawn for an editor, whose account was made a viewer since: its demo button still fires."""
    _account(engine, "Olive", Role.OWNER)
    eddie = _account(engine, "Eddie", Role.EDITOR)
    _acting(monkeypatch, eddie)
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.run()
    assert not at.button(key=OverlayKeys.DEMO).disabled
    with session_scope(engine) as session:
        row = session.get(UserAccount, eddie.account_id)
        assert row is not None
        row.role = Role.VIEWER.value
        session.add(row)
    before = _rows(engine)
    at.button(key=OverlayKeys.DEMO).click().run()
    assert not at.exception, at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [
        "Eddie: viewers may not register event data. Ask an editor to do this for you, or the owner to make you "
        "an editor."
    ]
    assert _rows(engine) == before
