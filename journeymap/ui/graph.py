"""The journey graph component: streamlit-agraph's vis-network view, called with a stable key.

``streamlit_agraph.agraph`` accepts no ``key``, so Streamlit identifies its iframe by position and
arguments; any change above it (a notice, a new map) recreates the iframe and a real browser can
be left with a blank graph. Calling the declared component directly with a fixed key keeps one
iframe for the life of the page, and its arguments update in place.
"""

from __future__ import annotations

import json
from typing import Any

from streamlit_agraph import Config, Edge, Node
from streamlit_agraph import _agraph as _agraph_component

from journeymap.viz import fitted_height

__all__ = ["COMPONENT_NAME", "render_graph", "safe_node_dict"]

COMPONENT_NAME = "streamlit_agraph.agraph"
_INERT_LT = "<\u2060"


def safe_node_dict(node_kwargs: dict[str, Any]) -> dict[str, Any]:
    """One node as the component expects it, with its hover title made inert.

    The component copies each node's ``title`` into ``div.innerHTML``, which would run markup in a
    user's touchpoint name. :func:`journeymap.viz.tooltip_text` already puts an invisible word
    joiner after every ``<`` (the parser then reads it as text); this applies the same rule to any
    title that arrives without it, so the guarantee does not depend on the caller. The label is
    drawn on a canvas as plain text and needs nothing.

    Examples
    --------
    >>> title = safe_node_dict({"id": "x", "title": "<img src=x onerror=alert(1)>"})["title"]
    >>> title == "<\u2060img src=x onerror=alert(1)>"
    True
    """
    data = dict(Node(**node_kwargs).to_dict())
    title = data.get("title")
    if isinstance(title, str):
        data["title"] = title.replace(_INERT_LT, "<").replace("<", _INERT_LT)
    return data


def _call_component(*, data: str, config: str, key: str) -> Any:
    # The one place the component is called: tests replace this to simulate a click on a node.
    return _agraph_component(data=data, config=config, key=key, default=None)


def render_graph(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], config_kwargs: dict[str, Any], *, key: str
) -> str | None:
    """Draw the graph and return the id of the node the user selected, if any.

    ``nodes``, ``edges`` and ``config_kwargs`` are keyword dicts for streamlit-agraph's ``Node``,
    ``Edge`` and ``Config`` (see :mod:`journeymap.viz`).
    """
    payload = {
        "nodes": [safe_node_dict(n) for n in nodes],
        "edges": [dict(Edge(**e).to_dict()) for e in edges],
    }
    config = Config(**config_kwargs).to_dict()
    # The iframe is as wide as the page column; a fixed pixel width would overflow or leave a gap.
    config["width"] = "100%"
    # As tall as the drawing needs to be read at the page's width: a fixed height shrinks a tall map until
    # vis-network stops drawing its labels.
    config["height"] = f"{fitted_height(payload['nodes'])}px"
    value = _call_component(data=json.dumps(payload), config=json.dumps(config), key=key)
    return value if isinstance(value, str) else None
