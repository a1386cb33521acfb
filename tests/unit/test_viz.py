"""Graph payloads and figures for the designed journey, on the named fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import plotly.io as pio
import pytest

from journeymap.graph import designed_switch_matrix
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.viz import (
    CARRY_STYLES,
    COLUMN_WIDTH,
    KIND_SHAPES,
    LABEL_MAX,
    PALETTE,
    PLAIN_STYLE,
    agraph_config_kwargs,
    channel_colors,
    graph_edges,
    graph_nodes,
    node_positions,
    switch_matrix_figure,
    tooltip_text,
    truncate_label,
)
from tests.fixtures import bopis_map, linear_journey

ROOT = Path(__file__).resolve().parents[2]
EVIL = "<img src=x onerror=alert(1)>"
WORD_JOINER = "\u2060"


def _evil_map() -> JourneyMap:
    """Every free-text field that reaches a label or tooltip holds markup."""
    return JourneyMap(
        name="Evil",
        stages=(Stage(id="s", name="<script>alert('stage')</script>"),),
        channels=(
            Channel(id="web", name="<b>Web</b>", owner_team="<i onmouseover=alert(2)>team</i>"),
            Channel(id="call", name="Call & <!-- comment -->", kind=ChannelKind.ASSISTED),
        ),
        touchpoints=(
            Touchpoint(
                id="evil",
                name=EVIL,
                channel="web",
                stage="s",
                description="</div><svg onload=alert(3)>",
                pain_points=("<a href='javascript:alert(4)'>x</a>",),
            ),
            Touchpoint(id="js", name="javascript:alert(5)", channel="call", stage="s", owner="a<b"),
        ),
        transitions=(
            Transition(source="evil", target="js", context_carry=ContextCarry.NONE, note="<iframe src=//x>"),
            Transition(source="js", target="evil", note="&lt;img src=x&gt;"),
        ),
    )


class _MarkupFinder(HTMLParser):
    """Collects anything an HTML parser would turn into markup rather than text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.markup: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.markup.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.markup.append(f"</{tag}>")

    def handle_comment(self, data: str) -> None:
        self.markup.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.markup.append(decl)

    def handle_pi(self, data: str) -> None:
        self.markup.append(data)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _markup_in(text: str) -> list[str]:
    finder = _MarkupFinder()
    finder.feed(text)
    finder.close()
    return finder.markup


# --- colours, styles and layout ------------------------------------------------------------------


def test_channel_colors_bopis() -> None:
    assert channel_colors(bopis_map()) == {"web": "#DDCC77", "app": "#CC6677", "store": "#117733", "call": "#AA4499"}


def test_channel_colors_are_distinct_and_stable() -> None:
    channels = tuple(Channel(id=f"ch-{i}", name=f"Channel {i}") for i in range(len(PALETTE)))
    colors = channel_colors(JourneyMap(name="M", channels=channels))
    assert sorted(colors.values()) == sorted(PALETTE)
    # Adding a channel at the end, or removing the last, leaves the others' colours alone.
    fewer = channel_colors(JourneyMap(name="M", channels=channels[:-1]))
    assert fewer == {k: v for k, v in colors.items() if k != channels[-1].id}
    # Beyond the palette, colours repeat but every channel still gets one from it.
    many = channel_colors(JourneyMap(name="M", channels=(*channels, Channel(id="extra", name="Extra"))))
    assert set(many.values()) == set(PALETTE)
    assert len(many) == len(PALETTE) + 1


def test_carry_styles() -> None:
    assert CARRY_STYLES["full"] == {"color": "#4E6E8E", "width": 2.0, "dashes": False}
    assert CARRY_STYLES["partial"] == {"color": "#E69F00", "width": 2.5, "dashes": [10, 6]}
    assert CARRY_STYLES["none"] == {"color": "#C62828", "width": 4.0, "dashes": [5, 4]}
    assert PLAIN_STYLE == {"color": "#B0B7BF", "width": 1.0, "dashes": False}
    assert CARRY_STYLES["none"]["width"] > CARRY_STYLES["partial"]["width"] > PLAIN_STYLE["width"]


def test_node_positions_lanes_bopis() -> None:
    # Lanes: web 2 rows (buy has 2), app 1, store 2 (collect has 2), call 1; rows 90 apart, lanes 40 apart.
    assert node_positions(bopis_map()) == {
        "search": (0, 0),
        "checkout": (2 * COLUMN_WIDTH, 0),
        "delivery-faq": (2 * COLUMN_WIDTH, 90),
        "stock-check": (COLUMN_WIDTH, 220),
        "ready-notice": (3 * COLUMN_WIDTH, 220),
        "pickup-desk": (3 * COLUMN_WIDTH, 350),
        "curbside": (3 * COLUMN_WIDTH, 440),
        "order-help": (3 * COLUMN_WIDTH, 570),
    }


def test_node_positions_compact_bopis() -> None:
    # Collect holds ready-notice (app), pickup-desk and curbside (store), order-help (call): centred on 0.
    assert node_positions(bopis_map(), layout="compact") == {
        "search": (0, 0),
        "stock-check": (COLUMN_WIDTH, 0),
        "checkout": (2 * COLUMN_WIDTH, -45),
        "delivery-faq": (2 * COLUMN_WIDTH, 45),
        "ready-notice": (3 * COLUMN_WIDTH, -135),
        "pickup-desk": (3 * COLUMN_WIDTH, -45),
        "curbside": (3 * COLUMN_WIDTH, 45),
        "order-help": (3 * COLUMN_WIDTH, 135),
    }


def test_nodes_ordered_by_stage_left_to_right() -> None:
    m = bopis_map()
    stage_index = {s.id: i for i, s in enumerate(m.stages)}
    nodes = graph_nodes(m)
    for node in nodes:
        assert node["x"] == stage_index[m.touchpoint(node["id"]).stage] * COLUMN_WIDTH
    assert [n["id"] for n in graph_nodes(linear_journey())] == ["landing", "cart", "confirmation"]
    assert [n["x"] for n in graph_nodes(linear_journey())] == [0, COLUMN_WIDTH, 2 * COLUMN_WIDTH]


def test_node_colours_and_shapes_follow_the_channel() -> None:
    m = bopis_map()
    colors = channel_colors(m)
    kinds = {c.id: c.kind.value for c in m.channels}
    for node in graph_nodes(m):
        channel = m.touchpoint(node["id"]).channel
        assert node["color"]["background"] == colors[channel]
        assert node["shape"] == KIND_SHAPES[kinds[channel]]
    shapes = {n["id"]: n["shape"] for n in graph_nodes(m)}
    assert (shapes["search"], shapes["pickup-desk"], shapes["order-help"]) == ("dot", "square", "diamond")


def test_nodes_have_fixed_positions_and_warnings() -> None:
    nodes = {n["id"]: n for n in graph_nodes(bopis_map())}
    assert all(n["physics"] is False for n in nodes.values())
    # delivery-faq is a dead end, curbside unreachable: dashed red border and a line in the tooltip.
    assert nodes["delivery-faq"]["color"]["border"] == "#C62828"
    assert nodes["delivery-faq"]["shapeProperties"] == {"borderDashes": [5, 3]}
    assert "⚠ Dead end" in nodes["delivery-faq"]["title"]
    assert "⚠ Unreachable" in nodes["curbside"]["title"]
    assert nodes["search"]["shapeProperties"] == {"borderDashes": False}
    assert nodes["search"]["color"]["border"] == nodes["search"]["color"]["background"]


def test_node_tooltip_bopis() -> None:
    nodes = {n["id"]: n for n in graph_nodes(bopis_map())}
    assert nodes["pickup-desk"]["title"] == (
        "● Pick-up desk\n"
        "Store (physical) · stage Collect\n"
        "Owner: Fulfilment\n"
        "Emotion: -1\n"
        "Requires identification\n"
        "Designated end of the journey\n"
        "Pain points: Order number asked again; Queue"
    )


def test_selected_node_is_emphasised() -> None:
    nodes = {n["id"]: n for n in graph_nodes(bopis_map(), selected="checkout")}
    assert (nodes["checkout"]["size"], nodes["checkout"]["borderWidth"]) == (26, 5)
    assert nodes["checkout"]["color"]["border"] == "#1F2933"
    assert (nodes["search"]["size"], nodes["search"]["borderWidth"]) == (18, 2)
    # An id that is not on the map (a stale selection) changes nothing.
    assert graph_nodes(bopis_map(), selected="gone") == graph_nodes(bopis_map())


def test_edges_carry_styles_bopis() -> None:
    edges = graph_edges(bopis_map())
    styled = [(e["source"], e["target"], e["color"]["color"], e["width"], e["dashes"]) for e in edges]
    full_s, partial_s, none_s, plain_s = (
        (style["color"], style["width"], style["dashes"])
        for style in (CARRY_STYLES["full"], CARRY_STYLES["partial"], CARRY_STYLES["none"], PLAIN_STYLE)
    )
    assert styled == [
        ("search", "stock-check", *partial_s),
        ("search", "checkout", *plain_s),
        ("stock-check", "checkout", *full_s),
        ("checkout", "delivery-faq", *plain_s),
        ("checkout", "ready-notice", *full_s),
        ("ready-notice", "pickup-desk", *none_s),
        ("ready-notice", "order-help", *partial_s),
        ("order-help", "pickup-desk", *none_s),
        ("curbside", "pickup-desk", *full_s),
    ]
    assert all(e["arrows"] == {"to": {"enabled": True, "scaleFactor": 0.7}} for e in edges)
    assert len({e["id"] for e in edges}) == len(edges)


def test_edge_tooltips() -> None:
    titles = {(e["source"], e["target"]): e["title"] for e in graph_edges(bopis_map())}
    assert titles["ready-notice", "pickup-desk"] == (
        "Ready-for-pickup notice → Pick-up desk\n"
        "Mobile app → Store: handoff across channels and owner teams\n"
        "Context carry: none, the customer starts over (silo handoff)\n"
        "Note: Desk cannot see the order"
    )
    assert titles["curbside", "pickup-desk"] == (
        "Curbside hand-over → Pick-up desk\n"
        "Store operations → Fulfilment: handoff across owner teams\n"
        "Context carry: full, data and history travel along"
    )
    assert titles["search", "checkout"] == (
        "Product search → Online checkout\n"
        "Within Website (E-commerce)\n"
        "Context carry: full, data and history travel along"
    )


def test_style_dicts_are_not_shared_between_edges() -> None:
    edges = graph_edges(bopis_map())
    edges[0]["dashes"].append(99)
    assert CARRY_STYLES["partial"]["dashes"] == [10, 6]


# --- untrusted text --------------------------------------------------------------------------------


def test_tooltip_text_is_inert_markup() -> None:
    text = tooltip_text([EVIL, "</div>", "<!-- x -->", "<?php ?>", "a < b > c"])
    assert _markup_in(text) == []
    assert text.replace(WORD_JOINER, "") == f"{EVIL}\n</div>\n<!-- x -->\n<?php ?>\na < b > c"


def test_every_title_of_an_evil_map_is_plain_text() -> None:
    m = _evil_map()
    payloads = graph_nodes(m) + graph_edges(m)
    assert len(payloads) == 4
    for payload in payloads:
        assert _markup_in(payload["title"]) == [], payload["title"]
    node_titles = {n["id"]: n["title"] for n in graph_nodes(m)}
    # What the user typed is what the tooltip shows (the word joiner is invisible).
    visible = node_titles["evil"].replace(WORD_JOINER, "")
    assert visible.splitlines()[0] == f"● {EVIL}"
    assert "</div><svg onload=alert(3)>" in visible
    assert "<script>alert('stage')</script>" in visible


def test_node_titles_never_start_a_url_scheme() -> None:
    # The component passes a double-clicked node's title to window.open.
    for node in graph_nodes(_evil_map()):
        first = node["title"].lstrip()[0]
        assert not (first.isascii() and first.isalpha()), node["title"]


def test_labels_are_the_plain_truncated_names() -> None:
    m = _evil_map()
    assert [n["label"] for n in graph_nodes(m)] == [truncate_label(EVIL), "javascript:alert(5)"]
    assert truncate_label(EVIL) == "<img src=x onerror=alert(1)>"


def test_long_names_are_truncated_on_the_canvas_only() -> None:
    long_name = "Ready-for-pickup notification by SMS and email, with a link to the order"
    m = bopis_map()
    tps = tuple(tp.model_copy(update={"name": long_name}) if tp.id == "search" else tp for tp in m.touchpoints)
    node = graph_nodes(m.model_copy(update={"touchpoints": tps}))[0]
    assert node["label"] == long_name[: LABEL_MAX - 1] + "…"
    assert len(node["label"]) == LABEL_MAX
    assert node["title"].splitlines()[0] == f"● {long_name}"
    assert truncate_label("a\nb\tc") == "a b c"


# --- streamlit-agraph compatibility ----------------------------------------------------------------


def test_payloads_build_agraph_objects() -> None:
    agraph = pytest.importorskip("streamlit_agraph")
    m = bopis_map()
    node = agraph.Node(**graph_nodes(m)[0]).to_dict()
    assert (node["id"], node["x"], node["y"], node["title"]) == ("search", 0, 0, graph_nodes(m)[0]["title"])
    edge = agraph.Edge(**graph_edges(m)[5]).to_dict()
    assert (edge["from"], edge["to"], edge["dashes"]) == ("ready-notice", "pickup-desk", [5, 4])
    config = agraph.Config(**agraph_config_kwargs(500)).to_dict()
    assert config["height"] == "500px"
    assert config["physics"]["enabled"] is False
    assert config["layout"]["hierarchical"]["enabled"] is False
    assert config["interaction"]["hover"] is True
    assert config["edges"]["arrows"]["to"]["enabled"] is True
    json.dumps({"nodes": [node], "edges": [edge], "config": config})


def test_agraph_config_kwargs() -> None:
    kwargs = agraph_config_kwargs(420, width=900)
    assert {k: kwargs[k] for k in ("height", "width", "directed", "physics", "hierarchical")} == {
        "height": 420,
        "width": 900,
        "directed": True,
        "physics": False,
        "hierarchical": False,
    }


# --- switch matrix figure ----------------------------------------------------------------------------


def test_switch_matrix_figure_bopis() -> None:
    fig = switch_matrix_figure(designed_switch_matrix(bopis_map()), template="plotly_white")
    trace = fig.data[0]
    assert list(trace.x) == ["Website", "Mobile app", "Store", "Call center"]
    assert list(trace.y) == list(trace.x)
    assert [list(row) for row in trace.z] == [
        [None, 2, None, None],
        [1, None, 1, 1],
        [None, None, None, None],
        [None, None, 1, None],
    ]
    assert list(trace.customdata[0][1]) == [1, 1, 0]
    assert list(trace.customdata[1][2]) == [0, 0, 1]
    assert "%{customdata[2]} none" in trace.hovertemplate
    assert (trace.zmin, trace.zmax, trace.colorbar.dtick) == (0, 2, 1)
    assert fig.layout.template == pio.templates["plotly_white"]


def test_switch_matrix_figure_escapes_channel_names() -> None:
    frame = pd.DataFrame(
        [{"from_channel": "<b>Web</b>", "to_channel": "A & B", "transitions": 1, "full": 1, "partial": 0, "none": 0}]
    )
    trace = switch_matrix_figure(frame).data[0]
    assert list(trace.x) == ["&lt;b&gt;Web&lt;/b&gt;", "A &amp; B"]


def test_switch_matrix_figure_empty() -> None:
    fig = switch_matrix_figure(designed_switch_matrix(linear_journey()))
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text.startswith("No designed channel switches")
    assert fig.layout.template == pio.templates["plotly"]


def test_domain_modules_do_not_load_streamlit() -> None:
    code = "import sys, journeymap.viz, journeymap.graph, journeymap.editing; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "False"
