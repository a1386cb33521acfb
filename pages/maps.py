"""Maps: the saved maps of the workspace; create one from scratch, from a template or from a JSON file."""

import pandas as pd
import streamlit as st

from journeymap.errors import UserInputError
from journeymap.model import map_from_json
from journeymap.store import MapSummary, create_map, list_maps, session_scope
from journeymap.templates import blank_map, list_templates, load_template
from journeymap.ui import StateKeys, init_page, md, open_in_editor, show_flash

ctx = init_page()
st.title("Maps")
st.caption("Every saved journey map of this workspace. Open one in the editor, or start a new one.")

list_area = st.container()
create_area = st.container()

with list_area:
    st.subheader("Saved maps")
    search = st.text_input("Search by name", key=StateKeys.MAPS_SEARCH, placeholder="e.g. retail")
    with session_scope(ctx.engine) as session:
        maps: list[MapSummary] = list_maps(session=session, search=search or None)
    table = pd.DataFrame(
        [
            {
                "Name": s.name,
                "Owner": s.owner,
                "Last change": s.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
                "Revisions": s.revision_count,
                "Touchpoints": s.latest_revision.touchpoints,
                "Silo handoffs": s.latest_revision.silo_handoffs,
            }
            for s in maps
        ],
        columns=["Name", "Owner", "Last change", "Revisions", "Touchpoints", "Silo handoffs"],
    )
    st.dataframe(table, hide_index=True, key=StateKeys.MAPS_TABLE)
    if maps:
        by_id = {s.id: s for s in maps}
        col_choice, col_open = st.columns([3, 1], vertical_alignment="bottom")
        chosen = col_choice.selectbox(
            "Map to open",
            options=list(by_id),
            format_func=lambda map_id: f"{by_id[map_id].name} (#{map_id})",
            key=StateKeys.MAPS_OPEN_CHOICE,
        )
        if col_open.button("Open in editor", type="primary", key=StateKeys.MAPS_OPEN_SUBMIT) and chosen is not None:
            open_in_editor(int(chosen))
    elif search:
        st.info("No saved map matches that name.")
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
