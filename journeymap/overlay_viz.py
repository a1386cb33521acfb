"""Figures and graph payloads for an overlay: what customers did, drawn on the designed journey.

Pure builders: they take overlay frames in the shapes documented in
:mod:`journeymap.events.overlay` (touchpoint metrics, transition metrics, the channel switch
matrix, silo handoffs, journeys) and return agraph node/edge keyword dicts or plotly figures.
Nothing here reads files or touches a page.

Visual encoding of the journey graph
------------------------------------
- edge width grows linearly with the observed count (:func:`edge_width`);
- edge colour is a score bin (:func:`score_color`): the context-loss score of the handoff
  (in [0, 1], bins :data:`CONTEXT_LOSS_BINS`) or the friction score of the transition (0 at the
  map's baseline, bins :data:`FRICTION_BINS`);
- node size grows with the square root of visits, so its area is proportional (:func:`node_size`);
- a node whose drop-off rate reaches the badge threshold gets a label suffix ``▼ 42%``;
- in the conformance view (``view="both"``) observed transitions that are not on the map are
  dashed and designed transitions never observed are thin and grey.

Every figure takes an explicit ``template`` so exported images keep their colours whatever
template the host application made the default.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
import polars as pl

from journeymap.analysis.kpis import COMPLETION_RATE_HELP, NO_GOAL
from journeymap.analysis.silo import HEADLINE_THRESHOLDS
from journeymap.csv_export import csv_bytes as _csv_bytes
from journeymap.events._columnar import BitSetIndex, DistinctIndex, distinct_index
from journeymap.model import JourneyMap
from journeymap.viz import (
    COLUMN_WIDTH,
    HEADER_PREFIX,
    KIND_SHAPES,
    ROW_HEIGHT,
    agraph_config_kwargs,
    header_nodes,
    node_positions,
    tooltip_text,
    truncate_label,
)
from journeymap.viz import channel_colors as _channel_colors

__all__ = [
    "CONTEXT_LOSS_BINS",
    "DESIGNED_UNOBSERVED_COLOR",
    "FINISHED_STEP",
    "FRICTION_BINS",
    "GraphView",
    "HEATMAP_TOP_N",
    "UNMAPPED_SHOWN",
    "HIGHLIGHT_COLOR",
    "HeatmapData",
    "JourneyPaths",
    "KpiItem",
    "MatrixKind",
    "OTHER_LABEL",
    "PAIR_COLUMNS",
    "SCORE_COLORS",
    "SankeyData",
    "UNMAPPED_COLOR",
    "UNMAPPED_SHAPE",
    "UNSCORED_COLOR",
    "channel_palette",
    "count_paths",
    "count_reach",
    "csv_bytes",
    "designed_handoff_table",
    "dropoff_badge",
    "edge_width",
    "filter_rows",
    "flow_sankey",
    "format_duration",
    "heatmap_data",
    "heatmap_title",
    "journey_paths",
    "journey_timeline",
    "journeys_behind",
    "kpi_strip",
    "mask_id",
    "named_channel_mix",
    "node_size",
    "outcome_funnel",
    "overlay_graph",
    "overlay_graph_config",
    "pair_ends",
    "pair_table",
    "path_per_journey",
    "sankey_data",
    "score_color",
    "stage_reach",
    "stages_per_journey",
    "switch_heatmap",
    "team_table",
    "timeline_events",
    "touchpoint_channels",
]

GraphView = Literal["both", "designed", "observed"]

# Four bins, green → red.
SCORE_COLORS: tuple[str, ...] = ("#2e7d32", "#f9a825", "#ef6c00", "#c62828")
CONTEXT_LOSS_BINS: tuple[float, ...] = (0.1, 0.25, 0.5)
"""Context-loss thresholds: 0.15 contradicts a handoff declared "full", 0.30 one declared "partial"."""
FRICTION_BINS: tuple[float, ...] = (0.1, 0.35, 0.7)
"""Friction thresholds: 0.35 is the drop-off component alone at twice the baseline; 0.7 twice that."""
UNSCORED_COLOR = "#78909c"
DESIGNED_UNOBSERVED_COLOR = "#cfd8dc"
UNMAPPED_COLOR = "#9e9e9e"
UNMAPPED_SHAPE = "hexagon"
HIGHLIGHT_COLOR = "#6a1b9a"
OTHER_LABEL = "Other"

_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
_X_STEP = 260
_Y_STEP = 110


# --- small encodings ----------------------------------------------------------------------------


def mask_id(value: object, *, salt: str = "journeymap") -> str:
    """A short, stable pseudonym for a customer identifier.

    The same value always gives the same pseudonym (so a customer can be followed across
    figures), but the identifier itself is not shown.

    Examples
    --------
    >>> mask_id("alice@example.com")
    'c-8ab7a055'
    >>> mask_id("alice@example.com") == mask_id("alice@example.com")
    True
    """
    digest = hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()
    return f"c-{digest[:8]}"


def score_color(score: float | None, bins: Sequence[float] = CONTEXT_LOSS_BINS) -> str:
    """The colour of a score: one of :data:`SCORE_COLORS` by bin, grey when there is no score.

    A score equal to a threshold falls in the higher bin.

    Examples
    --------
    >>> score_color(0.05), score_color(0.1), score_color(0.3), score_color(0.9), score_color(None)
    ('#2e7d32', '#f9a825', '#ef6c00', '#c62828', '#78909c')
    """
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return UNSCORED_COLOR
    index = sum(1 for threshold in bins if score >= threshold)
    return SCORE_COLORS[min(index, len(SCORE_COLORS) - 1)]


def edge_width(count: float, max_count: float, *, low: float = 1.0, high: float = 12.0) -> float:
    """Edge width growing linearly with its count, from ``low`` (no volume) to ``high`` (the busiest).

    Examples
    --------
    >>> edge_width(50, 100), edge_width(100, 100), edge_width(0, 100), edge_width(3, 0)
    (6.5, 12.0, 1.0, 1.0)
    """
    if max_count <= 0 or count <= 0:
        return low
    return round(low + (high - low) * min(count / max_count, 1.0), 2)


def node_size(visits: float, max_visits: float, *, low: float = 10.0, high: float = 40.0) -> float:
    """Node size growing with the square root of visits, so the drawn area is proportional to them.

    Examples
    --------
    >>> node_size(25, 100), node_size(100, 100), node_size(0, 100)
    (25.0, 40.0, 10.0)
    """
    if max_visits <= 0 or visits <= 0:
        return low
    return round(low + (high - low) * math.sqrt(min(visits / max_visits, 1.0)), 1)


def dropoff_badge(rate: float | None, *, threshold: float = 0.1) -> str:
    """The label suffix that flags a drop-off rate at or above ``threshold``.

    Examples
    --------
    >>> dropoff_badge(0.42), dropoff_badge(0.05), dropoff_badge(None)
    (' ▼ 42%', '', '')
    """
    if rate is None or math.isnan(rate) or rate < threshold or rate <= 0:
        return ""
    return f" ▼ {round(rate * 100)}%"


def channel_palette(channel_ids: Sequence[str]) -> dict[str, str]:
    """One colour per channel, in the given order (the palette repeats after ten channels).

    Examples
    --------
    >>> channel_palette(["web", "store"])
    {'web': '#1f77b4', 'store': '#ff7f0e'}
    """
    return {channel: _PALETTE[i % len(_PALETTE)] for i, channel in enumerate(channel_ids)}


# --- the journey graph --------------------------------------------------------------------------


UNMAPPED_SHOWN = 24
"""Labels the map does not know that the overlay graph draws at most (the busiest); its header says how many exist."""
_UNMAPPED_ROWS = 8


def _layout(journey_map: JourneyMap, extra: Sequence[str]) -> dict[str, tuple[int, int]]:
    """The editor's lanes layout (stage columns, channel lanes); unmapped labels in columns of eight to the right."""
    positions = dict(node_positions(journey_map))
    left = len(journey_map.stages) * COLUMN_WIDTH
    for index, label in enumerate(extra):
        column, row = divmod(index, _UNMAPPED_ROWS)
        positions[label] = (left + column * COLUMN_WIDTH, row * ROW_HEIGHT)
    return positions


def _unmapped_header(shown: int, total: int, *, left: int) -> dict[str, Any]:
    """The header over the labels the map does not know: what they are, and how many (of how many)."""
    words = "activity" if total == 1 else "activities"
    label = f"Not on the map: {total:,} {words}" + (f" (busiest {shown} shown)" if shown < total else "")
    return {
        "id": f"{HEADER_PREFIX}unmapped",
        "label": label,
        "title": tooltip_text(
            [
                f"{total:,} {words} in the data match no touchpoint of the map.",
                "Map them in the column mapping, or create touchpoints from data.",
            ]
        ),
        "shape": "box",
        "x": left,
        "y": -80,
        "physics": False,
        "color": {"background": "#FFFFFF", "border": UNMAPPED_COLOR},
        "font": {"size": 16, "face": "sans-serif", "color": "#52606D"},
        "borderWidth": 1,
        "margin": 10,
    }


def _fmt_rate(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def overlay_graph(
    journey_map: JourneyMap,
    touchpoints: pl.DataFrame,
    transitions: pl.DataFrame,
    *,
    edge_scores: Mapping[tuple[str, str], float] | None = None,
    score_bins: Sequence[float] = CONTEXT_LOSS_BINS,
    view: GraphView = "both",
    min_volume: int = 1,
    highlight: str | tuple[str, str] | None = None,
    badge_threshold: float = 0.1,
    channel_colors: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agraph node and edge keyword dicts for the journey map with the observed overlay on it.

    Parameters
    ----------
    journey_map:
        The designed journey; its touchpoints are always drawn, in stage columns.
    touchpoints:
        Touchpoint metrics (``touchpoint, channel, visits, customers, dropoff_rate, repeat_rate``).
        Observed touchpoints missing from the map are drawn grey in a last column unless
        ``view="designed"``.
    transitions:
        Transition metrics (``source, target, count, designed`` ...).
    edge_scores:
        Score per ``(source, target)`` that colours the edge through ``score_bins``; unscored
        observed edges are grey-blue.
    view:
        ``"designed"``: the map's transitions only; ``"observed"``: transitions seen in the data
        only; ``"both"``: the union, with undesigned observed transitions dashed.
    min_volume:
        Observed transitions (and unmapped touchpoints) seen fewer times are left out.
    highlight:
        A touchpoint id or a ``(source, target)`` pair drawn in :data:`HIGHLIGHT_COLOR`.

    Returns
    -------
    tuple of (nodes, edges)
        Lists of dicts that ``streamlit_agraph.Node(**d)`` / ``Edge(**d)`` accept.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(name="m", stages=(Stage(id="s", name="S"),), channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=(Touchpoint(id="a", name="A", channel="web", stage="s"),
    ...                  Touchpoint(id="b", name="B", channel="web", stage="s")),
    ...     transitions=(Transition(source="a", target="b"),))
    >>> tps = pl.DataFrame({"touchpoint": ["a", "b"], "visits": [10, 4], "dropoff_rate": [0.0, 0.5]})
    >>> trs = pl.DataFrame({"source": ["a", "b"], "target": ["b", "a"], "count": [4, 2], "designed": [True, False]})
    >>> nodes, edges = overlay_graph(m, tps, trs)
    >>> [(n["label"], n.get("size")) for n in nodes]
    [('A', 40.0), ('B ▼ 50%', 29.0), ('S', None), ('Web', None)]
    >>> [(e["source"], e["target"], e["width"], e["dashes"]) for e in edges]
    [('a', 'b', 12.0, False), ('b', 'a', 6.5, True)]
    """
    scores = dict(edge_scores or {})
    colors = dict(channel_colors or _channel_colors(journey_map))
    shapes = {c.id: KIND_SHAPES.get(c.kind.value, "dot") for c in journey_map.channels}
    map_ids = {tp.id for tp in journey_map.touchpoints}

    channel_names = {c.id: c.name for c in journey_map.channels}
    tp_names = {tp.id: tp.name for tp in journey_map.touchpoints}
    tp_rows = {
        str(r["touchpoint"]): {**r, "channel_mix": named_channel_mix(str(r.get("channel_mix") or ""), channel_names)}
        for r in touchpoints.to_dicts()
    }
    max_visits = max((float(r.get("visits") or 0) for r in tp_rows.values()), default=0.0)

    all_rows = {(str(r["source"]), str(r["target"])): r for r in transitions.to_dicts()}
    observed = {pair: r for pair, r in all_rows.items() if int(r.get("count") or 0) >= max(min_volume, 1)}
    designed_pairs = [(tr.source, tr.target) for tr in journey_map.transitions]
    carry = {(tr.source, tr.target): tr.context_carry.value for tr in journey_map.transitions}

    if view == "designed":
        pairs = designed_pairs
    elif view == "observed":
        pairs = list(observed)
    else:
        pairs = designed_pairs + [p for p in observed if p not in set(designed_pairs)]
    counted = all_rows if view == "designed" else observed
    visible_counts = [int(counted[p].get("count") or 0) for p in pairs if p in counted]
    max_count = float(max(visible_counts, default=0))

    # Unmapped touchpoints seen in the data: only when observed edges are drawn and busy enough; the
    # busiest few, so that a file the map hardly knows still draws a readable graph.
    extra: list[str] = []
    if view != "designed":
        for label, row in tp_rows.items():
            if label not in map_ids and int(row.get("visits") or 0) >= max(min_volume, 1):
                extra.append(label)
        for source, target in pairs:
            for end in (source, target):
                if end not in map_ids and end not in extra:
                    extra.append(end)
    unmapped_total = len(extra)
    extra = sorted(extra, key=lambda label: (-int((tp_rows.get(label) or {}).get("visits") or 0), label))
    extra = extra[:UNMAPPED_SHOWN]
    drawn = map_ids | set(extra)
    pairs = [(source, target) for source, target in pairs if source in drawn and target in drawn]
    positions = _layout(journey_map, extra)

    nodes: list[dict[str, Any]] = []
    for tp in journey_map.touchpoints:
        nodes.append(
            _node(tp.id, tp.name, tp_rows.get(tp.id), colors.get(tp.channel, UNMAPPED_COLOR), positions[tp.id],
                  max_visits=max_visits, badge_threshold=badge_threshold, highlight=highlight,
                  shape=shapes.get(tp.channel, "dot"), designed=channel_names.get(tp.channel, tp.channel))
        )  # fmt: skip
    nodes += header_nodes(journey_map, {tp.id: positions[tp.id] for tp in journey_map.touchpoints})
    if extra:
        nodes.append(_unmapped_header(len(extra), unmapped_total, left=len(journey_map.stages) * COLUMN_WIDTH))
    for label in extra:
        nodes.append(
            _node(label, label, tp_rows.get(label), UNMAPPED_COLOR, positions[label],
                  max_visits=max_visits, badge_threshold=badge_threshold, highlight=highlight, shape=None)
        )  # fmt: skip

    edges: list[dict[str, Any]] = []
    for source, target in pairs:
        edge_row = counted.get((source, target))
        count = int(edge_row.get("count") or 0) if edge_row else 0
        is_designed = (source, target) in carry
        score = scores.get((source, target))
        if count == 0:
            color = DESIGNED_UNOBSERVED_COLOR if score is None else score_color(score, score_bins)
        else:
            color = score_color(score, score_bins)
        title = [f"{tp_names.get(source, source)} → {tp_names.get(target, target)}", f"observed: {count:,}"]
        if edge_row and edge_row.get("customers") is not None:
            title.append(f"customers: {int(edge_row['customers']):,}")
        title.append(f"designed, context carry: {carry[(source, target)]}" if is_designed else "not on the map")
        if score is not None:
            title.append(f"score: {score:.2f}")
        width = edge_width(count, max_count)
        if highlight == (source, target):
            color, width = HIGHLIGHT_COLOR, max(width, 6.0)
        edges.append(
            {
                "id": f"{source}→{target}",
                "source": source,
                "target": target,
                "width": width,
                "color": color,
                "dashes": bool(view == "both" and count > 0 and not is_designed),
                "title": tooltip_text(title),
            }
        )
    return nodes, edges


def _node(
    node_id: str,
    name: str,
    row: Mapping[str, Any] | None,
    color: str,
    position: tuple[int, int],
    *,
    max_visits: float,
    badge_threshold: float,
    highlight: str | tuple[str, str] | None,
    shape: str | None,
    designed: str | None = None,
) -> dict[str, Any]:
    mapped = shape is not None
    visits = int(row.get("visits") or 0) if row else 0
    rate = row.get("dropoff_rate") if row else None
    title = [name if mapped else f"{name} (not on the map)", f"visits: {visits:,}"]
    if designed:
        title.append(f"designed channel: {designed}")
    if row and row.get("channel_mix"):
        title.append(f"seen in: {row['channel_mix']}")
    if row:
        if row.get("customers") is not None:
            title.append(f"customers: {int(row['customers']):,}")
        title.append(f"drop-off: {_fmt_rate(rate)}")
        title.append(f"repeat: {_fmt_rate(row.get('repeat_rate'))}")
    node: dict[str, Any] = {
        "id": node_id,
        "label": truncate_label(name) + dropoff_badge(rate, threshold=badge_threshold),
        "title": tooltip_text(title),
        "size": node_size(visits, max_visits),
        "color": HIGHLIGHT_COLOR if highlight == node_id else color,
        "shape": shape or UNMAPPED_SHAPE,
        "x": position[0],
        "y": position[1],
        "borderWidth": 4 if highlight == node_id else 1,
    }
    return node


def overlay_graph_config(height: int = 560) -> dict[str, Any]:
    """``streamlit_agraph.Config`` keyword arguments for :func:`overlay_graph`: the editor's fixed layout.

    Examples
    --------
    >>> overlay_graph_config(400)["height"], overlay_graph_config()["physics"]
    (400, False)
    """
    return agraph_config_kwargs(height)


# --- handoffs: channel switches and team handoffs -----------------------------------------------

HEATMAP_TOP_N = 25
"""Labels a switch heatmap shows at most (the busiest); the title says when there are more."""

PAIR_COLUMNS: tuple[str, ...] = (
    "count",
    "customers",
    "journeys",
    "ping_pong",
    "median_wait_s",
    "context_loss_score",
    "repeat_step_rate",
    "reidentify_rate",
    "bounce_back_rate",
    "repeat_contact_rate",
    "abandon_rate",
)
"""Columns of :func:`pair_table` after the pair: volume, ping-pong returns, wait and signs of lost context."""

MatrixKind = Literal["channel", "team"]
_ENDS: dict[str, tuple[str, str]] = {"channel": ("from_channel", "to_channel"), "team": ("from_team", "to_team")}
_MOVES_NOUN = {"channel": "channel switches", "team": "team handoffs"}


@dataclass(frozen=True)
class HeatmapData:
    """A label × label matrix: rows are where a move came from, columns where it went.

    ``ids`` are the labels' ids (channel ids, team names), ``labels`` what is shown. When the
    matrix had more labels than were kept, ``total`` says how many, and ``moves_shown`` how
    many of the ``moves`` run between the labels kept.
    """

    ids: tuple[str, ...]
    labels: tuple[str, ...]
    z: tuple[tuple[float | None, ...], ...]
    total: int = 0
    moves: int = 0
    moves_shown: int = 0

    @property
    def limited(self) -> bool:
        """Whether some labels of the matrix were left out."""
        return len(self.ids) < self.total


def heatmap_data(
    matrix: pl.DataFrame,
    *,
    kind: MatrixKind = "channel",
    metric: Literal["count", "context_loss"] = "count",
    order: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
    top_n: int | None = HEATMAP_TOP_N,
) -> HeatmapData:
    """The matrix behind :func:`switch_heatmap`, limited to the ``top_n`` busiest labels.

    ``matrix`` is a channel switch matrix (``from_channel``, ``to_channel``) or a team one
    (``from_team``, ``to_team``, with ``kind="team"``), with ``count`` and, for
    ``metric="context_loss"``, ``context_loss_score``. A label's volume is the moves it sends
    plus the moves it receives; the ``top_n`` busiest are kept (``None``: all). Labels in
    ``order`` come first in that order, then the others busiest first. A cell is ``None`` where
    no move was seen.

    Examples
    --------
    >>> sm = pl.DataFrame({"from_channel": ["web", "chat", "web"], "to_channel": ["chat", "phone", "phone"],
    ...                    "count": [8, 3, 1], "context_loss_score": [0.1, 0.5, None]})
    >>> heatmap_data(sm, order=["web"]).z
    ((None, 8, 1), (None, None, 3), (None, None, None))
    >>> d = heatmap_data(sm, top_n=2)
    >>> d.ids, d.z, d.limited, (d.total, d.moves_shown, d.moves)
    (('chat', 'web'), ((None, None), (8, None)), True, (3, 8, 12))
    >>> d = heatmap_data(sm, metric="context_loss", top_n=None)
    >>> d.ids, d.z[0], d.z[1]
    (('chat', 'web', 'phone'), (None, None, 0.5), (0.1, None, None))
    """
    source, target = _ENDS[kind]
    labels = dict(names or {})
    loss = pl.col("context_loss_score") if "context_loss_score" in matrix.columns else pl.lit(None)
    frame = matrix.select(
        pl.col(source).cast(pl.String).alias("a"),
        pl.col(target).cast(pl.String).alias("b"),
        pl.col("count").cast(pl.Int64),
        loss.cast(pl.Float64).alias("loss"),
    )
    ends = pl.concat([frame.select(pl.col(end).alias("label"), "count") for end in ("a", "b")])
    volume = ends.group_by("label").agg(pl.col("count").sum()).sort(["count", "label"], descending=[True, False])
    ranked = [str(label) for label in volume["label"].to_list()]
    chosen = set(ranked if top_n is None else ranked[:top_n])
    wanted = list(dict.fromkeys(str(c) for c in order))
    ids = [c for c in wanted if c in chosen] + [c for c in ranked if c in chosen and c not in wanted]
    index = {c: i for i, c in enumerate(ids)}
    cells = frame.filter(pl.col("a").is_in(ids) & pl.col("b").is_in(ids))
    z: list[list[float | None]] = [[None for _ in ids] for _ in ids]
    for a, b, count, score in cells.iter_rows():
        if metric == "count":
            z[index[a]][index[b]] = int(count)
        elif score is not None and not math.isnan(score):
            z[index[a]][index[b]] = round(float(score), 4)
    return HeatmapData(
        ids=tuple(ids),
        labels=tuple(labels.get(c, c) for c in ids),
        z=tuple(tuple(r) for r in z),
        total=len(ranked),
        moves=int(frame["count"].sum()),
        moves_shown=int(cells["count"].sum()),
    )


def _axis_labels(labels: Sequence[str], limit: int = 28) -> list[str]:
    """Tick labels: one line, cut at ``limit``, HTML-escaped (plotly reads some HTML), never two alike.

    Examples
    --------
    >>> _axis_labels(["<b>Team</b>", "Second line support team A", "Second line support team B"], 12)
    ['&lt;b&gt;Team&lt;/b&gt;', 'Second line…', 'Second line… (2)']
    """
    out: list[str] = []
    seen: set[str] = set()
    for label in labels:
        text = html.escape(truncate_label(label, limit))
        candidate, n = text, 1
        while candidate in seen:
            n += 1
            candidate = f"{text} ({n})"
        seen.add(candidate)
        out.append(candidate)
    return out


def heatmap_title(data: HeatmapData, *, kind: MatrixKind = "channel", metric: str = "count") -> str:
    """The heatmap's title; when labels were left out it says how many and what share of moves is shown.

    Examples
    --------
    >>> heatmap_title(HeatmapData(("a",), ("A",), ((None,),), total=1, moves=4, moves_shown=4))
    'Channel switches (count)'
    >>> heatmap_title(HeatmapData(("a", "b"), ("A", "B"), ((None, 3), (1, None)), total=300, moves=40, moves_shown=4),
    ...               kind="team", metric="context_loss")
    'Context-loss score of team handoffs · top 2 of 300 teams by volume (10% of team handoffs)'
    """
    noun = _MOVES_NOUN[kind]
    title = f"{noun.capitalize()} (count)" if metric == "count" else f"Context-loss score of {noun}"
    if data.limited:
        share = data.moves_shown / data.moves if data.moves else 0.0
        title += f" · top {len(data.ids)} of {data.total:,} {kind}s by volume ({share:.0%} of {noun})"
    return title


def switch_heatmap(
    data: HeatmapData,
    *,
    kind: MatrixKind = "channel",
    metric: Literal["count", "context_loss"] = "count",
    template: str = "plotly",
) -> go.Figure:
    """Plotly heatmap of a :class:`HeatmapData` whose cells can be clicked.

    Two traces whatever the size: the heatmap, and one transparent marker per cell in a single
    scatter trace (trace 1; plotly heatmaps emit no selection events) carrying
    ``customdata = [from id, to id]`` and the hover text, so a click selects that cell's marker.
    Labels are HTML-escaped; tick labels are cut to one short line (the hover text has them whole).

    Examples
    --------
    >>> fig = switch_heatmap(HeatmapData(("web", "chat"), ("Web", "Chat"), ((None, 5), (2, None)), total=2))
    >>> [list(r) for r in fig.data[0].z], fig.data[0].x
    ([[None, 5], [2, None]], ('Web', 'Chat'))
    >>> fig.data[1].x, fig.data[1].y, fig.data[1].customdata[1]
    (('Web', 'Chat', 'Web', 'Chat'), ('Web', 'Web', 'Chat', 'Chat'), ['web', 'chat'])
    >>> fig.data[1].text[1], fig.layout.title.text
    ('from Web to Chat: 5', 'Channel switches (count)')
    """
    is_count = metric == "count"
    n = len(data.ids)
    ticks = _axis_labels(data.labels)
    full = [html.escape(label) for label in data.labels]
    cells = [(i, j) for i in range(n) for j in range(n)]

    def shown(value: float | None) -> str:
        return "" if value is None else (f"{value:,.0f}" if is_count else f"{value:.2f}")

    cell_px = 44 if n <= 8 else 32 if n <= 16 else 26
    fig = go.Figure(
        go.Heatmap(
            z=data.z,
            x=ticks,
            y=ticks,
            text=[[shown(v) for v in row] for row in data.z],
            texttemplate="%{text}",
            textfont={"size": 12 if n <= 16 else 10},
            colorscale="Blues"
            if is_count
            else [[0.0, SCORE_COLORS[0]], [0.5, SCORE_COLORS[1]], [1.0, SCORE_COLORS[3]]],
            zmin=0 if is_count else 0.0,
            zmax=None if is_count else 1.0,
            hoverinfo="skip",
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": "moves" if is_count else "loss"}},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=tuple(ticks[j] for _, j in cells),
            y=tuple(ticks[i] for i, _ in cells),
            customdata=tuple((data.ids[i], data.ids[j]) for i, j in cells),
            text=tuple(f"from {full[i]} to {full[j]}: {shown(data.z[i][j]) or '–'}" for i, j in cells),
            mode="markers",
            marker={"symbol": "square", "size": cell_px - 2, "opacity": 0.0},
            hovertemplate="%{text}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        template=template,
        title={"text": heatmap_title(data, kind=kind, metric=metric)},
        xaxis={
            "title": {"text": f"to {kind}"},
            "side": "bottom",
            "type": "category",
            "automargin": True,
            "tickangle": 0 if n <= 8 else -45,
            "showgrid": False,
        },
        yaxis={
            "title": {"text": f"from {kind}"},
            "autorange": "reversed",
            "type": "category",
            "automargin": True,
            "showgrid": False,
        },
        plot_bgcolor="#fafafa",
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        height=max(280, 170 + cell_px * n),
        hovermode="closest",
        hoverdistance=-1,
    )
    return fig


def pair_ends(kind: MatrixKind) -> tuple[str, str]:
    """The two columns naming a pair in a switch matrix of this kind.

    Examples
    --------
    >>> pair_ends("channel"), pair_ends("team")
    (('from_channel', 'to_channel'), ('from_team', 'to_team'))
    """
    return _ENDS[kind]


def pair_table(
    matrix: pl.DataFrame, *, kind: MatrixKind = "channel", names: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Every pair of a switch matrix for display and download, busiest first.

    Columns: the pair's two ends (:func:`pair_ends`, by name through ``names``: id → name, for
    channels), then :data:`PAIR_COLUMNS`; columns the matrix lacks are left out.

    Examples
    --------
    >>> sm = pl.DataFrame({"from_team": ["L1", "L2"], "to_team": ["L2", "L1"], "count": [2, 5], "ping_pong": [0, 1]})
    >>> t = pair_table(sm, kind="team")
    >>> t.columns, t.rows()
    (['from_team', 'to_team', 'count', 'ping_pong'], [('L2', 'L1', 5, 1), ('L1', 'L2', 2, 0)])
    """
    source, target = _ENDS[kind]
    labels = dict(names or {})
    named = matrix.with_columns(
        pl.col(source).cast(pl.String).replace(labels),
        pl.col(target).cast(pl.String).replace(labels),
    )
    return named.select(source, target, *(c for c in PAIR_COLUMNS if c in named.columns)).sort(
        ["count", source, target], descending=[True, False, False]
    )


def filter_rows(frame: pl.DataFrame, text: str, columns: Sequence[str]) -> pl.DataFrame:
    """The rows where any of ``columns`` contains ``text`` (case-insensitive, taken literally).

    Examples
    --------
    >>> f = pl.DataFrame({"from": ["Web", "Store"], "to": ["Store", "App"]})
    >>> filter_rows(f, "sto", ["from", "to"]).height, filter_rows(f, " app ", ["from", "to"]).rows()
    (2, [('Store', 'App')])
    >>> filter_rows(f, "(", ["from"]).height, filter_rows(f, "", ["from"]).height
    (0, 2)
    """
    needle = text.strip().lower()
    if not needle or not columns:
        return frame
    condition = pl.lit(False)
    for column in columns:
        found = pl.col(column).cast(pl.String).str.to_lowercase().str.contains(needle, literal=True)
        condition = condition | found.fill_null(False)
    return frame.filter(condition)


def format_duration(seconds: float | None) -> str:
    """A wait in the unit it reads best in: seconds, minutes, hours or days (``–`` when unknown).

    Examples
    --------
    >>> [format_duration(v) for v in (22.2, 750, 14171, 302400, None)]
    ['22 s', '12 min', '3.9 h', '3.5 d', '–']
    """
    if seconds is None or math.isnan(seconds):
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """A frame as UTF-8 CSV for download; text cells that a spreadsheet would run as a formula are quoted.

    Labels come from the data: a team called ``=HYPERLINK(...)`` must open as text, so such cells
    get a leading apostrophe (the usual spreadsheet convention); numbers stay numbers. The one rule
    for every CSV written for users is :func:`journeymap.csv_export.csv_safe`.

    Examples
    --------
    >>> csv_bytes(pl.DataFrame({"team": ["=1+2", "L1"], "count": [-3, 4]})).decode()
    "team,count\\n'=1+2,-3\\nL1,4\\n"
    """
    return _csv_bytes(frame)


def team_table(teams: pl.DataFrame, text: str = "") -> pl.DataFrame:
    """The per-team table (``overlay.teams``) filtered by team name, busiest in handoffs first.

    Examples
    --------
    >>> t = pl.DataFrame({"team": ["L1", "L2", "Field"], "events": [9, 4, 2], "handoffs_in": [1, 3, 0],
    ...                   "handoffs_out": [3, 1, 0]})
    >>> team_table(t).get_column("team").to_list(), team_table(t, "l").get_column("team").to_list()
    (['L1', 'L2', 'Field'], ['L1', 'L2', 'Field'])
    >>> team_table(t, "fie").rows()
    [('Field', 2, 0, 0)]
    """
    ordered = teams
    if {"handoffs_in", "handoffs_out"} <= set(teams.columns):
        ordered = teams.sort(
            pl.col("handoffs_in").cast(pl.Int64) + pl.col("handoffs_out").cast(pl.Int64),
            pl.col("team"),
            descending=[True, False],
        )
    return filter_rows(ordered, text, ["team"])


def _verdict(row: Mapping[str, Any]) -> str:
    moves = int(row.get("moves") or 0)
    carry = str(row.get("declared_carry") or "")
    score = row.get("context_loss_score")
    if not moves:
        return "Not observed in the data."
    if row.get("contradicts_declaration"):
        limit = HEADLINE_THRESHOLDS.get(carry)
        bound = f" ≥ {limit:.2f}" if limit is not None else ""
        return f"Contradicts the map: declared '{carry}', but measured loss {score:.2f}{bound}."
    if not int(row.get("channel_switches") or 0) and not int(row.get("team_handoffs") or 0):
        return "Designed as a handoff, but the events show no change of channel or team."
    if carry == "none":
        return "Declared a silo (no context carried); the data agrees it is a handoff."
    return "Consistent with the declared context carry."


def designed_handoff_table(designed: pl.DataFrame, names: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The map's designed handoffs beside what the moves along them show, with a verdict in plain words.

    ``designed`` is ``overlay.designed_handoffs``. Returns ``from, to, declared_carry,
    context_loss_score, verdict, crossing, moves, channel_switches, team_handoffs`` (what is declared
    beside what is measured, then the volumes): contradictions first, then the busiest.

    Examples
    --------
    >>> d = pl.DataFrame({"source": ["a", "b"], "target": ["b", "c"], "designed_crossing": ["channel", "team"],
    ...     "declared_carry": ["full", "partial"], "moves": [40, 0], "channel_switches": [40, 0],
    ...     "team_handoffs": [0, 0], "context_loss_score": [0.2, None], "contradicts_declaration": [True, False]})
    >>> designed_handoff_table(d, {"a": "Cart"}).select("from", "verdict").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('Cart', "Contradicts the map: declared 'full', but measured loss 0.20 ≥ 0.15."),
     ('b', 'Not observed in the data.')]
    """
    labels = dict(names or {})
    columns = ["from", "to", "declared_carry", "context_loss_score", "verdict", "crossing", "moves",
               "channel_switches", "team_handoffs"]  # fmt: skip
    if not designed.height:
        return pl.DataFrame(
            schema={
                c: pl.Float64
                if c == "context_loss_score"
                else pl.Int64
                if c in {"moves", "channel_switches", "team_handoffs"}
                else pl.String
                for c in columns
            }  # fmt: skip
        )
    verdicts = [_verdict(row) for row in designed.iter_rows(named=True)]
    table = designed.with_columns(
        pl.col("source").cast(pl.String).replace(labels).alias("from"),
        pl.col("target").cast(pl.String).replace(labels).alias("to"),
        pl.col("designed_crossing").alias("crossing"),
        pl.Series("verdict", verdicts, dtype=pl.String),
    )
    return table.sort(
        ["contradicts_declaration", "moves", "from", "to"], descending=[True, True, False, False], nulls_last=True
    ).select(columns)


# --- flows ---------------------------------------------------------------------------------------


def journey_paths(
    events: pl.DataFrame,
    journeys: pl.DataFrame,
    labels: Mapping[int, str],
    *,
    max_steps: int = 5,
) -> pl.DataFrame:
    """Distinct journey paths with their outcome and number of journeys.

    Each event's touchpoint code is turned into a label (a touchpoint name, or a stage name for
    a stage-by-stage view) through ``labels``; repeated consecutive labels are collapsed and the
    path is cut after ``max_steps`` labels. Only the journeys of ``journeys`` count.

    Parameters
    ----------
    events:
        Events with ``journey`` and ``touchpoint`` (code) columns, sorted inside each journey.
    journeys:
        Journeys with ``journey`` and ``outcome``.
    labels:
        Touchpoint code → label; codes missing from it are labelled ``"Unmapped"``.

    Returns
    -------
    pl.DataFrame
        ``path`` (list of str), ``outcome``, ``journeys``; sorted by journeys desc, then path.

    Examples
    --------
    >>> ev = pl.DataFrame({"journey": [0, 0, 0, 1, 1], "touchpoint": [0, 0, 1, 0, 1]},
    ...                   schema={"journey": pl.UInt32, "touchpoint": pl.UInt32})
    >>> jr = pl.DataFrame({"journey": [0, 1], "outcome": ["converted", "converted"]},
    ...                   schema={"journey": pl.UInt32, "outcome": pl.String})
    >>> journey_paths(ev, jr, {0: "Browse", 1: "Buy"}).rows()
    [(['Browse', 'Buy'], 'converted', 2)]
    """
    return count_paths(path_per_journey(events, labels, max_steps=max_steps), journeys)


_PATH_SEPARATOR = "\u0000"


_OUTCOMES = ("converted", "abandoned", "ongoing")


@dataclass(frozen=True, eq=False)
class JourneyPaths:
    """Each journey's path, worked out once per log and labelling (:func:`path_per_journey`)."""

    code: npt.NDArray[np.int64]
    """Per journey id, the index of its path in ``keys`` (-1: a journey without events)."""
    keys: tuple[str, ...]
    """Each distinct path, its labels joined by NUL."""


def path_per_journey(events: pl.DataFrame, labels: Mapping[int, str], *, max_steps: int = 5) -> JourneyPaths:
    """Each journey's path (labels, repeats collapsed, cut after ``max_steps``) as a code.

    :func:`count_paths` then counts the paths of any set of journeys with one ``bincount``.
    """
    mapping = pl.DataFrame(
        {"touchpoint": list(labels.keys()), "label": list(labels.values())},
        schema={"touchpoint": events.schema["touchpoint"], "label": pl.String},
    )
    labelled = (
        events.select("journey", "touchpoint")
        .with_row_index("_order")
        .join(mapping, on="touchpoint", how="left")
        .with_columns(pl.col("label").fill_null("Unmapped"))
        .sort("journey", "_order")
    )
    starts = (pl.col("label") != pl.col("label").shift(1)) | (pl.col("journey") != pl.col("journey").shift(1))
    collapsed = (
        labelled.filter(starts.fill_null(True))
        .with_columns(pl.int_range(pl.len()).over("journey").alias("_k"))
        .filter(pl.col("_k") < max_steps)
    )
    paths = collapsed.group_by("journey", maintain_order=True).agg(
        pl.col("label").str.join(_PATH_SEPARATOR).alias("path_key")
    )
    ranked = paths.with_columns((pl.col("path_key").rank("dense").cast(pl.Int64) - 1).alias("_code"))
    keys = ranked.unique("_code").sort("_code").get_column("path_key").to_list()
    journey = ranked.get_column("journey").to_numpy()
    code = np.full(int(journey.max()) + 1 if journey.size else 0, -1, dtype=np.int64)
    code[journey] = ranked.get_column("_code").to_numpy()
    return JourneyPaths(code, tuple(keys))


def count_paths(paths: JourneyPaths, journeys: pl.DataFrame) -> pl.DataFrame:
    """The paths of the given journeys (from :func:`path_per_journey`) with outcome and count.

    Returns ``path`` (list of str), ``outcome``, ``journeys``; sorted by journeys desc, then path.
    """
    ids = journeys.get_column("journey").to_numpy().astype(np.int64)
    outcome = (
        journeys.select(pl.col("outcome").replace_strict(_OUTCOMES, list(range(3)), default=2, return_dtype=pl.Int64))
        .to_series()
        .to_numpy()
    )
    inside = ids < paths.code.size
    codes = paths.code[ids[inside]]
    known = codes >= 0
    counts = np.bincount(codes[known] * 3 + outcome[inside][known], minlength=len(paths.keys) * 3)
    cells = np.flatnonzero(counts)
    keys = np.asarray(paths.keys, dtype=object)
    return (
        pl.DataFrame(
            {
                "path_key": pl.Series(keys[cells // 3].tolist(), dtype=pl.String),
                "outcome": pl.Series([_OUTCOMES[i] for i in (cells % 3).tolist()], dtype=pl.String),
                "journeys": counts[cells].astype(np.int64),
            }
        )
        .sort(["journeys", "path_key", "outcome"], descending=[True, False, False])
        .select(pl.col("path_key").str.split(_PATH_SEPARATOR).alias("path"), "outcome", "journeys")
    )


@dataclass(frozen=True)
class SankeyData:
    """Nodes and links of a path Sankey: ``labels[i]`` names node ``i``; links are index triples."""

    labels: tuple[str, ...]
    sources: tuple[int, ...]
    targets: tuple[int, ...]
    values: tuple[int, ...]


def sankey_data(paths: pl.DataFrame, *, top_n: int = 10) -> SankeyData:
    """Nodes and links for the ``top_n`` most frequent paths; the rest flow through an ``Other`` node.

    Each step position has its own nodes (``Browse`` at step 1 and at step 3 are two nodes), so the
    diagram reads left to right; every path ends in its outcome node (``converted`` ...). A path
    outside the top keeps its first step and then goes through ``Other`` to its outcome.

    Examples
    --------
    >>> p = pl.DataFrame({"path": [["A", "B"], ["A", "C"], ["B"]], "outcome": ["converted", "abandoned", "abandoned"],
    ...                   "journeys": [5, 2, 1]})
    >>> d = sankey_data(p, top_n=1)
    >>> d.labels
    ('A', 'B', 'converted', 'Other', 'abandoned', 'B')
    >>> list(zip(d.sources, d.targets, d.values))
    [(0, 1, 5), (1, 2, 5), (0, 3, 2), (3, 4, 3), (5, 3, 1)]
    """
    rows = paths.sort(["journeys"], descending=True, maintain_order=True).rows(named=True)
    node_index: dict[tuple[str, Any], int] = {}
    labels: list[str] = []
    links: dict[tuple[int, int], int] = {}

    def node(key: tuple[str, Any], label: str) -> int:
        if key not in node_index:
            node_index[key] = len(labels)
            labels.append(label)
        return node_index[key]

    for rank, row in enumerate(rows):
        steps = [str(s) for s in row["path"]] or ["(no events)"]
        if rank >= top_n:
            steps = [steps[0], OTHER_LABEL]
        keys: list[tuple[str, Any]] = [("step", (i, s)) for i, s in enumerate(steps)]
        keys.append(("end", str(row["outcome"])))
        names = [*steps, str(row["outcome"])]
        ids = [node(k, n) for k, n in zip(keys, names, strict=True)]
        for a, b in zip(ids, ids[1:], strict=False):
            links[(a, b)] = links.get((a, b), 0) + int(row["journeys"])
    return SankeyData(
        labels=tuple(labels),
        sources=tuple(a for a, _ in links),
        targets=tuple(b for _, b in links),
        values=tuple(links.values()),
    )


def flow_sankey(data: SankeyData, *, title: str = "Journey paths", template: str = "plotly") -> go.Figure:
    """Plotly Sankey of a :class:`SankeyData` (one trace).

    Examples
    --------
    >>> fig = flow_sankey(SankeyData(("A", "converted"), (0,), (1,), (4,)))
    >>> fig.data[0].node.label, fig.data[0].link.value
    (('A', 'converted'), (4,))
    """
    outcome_colors = {"converted": SCORE_COLORS[0], "abandoned": SCORE_COLORS[3], "ongoing": UNSCORED_COLOR}
    node_colors = [outcome_colors.get(label, "#90a4ae" if label == OTHER_LABEL else "#1f77b4") for label in data.labels]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": data.labels, "color": node_colors, "pad": 12, "thickness": 14},
            link={"source": data.sources, "target": data.targets, "value": data.values},
        )
    )
    fig.update_layout(template=template, title=title, margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=420)
    return fig


FINISHED_STEP = "Finished journeys"
"""First step of :func:`stage_reach`: the converted and abandoned journeys every later step is a share of."""


def stage_reach(
    events: pl.DataFrame,
    journeys: pl.DataFrame,
    touchpoint_labels: Sequence[str],
    journey_map: JourneyMap,
) -> pl.DataFrame:
    """Finished journeys, those that reached each stage of the map (in stage order), then the converted ones.

    Only the finished (converted or abandoned) journeys of ``journeys`` count: ongoing ones are
    left out, as the completion rate leaves them out. So no step exceeds the first, and the
    converted share of the first is the completion rate. Returns ``step`` (``"Finished
    journeys"``, each stage name, then ``"Converted"``) and ``journeys``.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(name="m", stages=(Stage(id="s1", name="Look"), Stage(id="s2", name="Buy")),
    ...     channels=(Channel(id="web", name="Web"),),
    ...     touchpoints=(Touchpoint(id="a", name="A", channel="web", stage="s1"),
    ...                  Touchpoint(id="b", name="B", channel="web", stage="s2")))
    >>> ev = pl.DataFrame({"journey": [0, 0, 1], "touchpoint": [0, 1, 0]}, schema={"journey": pl.UInt32,
    ...                   "touchpoint": pl.UInt32})
    >>> jr = pl.DataFrame({"journey": [0, 1], "outcome": ["converted", "abandoned"]})
    >>> stage_reach(ev, jr, ("a", "b"), m).rows()
    [('Finished journeys', 2), ('Look', 2), ('Buy', 1), ('Converted', 1)]
    """
    return count_reach(stages_per_journey(events, touchpoint_labels, journey_map), journeys, journey_map)


def stages_per_journey(
    events: pl.DataFrame, touchpoint_labels: Sequence[str], journey_map: JourneyMap
) -> BitSetIndex | DistinctIndex:
    """Which stages of the map each journey reached, once per log; :func:`count_reach` counts them.

    Stage codes are positions in ``journey_map.stages``; events at touchpoints not on the map
    reach no stage.
    """
    position = {stage.id: i for i, stage in enumerate(journey_map.stages)}
    stage_of = {tp.id: position[tp.stage] for tp in journey_map.touchpoints}
    lookup = np.array([stage_of.get(label, -1) for label in touchpoint_labels] or [-1], dtype=np.int64)
    journey = events.get_column("journey").to_numpy()
    stage = lookup[events.get_column("touchpoint").to_numpy()]
    on_map = stage >= 0
    n_journeys = int(journey.max()) + 1 if journey.size else 0
    # Each journey is its own group: only journeys per stage are counted.
    return distinct_index(journey[on_map], journey[on_map], stage[on_map], len(journey_map.stages), n_journeys)


def count_reach(stages: BitSetIndex | DistinctIndex, journeys: pl.DataFrame, journey_map: JourneyMap) -> pl.DataFrame:
    """Finished journeys of ``journeys``, those reaching each stage (:func:`stages_per_journey`), then converting."""
    journeys = journeys.filter(pl.col("outcome") != "ongoing")
    ids = journeys.get_column("journey").to_numpy().astype(np.int64)
    size = max(int(ids.max()) + 1 if ids.size else 0, stages.n_journeys)
    keep = np.zeros(size, dtype=bool)
    keep[ids] = True
    values = [int(v) for v in stages.journeys(keep[: stages.n_journeys])[: len(journey_map.stages)]]
    values = [journeys.height, *values, int(journeys.filter(pl.col("outcome") == "converted").height)]
    steps = [FINISHED_STEP, *(s.name for s in journey_map.stages), "Converted"]
    return pl.DataFrame({"step": steps, "journeys": values}, schema={"step": pl.String, "journeys": pl.Int64})


def outcome_funnel(reach: pl.DataFrame, *, template: str = "plotly") -> go.Figure:
    """Plotly funnel of :func:`stage_reach` (finished journeys, those reaching each stage, then converting).

    Every bar's share is of the first, the finished journeys; hovering a bar says what it counts, and the
    converted bar's share is the completion rate (:data:`journeymap.analysis.kpis.COMPLETION_RATE_HELP`).

    Examples
    --------
    >>> fig = outcome_funnel(pl.DataFrame({"step": ["Finished journeys", "Look", "Converted"], "journeys": [5, 4, 2]}))
    >>> fig.data[0].x, fig.data[0].hovertext[1]
    ((5, 4, 2), 'Finished journeys with an event in this stage')
    """
    steps = tuple(reach["step"].to_list())
    meaning = ["Finished journeys with an event in this stage"] * len(steps)
    meaning[0] = "Journeys that are over: converted or abandoned (ongoing ones are left out)"
    rate = COMPLETION_RATE_HELP[0].lower() + COMPLETION_RATE_HELP[1:]
    meaning[-1] = f"Finished journeys that reached the goal.<br>This share is the completion rate: {rate}."
    fig = go.Figure(
        go.Funnel(
            y=steps,
            x=tuple(int(v) for v in reach["journeys"].to_list()),
            textinfo="value+percent initial",
            hovertext=meaning,
            hovertemplate="<b>%{y}</b>: %{x:,} journeys, %{percentInitial:.0%} of the finished journeys"
            "<br>%{hovertext}<extra></extra>",
            marker={"color": "#1f77b4"},
        )
    )
    fig.update_layout(
        template=template,
        title="Finished journeys reaching each stage (ongoing ones left out)",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


# --- drill-down ----------------------------------------------------------------------------------


def journeys_behind(
    events: pl.DataFrame,
    touchpoint_labels: Sequence[str],
    item: str | tuple[str, str],
    *,
    limit: int = 5,
    ending: bool = False,
    keep: npt.NDArray[np.bool_] | None = None,
) -> list[int]:
    """Ids of up to ``limit`` journeys behind a finding, in journey order.

    ``item`` is a touchpoint id (journeys that visited it; with ``ending=True``, journeys that
    ended there) or a ``(source, target)`` pair (journeys in which ``target`` directly follows
    ``source``). Ids unknown to the log give no journeys. ``keep`` (by journey id) restricts
    the answer to the journeys a filter kept.

    Examples
    --------
    >>> ev = pl.DataFrame({"journey": [0, 0, 1, 1, 2], "touchpoint": [0, 1, 1, 0, 0]},
    ...                   schema={"journey": pl.UInt32, "touchpoint": pl.UInt32})
    >>> journeys_behind(ev, ("a", "b"), ("a", "b")), journeys_behind(ev, ("a", "b"), "a", ending=True)
    ([0], [1, 2])
    """
    code_of = {label: code for code, label in enumerate(touchpoint_labels)}
    tp = pl.col("touchpoint")
    same_journey_next = pl.col("journey").shift(-1) == pl.col("journey")
    if isinstance(item, tuple):
        source, target = item
        if source not in code_of or target not in code_of:
            return []
        condition = (tp == code_of[source]) & (tp.shift(-1) == code_of[target]) & same_journey_next
    else:
        if item not in code_of:
            return []
        condition = tp == code_of[item]
        if ending:
            condition = condition & ~same_journey_next.fill_null(False)
    if keep is not None:
        condition = condition & pl.lit(pl.Series(keep)).gather(pl.col("journey"))
    hits = (
        events.select("journey", "touchpoint")
        .filter(condition.fill_null(False))
        .select(pl.col("journey").unique(maintain_order=True))
        .sort("journey")
        .head(limit)
    )
    return [int(j) for j in hits["journey"].to_list()]


def timeline_events(
    events: pl.DataFrame,
    journey_ids: Sequence[int],
    *,
    touchpoint_labels: Sequence[str],
    channel_labels: Sequence[str],
    touchpoint_names: Mapping[str, str] | None = None,
    mask: bool = True,
) -> pl.DataFrame:
    """The events of some journeys, decoded for display: ``journey, customer, ts, touchpoint, channel``.

    ``customer`` is :func:`mask_id` of the customer code when ``mask`` is true, else the
    customer's raw identifier (the log's ``customer_id`` column) or, without one, the code as text.

    Examples
    --------
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"journey": [4, 4], "customer": [9, 9], "ts": [datetime(2024, 1, 1), datetime(2024, 1, 2)],
    ...                    "touchpoint": [1, 0], "channel": [0, 0]})
    >>> timeline_events(ev, [4], touchpoint_labels=("a", "b"), channel_labels=("web",), mask=False).rows()[0][1:]
    ('9', datetime.datetime(2024, 1, 1, 0, 0), 'b', 'web')
    """
    names = dict(touchpoint_names or {})
    tp_labels = [names.get(label, label) for label in touchpoint_labels]
    raw_ids = "customer_id" in events.columns
    picked = events.filter(pl.col("journey").is_in(list(journey_ids))).select(
        "journey", "customer", "ts", "touchpoint", "channel", *(["customer_id"] if raw_ids else [])
    )
    if raw_ids and not mask:
        known = picked.select("customer", pl.col("customer_id").cast(pl.String)).unique("customer").drop_nulls()
        raw = dict(known.iter_rows())
    else:
        raw = {}
    customers = sorted({int(c) for c in picked["customer"].to_list()})
    shown = {c: (mask_id(c) if mask else str(raw.get(c, c))) for c in customers}
    return picked.select(
        pl.col("journey").cast(pl.Int64),
        pl.col("customer").replace_strict(shown, return_dtype=pl.String)
        if shown
        else pl.col("customer").cast(pl.String),
        pl.col("ts"),
        pl.col("touchpoint").replace_strict(dict(enumerate(tp_labels)), default="?", return_dtype=pl.String),
        pl.col("channel").replace_strict(dict(enumerate(channel_labels)), default="?", return_dtype=pl.String),
    )


def journey_timeline(
    events: pl.DataFrame,
    *,
    channel_order: Sequence[str] = (),
    title: str = "Sample journeys",
    template: str = "plotly",
) -> go.Figure:
    """Timeline of a few journeys: one lane per channel, time across, one line per journey.

    ``events`` is the output of :func:`timeline_events`. Lanes follow ``channel_order``, then
    any other channel seen.

    Examples
    --------
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"journey": [1, 1], "customer": ["c-1", "c-1"], "ts": [datetime(2024, 1, 1),
    ...                    datetime(2024, 1, 2)], "touchpoint": ["cart", "call"], "channel": ["web", "phone"]})
    >>> fig = journey_timeline(ev, channel_order=["phone", "web"])
    >>> fig.layout.yaxis.categoryarray, fig.data[0].y
    (('phone', 'web'), ('web', 'phone'))
    """
    seen = list(dict.fromkeys(events["channel"].to_list()))
    lanes = [c for c in channel_order if c in seen] + [c for c in seen if c not in channel_order]
    fig = go.Figure()
    for (journey,), part in events.sort("journey", "ts").group_by("journey", maintain_order=True):
        customer = part["customer"][0]
        fig.add_trace(
            go.Scatter(
                x=tuple(part["ts"].to_list()),
                y=tuple(part["channel"].to_list()),
                mode="lines+markers",
                name=f"{customer} · journey {journey}",
                text=tuple(part["touchpoint"].to_list()),
                hovertemplate="%{text}<br>%{y}<br>%{x}<extra></extra>",
                marker={"size": 10},
            )
        )
    fig.update_layout(
        template=template,
        title=title,
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": tuple(lanes),
            "title": {"text": "channel"},
        },
        xaxis={"title": {"text": "time"}},
        height=max(260, 120 + 50 * len(lanes)),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h"},
    )
    return fig


# --- KPI strip -----------------------------------------------------------------------------------


_KPI_LABELS = {
    "journeys": "Journeys",
    "customers": "Customers",
    "completion_rate": "Completion rate",
    "repeat_contact_rate": "Repeat-contact rate",
    "first_contact_resolution": "First-contact resolution",
    "effort_steps": "Effort",
    "measured_integration_factor": "Context kept across channels",
    "omnichannel_effectiveness": "Omnichannel effectiveness score",
}
_KPI_HELP = {
    "journeys": "Journeys cut from the events by the inactivity gap",
    "customers": "Customers after identity resolution",
    "completion_rate": f"{COMPLETION_RATE_HELP}. The funnel's Converted step (Flows tab) is the same share",
    "repeat_contact_rate": "Assisted contacts followed by another one within the repeat-contact window",
    "first_contact_resolution": "First-contact resolution: assisted contacts not followed by another one",
    "measured_integration_factor": (
        "How much of the customer's context travels when they switch channel: 100% = no sign that anyone had to "
        "start over (1 − the context-loss score of the channel switches, weighted by how often each happens)"
    ),
    "omnichannel_effectiveness": (
        "Engagement across channels times the context kept, per touchpoint (Σ channel engagement × context kept "
        "/ touchpoints). An index for comparing versions and periods of one map: higher is better"
    ),
}


_MOVE_KPIS: dict[str, tuple[str, str, str]] = {
    "switches_per_journey": (
        "switch",
        "Channel switches per journey",
        "Moves whose two events are in different channels, per journey",
    ),
    "switch_journey_share": (
        "switch",
        "Journeys with a channel switch",
        "Share of journeys with at least one move to another channel",
    ),
    "switch_ping_pong_share": (
        "switch",
        "Channel ping-pong",
        "Share of channel switches that go back to a channel the journey had already left",
    ),
    "handoffs_per_journey": (
        "handoff",
        "Team handoffs per journey",
        "Moves whose two events were handled by different teams, per journey",
    ),
    "handoff_journey_share": (
        "handoff",
        "Journeys with a team handoff",
        "Share of journeys with at least one move to another team",
    ),
    "handoff_ping_pong_share": (
        "handoff",
        "Team ping-pong",
        "Share of team handoffs that go back to a team the journey had already left",
    ),
}
"""Move KPIs: group, label, one-line definition. The ``handoff`` group needs a mapped team column."""


@dataclass(frozen=True)
class KpiItem:
    """One metric of the KPI strip: its label, the value as shown, what it means, and its row."""

    key: str
    label: str
    value: str
    help: str
    group: str = "journey"


def _share(value: float | None) -> str:
    """A share in whole percent; a small share that is not zero reads ``<1%``, not ``0%``."""
    if value is None:
        return "–"
    return "<1%" if 0 < value < 0.005 else f"{value:.0%}"


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _per_journey(value: float | None) -> str:
    """A mean per journey with the digits it needs: ``12``, ``2.7``, ``0.17``, ``<0.01``, ``0``."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    if 0 < value < 0.005:
        return "<0.01"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def kpi_strip(kpis: Mapping[str, Any], *, has_goal: bool = True) -> list[KpiItem]:
    """The journey KPIs of the overlay page, formatted (``–`` when a KPI cannot be measured).

    Without a goal (``has_goal=False``, see ``JourneyKpis.has_goal``) the completion rate reads
    ``n/a — set a goal``: no journey can convert, so no share of them did.

    ``kpis`` is ``JourneyKpis.as_dict()``. The eight journey KPIs (group ``journey``) come
    first, then the channel-switch KPIs (group ``switch``), then, only when the events have a
    team column (``handoffs_per_journey`` is measured), the team-handoff KPIs (group ``handoff``).

    Examples
    --------
    >>> items = kpi_strip({"journeys": 1200, "customers": 950, "completion_rate": 0.4123,
    ...     "repeat_contact_rate": None, "first_contact_resolution": 0.8, "effort_steps": 4.25,
    ...     "effort_switches": 1.5, "measured_integration_factor": 0.72, "omnichannel_effectiveness": 0.0312,
    ...     "switches_per_journey": 2.6712, "switch_journey_share": 0.8273, "switch_ping_pong_share": 0.0021})
    >>> [(i.label, i.value) for i in items][:4]
    [('Journeys', '1,200'), ('Customers', '950'), ('Completion rate', '41%'), ('Repeat-contact rate', '–')]
    >>> [i.value for i in items][4:8]
    ['80%', '4.2 steps', '72%', '0.031']
    >>> [(i.group, i.label, i.value) for i in items][8:]  # doctest: +NORMALIZE_WHITESPACE
    [('switch', 'Channel switches per journey', '2.7'), ('switch', 'Journeys with a channel switch', '83%'),
     ('switch', 'Channel ping-pong', '<1%')]
    >>> [i.value for i in kpi_strip({"handoffs_per_journey": 0.1656, "handoff_journey_share": 0.1485})][-3:]
    ['0.17', '15%', '–']
    >>> kpi_strip({"journeys": 12, "completion_rate": None}, has_goal=False)[2].value
    'n/a — set a goal'
    """

    def get(name: str) -> Any:
        value = kpis.get(name)
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    journeys, customers = get("journeys"), get("customers")
    switches = get("effort_switches")
    effort_help = "Mean events per converted journey"
    if switches is not None:
        effort_help += f"; {switches:.1f} channel switches per converted journey"
    values = {
        "journeys": "–" if journeys is None else f"{int(journeys):,}",
        "customers": "–" if customers is None else f"{int(customers):,}",
        "completion_rate": _share(get("completion_rate")) if has_goal else NO_GOAL,
        "repeat_contact_rate": _share(get("repeat_contact_rate")),
        "first_contact_resolution": _share(get("first_contact_resolution")),
        "effort_steps": "–" if get("effort_steps") is None else f"{_number(get('effort_steps'))} steps",
        "measured_integration_factor": _share(get("measured_integration_factor")),
        "omnichannel_effectiveness": _number(get("omnichannel_effectiveness"), 3),
    }
    helps = {**_KPI_HELP, "effort_steps": effort_help}
    if not has_goal:
        helps["completion_rate"] = "No goal is set: choose goal touchpoints, or conversion values in the column mapping"
    items = [KpiItem(key, label, values[key], helps[key]) for key, label in _KPI_LABELS.items()]
    has_teams = get("handoffs_per_journey") is not None
    for key, (group, label, help_text) in _MOVE_KPIS.items():
        if group == "handoff" and not has_teams:
            continue
        value = _per_journey(get(key)) if key.endswith("per_journey") else _share(get(key))
        items.append(KpiItem(key, label, value, help_text, group))
    return items


def named_channel_mix(mix: str, names: Mapping[str, str]) -> str:
    """A touchpoint's ``channel_mix`` (``"web 80% · app 20%"``, see
    :func:`journeymap.events.metrics.touchpoint_metrics`) with the channels by their names on the map.

    Examples
    --------
    >>> named_channel_mix("web 80% · call center 20%", {"web": "Website"})
    'Website 80% · call center 20%'
    >>> named_channel_mix("", {"web": "Website"})
    ''
    """
    if not mix:
        return ""
    shares = (part.rpartition(" ") for part in mix.split(_MIX_SEPARATOR))
    return _MIX_SEPARATOR.join(f"{names.get(label, label)} {share}" for label, _, share in shares)


_MIX_SEPARATOR = " · "


def touchpoint_channels(
    journey_map: JourneyMap, touchpoints: pl.DataFrame, channel_names: Mapping[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """Per touchpoint id: its designed channel and the channels its events recorded, by name.

    The second value is the ``channel_mix`` of ``overlay.touchpoints`` (:func:`named_channel_mix`; empty when
    not observed); the first is empty off the map.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(name="m", stages=(Stage(id="s", name="S"),), channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(Touchpoint(id="a", name="A", channel="web", stage="s"),))
    >>> tps = pl.DataFrame({"touchpoint": ["a", "faq"], "channel_mix": ["web 80% · app 20%", "web 100%"]})
    >>> touchpoint_channels(m, tps)
    {'a': ('Website', 'Website 80% · app 20%'), 'faq': ('', 'Website 100%')}
    """
    names = {c.id: c.name for c in journey_map.channels} | dict(channel_names or {})
    mix: dict[str, str] = {}
    if "channel_mix" in touchpoints.columns:
        mix = {
            str(t): named_channel_mix(str(m or ""), names)
            for t, m in touchpoints.select("touchpoint", "channel_mix").iter_rows()
        }
    out = {tp.id: (names.get(tp.channel, tp.channel), mix.get(tp.id, "")) for tp in journey_map.touchpoints}
    for label, seen in mix.items():
        out.setdefault(label, ("", seen))
    return out
