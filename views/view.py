"""Shared map, read-only: ``view?share=<token>`` shows one map and its review backlog; nothing there edits.

Without a token this is the review page of signed-in users (everyone, in open local mode): viewers read and
comment, editors also resolve, keep the opportunity backlog and create or revoke share links. A session that
opened a share link sees that one map here; any other visitor is told to open the link they were sent.
"""

from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from journeymap.access import Action, Actor
from journeymap.errors import UserInputError
from journeymap.model import map_to_json
from journeymap.services import maps, reviews
from journeymap.ui import cached_graph, md, render_graph
from journeymap.ui.access import access_sidebar, current_actor, enter_share_session, show_access_flash
from journeymap.ui.resources import get_engine
from journeymap.ui.review_panels import comments_panel, opportunities_panel
from journeymap.ui.state import ReviewKeys

GRAPH_HEIGHT = 620
SHARE_PARAM = "share"
EXPIRY_CHOICES: dict[str, timedelta | None] = {
    "Never": None,
    "1 day": timedelta(days=1),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
}

engine = get_engine()
token = st.query_params.get(SHARE_PARAM)


def _share_url(share_token: str) -> str:
    # The server's own address when the browser told us; otherwise a path relative to the app.
    current = urlsplit(st.context.url or "")
    path = f"/view?{urlencode({SHARE_PARAM: share_token})}"
    return f"{current.scheme}://{current.netloc}{path}" if current.netloc else path.lstrip("/")


def _review_page() -> None:
    """Without a share token: signed-in reviewers comment, editors also manage the backlog and share links."""
    actor = access_sidebar(engine)
    st.title("Review and share")
    if not (actor.can(Action.READ_WORKSPACE) or actor.map_scope is not None):
        show_access_flash()  # why a control drawn before a sign-out refused its write
        st.info("Open the share link you were sent to see a map, or sign in (in the sidebar) to review maps here.")
        st.stop()
    try:
        names = {m.id: m.name for m in maps.list_maps(engine, actor)}
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    if not names:
        st.info("There is no saved map to review yet.")
        st.stop()
    if actor.map_scope is not None:  # a share-link visitor: their one map, nothing to pick
        map_id = actor.map_scope
        st.subheader(md(names.get(map_id, f"Map #{map_id}")))
    else:
        map_id = int(st.selectbox("Map", options=list(names), format_func=names.__getitem__, key=ReviewKeys.REVIEW_MAP))
    try:
        journey_map = maps.latest_revision(engine, actor, map_id=map_id).journey_map
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    nodes, edges, config = cached_graph(map_to_json(journey_map), None, GRAPH_HEIGHT)
    render_graph(nodes, edges, config, key=ReviewKeys.VIEW_GRAPH)
    comments_panel(engine, map_id, journey_map)
    opportunities_panel(engine, map_id, journey_map)
    if actor.can(Action.SHARE):
        _share_links(actor, map_id)


def _on_revoke(link_id: int) -> None:
    try:  # asked again: the sign-in may have ended since the button was drawn
        reviews.revoke_share_link(engine, current_actor(engine), link_id=link_id)
    except UserInputError as exc:
        st.session_state[ReviewKeys.FLASH] = ("error", str(exc))


def _share_links(actor: Actor, map_id: int) -> None:
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
            st.code(_share_url(new_token), language=None)
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
                "Revoke", key=f"{ReviewKeys.SHARE_REVOKE_PREFIX}_{link.id}", on_click=_on_revoke, args=(link.id,)
            )


if not token:
    _review_page()
    st.stop()

try:
    shared = reviews.open_share_link(engine, current_actor(engine), token=token)
    # From here on this session reads as the link's visitor: that one map and its reports, nothing else.
    revision = maps.latest_revision(engine, shared.actor, map_id=shared.map_id)
    comments = reviews.list_comments(engine, shared.actor, map_id=shared.map_id, include_resolved=False)
    opportunities = reviews.list_opportunities(engine, shared.actor, map_id=shared.map_id)
except UserInputError as exc:
    st.title("Shared map")
    st.error(md(str(exc)))
    st.stop()

enter_share_session(shared.map_id)
journey_map = revision.journey_map
names = {tp.id: tp.name for tp in journey_map.touchpoints}

# Fixed placeholders so nothing is ever inserted above the graph later (a real browser would blank it).
header_area = st.container()
graph_area = st.container()
detail_area = st.container()
review_area = st.container()

with st.sidebar:
    st.subheader("Access")
    st.caption("Read-only: this map was shared with you through a link.")

with header_area:
    st.title(md(journey_map.name))
    st.caption(md(f"Read-only view · revision {revision.number} by {revision.author} · shared by {shared.shared_by}"))
    cols = st.columns(4)
    cols[0].metric("Touchpoints", len(journey_map.touchpoints))
    cols[1].metric("Transitions", len(journey_map.transitions))
    cols[2].metric("Channels", len(journey_map.channels))
    cols[3].metric("Silo handoffs", revision.silo_handoffs)

with graph_area:
    nodes, edges, config = cached_graph(map_to_json(journey_map), None, GRAPH_HEIGHT)
    clicked = render_graph(nodes, edges, config, key=ReviewKeys.VIEW_GRAPH)

with detail_area:
    if clicked in names:
        tp = journey_map.touchpoint(clicked)
        st.subheader(md(tp.name))
        st.text(f"Channel: {journey_map.channel(tp.channel).name} · Stage: {journey_map.stage(tp.stage).name}")
        if tp.description:
            st.text(tp.description)
        if tp.pain_points:
            st.text("Pain points: " + "; ".join(tp.pain_points))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Touchpoint": tp.name,
                    "Channel": journey_map.channel(tp.channel).name,
                    "Stage": journey_map.stage(tp.stage).name,
                    "Pain points": "; ".join(tp.pain_points),
                }
                for tp in journey_map.touchpoints
            ],
            columns=["Touchpoint", "Channel", "Stage", "Pain points"],
        ),
        hide_index=True,
        key=ReviewKeys.VIEW_TABLE,
    )

with review_area:
    st.subheader("Open comments")
    if comments:
        st.dataframe(
            pd.DataFrame(
                [
                    {"On": names.get(c.target_id, c.target_id) or "the map", "Author": c.author, "Comment": c.body}
                    for c in comments
                ],
                columns=["On", "Author", "Comment"],
            ),
            hide_index=True,
            key=ReviewKeys.VIEW_COMMENTS,
        )
    else:
        st.caption("No open comment.")
    st.subheader("Opportunities")
    if opportunities:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Opportunity": o.title,
                        "Touchpoint": names.get(o.touchpoint_id or "", ""),
                        "Owner": o.owner,
                        "Status": o.status.value,
                        "Due": o.due.isoformat() if o.due else "",
                    }
                    for o in opportunities
                ],
                columns=["Opportunity", "Touchpoint", "Owner", "Status", "Due"],
            ),
            hide_index=True,
            key=ReviewKeys.VIEW_OPPORTUNITIES,
        )
    else:
        st.caption("No opportunity recorded.")
