"""Workshop mode: a facilitator starts a workshop on a map; people join with a code and add pain points and ideas.

``workshop`` shows the lobby (join form; editors start workshops), ``workshop?code=ABC123&name=Ana`` the
participant view and ``workshop?code=ABC123&present=1`` the presenter view. The database is the shared
state: the lists refresh every few seconds, so everyone sees everyone's additions.
"""

from datetime import timedelta

import pandas as pd
import streamlit as st

from journeymap.access import Action
from journeymap.errors import UserInputError
from journeymap.model import JourneyMap, map_to_json
from journeymap.store import latest_revision, list_maps, session_scope
from journeymap.store.reviews import (
    ItemKind,
    WorkshopInfo,
    add_workshop_item,
    find_workshop,
    list_workshop_items,
    list_workshops,
    promote_to_opportunity,
    promote_to_pain_point,
    set_workshop_closed,
    set_workshop_locked,
    start_workshop,
    touchpoint_activity,
    vote,
)
from journeymap.ui import cached_graph, md, render_graph
from journeymap.ui.access import access_sidebar, current_actor
from journeymap.ui.resources import get_engine
from journeymap.ui.state import ReviewKeys

REFRESH = timedelta(seconds=3)
PRESENTER_GRAPH_HEIGHT = 720
CODE, NAME, PRESENT = "code", "name", "present"

engine = get_engine()
actor = access_sidebar(engine)
is_facilitator = actor.can(Action.FACILITATE)


def _flash(level: str, text: str) -> None:
    st.session_state[ReviewKeys.WS_FLASH] = (level, text)


def _show_flash() -> None:
    queued = st.session_state.pop(ReviewKeys.WS_FLASH, None)
    if queued:
        level, text = queued
        {"success": st.success, "error": st.error, "info": st.info}[level](md(text))


def _go(**params: str) -> None:
    st.query_params.clear()
    st.query_params.update(params)


def _lobby() -> None:
    st.title("Workshop")
    _show_flash()
    st.subheader("Join a workshop")
    with st.form(key=ReviewKeys.WS_JOIN_FORM):
        st.text_input("Join code", key=ReviewKeys.WS_JOIN_CODE, max_chars=12)
        st.text_input("Your name", key=ReviewKeys.WS_JOIN_NAME, max_chars=80)
        joined = st.form_submit_button("Join", type="primary", key=ReviewKeys.WS_JOIN_SUBMIT)
    if joined:
        name = str(st.session_state.get(ReviewKeys.WS_JOIN_NAME, "")).strip()
        try:
            with session_scope(engine) as session:
                workshop = find_workshop(session=session, join_code=str(st.session_state.get(ReviewKeys.WS_JOIN_CODE)))
            if not name:
                raise UserInputError(
                    "is empty",
                    source="join workshop",
                    location="field 'your name'",
                    hint="Enter the name the others will see next to your additions.",
                )
        except UserInputError as exc:
            st.error(md(str(exc)))
        else:
            _go(**{CODE: workshop.join_code, NAME: name})
            st.rerun()
    if not is_facilitator:
        return
    st.subheader("Run a workshop")
    with session_scope(engine) as session:
        maps = list_maps(session=session)
        running = list_workshops(session=session)
    names = {m.id: m.name for m in maps}
    if names:
        map_id = st.selectbox("Map", options=list(names), format_func=lambda i: names[i], key=ReviewKeys.WS_MAP)
        st.text_input("Title (optional)", key=ReviewKeys.WS_TITLE, max_chars=200)
        if st.button("Start workshop", key=ReviewKeys.WS_START):
            with session_scope(engine) as session:
                workshop = start_workshop(
                    session=session,
                    actor=actor,
                    map_id=map_id,
                    title=str(st.session_state.get(ReviewKeys.WS_TITLE, "")),
                )
            _go(**{CODE: workshop.join_code, PRESENT: "1"})
            st.rerun()
    for workshop in running:
        cols = st.columns([4, 1])
        state = "locked" if workshop.locked else "open"
        cols[0].text(f"{workshop.join_code} · {workshop.title} · {names.get(workshop.map_id, '?')} · {state}")
        if cols[1].button("Present", key=f"{ReviewKeys.WS_OPEN_PREFIX}_{workshop.id}"):
            _go(**{CODE: workshop.join_code, PRESENT: "1"})
            st.rerun()


def _load(code: str) -> tuple[WorkshopInfo, JourneyMap]:
    with session_scope(engine) as session:
        workshop = find_workshop(session=session, join_code=code)
        journey_map = latest_revision(session=session, map_id=workshop.map_id).journey_map
    if workshop.closed:
        raise UserInputError("this workshop is closed", source="workshop", hint="Ask the facilitator for a new code.")
    return workshop, journey_map


def _items_frame(workshop_id: int, journey_map: JourneyMap) -> pd.DataFrame:
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    with session_scope(engine) as session:
        items = list_workshop_items(session=session, workshop_id=workshop_id)
    return pd.DataFrame(
        [
            {
                "Touchpoint": names.get(i.touchpoint_id, i.touchpoint_id),
                "Kind": i.kind.value,
                "Text": i.text,
                "By": i.participant,
                "Votes": i.votes,
            }
            for i in items
        ],
        columns=["Touchpoint", "Kind", "Text", "By", "Votes"],
    )


def _on_vote(item_id: int, name: str) -> None:
    try:
        with session_scope(engine) as session:
            counted = vote(session=session, item_id=item_id, participant=name)
    except UserInputError as exc:
        _flash("error", str(exc))
    else:
        if not counted:
            _flash("info", "You already voted for that one.")


def _participant(code: str, name: str) -> None:
    try:
        workshop, journey_map = _load(code)
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    st.title(md(workshop.title))
    st.caption(md(f"Workshop {workshop.join_code} · you are {name}"))
    _show_flash()
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    with st.form(key=ReviewKeys.WS_ADD_FORM, clear_on_submit=True):
        st.selectbox(
            "Touchpoint", options=list(names), format_func=lambda i: names[i], key=ReviewKeys.WS_ADD_TOUCHPOINT
        )
        st.radio("Kind", options=[k.value for k in ItemKind], horizontal=True, key=ReviewKeys.WS_ADD_KIND)
        st.text_input("What did you notice?", key=ReviewKeys.WS_ADD_TEXT, max_chars=200)
        added = st.form_submit_button("Add", type="primary", key=ReviewKeys.WS_ADD_SUBMIT)
    if added:
        try:
            with session_scope(engine) as session:
                add_workshop_item(
                    session=session,
                    workshop_id=workshop.id,
                    participant=name,
                    touchpoint_id=str(st.session_state.get(ReviewKeys.WS_ADD_TOUCHPOINT)),
                    kind=str(st.session_state.get(ReviewKeys.WS_ADD_KIND)),
                    text=str(st.session_state.get(ReviewKeys.WS_ADD_TEXT, "")),
                )
        except UserInputError as exc:
            st.error(md(str(exc)))
        else:
            st.success("Added: everyone sees it within a few seconds.")

    @st.fragment(run_every=REFRESH)
    def _live() -> None:
        try:  # a fragment reruns on its own, outside the app's last net: say what failed here
            with session_scope(engine) as session:
                fresh = find_workshop(session=session, join_code=code)
                items = list_workshop_items(session=session, workshop_id=workshop.id)
        except UserInputError as exc:
            st.error(md(str(exc)))
            return
        if fresh.locked:
            st.warning("The facilitator has locked the map: you can read, but not add or vote.")
        _show_flash()
        st.subheader(f"Everyone's additions ({len(items)})")
        for item in items:
            cols = st.columns([6, 1])
            cols[0].text(
                f"{names.get(item.touchpoint_id, item.touchpoint_id)} · {item.kind.value}: {item.text} "
                f"({item.participant}, {item.votes} vote{'s' if item.votes != 1 else ''})"
            )
            cols[1].button(
                "Vote",
                key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}",
                disabled=fresh.locked,
                on_click=_on_vote,
                args=(item.id, name),
            )

    _live()


def _presenter(code: str) -> None:
    try:
        workshop, journey_map = _load(code)
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    map_json = map_to_json(journey_map)
    st.title(md(f"{workshop.title} · join with code {workshop.join_code}"))
    _show_flash()
    if is_facilitator:
        cols = st.columns([1, 1, 3])
        label = "Unlock map" if workshop.locked else "Lock map"
        if cols[0].button(label, key=ReviewKeys.WS_LOCK):
            with session_scope(engine) as session:
                set_workshop_locked(session=session, actor=actor, workshop_id=workshop.id, locked=not workshop.locked)
            st.rerun()
        if cols[1].button("Close workshop", key=ReviewKeys.WS_CLOSE):
            with session_scope(engine) as session:
                set_workshop_closed(session=session, actor=actor, workshop_id=workshop.id)
            _go()
            st.rerun()

    @st.fragment(run_every=REFRESH)
    def _live() -> None:
        try:  # a fragment reruns on its own, outside the app's last net: say what failed here
            with session_scope(engine) as session:
                activity = {a.touchpoint_id: a for a in touchpoint_activity(session=session, workshop_id=workshop.id)}
        except UserInputError as exc:
            st.error(md(str(exc)))
            return
        nodes, edges, config = cached_graph(map_json, None, PRESENTER_GRAPH_HEIGHT)
        counted = []
        for node in nodes:
            found = activity.get(str(node.get("id")))
            if found is not None:
                node = {**node, "label": f"{node.get('label', '')} [{found.pain_points + found.ideas}]"}
            counted.append(node)
        render_graph(counted, edges, config, key=ReviewKeys.WS_GRAPH)
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Touchpoint": names.get(a.touchpoint_id, a.touchpoint_id),
                        "Pain points": a.pain_points,
                        "Ideas": a.ideas,
                        "Votes": a.votes,
                    }
                    for a in activity.values()
                ],
                columns=["Touchpoint", "Pain points", "Ideas", "Votes"],
            ),
            hide_index=True,
            key=ReviewKeys.WS_COUNTS,
        )
        if is_facilitator:
            _promotions(workshop, names)

    _live()


def _on_promote(item_id: int, text: str, as_what: str) -> None:
    try:
        # Asked again: this callback runs before the page, and the sign-in may have ended since it was drawn.
        acting = current_actor(engine)
        with session_scope(engine) as session:
            if as_what == "opportunity":
                promote_to_opportunity(session=session, actor=acting, item_id=item_id)
                _flash("success", f"'{text}' is now an opportunity on the map's backlog.")
            else:
                revision = promote_to_pain_point(session=session, actor=acting, item_id=item_id)
                _flash("success", f"'{text}' added as a pain point: revision {revision.number} of the map.")
    except UserInputError as exc:
        _flash("error", str(exc))


def _promotions(workshop: WorkshopInfo, names: dict[str, str]) -> None:
    with session_scope(engine) as session:
        items = list_workshop_items(session=session, workshop_id=workshop.id)
    pending = [i for i in items if i.promoted_as is None]
    if not pending:
        return
    st.subheader("Promote items")
    for item in pending:
        cols = st.columns([4, 1, 1])
        cols[0].text(f"{names.get(item.touchpoint_id, item.touchpoint_id)} · {item.kind.value}: {item.text}")
        cols[1].button(
            "Opportunity",
            key=f"{ReviewKeys.WS_PROMOTE_OPP_PREFIX}_{item.id}",
            on_click=_on_promote,
            args=(item.id, item.text, "opportunity"),
        )
        cols[2].button(
            "Pain point",
            key=f"{ReviewKeys.WS_PROMOTE_PAIN_PREFIX}_{item.id}",
            on_click=_on_promote,
            args=(item.id, item.text, "pain point"),
        )


code = st.query_params.get(CODE)
if not code:
    _lobby()
elif st.query_params.get(PRESENT):
    _presenter(code)
else:
    participant = (st.query_params.get(NAME) or "").strip()
    if not participant:
        _go()
        st.rerun()
    _participant(code, participant)
