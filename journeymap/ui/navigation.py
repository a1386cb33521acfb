"""Moving between pages with the open map in the URL, and the address a share link opens."""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import urlencode, urlsplit

import streamlit as st

from journeymap.ui.state import QueryParams, StateKeys

__all__ = ["EDITOR_PAGE", "MAPS_PAGE", "REVIEW_PAGE", "SHARE_PARAM", "VIEW_PAGE", "open_in_editor", "share_url"]

EDITOR_PAGE = "views/editor.py"
MAPS_PAGE = "views/maps.py"
REVIEW_PAGE = "views/review.py"
VIEW_PAGE = "views/view.py"
# The query parameter of the Shared map page (``view?share=<token>``) that carries a share link's token.
SHARE_PARAM = "share"


def open_in_editor(map_id: int) -> NoReturn:
    """Switch to the editor on ``map_id``, keeping this browser's client key in the URL."""
    st.session_state[StateKeys.MAP_ID] = map_id
    st.switch_page(
        EDITOR_PAGE,
        query_params={QueryParams.MAP: str(map_id), QueryParams.CLIENT: st.session_state[StateKeys.CLIENT_KEY]},
    )


def share_url(token: str) -> str:
    """The address of the Shared map page opening ``token``'s map.

    The server's own address when the browser told it; otherwise a path relative to the app.
    """
    current = urlsplit(st.context.url or "")
    path = f"/view?{urlencode({SHARE_PARAM: token})}"
    return f"{current.scheme}://{current.netloc}{path}" if current.netloc else path.lstrip("/")
