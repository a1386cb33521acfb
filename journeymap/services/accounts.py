"""Accounts and sign-in: the first account, signing in and out, and the owner's Team page.

Who may do what
---------------
``create_first_account``
    Nobody needs a role: it is allowed only while no account exists, and only from the server's
    own machine (the page says whether its visitor is local). The account becomes the owner.
``sign_in`` / ``sign_out`` / ``account_for_sign_in``
    The password, or the sign-in token, is the right; no role is asked.
``create_account`` / ``change_role`` / ``remove_account`` / ``list_accounts``
    The owner (:attr:`journeymap.access.Action.MANAGE_ACCOUNTS`). The workspace never loses its
    last owner.
``is_open_mode`` / ``actor_for_identity`` / ``may_edit``
    Questions every page asks about its own visitor; they answer, they never refuse.

Example::

    from journeymap.services import accounts
    attempt = accounts.sign_in(engine, visitor, username="ana", password="correct horse", client_key=key)
    if attempt.refusal is None:
        keep(attempt.token)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from journeymap.access import Action, Actor, PermissionDenied, Role
from journeymap.errors import UserInputError
from journeymap.services._core import service
from journeymap.store import access as store
from journeymap.store.access import Account
from journeymap.store.reviews import is_locked

__all__ = [
    "FirstAccountRefused",
    "SignIn",
    "account_for_sign_in",
    "actor_for_identity",
    "change_role",
    "create_account",
    "create_first_account",
    "is_open_mode",
    "list_accounts",
    "may_edit",
    "remove_account",
    "sign_in",
    "sign_out",
]


class FirstAccountRefused(PermissionDenied):
    """The first account may only be made while there is none, on the server's own machine."""

    def __init__(self, actor: Actor, problem: str, hint: str) -> None:
        self.actor = actor
        self.action = Action.MANAGE_ACCOUNTS
        UserInputError.__init__(self, problem, source="new account", hint=hint)


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: the account and its new sign-in token, or why it was refused.

    A refusal is returned rather than raised: a wrong password is itself written down (the
    failure counts against the username and the browser), and a raised error would undo that.
    """

    account: Account | None = None
    token: str = ""
    refusal: UserInputError | None = None


@service(None)
def is_open_mode(session: Session, actor: Actor) -> bool:
    """Whether no account exists yet (open local mode)."""
    del actor
    return store.is_open_mode(session=session)


@service(None)
def create_first_account(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    display_name: str = "",
    from_local_client: bool,
) -> SignIn:
    """Create the workspace's owner account and sign this browser in as it.

    Refused (:class:`FirstAccountRefused`, nothing written) once any account exists, and for a
    visitor who is not on the server's own machine.
    """
    if not from_local_client:
        raise FirstAccountRefused(
            actor,
            "the first account can only be created on the machine that runs Journeymap",
            "Open Journeymap at http://localhost on that machine and create the owner account there.",
        )
    if not store.is_open_mode(session=session):
        raise FirstAccountRefused(
            actor, "the workspace has an owner already", "Ask the owner to invite you on the Team page."
        )
    account = store.create_user(session=session, username=username, password=password, display_name=display_name)
    if store.count_users(session=session) != 1:
        # Someone else created a first account at the same moment: theirs stands, this one is undone.
        raise FirstAccountRefused(
            actor, "the workspace has an owner already", "Ask the owner to invite you on the Team page."
        )
    return SignIn(account=account, token=store.start_sign_in(session=session, account_id=account.id))


@service(None)
def sign_in(session: Session, actor: Actor, *, username: str, password: str, client_key: str = "") -> SignIn:
    """Check a username and password (throttled, see :mod:`journeymap.store.access`); sign in on success."""
    del actor
    try:
        account = store.authenticate(session=session, username=username, password=password, client_key=client_key)
    except UserInputError as exc:
        return SignIn(refusal=exc)
    return SignIn(account=account, token=store.start_sign_in(session=session, account_id=account.id))


@service(None)
def sign_out(session: Session, actor: Actor, *, token: str) -> None:
    """End a sign-in token: every tab that holds it is signed out at its next interaction."""
    del actor
    store.end_sign_in(session=session, token=token)


@service(None)
def account_for_sign_in(session: Session, actor: Actor, *, token: str) -> Account | None:
    """The account a sign-in token signs in now; ``None`` when the token is unknown, ended or expired."""
    del actor
    return store.account_for_sign_in(session=session, token=token)


@service(None)
def actor_for_identity(session: Session, actor: Actor, *, email: str) -> Actor:
    """The actor of someone the identity provider vouches for: their account's role, else a viewer."""
    del actor
    row = session.exec(
        select(store.UserAccount).where(col(store.UserAccount.username) == email.strip().lower())
    ).first()
    if row is None or row.id is None:
        return Actor(email, Role.VIEWER)
    return Actor(row.display_name, Role(row.role), account_id=row.id)


@service(None)
def may_edit(session: Session, actor: Actor, *, map_id: int | None = None) -> bool:
    """Whether ``actor`` may change maps now (and ``map_id``, when given, is not locked by a workshop)."""
    if not actor.is_editor:
        return False
    return map_id is None or not is_locked(session=session, map_id=map_id)


@service(Action.MANAGE_ACCOUNTS)
def list_accounts(session: Session, actor: Actor) -> list[Account]:
    """Every account, oldest first."""
    del actor
    return store.list_users(session=session)


@service(Action.MANAGE_ACCOUNTS)
def create_account(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
) -> Account:
    """Invite someone: a new account with a first password to hand over, and a role.

    In open local mode (no account yet) the owner's own account comes first
    (:func:`create_first_account`): an invitation would otherwise make its guest the owner.
    """
    del actor
    if store.is_open_mode(session=session):
        raise UserInputError(
            "the workspace has no owner account yet",
            source="team",
            hint="Create your own account first (sidebar: Access → Require sign-in), then invite others.",
        )
    return store.create_user(
        session=session, username=username, password=password, role=role, display_name=display_name
    )


@service(Action.MANAGE_ACCOUNTS)
def change_role(session: Session, actor: Actor, *, account_id: int, role: Role) -> Account:
    """Give an account another role (the last owner keeps theirs: :class:`journeymap.store.access.LastOwner`)."""
    del actor
    return store.set_role(session=session, account_id=account_id, role=role)


@service(Action.MANAGE_ACCOUNTS)
def remove_account(session: Session, actor: Actor, *, account_id: int) -> Account:
    """Remove an account and end its sign-ins (never the last owner)."""
    del actor
    return store.remove_user(session=session, account_id=account_id)
