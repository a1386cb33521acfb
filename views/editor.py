"""Map editor: the designed journey as a graph, every part editable, its structure analysed, saved as revisions."""

import pandas as pd
import streamlit as st

from journeymap.demo import DEFAULT_TEMPLATE_ID
from journeymap.errors import UserInputError
from journeymap.model import map_to_json
from journeymap.services import maps as services
from journeymap.store import DamagedRevisionError
from journeymap.templates import list_templates, load_template
from journeymap.ui import (
    MAPS_PAGE,
    VIEW_PAGE,
    QueryParams,
    StateKeys,
    cached_graph,
    cached_structure,
    init_page,
    md,
    render_graph,
    show_flash,
)
from journeymap.ui import editor_forms as forms
from journeymap.ui.access import can_edit, require_editor
from journeymap.ui.review_panels import comments_panel, opportunities_panel
from journeymap.ui.workspace import (
    discard_edits,
    ensure_open,
    is_dirty,
    offer_last_readable,
    revision_history,
    saved_map,
    working_map,
)
from journeymap.viz import channel_colors, switch_matrix_figure

WORKSHOP_PAGE = "views/workshop.py"
GRAPH_HEIGHT = 640

ctx = init_page()
st.title("Map editor")


def _stop_read_only(map_id: int | None = None) -> None:
    """For a session that may not edit (this map): say why and stop, after any refusal a callback queued."""
    # A control drawn while editing was allowed can still fire after a sign-out or a lock: its
    # callback was refused, and says so here, since the section it belongs to is not drawn.
    for section in list(st.session_state.get(StateKeys.FLASH, {})):
        show_flash(section)
    st.page_link(VIEW_PAGE, label="Read maps on the Shared map page")
    require_editor(ctx.engine, map_id=map_id)


if not ctx.actor.is_editor:
    _stop_read_only()


def _default_map_id() -> int | None:
    maps = services.list_maps(ctx.engine, ctx.actor)
    if not maps:
        return None
    # A first visit lands on the demo's retail example rather than whichever map changed last.
    template_ids = {info.id for info in list_templates()}
    preferred = load_template(DEFAULT_TEMPLATE_ID).name if DEFAULT_TEMPLATE_ID in template_ids else None
    return next((s.id for s in maps if s.name == preferred), maps[-1].id)


def _requested_map_id() -> int | None:
    raw = st.query_params.get(QueryParams.MAP)
    if raw is not None:
        try:
            return int(raw)
        except ValueError:
            st.error(md(f"URL, parameter 'map': '{raw}' is not a map id. Choose a map on the Maps page."))
            return None
    chosen = st.session_state.get(StateKeys.MAP_ID)
    return int(chosen) if chosen is not None else _default_map_id()


try:
    map_id = _requested_map_id()
    if map_id is not None:
        ensure_open(ctx, map_id)
except UserInputError as exc:  # an unknown or damaged map, or the database failing: say so instead of a traceback
    st.error(md(str(exc)))
    if isinstance(exc, DamagedRevisionError):
        offer_last_readable(ctx, exc)
    st.page_link(MAPS_PAGE, label="Go to Maps")
    st.stop()
if map_id is None:
    st.info("No map is open. Create or choose one on the Maps page.")
    st.page_link(MAPS_PAGE, label="Go to Maps")
    st.stop()
st.session_state[StateKeys.MAP_ID] = map_id


def _locked_view(locked_id: int) -> None:
    """A workshop holds the map: say so, lead to the workshop, and show the saved map read-only."""
    st.warning(
        "A workshop has locked this map: edits are refused until the facilitator unlocks it. "
        "Below is the map as saved, read-only."
    )
    st.page_link(WORKSHOP_PAGE, label="Follow the workshop")
    latest = services.latest_revision(ctx.engine, ctx.actor, map_id=locked_id)
    st.subheader(md(latest.journey_map.name))
    nodes, edges, config = cached_graph(map_to_json(latest.journey_map), None, GRAPH_HEIGHT, "compact")
    render_graph(nodes, edges, config, key=StateKeys.EDITOR_GRAPH)
    st.stop()


if not can_edit(ctx.engine, map_id=map_id):
    if ctx.actor.is_editor:  # allowed to edit, but not now: a workshop has locked this map
        _locked_view(map_id)
    _stop_read_only(map_id)
if st.query_params.get(QueryParams.MAP) != str(map_id):
    st.query_params[QueryParams.MAP] = str(map_id)

# Fixed placeholders, filled in order below: nothing is ever inserted above the graph later.
header_area = st.container()
graph_area = st.container()
detail_area = st.container()
edit_area = st.container()
analysis_area = st.container()
save_area = st.container()
review_area = st.container()

journey_map = working_map()
map_json = map_to_json(journey_map)
ctx.show_current_map(journey_map, unsaved=is_dirty())
report = cached_structure(map_json)

with header_area:
    st.subheader(md(journey_map.name))
    notice = st.session_state.get(StateKeys.DRAFT_NOTICE)
    if notice:
        st.info(notice)
    cols = st.columns(6)
    cols[0].metric("Touchpoints", report.touchpoints)
    cols[1].metric("Transitions", report.transitions)
    cols[2].metric("Channels", report.channels)
    cols[3].metric("Stages", len(journey_map.stages))
    cols[4].metric("Handoffs", len(report.handoffs))
    cols[5].metric("Silo handoffs", len(report.silo_handoffs))

with graph_area:
    selected = forms.selected_touchpoint(journey_map)
    layout = st.session_state.get(StateKeys.GRAPH_LAYOUT, "compact")
    nodes, edges, config = cached_graph(map_json, selected, GRAPH_HEIGHT, "lanes" if layout == "lanes" else "compact")
    clicked = render_graph(nodes, edges, config, key=forms.graph_key(StateKeys.EDITOR_GRAPH, nodes))
    if forms.take_graph_click(journey_map, clicked):
        st.rerun()
    st.radio(
        "Layout",
        ["compact", "lanes"],
        format_func=lambda v: {"compact": "Stages as columns", "lanes": "Stages as columns, one lane per channel"}[v],
        horizontal=True,
        key=StateKeys.GRAPH_LAYOUT,
        help="Lanes keep each channel at the same height in every stage; compact fits big maps better.",
    )
    forms.legend(journey_map, channel_colors(journey_map))

with detail_area:
    forms.touchpoint_panel(ctx, journey_map)

with edit_area:
    st.subheader("Edit the map")
    tabs = st.tabs(["Touchpoints", "Transitions", "Stages", "Channels", "Personas"])
    with tabs[0]:
        forms.new_touchpoint_form(ctx, journey_map)
        forms.part_table(ctx, journey_map, "touchpoints")
    with tabs[1]:
        forms.transition_form(ctx, journey_map)
        forms.part_table(ctx, journey_map, "transitions")
    with tabs[2]:
        forms.stage_controls(ctx, journey_map)
        forms.part_table(ctx, journey_map, "stages")
    with tabs[3]:
        forms.channel_form(ctx, journey_map)
        forms.part_table(ctx, journey_map, "channels")
    with tabs[4]:
        forms.part_table(ctx, journey_map, "personas")

with analysis_area:
    st.subheader("Structural analysis")
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    stage_names = {s.id: s.name for s in journey_map.stages}
    factor = report.integration_factor
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Designed integration factor",
        "n/a" if factor is None else f"{factor:.2f}",
        help="Share of cross-channel transitions whose context travels (full = 1, partial = 0.5, none = 0).",
    )
    m2.metric("Silo handoffs", len(report.silo_handoffs))
    m3.metric("Dead ends", len(report.dead_ends))
    m4.metric("Unreachable touchpoints", len(report.unreachable))
    if report.silo_handoffs:
        st.warning(f"{len(report.silo_handoffs)} silo handoff(s): the customer's context is lost when switching here.")
        st.dataframe(
            forms.handoff_frame(report.silo_handoffs),
            hide_index=True,
            key=f"{StateKeys.TABLE_PREFIX}_silo_handoffs",
        )
    elif report.handoffs:
        st.success("No silo handoffs: context travels on every designed handoff.")
    else:
        st.info("No handoffs yet: add transitions between channels or teams to see where context must travel.")
    st.markdown("**Every handoff and its context carry**")
    st.dataframe(forms.styled_handoffs(report.handoffs), hide_index=True, key=f"{StateKeys.TABLE_PREFIX}_handoffs")
    problems = pd.DataFrame(
        [{"Problem": "Dead end", "Where": names[i]} for i in report.dead_ends]
        + [{"Problem": "Unreachable", "Where": names[i]} for i in report.unreachable]
        + [{"Problem": "Empty stage", "Where": stage_names[i]} for i in report.empty_stages],
        columns=["Problem", "Where"],
    )
    st.markdown("**Dead ends, unreachable touchpoints and empty stages**")
    if problems.empty:
        st.caption("None found.")
    else:
        st.dataframe(problems, hide_index=True, key=f"{StateKeys.TABLE_PREFIX}_problems")
    st.markdown("**Designed channel switches (from row channel to column channel)**")
    if report.switch_matrix.empty:
        st.caption("The map has no cross-channel transition yet.")
    else:
        chart_col, table_col = st.columns([3, 2])
        chart_col.plotly_chart(switch_matrix_figure(report.switch_matrix), key=f"{StateKeys.TABLE_PREFIX}_matrix_chart")
        table_col.dataframe(
            report.switch_matrix.rename(
                columns={"from_channel": "From", "to_channel": "To", "transitions": "Transitions"}
            ),
            hide_index=True,
            key=f"{StateKeys.TABLE_PREFIX}_matrix",
        )

with save_area:
    st.subheader("Save, history and files")
    show_flash("save")
    forms.conflict_panel(ctx)
    if is_dirty():
        st.caption("Unsaved edits: kept as a draft for this browser until you save or discard them.")
    with st.form(key=StateKeys.SAVE_FORM, clear_on_submit=True):
        st.text_input("What changed?", key=StateKeys.SAVE_MESSAGE, max_chars=2000)
        st.form_submit_button(
            "Save revision", type="primary", key=StateKeys.SAVE_SUBMIT, on_click=forms.on_save, args=(ctx,)
        )
    if is_dirty():
        st.button("Discard unsaved edits", key=StateKeys.DISCARD_DRAFT, on_click=discard_edits, args=(ctx,))

    with st.expander("Revision history"):
        history = revision_history(ctx, map_id)
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Revision": r.number,
                        "Author": r.author,
                        "Message": r.message,
                        "Time": r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    }
                    for r in history
                ],
                columns=["Revision", "Author", "Message", "Time"],
            ),
            hide_index=True,
            key=f"{StateKeys.TABLE_PREFIX}_history",
        )

    export_col, import_col = st.columns(2)
    with export_col:
        st.download_button(
            "Export JSON",
            data=map_json,
            file_name=forms.file_name_for(journey_map.name),
            mime="application/json",
            key=StateKeys.EXPORT_JSON,
            on_click="ignore",
        )
    with import_col:
        show_flash("import")
        upload = st.file_uploader(
            "Import a map JSON file as the next revision", type=["json"], key=StateKeys.IMPORT_FILE
        )
        if is_dirty():
            st.caption("Importing replaces your unsaved edits.")
        st.button(
            "Import as new revision",
            key=StateKeys.IMPORT_SUBMIT,
            disabled=upload is None,
            on_click=forms.on_import,
            args=(ctx,),
        )

with review_area:
    st.subheader("Comments and opportunities")
    saved = journey_map
    if is_dirty():
        # Comments and opportunities point at saved parts: offer the latest revision's touchpoints and handoffs.
        saved = saved_map(ctx, map_id)
        st.caption("Comments and opportunities refer to the saved map: save new touchpoints to comment on them.")
    # One above the other: side by side, the panels' own button columns get too narrow for their labels.
    comments_panel(ctx.engine, map_id, saved)
    opportunities_panel(ctx.engine, map_id, saved)
