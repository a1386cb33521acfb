"""Local accounts and share links against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from journeymap.access import Action, Actor, PermissionDenied, Role, hash_token
from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.store import create_map, session_scope
from journeymap.store.access import (
    LastOwner,
    ShareLink,
    SignInSession,
    UserAccount,
    account_for_sign_in,
    authenticate,
    count_users,
    create_share_link,
    create_user,
    end_sign_in,
    is_open_mode,
    list_share_links,
    list_users,
    promote_an_owner,
    remove_user,
    resolve_share_link,
    revoke_share_link,
    set_role,
    start_sign_in,
)

EDITOR = Actor("Ana", Role.EDITOR)
VIEWER = Actor("Bo", Role.VIEWER)
GUEST = Actor("Share link", Role.GUEST)


@pytest.fixture
def map_id(session: Session, returns: JourneyMap) -> int:
    created = create_map(session=session, journey_map=returns, author="Ana").map_id
    session.commit()  # store functions never commit; other sessions of a test must see the map
    return created


def test_first_account_is_the_owner_and_ends_open_mode(session: Session) -> None:
    assert is_open_mode(session=session) is True
    first = create_user(session=session, username=" Ana@Example.org ", password="correct horse", role=Role.VIEWER)
    assert (first.username, first.display_name, first.role) == ("ana@example.org", "ana@example.org", Role.OWNER)
    assert is_open_mode(session=session) is False
    assert count_users(session=session) == 1


def test_later_accounts_get_the_role_asked_for(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse", display_name="Ana")
    bo = create_user(session=session, username="bo", password="correct horse")
    cy = create_user(session=session, username="cy", password="correct horse", role=Role.EDITOR)
    assert [(a.username, a.role) for a in list_users(session=session)] == [
        ("ana", Role.OWNER),
        ("bo", Role.VIEWER),
        ("cy", Role.EDITOR),
    ]
    assert bo.actor == Actor("bo", Role.VIEWER, account_id=bo.id)
    assert cy.actor.is_editor and not cy.actor.can(Action.MANAGE_ACCOUNTS)
    with pytest.raises(UserInputError, match="accounts are owners, editors or viewers"):
        create_user(session=session, username="di", password="correct horse", role=Role.GUEST)


def test_taken_username_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_user(session=session, username="ana", password="correct horse")
    with pytest.raises(UserInputError, match="the username 'ana' is taken"), session_scope(engine) as session:
        create_user(session=session, username="ANA", password="other password")
    with Session(engine) as session:
        assert count_users(session=session) == 1


def test_password_is_stored_only_as_a_salted_hash(session: Session) -> None:
    create_user(session=session, username="ana", password="same password")
    create_user(session=session, username="bo", password="same password")
    rows = session.exec(select(UserAccount).order_by(UserAccount.id)).all()  # type: ignore[arg-type]
    hashes = [row.password_hash for row in rows]
    assert all("same password" not in h and h.startswith("scrypt$") for h in hashes)
    assert hashes[0] != hashes[1]


def test_roles_change_but_the_last_owner_stays(session: Session) -> None:
    ana = create_user(session=session, username="ana", password="correct horse")
    bo = create_user(session=session, username="bo", password="correct horse", role=Role.EDITOR)
    with pytest.raises(LastOwner, match="^team: 'ana' is the workspace's only owner. Make another account an owner"):
        set_role(session=session, account_id=ana.id, role=Role.EDITOR)
    with pytest.raises(LastOwner):
        remove_user(session=session, account_id=ana.id)
    assert set_role(session=session, account_id=bo.id, role=Role.OWNER).role == Role.OWNER
    assert set_role(session=session, account_id=ana.id, role=Role.VIEWER).role == Role.VIEWER
    with pytest.raises(UserInputError, match="No account with id 99"):
        set_role(session=session, account_id=99, role=Role.VIEWER)
    assert [(a.username, a.role) for a in list_users(session=session)] == [("ana", Role.VIEWER), ("bo", Role.OWNER)]


def test_removing_an_account_ends_its_sign_ins(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse")
    bo = create_user(session=session, username="bo", password="correct horse", role=Role.EDITOR)
    token = start_sign_in(session=session, account_id=bo.id)
    assert remove_user(session=session, account_id=bo.id).username == "bo"
    assert account_for_sign_in(session=session, token=token) is None
    assert session.exec(select(SignInSession)).all() == []
    assert [a.username for a in list_users(session=session)] == ["ana"]


def test_an_owner_is_promoted_only_where_none_exists(session: Session) -> None:
    assert promote_an_owner(session=session) is None  # no account at all
    for name, role in (("vera", "viewer"), ("eddie", "editor"), ("ed", "editor")):
        session.add(UserAccount(username=name, display_name=name, role=role, password_hash="-"))
    session.flush()
    promoted = promote_an_owner(session=session)
    assert promoted is not None and (promoted.username, promoted.role) == ("eddie", Role.OWNER)
    assert promote_an_owner(session=session) is None


def test_authenticate(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse", display_name="Ana Lima")
    account = authenticate(session=session, username=" ANA ", password="correct horse")
    assert (account.username, account.display_name, account.role) == ("ana", "Ana Lima", Role.OWNER)
    for username, password in (("ana", "wrong horse"), ("nobody", "correct horse"), ("ana", "")):
        with pytest.raises(UserInputError, match="^sign in: wrong username or password"):
            authenticate(session=session, username=username, password=password)


def test_share_link_stores_only_the_token_hash(session: Session, map_id: int) -> None:
    token, link = create_share_link(session=session, actor=EDITOR, map_id=map_id, label="Board")
    row = session.exec(select(ShareLink)).one()
    assert row.token_hash == hash_token(token) and token not in row.token_hash
    assert (link.map_id, link.label, link.created_by, link.expires_at, link.revoked_at) == (
        map_id,
        "Board",
        "Ana",
        None,
        None,
    )
    assert resolve_share_link(session=session, token=token).id == link.id


@pytest.mark.parametrize("actor", [VIEWER, GUEST])
def test_only_editors_share_and_revoke(session: Session, map_id: int, actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        create_share_link(session=session, actor=actor, map_id=map_id)
    _, link = create_share_link(session=session, actor=EDITOR, map_id=map_id)
    with pytest.raises(PermissionDenied):
        revoke_share_link(session=session, actor=actor, link_id=link.id)
    assert list_share_links(session=session, map_id=map_id)[0].revoked_at is None


def test_revoked_link_is_refused_with_a_clear_message(session: Session, map_id: int) -> None:
    token, link = create_share_link(session=session, actor=EDITOR, map_id=map_id)
    revoked = revoke_share_link(session=session, actor=EDITOR, link_id=link.id)
    assert revoked.revoked_by == "Ana" and revoked.revoked_at is not None
    with pytest.raises(UserInputError, match="^share link: this share link was revoked on .* UTC. Ask the person"):
        resolve_share_link(session=session, token=token)
    again = revoke_share_link(session=session, actor=EDITOR, link_id=link.id)
    assert again.revoked_at == revoked.revoked_at


def test_expired_link_is_refused(session: Session, map_id: int) -> None:
    token, link = create_share_link(session=session, actor=EDITOR, map_id=map_id, expires_in=timedelta(hours=1))
    assert link.expires_at is not None
    assert resolve_share_link(session=session, token=token, now=link.expires_at - timedelta(seconds=1)).id == link.id
    with pytest.raises(UserInputError, match="this share link expired on"):
        resolve_share_link(session=session, token=token, now=link.expires_at)
    assert link.is_active(link.expires_at + timedelta(seconds=1)) is False


def test_unknown_token_and_unknown_map(session: Session, map_id: int) -> None:
    with pytest.raises(UserInputError, match="this share link is not valid"):
        resolve_share_link(session=session, token="not-a-token")
    with pytest.raises(UserInputError, match="No saved map with id 9999"):
        create_share_link(session=session, actor=EDITOR, map_id=9999)
    with pytest.raises(UserInputError, match="must be in the future"):
        create_share_link(session=session, actor=EDITOR, map_id=map_id, expires_in=timedelta(0))
    assert list_share_links(session=session) == []


def test_times_come_back_in_utc(engine: Engine, map_id: int) -> None:
    before = datetime.now(UTC)
    with session_scope(engine) as session:
        _, link = create_share_link(session=session, actor=EDITOR, map_id=map_id, expires_in=timedelta(days=1))
    with Session(engine) as session:
        (listed,) = list_share_links(session=session, map_id=map_id)
    assert listed.created_at.tzinfo == UTC and before <= listed.created_at <= datetime.now(UTC)
    assert listed.expires_at == link.expires_at


def test_a_sign_in_lasts_until_it_expires_or_is_ended(session: Session) -> None:
    ana = create_user(session=session, username="ana", password="correct horse")
    token = start_sign_in(session=session, account_id=ana.id, lifetime=timedelta(days=2))
    row = session.exec(select(SignInSession)).one()
    assert row.token_hash == hash_token(token) and token not in row.token_hash  # only the hash is kept
    started = row.created_at.replace(tzinfo=UTC) if row.created_at.tzinfo is None else row.created_at
    found = account_for_sign_in(session=session, token=token, now=started + timedelta(days=2) - timedelta(seconds=1))
    assert found is not None and (found.username, found.role) == ("ana", Role.OWNER)
    assert account_for_sign_in(session=session, token=token, now=started + timedelta(days=2)) is None
    assert account_for_sign_in(session=session, token="not-a-token") is None
    assert account_for_sign_in(session=session, token="  ") is None
    end_sign_in(session=session, token=token)
    assert account_for_sign_in(session=session, token=token, now=started) is None
    end_sign_in(session=session, token="not-a-token")  # nothing to end, nothing written
    assert session.exec(select(SignInSession)).one().ended_at is not None


def test_a_sign_in_needs_an_existing_account(session: Session) -> None:
    with pytest.raises(UserInputError, match="No account with id 42"):
        start_sign_in(session=session, account_id=42)
    assert session.exec(select(SignInSession)).all() == []
