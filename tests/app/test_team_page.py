"""The Team page: the owner invites, changes roles and removes; nobody else manages accounts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from journeymap.access import Role, verify_password
from journeymap.store import session_scope
from journeymap.store.access import SignInSession, UserAccount
from journeymap.ui.access import SIGNED_OUT_NOTE
from journeymap.ui.state import ReviewKeys, StateKeys
from tests.app.signing import add_account, sign_in

MakeApp = Callable[..., AppTest]
PAGE = "views/team.py"


def _accounts(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(UserAccount).order_by(col(UserAccount.id))).all()
        return [(row.username, row.display_name, row.role) for row in rows]


def _texts(elements: object) -> list[str]:
    return [str(e.value).replace("\\", "") for e in elements]  # type: ignore[attr-defined]


def _team(make_app: MakeApp, engine: Engine) -> AppTest:
    at = sign_in(make_app(PAGE), engine, "Olive")  # the first account: the owner
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_owner_invites_an_editor_who_can_sign_in(make_app: MakeApp, engine: Engine) -> None:
    at = _team(make_app, engine)
    assert at.dataframe[0].value.to_dict("records") == [
        {"Username": "olive", "Display name": "Olive", "Role": "owner", "Since": at.dataframe[0].value["Since"][0]}
    ]
    at.text_input(key=StateKeys.TEAM_USERNAME).input("Nina@Example.org")
    at.text_input(key=StateKeys.TEAM_DISPLAY_NAME).input("Nina")
    at.text_input(key=StateKeys.TEAM_PASSWORD).input("first password")
    at.selectbox(key=StateKeys.TEAM_ROLE).set_value(Role.EDITOR)
    at.button(key=StateKeys.TEAM_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert _texts(at.success)[0].startswith("Invited 'nina@example.org' as editor.")
    assert _accounts(engine) == [("olive", "Olive", "owner"), ("nina@example.org", "Nina", "editor")]
    assert list(at.dataframe[0].value["Username"]) == ["olive", "nina@example.org"]
    with Session(engine) as session:
        stored = session.exec(select(UserAccount.password_hash).where(UserAccount.username == "nina@example.org")).one()
    assert verify_password("first password", stored)


def test_a_taken_username_and_a_short_password_are_refused(make_app: MakeApp, engine: Engine) -> None:
    at = _team(make_app, engine)
    at.text_input(key=StateKeys.TEAM_USERNAME).input("OLIVE")
    at.text_input(key=StateKeys.TEAM_PASSWORD).input("long enough")
    at.button(key=StateKeys.TEAM_SUBMIT).click().run()
    assert _texts(at.error) == ["new account, field 'username': the username 'olive' is taken. Choose another."]
    at.text_input(key=StateKeys.TEAM_USERNAME).input("bo")
    at.text_input(key=StateKeys.TEAM_PASSWORD).input("short")
    at.button(key=StateKeys.TEAM_SUBMIT).click().run()
    assert "is shorter than 8 characters" in _texts(at.error)[0]
    assert _accounts(engine) == [("olive", "Olive", "owner")]


def test_roles_change_and_the_last_owner_stays(make_app: MakeApp, engine: Engine) -> None:
    add_account(engine, "Olive")
    bo = add_account(engine, "Bo", Role.VIEWER)
    at = _team(make_app, engine)
    at.selectbox(key=f"{StateKeys.TEAM_ROLE_PREFIX}_{bo}").set_value(Role.EDITOR)
    at.button(key=f"{StateKeys.TEAM_ROLE_SUBMIT_PREFIX}_{bo}").click().run()
    assert _texts(at.success) == ["'bo' is now editor."]
    olive = _accounts(engine)[0]
    owner_id = at.session_state[ReviewKeys.ACCOUNT]["id"]
    at.selectbox(key=f"{StateKeys.TEAM_ROLE_PREFIX}_{owner_id}").set_value(Role.VIEWER)
    at.button(key=f"{StateKeys.TEAM_ROLE_SUBMIT_PREFIX}_{owner_id}").click().run()
    assert _texts(at.error) == ["team: 'olive' is the workspace's only owner. Make another account an owner first."]
    at.button(key=f"{StateKeys.TEAM_REMOVE_PREFIX}_{owner_id}").click().run()
    assert _texts(at.error) == ["team: 'olive' is the workspace's only owner. Make another account an owner first."]
    assert _accounts(engine) == [olive, ("bo", "Bo", "editor")]


def test_removing_an_account_ends_its_sign_ins(make_app: MakeApp, engine: Engine) -> None:
    add_account(engine, "Olive")
    bo_tab = sign_in(make_app(PAGE), engine, "Bo", Role.EDITOR)
    bo = bo_tab.session_state[ReviewKeys.ACCOUNT]["id"]
    at = _team(make_app, engine)
    at.button(key=f"{StateKeys.TEAM_REMOVE_PREFIX}_{bo}").click().run()
    assert _texts(at.success) == ["Removed 'bo': their sign-ins have ended."]
    assert [a[0] for a in _accounts(engine)] == ["olive"]
    with Session(engine) as session:
        assert session.exec(select(SignInSession.account_id).where(SignInSession.account_id == bo)).all() == []
    bo_tab.run()
    assert SIGNED_OUT_NOTE in _texts(bo_tab.sidebar.caption)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("signed out", "Sign in to see your team: only the workspace's owner manages accounts here."),
        ("share link", "Sign in to see your team: only the workspace's owner manages accounts here."),
        ("editor", "Eddie is editor: only the workspace's owner manages accounts."),
        ("viewer", "Vera is viewer: only the workspace's owner manages accounts."),
    ],
)
def test_everyone_else_reads_why_not(make_app: MakeApp, engine: Engine, who: str, expected: str) -> None:
    add_account(engine, "Olive")
    at = make_app(PAGE)
    if who == "share link":
        at.session_state[ReviewKeys.SHARE_MAP_ID] = 1
    elif who == "editor":
        sign_in(at, engine, "Eddie", Role.EDITOR)
    elif who == "viewer":
        sign_in(at, engine, "Vera", Role.VIEWER)
    at.run()
    assert not at.exception, at.exception
    assert _texts(at.main.info) == [expected]
    assert len(at.dataframe) == 0
    assert not [b for b in at.button if (b.key or "").startswith("jm_team_")]


def test_an_invitation_drawn_for_the_owner_is_refused_once_they_are_not(make_app: MakeApp, engine: Engine) -> None:
    at = _team(make_app, engine)
    add_account(engine, "Bo", Role.EDITOR)
    with session_scope(engine) as session:  # a second owner demoted the first while the page was open
        for row in session.exec(select(UserAccount)):
            row.role = "owner" if row.username == "bo" else "editor"
            session.add(row)
    before = _accounts(engine)
    at.text_input(key=StateKeys.TEAM_USERNAME).input("mallory")
    at.text_input(key=StateKeys.TEAM_PASSWORD).input("long enough")
    at.button(key=StateKeys.TEAM_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert _texts(at.error) == ["Olive: editors may not manage accounts. Ask the workspace owner to do this for you."]
    assert _accounts(engine) == before
    assert _texts(at.main.info) == ["Olive is editor: only the workspace's owner manages accounts."]


def test_open_local_mode_asks_for_the_owner_account_first(make_app: MakeApp) -> None:
    at = make_app(PAGE).run()
    assert not at.exception, at.exception
    assert _texts(at.main.info)[0].startswith("No account exists yet: create your own (the owner's) first")
    assert not [b for b in at.button if (b.key or "").startswith("jm_team_")]
