"""Pure builders for the designed journey: graph node/edge payloads and plotly figures.

Nothing here draws or imports Streamlit (``streamlit_agraph`` imports it too, so it is not
imported either): :func:`graph_nodes` and :func:`graph_edges` return plain dicts of keyword
arguments for ``streamlit_agraph.Node(**d)`` / ``Edge(**d)``, and
:func:`agraph_config_kwargs` those for ``streamlit_agraph.Config(**kwargs)``.

Layout
------
Stages are columns, left to right; inside a column touchpoints are grouped by channel, in
the map's channel order, so each channel reads as a horizontal lane. Positions are fixed
(physics off, hierarchical layout off: vis-network would otherwise move the nodes).

Encoding
--------
Node colour is the channel (:func:`channel_colors`, a colour-blind safe palette) and node
shape its kind (:data:`KIND_SHAPES`), so channels stay distinguishable without colour.
Handoff edges are styled by context carry (:data:`CARRY_STYLES`); transitions that stay in
one channel and team are thin and grey (:data:`PLAIN_STYLE`).

Untrusted text
--------------
Names come from users and imported files. Labels are drawn on a canvas as plain text.
Tooltips are not: the bundled streamlit-agraph component (0.0.45) copies every node
``title`` into ``div.innerHTML`` (markup such as ``<img onerror=...>`` would run) and, on a
double click, passes that div's HTML to ``window.open`` (a title starting with
``javascript:`` would run). vis-network 9.1.2 itself shows string titles with
``innerText``, so HTML entities would appear literally in the tooltip. :func:`tooltip_text`
therefore keeps the text readable and makes it inert: every ``<`` is followed by an
invisible word joiner, which the HTML parser cannot read as the start of a tag, and node
tooltips start with a fixed glyph so they never form a URL with a scheme.
"""

from __future__ import annotations

import html
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal, TypedDict

import pandas as pd
import plotly.graph_objects as go

from journeymap.graph import find_dead_ends, find_unreachable
from journeymap.model import ChannelKind, ContextCarry, JourneyMap

__all__ = [
    "CARRY_STYLES",
    "COLUMN_WIDTH",
    "KIND_SHAPES",
    "LABEL_MAX",
    "PALETTE",
    "PLAIN_STYLE",
    "PROJECTOR_SCALE",
    "ROW_HEIGHT",
    "GRAPH_MAX_HEIGHT",
    "GRAPH_WIDTH",
    "HEADER_PREFIX",
    "EdgeStyle",
    "Layout",
    "agraph_config_kwargs",
    "channel_colors",
    "fitted_height",
    "for_projector",
    "graph_edges",
    "graph_nodes",
    "header_nodes",
    "node_positions",
    "switch_matrix_figure",
    "tooltip_text",
    "truncate_label",
]

Layout = Literal["lanes", "compact"]

# Paul Tol's "muted" qualitative scheme (without its pale grey, which reads as "no data"): distinguishable
# with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)

KIND_SHAPES: Mapping[str, str] = MappingProxyType(
    {
        ChannelKind.DIGITAL.value: "dot",
        ChannelKind.PHYSICAL.value: "square",
        ChannelKind.ASSISTED.value: "diamond",
        ChannelKind.MESSAGING.value: "triangle",
    }
)


class EdgeStyle(TypedDict):
    """How one kind of transition is drawn: vis-network ``color``, ``width`` and ``dashes``."""

    color: str
    width: float
    dashes: bool | list[int]


CARRY_STYLES: Mapping[str, EdgeStyle] = MappingProxyType(
    {
        ContextCarry.FULL.value: {"color": "#4E6E8E", "width": 2.0, "dashes": False},
        ContextCarry.PARTIAL.value: {"color": "#E69F00", "width": 2.5, "dashes": [10, 6]},
        ContextCarry.NONE.value: {"color": "#C62828", "width": 4.0, "dashes": [5, 4]},
    }
)
"""Handoff styles by context carry: full solid grey-blue, partial dashed amber, none thick red dashes."""

PLAIN_STYLE: EdgeStyle = {"color": "#B0B7BF", "width": 1.0, "dashes": False}
"""A transition that stays within one channel and one owner team."""

COLUMN_WIDTH = 240
ROW_HEIGHT = 90
LANE_GAP = 40
LABEL_MAX = 28
GRAPH_WIDTH = 1040
"""The width a graph is laid out for: the main column of a wide page at 1440 pixels with the sidebar open."""
GRAPH_MAX_HEIGHT = 1600
_GRAPH_PAD = 80

_NODE_SIZE = 18
_SELECTED_SIZE = 26
_FONT = {"size": 16, "face": "sans-serif", "color": "#1F2933", "strokeWidth": 3, "strokeColor": "#FFFFFF"}
_SELECTED_BORDER = "#1F2933"
_WARNING_BORDER = "#C62828"
_NODE_GLYPH = "●"
_WORD_JOINER = "\u2060"
_DESCRIPTION_MAX = 300


def channel_colors(m: JourneyMap) -> dict[str, str]:
    """A colour per channel id that does not depend on the channel's position in the map.

    Each channel prefers the palette slot given by a checksum of its id; when an earlier
    channel (in map order) holds that slot it takes the next free one. Adding, removing or
    reordering channels therefore leaves the other channels' colours alone unless two of
    them want the same slot. Up to ``len(PALETTE)`` channels get distinct colours; beyond
    that the palette repeats.

    Examples
    --------
    >>> from journeymap.model import Channel
    >>> colors = channel_colors(JourneyMap(name="M", channels=(Channel(id="web", name="Website"),)))
    >>> colors["web"] in PALETTE
    True
    """
    size = len(PALETTE)
    taken: set[int] = set()
    colors: dict[str, str] = {}
    for channel in m.channels:
        slot = zlib.crc32(channel.id.encode("utf-8")) % size
        if len(taken) < size:
            while slot in taken:
                slot = (slot + 1) % size
            taken.add(slot)
        colors[channel.id] = PALETTE[slot]
    return colors


def truncate_label(text: str, limit: int = LABEL_MAX) -> str:
    """One line of at most ``limit`` characters, ending in an ellipsis when cut.

    Examples
    --------
    >>> truncate_label("Ready-for-pickup notification by SMS", 20)
    'Ready-for-pickup no…'
    >>> truncate_label("Cart\\nline two")
    'Cart line two'
    """
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def tooltip_text(lines: Iterable[str]) -> str:
    """Tooltip lines joined by newlines, shown as typed but inert when parsed as HTML.

    Each ``<`` is followed by a word joiner (U+2060, invisible): an HTML parser reads
    ``<`` followed by anything but a letter, ``/``, ``!`` or ``?`` as text, so no tag,
    comment or end tag can start. Empty lines are dropped.

    Examples
    --------
    >>> tooltip_text(["<img src=x onerror=alert(1)>", "", "a < b"]).replace("\\u2060", "[WJ]")
    '<[WJ]img src=x onerror=alert(1)>\\na <[WJ] b'
    """
    return "\n".join(line.replace("<", "<" + _WORD_JOINER) for line in lines if line)


def _cells(m: JourneyMap) -> dict[tuple[str, str], list[str]]:
    """Touchpoint ids per (channel, stage), in map order."""
    cells: dict[tuple[str, str], list[str]] = {}
    for tp in m.touchpoints:
        cells.setdefault((tp.channel, tp.stage), []).append(tp.id)
    return cells


def node_positions(m: JourneyMap, *, layout: Layout = "lanes") -> dict[str, tuple[int, int]]:
    """Fixed ``(x, y)`` of every touchpoint: stage columns left to right, channel groups top to bottom.

    ``x = stage_index * COLUMN_WIDTH``. With ``layout="lanes"`` each channel (map order) has
    a horizontal lane as tall as its fullest stage, so a channel sits at the same height in
    every column; with ``"compact"`` each column stacks its own touchpoints, grouped by
    channel and centred on ``y = 0``.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="a", name="A"), Stage(id="b", name="B")),
    ...     channels=(Channel(id="web", name="Web"), Channel(id="store", name="Store")),
    ...     touchpoints=(
    ...         Touchpoint(id="desk", name="Desk", channel="store", stage="a"),
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="b"),
    ...     ),
    ... )
    >>> node_positions(m)
    {'cart': (240, 0), 'desk': (0, 130)}
    >>> node_positions(m, layout="compact")
    {'desk': (0, 0), 'cart': (240, 0)}
    """
    cells = _cells(m)
    positions: dict[str, tuple[int, int]] = {}
    if layout == "lanes":
        top = 0
        for channel in m.channels:
            rows = max((len(cells.get((channel.id, stage.id), ())) for stage in m.stages), default=0)
            if not rows:
                continue
            for column, stage in enumerate(m.stages):
                for row, tp_id in enumerate(cells.get((channel.id, stage.id), ())):
                    positions[tp_id] = (column * COLUMN_WIDTH, top + row * ROW_HEIGHT)
            top += rows * ROW_HEIGHT + LANE_GAP
        return positions
    for column, stage in enumerate(m.stages):
        stacked = [tp_id for channel in m.channels for tp_id in cells.get((channel.id, stage.id), ())]
        for row, tp_id in enumerate(stacked):
            positions[tp_id] = (column * COLUMN_WIDTH, round((row - (len(stacked) - 1) / 2) * ROW_HEIGHT))
    return positions


HEADER_PREFIX = "header:"
"""Id prefix of the header nodes (:func:`header_nodes`: stages, channel lanes); a click on one selects nothing."""

_HEADER_GAP = 80
_HEADER_COLOR = {"background": "#E4E7EB", "border": "#9AA5B1"}
_LANE_COLOR = {"background": "#F5F7FA", "border": "#CBD2D9"}


def _header_node(node_id: str, label: str, title: str, x: float, y: float, colors: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": node_id,
        "label": truncate_label(label, 24),
        "title": tooltip_text([title]),
        "shape": "box",
        "x": x,
        "y": y,
        "physics": False,
        "color": {**colors, "highlight": dict(colors), "hover": dict(colors)},
        "font": {**_FONT, "size": 16, "bold": True, "strokeWidth": 0},
        "borderWidth": 1,
        "borderWidthSelected": 1,
        "margin": 10,
        "widthConstraint": {"minimum": 150, "maximum": 200},
    }


def header_nodes(
    m: JourneyMap, positions: Mapping[str, tuple[int, int]], *, layout: Layout = "lanes"
) -> list[dict[str, Any]]:
    """Keyword dicts for the label nodes of the fixed layout: one per stage, and one per channel lane.

    ``positions`` are the touchpoints' ``(x, y)`` (:func:`node_positions`); stage headers sit one
    gap above the highest touchpoint, at ``x = stage_index * COLUMN_WIDTH``. With
    ``layout="lanes"`` each channel that has touchpoints gets a header left of the first column,
    level with the middle of its lane, so the graph reads without hovering. Ids start with
    :data:`HEADER_PREFIX` and never collide with a touchpoint id.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(name="M", stages=(Stage(id="a", name="Aware"), Stage(id="b", name="Buy")),
    ...     channels=(Channel(id="web", name="Web"), Channel(id="store", name="Store")),
    ...     touchpoints=(Touchpoint(id="ad", name="Ad", channel="web", stage="a"),
    ...                  Touchpoint(id="till", name="Till", channel="store", stage="b")))
    >>> [(n["id"], n["label"], n["x"], n["y"]) for n in header_nodes(m, node_positions(m))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('header:stage:a', 'Aware', 0, -80), ('header:stage:b', 'Buy', 240, -80),
     ('header:lane:web', 'Web', -210, 0), ('header:lane:store', 'Store', -210, 130)]
    """
    top = min((y for _, y in positions.values()), default=0) - _HEADER_GAP
    taken = {tp.id for tp in m.touchpoints}

    def free(node_id: str) -> str:
        while node_id in taken:
            node_id += "~"
        return node_id

    nodes = [
        _header_node(
            free(f"{HEADER_PREFIX}stage:{stage.id}"),
            stage.name,
            f"{_NODE_GLYPH} Stage {column + 1} of {len(m.stages)}: {stage.name}",
            column * COLUMN_WIDTH,
            top,
            _HEADER_COLOR,
        )
        for column, stage in enumerate(m.stages)
    ]
    if layout != "lanes":
        return nodes
    for channel in m.channels:
        ys = [positions[tp.id][1] for tp in m.touchpoints if tp.channel == channel.id and tp.id in positions]
        if ys:
            nodes.append(
                _header_node(
                    free(f"{HEADER_PREFIX}lane:{channel.id}"),
                    channel.name,
                    f"{_NODE_GLYPH} Channel: {channel.name}",
                    -round(COLUMN_WIDTH * 0.875),
                    round((min(ys) + max(ys)) / 2),
                    _LANE_COLOR,
                )
            )
    return nodes


PROJECTOR_SCALE = 1.6
"""How much larger a projector shows the graph's type (the workshop presenter's large-type preset)."""
PROJECTOR_LABEL_MAX = 18


def for_projector(nodes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``nodes`` with :data:`PROJECTOR_SCALE` times larger type and shorter labels, for a room to read.

    The full name stays in the tooltip; headers keep their box, only their type grows.

    Examples
    --------
    >>> [node] = for_projector([{"id": "a", "label": "Ready-for-pickup notification", "font": {"size": 16}}])
    >>> node["label"], node["font"]["size"]
    ('Ready-for-pickup…', 26)
    """
    scaled = []
    for node in nodes:
        font = dict(node.get("font") or _FONT)
        font["size"] = round(float(font.get("size", _FONT["size"])) * PROJECTOR_SCALE)
        label = truncate_label(str(node.get("label", "")), PROJECTOR_LABEL_MAX)
        scaled.append({**node, "label": label, "font": font})
    return scaled


def fitted_height(nodes: Sequence[Mapping[str, Any]], *, width: int = GRAPH_WIDTH, least: int = 320) -> int:
    """The graph's height in pixels that shows every node at a readable zoom when it is ``width`` wide.

    vis-network fits the drawing into its canvas; a canvas much flatter than the drawing shrinks
    everything until the labels are no longer drawn. This height gives the drawing's own aspect
    at the zoom that fits its width (at most 1), plus room for the node labels, within
    ``least`` and :data:`GRAPH_MAX_HEIGHT`.

    Examples
    --------
    >>> fitted_height([{"x": 0, "y": 0}, {"x": 960, "y": 600}])  # (600 + 160) x 1040 / (960 + 160)
    706
    >>> fitted_height([{"x": 0, "y": 0}, {"x": 2400, "y": 1500}])  # wide: shrunk to fit the width
    674
    >>> fitted_height([{"x": 0, "y": 0}, {"x": 400, "y": 3000}]), fitted_height([{"x": 0, "y": 0}])
    (1600, 320)
    """
    xs = [float(n["x"]) for n in nodes if "x" in n]
    ys = [float(n["y"]) for n in nodes if "y" in n]
    if not xs:
        return least
    span_x = max(xs) - min(xs) + 2 * _GRAPH_PAD
    span_y = max(ys) - min(ys) + 2 * _GRAPH_PAD
    zoom = min(1.0, width / span_x)
    return int(min(GRAPH_MAX_HEIGHT, max(least, round(span_y * zoom))))


def _emotion_text(emotion: int) -> str:
    return f"{emotion:+d}" if emotion else "0"


def graph_nodes(m: JourneyMap, *, selected: str | None = None, layout: Layout = "lanes") -> list[dict[str, Any]]:
    """Keyword dicts for ``streamlit_agraph.Node(**d)``, one per touchpoint, in map order.

    Dead ends and unreachable touchpoints get a dashed warning border; the ``selected``
    touchpoint (an id; unknown ids are ignored) is drawn larger with a dark border.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="store", name="Store", kind="physical"),),
    ...     touchpoints=(Touchpoint(id="desk", name="Pick-up desk", channel="store", stage="buy", is_final=True),),
    ... )
    >>> node = graph_nodes(m)[0]
    >>> node["id"], node["label"], node["shape"], (node["x"], node["y"])
    ('desk', 'Pick-up desk', 'square', (0, 0))
    >>> print(node["title"])
    ● Pick-up desk
    Store (physical) · stage Purchase
    Owner: Unassigned
    Emotion: 0
    Designated end of the journey
    """
    colors = channel_colors(m)
    channels = {ch.id: ch for ch in m.channels}
    stages = {st.id: st for st in m.stages}
    positions = node_positions(m, layout=layout)
    dead_ends = set(find_dead_ends(m))
    unreachable = set(find_unreachable(m))
    nodes: list[dict[str, Any]] = []
    for tp in m.touchpoints:
        channel = channels[tp.channel]
        fill = colors[tp.channel]
        is_selected = tp.id == selected
        warnings = []
        if tp.id in dead_ends:
            warnings.append("⚠ Dead end: no transition leads on from here")
        if tp.id in unreachable:
            warnings.append("⚠ Unreachable from the journey's first stage")
        description = tp.description.strip()
        if len(description) > _DESCRIPTION_MAX:
            description = description[: _DESCRIPTION_MAX - 1] + "…"
        title = tooltip_text(
            [
                f"{_NODE_GLYPH} {tp.name}",
                f"{channel.name} ({channel.kind.value}) · stage {stages[tp.stage].name}",
                f"Owner: {tp.owner or channel.owner_team}",
                f"Emotion: {_emotion_text(tp.emotion)}",
                "Requires identification" if tp.requires_identification else "",
                "Designated end of the journey" if tp.is_final else "",
                f"Pain points: {'; '.join(tp.pain_points)}" if tp.pain_points else "",
                description,
                *warnings,
            ]
        )
        border = _SELECTED_BORDER if is_selected else _WARNING_BORDER if warnings else fill
        x, y = positions[tp.id]
        nodes.append(
            {
                "id": tp.id,
                "label": truncate_label(tp.name),
                "title": title,
                "color": {
                    "background": fill,
                    "border": border,
                    "highlight": {"background": fill, "border": _SELECTED_BORDER},
                    "hover": {"background": fill, "border": _SELECTED_BORDER},
                },
                "shape": KIND_SHAPES[channel.kind.value],
                "size": _SELECTED_SIZE if is_selected else _NODE_SIZE,
                "x": x,
                "y": y,
                "physics": False,
                "font": dict(_FONT),
                "borderWidth": 5 if is_selected else 3 if warnings else 2,
                "borderWidthSelected": 5,
                "shapeProperties": {"borderDashes": [5, 3] if warnings and not is_selected else False},
            }
        )
    return nodes


def graph_edges(m: JourneyMap) -> list[dict[str, Any]]:
    """Keyword dicts for ``streamlit_agraph.Edge(**d)``, one per transition, in map order.

    Handoffs (a change of channel or owner team) take the :data:`CARRY_STYLES` of their
    context carry; other transitions the :data:`PLAIN_STYLE`.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="M",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="help", name="Help line", channel="call", stage="buy"),
    ...     ),
    ...     transitions=(Transition(source="cart", target="help", context_carry="none"),),
    ... )
    >>> edge = graph_edges(m)[0]
    >>> edge["source"], edge["target"], edge["width"], edge["dashes"]
    ('cart', 'help', 4.0, [5, 4])
    >>> print(edge["title"])
    Cart → Help line
    Website → Call center: handoff across channels
    Context carry: none, the customer starts over (silo handoff)
    """
    touchpoints = {tp.id: tp for tp in m.touchpoints}
    channels = {ch.id: ch for ch in m.channels}
    edges: list[dict[str, Any]] = []
    for tr in m.transitions:
        source, target = touchpoints[tr.source], touchpoints[tr.target]
        source_owner = source.owner or channels[source.channel].owner_team
        target_owner = target.owner or channels[target.channel].owner_team
        cross_channel, cross_owner = source.channel != target.channel, source_owner != target_owner
        carry = tr.context_carry.value
        style = CARRY_STYLES[carry] if cross_channel or cross_owner else PLAIN_STYLE
        across = " and ".join(
            part for part, crossed in (("channels", cross_channel), ("owner teams", cross_owner)) if crossed
        )
        if cross_channel:
            switch = f"{channels[source.channel].name} → {channels[target.channel].name}: handoff across {across}"
        elif cross_owner:
            switch = f"{source_owner} → {target_owner}: handoff across {across}"
        else:
            switch = f"Within {channels[source.channel].name} ({source_owner})"
        carry_text = {
            "full": "full, data and history travel along",
            "partial": "partial, some context is lost",
            "none": "none, the customer starts over" + (" (silo handoff)" if cross_channel or cross_owner else ""),
        }[carry]
        edges.append(
            {
                "id": json.dumps([tr.source, tr.target]),
                "source": tr.source,
                "target": tr.target,
                "color": {"color": style["color"], "highlight": style["color"], "hover": style["color"]},
                "width": style["width"],
                "dashes": list(style["dashes"]) if isinstance(style["dashes"], list) else style["dashes"],
                "title": tooltip_text(
                    [
                        f"{source.name} → {target.name}",
                        switch,
                        f"Context carry: {carry_text}",
                        f"Note: {tr.note.strip()}" if tr.note.strip() else "",
                    ]
                ),
                "arrows": {"to": {"enabled": True, "scaleFactor": 0.7}},
            }
        )
    return edges


def agraph_config_kwargs(height: int = 600, *, width: int = 1000) -> dict[str, Any]:
    """Keyword arguments for ``streamlit_agraph.Config(**kwargs)`` that keep the fixed layout.

    ``physics=False`` and ``hierarchical=False`` become vis-network's ``physics.enabled`` and
    ``layout.hierarchical.enabled`` (either would move nodes away from their ``x``/``y``);
    ``interaction`` and ``edges`` are passed through to vis-network unchanged.

    Examples
    --------
    >>> kwargs = agraph_config_kwargs(400)
    >>> kwargs["height"], kwargs["physics"], kwargs["hierarchical"], kwargs["interaction"]["hover"]
    (400, False, False, True)
    """
    return {
        "height": height,
        "width": width,
        "directed": True,
        "physics": False,
        "hierarchical": False,
        "interaction": {
            "hover": True,
            "tooltipDelay": 150,
            "dragNodes": True,
            "dragView": True,
            "zoomView": True,
            "multiselect": False,
            "navigationButtons": False,
            "keyboard": False,
        },
        "edges": {
            "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.15},
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.7}},
        },
    }


def _figure_labels(matrix_df: pd.DataFrame) -> list[str]:
    seen: dict[str, None] = {}
    for source, target in zip(matrix_df["from_channel"], matrix_df["to_channel"], strict=True):
        seen.setdefault(str(source))
        seen.setdefault(str(target))
    return list(seen)


def switch_matrix_figure(
    matrix_df: pd.DataFrame, *, template: str = "plotly", title: str = "Designed channel switches"
) -> go.Figure:
    """Heatmap of :func:`journeymap.graph.designed_switch_matrix`: from channel (rows) × to channel.

    The cell colour and number are the designed transitions; hovering shows their context
    carry counts. Channel names are HTML-escaped (plotly reads a subset of HTML in labels).
    Pass ``template`` explicitly: exported images need one.

    Examples
    --------
    >>> frame = pd.DataFrame(
    ...     [{"from_channel": "Website", "to_channel": "Store", "transitions": 2, "full": 1, "partial": 0, "none": 1}]
    ... )
    >>> fig = switch_matrix_figure(frame)
    >>> fig.data[0].z, list(fig.data[0].x)
    (([None, 2], [None, None]), ['Website', 'Store'])
    """
    figure = go.Figure()
    figure.update_layout(template=template, title=title, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    if matrix_df.empty:
        figure.add_annotation(
            text="No designed channel switches: every transition stays within its channel.",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False)
        return figure
    labels = _figure_labels(matrix_df)
    position = {label: i for i, label in enumerate(labels)}
    z: list[list[int | None]] = [[None] * len(labels) for _ in labels]
    carry: list[list[Sequence[int]]] = [[(0, 0, 0)] * len(labels) for _ in labels]
    for row in matrix_df.to_dict("records"):
        i, j = position[str(row["from_channel"])], position[str(row["to_channel"])]
        z[i][j] = int(row["transitions"])
        carry[i][j] = (int(row["full"]), int(row["partial"]), int(row["none"]))
    escaped = [html.escape(label) for label in labels]
    zmax = max(int(matrix_df["transitions"].max()), 1)
    figure.add_trace(
        go.Heatmap(
            z=z,
            x=escaped,
            y=escaped,
            customdata=carry,
            colorscale="Blues",
            zmin=0,
            zmax=zmax,
            hoverongaps=False,
            texttemplate="%{z}",
            # Whole counts: one tick per transition while that stays readable.
            colorbar={"title": {"text": "transitions"}, **({"dtick": 1} if zmax <= 10 else {})},
            hovertemplate=(
                "From %{y} to %{x}<br>%{z} designed transition(s)<br>"
                "context carry: %{customdata[0]} full · %{customdata[1]} partial · %{customdata[2]} none"
                "<extra></extra>"
            ),
        )
    )
    figure.update_xaxes(title_text="to channel", type="category", side="top", showgrid=False)
    figure.update_yaxes(title_text="from channel", type="category", autorange="reversed", showgrid=False)
    figure.update_layout(margin={"t": 110})
    return figure
