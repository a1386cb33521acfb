"""The Streamlit layer shared by the pages: state keys, cached resources, the graph component, the sidebar.

Only this package, ``app.py`` and ``views/`` import Streamlit; the rest of :mod:`journeymap` stays pure.
"""

from journeymap.ui.graph import COMPONENT_NAME, render_graph, safe_node_dict
from journeymap.ui.navigation import EDITOR_PAGE, MAPS_PAGE, VIEW_PAGE, open_in_editor
from journeymap.ui.page import FlashLevel, PageContext, flash, init_page, show_flash
from journeymap.ui.resources import cached_graph, cached_structure, get_engine
from journeymap.ui.state import QueryParams, StateKeys
from journeymap.ui.text import md

__all__ = [
    "COMPONENT_NAME",
    "EDITOR_PAGE",
    "MAPS_PAGE",
    "FlashLevel",
    "PageContext",
    "QueryParams",
    "StateKeys",
    "VIEW_PAGE",
    "cached_graph",
    "cached_structure",
    "flash",
    "get_engine",
    "init_page",
    "md",
    "open_in_editor",
    "render_graph",
    "safe_node_dict",
    "show_flash",
]
