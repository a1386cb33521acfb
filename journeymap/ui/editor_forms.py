"""The editor page's panels: touchpoint details and forms, part tables, stage and channel controls, legend.

Widgets change the working map only through callbacks that call the pure functions of
:mod:`journeymap.editing`; the callbacks run before the page is drawn again, so the graph above
the forms always shows the map as it is after the edit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler
from pydantic import ValidationError

from journeymap import editing
from journeymap.compare import diff_maps, diff_summary
from journeymap.editing import TablePart
from journeymap.errors import UserInputError
from journeymap.graph import Handoff
from journeymap.model import (
    Channel,
    ChannelKind,
    ContextCarry,
    JourneyMap,
    Touchpoint,
    Transition,
    map_to_json,
    validation_error_to_user_error,
)
from journeymap.services import maps as services
from journeymap.ui.page import PageContext, flash, show_flash
from journeymap.ui.state import StateKeys
from journeymap.ui.text import md
from journeymap.ui.workspace import (
    discard_edits,
    import_as_revision,
    rebase_on_latest,
    run_edit,
    save_conflict,
    save_working_map,
    working_map,
)
from journeymap.viz import CARRY_STYLES, PLAIN_STYLE

__all__ = [
    "CARRY_LEGEND",
    "PARTS",
    "channel_form",
    "conflict_panel",
    "file_name_for",
    "graph_key",
    "handoff_frame",
    "legend",
    "merge_editor_changes",
    "new_touchpoint_form",
    "on_import",
    "on_save",
    "part_rows",
    "part_table",
    "selected_touchpoint",
    "stage_controls",
    "styled_handoffs",
    "take_graph_click",
    "touchpoint_panel",
    "transition_form",
]

PARTS = ("stages", "channels", "touchpoints", "transitions", "personas")
WARNING_BACKGROUND = "#fde2e1"
CARRY_LEGEND = {
    ContextCarry.FULL.value: "solid line: data and history travel along",
    ContextCarry.PARTIAL.value: "dashed line: some context is lost",
    ContextCarry.NONE.value: "thick dashed line: the customer starts over (silo handoff)",
}


def _key(base: str, *parts: object) -> str:
    return "_".join([base, *(str(p) for p in parts)])


_T = TypeVar("_T")


def _validated(build: Callable[[], _T], source: str) -> _T:
    try:
        return build()
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source=source) from None


def file_name_for(map_name: str) -> str:
    """A safe download file name for a map.

    Examples
    --------
    >>> file_name_for("Retail: buy online, pick up in store")
    'retail-buy-online-pick-up-in-store.json'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", map_name.lower()).strip("-")
    return f"{slug or 'journey-map'}.json"


# --- selection -------------------------------------------------------------------------------------------


def selected_touchpoint(journey_map: JourneyMap) -> str | None:
    """The selected touchpoint id, if it is still on the map."""
    chosen = st.session_state.get(StateKeys.SELECTED_NODE)
    ids = {tp.id for tp in journey_map.touchpoints}
    return chosen if chosen in ids else None


def graph_key(base: str, nodes: Sequence[dict[str, Any]]) -> str:
    """The graph component's key: the same while the drawing keeps its extent, a new one when it grows or shrinks.

    vis-network fits the drawing into its canvas once, when the component is created; later updates
    keep the view, so a stage or a lane added at the edge would be drawn outside it. A new key makes a
    new component, which fits the whole drawing again. Edits inside the extent (a rename, a selection,
    a node moved within the columns) keep the key, and the view the user may have zoomed.

    Examples
    --------
    >>> graph_key("g", [{"x": 0, "y": 0}, {"x": 180, "y": 90}])
    'g_0_0_180_90'
    >>> graph_key("g", [{"x": 0, "y": 0}, {"x": 180, "y": 90, "label": "Renamed"}, {"x": 90, "y": 0}])
    'g_0_0_180_90'
    >>> graph_key("g", [])
    'g'
    """
    xs = [round(float(n["x"])) for n in nodes if "x" in n]
    ys = [round(float(n["y"])) for n in nodes if "y" in n]
    if not xs or not ys:
        return base
    return _key(base, min(xs), min(ys), max(xs), max(ys))


def take_graph_click(journey_map: JourneyMap, clicked: str | None) -> bool:
    """Record a click on a graph node; True when the selection changed (the page then redraws)."""
    if clicked == st.session_state.get(StateKeys.LAST_GRAPH_VALUE):
        return False
    st.session_state[StateKeys.LAST_GRAPH_VALUE] = clicked
    if clicked is None or clicked not in {tp.id for tp in journey_map.touchpoints}:
        return False
    if clicked == st.session_state.get(StateKeys.SELECTED_NODE):
        return False
    st.session_state[StateKeys.SELECTED_NODE] = clicked
    st.session_state[StateKeys.EDITOR_SELECT_NODE] = clicked
    st.session_state[StateKeys.PENDING_DELETE] = None
    return True


def _on_select_node() -> None:
    st.session_state[StateKeys.SELECTED_NODE] = st.session_state[StateKeys.EDITOR_SELECT_NODE]
    st.session_state[StateKeys.PENDING_DELETE] = None


def legend(journey_map: JourneyMap, colors: dict[str, str]) -> None:
    """Channel colours and context-carry line styles, as tables (names are shown as text)."""
    channels = pd.DataFrame(
        [{"Channel": ch.name, "Kind": ch.kind.value, "Owner team": ch.owner_team} for ch in journey_map.channels],
        columns=["Channel", "Kind", "Owner team"],
    )
    swatches = [colors.get(ch.id, "#999999") for ch in journey_map.channels]

    def paint(column: pd.Series) -> list[str]:
        return [f"background-color: {c}; color: white" for c in swatches]

    carry = pd.DataFrame(
        [{"Context carry": c, "Handoff drawn as": text} for c, text in CARRY_LEGEND.items()]
        + [{"Context carry": "(no handoff)", "Handoff drawn as": "thin grey line: same channel and team"}]
    )
    line_colors = [CARRY_STYLES[c]["color"] for c in CARRY_LEGEND] + [PLAIN_STYLE["color"]]

    def paint_carry(column: pd.Series) -> list[str]:
        return [f"background-color: {c}; color: white" for c in line_colors]

    left, right = st.columns([3, 2])
    with left:
        st.caption("Channels: node colour (shape shows the kind)")
        st.dataframe(
            channels.style.apply(paint, subset=["Channel"]),
            hide_index=True,
            key=_key(StateKeys.TABLE_PREFIX, "legend"),
        )
    with right:
        st.caption("Edges: handoffs by context carry")
        st.dataframe(
            carry.style.apply(paint_carry, subset=["Context carry"]),
            hide_index=True,
            key=_key(StateKeys.TABLE_PREFIX, "legend_carry"),
        )


# --- the selected touchpoint -----------------------------------------------------------------------------


def _touchpoint_from_form(journey_map: JourneyMap, tp_id: str, prefix: str) -> Touchpoint:
    state = st.session_state
    owner = str(state[_key(prefix, "owner")]).strip()
    pains = tuple(line.strip() for line in str(state[_key(prefix, "pains")]).splitlines() if line.strip())
    return _validated(
        lambda: Touchpoint(
            id=tp_id,
            name=state[_key(prefix, "name")],
            channel=state[_key(prefix, "channel")],
            stage=state[_key(prefix, "stage")],
            owner=owner or None,
            description=state[_key(prefix, "description")],
            emotion=int(state[_key(prefix, "emotion")]),
            pain_points=pains,
            requires_identification=bool(state[_key(prefix, "identify")]),
            is_final=bool(state[_key(prefix, "final")]),
        ),
        source="touchpoint form",
    )


def _save_touchpoint(ctx: PageContext, tp_id: str) -> None:
    prefix = _key(StateKeys.TP_FORM, tp_id)
    try:
        touchpoint = _touchpoint_from_form(working_map(), tp_id, prefix)
    except UserInputError as exc:
        flash("touchpoint", "error", str(exc))
        return
    run_edit(ctx, "touchpoint", lambda m: editing.upsert_touchpoint(m, touchpoint), f"Saved '{touchpoint.name}'.")


def _ask_delete(ctx: PageContext, tp_id: str) -> None:
    if editing.transitions_using(working_map(), tp_id):
        st.session_state[StateKeys.PENDING_DELETE] = tp_id
        return
    _delete(ctx, tp_id)


def _delete(ctx: PageContext, tp_id: str) -> None:
    name = working_map().touchpoint(tp_id).name
    if run_edit(ctx, "touchpoint", lambda m: editing.delete_touchpoint(m, tp_id), f"Deleted '{name}'."):
        st.session_state[StateKeys.SELECTED_NODE] = None
        st.session_state[StateKeys.EDITOR_SELECT_NODE] = None
    st.session_state[StateKeys.PENDING_DELETE] = None


def _cancel_delete() -> None:
    st.session_state[StateKeys.PENDING_DELETE] = None


def _touchpoint_fields(journey_map: JourneyMap, prefix: str, tp: Touchpoint | None) -> None:
    channel_ids = [c.id for c in journey_map.channels]
    stage_ids = [s.id for s in journey_map.stages]
    channel_names = {c.id: c.name for c in journey_map.channels}
    stage_names = {s.id: s.name for s in journey_map.stages}
    st.text_input("Name", value=tp.name if tp else "", key=_key(prefix, "name"), max_chars=200)
    left, right = st.columns(2)
    left.selectbox(
        "Channel",
        channel_ids,
        index=channel_ids.index(tp.channel) if tp else 0,
        format_func=lambda c: channel_names[c],
        key=_key(prefix, "channel"),
    )
    right.selectbox(
        "Stage",
        stage_ids,
        index=stage_ids.index(tp.stage) if tp else 0,
        format_func=lambda s: stage_names[s],
        key=_key(prefix, "stage"),
    )
    st.text_input(
        "Owner team (empty: the channel's team)", value=(tp.owner or "") if tp else "", key=_key(prefix, "owner")
    )
    st.text_area("Description", value=tp.description if tp else "", key=_key(prefix, "description"), height=80)
    st.slider(
        "Emotion (−2 very negative … +2 very positive)", -2, 2, tp.emotion if tp else 0, key=_key(prefix, "emotion")
    )
    st.text_area(
        "Pain points (one per line)",
        value="\n".join(tp.pain_points) if tp else "",
        key=_key(prefix, "pains"),
        height=80,
    )
    left, right = st.columns(2)
    left.checkbox(
        "Customer must identify here", value=tp.requires_identification if tp else False, key=_key(prefix, "identify")
    )
    right.checkbox(
        "Final (a designed end of the journey)", value=tp.is_final if tp else False, key=_key(prefix, "final")
    )


def touchpoint_panel(ctx: PageContext, journey_map: JourneyMap) -> None:
    """Pick a touchpoint (or click it in the graph), see its details, edit or delete it."""
    ids = [tp.id for tp in journey_map.touchpoints]
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    selected = selected_touchpoint(journey_map)
    if st.session_state.get(StateKeys.EDITOR_SELECT_NODE) not in ids:
        st.session_state[StateKeys.EDITOR_SELECT_NODE] = selected
    st.subheader("Touchpoint")
    st.selectbox(
        "Touchpoint (or click a node in the graph)",
        [None, *ids],
        format_func=lambda i: "— choose —" if i is None else names[i],
        key=StateKeys.EDITOR_SELECT_NODE,
        on_change=_on_select_node,
    )
    show_flash("touchpoint")
    if selected is None:
        st.caption("Select a touchpoint to see and edit its details.")
        return
    tp = journey_map.touchpoint(selected)
    channel = journey_map.channel(tp.channel)
    # A static HTML table: the values are escaped text, readable by screen readers and searchable.
    st.table(
        pd.DataFrame(
            [
                {"Field": "Name", "Value": tp.name},
                {"Field": "Id", "Value": tp.id},
                {"Field": "Channel", "Value": f"{channel.name} ({channel.kind.value})"},
                {"Field": "Stage", "Value": journey_map.stage(tp.stage).name},
                {"Field": "Owner team", "Value": journey_map.owner_of(tp)},
                {"Field": "Emotion", "Value": f"{tp.emotion:+d}"},
                {"Field": "Customer must identify", "Value": "yes" if tp.requires_identification else "no"},
                {"Field": "Final", "Value": "yes" if tp.is_final else "no"},
                {"Field": "Pain points", "Value": "; ".join(tp.pain_points) or "—"},
            ]
        ).set_index("Field")
    )
    prefix = _key(StateKeys.TP_FORM, tp.id)
    with st.form(key=prefix):
        _touchpoint_fields(journey_map, prefix, tp)
        st.form_submit_button(
            "Save touchpoint", type="primary", key=StateKeys.TP_SUBMIT, on_click=_save_touchpoint, args=(ctx, tp.id)
        )
    pending = st.session_state.get(StateKeys.PENDING_DELETE)
    if pending != tp.id:
        st.button("Delete touchpoint", key=StateKeys.TP_DELETE, on_click=_ask_delete, args=(ctx, tp.id))
        return
    using = editing.transitions_using(journey_map, tp.id)
    st.warning(
        md(f"'{tp.name}' is used by {len(using)} transition(s); deleting it removes them too:")
        + "\n"
        + "\n".join(f"- {md(names[t.source])} → {md(names[t.target])} ({t.context_carry.value})" for t in using)
    )
    yes, no = st.columns(2)
    yes.button(
        f"Delete touchpoint and {len(using)} transition(s)",
        type="primary",
        key=StateKeys.TP_DELETE_CONFIRM,
        on_click=_delete,
        args=(ctx, tp.id),
    )
    no.button("Cancel", key=StateKeys.TP_DELETE_CANCEL, on_click=_cancel_delete)


def _add_touchpoint(ctx: PageContext) -> None:
    journey_map = working_map()
    prefix = StateKeys.TP_NEW_PREFIX
    name = str(st.session_state[_key(prefix, "name")]).strip()
    tp_id = editing.new_id(name or "touchpoint", [tp.id for tp in journey_map.touchpoints])
    try:
        touchpoint = _touchpoint_from_form(journey_map, tp_id, prefix)
    except UserInputError as exc:
        flash("new-touchpoint", "error", str(exc))
        return
    if run_edit(
        ctx, "new-touchpoint", lambda m: editing.upsert_touchpoint(m, touchpoint), f"Added '{touchpoint.name}'."
    ):
        st.session_state[StateKeys.SELECTED_NODE] = tp_id
        st.session_state[StateKeys.EDITOR_SELECT_NODE] = tp_id


def _missing_for_touchpoint(journey_map: JourneyMap) -> str | None:
    """What the map lacks before a touchpoint can be added (``None``: nothing), naming only what is missing."""
    if not journey_map.stages and not journey_map.channels:
        return "A touchpoint needs a stage and a channel: add them first (tabs Stages and Channels)."
    if not journey_map.stages:
        return "A touchpoint needs a stage: add one first (tab Stages)."
    if not journey_map.channels:
        return "A touchpoint needs a channel: add one first (tab Channels)."
    return None


def new_touchpoint_form(ctx: PageContext, journey_map: JourneyMap) -> None:
    """A form adding a touchpoint (needs at least one channel and one stage)."""
    with st.expander("Add a touchpoint", expanded=not journey_map.touchpoints):
        show_flash("new-touchpoint")
        missing = _missing_for_touchpoint(journey_map)
        if missing:
            st.info(missing)
            return
        with st.form(key=StateKeys.TP_NEW_FORM, clear_on_submit=True):
            _touchpoint_fields(journey_map, StateKeys.TP_NEW_PREFIX, None)
            st.form_submit_button(
                "Add touchpoint",
                type="primary",
                key=_key(StateKeys.TP_NEW_PREFIX, "submit"),
                on_click=_add_touchpoint,
                args=(ctx,),
            )


# --- transitions, stages, channels ----------------------------------------------------------------------


def _upsert_transition(ctx: PageContext) -> None:
    state = st.session_state
    try:
        transition = _validated(
            lambda: Transition(
                source=state[StateKeys.TR_SOURCE],
                target=state[StateKeys.TR_TARGET],
                context_carry=state[StateKeys.TR_CARRY],
                note=state[StateKeys.TR_NOTE],
            ),
            source="transition form",
        )
    except UserInputError as exc:
        flash("transition", "error", str(exc))
        return
    names = {tp.id: tp.name for tp in working_map().touchpoints}
    run_edit(
        ctx,
        "transition",
        lambda m: editing.upsert_transition(m, transition),
        f"Saved transition {names.get(transition.source)} → {names.get(transition.target)}.",
    )


def _delete_transition(ctx: PageContext) -> None:
    state = st.session_state
    source, target = state[StateKeys.TR_SOURCE], state[StateKeys.TR_TARGET]
    run_edit(ctx, "transition", lambda m: editing.delete_transition(m, source, target), "Deleted the transition.")


def transition_form(ctx: PageContext, journey_map: JourneyMap) -> None:
    """Add or change a transition (from, to, context carry, note), or delete one."""
    show_flash("transition")
    if len(journey_map.touchpoints) < 2:
        st.info("A transition joins two touchpoints: add touchpoints first.")
        return
    ids = [tp.id for tp in journey_map.touchpoints]
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    with st.form(key=StateKeys.TR_FORM):
        left, right = st.columns(2)
        left.selectbox("From", ids, format_func=lambda i: names[i], key=StateKeys.TR_SOURCE)
        right.selectbox("To", ids, index=1, format_func=lambda i: names[i], key=StateKeys.TR_TARGET)
        st.radio(
            "Context carry",
            [c.value for c in ContextCarry],
            horizontal=True,
            key=StateKeys.TR_CARRY,
            help="Does the customer's data and history travel with them on this step?",
        )
        st.text_input("Note", key=StateKeys.TR_NOTE, max_chars=5000)
        add_col, del_col = st.columns(2)
        with add_col:
            st.form_submit_button(
                "Add or update transition",
                type="primary",
                key=StateKeys.TR_SUBMIT,
                on_click=_upsert_transition,
                args=(ctx,),
            )
        with del_col:
            st.form_submit_button(
                "Delete this transition",
                key=_key(StateKeys.TR_SUBMIT, "delete"),
                on_click=_delete_transition,
                args=(ctx,),
            )


def _stage_action(ctx: PageContext, action: str) -> None:
    state = st.session_state
    chosen = state.get(StateKeys.STAGE_CHOICE)
    stage_id = "" if chosen is None else str(chosen)
    name = str(state.get(StateKeys.STAGE_NAME, "")).strip()
    edits: dict[str, tuple[Callable[[JourneyMap], JourneyMap], str]] = {
        "add": (lambda m: editing.add_stage(m, name), f"Added stage '{name}'."),
        "rename": (lambda m: editing.rename_stage(m, stage_id, name), f"Renamed the stage to '{name}'."),
        "up": (lambda m: editing.move_stage(m, stage_id, -1), "Moved the stage left."),
        "down": (lambda m: editing.move_stage(m, stage_id, 1), "Moved the stage right."),
        "delete": (lambda m: editing.delete_stage(m, stage_id), "Deleted the stage."),
    }
    if action != "add" and not stage_id:
        flash("stage", "error", "Stage: choose a stage first.")
        return
    edit, done = edits[action]
    if run_edit(ctx, "stage", edit, done) and action in ("add", "rename"):
        state[StateKeys.STAGE_NAME] = ""


def stage_controls(ctx: PageContext, journey_map: JourneyMap) -> None:
    """Add, rename, reorder (left/right) and delete stages."""
    show_flash("stage")
    ids = [s.id for s in journey_map.stages]
    names = {s.id: s.name for s in journey_map.stages}
    if st.session_state.get(StateKeys.STAGE_CHOICE) not in ids:
        st.session_state[StateKeys.STAGE_CHOICE] = ids[0] if ids else None
    left, right = st.columns(2)
    left.selectbox("Stage", ids, format_func=lambda i: names[i], key=StateKeys.STAGE_CHOICE)
    right.text_input("New name", key=StateKeys.STAGE_NAME, max_chars=200)
    buttons = st.columns(5)
    for column, (action, label, key) in zip(
        buttons,
        (
            ("add", "Add stage (new name)", StateKeys.STAGE_ADD),
            ("rename", "Rename", StateKeys.STAGE_RENAME),
            ("up", "◀ Move left", StateKeys.STAGE_UP),
            ("down", "Move right ▶", StateKeys.STAGE_DOWN),
            ("delete", "Delete stage", StateKeys.STAGE_DELETE),
        ),
        strict=True,
    ):
        column.button(label, key=key, on_click=_stage_action, args=(ctx, action))


def _upsert_channel(ctx: PageContext) -> None:
    state = st.session_state
    chosen = state[StateKeys.CH_ID]
    journey_map = working_map()
    name = str(state[StateKeys.CH_NAME]).strip()
    channel_id = (
        chosen if chosen is not None else editing.new_id(name or "channel", [c.id for c in journey_map.channels])
    )
    try:
        channel = _validated(
            lambda: Channel(
                id=channel_id,
                name=name,
                kind=state[StateKeys.CH_KIND],
                owner_team=str(state[StateKeys.CH_OWNER]).strip(),
            ),
            source="channel form",
        )
    except UserInputError as exc:
        flash("channel", "error", str(exc))
        return
    run_edit(ctx, "channel", lambda m: editing.upsert_channel(m, channel), f"Saved channel '{channel.name}'.")


def _delete_channel(ctx: PageContext) -> None:
    chosen = st.session_state[StateKeys.CH_ID]
    if chosen is None:
        flash("channel", "error", "Channel: choose an existing channel to delete.")
        return
    run_edit(ctx, "channel", lambda m: editing.delete_channel(m, chosen), "Deleted the channel.")


def channel_form(ctx: PageContext, journey_map: JourneyMap) -> None:
    """Add a channel, or change one's name, kind and owner team."""
    show_flash("channel")
    ids: list[str | None] = [None, *[c.id for c in journey_map.channels]]
    names = {c.id: c.name for c in journey_map.channels}
    chosen = st.selectbox(
        "Channel", ids, format_func=lambda i: "➕ new channel" if i is None else names[i], key=StateKeys.CH_ID
    )
    current = journey_map.channel(chosen) if chosen is not None else None
    kinds = [k.value for k in ChannelKind]
    suffix = chosen or "new"
    with st.form(key=_key(StateKeys.CH_FORM, suffix)):
        st.text_input("Name", value=current.name if current else "", key=StateKeys.CH_NAME, max_chars=200)
        st.selectbox("Kind", kinds, index=kinds.index(current.kind.value) if current else 0, key=StateKeys.CH_KIND)
        st.text_input(
            "Owner team", value=current.owner_team if current else "Unassigned", key=StateKeys.CH_OWNER, max_chars=200
        )
        save_col, del_col = st.columns(2)
        with save_col:
            st.form_submit_button(
                "Save channel", type="primary", key=StateKeys.CH_SUBMIT, on_click=_upsert_channel, args=(ctx,)
            )
        with del_col:
            st.form_submit_button(
                "Delete channel", key=_key(StateKeys.CH_SUBMIT, "delete"), on_click=_delete_channel, args=(ctx,)
            )


# --- save and import ----------------------------------------------------------------------------------


def on_save(ctx: PageContext) -> None:
    """Save the working copy with the message typed in the save form."""
    save_working_map(ctx, str(st.session_state.get(StateKeys.SAVE_MESSAGE, "")))


def _their_changes(ctx: PageContext, base_revision_id: int, newer_revision_id: int) -> list[str]:
    actor = ctx.actor
    try:
        base = services.get_revision(ctx.engine, actor, revision_id=base_revision_id).journey_map
        newer = services.get_revision(ctx.engine, actor, revision_id=newer_revision_id).journey_map
    except UserInputError as exc:
        return [str(exc)]
    return diff_summary(diff_maps(base, newer))


def conflict_panel(ctx: PageContext) -> None:
    """After a save refused for a newer revision: what that revision changed, and the ways on.

    Keeping the edits on top of it makes the next save succeed (the newer revision stays in the
    history); opening it drops the edits, which can be downloaded first.
    """
    newer = save_conflict()
    if newer is None:
        return
    base = int(st.session_state[StateKeys.BASE_REVISION_ID])
    changes = _their_changes(ctx, base, newer.id)
    st.warning(
        md(f"Revision {newer.number}, saved by {newer.author}, is newer than the revision your edits started from.")
        + " What it changed:\n"
        + "\n".join(f"- {md(line)}" for line in changes)
    )
    keep, reopen, download = st.columns(3)
    keep.button(
        f"Keep my edits on top of revision {newer.number}",
        key=StateKeys.CONFLICT_REBASE,
        type="primary",
        on_click=rebase_on_latest,
        args=(ctx,),
        help=f"Saving makes your version revision {newer.number + 1}; revision {newer.number} stays in the history.",
    )
    reopen.button(
        f"Open revision {newer.number} instead",
        key=StateKeys.CONFLICT_DISCARD,
        on_click=discard_edits,
        args=(ctx,),
        help="Drops your unsaved edits: download them first to re-apply them by hand.",
    )
    download.download_button(
        "Download my version (JSON)",
        data=map_to_json(working_map()),
        file_name=file_name_for(working_map().name),
        mime="application/json",
        key=StateKeys.CONFLICT_DOWNLOAD,
        on_click="ignore",
    )


def on_import(ctx: PageContext) -> None:
    """Import the uploaded file as the open map's next revision (validated first)."""
    upload = st.session_state.get(StateKeys.IMPORT_FILE)
    if upload is None:
        flash("import", "error", "Import: choose a map JSON file first.")
        return
    import_as_revision(ctx, upload.getvalue(), upload.name)


# --- part tables -------------------------------------------------------------------------------------------


def part_rows(journey_map: JourneyMap, part: TablePart) -> list[dict[str, Any]]:
    """The rows a part's table shows, in the shape :func:`journeymap.editing.apply_table_edit` reads."""
    return editing.table_rows(journey_map, part)


def merge_editor_changes(rows: Sequence[dict[str, Any]], changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's rows after the changes ``st.data_editor`` reports (edited, deleted, added rows).

    Examples
    --------
    >>> rows = [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}, {"id": "c", "name": "C"}]
    >>> changes = {"edited_rows": {0: {"name": "Ay"}}, "deleted_rows": [1], "added_rows": [{"name": "D"}]}
    >>> merge_editor_changes(rows, changes)
    [{'id': 'a', 'name': 'Ay'}, {'id': 'c', 'name': 'C'}, {'name': 'D'}]
    """
    merged = [dict(row) for row in rows]
    for index, edited in changes.get("edited_rows", {}).items():
        merged[int(index)].update(edited)
    deleted = {int(i) for i in changes.get("deleted_rows", [])}
    kept = [row for i, row in enumerate(merged) if i not in deleted]
    return kept + [dict(added) for added in changes.get("added_rows", [])]


def only_blank_rows_added(changes: dict[str, Any]) -> bool:
    """Whether ``st.data_editor``'s changes are only new rows nothing has been typed into yet.

    Clicking a table's empty last row adds a blank row at once; applied, it would be dropped (a row
    needs a name) and the row would vanish before anything could be typed into it. Such a change
    waits in the table until the row has content.

    Examples
    --------
    >>> only_blank_rows_added({"edited_rows": {}, "deleted_rows": [], "added_rows": [{}]})
    True
    >>> only_blank_rows_added({"added_rows": [{"name": "Busy parent"}]})
    False
    >>> only_blank_rows_added({"edited_rows": {0: {"name": "A"}}, "added_rows": [{"name": None}]})
    False
    """
    added = changes.get("added_rows", [])
    if not added or changes.get("edited_rows") or changes.get("deleted_rows"):
        return False
    return all(not str(value if value is not None else "").strip() for row in added for value in row.values())


def _on_table_edit(ctx: PageContext, part: TablePart, widget_key: str) -> None:
    if only_blank_rows_added(st.session_state[widget_key]):
        return  # a new row still being filled in: keep it in the table
    rows = merge_editor_changes(part_rows(working_map(), part), st.session_state[widget_key])
    run_edit(ctx, f"table-{part}", lambda m: editing.apply_table_edit(m, part, rows), f"Updated {part}.")
    # A new widget key drops the editor's pending changes, which are now part of the map.
    st.session_state[StateKeys.TABLE_VERSION] = st.session_state.get(StateKeys.TABLE_VERSION, 0) + 1


def part_table(ctx: PageContext, journey_map: JourneyMap, part: TablePart) -> None:
    """An editable table of one part of the map; every accepted change updates the map and its draft."""
    show_flash(f"table-{part}")
    rows = part_rows(journey_map, part)
    frame = pd.DataFrame(rows, columns=editing.TABLE_COLUMNS[part])
    widget_key = _key(StateKeys.TABLE_PREFIX, part, st.session_state.get(StateKeys.TABLE_VERSION, 0))
    st.data_editor(
        frame,
        key=widget_key,
        num_rows="dynamic",
        hide_index=True,
        # Ids are references: a new row gets one from its name, existing ones never change.
        disabled=["id"] if "id" in frame.columns else False,
        on_change=_on_table_edit,
        args=(ctx, part, widget_key),
    )


# --- analysis tables ---------------------------------------------------------------------------------------


def handoff_frame(handoffs: Sequence[Handoff]) -> pd.DataFrame:
    """Handoffs as a table for people (names, not ids)."""
    return pd.DataFrame(
        [
            {
                "From": h.source_name,
                "To": h.target_name,
                "From channel": h.source_channel,
                "To channel": h.target_channel,
                "From team": h.source_owner,
                "To team": h.target_owner,
                "Context carry": h.context_carry,
                "Note": h.note,
            }
            for h in handoffs
        ],
        columns=["From", "To", "From channel", "To channel", "From team", "To team", "Context carry", "Note"],
    )


def styled_handoffs(handoffs: Sequence[Handoff]) -> Styler:
    """Every handoff, context carry first, silo handoffs (carry none) highlighted."""
    frame = handoff_frame(handoffs)
    frame = frame[["Context carry", *[c for c in frame.columns if c != "Context carry"]]]

    def highlight(row: pd.Series) -> list[str]:
        silo = row["Context carry"] == ContextCarry.NONE.value
        return [f"background-color: {WARNING_BACKGROUND}" if silo else "" for _ in row]

    return frame.style.apply(highlight, axis=1)
