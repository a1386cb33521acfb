"""Shared resources (the database engine) and cached derived data for the pages.

The engine lives in ``st.cache_resource``; everything derived from a map is cached with
``st.cache_data`` on the map's JSON text, so an unchanged map is never re-analysed on a rerun.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.demo import seed_demo
from journeymap.graph import StructureReport, analyze_structure
from journeymap.model import map_from_json
from journeymap.store import init_db, make_engine, reporting_database_errors, session_scope
from journeymap.viz import Layout, agraph_config_kwargs, graph_edges, graph_nodes, node_positions, stage_header_nodes

__all__ = ["cached_graph", "cached_structure", "get_engine"]


@st.cache_resource(show_spinner=False)
def _engine_for(database_url: str | None, journeymap_db: str | None) -> Engine:
    # The environment values are the cache key: a test session pointing at a fresh file gets its own engine.
    del database_url, journeymap_db
    engine = make_engine()
    try:
        # A database that cannot be opened reads like any other database failure; nothing is cached,
        # so the next run tries again (after someone fixed it).
        with reporting_database_errors():
            init_db(engine)
        with session_scope(engine) as session:
            seed_demo(session)
    except BaseException:
        engine.dispose()
        raise
    return engine


def get_engine() -> Engine:
    """The engine for the configured database, created, migrated and seeded once per process.

    Raises :class:`journeymap.store.DatabaseUnavailable` when the database cannot be opened.
    """
    return _engine_for(os.environ.get("DATABASE_URL"), os.environ.get("JOURNEYMAP_DB"))


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
    nodes += stage_header_nodes(journey_map, node_positions(journey_map, layout=layout))
    return nodes, graph_edges(journey_map), agraph_config_kwargs(height)
