"""Maps: the workspace home. Every saved map with its figures; create one from scratch, a template or a file."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.errors import UserInputError
from journeymap.events.goals import default_settings
from journeymap.events.settings import OverlaySettings
from journeymap.maturity import current_levels, score_dimensions
from journeymap.model import map_from_json
from journeymap.store import MapSummary, create_map, get_revision, list_datasets, list_maps, session_scope
from journeymap.store.assessments import AssessmentInfo, get_framework, list_answers, list_assessments
from journeymap.store.reviews import review_counts_by_map
from journeymap.templates import blank_map, list_templates, load_template
from journeymap.ui import StateKeys, init_page, md, open_in_editor, show_flash
from journeymap.ui.overlay_state import cached_log, cached_overlay, overlay_key
from journeymap.workspace_summary import (
    NO_DATA,
    filter_workspace,
    mean_level,
    newest_dataset_by_map,
    summarize_workspace,
    top_finding,
)


class HomeKeys:
    """Widget keys of the workspace home's filters (the shared ones are in :class:`StateKeys`)."""

    OWNERS = "jm_maps_filter_owners"
    WITH_SILO = "jm_maps_filter_silo"
    WITH_OPPORTUNITIES = "jm_maps_filter_opportunities"


HEADLINE_ROW_HEIGHT = 78  # three lines of a friction finding
MAX_ROWS_SHOWN = 15  # more rows scroll inside the table
OVERLAY_UNAVAILABLE = "Overlay unavailable: open the dataset on the Overlay page to see why."

ctx = init_page()
st.title("Maps")
st.caption("Every saved journey map of this workspace. Open one in the editor, or start a new one.")

figures_area = st.container()
list_area = st.container()
create_area = st.container()


@st.cache_data(show_spinner=False, max_entries=256)
def _friction_headline(
    key: str, *, _engine: Engine, _revision_id: int, _content_hash: str, _mapping_json: str, _cache_path: str
) -> str:
    """The top friction finding of a dataset on a map revision (the Overlay page's defaults), cached per overlay key."""
    del key  # the overlay key: dataset content, mapping, map revision and settings
    with session_scope(_engine) as session:
        journey_map = get_revision(session=session, revision_id=_revision_id).journey_map
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


def _headlines(maps: list[MapSummary]) -> dict[int, str]:
    """Map id → top friction finding of its newest dataset, for the maps that have one."""
    with session_scope(ctx.engine) as session:
        newest = newest_dataset_by_map(list_datasets(session=session))
    found: dict[int, str] = {}
    for summary in maps:
        dataset = newest.get(summary.id)
        if dataset is None:
            continue
        revision_id = summary.latest_revision.id
        try:
            found[summary.id] = _friction_headline(
                # The settings follow from the revision (its final touchpoints), whose id is in the key.
                overlay_key(dataset.content_hash, dataset.mapping_json, revision_id, OverlaySettings()),
                _engine=ctx.engine,
                _revision_id=revision_id,
                _content_hash=dataset.content_hash,
                _mapping_json=dataset.mapping_json,
                _cache_path=dataset.cache_path,
            )
        except UserInputError:  # a deleted cache file or a damaged revision: say so in the cell, not a traceback
            found[summary.id] = OVERLAY_UNAVAILABLE
    return found


def _newest_maturity() -> tuple[AssessmentInfo, float | None] | None:
    """The newest assessment and the mean consensus level of its assessed dimensions."""
    with session_scope(ctx.engine) as session:
        assessments = list_assessments(session=session)
        if not assessments:
            return None
        newest = assessments[0]
        _, framework = get_framework(session=session, key=newest.framework_key, number=newest.framework_revision)
        answers = list_answers(session=session, assessment_id=newest.id)
    return newest, mean_level(current_levels(score_dimensions(framework, answers)))


search = str(st.session_state.get(StateKeys.MAPS_SEARCH, "") or "")
with session_scope(ctx.engine) as session:
    all_maps: list[MapSummary] = list_maps(session=session)
    counts = review_counts_by_map(session=session)
maps = [m for m in all_maps if search.strip().lower() in m.name.lower()] if search.strip() else all_maps
summary_frame = summarize_workspace(maps, counts, _headlines(maps))

with figures_area:
    maps_col, comments_col, opps_col, maturity_col = st.columns(4)
    maps_col.metric("Maps", len(all_maps))
    comments_col.metric("Open comments", sum(c.open_comments for c in counts.values()))
    opps_col.metric("Open opportunities", sum(c.open_opportunities for c in counts.values()))
    try:
        maturity = _newest_maturity()
    except UserInputError as exc:
        maturity_col.metric("Maturity (newest assessment)", NO_DATA)
        st.caption(md(str(exc)))
    else:
        if maturity is None:
            maturity_col.metric(
                "Maturity (newest assessment)", NO_DATA, help="No maturity assessment yet: start one on Maturity."
            )
        else:
            info, level = maturity
            maturity_col.metric(
                "Maturity (newest assessment)",
                NO_DATA if level is None else f"{level:.1f} / 5",
                help=(
                    f"{info.label}: mean consensus level of the assessed dimensions. "
                    "Assessments describe the organisation, not one map."
                ),
            )

with list_area:
    st.subheader("Saved maps")
    search_col, owner_col, silo_col, opps_filter_col = st.columns([3, 3, 2, 2], vertical_alignment="bottom")
    search_col.text_input("Search by name", key=StateKeys.MAPS_SEARCH, placeholder="e.g. retail")
    owners = owner_col.multiselect(
        "Owner", sorted({m.owner for m in all_maps}), key=HomeKeys.OWNERS, placeholder="Every owner"
    )
    with_silo = silo_col.checkbox("Has silo handoffs", key=HomeKeys.WITH_SILO)
    with_opps = opps_filter_col.checkbox("Has open opportunities", key=HomeKeys.WITH_OPPORTUNITIES)
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
    show_flash("maps-create")
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
        template_name = st.text_input(
            "Name of the new map (optional)", key=StateKeys.MAPS_TEMPLATE_NAME, placeholder="the template's name"
        )
        if st.button("Create from template", type="primary", key=StateKeys.MAPS_TEMPLATE_SUBMIT) and template_id:
            try:
                journey_map = load_template(template_id)
                if template_name.strip():
                    journey_map = journey_map.model_copy(update={"name": template_name.strip()})
                with session_scope(ctx.engine) as session:
                    revision = create_map(
                        session=session,
                        journey_map=journey_map,
                        author=ctx.author or "Anonymous",
                        message=f"Created from the '{templates[template_id].name}' template",
                    )
            except UserInputError as exc:
                st.error(md(str(exc)))
            else:
                open_in_editor(revision.map_id)

    with from_scratch:
        with st.form(key=StateKeys.MAPS_NEW_NAME + "_form"):
            new_name = st.text_input("Map name", key=StateKeys.MAPS_NEW_NAME, max_chars=200)
            create_blank = st.form_submit_button("Create empty map", key=StateKeys.MAPS_NEW_SUBMIT)
        if create_blank:
            if not new_name.strip():
                st.error("Map name: enter a name for the new map.")
            else:
                try:
                    with session_scope(ctx.engine) as session:
                        revision = create_map(
                            session=session,
                            journey_map=blank_map(new_name.strip()),
                            author=ctx.author or "Anonymous",
                            message="Created from scratch",
                        )
                except UserInputError as exc:
                    st.error(md(str(exc)))
                else:
                    open_in_editor(revision.map_id)

    with from_file:
        st.caption("A map exported from Journeymap with 'Export JSON'. It is checked before anything is saved.")
        upload = st.file_uploader("Map JSON file", type=["json"], key=StateKeys.MAPS_IMPORT_FILE)
        if st.button("Import as a new map", key=StateKeys.MAPS_IMPORT_SUBMIT, disabled=upload is None) and upload:
            try:
                journey_map = map_from_json(upload.getvalue(), source=upload.name)
                with session_scope(ctx.engine) as session:
                    revision = create_map(
                        session=session,
                        journey_map=journey_map,
                        author=ctx.author or "Anonymous",
                        message=f"Imported from {upload.name}",
                    )
            except UserInputError as exc:
                st.error(md(str(exc)))
            else:
                open_in_editor(revision.map_id)
