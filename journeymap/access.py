"""Who may do what: password hashing, share-link tokens, roles and permission checks.

Pure functions, no database and no Streamlit: :mod:`journeymap.store.access` keeps accounts and
share links, :mod:`journeymap.ui.access` asks the browser session who is there.

Passwords are never stored. :func:`hash_password` derives a key with ``hashlib.scrypt``
(OWASP's parameters ``n=2**17, r=8, p=1``: 128 MiB of memory, 32 bytes of key) from the password
and a fresh 16-byte random salt per account, and keeps ``scrypt$n$r$p$salt$key`` (salt and key in
URL-safe base64); :func:`verify_password` recomputes the key with the stored parameters and compares
with :func:`hmac.compare_digest`, in constant time. Two accounts with the same password get
different hashes because their salts differ. A hash made with other parameters (an older release
used ``n=2**14``) still verifies; :func:`needs_rehash` tells the sign-in to store a new one.

Share links carry a random token (``secrets.token_urlsafe(24)``, 192 bits). Only its SHA-256
(:func:`hash_token`) is stored, so a copy of the database does not open any shared map.

Roles
-----
``owner``
    the first account: everything an editor may do, and invites accounts and sets their roles.
``editor``
    may change maps, register data, assess, manage share links, run workshops, comment and resolve.
``viewer``
    a signed-in reviewer: reads every map, dataset and assessment, comments, resolves their own comments.
``guest``
    anyone not signed in. A guest who opened a share link reads that one map and its reports
    (:attr:`Actor.map_scope`); any other guest reads and writes nothing.

Who may act on what is decided by :meth:`Actor.may` alone; :mod:`journeymap.services` asks it before
any work is done.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from journeymap.errors import UserInputError

__all__ = [
    "ACCOUNT_ROLES",
    "MIN_PASSWORD_LENGTH",
    "Action",
    "Actor",
    "PermissionDenied",
    "Role",
    "can",
    "check_password_strength",
    "hash_password",
    "hash_token",
    "is_local_client",
    "needs_rehash",
    "new_join_code",
    "new_share_token",
    "require",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8

# scrypt cost (OWASP Password Storage Cheat Sheet): 128 * n * r bytes = 128 MiB and ~0.4 s per check
# on this class of machine, so a stolen database is slow to guess and a sign-in still feels immediate.
_SCRYPT_N = 2**17
_SCRYPT_R = 8
_SCRYPT_P = 1
# A stored hash asking for more than this is refused rather than computed (1 GiB at r=8).
_SCRYPT_MAX_N = 2**20
_SCRYPT_SLOTS = threading.BoundedSemaphore(2)
_KEY_BYTES = 32
_SALT_BYTES = 16
# Letters and digits that cannot be misread when a join code is read aloud or projected (no 0/O, 1/I/L).
_JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class Role(StrEnum):
    """What a person may do; accounts are owners, editors or viewers, everyone else is a guest."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"
    GUEST = "guest"


class Action(StrEnum):
    """Things that need a permission; each service function names the one it needs."""

    READ_MAP = "read this map"
    READ_WORKSPACE = "read the workspace"
    EDIT_MAP = "edit maps"
    MANAGE_DATA = "register event data"
    ASSESS = "record assessments"
    SHARE = "manage share links"
    MANAGE_ACCOUNTS = "manage accounts"
    COMMENT = "comment"
    RESOLVE_ANY_COMMENT = "resolve any comment"
    DELETE_COMMENT = "delete comments"
    MANAGE_OPPORTUNITIES = "manage opportunities"
    FACILITATE = "facilitate workshops"


_READER = frozenset({Action.READ_MAP, Action.READ_WORKSPACE})
_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.EDITOR: frozenset(Action) - {Action.MANAGE_ACCOUNTS},
    Role.VIEWER: _READER | {Action.COMMENT},
    Role.GUEST: frozenset(),
}
# Roles an account may hold (a guest is nobody's account).
ACCOUNT_ROLES = (Role.OWNER, Role.EDITOR, Role.VIEWER)


@dataclass(frozen=True)
class Actor:
    """The person doing something: a display name, a role, their account and what a share link opened.

    ``account_id`` is set for a signed-in account (services check it is still there, with that role);
    ``map_scope`` is the one map a share-link visitor may read.

    Examples
    --------
    >>> Actor("Ana", Role.EDITOR).can(Action.EDIT_MAP)
    True
    >>> visitor = Actor("Share link", Role.GUEST, map_scope=7)
    >>> visitor.may(Action.READ_MAP, map_id=7), visitor.may(Action.READ_MAP, map_id=8), visitor.can(Action.COMMENT)
    (True, False, False)
    """

    name: str
    role: Role
    account_id: int | None = None
    map_scope: int | None = None

    def can(self, action: Action) -> bool:
        """Whether this actor's role allows ``action``."""
        return can(self.role, action)

    def may(self, action: Action, *, map_id: int | None = None) -> bool:
        """Whether this actor may do ``action`` (on ``map_id``, when the action concerns one map).

        A role's permission holds everywhere; besides it, a share-link visitor may read the one map
        the link opened (and nothing else, not even a list of maps).
        """
        if self.can(action):
            return True
        return action == Action.READ_MAP and self.map_scope is not None and map_id == self.map_scope

    @property
    def is_editor(self) -> bool:
        """Whether this actor may change maps (an owner or an editor)."""
        return self.can(Action.EDIT_MAP)


class PermissionDenied(UserInputError):
    """An actor tried something their role does not allow; nothing was written."""

    def __init__(self, actor: Actor, action: Action) -> None:
        self.actor = actor
        self.action = action
        if actor.role == Role.GUEST:
            hint = "Sign in with an account that may do this."
        elif actor.role == Role.VIEWER:
            hint = "Ask an editor to do this for you, or the owner to make you an editor."
        else:
            hint = "Ask the workspace owner to do this for you."
        who = "share-link visitors" if actor.map_scope is not None else f"{actor.role.value}s"
        if actor.role == Role.GUEST and actor.map_scope is None:
            who = "visitors who are not signed in"
        super().__init__(f"{who} may not {action.value}", source=actor.name or "this session", hint=hint)


def can(role: Role, action: Action) -> bool:
    """Whether ``role`` allows ``action``.

    Examples
    --------
    >>> can(Role.VIEWER, Action.COMMENT), can(Role.VIEWER, Action.EDIT_MAP), can(Role.EDITOR, Action.SHARE)
    (True, False, True)
    >>> can(Role.EDITOR, Action.MANAGE_ACCOUNTS), can(Role.OWNER, Action.MANAGE_ACCOUNTS)
    (False, True)
    """
    return action in _ALLOWED[Role(role)]


def require(actor: Actor, action: Action, *, map_id: int | None = None) -> Actor:
    """``actor`` if they may do ``action`` (on ``map_id``); otherwise raise :class:`PermissionDenied`.

    Examples
    --------
    >>> require(Actor("Ana", Role.EDITOR), Action.SHARE).name
    'Ana'
    >>> require(Actor("Bo", Role.VIEWER), Action.EDIT_MAP)
    Traceback (most recent call last):
    ...
    journeymap.access.PermissionDenied: Bo: viewers may not edit maps. Ask an editor to do this for you, ...
    """
    if not actor.may(action, map_id=map_id):
        raise PermissionDenied(actor, action)
    return actor


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_password_strength(password: str) -> None:
    """Refuse a password too short to resist guessing.

    Examples
    --------
    >>> check_password_strength("correct horse")
    >>> check_password_strength("short")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: new account, field 'password': is shorter than 8 characters. Choose a longer one.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError(
            f"is shorter than {MIN_PASSWORD_LENGTH} characters",
            source="new account",
            location="field 'password'",
            hint="Choose a longer one.",
        )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # hashlib.scrypt refuses to use more than 32 MiB unless told: allow what these parameters need
    # (OpenSSL counts 128 * r * (n + p + 2) bytes), plus a margin for its own bookkeeping.
    maxmem = 128 * r * (n + p + 2) + 2**20
    # At most two checks at once per process: many sign-ins at the same moment wait instead of
    # each taking 128 MiB.
    with _SCRYPT_SLOTS:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of ``password``, with its parameters, safe to store.

    ``salt`` is for tests only; by default every call draws a fresh random salt.

    Examples
    --------
    >>> stored = hash_password("correct horse")
    >>> stored.startswith("scrypt$131072$8$1$"), "correct horse" in stored
    (True, False)
    >>> stored == hash_password("correct horse")
    False
    """
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    key = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _KEY_BYTES)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password` (constant-time comparison).

    A malformed stored value never matches.

    Examples
    --------
    >>> stored = hash_password("correct horse")
    >>> verify_password("correct horse", stored), verify_password("Correct horse", stored)
    (True, False)
    >>> verify_password("x", "plain text")
    False
    """
    try:
        scheme, n, r, p, salt_text, key_text = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = _unb64(salt_text), _unb64(key_text)
        cost, block, parallel = int(n), int(r), int(p)
        if not (1 < cost <= _SCRYPT_MAX_N and 0 < block <= 32 and 0 < parallel <= 16 and expected):
            return False
        key = _scrypt(password, salt, cost, block, parallel, len(expected))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(key, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than :func:`hash_password` uses today.

    Examples
    --------
    >>> needs_rehash(hash_password("correct horse"))
    False
    >>> needs_rehash("scrypt$16384$8$1$AAECAwQFBgcICQoLDA0ODw$AAAA")
    True
    """
    parts = stored.split("$")
    return len(parts) != 6 or parts[:4] != ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P)]


# Headers a reverse proxy adds: behind one, the connection comes from the proxy, not from the visitor.
_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host", "x-client-ip")


def is_local_client(remote_ip: str | None, headers: Mapping[str, str] | None = None) -> bool:
    """Whether a visitor connects from the server's own machine (a loopback address, no proxy).

    ``remote_ip`` is what Streamlit reports (``st.context.ip_address``), which is ``None`` for a
    loopback connection and when there is no browser behind the run. A request forwarded by a proxy
    counts as remote, even when the proxy itself runs on the same machine: the visitor is elsewhere.
    A forged forwarding header can only make a visitor *less* trusted.

    Examples
    --------
    >>> is_local_client(None), is_local_client("127.0.0.1"), is_local_client("::1")
    (True, True, True)
    >>> is_local_client("192.0.2.7"), is_local_client("::ffff:127.0.0.1"), is_local_client("fe80::1%eth0")
    (False, True, False)
    >>> is_local_client(None, {"X-Forwarded-For": "203.0.113.9"})
    False
    """
    if headers and any(name.lower() in _FORWARDING_HEADERS for name in headers):
        return False
    if remote_ip is None:
        return True
    try:
        address = ipaddress.ip_address(remote_ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def new_share_token() -> str:
    """A fresh random share-link token (32 URL-safe characters, 192 bits).

    Examples
    --------
    >>> token = new_share_token()
    >>> len(token), token == new_share_token()
    (32, False)
    """
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """The SHA-256 of a token, in hex: what the database keeps instead of the token.

    Examples
    --------
    >>> hash_token("abc")
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def new_join_code(length: int = 6) -> str:
    """A random workshop join code, easy to read aloud (no 0/O, 1/I/L).

    Examples
    --------
    >>> code = new_join_code()
    >>> len(code), set(code) <= set(_JOIN_ALPHABET)
    (6, True)
    """
    return "".join(secrets.choice(_JOIN_ALPHABET) for _ in range(length))
