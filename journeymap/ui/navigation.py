"""Moving between pages with the open map in the URL."""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from journeymap.ui.state import QueryParams, StateKeys

__all__ = ["EDITOR_PAGE", "MAPS_PAGE", "VIEW_PAGE", "open_in_editor"]

EDITOR_PAGE = "views/editor.py"
MAPS_PAGE = "views/maps.py"
VIEW_PAGE = "views/view.py"


def open_in_editor(map_id: int) -> NoReturn:
    """Switch to the editor on ``map_id``, keeping this browser's client key in the URL."""
    st.session_state[StateKeys.MAP_ID] = map_id
    st.switch_page(
        EDITOR_PAGE,
        query_params={QueryParams.MAP: str(map_id), QueryParams.CLIENT: st.session_state[StateKeys.CLIENT_KEY]},
    )
