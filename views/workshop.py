"""Workshop mode: a facilitator starts a workshop on a map; people join with a code and add pain points and ideas.

``workshop`` shows the lobby (join form; facilitators start workshops), ``workshop?code=ABC123&name=Ana`` the
participant view and ``workshop?code=ABC123&present=1`` the presenter view. The database is the shared
state: the lists refresh every few seconds, so everyone sees everyone's additions. The join code is what
lets a participant in: without a valid one the page shows no map.
"""

from datetime import timedelta
from typing import Literal

import pandas as pd
import streamlit as st

from journeymap.access import Action, Actor
from journeymap.errors import UserInputError
from journeymap.model import map_to_json
from journeymap.services import maps, reviews
from journeymap.store.reviews import ItemKind, WorkshopItemInfo
from journeymap.ui import FlashLevel, cached_graph, md, render_graph
from journeymap.ui.access import access_sidebar, current_actor
from journeymap.ui.page import preselect_map
from journeymap.ui.resources import get_engine
from journeymap.ui.state import ReviewKeys
from journeymap.viz import for_projector

REFRESH = timedelta(seconds=3)
PRESENTER_GRAPH_HEIGHT = 720
CODE, NAME, PRESENT = "code", "name", "present"

engine = get_engine()
actor = access_sidebar(engine)
is_facilitator = actor.can(Action.FACILITATE)


def _acting() -> Actor:
    # Asked again in callbacks: they run before the page, and the sign-in may have ended since it was drawn.
    return current_actor(engine)


def _flash(level: FlashLevel, text: str) -> None:
    st.session_state[ReviewKeys.WS_FLASH] = (level, text)


def _show_flash() -> None:
    queued = st.session_state.pop(ReviewKeys.WS_FLASH, None)
    if queued:
        level, text = queued
        {"success": st.success, "error": st.error, "info": st.info, "warning": st.warning}[level](md(text))


def _go(**params: str) -> None:
    st.query_params.clear()
    st.query_params.update(params)


def _items_label(item: WorkshopItemInfo, names: dict[str, str]) -> str:
    return f"{names.get(item.touchpoint_id, item.touchpoint_id)} · {item.kind.value}: {item.text}"


# --- lobby ----------------------------------------------------------------------------------------------


def _on_join() -> None:
    code = str(st.session_state.get(ReviewKeys.WS_JOIN_CODE, ""))
    name = str(st.session_state.get(ReviewKeys.WS_JOIN_NAME, ""))
    try:
        workshop = reviews.join_workshop(engine, _acting(), join_code=code, participant=name)
    except UserInputError as exc:
        _flash("error", str(exc))
    else:
        _go(**{CODE: workshop.join_code, NAME: " ".join(name.split())})


def _on_start(map_id: int) -> None:
    try:
        workshop = reviews.start_workshop(
            engine, _acting(), map_id=map_id, title=str(st.session_state.get(ReviewKeys.WS_TITLE, ""))
        )
    except UserInputError as exc:
        _flash("error", str(exc))
    else:
        _go(**{CODE: workshop.join_code, PRESENT: "1"})


def _lobby() -> None:
    st.title("Workshop")
    _show_flash()
    st.subheader("Join a workshop")
    with st.form(key=ReviewKeys.WS_JOIN_FORM):
        st.text_input("Join code", key=ReviewKeys.WS_JOIN_CODE, max_chars=12)
        st.text_input("Your name", key=ReviewKeys.WS_JOIN_NAME, max_chars=80)
        st.form_submit_button("Join", type="primary", key=ReviewKeys.WS_JOIN_SUBMIT, on_click=_on_join)
    if not is_facilitator:
        return
    st.subheader("Run a workshop")
    try:
        names = {m.id: m.name for m in maps.list_maps(engine, actor)}
        running = reviews.list_workshops(engine, actor)
    except UserInputError as exc:
        st.error(md(str(exc)))
        return
    if names:
        preselect_map(ReviewKeys.WS_MAP, list(names))
        map_id = int(st.selectbox("Map", options=list(names), format_func=names.__getitem__, key=ReviewKeys.WS_MAP))
        st.text_input("Title (optional)", key=ReviewKeys.WS_TITLE, max_chars=200)
        st.button("Start workshop", key=ReviewKeys.WS_START, on_click=_on_start, args=(map_id,))
    for workshop in running:
        cols = st.columns([4, 1])
        state = "locked" if workshop.locked else "open"
        cols[0].text(f"{workshop.join_code} · {workshop.title} · {names.get(workshop.map_id, '?')} · {state}")
        cols[1].button(
            "Present",
            key=f"{ReviewKeys.WS_OPEN_PREFIX}_{workshop.id}",
            on_click=_go,
            kwargs={CODE: workshop.join_code, PRESENT: "1"},
        )


def _board(code: str) -> reviews.WorkshopBoard:
    """The workshop the code opens; anything else (a wrong or closed code) ends the page with why."""
    try:
        return reviews.workshop_board(engine, actor, join_code=code)
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()


# --- participant ----------------------------------------------------------------------------------------


def _participant_outcome(error: str | None) -> None:
    """Remember a participant's last failure until their next action succeeds."""
    if error is None:
        st.session_state.pop(ReviewKeys.WS_PARTICIPANT_ERROR, None)
    else:
        st.session_state[ReviewKeys.WS_PARTICIPANT_ERROR] = error


def _on_add(code: str, name: str) -> None:
    try:
        reviews.add_workshop_item(
            engine,
            _acting(),
            join_code=code,
            participant=name,
            touchpoint_id=str(st.session_state.get(ReviewKeys.WS_ADD_TOUCHPOINT)),
            kind=str(st.session_state.get(ReviewKeys.WS_ADD_KIND)),
            text=str(st.session_state.get(ReviewKeys.WS_ADD_TEXT, "")),
        )
    except UserInputError as exc:
        _participant_outcome(str(exc))
    else:
        _participant_outcome(None)
        _flash("success", "Added: everyone sees it within a few seconds.")


def _on_vote(code: str, name: str, item_id: int) -> None:
    try:
        counted = reviews.vote(engine, _acting(), join_code=code, participant=name, item_id=item_id)
    except UserInputError as exc:
        _participant_outcome(str(exc))
    else:
        _participant_outcome(None)
        if not counted:
            _flash("info", "You already voted for that one.")


def _participant(code: str, name: str) -> None:
    board = _board(code)
    workshop, journey_map = board.workshop, board.journey_map
    st.title(md(workshop.title))
    st.caption(md(f"Workshop {workshop.join_code} · you are {name}"))
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    with st.form(key=ReviewKeys.WS_ADD_FORM, clear_on_submit=True):
        st.selectbox("Touchpoint", options=list(names), format_func=names.__getitem__, key=ReviewKeys.WS_ADD_TOUCHPOINT)
        st.radio("Kind", options=[k.value for k in ItemKind], horizontal=True, key=ReviewKeys.WS_ADD_KIND)
        st.text_input("What did you notice?", key=ReviewKeys.WS_ADD_TEXT, max_chars=200)
        st.form_submit_button(
            "Add", type="primary", key=ReviewKeys.WS_ADD_SUBMIT, on_click=_on_add, args=(workshop.join_code, name)
        )

    st.toggle(
        "Projector: large type",
        value=True,
        key=ReviewKeys.WS_PROJECTOR,
        help="Labels 1.6 times larger and shortened, for a room reading a projected screen; hover for full names.",
    )

    @st.fragment(run_every=REFRESH)
    def _live() -> None:
        try:  # a fragment reruns on its own, outside the app's last net: say what failed here
            fresh = reviews.workshop_board(engine, actor, join_code=code)
        except UserInputError as exc:
            st.error(md(str(exc)))
            return
        if fresh.workshop.locked:
            st.warning("The facilitator has locked the map: you can read, but not add or vote.")
        error = st.session_state.get(ReviewKeys.WS_PARTICIPANT_ERROR)
        if error:
            st.error(md(str(error)))
        _show_flash()
        st.subheader(f"Everyone's additions ({len(fresh.items)})")
        for item in fresh.items:  # most votes first
            cols = st.columns([6, 1])
            cols[0].text(
                f"{_items_label(item, names)} ({item.participant}, {item.votes} vote{'s' if item.votes != 1 else ''})"
            )
            cols[1].button(
                "Vote",
                key=f"{ReviewKeys.WS_VOTE_PREFIX}_{item.id}",
                disabled=fresh.workshop.locked,
                on_click=_on_vote,
                args=(workshop.join_code, name, item.id),
            )

    _live()


# --- presenter ------------------------------------------------------------------------------------------


def _on_lock(workshop_id: int, locked: bool) -> None:
    try:
        reviews.set_workshop_locked(engine, _acting(), workshop_id=workshop_id, locked=locked)
    except UserInputError as exc:
        _flash("error", str(exc))


def _on_close(workshop_id: int) -> None:
    try:
        reviews.close_workshop(engine, _acting(), workshop_id=workshop_id)
    except UserInputError as exc:
        _flash("error", str(exc))
    else:
        _go()
        _flash("success", "Workshop closed: its join code no longer works and the map is no longer locked.")


Promotion = Literal["opportunity", "pain point"]


def _on_promote(item_id: int, text: str, as_what: Promotion) -> None:
    try:
        if as_what == "opportunity":
            opportunity = reviews.promote_to_opportunity(engine, _acting(), item_id=item_id)
            _flash("success", f"'{text}' is now opportunity #{opportunity.id} on the map's backlog.")
        else:
            revision = reviews.promote_to_pain_point(engine, _acting(), item_id=item_id)
            _flash("success", f"'{text}' added as a pain point: revision {revision.number} of the map.")
    except UserInputError as exc:
        _flash("error", str(exc))


def _promotions(items: list[WorkshopItemInfo], names: dict[str, str]) -> None:
    pending = [i for i in items if i.promoted_as is None]  # most votes first
    if not pending:
        return
    st.subheader("Promote items")
    for item in pending:
        cols = st.columns([4, 1, 1])
        cols[0].text(f"{_items_label(item, names)} ({item.votes} vote{'s' if item.votes != 1 else ''})")
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


def _presenter(code: str) -> None:
    board = _board(code)
    workshop, journey_map = board.workshop, board.journey_map
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    map_json = map_to_json(journey_map)
    st.title(md(f"{workshop.title} · join with code {workshop.join_code}"))
    if is_facilitator:
        cols = st.columns([1, 1, 3])
        cols[0].button(
            "Unlock map" if workshop.locked else "Lock map",
            key=ReviewKeys.WS_LOCK,
            on_click=_on_lock,
            args=(workshop.id, not workshop.locked),
        )
        cols[1].button("Close workshop", key=ReviewKeys.WS_CLOSE, on_click=_on_close, args=(workshop.id,))

    st.toggle(
        "Projector: large type",
        value=True,
        key=ReviewKeys.WS_PROJECTOR,
        help="Labels 1.6 times larger and shortened, for a room reading a projected screen; hover for full names.",
    )

    @st.fragment(run_every=REFRESH)
    def _live() -> None:
        try:  # a fragment reruns on its own, outside the app's last net: say what failed here
            fresh = reviews.workshop_board(engine, actor, join_code=code)
        except UserInputError as exc:
            st.error(md(str(exc)))
            return
        activity = {a.touchpoint_id: a for a in fresh.activity}
        nodes, edges, config = cached_graph(map_json, None, PRESENTER_GRAPH_HEIGHT)
        if st.session_state.get(ReviewKeys.WS_PROJECTOR, True):
            nodes = for_projector(nodes)
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
        # Below the graph, so a message never shifts the graph's component (a browser would blank it).
        _show_flash()
        if is_facilitator:
            _promotions(fresh.items, names)

    _live()


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
