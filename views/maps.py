"""Maps: the workspace home. Every saved map with its figures; create one from scratch, a template or a file."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.access import Actor, PermissionDenied
from journeymap.errors import UserInputError
from journeymap.events.goals import default_settings
from journeymap.events.settings import OverlaySettings
from journeymap.services import maps as services
from journeymap.store import MapSummary, Revision
from journeymap.templates import list_templates
from journeymap.ui import VIEW_PAGE, StateKeys, flash, init_page, md, open_in_editor, show_flash
from journeymap.ui.access import current_actor
from journeymap.ui.overlay_state import cached_log, cached_overlay, overlay_key
from journeymap.ui.state import MapsKeys
from journeymap.workspace_summary import NO_DATA, filter_workspace, summarize_workspace, top_finding

HEADLINE_ROW_HEIGHT = 78  # three lines of a friction finding
MAX_ROWS_SHOWN = 15  # more rows scroll inside the table
OVERLAY_UNAVAILABLE = "Overlay unavailable: open the dataset on the Overlay page to see why."
CREATE_SECTION = "maps-create"

ctx = init_page()
st.title("Maps")
st.caption("Every saved journey map of this workspace. Open one in the editor, or start a new one.")

created = st.session_state.pop(StateKeys.MAPS_CREATED, None)
if created is not None:
    open_in_editor(int(created))

figures_area = st.container()
list_area = st.container()
create_area = st.container()


@st.cache_data(show_spinner=False, max_entries=256)
def _friction_headline(
    key: str,
    *,
    _engine: Engine,
    _actor: Actor,
    _revision_id: int,
    _content_hash: str,
    _mapping_json: str,
    _cache_path: str,
) -> str:
    """The top friction finding of a dataset on a map revision (the Overlay page's defaults), cached per overlay key."""
    del key  # the overlay key: dataset content, mapping, map revision and settings
    journey_map = services.get_revision(_engine, _actor, revision_id=_revision_id).journey_map
    log = cached_log(_content_hash, _mapping_json, _cache_path)
    overlay = cached_overlay(
        log,
        content_hash=_content_hash,
        mapping_json=_mapping_json,
        revision_id=_revision_id,
        journey_map=journey_map,
        settings=default_settings(journey_map),  # the Overlay page's goal: the map's final touchpoints
    )
    return top_finding(overlay.friction)


def _headlines(maps: list[MapSummary], overview: services.WorkspaceOverview, actor: Actor) -> dict[int, str]:
    """Map id → top friction finding of its newest dataset, for the maps that have one."""
    found: dict[int, str] = {}
    for summary in maps:
        dataset = overview.newest_datasets.get(summary.id)
        if dataset is None:
            continue
        revision_id = summary.latest_revision.id
        try:
            found[summary.id] = _friction_headline(
                # The settings follow from the revision (its final touchpoints), whose id is in the key.
                overlay_key(dataset.content_hash, dataset.mapping_json, revision_id, OverlaySettings()),
                _engine=ctx.engine,
                _actor=actor,
                _revision_id=revision_id,
                _content_hash=dataset.content_hash,
                _mapping_json=dataset.mapping_json,
                _cache_path=dataset.cache_path,
            )
        except UserInputError:  # a deleted cache file or a damaged revision: say so in the cell, not a traceback
            found[summary.id] = OVERLAY_UNAVAILABLE
    return found


def _create(make: Callable[[Engine, Actor], Revision]) -> None:
    """Run one way of creating a map for the session's actor; open the new map, or say why not.

    A callback: it runs before the page, even when the button was drawn for someone who has since
    signed out or lost the editor role, and the service refuses such a write.
    """
    try:
        revision = make(ctx.engine, current_actor(ctx.engine))
    except UserInputError as exc:
        flash(CREATE_SECTION, "error", str(exc))
        return
    st.session_state[StateKeys.MAPS_CREATED] = revision.map_id


def _on_create_from_template() -> None:
    template_id = str(st.session_state.get(StateKeys.MAPS_TEMPLATE) or "")
    name = str(st.session_state.get(StateKeys.MAPS_TEMPLATE_NAME) or "")
    _create(lambda engine, actor: services.create_from_template(engine, actor, template_id=template_id, name=name))


def _on_create_blank() -> None:
    name = str(st.session_state.get(StateKeys.MAPS_NEW_NAME) or "")
    _create(lambda engine, actor: services.create_blank_map(engine, actor, name=name))


def _on_import() -> None:
    upload = st.session_state.get(StateKeys.MAPS_IMPORT_FILE)
    if upload is None:
        flash(CREATE_SECTION, "error", "Map JSON file: choose a file first.")
        return
    content, file_name = upload.getvalue(), str(upload.name)
    _create(lambda engine, actor: services.import_new_map(engine, actor, content=content, file_name=file_name))


actor = ctx.actor
try:
    overview = services.workspace_overview(ctx.engine, actor)
except PermissionDenied as exc:  # not a member: signed out, or a share link
    show_flash(CREATE_SECTION)
    st.warning(md(str(exc)))
    st.page_link(VIEW_PAGE, label="Read a shared map on the Shared map page")
    st.stop()
except UserInputError as exc:  # the database failing
    st.error(md(str(exc)))
    st.stop()

search = str(st.session_state.get(StateKeys.MAPS_SEARCH, "") or "")
all_maps = overview.maps
counts = overview.review_counts
maps = [m for m in all_maps if search.strip().lower() in m.name.lower()] if search.strip() else all_maps
summary_frame = summarize_workspace(maps, counts, _headlines(maps, overview, actor))

with figures_area:
    maps_col, comments_col, opps_col, maturity_col = st.columns(4)
    maps_col.metric("Maps", len(all_maps))
    comments_col.metric("Open comments", sum(c.open_comments for c in counts.values()))
    opps_col.metric("Open opportunities", sum(c.open_opportunities for c in counts.values()))
    maturity = overview.maturity
    if overview.maturity_problem is not None:
        maturity_col.metric("Maturity (newest assessment)", NO_DATA)
        st.caption(md(overview.maturity_problem))
    elif maturity is None:
        maturity_col.metric(
            "Maturity (newest assessment)", NO_DATA, help="No maturity assessment yet: start one on Maturity."
        )
    else:
        level = maturity.level
        maturity_col.metric(
            "Maturity (newest assessment)",
            NO_DATA if level is None else f"{level:.1f} / 5",
            help=(
                f"{maturity.assessment.label}: mean consensus level of the assessed dimensions. "
                "Assessments describe the organisation, not one map."
            ),
        )

with list_area:
    st.subheader("Saved maps")
    search_col, owner_col, silo_col, opps_filter_col = st.columns([3, 3, 2, 2], vertical_alignment="bottom")
    search_col.text_input("Search by name", key=StateKeys.MAPS_SEARCH, placeholder="e.g. retail")
    owners = owner_col.multiselect(
        "Owner", sorted({m.owner for m in all_maps}), key=MapsKeys.OWNERS, placeholder="Every owner"
    )
    with_silo = silo_col.checkbox("Has silo handoffs", key=MapsKeys.WITH_SILO)
    with_opps = opps_filter_col.checkbox("Has open opportunities", key=MapsKeys.WITH_OPPORTUNITIES)
    shown = filter_workspace(
        summary_frame, owners=owners, with_silo_handoffs=with_silo, with_open_opportunities=with_opps
    )
    has_headlines = bool((shown["Friction headline"] != NO_DATA).any())
    st.dataframe(
        shown,
        hide_index=True,
        key=StateKeys.MAPS_TABLE,
        # Findings are sentences: taller rows let them wrap instead of hiding behind an ellipsis.
        row_height=HEADLINE_ROW_HEIGHT if has_headlines else None,
        height="content" if len(shown) <= MAX_ROWS_SHOWN else "auto",
        column_config={
            "Name": st.column_config.TextColumn("Name", width=180),
            "Owner": st.column_config.TextColumn("Owner", width=120),
            "Last change": st.column_config.TextColumn("Last change", width=140),
            "Revisions": st.column_config.NumberColumn("Revisions", width=80),
            "Touchpoints": st.column_config.NumberColumn("Touchpoints", width=95),
            "Silo handoffs": st.column_config.NumberColumn("Silo handoffs", width=100),
            "Open comments": st.column_config.NumberColumn("Open comments", width=115, help="Unresolved comments."),
            "Open opportunities": st.column_config.NumberColumn(
                "Open opportunities", width=135, help="Opportunities open or in progress."
            ),
            "Friction headline": st.column_config.TextColumn(
                "Friction headline",
                width=360,
                help="Top friction finding of the newest event dataset registered for the map (default settings).",
            ),
        },
    )
    if not shown.empty:
        by_id = {s.id: s for s in maps}
        col_choice, col_open = st.columns([3, 1], vertical_alignment="bottom")
        chosen = col_choice.selectbox(
            "Map to open",
            options=[int(i) for i in shown.index],
            format_func=lambda map_id: f"{by_id[map_id].name} (#{map_id})",
            key=StateKeys.MAPS_OPEN_CHOICE,
        )
        if col_open.button("Open in editor", type="primary", key=StateKeys.MAPS_OPEN_SUBMIT) and chosen is not None:
            open_in_editor(int(chosen))
    elif search.strip() and not maps:
        st.info("No saved map matches that name.")
    elif maps:
        st.info("No saved map matches these filters.")
    else:
        st.info("No saved maps yet: create one below.")

with create_area:
    st.subheader("New map")
    show_flash(CREATE_SECTION)
    if not actor.is_editor:
        st.info(md(f"{actor.name} may read maps here; creating one needs an editor account."))
        st.stop()
    from_template, from_scratch, from_file = st.tabs(["From a template", "From scratch", "Import a JSON file"])

    with from_template:
        templates = {info.id: info for info in list_templates()}
        template_id = st.selectbox(
            "Template",
            options=list(templates),
            format_func=lambda tid: templates[tid].name,
            key=StateKeys.MAPS_TEMPLATE,
        )
        if template_id is not None:
            info = templates[template_id]
            st.text(info.description)
            c1, c2, c3 = st.columns(3)
            c1.metric("Touchpoints", info.touchpoints)
            c2.metric("Channels", info.channels)
            c3.metric("Transitions", info.transitions)
        st.text_input(
            "Name of the new map (optional)", key=StateKeys.MAPS_TEMPLATE_NAME, placeholder="the template's name"
        )
        st.button(
            "Create from template",
            type="primary",
            key=StateKeys.MAPS_TEMPLATE_SUBMIT,
            on_click=_on_create_from_template,
            disabled=template_id is None,
        )

    with from_scratch, st.form(key=StateKeys.MAPS_NEW_NAME + "_form"):
        st.text_input("Map name", key=StateKeys.MAPS_NEW_NAME, max_chars=200)
        st.form_submit_button("Create empty map", key=StateKeys.MAPS_NEW_SUBMIT, on_click=_on_create_blank)

    with from_file:
        st.caption("A map exported from Journeymap with 'Export JSON'. It is checked before anything is saved.")
        upload = st.file_uploader("Map JSON file", type=["json"], key=StateKeys.MAPS_IMPORT_FILE)
        st.button("Import as a new map", key=StateKeys.MAPS_IMPORT_SUBMIT, disabled=upload is None, on_click=_on_import)
