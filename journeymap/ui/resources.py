"""Shared resources (the database engine) and cached derived data for the pages.

The engine lives in ``st.cache_resource``; everything derived from a map is cached with
``st.cache_data`` on the map's JSON text, so an unchanged map is never re-analysed on a rerun.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.config import settings
from journeymap.demo import seed_demo_workspace
from journeymap.graph import StructureReport, analyze_structure
from journeymap.model import map_from_json
from journeymap.store import init_db, make_engine, reporting_database_errors
from journeymap.viz import Layout, agraph_config_kwargs, graph_edges, graph_nodes, header_nodes, node_positions

__all__ = ["cached_graph", "cached_structure", "get_engine"]


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    # The URL is the cache key: a test session pointing at a fresh file gets its own engine.
    engine = make_engine(url)
    try:
        # A database that cannot be opened reads like any other database failure; nothing is cached,
        # so the next run tries again (after someone fixed it).
        with reporting_database_errors():
            init_db(engine)
        seed_demo_workspace(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def get_engine() -> Engine:
    """The engine for the configured database, created, migrated and seeded once per process.

    Raises :class:`journeymap.store.DatabaseUnavailable` when the database cannot be opened.
    """
    return _engine_for(settings().url)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_structure(map_json: str) -> StructureReport:
    """The structural analysis of a map, keyed by its JSON text."""
    return analyze_structure(map_from_json(map_json))


@st.cache_data(show_spinner=False, max_entries=64)
def cached_graph(
    map_json: str, selected: str | None, height: int, layout: Layout = "compact"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Node and edge keyword dicts and the component config for a map (see :mod:`journeymap.viz`).

    The nodes are the touchpoints, then one header per stage above its column.
    """
    journey_map = map_from_json(map_json)
    nodes = graph_nodes(journey_map, selected=selected, layout=layout)
    nodes += header_nodes(journey_map, node_positions(journey_map, layout=layout), layout=layout)
    return nodes, graph_edges(journey_map), agraph_config_kwargs(height)
