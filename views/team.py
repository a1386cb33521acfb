"""Team: the owner invites accounts, changes their roles and removes them; everyone else reads why not."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.access import ACCOUNT_ROLES, Action, Role
from journeymap.errors import UserInputError
from journeymap.services import accounts
from journeymap.store.access import Account
from journeymap.ui import flash, init_page, md, show_flash
from journeymap.ui.access import current_actor
from journeymap.ui.state import StateKeys

ROLE_NAMES: dict[Role, str] = {
    Role.OWNER: "owner: everything, and manages accounts",
    Role.EDITOR: "editor: changes maps, data and assessments",
    Role.VIEWER: "viewer: reads and comments",
}


def _role_label(role: Role) -> str:
    return ROLE_NAMES[role]


def _invite(engine: Engine) -> None:
    try:
        created = accounts.create_account(
            engine,
            current_actor(engine),
            username=str(st.session_state.get(StateKeys.TEAM_USERNAME, "")),
            display_name=str(st.session_state.get(StateKeys.TEAM_DISPLAY_NAME, "")),
            password=str(st.session_state.get(StateKeys.TEAM_PASSWORD, "")),
            role=Role(st.session_state.get(StateKeys.TEAM_ROLE, Role.VIEWER)),
        )
    except UserInputError as exc:
        flash("team", "error", str(exc))
        return
    flash(
        "team",
        "success",
        f"Invited '{created.username}' as {created.role.value}. Hand them the first password in person; "
        "they sign in with it in the sidebar.",
    )


def _change_role(engine: Engine, account_id: int) -> None:
    role = Role(st.session_state[f"{StateKeys.TEAM_ROLE_PREFIX}_{account_id}"])
    try:
        changed = accounts.change_role(engine, current_actor(engine), account_id=account_id, role=role)
    except UserInputError as exc:
        flash("team", "error", str(exc))
        return
    flash("team", "success", f"'{changed.username}' is now {changed.role.value}.")


def _remove(engine: Engine, account_id: int) -> None:
    try:
        removed = accounts.remove_account(engine, current_actor(engine), account_id=account_id)
    except UserInputError as exc:
        flash("team", "error", str(exc))
        return
    flash("team", "success", f"Removed '{removed.username}': their sign-ins have ended.")


def _accounts_table(team: list[Account]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Username": a.username,
                    "Display name": a.display_name,
                    "Role": a.role.value,
                    "Since": f"{a.created_at:%Y-%m-%d}",
                }
                for a in team
            ],
            columns=["Username", "Display name", "Role", "Since"],
        ),
        hide_index=True,
        key=StateKeys.TEAM_TABLE,
    )


def _invite_form(engine: Engine) -> None:
    st.subheader("Invite")
    with st.form(key=StateKeys.TEAM_FORM, clear_on_submit=True):
        st.text_input("Username (an email address works)", key=StateKeys.TEAM_USERNAME, max_chars=200)
        st.text_input("Display name (signs what they save)", key=StateKeys.TEAM_DISPLAY_NAME, max_chars=200)
        st.text_input(
            "First password (8 characters or more; hand it over in person)",
            key=StateKeys.TEAM_PASSWORD,
            type="password",
            max_chars=200,
        )
        st.selectbox("Role", options=list(ACCOUNT_ROLES), index=2, format_func=_role_label, key=StateKeys.TEAM_ROLE)
        st.form_submit_button("Invite", type="primary", key=StateKeys.TEAM_SUBMIT, on_click=_invite, args=(engine,))


def _manage(engine: Engine, team: list[Account], own_id: int | None) -> None:
    st.subheader("Roles")
    for account in team:
        name_col, role_col, change_col, remove_col = st.columns([3, 3, 1, 1], vertical_alignment="bottom")
        you = " (you)" if account.id == own_id else ""
        name_col.markdown(md(f"{account.display_name} · {account.username}{you}"))
        role_col.selectbox(
            "Role",
            options=list(ACCOUNT_ROLES),
            index=list(ACCOUNT_ROLES).index(account.role),
            format_func=_role_label,
            key=f"{StateKeys.TEAM_ROLE_PREFIX}_{account.id}",
            label_visibility="collapsed",
        )
        change_col.button(
            "Set role",
            key=f"{StateKeys.TEAM_ROLE_SUBMIT_PREFIX}_{account.id}",
            on_click=_change_role,
            args=(engine, account.id),
        )
        remove_col.button(
            "Remove", key=f"{StateKeys.TEAM_REMOVE_PREFIX}_{account.id}", on_click=_remove, args=(engine, account.id)
        )


ctx = init_page()
st.title("Team")
st.caption(
    "Who may do what: owners manage accounts and do everything editors do; editors change maps, event data and "
    "assessments; viewers read and comment. Whatever someone saves is signed with their display name."
)
show_flash("team")

# --- guard: the owner only ---------------------------------------------------------------------------
if not ctx.actor.can(Action.MANAGE_ACCOUNTS):
    if ctx.actor.role == Role.GUEST:
        st.info("Sign in to see your team: only the workspace's owner manages accounts here.")
    else:
        st.info(f"{md(ctx.actor.name)} is {ctx.actor.role.value}: only the workspace's owner manages accounts.")
    st.stop()
if accounts.is_open_mode(ctx.engine, ctx.actor):
    st.info(
        "No account exists yet: create your own (the owner's) first, in the sidebar under Access → Require sign-in. "
        "Then invite your team here."
    )
    st.stop()

# --- sections --------------------------------------------------------------------------------------------
members = accounts.list_accounts(ctx.engine, ctx.actor)
_accounts_table(members)
_invite_form(ctx.engine)
_manage(ctx.engine, members, ctx.actor.account_id)
