"""Access and whole-transaction problems as a user meets them, under AppTest.

Each test drives the app (``app.py``, so the page runs under the same navigation as in a browser)
and asserts what the page says, and that no exception reached Streamlit:

- a signed-out visitor opening ``/`` once an account exists (two sign-in forms on one page);
- throttled sign-ins, and a successful one once the wait is over;
- a sign-out in one tab making another open tab read-only at its next interaction;
- open local mode offered only to a browser on the server's own machine;
- a map name over 200 characters refused before it is saved, and a damaged stored map;
- a read-only, damaged, locked SQLite database and an unreachable PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col
from streamlit.testing.v1 import AppTest

from journeymap.demo import seed_demo
from journeymap.model import JourneyMap, map_to_json
from journeymap.store import (
    MapDraft,
    MapRevision,
    create_map,
    db,
    init_db,
    list_maps,
    list_revisions,
    save_revision,
    session_scope,
)
from journeymap.store.access import SignInFailure, create_user
from journeymap.templates import list_templates
from journeymap.ui import access as ui_access
from journeymap.ui.access import SIGNED_OUT_NOTE
from journeymap.ui.state import OverlayKeys, QueryParams, ReviewKeys, StateKeys
from tests.app.signing import sign_in
from tests.db_faults import closed_port, damage, damage_table, read_only, write_locked
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
MAIN = "main"  # the edit guard's sign-in form, beside the sidebar's


def _text(elements: object) -> list[str]:
    return [str(e.value).replace("\\", "") for e in elements]  # type: ignore[attr-defined]


def _with_account(engine: Engine) -> None:
    init_db(engine)
    with session_scope(engine) as session:
        seed_demo(session)
        create_user(session=session, username="ana", password="correct horse", display_name="Ana")


def _editor(make_app: MakeApp) -> AppTest:
    """The app (its navigation included) opened on the map editor, as ``/editor`` opens it."""
    at = make_app()
    at.switch_page("views/editor.py")
    return at


def _sign_in(at: AppTest, password: str, *, place: str = "sidebar") -> AppTest:
    suffix = "" if place == "sidebar" else f"_{place}"
    at.text_input(key=ReviewKeys.SIGNIN_USER + suffix).set_value("ana")
    at.text_input(key=ReviewKeys.SIGNIN_PASSWORD + suffix).set_value(password)
    return at.button(key=ReviewKeys.SIGNIN_SUBMIT + suffix).click().run()


def _sidebar_captions(at: AppTest) -> list[str]:
    return _text(at.sidebar.caption)


# --- 2. a signed-out visitor opening / ------------------------------------------------------------------------


def test_signed_out_visitor_opening_root_sees_one_working_sign_in_form(make_app: MakeApp, engine: Engine) -> None:
    _with_account(engine)
    at = _editor(make_app).run()
    assert not at.exception, at.exception
    assert _text(at.warning) == ["Sign in with an editor account to change maps."]
    # Two forms, the sidebar's and the guard's, with their own keys.
    keys = {b.key for b in at.button}
    assert {ReviewKeys.SIGNIN_SUBMIT, f"{ReviewKeys.SIGNIN_SUBMIT}_{MAIN}"} <= keys
    assert StateKeys.SAVE_SUBMIT not in keys

    at = _sign_in(at, "wrong horse", place=MAIN)
    assert not at.exception
    assert any("wrong username or password" in e for e in _text(at.main.error))
    at = _sign_in(at, "correct horse", place=MAIN)
    assert not at.exception
    assert "Signed in as Ana (owner)." in _sidebar_captions(at)
    assert StateKeys.SAVE_SUBMIT in {b.key for b in at.button}


# --- 1. throttled sign-ins -----------------------------------------------------------------------------------


def test_failed_sign_ins_are_throttled_with_a_time_then_the_right_password_works(
    make_app: MakeApp, engine: Engine
) -> None:
    _with_account(engine)
    at = _editor(make_app)
    at.switch_page("views/maps.py").run()
    for _ in range(5):
        at = _sign_in(at, "wrong horse")
        assert any("wrong username or password" in e for e in _text(at.sidebar.error))
    at = _sign_in(at, "correct horse")  # the right password, too soon
    assert not at.exception
    (refusal,) = _text(at.sidebar.error)
    assert refusal.startswith("sign in: too many failed sign-ins for this username in the last 15 minutes. Try again ")
    assert refusal.endswith("UTC (in 15 minutes).")
    assert ReviewKeys.ACCOUNT not in at.session_state

    # Fifteen minutes later (the failures are moved back in time in the database):
    with session_scope(engine) as session:
        session.exec(update(SignInFailure).values(failed_at=col(SignInFailure.failed_at) - timedelta(minutes=16)))
    at = _sign_in(at, "correct horse")
    assert not at.exception
    assert "Signed in as Ana (owner)." in _sidebar_captions(at)


# --- 3. signing out ends every tab -----------------------------------------------------------------------------


def test_signing_out_in_one_tab_makes_the_other_read_only_at_its_next_interaction(
    make_app: MakeApp, engine: Engine
) -> None:
    _with_account(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    first = _editor(make_app)
    first.switch_page("views/maps.py").run()
    first = _sign_in(first, "correct horse")
    # The second tab of the same browser: the cookie gives it the same sign-in token.
    second = _editor(make_app)
    second.session_state[ReviewKeys.ACCOUNT] = first.session_state[ReviewKeys.ACCOUNT]
    second.session_state[ReviewKeys.SIGN_IN_TOKEN] = first.session_state[ReviewKeys.SIGN_IN_TOKEN]
    second.query_params[QueryParams.MAP] = str(map_id)
    second.run()
    assert "Signed in as Ana (owner)." in _sidebar_captions(second)
    assert StateKeys.SAVE_SUBMIT in {b.key for b in second.button}

    first.button(key=ReviewKeys.SIGNOUT).click().run()
    assert SIGNED_OUT_NOTE in _sidebar_captions(first)

    # The second tab's next interaction is its Save button, drawn while it was still an editor.
    second.button(key=StateKeys.SAVE_SUBMIT).click().run()
    assert not second.exception
    with session_scope(engine) as session:
        assert [r.number for r in list_revisions(session=session, map_id=map_id)] == [1]
    assert ReviewKeys.ACCOUNT not in second.session_state
    assert SIGNED_OUT_NOTE in _sidebar_captions(second)
    assert any("You were signed out" in i for i in _text(second.sidebar.info))
    assert _text(second.main.warning) == ["Sign in with an editor account to change maps."]
    assert StateKeys.SAVE_SUBMIT not in {b.key for b in second.button}


# --- 4. open local mode only on loopback ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "headers"),
    [("192.0.2.7", {}), ("2001:db8::7", {}), (None, {"X-Forwarded-For": "203.0.113.9"})],
    ids=["remote-ipv4", "remote-ipv6", "behind-a-proxy"],
)
def test_open_local_mode_is_refused_to_a_browser_elsewhere(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, address: str | None, headers: dict[str, str]
) -> None:
    monkeypatch.setattr(ui_access, "_client_address", lambda: (address, headers))
    at = _editor(make_app).run()  # no account exists: open local mode
    assert not at.exception
    (warning,) = _text(at.main.warning)
    assert warning.startswith("No account exists yet, and this browser is not on the machine that runs Journeymap")
    assert "create the owner account under Access → Require sign-in" in warning
    assert "http://localhost:8501" in warning
    keys = {b.key for b in at.button}
    assert StateKeys.SAVE_SUBMIT not in keys and ReviewKeys.FIRST_SUBMIT not in keys


def test_open_local_mode_on_the_servers_own_machine(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui_access, "_client_address", lambda: ("127.0.0.1", {"Host": "localhost:8501"}))
    at = _editor(make_app).run()
    assert not at.exception
    assert not [w for w in _text(at.warning) if w.startswith("No account exists yet")]
    assert "Open local mode: no account exists yet, so everyone on this machine can edit." in _sidebar_captions(at)
    keys = {b.key for b in at.button}
    assert StateKeys.SAVE_SUBMIT in keys and ReviewKeys.FIRST_SUBMIT in keys


# --- 5. nothing saved can fail to load -------------------------------------------------------------------------


def test_a_template_name_over_200_characters_is_refused_with_the_field_named(make_app: MakeApp, engine: Engine) -> None:
    at = _editor(make_app).run()
    at.switch_page("views/maps.py").run()
    at.text_input(key=StateKeys.MAPS_TEMPLATE_NAME).set_value("R" * 250)
    at.button(key=StateKeys.MAPS_TEMPLATE_SUBMIT).click().run()
    assert not at.exception
    assert _text(at.error) == [
        "save map, field 'name': String should have at most 200 characters. "
        "Nothing was saved: shorten or correct that field and save again."
    ]
    with session_scope(engine) as session:
        assert len(list_maps(session=session)) == len(list_templates())


def _damaged_map(engine: Engine) -> tuple[int, int]:
    """A map whose revision 2 was stored with a 250-character name; revision 1 reads."""
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=bopis_map(), author="Ana")
        second = save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=bopis_map().model_copy(update={"description": "v2"}),
            author="Bo",
            message="v2",
            base_revision_id=first.id,
        )
        document = map_to_json(JourneyMap(name="x")).replace('"name": "x"', f'"name": "{"R" * 250}"')
        session.exec(update(MapRevision).where(col(MapRevision.id) == second.id).values(document=document))
    return first.map_id, second.id


def test_picking_a_damaged_map_on_overlay_names_it_and_its_last_readable_revision(
    make_app: MakeApp, engine: Engine
) -> None:
    map_id, _ = _damaged_map(engine)
    at = _editor(make_app)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.switch_page("views/overlay.py").run()
    assert not at.exception, at.exception
    (message,) = _text(at.error)
    assert message.startswith(f"Saved map 'Buy online, pick up in store' (id {map_id}), revision 2 (id ")
    assert "Revision 1 (saved by Ana at " in message and "is the last one that reads" in message


def test_the_editor_restores_the_last_readable_revision_of_a_damaged_map(make_app: MakeApp, engine: Engine) -> None:
    map_id, damaged_id = _damaged_map(engine)
    at = sign_in(_editor(make_app), engine, "Carla")  # the restore is authored by the signed-in account
    at.query_params[QueryParams.MAP] = str(map_id)
    at.run()
    assert not at.exception
    assert any("is the last one that reads" in e for e in _text(at.error))
    at.button(key=StateKeys.RESTORE_READABLE).click().run()
    assert not at.exception and not at.error
    assert any("Restored revision 1 as revision 3." in s for s in _text(at.success))
    assert at.subheader[0].value.replace("\\", "") == "Buy online, pick up in store"
    with session_scope(engine) as session:
        history = list_revisions(session=session, map_id=map_id)
    assert [(r.number, r.author, r.message) for r in history][:2] == [
        (3, "Carla", "Restored revision 1"),
        (2, "Bo", "v2"),
    ]
    assert history[1].id == damaged_id  # the damaged revision stays in the history


def test_unreadable_unsaved_edits_do_not_keep_the_saved_map_from_opening(make_app: MakeApp, engine: Engine) -> None:
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=bopis_map(), author="Ana")
        session.add(MapDraft(map_id=first.map_id, client_key="tab-1", base_revision_id=first.id, document="{}"))
    at = _editor(make_app)
    at.query_params[QueryParams.MAP] = str(first.map_id)
    at.query_params[QueryParams.CLIENT] = "tab-1"
    at.run()
    assert not at.exception and not at.error
    assert _text(at.info) == [
        "The stored document is damaged (is not a Journeymap map document (no 'schema_version' field)) in this "
        "browser's unsaved edits: showing revision 1 instead; your next edit replaces them."
    ]
    assert at.subheader[0].value.replace("\\", "") == "Buy online, pick up in store"


# --- 6. the database failing reads the same everywhere ------------------------------------------------------


def _create_from_template(at: AppTest) -> AppTest:
    at.switch_page("views/maps.py").run()
    assert not at.exception, at.exception
    at.text_input(key=StateKeys.MAPS_TEMPLATE_NAME).set_value("Our journey")
    return at.button(key=StateKeys.MAPS_TEMPLATE_SUBMIT).click().run()


READ_ONLY = (
    "Database: the database is read-only, so nothing can be saved. Ask whoever runs Journeymap to make the "
    "database file (and its folder) writable, then try again."
)
BUSY = (
    "Database: the database is busy: another save or another Journeymap process is writing to it, and what you "
    "just did was not saved. Wait a moment and try again; anything you typed is still on screen."
)


def _seeded_file(engine: Engine) -> None:
    init_db(engine)
    with session_scope(engine) as session:
        seed_demo(session)
    engine.dispose()


def test_a_read_only_database(make_app: MakeApp, engine: Engine, fresh_database: Path) -> None:
    _seeded_file(engine)  # open local mode: the person on this machine may create maps
    with read_only(fresh_database):
        at = _create_from_template(_editor(make_app))
        assert not at.exception, at.exception
        assert READ_ONLY in _text(at.error)


def test_signing_in_to_a_read_only_database(make_app: MakeApp, engine: Engine, fresh_database: Path) -> None:
    _with_account(engine)
    engine.dispose()
    with read_only(fresh_database):
        # Signing in writes (the attempt is counted first): the same message, in the form.
        at = _sign_in(_editor(make_app).run(), "correct horse")
        assert not at.exception
        assert READ_ONLY in _text(at.sidebar.error)


def test_a_damaged_table(make_app: MakeApp, engine: Engine, fresh_database: Path) -> None:
    _seeded_file(engine)
    damage_table(fresh_database, "maps")  # the file opens; the maps table does not read
    at = _editor(make_app).run()
    at.switch_page("views/maps.py").run()
    assert not at.exception, at.exception
    assert _text(at.error) == [
        "Database: the database file is damaged and cannot be read. Ask whoever runs Journeymap to restore it "
        "from a backup, or to point JOURNEYMAP_DB at another file."
    ]


def test_a_damaged_database_file_at_start(make_app: MakeApp, fresh_database: Path) -> None:
    damage(fresh_database)
    at = _editor(make_app).run()
    assert not at.exception, at.exception
    assert [e.startswith("Database: the database file is damaged") for e in _text(at.error)] == [True]


def test_a_locked_database_on_maps_and_in_the_editors_save(
    make_app: MakeApp, engine: Engine, fresh_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # give up on the lock after 0.3 s, not 15 s
    _seeded_file(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=bopis_map(), author="Ana").map_id
    engine.dispose()
    at = _editor(make_app)
    at.query_params[QueryParams.MAP] = str(map_id)
    at.run()
    with write_locked(fresh_database):
        at.button(key=StateKeys.SAVE_SUBMIT).click().run()
        assert not at.exception, at.exception
        assert BUSY in _text(at.error)
        at = _create_from_template(at)
        assert not at.exception, at.exception
        assert BUSY in _text(at.error)
    at.button(key=StateKeys.MAPS_TEMPLATE_SUBMIT).click().run()  # the lock is gone
    assert not at.exception and at.title[0].value == "Map editor"


def test_an_unreachable_postgresql(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://journeymap@127.0.0.1:{closed_port()}/journeymap")
    at = _editor(make_app).run()
    assert not at.exception, at.exception
    assert _text(at.error) == [
        "Database: the database server cannot be reached. Ask whoever runs Journeymap to check that the database "
        "server is running and that DATABASE_URL is right; then reload the page."
    ]
