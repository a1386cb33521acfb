"""What every page does first: state defaults, the engine, the client key, the shared sidebar and who is there."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.delta_generator import DeltaGenerator

from journeymap.access import Actor
from journeymap.model import JourneyMap
from journeymap.ui.access import access_sidebar
from journeymap.ui.resources import get_engine
from journeymap.ui.state import QueryParams, StateKeys
from journeymap.ui.text import md

__all__ = ["FlashLevel", "PageContext", "flash", "init_page", "preselect_map", "show_flash"]

FlashLevel = Literal["success", "info", "warning", "error"]
# What secrets.token_urlsafe makes, with room to spare (drafts keep up to 200 characters).
_CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class PageContext:
    """What a page needs from :func:`init_page`.

    ``actor`` is who uses this session, as the database knows them at the start of this run (see
    :func:`journeymap.ui.access.current_actor`); services are called with it, and whatever they save
    is signed with its name.
    """

    engine: Engine
    client_key: str
    map_slot: DeltaGenerator
    actor: Actor

    def show_current_map(self, journey_map: JourneyMap, *, unsaved: bool) -> None:
        """Show ``journey_map`` in the sidebar as the current map."""
        _show_current_map(self.map_slot, journey_map, unsaved=unsaved)

    def show_picked_map(self, map_id: int, saved: JourneyMap) -> None:
        """Name in the sidebar the map a page shows from its own picker: ``saved``, its latest revision.

        When that map is the one open in the editor, the sidebar already names it, with its unsaved edits.
        """
        if st.session_state.get(StateKeys.WORKING_MAP_ID) != map_id:
            self.show_current_map(saved, unsaved=False)


def _client_key() -> str:
    # The client key names this browser's drafts. It lives in the URL so that a refresh finds them again;
    # session state keeps it when navigation drops the query string.
    from_url = st.query_params.get(QueryParams.CLIENT)
    if from_url is not None and not _CLIENT_KEY.fullmatch(from_url):
        from_url = None  # hand-edited: a draft could not be kept under it, so start a fresh one
    key = from_url or st.session_state.get(StateKeys.CLIENT_KEY) or secrets.token_urlsafe(9)
    st.session_state[StateKeys.CLIENT_KEY] = key
    if from_url != key:
        st.query_params[QueryParams.CLIENT] = key
    return str(key)


def _show_current_map(slot: DeltaGenerator, journey_map: JourneyMap | None, *, unsaved: bool) -> None:
    with slot.container():
        st.subheader("Current map")
        if journey_map is None:
            st.caption("No map open yet.")
            return
        st.text(journey_map.name)
        st.caption(
            f"{len(journey_map.touchpoints)} touchpoints · {len(journey_map.transitions)} transitions"
            + (" · unsaved edits" if unsaved else "")
        )


def _sidebar() -> DeltaGenerator:
    with st.sidebar:
        # A slot, so that a page which opens a map later in this run can show it here.
        slot = st.empty()
        working = st.session_state.get(StateKeys.WORKING_MAP)
        _show_current_map(
            slot,
            working if isinstance(working, JourneyMap) else None,
            unsaved=bool(st.session_state.get(StateKeys.DIRTY, False)),
        )
    return slot


def init_page() -> PageContext:
    """Prepare a page: session-state defaults, database engine, client key, sidebar and the current actor."""
    st.session_state.setdefault(StateKeys.FLASH, {})
    st.session_state.setdefault(StateKeys.TABLE_VERSION, 0)
    engine = get_engine()
    client_key = _client_key()
    map_slot = _sidebar()
    return PageContext(engine=engine, client_key=client_key, map_slot=map_slot, actor=access_sidebar(engine))


def preselect_map(key: str, options: Sequence[int]) -> None:
    """Before the map picker of widget ``key`` is drawn: unless it holds one of ``options``, choose the open map.

    The open map is the one the editor has open (:data:`StateKeys.MAP_ID`); when there is none, or it is
    not among ``options``, the first option. A picker forgets its choice when the user leaves its page, so
    every page a user comes to shows the map they are working on.
    """
    if st.session_state.get(key) in options or not options:
        return
    open_map = st.session_state.get(StateKeys.MAP_ID)
    st.session_state[key] = open_map if open_map in options else options[0]


def flash(section: str, level: FlashLevel, text: str) -> None:
    """Queue a message for ``section``; :func:`show_flash` shows it once, where the user acted."""
    st.session_state.setdefault(StateKeys.FLASH, {})[section] = (level, text)


def show_flash(section: str) -> None:
    """Show and forget the message queued for ``section``, if any (as plain text, never as HTML)."""
    queued = st.session_state.get(StateKeys.FLASH, {}).pop(section, None)
    if queued is None:
        return
    level, text = queued
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[level](md(text))
