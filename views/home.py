"""Start here: the three jobs Journeymap does, each one click from the demo workspace."""

from __future__ import annotations

import streamlit as st

from journeymap.access import Action, PermissionDenied
from journeymap.services import maps as map_services
from journeymap.templates import load_template
from journeymap.ui import init_page, open_in_editor
from journeymap.ui.state import OverlayKeys, StateKeys

OVERLAY_PAGE = "views/overlay.py"
MATURITY_PAGE = "views/maturity.py"
DEMO_TEMPLATE = "retail-bopis"

ctx = init_page()
st.title("Start here")
st.markdown(
    "Journeymap puts three things side by side: the journey your team **designed**, what customers "
    "**actually did**, and how **omnichannel** your organisation really is. Each job below opens on the "
    "demo workspace (a retail *buy online, pick up in store* journey with its event data and two "
    "assessments), so you can see a finished result before you bring your own."
)

try:
    maps = map_services.list_maps(ctx.engine, ctx.actor)
except PermissionDenied:
    st.info("This workspace needs a sign-in: sign in in the sidebar, or open the share link you were given.")
    st.stop()

demo_name = load_template(DEMO_TEMPLATE).name
demo_map = next((m for m in maps if m.name == demo_name), maps[0] if maps else None)


map_col, data_col, maturity_col = st.columns(3, border=True)
with map_col:
    st.subheader("1 · Map the journey")
    st.markdown(
        "Stages, channels and touchpoints as a graph; every handoff between channels or teams says whether "
        "the customer's context travels with it. Silo handoffs are marked."
    )
    if demo_map is not None and st.button(
        f"Open the demo map: {demo_map.name}", key=StateKeys.HOME_MAP, type="primary", width="stretch"
    ):
        open_in_editor(demo_map.id)
    st.page_link("views/maps.py", label="All maps, templates and imports")

with data_col:
    st.subheader("2 · Overlay what customers did")
    st.markdown(
        "Bring an export (CSV, Parquet, XES) from web analytics, CRM or the contact center: journeys, "
        "drop-offs, loops, waits and every channel switch where customers had to start over."
    )
    if ctx.actor.can(Action.MANAGE_DATA):
        if st.button("Overlay the demo events (38k)", key=StateKeys.HOME_OVERLAY, type="primary", width="stretch"):
            # The Overlay page runs its "Use the demo dataset" action once, on arrival.
            st.session_state[OverlayKeys.DEMO_ON_ARRIVAL] = True
            st.switch_page(OVERLAY_PAGE)
    else:
        st.caption("An editor registers event data; you can open the datasets already there.")
    st.page_link(OVERLAY_PAGE, label="Overlay your own data")

with maturity_col:
    st.subheader("3 · Assess omnichannel maturity")
    st.markdown(
        "From multichannel (silos) to omnichannel (one connected journey) on nine dimensions, from a "
        "questionnaire and from the evidence in the event data."
    )
    if st.button("Open the demo assessments", key=StateKeys.HOME_MATURITY, type="primary", width="stretch"):
        st.switch_page(MATURITY_PAGE)
    st.page_link("views/review.py", label="Review, compare and export reports")
