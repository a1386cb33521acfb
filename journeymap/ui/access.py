"""Who is using this browser session, and the guards pages call before showing or doing edits.

Identity, in order of precedence:

1. A local account signed in with :func:`sign_in_form`. The browser keeps a sign-in token in the
   cookie :data:`SIGN_IN_COOKIE` (set by a zero-height component, since Streamlit sets no
   cookies itself), so a refresh or a new tab stays signed in for
   :data:`journeymap.store.access.SIGN_IN_LIFETIME`; signing out ends the token in the database
   and clears the cookie.
2. Streamlit's own OIDC login (``st.login``, configured under ``[auth]`` in
   ``.streamlit/secrets.toml``) when an identity provider is set up and the user is logged in:
   the account whose username is the user's email gives the role, otherwise the user is a viewer.
3. A session that opened a share link (:func:`enter_share_session`): a guest, read-only, even in
   open local mode, so a share link never leads to edit controls.
4. No account exists yet (open local mode): everyone *on the server's own machine* (a loopback
   connection, no proxy in between) acts as the owner, :data:`LOCAL_USER`. A visitor from another
   address is a guest and is told to create the owner account first, on the server.
5. Anyone else: a guest, who must sign in to edit.

A sign-in is checked against the database on every run, not only when the session starts: signing
out in one tab (or an expired sign-in) makes every other open tab read-only at its next interaction.

Where an identity provider exists, configure Streamlit's login in ``.streamlit/secrets.toml``::

    [auth]
    redirect_uri = "https://journeymap.example.org/oauth2callback"
    cookie_secret = "a long random string"
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://idp.example.org/.well-known/openid-configuration"

then, on the Team page, invite an account whose username is each person's email: they get its
role when they log in through the provider, everyone else who logs in is a viewer. The sign-in
form then also offers "Sign in with your identity provider".

Pages use :func:`current_actor` / :func:`current_role` to decide what to draw and
:func:`require_editor` before drawing edit controls; every write goes through a service
(:mod:`journeymap.services`), which checks the actor again. Nothing here opens a database session:
who a token or an identity is comes from :mod:`journeymap.services.accounts`.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
import streamlit.components.v1 as components
from sqlalchemy.engine import Engine

from journeymap.access import Actor, Role, is_local_client
from journeymap.errors import UserInputError
from journeymap.services import accounts
from journeymap.store.access import SIGN_IN_LIFETIME, Account
from journeymap.ui.state import ReviewKeys, StateKeys
from journeymap.ui.text import md

__all__ = [
    "LOCAL_USER",
    "SIGNED_OUT_NOTE",
    "SIGN_IN_COOKIE",
    "access_sidebar",
    "can_edit",
    "current_actor",
    "current_role",
    "enter_share_session",
    "first_account_form",
    "require_editor",
    "sign_in_form",
    "sign_out",
]

LOCAL_USER = "Local user"
SIGNED_OUT_NOTE = "Not signed in: sign in to open this workspace, or use the share link you were given."
SIGN_IN_COOKIE = "journeymap_sign_in"
# Who asks the account services before anyone is known: a visitor who is not signed in.
VISITOR = Actor("Guest", Role.GUEST)


def _has_account() -> bool:
    """Whether this session holds a signed-in account (checked by :func:`_signed_in` on every run)."""
    return isinstance(st.session_state.get(ReviewKeys.ACCOUNT), dict)


def _forget_sign_in() -> None:
    st.session_state.pop(ReviewKeys.ACCOUNT, None)
    st.session_state.pop(ReviewKeys.SIGN_IN_TOKEN, None)


def _signed_in(engine: Engine) -> Actor | None:
    """The signed-in account's actor, if its sign-in token is still running in the database.

    Asked again on every run (and in every callback), so a sign-out in another tab, an expired
    sign-in or a changed role takes effect at this session's next interaction.
    """
    if not _has_account():
        return None
    token = str(st.session_state.get(ReviewKeys.SIGN_IN_TOKEN) or "")
    account = accounts.account_for_sign_in(engine, VISITOR, token=token) if token else None
    if account is None:
        _forget_sign_in()
        st.session_state[ReviewKeys.SIGNED_OUT_ELSEWHERE] = True
        return None
    _remember(account)
    return account.actor


def _client_address() -> tuple[str | None, dict[str, str]]:
    """The visitor's IP address as Streamlit reports it (``None`` on loopback) and the request's headers."""
    try:
        remote_ip, headers = st.context.ip_address, dict(st.context.headers)
    except Exception:  # no browser request behind this run (a script run in tests)
        return None, {}
    # Without a browser connection (AppTest) Streamlit hands back a stand-in object, not an address.
    return (remote_ip if isinstance(remote_ip, str) else None), headers


def _client_is_local() -> bool:
    remote_ip, headers = _client_address()
    return is_local_client(remote_ip, headers)


def _oidc_email() -> str | None:
    # st.user only reports a login when [auth] is configured in secrets.toml; anything else means "no OIDC".
    try:
        user: Any = st.user
        if not user.is_logged_in:
            return None
        email = user.get("email") or user.get("sub")
    except Exception:
        return None
    return str(email) if email else None


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def _open_mode(engine: Engine) -> bool:
    return accounts.is_open_mode(engine, VISITOR)


def _restore_sign_in(engine: Engine) -> None:
    """Sign this new session in from the browser's sign-in cookie, once per session."""
    if st.session_state.get(ReviewKeys.COOKIE_CHECKED) or ReviewKeys.ACCOUNT in st.session_state:
        return
    st.session_state[ReviewKeys.COOKIE_CHECKED] = True
    try:
        token = str(st.context.cookies.get(SIGN_IN_COOKIE) or "")
    except Exception:  # no browser request behind this run (a script run in tests)
        return
    if not token:
        return
    account = accounts.account_for_sign_in(engine, VISITOR, token=token)
    if account is None:
        st.session_state[ReviewKeys.COOKIE_WRITE] = ""  # ended or expired: clear it
        return
    _remember(account)
    st.session_state[ReviewKeys.SIGN_IN_TOKEN] = token


def current_actor(engine: Engine) -> Actor:
    """The person using this session, with their role (see the module docstring for the precedence)."""
    _restore_sign_in(engine)
    signed_in = _signed_in(engine)
    if signed_in is not None:
        return signed_in
    email = _oidc_email()
    if email is not None:
        return accounts.actor_for_identity(engine, VISITOR, email=email)
    share_map_id = st.session_state.get(ReviewKeys.SHARE_MAP_ID)
    if share_map_id is not None:
        return Actor("Share link", Role.GUEST, map_scope=int(share_map_id))
    if _client_is_local() and _open_mode(engine):
        return Actor(LOCAL_USER, Role.OWNER)
    return VISITOR


def current_role(engine: Engine) -> Role:
    """The role of :func:`current_actor`."""
    return current_actor(engine).role


def enter_share_session(map_id: int) -> None:
    """Mark this session as a share-link visitor: read-only everywhere until someone signs in."""
    st.session_state[ReviewKeys.SHARE_MAP_ID] = map_id


def _remember(account: Account) -> None:
    st.session_state[ReviewKeys.ACCOUNT] = {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role.value,
    }


def _keep_sign_in(account: Account, token: str) -> None:
    _remember(account)
    st.session_state[ReviewKeys.SIGN_IN_TOKEN] = token
    st.session_state[ReviewKeys.COOKIE_WRITE] = token


def sign_out(engine: Engine) -> None:
    """Forget the signed-in account of this session and end its browser sign-in (in every tab)."""
    token = st.session_state.get(ReviewKeys.SIGN_IN_TOKEN)
    if token:
        try:
            accounts.sign_out(engine, VISITOR, token=str(token))
        except UserInputError as exc:
            # Still signed in elsewhere until the database answers again: say so rather than pretend.
            st.session_state[ReviewKeys.SIGN_IN_FLASH] = ("error", str(exc), None)
            return
    _forget_sign_in()
    st.session_state[ReviewKeys.COOKIE_WRITE] = ""


def _write_cookie() -> None:
    """Store (or, with an empty value, clear) the sign-in cookie in the browser, when one is pending."""
    value = st.session_state.pop(ReviewKeys.COOKIE_WRITE, None)
    if value is None:
        return
    max_age = int(SIGN_IN_LIFETIME.total_seconds()) if value else 0
    cookie = f"{SIGN_IN_COOKIE}={value}; path=/; max-age={max_age}; SameSite=Strict"
    components.html(
        "<script>const secure = window.parent.location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = {json.dumps(cookie)} + secure;</script>",
        height=0,
    )


def _form_key(key: str, place: str) -> str:
    # The sidebar's form keeps the plain keys; a second form on the same page (the guard's) gets its own.
    return key if place == "sidebar" else f"{key}_{place}"


def _on_sign_in(engine: Engine, place: str = "sidebar") -> None:
    username = str(st.session_state.get(_form_key(ReviewKeys.SIGNIN_USER, place), ""))
    password = str(st.session_state.get(_form_key(ReviewKeys.SIGNIN_PASSWORD, place), ""))
    client_key = str(st.session_state.get(StateKeys.CLIENT_KEY) or "")
    try:
        attempt = accounts.sign_in(engine, VISITOR, username=username, password=password, client_key=client_key)
    except UserInputError as exc:
        attempt = accounts.SignIn(refusal=exc)
    if attempt.account is None or attempt.refusal is not None:
        _forget_sign_in()
        st.session_state[ReviewKeys.SIGN_IN_FLASH] = ("error", str(attempt.refusal), place)
        return
    _keep_sign_in(attempt.account, attempt.token)
    # The sidebar says who is signed in; no other message is needed.
    st.session_state.pop(ReviewKeys.SIGNED_OUT_ELSEWHERE, None)
    st.session_state.pop(ReviewKeys.SIGN_IN_FLASH, None)


def _show_sign_in_flash(place: str | None) -> None:
    """Show the sign-in outcome queued for the form at ``place`` (``None``: one not tied to a form)."""
    queued = st.session_state.get(ReviewKeys.SIGN_IN_FLASH)
    if not queued or queued[2] != place:
        return
    st.session_state.pop(ReviewKeys.SIGN_IN_FLASH, None)
    (st.success if queued[0] == "success" else st.error)(md(queued[1]))


def _on_first_account(engine: Engine) -> None:
    try:
        made = accounts.create_first_account(
            engine,
            VISITOR,
            username=str(st.session_state.get(ReviewKeys.FIRST_USER, "")),
            display_name=str(st.session_state.get(ReviewKeys.FIRST_NAME, "")),
            password=str(st.session_state.get(ReviewKeys.FIRST_PASSWORD, "")),
            from_local_client=_client_is_local(),
        )
    except accounts.FirstAccountRefused as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", f"{exc} {_remote_open_mode_text()}")
        return
    except UserInputError as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))
        return
    assert made.account is not None
    _keep_sign_in(made.account, made.token)
    st.session_state[ReviewKeys.FLASH] = (
        "success",
        f"Account '{made.account.username}' created: you are the workspace's owner. Invite your team on the Team page.",
    )


def show_access_flash() -> None:
    queued = st.session_state.pop(ReviewKeys.FLASH, None)
    if queued:
        level, text = queued
        (st.success if level == "success" else st.error)(md(text))


def sign_in_form(engine: Engine, *, place: str = "sidebar") -> None:
    """A username and password form; on success the session acts as that account.

    ``place`` names the form when a page shows a second one besides the sidebar's (the edit guard
    does): each gets its own widget keys, and a refusal is shown beside the form that was used.
    """
    _show_sign_in_flash(place)
    with st.form(key=_form_key(ReviewKeys.SIGNIN_FORM, place), clear_on_submit=True):
        st.text_input("Username", key=_form_key(ReviewKeys.SIGNIN_USER, place), max_chars=200)
        st.text_input("Password", key=_form_key(ReviewKeys.SIGNIN_PASSWORD, place), type="password", max_chars=200)
        st.form_submit_button(
            "Sign in", key=_form_key(ReviewKeys.SIGNIN_SUBMIT, place), on_click=_on_sign_in, args=(engine, place)
        )
    if _oidc_configured():
        st.button("Sign in with your identity provider", key=_form_key(ReviewKeys.OIDC_LOGIN, place), on_click=st.login)


_REMOTE_OPEN_MODE = (
    "No account exists yet, and this browser is not on the machine that runs Journeymap: "
    "editing is off until the owner account exists. On that machine, open Journeymap at "
    "http://localhost:{port} and create the owner account under Access → Require sign-in; then sign in here."
)


def _local_url() -> str:
    try:
        port = int(st.get_option("server.port"))
    except Exception:
        port = 8501
    return f"http://localhost:{port}"


def _remote_open_mode_text() -> str:
    return _REMOTE_OPEN_MODE.replace("http://localhost:{port}", _local_url())


def first_account_form(engine: Engine) -> None:
    """Create the first account (the workspace's owner); this ends open local mode."""
    with st.form(key=ReviewKeys.FIRST_FORM, clear_on_submit=True):
        st.text_input("Username", key=ReviewKeys.FIRST_USER, max_chars=200)
        st.text_input("Display name", key=ReviewKeys.FIRST_NAME, max_chars=200)
        st.text_input("Password (8 characters or more)", key=ReviewKeys.FIRST_PASSWORD, type="password")
        st.form_submit_button(
            "Create owner account", key=ReviewKeys.FIRST_SUBMIT, on_click=_on_first_account, args=(engine,)
        )


def access_sidebar(engine: Engine) -> Actor:
    """The sidebar's access section: the mode, who is signed in, sign-in or sign-out; returns the actor."""
    actor = current_actor(engine)
    with st.sidebar:
        st.subheader("Access")
        if _has_account():
            st.caption(md(f"Signed in as {actor.name} ({actor.role.value})."))
            _show_sign_in_flash(None)
            st.button("Sign out", key=ReviewKeys.SIGNOUT, on_click=sign_out, args=(engine,))
        elif _oidc_email() is not None:
            st.caption(md(f"Signed in as {actor.name} ({actor.role.value}) through your identity provider."))
        elif st.session_state.get(ReviewKeys.SHARE_MAP_ID) is not None:
            st.caption("Read-only: this session opened a share link.")
        elif _open_mode(engine):
            if _client_is_local():
                st.caption("Open local mode: no account exists yet, so everyone on this machine can edit.")
                with st.expander("Require sign-in"):
                    st.caption(
                        "The first account is the workspace's owner; after that, only signed-in editors can change "
                        "maps, and the owner invites everyone else on the Team page."
                    )
                    first_account_form(engine)
            else:
                st.warning(
                    "Read-only: no account exists yet, and without one only the server's own machine can edit. "
                    f"Create the owner account there first ({_local_url()}, Access → Require sign-in)."
                )
            show_access_flash()
        else:
            if st.session_state.pop(ReviewKeys.SIGNED_OUT_ELSEWHERE, False):
                st.info("You were signed out (in another tab, or your sign-in expired): this tab is read-only now.")
            st.caption(SIGNED_OUT_NOTE)
            _show_sign_in_flash(None)
            with st.expander("Sign in", expanded=_sign_in_flash_for("sidebar")):
                sign_in_form(engine)
        _write_cookie()
    return actor


def _sign_in_flash_for(place: str) -> bool:
    queued = st.session_state.get(ReviewKeys.SIGN_IN_FLASH)
    return bool(queued and queued[2] == place)


def can_edit(engine: Engine, *, map_id: int | None = None) -> bool:
    """Whether this session may change ``map_id`` now: an editor, and the map not locked by a workshop.

    For widget callbacks, which run before the page script (and so before :func:`require_editor`): a
    control drawn while editing was allowed can still fire after a lock or a sign-out.
    """
    return accounts.may_edit(engine, current_actor(engine), map_id=map_id)


def require_editor(engine: Engine, *, map_id: int | None = None) -> Actor:
    """The current actor if they may edit (and ``map_id``, when given, is not locked); otherwise stop the page.

    Shows why (read-only session, viewer account, map locked by a workshop) and, where it helps,
    the sign-in form, then calls ``st.stop()`` so nothing after it is drawn or written.
    """
    actor = current_actor(engine)
    if not actor.is_editor:
        if st.session_state.get(ReviewKeys.SHARE_MAP_ID) is not None and not _has_account():
            st.warning("This session opened a read-only share link: editing is not available.")
        elif actor.role == Role.VIEWER:
            st.warning(md(f"{actor.name} is a viewer: only editors can change maps."))
        elif _open_mode(engine):
            st.warning(_remote_open_mode_text())
        else:
            st.warning("Sign in with an editor account to change maps.")
            sign_in_form(engine, place="main")
        st.stop()
    if map_id is not None and not accounts.may_edit(engine, actor, map_id=map_id):
        st.warning("A workshop has locked this map: edits are refused until the facilitator unlocks it.")
        st.stop()
    return actor
