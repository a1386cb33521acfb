"""Journeymap in the browser: page configuration and navigation only; each page draws itself."""

import streamlit as st

from journeymap.errors import UserInputError
from journeymap.ui.text import md

st.set_page_config(page_title="Journeymap", page_icon="🧭", layout="wide")

PAGES = [
    st.Page("views/home.py", title="Start here", default=True),
    st.Page("views/editor.py", title="Map editor", url_path="editor"),
    st.Page("views/maps.py", title="Maps", url_path="maps"),
    st.Page("views/overlay.py", title="Overlay", url_path="overlay"),
    st.Page("views/maturity.py", title="Maturity", url_path="maturity"),
    st.Page("views/review.py", title="Review", url_path="review"),
    st.Page("views/workshop.py", title="Workshop", url_path="workshop"),
    st.Page("views/view.py", title="Shared map", url_path="view"),
    st.Page("views/team.py", title="Team", url_path="team"),
]

try:
    st.navigation(PAGES).run()
except UserInputError as exc:
    # The last net under every page: a problem the user or the server can fix (a busy, read-only or
    # unreachable database, a damaged map) reads as its message, never as a traceback.
    st.error(md(str(exc)))
