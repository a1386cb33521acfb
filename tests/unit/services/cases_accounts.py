"""Access matrix rows of the account services (see ``journeymap/services/accounts.py``).

The world has accounts already, so nobody may create a first account; signing in, out and asking
who a token signs in take no role (the password or the token is the right); managing accounts is
the owner's alone.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from journeymap.access import Actor, Role
from journeymap.services import accounts
from journeymap.store.access import SignInFailure, SignInSession, UserAccount
from tests.unit.services.cases import EVERYONE, NOBODY, OWNER, Case
from tests.unit.services.world import World, sign_in_token


def _roles(world: World) -> dict[str, str]:
    with Session(world.engine) as session:
        return {row.username: row.role for row in session.exec(select(UserAccount))}


def _created(world: World, result: Any) -> None:
    assert (result.username, result.display_name, result.role) == ("nina", "Nina", Role.EDITOR)
    assert _roles(world)["nina"] == "editor"


def _promoted(world: World, result: Any) -> None:
    assert (result.username, result.role) == ("vera", Role.EDITOR)
    assert _roles(world) == {"olive": "owner", "eddie": "editor", "vera": "editor"}


def _removed(world: World, result: Any) -> None:
    assert result.username == "vera"
    assert _roles(world) == {"olive": "owner", "eddie": "editor"}


def _listed(world: World, result: Any) -> None:
    del world
    assert [(a.username, a.role) for a in result] == [
        ("olive", Role.OWNER),
        ("eddie", Role.EDITOR),
        ("vera", Role.VIEWER),
    ]


def _wrong_password(world: World, result: Any) -> None:
    assert result.account is None and result.token == ""
    assert str(result.refusal).startswith("sign in: wrong username or password")
    with Session(world.engine) as session:
        assert session.exec(select(SignInFailure.username)).all() == ["olive"]  # the failure is kept


def _signed_out(world: World, result: Any) -> None:
    assert result is None
    with Session(world.engine) as session:
        assert [row.ended_at is not None for row in session.exec(select(SignInSession))] == [True]


def _olive(world: World, result: Any) -> None:
    assert (result.username, result.role, result.id) == ("olive", Role.OWNER, world.ids["owner"])


def _signed_out_then_asked(world: World, actor: Actor) -> Any:
    token = sign_in_token(world, "owner")
    accounts.sign_out(world.engine, actor, token=token)
    return accounts.account_for_sign_in(world.engine, actor, token=token)


def _editor_identity(world: World, result: Any) -> None:
    assert result == Actor("Eddie", Role.EDITOR, account_id=world.ids["editor"])


def _may_edit(world: World, result: Any) -> None:
    del world
    role, allowed = result
    assert allowed is (role in (Role.OWNER, Role.EDITOR))


def _is_false(world: World, result: Any) -> None:
    del world
    assert result is False


def _is_none(world: World, result: Any) -> None:
    del world
    assert result is None


CASES = [
    Case(
        "accounts.is_open_mode",
        lambda w, a: accounts.is_open_mode(w.engine, a),
        EVERYONE,
        check=_is_false,
    ),
    Case(
        "accounts.create_first_account",
        lambda w, a: accounts.create_first_account(
            w.engine, a, username="mallory", password="correct horse", from_local_client=True
        ),
        NOBODY,
        variant="local",
    ),
    Case(
        "accounts.create_first_account",
        lambda w, a: accounts.create_first_account(
            w.engine, a, username="mallory", password="correct horse", from_local_client=False
        ),
        NOBODY,
        variant="remote",
    ),
    Case(
        "accounts.sign_in",
        lambda w, a: accounts.sign_in(w.engine, a, username="olive", password="not her password", client_key="b1"),
        EVERYONE,
        check=_wrong_password,
    ),
    Case(
        "accounts.sign_out",
        lambda w, a: accounts.sign_out(w.engine, a, token=sign_in_token(w, "owner")),
        EVERYONE,
        check=_signed_out,
    ),
    Case(
        "accounts.account_for_sign_in",
        lambda w, a: accounts.account_for_sign_in(w.engine, a, token=sign_in_token(w, "owner")),
        EVERYONE,
        variant="running",
        check=_olive,
    ),
    Case(
        "accounts.account_for_sign_in",
        _signed_out_then_asked,
        EVERYONE,
        variant="ended",
        check=_is_none,
    ),
    Case(
        "accounts.actor_for_identity",
        lambda w, a: accounts.actor_for_identity(w.engine, a, email=" EDDIE "),
        EVERYONE,
        check=_editor_identity,
    ),
    Case(
        "accounts.may_edit",
        lambda w, a: (a.role, accounts.may_edit(w.engine, a, map_id=w.other_map)),
        EVERYONE,
        check=_may_edit,
    ),
    Case("accounts.list_accounts", lambda w, a: accounts.list_accounts(w.engine, a), OWNER, check=_listed),
    Case(
        "accounts.create_account",
        lambda w, a: accounts.create_account(
            w.engine, a, username="Nina", display_name="Nina", password="correct horse", role=Role.EDITOR
        ),
        OWNER,
        check=_created,
    ),
    Case(
        "accounts.change_role",
        lambda w, a: accounts.change_role(w.engine, a, account_id=w.ids["viewer"], role=Role.EDITOR),
        OWNER,
        check=_promoted,
    ),
    Case(
        "accounts.remove_account",
        lambda w, a: accounts.remove_account(w.engine, a, account_id=w.ids["viewer"]),
        OWNER,
        check=_removed,
    ),
]
