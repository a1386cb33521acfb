"""Shared map: what a read-only share link opens; nothing on this page edits.

``view?share=<token>`` shows the link's one map: its graph, its touchpoints, its open comments and its
opportunity backlog. Without a token a member sees the same read-only view of the open map (or of the map
they pick): what the people they share it with will see. A session that opened a share link sees its one
map; any other visitor is told to open the link they were sent. Comments, the backlog and share links are
kept on the Review page.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from journeymap.access import Action, Actor
from journeymap.errors import UserInputError
from journeymap.model import map_to_json
from journeymap.services import maps, reviews
from journeymap.store import Revision
from journeymap.store.reviews import CommentInfo, OpportunityInfo
from journeymap.ui import cached_graph, md, render_graph
from journeymap.ui.access import access_sidebar, current_actor, enter_share_session
from journeymap.ui.navigation import REVIEW_PAGE, SHARE_PARAM
from journeymap.ui.page import preselect_map
from journeymap.ui.resources import get_engine
from journeymap.ui.state import ReviewKeys

GRAPH_HEIGHT = 620

engine = get_engine()
token = st.query_params.get(SHARE_PARAM)


@dataclass(frozen=True)
class _Shown:
    """What the read-only view shows of a map: its latest revision, open comments and opportunities."""

    revision: Revision
    comments: list[CommentInfo]
    opportunities: list[OpportunityInfo]


def _read(actor: Actor, map_id: int) -> _Shown:
    return _Shown(
        revision=maps.latest_revision(engine, actor, map_id=map_id),
        comments=reviews.list_comments(engine, actor, map_id=map_id, include_resolved=False),
        opportunities=reviews.list_opportunities(engine, actor, map_id=map_id),
    )


def _read_only_view(shown: _Shown, heading: Callable[[str], object], shared_by: str | None) -> None:
    """The map read-only: key figures, the graph (a click shows a touchpoint), touchpoints, comments, backlog."""
    revision, journey_map = shown.revision, shown.revision.journey_map
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    # Fixed placeholders so nothing is ever inserted above the graph later (a real browser would blank it).
    header_area = st.container()
    graph_area = st.container()
    detail_area = st.container()
    review_area = st.container()

    with header_area:
        heading(md(journey_map.name))
        by = f" · shared by {shared_by}" if shared_by else ""
        st.caption(md(f"Read-only view · revision {revision.number} by {revision.author}{by}"))
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
        if shown.comments:
            st.dataframe(
                pd.DataFrame(
                    [
                        {"On": names.get(c.target_id, c.target_id) or "the map", "Author": c.author, "Comment": c.body}
                        for c in shown.comments
                    ],
                    columns=["On", "Author", "Comment"],
                ),
                hide_index=True,
                key=ReviewKeys.VIEW_COMMENTS,
            )
        else:
            st.caption("No open comment.")
        st.subheader("Opportunities")
        if shown.opportunities:
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
                        for o in shown.opportunities
                    ],
                    columns=["Opportunity", "Touchpoint", "Owner", "Status", "Due"],
                ),
                hide_index=True,
                key=ReviewKeys.VIEW_OPPORTUNITIES,
            )
        else:
            st.caption("No opportunity recorded.")


def _without_token() -> None:
    """Members preview the open map as a link shows it; a link's visitor sees their map; others get a hint."""
    actor = access_sidebar(engine)
    st.title("Shared map")
    if not (actor.can(Action.READ_WORKSPACE) or actor.map_scope is not None):
        st.info("Open the share link you were sent to see a map, or sign in (in the sidebar) to read maps here.")
        st.stop()
    st.caption("What a share link opens: the map read-only, with its open comments and opportunities.")
    st.page_link(REVIEW_PAGE, label="Comments, opportunities and share links: on the Review page")
    try:
        names = {m.id: m.name for m in maps.list_maps(engine, actor)}
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    if not names:
        st.info("There is no saved map yet.")
        st.stop()
    if actor.map_scope is not None:  # a share-link visitor: their one map, nothing to pick
        map_id = actor.map_scope
    else:
        preselect_map(ReviewKeys.REVIEW_MAP, list(names))
        map_id = int(st.selectbox("Map", options=list(names), format_func=names.__getitem__, key=ReviewKeys.REVIEW_MAP))
    try:
        shown = _read(actor, map_id)
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    _read_only_view(shown, st.subheader, None)


if not token:
    _without_token()
    st.stop()

try:
    shared = reviews.open_share_link(engine, current_actor(engine), token=token)
    # From here on this session reads as the link's visitor: that one map and its reports, nothing else.
    shown = _read(shared.actor, shared.map_id)
except UserInputError as exc:
    st.title("Shared map")
    st.error(md(str(exc)))
    st.stop()

enter_share_session(shared.map_id)
with st.sidebar:
    st.subheader("Access")
    st.caption("Read-only: this map was shared with you through a link.")
_read_only_view(shown, st.title, shared.shared_by)
