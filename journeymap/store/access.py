"""Local accounts, sign-in sessions and read-only share links.

Store functions only: they read and write through the session they are given, flush where they
need ids, and never commit or roll back (the service that calls them owns the transaction; see
:mod:`journeymap.services.accounts`). Permissions are checked by the services, not here.

Accounts
    Local accounts with a role (``owner``, ``editor`` or ``viewer``) and a salted scrypt password
    hash (see :mod:`journeymap.access`); the password itself is never stored. While no account
    exists the workspace is in *open local mode*: the server's own machine may edit, which suits one
    person on their own computer. The first account created is always the owner and ends open
    mode; the workspace always keeps at least one owner (:func:`set_role` and :func:`remove_user`
    refuse to take away the last one).
Sign-in sessions
    Signing in starts a session whose random token the browser keeps (a cookie), so a refresh
    or a new tab stays signed in until it expires or the person signs out. Only the token's
    SHA-256 is stored.
Failed sign-ins
    Every sign-in attempt is recorded before its password is checked and forgotten when it
    succeeds, so what remains are failures, per username and per browser (client key). Over
    :data:`ACCOUNT_FAILURE_LIMIT` failures for one username, or :data:`CLIENT_FAILURE_LIMIT`
    from one browser, within :data:`FAILURE_WINDOW`, further attempts are refused without
    checking the password (:class:`SignInThrottled` says when to try again). The failures
    live in the database, so every server process sees the same count.
Share links
    A random token opens one map read-only. Only the token's SHA-256 is stored, with who made
    the link, when, an optional expiry and, once revoked, when and by whom. The token itself is
    returned once, by :func:`create_share_link`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import DateTime, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from journeymap.access import (
    ACCOUNT_ROLES,
    Action,
    Actor,
    Role,
    check_password_strength,
    hash_password,
    hash_token,
    needs_rehash,
    new_share_token,
    require,
    verify_password,
)
from journeymap.errors import UserInputError
from journeymap.store.db import as_utc, utc_now
from journeymap.store.maps import get_map

__all__ = [
    "ACCOUNT_FAILURE_LIMIT",
    "CLIENT_FAILURE_LIMIT",
    "FAILURE_WINDOW",
    "SIGN_IN_LIFETIME",
    "Account",
    "LastOwner",
    "ShareLink",
    "SignInFailure",
    "SignInSession",
    "SignInThrottled",
    "ShareLinkInfo",
    "UserAccount",
    "authenticate",
    "sign_in_retry_at",
    "account_for_sign_in",
    "count_users",
    "create_share_link",
    "create_user",
    "end_sign_in",
    "is_open_mode",
    "list_share_links",
    "list_users",
    "promote_an_owner",
    "remove_user",
    "resolve_share_link",
    "revoke_share_link",
    "set_role",
    "start_sign_in",
]

SIGN_IN_LIFETIME = timedelta(days=14)
"""How long a sign-in lasts in a browser before the password is asked again."""

FAILURE_WINDOW = timedelta(minutes=15)
"""How long a failed sign-in counts against its username and its browser."""
ACCOUNT_FAILURE_LIMIT = 5
"""Failed sign-ins for one username within :data:`FAILURE_WINDOW` before it has to wait."""
CLIENT_FAILURE_LIMIT = 10
"""Failed sign-ins from one browser (any usernames) within :data:`FAILURE_WINDOW` before it has to wait."""


# --- tables -------------------------------------------------------------------------


class UserAccount(SQLModel, table=True):
    """A local account; ``password_hash`` is ``scrypt$n$r$p$salt$key``."""

    __tablename__ = "user_accounts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=200, unique=True, index=True)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class ShareLink(SQLModel, table=True):
    """A read-only link to one map, known by its token's hash."""

    __tablename__ = "share_links"

    id: int | None = Field(default=None, primary_key=True)
    map_id: int = Field(foreign_key="maps.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    label: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    expires_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_by: str | None = Field(default=None, max_length=200)


class SignInSession(SQLModel, table=True):
    """A signed-in browser, known by its token's hash; ``ended_at`` is set when it signs out."""

    __tablename__ = "sign_in_sessions"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="user_accounts.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    ended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class SignInFailure(SQLModel, table=True):
    """One sign-in attempt that has not succeeded: the username typed and the browser's client key hash.

    Written before the password is checked and deleted when it matches, so that two attempts at
    the same moment, in two server processes, both count.
    """

    __tablename__ = "sign_in_failures"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=200, index=True)
    client_hash: str | None = Field(default=None, max_length=64, index=True)
    failed_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)


# --- public values ------------------------------------------------------------------


class Account(SQLModel):
    """An account without its password hash."""

    id: int
    username: str
    display_name: str
    role: Role
    created_at: datetime

    @property
    def actor(self) -> Actor:
        return Actor(self.display_name, self.role, account_id=self.id)


class ShareLinkInfo(SQLModel):
    """A share link as lists show it (never with its token)."""

    id: int
    map_id: int
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    def is_active(self, now: datetime | None = None) -> bool:
        """Not revoked and not expired at ``now`` (default: the current time)."""
        now = now or utc_now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _account(row: UserAccount) -> Account:
    assert row.id is not None
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        created_at=as_utc(row.created_at),
    )


def _link(row: ShareLink) -> ShareLinkInfo:
    assert row.id is not None
    return ShareLinkInfo(
        id=row.id,
        map_id=row.map_id,
        label=row.label,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at) if row.expires_at else None,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        revoked_by=row.revoked_by,
    )


# --- accounts -----------------------------------------------------------------------


def count_users(*, session: Session) -> int:
    """How many local accounts exist."""
    return int(session.exec(select(func.count()).select_from(UserAccount)).one())


def is_open_mode(*, session: Session) -> bool:
    """True while no account exists: everyone may edit (open local mode)."""
    return count_users(session=session) == 0


def list_users(*, session: Session) -> list[Account]:
    """Every account, oldest first."""
    rows = session.exec(select(UserAccount).order_by(col(UserAccount.id))).all()
    return [_account(row) for row in rows]


def _clean_username(username: str) -> str:
    cleaned = username.strip().lower()
    if not cleaned or len(cleaned) > 200 or any(ch.isspace() for ch in cleaned):
        raise UserInputError(
            "must be 1 to 200 characters without spaces",
            source="new account",
            location="field 'username'",
            hint="Use an email address or a short name such as 'ana'.",
        )
    return cleaned


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role = Role.VIEWER,
    display_name: str = "",
) -> Account:
    """Add a local account; the first account of the workspace is always its owner.

    A taken username, a short password or a role that is not an account's raises ``UserInputError``;
    the caller's transaction is then to be rolled back. Who may add accounts is the service's
    question (:func:`journeymap.services.accounts.create_account`).

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     first = create_user(session=session, username="Ana@example.org", password="correct horse")
    ...     second = create_user(session=session, username="bo", password="correct horse", role=Role.EDITOR)
    ...     (first.username, first.role.value, second.role.value, is_open_mode(session=session))
    ('ana@example.org', 'owner', 'editor', False)
    """
    name = _clean_username(username)
    check_password_strength(password)
    if Role(role) == Role.GUEST:
        raise UserInputError("accounts are owners, editors or viewers", source="new account", location="field 'role'")
    first = count_users(session=session) == 0
    row = UserAccount(
        username=name,
        display_name=(display_name.strip() or name)[:200],
        role=(Role.OWNER if first else Role(role)).value,
        password_hash=hash_password(password),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise UserInputError(
            f"the username '{name}' is taken", source="new account", location="field 'username'", hint="Choose another."
        ) from None
    return _account(row)


def _account_row(session: Session, account_id: int) -> UserAccount:
    row = session.get(UserAccount, account_id)
    if row is None:
        raise UserInputError(
            f"No account with id {account_id}; it may have been removed",
            source="team",
            hint="Reload the page and choose an account from the list.",
        )
    return row


def _owner_count(session: Session) -> int:
    statement = select(func.count()).select_from(UserAccount).where(col(UserAccount.role) == Role.OWNER.value)
    return int(session.exec(statement).one())


class LastOwner(UserInputError):
    """A change would leave the workspace without an owner; nothing was written."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"'{username}' is the workspace's only owner",
            source="team",
            hint="Make another account an owner first.",
        )


def set_role(*, session: Session, account_id: int, role: Role) -> Account:
    """Give an account another role; refused (:class:`LastOwner`) when it is the last owner's.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     ana = create_user(session=session, username="ana", password="correct horse")
    ...     bo = create_user(session=session, username="bo", password="correct horse")
    ...     set_role(session=session, account_id=bo.id, role=Role.OWNER).role.value
    'owner'
    """
    if Role(role) not in ACCOUNT_ROLES:
        raise UserInputError("accounts are owners, editors or viewers", source="team", location="field 'role'")
    row = _account_row(session, account_id)
    if row.role == Role.OWNER.value and Role(role) != Role.OWNER and _owner_count(session) <= 1:
        raise LastOwner(row.username)
    row.role = Role(role).value
    session.add(row)
    session.flush()
    return _account(row)


def remove_user(*, session: Session, account_id: int) -> Account:
    """Delete an account and end its sign-ins; refused (:class:`LastOwner`) for the last owner."""
    row = _account_row(session, account_id)
    if row.role == Role.OWNER.value and _owner_count(session) <= 1:
        raise LastOwner(row.username)
    removed = _account(row)
    session.exec(delete(SignInSession).where(col(SignInSession.account_id) == account_id))
    session.delete(row)
    session.flush()
    return removed


def promote_an_owner(*, session: Session) -> Account | None:
    """Make the oldest editor the owner of a workspace whose accounts have none; the account promoted.

    Databases made before owners existed had editors only: the first of them (the account that
    ended open local mode) becomes the owner, so someone may manage accounts.
    """
    if count_users(session=session) == 0 or _owner_count(session) > 0:
        return None
    oldest = session.exec(
        select(UserAccount).where(col(UserAccount.role) == Role.EDITOR.value).order_by(col(UserAccount.id))
    ).first()
    if oldest is None:
        return None
    oldest.role = Role.OWNER.value
    session.add(oldest)
    session.flush()
    return _account(oldest)


class SignInThrottled(UserInputError):
    """Too many failed sign-ins: refused without checking the password until :attr:`retry_at`."""

    def __init__(self, *, retry_at: datetime, now: datetime, per: str) -> None:
        self.retry_at = retry_at
        wait = max(retry_at - now, timedelta(0))
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        super().__init__(
            f"too many failed sign-ins {per} in the last {int(FAILURE_WINDOW.total_seconds()) // 60} minutes",
            source="sign in",
            hint=f"Try again after {retry_at:%H:%M:%S} UTC (in {minutes} minute{'s' if minutes != 1 else ''}).",
        )


def _throttle_keys(username: str, client_key: str) -> tuple[str, str | None]:
    name = username.strip().lower()[:200]
    return name, (hash_token(client_key) if client_key.strip() else None)


def _retry_at(times: list[datetime], limit: int) -> datetime | None:
    # ``times`` newest first; the limit-th newest failure is the one that has to leave the window.
    return as_utc(times[limit - 1]) + FAILURE_WINDOW if len(times) >= limit else None


def sign_in_retry_at(
    *, session: Session, username: str, client_key: str = "", now: datetime | None = None
) -> SignInThrottled | None:
    """Why a sign-in for ``username`` from ``client_key`` must wait, or ``None`` when it may go ahead.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     sign_in_retry_at(session=session, username="ana", client_key="browser-1") is None
    True
    """
    now = now or utc_now()
    since = now - FAILURE_WINDOW
    name, client_hash = _throttle_keys(username, client_key)
    recent = select(SignInFailure.failed_at).where(col(SignInFailure.failed_at) > since)
    by_account = session.exec(
        recent.where(col(SignInFailure.username) == name)
        .order_by(col(SignInFailure.failed_at).desc())
        .limit(ACCOUNT_FAILURE_LIMIT)
    ).all()
    waits = [(_retry_at(list(by_account), ACCOUNT_FAILURE_LIMIT), "for this username")]
    if client_hash is not None:
        by_client = session.exec(
            recent.where(col(SignInFailure.client_hash) == client_hash)
            .order_by(col(SignInFailure.failed_at).desc())
            .limit(CLIENT_FAILURE_LIMIT)
        ).all()
        waits.append((_retry_at(list(by_client), CLIENT_FAILURE_LIMIT), "from this browser"))
    pending = [(at, per) for at, per in waits if at is not None and at > now]
    if not pending:
        return None
    retry_at, per = max(pending, key=lambda item: item[0])
    return SignInThrottled(retry_at=retry_at, now=now, per=per)


def authenticate(
    *, session: Session, username: str, password: str, client_key: str = "", now: datetime | None = None
) -> Account:
    """The account whose username and password match; otherwise ``UserInputError``.

    The message does not say which of the two was wrong, and an unknown username costs as
    much time as a wrong password. Too many recent failures for the username or from the
    browser named by ``client_key`` raise :class:`SignInThrottled` before the password is
    looked at, whether it is right or not. A password hash made with older scrypt parameters
    is replaced by a new one when its password matches.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     _ = create_user(session=session, username="ana", password="correct horse")
    ...     authenticate(session=session, username="ana", password="correct horse", client_key="b1").username
    'ana'
    """
    now = now or utc_now()
    refusal = sign_in_retry_at(session=session, username=username, client_key=client_key, now=now)
    if refusal is not None:
        raise refusal
    name, client_hash = _throttle_keys(username, client_key)
    # Counted before the slow check (the caller commits it even when the password is wrong); failures
    # older than the window no longer count and are dropped on the way.
    session.exec(delete(SignInFailure).where(col(SignInFailure.failed_at) <= now - FAILURE_WINDOW))
    session.add(SignInFailure(username=name, client_hash=client_hash, failed_at=now))
    session.flush()
    row = session.exec(select(UserAccount).where(col(UserAccount.username) == name)).first()
    stored = row.password_hash if row is not None else _dummy_hash()
    if not verify_password(password, stored) or row is None:
        raise UserInputError(
            "wrong username or password",
            source="sign in",
            hint="Check both and try again; passwords are case-sensitive.",
        )
    # A success forgets this username's failures; the browser's failures on other names still count.
    session.exec(delete(SignInFailure).where(col(SignInFailure.username) == name))
    if needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
        session.add(row)
    session.flush()
    return _account(row)


@cache
def _dummy_hash() -> str:
    # Checked against when the username is unknown, so both failures take the same time.
    return hash_password("journeymap-no-such-account", salt=b"\x00" * 16)


# --- sign-in sessions ----------------------------------------------------------------


def start_sign_in(*, session: Session, account_id: int, lifetime: timedelta = SIGN_IN_LIFETIME) -> str:
    """A new sign-in session for an account; returns its token (for the browser, shown nowhere else).

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine, session_scope
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with session_scope(engine) as session:
    ...     ana = create_user(session=session, username="ana", password="correct horse")
    ...     token = start_sign_in(session=session, account_id=ana.id)
    ...     again = account_for_sign_in(session=session, token=token)
    ...     end_sign_in(session=session, token=token)
    ...     (again.username if again else None, account_for_sign_in(session=session, token=token))
    ('ana', None)
    """
    if session.get(UserAccount, account_id) is None:
        raise UserInputError(f"No account with id {account_id}", source="sign in")
    token = new_share_token()
    now = utc_now()
    session.add(
        SignInSession(account_id=account_id, token_hash=hash_token(token), created_at=now, expires_at=now + lifetime)
    )
    session.flush()
    return token


def _sign_in_row(session: Session, token: str) -> SignInSession | None:
    return session.exec(select(SignInSession).where(col(SignInSession.token_hash) == hash_token(token))).first()


def account_for_sign_in(*, session: Session, token: str, now: datetime | None = None) -> Account | None:
    """The account of a sign-in token still running at ``now``; ``None`` when unknown, ended or expired."""
    if not token.strip():
        return None
    row = _sign_in_row(session, token)
    if row is None or row.ended_at is not None or as_utc(row.expires_at) <= (now or utc_now()):
        return None
    account = session.get(UserAccount, row.account_id)
    return _account(account) if account is not None else None


def end_sign_in(*, session: Session, token: str) -> None:
    """Sign a browser out: its token no longer signs anyone in (unknown tokens are ignored)."""
    row = _sign_in_row(session, token)
    if row is None or row.ended_at is not None:
        return
    row.ended_at = utc_now()
    session.add(row)
    session.flush()


# --- share links --------------------------------------------------------------------


def create_share_link(
    *,
    session: Session,
    actor: Actor,
    map_id: int,
    label: str = "",
    expires_in: timedelta | None = None,
) -> tuple[str, ShareLinkInfo]:
    """A new read-only link to ``map_id``: the token (shown once) and the stored link.

    Only editors share. ``expires_in`` of ``None`` makes a link that lasts until revoked.
    """
    require(actor, Action.SHARE)
    get_map(session=session, map_id=map_id)  # an unknown map raises a UserInputError
    if expires_in is not None and expires_in <= timedelta(0):
        raise UserInputError("must be in the future", source="share link", location="field 'expires'")
    token = new_share_token()
    now = utc_now()
    row = ShareLink(
        map_id=map_id,
        token_hash=hash_token(token),
        label=label.strip()[:200],
        created_by=actor.name[:200],
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    session.add(row)
    session.flush()
    return token, _link(row)


def resolve_share_link(*, session: Session, token: str, now: datetime | None = None) -> ShareLinkInfo:
    """The active link for ``token``; ``UserInputError`` when unknown, revoked or expired."""
    row = session.exec(select(ShareLink).where(col(ShareLink.token_hash) == hash_token(token))).first()
    if row is None:
        raise UserInputError(
            "this share link is not valid", source="share link", hint="Check that the whole link was copied."
        )
    info = _link(row)
    now = now or utc_now()
    if info.revoked_at is not None:
        raise UserInputError(
            f"this share link was revoked on {info.revoked_at:%Y-%m-%d %H:%M} UTC",
            source="share link",
            hint="Ask the person who shared the map for a new link.",
        )
    if info.expires_at is not None and info.expires_at <= now:
        raise UserInputError(
            f"this share link expired on {info.expires_at:%Y-%m-%d %H:%M} UTC",
            source="share link",
            hint="Ask the person who shared the map for a new link.",
        )
    return info


def revoke_share_link(*, session: Session, actor: Actor, link_id: int) -> ShareLinkInfo:
    """Revoke a link (only editors); revoking an already revoked link changes nothing."""
    require(actor, Action.SHARE)
    row = session.get(ShareLink, link_id)
    if row is None:
        raise UserInputError(f"No share link with id {link_id}", hint="Choose a link from the list.")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        row.revoked_by = actor.name[:200]
        session.add(row)
        session.flush()
    return _link(row)


def list_share_links(*, session: Session, map_id: int | None = None) -> list[ShareLinkInfo]:
    """Share links (of one map, or all), newest first, revoked and expired ones included."""
    statement = select(ShareLink).order_by(col(ShareLink.id).desc())
    if map_id is not None:
        statement = statement.where(col(ShareLink.map_id) == map_id)
    return [_link(row) for row in session.exec(statement).all()]
