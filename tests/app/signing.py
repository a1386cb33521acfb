"""Sign an AppTest session in as an account, the way the sign-in form leaves a session."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from journeymap.access import Role
from journeymap.store import init_db, session_scope
from journeymap.store.access import UserAccount, create_user, start_sign_in
from journeymap.ui.state import ReviewKeys

PASSWORD = "correct horse"


def add_account(engine: Engine, display_name: str, role: Role = Role.EDITOR) -> int:
    """The id of the account named ``display_name`` (username: the name in lower case), created when new.

    The first account of a workspace is always its owner, whatever ``role`` says.
    """
    username = display_name.lower().replace(" ", "-")
    init_db(engine)
    with session_scope(engine) as session:
        row = session.exec(select(UserAccount).where(col(UserAccount.username) == username)).first()
        if row is not None and row.id is not None:
            return row.id
        return create_user(
            session=session, username=username, password=PASSWORD, role=role, display_name=display_name
        ).id


def sign_in(at: AppTest, engine: Engine, display_name: str, role: Role = Role.EDITOR) -> AppTest:
    """``at`` signed in as ``display_name`` (see :func:`add_account`), with a running sign-in token."""
    account_id = add_account(engine, display_name, role)
    with session_scope(engine) as session:
        token = start_sign_in(session=session, account_id=account_id)
        row = session.get(UserAccount, account_id)
        assert row is not None
        at.session_state[ReviewKeys.ACCOUNT] = {
            "id": account_id,
            "username": row.username,
            "display_name": row.display_name,
            "role": row.role,
        }
    at.session_state[ReviewKeys.SIGN_IN_TOKEN] = token
    return at
