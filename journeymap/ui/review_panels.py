"""Review panels of one map: its comments, its opportunity backlog and its read-only share links.

Every read and write goes through :mod:`journeymap.services.reviews`; callbacks ask who is acting
again when they run, since a sign-in can end between drawing a control and clicking it.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.access import Action
from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.services import reviews
from journeymap.store.reviews import OpportunityStatus, TargetKind, handoff_target, is_own_comment
from journeymap.ui.access import current_actor, show_access_flash
from journeymap.ui.navigation import share_url
from journeymap.ui.state import ReviewKeys
from journeymap.ui.text import md

__all__ = ["comments_panel", "opportunities_panel", "share_links_panel"]

EXPIRY_CHOICES: dict[str, timedelta | None] = {
    "Never": None,
    "1 day": timedelta(days=1),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
}


def _targets(journey_map: JourneyMap) -> dict[str, str]:
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    options = {f"{TargetKind.MAP.value}|": "The whole map"}
    options.update(
        {f"{TargetKind.TOUCHPOINT.value}|{tp.id}": f"Touchpoint: {tp.name}" for tp in journey_map.touchpoints}
    )
    options.update(
        {
            f"{TargetKind.HANDOFF.value}|{handoff_target(tr.source, tr.target)}": (
                f"Transition: {names[tr.source]} → {names[tr.target]}"
            )
            for tr in journey_map.transitions
        }
    )
    return options


def _target_label(journey_map: JourneyMap, kind: TargetKind, target_id: str) -> str:
    return _targets(journey_map).get(f"{kind.value}|{target_id}", f"{kind.value} {target_id} (no longer on the map)")


def _on_comment(engine: Engine, map_id: int) -> None:
    kind, _, target = str(st.session_state.get(ReviewKeys.COMMENT_TARGET, "map|")).partition("|")
    try:
        reviews.add_comment(
            engine,
            current_actor(engine),
            map_id=map_id,
            body=str(st.session_state.get(ReviewKeys.COMMENT_BODY, "")),
            target_kind=TargetKind(kind),
            target_id=target,
        )
    except UserInputError as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))


def _on_resolve(engine: Engine, comment_id: int, resolved: bool) -> None:
    try:
        reviews.resolve_comment(engine, current_actor(engine), comment_id=comment_id, resolved=resolved)
    except UserInputError as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))


def comments_panel(engine: Engine, map_id: int, journey_map: JourneyMap) -> None:
    """Comments on a map: read by whoever may read it; added by members; resolved by editors or their author."""
    actor = current_actor(engine)
    comments = reviews.list_comments(engine, actor, map_id=map_id)
    open_comments = [c for c in comments if not c.resolved]
    st.subheader(f"Comments ({len(open_comments)} open)")
    show_access_flash()
    for comment in open_comments:
        cols = st.columns([6, 1])
        cols[0].text(
            f"{_target_label(journey_map, comment.target_kind, comment.target_id)} · {comment.author}: {comment.body}"
        )
        if actor.can(Action.RESOLVE_ANY_COMMENT) or is_own_comment(comment, actor):
            cols[1].button(
                "Resolve",
                key=f"{ReviewKeys.COMMENT_RESOLVE_PREFIX}_{comment.id}",
                on_click=_on_resolve,
                args=(engine, comment.id, True),
            )
    if not open_comments:
        st.caption("No open comment.")
    resolved = [c for c in comments if c.resolved]
    if resolved:
        with st.expander(f"Resolved comments ({len(resolved)})"):
            for comment in resolved:
                cols = st.columns([6, 1])
                cols[0].text(
                    f"{_target_label(journey_map, comment.target_kind, comment.target_id)} · "
                    f"{comment.author}: {comment.body} (resolved by {comment.resolved_by})"
                )
                if actor.can(Action.RESOLVE_ANY_COMMENT) or is_own_comment(comment, actor):
                    cols[1].button(
                        "Reopen",
                        key=f"{ReviewKeys.COMMENT_REOPEN_PREFIX}_{comment.id}",
                        on_click=_on_resolve,
                        args=(engine, comment.id, False),
                    )
    if not actor.can(Action.COMMENT):
        return
    targets = _targets(journey_map)
    with st.form(key=ReviewKeys.COMMENT_FORM, clear_on_submit=True):
        st.selectbox("About", options=list(targets), format_func=targets.__getitem__, key=ReviewKeys.COMMENT_TARGET)
        st.text_area("Comment", key=ReviewKeys.COMMENT_BODY, max_chars=5000)
        st.form_submit_button("Add comment", key=ReviewKeys.COMMENT_SUBMIT, on_click=_on_comment, args=(engine, map_id))


def _on_opportunity(engine: Engine, map_id: int) -> None:
    touchpoint = str(st.session_state.get(ReviewKeys.OPP_TOUCHPOINT, ""))
    due = st.session_state.get(ReviewKeys.OPP_DUE)
    try:
        reviews.add_opportunity(
            engine,
            current_actor(engine),
            map_id=map_id,
            title=str(st.session_state.get(ReviewKeys.OPP_TITLE, "")),
            touchpoint_id=touchpoint or None,
            owner=str(st.session_state.get(ReviewKeys.OPP_OWNER, "")),
            due=due if isinstance(due, date) else None,
        )
    except UserInputError as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))


def _on_status(engine: Engine, opportunity_id: int) -> None:
    key = f"{ReviewKeys.OPP_STATUS_PREFIX}_{opportunity_id}"
    try:
        reviews.update_opportunity(
            engine, current_actor(engine), opportunity_id=opportunity_id, status=str(st.session_state.get(key))
        )
    except UserInputError as exc:
        st.session_state.pop(key, None)  # the select box shows the stored status again
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))


def opportunities_panel(engine: Engine, map_id: int, journey_map: JourneyMap) -> None:
    """The map's opportunity backlog: read by whoever may read the map; added to and moved along by editors."""
    actor = current_actor(engine)
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    backlog = reviews.list_opportunities(engine, actor, map_id=map_id)
    st.subheader("Opportunities")
    statuses = [s.value for s in OpportunityStatus]
    for item in backlog:
        cols = st.columns([5, 2])
        due = f", due {item.due.isoformat()}" if item.due else ""
        where = names.get(item.touchpoint_id or "", "the map")
        cols[0].text(f"{item.title} · {where} · owner {item.owner or 'unassigned'}{due}")
        if actor.can(Action.MANAGE_OPPORTUNITIES):
            key = f"{ReviewKeys.OPP_STATUS_PREFIX}_{item.id}"
            st.session_state.setdefault(key, item.status.value)
            cols[1].selectbox(
                "Status",
                options=statuses,
                key=key,
                on_change=_on_status,
                args=(engine, item.id),
                label_visibility="collapsed",
            )
        else:
            cols[1].text(item.status.value)
    if not backlog:
        st.caption("No opportunity recorded.")
    if not actor.can(Action.MANAGE_OPPORTUNITIES):
        return
    with st.form(key=ReviewKeys.OPP_FORM, clear_on_submit=True):
        st.text_input("Opportunity (a pain point to fix)", key=ReviewKeys.OPP_TITLE, max_chars=200)
        options = ["", *names]
        st.selectbox(
            "Touchpoint",
            options=options,
            format_func=lambda i: names.get(i, "The whole map"),
            key=ReviewKeys.OPP_TOUCHPOINT,
        )
        st.text_input("Owner", key=ReviewKeys.OPP_OWNER, max_chars=200)
        st.date_input("Due (optional)", value=None, key=ReviewKeys.OPP_DUE)
        st.form_submit_button(
            "Add opportunity", key=ReviewKeys.OPP_SUBMIT, on_click=_on_opportunity, args=(engine, map_id)
        )


def _on_revoke(engine: Engine, link_id: int) -> None:
    try:
        reviews.revoke_share_link(engine, current_actor(engine), link_id=link_id)
    except UserInputError as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))


def share_links_panel(engine: Engine, map_id: int) -> None:
    """Read-only links to a map: created (the token shown once) and revoked by those who may share it."""
    actor = current_actor(engine)
    if not actor.can(Action.SHARE):
        return
    st.subheader("Share this map read-only")
    with st.form(key=ReviewKeys.SHARE_FORM, clear_on_submit=True):
        st.text_input("Label (who the link is for)", key=ReviewKeys.SHARE_LABEL, max_chars=200)
        st.selectbox("Expires after", options=list(EXPIRY_CHOICES), key=ReviewKeys.SHARE_EXPIRY)
        created = st.form_submit_button("Create share link", key=ReviewKeys.SHARE_SUBMIT)
    if created:
        try:
            new_token, _ = reviews.create_share_link(
                engine,
                current_actor(engine),
                map_id=map_id,
                label=str(st.session_state.get(ReviewKeys.SHARE_LABEL, "")),
                expires_in=EXPIRY_CHOICES[str(st.session_state.get(ReviewKeys.SHARE_EXPIRY, "Never"))],
            )
        except UserInputError as exc:
            st.error(md(str(exc)))
        else:
            st.success("Share link created. Copy it now: it is shown only once.")
            st.code(share_url(new_token), language=None)
    links = reviews.list_share_links(engine, actor, map_id=map_id)
    st.markdown("**Links to this map**")
    if not links:
        st.caption("No share link yet.")
    for link in links:
        state = "revoked" if link.revoked_at else ("active" if link.is_active() else "expired")
        cols = st.columns([4, 1])
        expiry = f", expires {link.expires_at:%Y-%m-%d %H:%M} UTC" if link.expires_at else ""
        cols[0].text(
            f"{link.label or 'Unlabelled'} by {link.created_by}, {link.created_at:%Y-%m-%d %H:%M} UTC{expiry}: {state}"
        )
        if state == "active":
            cols[1].button(
                "Revoke",
                key=f"{ReviewKeys.SHARE_REVOKE_PREFIX}_{link.id}",
                on_click=_on_revoke,
                args=(engine, link.id),
            )
