"""Shared map, read-only: ``view?share=<token>`` shows one map and its review backlog; nothing there edits.

Without a token this is the review page of signed-in users (everyone, in open local mode): viewers read and
comment, editors also resolve, keep the opportunity backlog and create or revoke share links. Guests are told
to open the link they were sent.
"""

from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from journeymap.access import Actor, Role
from journeymap.errors import UserInputError
from journeymap.model import map_to_json
from journeymap.store import latest_revision, list_maps, session_scope
from journeymap.store.access import create_share_link, list_share_links, resolve_share_link, revoke_share_link
from journeymap.store.reviews import list_comments, list_opportunities
from journeymap.ui import cached_graph, md, render_graph
from journeymap.ui.access import access_sidebar, enter_share_session
from journeymap.ui.resources import get_engine
from journeymap.ui.review_panels import comments_panel, opportunities_panel
from journeymap.ui.state import ReviewKeys

GRAPH_HEIGHT = 620
SHARE_PARAM = "share"
EXPIRY_CHOICES = {"Never": None, "1 day": timedelta(days=1), "7 days": timedelta(days=7), "30 days": timedelta(days=30)}

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
    if actor.role == Role.GUEST:
        st.info("Open the share link you were sent to see a map, or sign in (in the sidebar) to review maps here.")
        st.stop()
    with session_scope(engine) as session:
        maps = list_maps(session=session)
    if not maps:
        st.info("There is no saved map to review yet.")
        st.stop()
    names = {m.id: m.name for m in maps}
    map_id = st.selectbox("Map", options=list(names), format_func=lambda i: names[i], key=ReviewKeys.REVIEW_MAP)
    with session_scope(engine) as session:
        journey_map = latest_revision(session=session, map_id=map_id).journey_map
    nodes, edges, config = cached_graph(map_to_json(journey_map), None, GRAPH_HEIGHT)
    render_graph(nodes, edges, config, key=ReviewKeys.VIEW_GRAPH)
    comments_panel(engine, map_id, journey_map)
    opportunities_panel(engine, map_id, journey_map)
    if actor.is_editor:
        _share_links(actor, map_id)


def _share_links(actor: Actor, map_id: int) -> None:
    st.subheader("Share this map read-only")
    with st.form(key=ReviewKeys.SHARE_FORM, clear_on_submit=True):
        st.text_input("Label (who the link is for)", key=ReviewKeys.SHARE_LABEL, max_chars=200)
        st.selectbox("Expires after", options=list(EXPIRY_CHOICES), key=ReviewKeys.SHARE_EXPIRY)
        created = st.form_submit_button("Create share link", key=ReviewKeys.SHARE_SUBMIT)
    if created:
        try:
            with session_scope(engine) as session:
                new_token, _ = create_share_link(
                    session=session,
                    actor=actor,
                    map_id=map_id,
                    label=str(st.session_state.get(ReviewKeys.SHARE_LABEL, "")),
                    expires_in=EXPIRY_CHOICES[str(st.session_state.get(ReviewKeys.SHARE_EXPIRY, "Never"))],
                )
        except UserInputError as exc:
            st.error(md(str(exc)))
        else:
            st.success("Share link created. Copy it now: it is shown only once.")
            st.code(_share_url(new_token), language=None)
    with session_scope(engine) as session:
        links = list_share_links(session=session, map_id=map_id)
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
        if state == "active" and cols[1].button("Revoke", key=f"{ReviewKeys.SHARE_REVOKE_PREFIX}_{link.id}"):
            with session_scope(engine) as session:
                revoke_share_link(session=session, actor=actor, link_id=link.id)
            st.rerun()


if not token:
    _review_page()
    st.stop()

try:
    with session_scope(engine) as session:
        link = resolve_share_link(session=session, token=token)
        revision = latest_revision(session=session, map_id=link.map_id)
        comments = list_comments(session=session, map_id=link.map_id, include_resolved=False)
        opportunities = list_opportunities(session=session, map_id=link.map_id)
except UserInputError as exc:
    st.title("Shared map")
    st.error(md(str(exc)))
    st.stop()

enter_share_session(link.map_id)
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
    st.caption(md(f"Read-only view · revision {revision.number} by {revision.author} · shared by {link.created_by}"))
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
