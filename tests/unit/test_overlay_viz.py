"""Overlay figures and graph payloads on tiny hand-made frames whose answer is worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import polars as pl
import pytest

from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.overlay_viz import (
    DESIGNED_UNOBSERVED_COLOR,
    FRICTION_BINS,
    HEATMAP_TOP_N,
    HIGHLIGHT_COLOR,
    OTHER_LABEL,
    SCORE_COLORS,
    UNMAPPED_COLOR,
    UNMAPPED_SHAPE,
    UNMAPPED_SHOWN,
    UNSCORED_COLOR,
    HeatmapData,
    SankeyData,
    csv_bytes,
    designed_handoff_table,
    dropoff_badge,
    edge_width,
    filter_rows,
    flow_sankey,
    heatmap_data,
    journey_paths,
    journey_timeline,
    journeys_behind,
    kpi_strip,
    mask_id,
    node_size,
    outcome_funnel,
    overlay_graph,
    pair_table,
    sankey_data,
    score_color,
    stage_reach,
    switch_heatmap,
    team_table,
    timeline_events,
    touchpoint_channels,
)
from journeymap.viz import COLUMN_WIDTH


def chat_phone_map() -> JourneyMap:
    """web:browse → chat:ask → phone:call, designed; phone → web is not on the map."""
    return JourneyMap(
        name="Support",
        stages=(Stage(id="look", name="Look"), Stage(id="help", name="Help")),
        channels=(
            Channel(id="web", name="Website"),
            Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED),
        ),
        touchpoints=(
            Touchpoint(id="browse", name="Browse", channel="web", stage="look"),
            Touchpoint(id="ask", name="Ask in chat", channel="chat", stage="help"),
            Touchpoint(id="call", name="Call", channel="phone", stage="help"),
        ),
        transitions=(
            Transition(source="browse", target="ask", context_carry=ContextCarry.FULL),
            Transition(source="ask", target="call", context_carry=ContextCarry.FULL),
        ),
    )


def tp_metrics() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "touchpoint": ["browse", "ask", "call", "mystery"],
            "channel": ["web", "chat", "phone", "web"],
            "visits": [100, 25, 4, 9],
            "customers": [80, 20, 4, 9],
            "dropoff_rate": [0.0, 0.05, 0.42, 1.0],
            "repeat_rate": [0.1, 0.0, 0.5, 0.0],
        }
    )


def tr_metrics() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["browse", "ask", "call", "browse"],
            "target": ["ask", "call", "browse", "mystery"],
            "count": [20, 10, 2, 1],
            "customers": [18, 10, 2, 1],
            "designed": [True, True, False, False],
        }
    )


def by_id(items: list[dict[str, object]], key: str = "id") -> dict[object, dict[str, object]]:
    return {item[key]: item for item in items}


# --- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "bins", "expected"),
    [
        (0.0, (0.1, 0.25, 0.5), SCORE_COLORS[0]),
        (0.099, (0.1, 0.25, 0.5), SCORE_COLORS[0]),
        (0.1, (0.1, 0.25, 0.5), SCORE_COLORS[1]),
        (0.25, (0.1, 0.25, 0.5), SCORE_COLORS[2]),
        (0.5, (0.1, 0.25, 0.5), SCORE_COLORS[3]),
        (3.0, (0.1, 0.25, 0.5), SCORE_COLORS[3]),
        (0.6, FRICTION_BINS, SCORE_COLORS[2]),
        (None, (0.1,), UNSCORED_COLOR),
        (math.nan, (0.1,), UNSCORED_COLOR),
    ],
)
def test_score_color_bins(score: float | None, bins: tuple[float, ...], expected: str) -> None:
    assert score_color(score, bins) == expected


def test_width_scales_linearly_with_count() -> None:
    assert [edge_width(c, 20) for c in (0, 5, 10, 20, 40)] == [1.0, 3.75, 6.5, 12.0, 12.0]


def test_node_size_area_proportional_to_visits() -> None:
    assert [node_size(v, 100) for v in (0, 1, 25, 100)] == [10.0, 13.0, 25.0, 40.0]


def test_dropoff_badge_threshold() -> None:
    assert dropoff_badge(0.42) == " ▼ 42%"
    assert dropoff_badge(0.1) == " ▼ 10%"
    assert dropoff_badge(0.099) == ""
    assert dropoff_badge(0.0, threshold=0.0) == ""
    assert dropoff_badge(0.3, threshold=0.5) == ""


def test_mask_id_is_short_stable_and_hides_the_value() -> None:
    masked = mask_id("alice@example.com")
    assert masked == mask_id("alice@example.com")
    assert masked != mask_id("bob@example.com")
    assert masked.startswith("c-") and len(masked) == 10
    assert "alice" not in masked
    assert mask_id(17) == mask_id("17")
    assert mask_id("x", salt="a") != mask_id("x", salt="b")


# --- overlay graph -------------------------------------------------------------------------------


def test_both_view_draws_union_with_undesigned_dashed() -> None:
    scores = {("ask", "call"): 0.6, ("browse", "ask"): 0.05}
    nodes, edges = overlay_graph(chat_phone_map(), tp_metrics(), tr_metrics(), edge_scores=scores)
    e = by_id(edges)
    assert list(e) == ["browse→ask", "ask→call", "call→browse", "browse→mystery"]
    assert e["browse→ask"]["width"] == 12.0  # busiest
    assert e["ask→call"]["width"] == 6.5  # half of it
    assert e["call→browse"]["width"] == 2.1  # 1 + 11 * 2/20
    assert e["browse→mystery"]["width"] == 1.55
    assert e["ask→call"]["color"] == SCORE_COLORS[3]
    assert e["browse→ask"]["color"] == SCORE_COLORS[0]
    assert e["call→browse"]["color"] == UNSCORED_COLOR
    assert [e[k]["dashes"] for k in e] == [False, False, True, True]
    assert "designed, context carry: full" in str(e["ask→call"]["title"])
    assert "not on the map" in str(e["call→browse"]["title"])
    n = by_id(nodes)
    lanes = ["header:lane:web", "header:lane:chat", "header:lane:phone"]
    assert list(n) == [
        "browse",
        "ask",
        "call",
        "header:stage:look",
        "header:stage:help",
        *lanes,
        "header:unmapped",
        "mystery",
    ]
    assert (n["header:stage:help"]["label"], n["header:stage:help"]["x"]) == ("Help", COLUMN_WIDTH)
    assert [n[k]["label"] for k in lanes] == ["Website", "Chat", "Phone"]
    assert n["header:unmapped"]["label"] == "Not on the map: 1 activity"
    assert n["browse"]["size"] == 40.0
    assert n["ask"]["size"] == 25.0  # sqrt(25/100) = 0.5
    assert n["call"]["label"] == "Call ▼ 42%"
    assert n["ask"]["label"] == "Ask in chat"  # 5% is under the badge threshold
    assert n["mystery"]["color"] == UNMAPPED_COLOR
    assert n["mystery"]["shape"] == UNMAPPED_SHAPE
    assert (n["browse"]["shape"], n["ask"]["shape"], n["call"]["shape"]) == ("dot", "triangle", "diamond")
    # The editor's lanes: stage columns 240 px apart, one 130 px lane per channel with its header on the left;
    # unmapped in a last column under its own header.
    assert [(n[k]["x"], n[k]["y"]) for k in n] == [
        (0, 0), (240, 130), (240, 260), (0, -80), (240, -80), (-210, 0), (-210, 130), (-210, 260), (480, -80), (480, 0)
    ]  # fmt: skip


def test_designed_view_keeps_only_map_transitions_and_grey_unobserved() -> None:
    trs = tr_metrics().filter(pl.col("source") != "ask")  # ask → call never observed
    nodes, edges = overlay_graph(chat_phone_map(), tp_metrics(), trs, view="designed")
    e = by_id(edges)
    assert list(e) == ["browse→ask", "ask→call"]
    assert e["ask→call"]["color"] == DESIGNED_UNOBSERVED_COLOR
    assert e["ask→call"]["width"] == 1.0
    assert e["browse→ask"]["width"] == 12.0
    assert not any(edge["dashes"] for edge in edges)
    assert [node["id"] for node in nodes][:5] == ["browse", "ask", "call", "header:stage:look", "header:stage:help"]
    assert not any(node["id"] == "header:unmapped" for node in nodes)


def test_observed_view_and_min_volume_hide_rare_transitions() -> None:
    nodes, edges = overlay_graph(chat_phone_map(), tp_metrics(), tr_metrics(), view="observed", min_volume=2)
    assert [(edge["source"], edge["target"]) for edge in edges] == [
        ("browse", "ask"),
        ("ask", "call"),
        ("call", "browse"),
    ]
    assert not any(edge["dashes"] for edge in edges)
    assert "mystery" in {node["id"] for node in nodes}  # 9 visits ≥ 2
    nodes, _ = overlay_graph(chat_phone_map(), tp_metrics(), tr_metrics(), view="observed", min_volume=10)
    assert "mystery" not in {node["id"] for node in nodes}


def test_highlight_marks_one_edge_or_one_node() -> None:
    _, edges = overlay_graph(chat_phone_map(), tp_metrics(), tr_metrics(), highlight=("call", "browse"))
    e = by_id(edges)
    assert e["call→browse"]["color"] == HIGHLIGHT_COLOR
    assert e["call→browse"]["width"] == 6.0
    assert e["browse→ask"]["color"] != HIGHLIGHT_COLOR
    nodes, _ = overlay_graph(chat_phone_map(), tp_metrics(), tr_metrics(), highlight="ask")
    n = by_id(nodes)
    assert (n["ask"]["color"], n["ask"]["borderWidth"]) == (HIGHLIGHT_COLOR, 4)
    assert n["browse"]["borderWidth"] == 1


def test_graph_payload_fits_agraph_node_and_edge() -> None:
    from streamlit_agraph import Edge, Node

    nodes, edges = overlay_graph(chat_phone_map(), tp_metrics(), tr_metrics())
    assert Node(**nodes[0]).to_dict()["label"] == "Browse"
    assert Edge(**edges[0]).to_dict()["from"] == "browse"


# --- heatmap -------------------------------------------------------------------------------------


def switch_matrix() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "from_channel": ["web", "chat", "phone"],
            "to_channel": ["chat", "phone", "web"],
            "count": [20, 10, 2],
            "context_loss_score": [0.1, 0.5, None],
        }
    )


def test_heatmap_counts_follow_channel_order() -> None:
    data = heatmap_data(switch_matrix(), order=["web", "chat", "phone"], names={"web": "Website"})
    assert data.ids == ("web", "chat", "phone")
    assert data.labels == ("Website", "chat", "phone")
    assert data.z == ((None, 20, None), (None, None, 10), (2, None, None))
    assert not data.limited and (data.total, data.moves, data.moves_shown) == (3, 32, 32)


def test_heatmap_context_loss_is_the_pairs_own_score() -> None:
    data = heatmap_data(switch_matrix(), metric="context_loss", order=["web", "chat", "phone"])
    # phone → web has moves but no score: an empty cell, like a pair nobody walked.
    assert data.z == ((None, 0.1, None), (None, None, 0.5), (None, None, None))


def test_heatmap_figure_has_one_clickable_trace_with_ids_in_customdata() -> None:
    data = heatmap_data(switch_matrix(), order=["web", "chat", "phone"])
    fig = switch_heatmap(data, template="plotly_white")
    assert [trace.type for trace in fig.data] == ["heatmap", "scatter"]  # cells are one clickable trace
    assert [list(r) for r in fig.data[0].z] == [[None, 20, None], [None, None, 10], [2, None, None]]
    assert [list(r) for r in fig.data[0].text] == [["", "20", ""], ["", "", "10"], ["2", "", ""]]
    cell = 1 * 3 + 2  # row chat, column phone
    assert (fig.data[1].y[cell], fig.data[1].x[cell]) == ("chat", "phone")
    assert list(fig.data[1].customdata[cell]) == ["chat", "phone"]
    assert fig.data[1].text[cell] == "from chat to phone: 10"
    assert fig.data[1].text[0] == "from web to web: –"
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert fig.layout.title.text == "Channel switches (count)"
    loss = switch_heatmap(heatmap_data(switch_matrix(), metric="context_loss"), metric="context_loss")
    assert (loss.data[0].zmin, loss.data[0].zmax) == (0.0, 1.0)
    assert loss.layout.title.text == "Context-loss score of channel switches"


def test_empty_switch_matrix_gives_empty_heatmap() -> None:
    empty = pl.DataFrame(schema={"from_channel": pl.String, "to_channel": pl.String, "count": pl.Int64})
    assert heatmap_data(empty) == HeatmapData((), (), ())


def many_teams(n: int = 400) -> pl.DataFrame:
    """Team i hands to team i+1 (i + 1 moves) and every team hands 5 moves to the hub ``T000``."""
    teams = [f"T{i:03d}" for i in range(n)]
    return pl.DataFrame(
        {
            "from_team": teams[:-1] + teams[1:],
            "to_team": teams[1:] + ["T000"] * (n - 1),
            "count": list(range(1, n)) + [5] * (n - 1),
        },
        schema_overrides={"count": pl.UInt32},
    )


def test_hundreds_of_teams_keep_the_busiest_in_two_traces_and_say_so() -> None:
    matrix = many_teams()
    data = heatmap_data(matrix, kind="team", top_n=HEATMAP_TOP_N)
    # Volume of team i: received i (from i-1) + sent i+1 + 5 to the hub; the hub also receives 5 from each.
    volume = {f"T{i:03d}": i + (i + 1 if i < 399 else 0) + 5 for i in range(1, 400)}
    volume["T000"] = 1 + 5 * 399
    expected = sorted(volume, key=lambda t: (-volume[t], t))[:HEATMAP_TOP_N]
    assert list(data.ids) == expected and data.ids[0] == "T000"
    assert data.total == 400 and data.limited
    assert data.moves == int(matrix["count"].sum())
    kept = matrix.filter(pl.col("from_team").is_in(expected) & pl.col("to_team").is_in(expected))
    assert data.moves_shown == int(kept["count"].sum())
    fig = switch_heatmap(data, kind="team")
    assert len(fig.data) == 2
    assert len(fig.data[1].x) == HEATMAP_TOP_N**2
    share = data.moves_shown / data.moves
    assert fig.layout.title.text == (
        f"Team handoffs (count) · top {HEATMAP_TOP_N} of 400 teams by volume ({share:.0%} of team handoffs)"
    )
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("to team", "from team")


def test_heatmap_labels_are_escaped_cut_and_distinct() -> None:
    evil = "<img src=x onerror=alert(1)>"
    matrix = pl.DataFrame(
        {
            "from_team": [evil, "Second line support team A"],
            "to_team": ["Second line support team B", evil],
            "count": [3, 2],
        }
    )
    fig = switch_heatmap(heatmap_data(matrix, kind="team"), kind="team")
    ticks = list(fig.data[0].x)
    assert len(set(ticks)) == 3
    assert all("<" not in t for t in ticks) and "&lt;img" in ticks[0]
    assert all("<img" not in t for t in fig.data[1].text)
    # Busiest first: evil 5 moves, B 3, A 2; the ids stay raw in customdata, which is never drawn.
    assert list(fig.data[1].customdata[1]) == [evil, "Second line support team B"]


def test_pair_table_lists_every_pair_by_name_busiest_first() -> None:
    table = pair_table(switch_matrix(), names={"web": "Website"})
    assert table.columns == ["from_channel", "to_channel", "count", "context_loss_score"]
    assert table.rows() == [("Website", "chat", 20, 0.1), ("chat", "phone", 10, 0.5), ("phone", "Website", 2, None)]
    teams = pair_table(many_teams(), kind="team")
    assert teams.height == many_teams().height == 798
    assert teams.row(0)[:3] == ("T398", "T399", 399)


def test_filter_rows_matches_either_end_case_insensitively_and_literally() -> None:
    table = pair_table(many_teams(), kind="team")
    found = filter_rows(table, " t007 ", ["from_team", "to_team"])
    assert sorted(found.select("from_team", "to_team").rows()) == [("T006", "T007"), ("T007", "T000"), ("T007", "T008")]
    assert filter_rows(table, "T0[0-9]", ["from_team"]).height == 0  # not a pattern
    assert filter_rows(table, "", ["from_team"]).height == table.height


def test_csv_is_the_whole_table_with_formulas_defused() -> None:
    table = pl.DataFrame({"from_team": ["=cmd|' /C calc'!A0", "@sum", "L1"], "to_team": ["L2", "-x", "+y"],
                          "count": [3, 2, -1]})  # fmt: skip
    text = csv_bytes(table).decode()
    assert text.splitlines() == [
        "from_team,to_team,count",
        "'=cmd|' /C calc'!A0,L2,3",
        "'@sum,'-x,2",
        "L1,'+y,-1",
    ]


def test_team_table_orders_by_handoffs_and_filters_by_name() -> None:
    teams = pl.DataFrame(
        {
            "team": ["Field", "L1", "L2"],
            "events": [20, 9, 4],
            "handoffs_in": [0, 1, 3],
            "handoffs_out": [0, 3, 2],
            "ping_pong_in": [0, 0, 1],
            "median_wait_after_handoff_s": [None, 60.0, 7200.0],
        }
    )
    assert team_table(teams)["team"].to_list() == ["L2", "L1", "Field"]
    assert team_table(teams, "L")["team"].to_list() == ["L2", "L1", "Field"]  # "Field" has an l
    assert team_table(teams, "l2").rows() == [("L2", 4, 3, 2, 1, 7200.0)]


def test_designed_handoff_verdicts_in_plain_words() -> None:
    designed = pl.DataFrame(
        {
            "source": ["browse", "ask", "cart", "ask"],
            "target": ["ask", "call", "store", "store"],
            "designed_crossing": ["channel", "channel and team", "channel", "team"],
            "declared_carry": ["partial", "full", "none", "full"],
            "moves": [10, 30, 4, 0],
            "channel_switches": [10, 30, 0, 0],
            "team_handoffs": [0, 30, 0, 0],
            "context_loss_score": [0.1, 0.42, 0.5, None],
            "contradicts_declaration": [False, True, False, False],
        }
    )
    table = designed_handoff_table(designed, {"browse": "Browse", "ask": "Ask in chat"})
    # Declared beside measured, with the verdict next to them; the volumes after.
    assert table.columns == ["from", "to", "declared_carry", "context_loss_score", "verdict", "crossing", "moves",
                             "channel_switches", "team_handoffs"]  # fmt: skip
    assert table.select("from", "to", "verdict").rows() == [
        ("Ask in chat", "call", "Contradicts the map: declared 'full', but measured loss 0.42 ≥ 0.15."),
        ("Browse", "Ask in chat", "Consistent with the declared context carry."),
        ("cart", "store", "Designed as a handoff, but the events show no change of channel or team."),
        ("Ask in chat", "store", "Not observed in the data."),
    ]  # fmt: skip
    assert designed_handoff_table(designed.head(0)).height == 0


def test_touchpoint_channels_put_the_observed_mix_beside_the_design() -> None:
    tps = pl.DataFrame({"touchpoint": ["ask", "faq"], "channel_mix": ["chat 75% · web 25%", "web 100%"]})
    assert touchpoint_channels(chat_phone_map(), tps) == {
        "browse": ("Website", ""),
        "ask": ("Chat", "Chat 75% · Website 25%"),
        "call": ("Phone", ""),
        "faq": ("", "Website 100%"),
    }
    nodes, _ = overlay_graph(chat_phone_map(), tps.with_columns(visits=pl.lit(3)), pl.DataFrame(
        schema={"source": pl.String, "target": pl.String, "count": pl.Int64, "designed": pl.Boolean}))  # fmt: skip
    ask = next(n for n in nodes if n["id"] == "ask")
    assert "designed channel: Chat" in ask["title"] and "seen in: Chat 75% · Website 25%" in ask["title"]


@pytest.mark.parametrize(
    ("kpis", "expected"),
    [
        (
            {"switches_per_journey": 1.2, "switch_journey_share": 0.8, "switch_ping_pong_share": 0.0},
            [("switch", "Channel switches per journey", "1.2"), ("switch", "Journeys with a channel switch", "80%"),
             ("switch", "Channel ping-pong", "0%")],
        ),
        (
            {"switches_per_journey": 0.0, "switch_journey_share": 0.0, "switch_ping_pong_share": None,
             "handoffs_per_journey": 2.5167, "handoff_journey_share": 0.7323, "handoff_ping_pong_share": 0.0007},
            [("switch", "Channel switches per journey", "0"), ("switch", "Journeys with a channel switch", "0%"),
             ("switch", "Channel ping-pong", "–"), ("handoff", "Team handoffs per journey", "2.5"),
             ("handoff", "Journeys with a team handoff", "73%"), ("handoff", "Team ping-pong", "<1%")],
        ),
        ({"switches_per_journey": 14.6}, [("switch", "Channel switches per journey", "15"),
                                           ("switch", "Journeys with a channel switch", "–"),
                                           ("switch", "Channel ping-pong", "–")]),
    ],
)  # fmt: skip
def test_kpi_strip_move_kpis(kpis: dict[str, float | None], expected: list[tuple[str, str, str]]) -> None:
    items = kpi_strip(kpis)
    assert [(i.group, i.label, i.value) for i in items if i.group != "journey"] == expected
    assert all(i.help for i in items)


# --- flows ---------------------------------------------------------------------------------------


def flow_events() -> tuple[pl.DataFrame, pl.DataFrame]:
    # codes: 0 browse, 1 ask, 2 call
    events = pl.DataFrame(
        {"journey": [0, 0, 0, 1, 1, 2, 3, 3, 3], "touchpoint": [0, 0, 1, 0, 1, 0, 0, 2, 0]},
        schema={"journey": pl.UInt32, "touchpoint": pl.UInt32},
    )
    journeys = pl.DataFrame(
        {"journey": [0, 1, 2, 3], "outcome": ["converted", "converted", "abandoned", "ongoing"]},
        schema={"journey": pl.UInt32, "outcome": pl.String},
    )
    return events, journeys


def test_journey_paths_collapse_repeats_and_count() -> None:
    events, journeys = flow_events()
    paths = journey_paths(events, journeys, {0: "Browse", 1: "Ask", 2: "Call"})
    assert paths.rows() == [
        (["Browse", "Ask"], "converted", 2),
        (["Browse"], "abandoned", 1),
        (["Browse", "Call", "Browse"], "ongoing", 1),
    ]
    short = journey_paths(events, journeys, {0: "Look", 1: "Help"}, max_steps=2)
    assert short.rows() == [
        (["Look", "Help"], "converted", 2),
        (["Look"], "abandoned", 1),
        (["Look", "Unmapped"], "ongoing", 1),
    ]


def test_sankey_top_n_and_other() -> None:
    events, journeys = flow_events()
    paths = journey_paths(events, journeys, {0: "Browse", 1: "Ask", 2: "Call"})
    data = sankey_data(paths, top_n=1)
    assert data.labels == ("Browse", "Ask", "converted", OTHER_LABEL, "abandoned", "ongoing")
    links = set(zip(data.sources, data.targets, data.values, strict=True))
    assert links == {(0, 1, 2), (1, 2, 2), (0, 3, 2), (3, 4, 1), (3, 5, 1)}
    full = sankey_data(paths, top_n=10)
    assert OTHER_LABEL not in full.labels
    assert sum(v for s, v in zip(full.sources, full.values, strict=True) if s == 0) == 4  # all start at Browse
    fig = flow_sankey(data, template="plotly")
    assert len(fig.data) == 1
    assert fig.data[0].node.label == data.labels
    assert fig.data[0].link.value == data.values


def test_stage_reach_and_funnel() -> None:
    events, journeys = flow_events()
    reach = stage_reach(events, journeys, ("browse", "ask", "call"), chat_phone_map())
    # Journey 3 is ongoing: left out, as the completion rate leaves it out (2 of 3 finished converted).
    assert reach.rows() == [("Finished journeys", 3), ("Look", 3), ("Help", 2), ("Converted", 2)]
    fig = outcome_funnel(reach)
    assert fig.data[0].x == (3, 3, 2, 2)
    assert fig.data[0].y == ("Finished journeys", "Look", "Help", "Converted")


def test_empty_sankey() -> None:
    assert sankey_data(pl.DataFrame({"path": [], "outcome": [], "journeys": []})) == SankeyData((), (), (), ())


# --- drill-down ----------------------------------------------------------------------------------


def test_journeys_behind_transition_and_touchpoint() -> None:
    events, _ = flow_events()
    labels = ("browse", "ask", "call")
    assert journeys_behind(events, labels, ("browse", "ask")) == [0, 1]
    assert journeys_behind(events, labels, ("ask", "browse")) == []  # crosses journeys 0 → 1, not a transition
    assert journeys_behind(events, labels, ("call", "browse")) == [3]
    assert journeys_behind(events, labels, "call") == [3]
    assert journeys_behind(events, labels, "browse", ending=True) == [2, 3]
    assert journeys_behind(events, labels, "browse", limit=2) == [0, 1]
    assert journeys_behind(events, labels, "nowhere") == []


def timeline_frame() -> pl.DataFrame:
    t = [datetime(2024, 5, 1, h, tzinfo=UTC) for h in (9, 10, 11, 9, 12)]
    schema = {
        "journey": pl.UInt32,
        "customer": pl.UInt32,
        "ts": pl.Datetime("us", "UTC"),
        "touchpoint": pl.UInt32,
        "channel": pl.UInt32,
    }
    data = {"journey": [0, 0, 0, 1, 1], "customer": [7, 7, 7, 8, 8], "ts": t}
    return pl.DataFrame({**data, "touchpoint": [0, 1, 2, 0, 1], "channel": [0, 1, 2, 0, 1]}, schema=schema)


def test_timeline_masks_customers_by_default() -> None:
    kwargs = {"touchpoint_labels": ("browse", "ask", "call"), "channel_labels": ("web", "chat", "phone")}
    masked = timeline_events(timeline_frame(), [0], touchpoint_names={"ask": "Ask in chat"}, **kwargs)
    assert masked["customer"].unique().to_list() == [mask_id(7)]
    assert masked["touchpoint"].to_list() == ["browse", "Ask in chat", "call"]
    assert masked["channel"].to_list() == ["web", "chat", "phone"]
    shown = timeline_events(timeline_frame(), [0, 1], mask=False, **kwargs)
    assert shown["customer"].to_list() == ["7", "7", "7", "8", "8"]


def test_timeline_lanes_are_channels() -> None:
    kwargs = {"touchpoint_labels": ("browse", "ask", "call"), "channel_labels": ("web", "chat", "phone")}
    events = timeline_events(timeline_frame(), [0, 1], **kwargs)
    fig = journey_timeline(events, channel_order=["phone", "chat", "web"], template="plotly")
    assert fig.layout.yaxis.categoryarray == ("phone", "chat", "web")
    assert len(fig.data) == 2  # one line per journey
    assert fig.data[0].y == ("web", "chat", "phone")
    assert fig.data[1].y == ("web", "chat")
    assert fig.data[0].name == f"{mask_id(7)} · journey 0"
    assert fig.data[0].text == ("browse", "ask", "call")


def test_many_unmapped_labels_are_laid_out_in_a_grid() -> None:
    labels = [f"raw {i}" for i in range(10)]
    tps = pl.DataFrame({"touchpoint": labels, "visits": [5] * 10})
    trs = pl.DataFrame(schema={"source": pl.String, "target": pl.String, "count": pl.Int64, "designed": pl.Boolean})
    nodes, _ = overlay_graph(chat_phone_map(), tps, trs)
    grid = {n["id"]: (n["x"], n["y"]) for n in nodes if n["id"] in labels}
    # Columns of eight rows 90 px apart, 240 px apart after the last stage.
    assert grid["raw 0"] == (480, 0)
    assert grid["raw 7"] == (480, 630)
    assert grid["raw 8"] == (720, 0)
    assert grid["raw 9"] == (720, 90)


def test_only_the_busiest_unmapped_labels_are_drawn_and_the_header_says_so() -> None:
    labels = [f"raw {i:02d}" for i in range(30)]
    tps = pl.DataFrame({"touchpoint": labels, "visits": list(range(100, 70, -1))})
    trs = pl.DataFrame(
        {"source": ["raw 00", "raw 29"], "target": ["browse", "browse"], "count": [3, 4], "designed": [False, False]}
    )
    nodes, edges = overlay_graph(chat_phone_map(), tps, trs)
    drawn = [n["id"] for n in nodes if n["id"] in labels]
    assert drawn == labels[:UNMAPPED_SHOWN]  # the busiest, busiest first
    header = next(n for n in nodes if n["id"] == "header:unmapped")
    assert header["label"] == f"Not on the map: 30 activities (busiest {UNMAPPED_SHOWN} shown)"
    unmapped_edges = [(e["source"], e["target"]) for e in edges if e["source"] in labels]
    assert unmapped_edges == [("raw 00", "browse")]  # raw 29 is not drawn


def test_timeline_unmasks_to_the_raw_identifier_when_the_log_has_one() -> None:
    ev = pl.DataFrame(
        {
            "journey": [4, 4, 5],
            "customer": [9, 9, 2],
            "ts": [datetime(2024, 1, 1), datetime(2024, 1, 2), datetime(2024, 1, 3)],
            "touchpoint": [1, 0, 0],
            "channel": [0, 0, 0],
            "customer_id": pl.Series(["ana@example.org", "ana@example.org", "bo"], dtype=pl.Categorical),
        }
    )
    labels = {"touchpoint_labels": ("a", "b"), "channel_labels": ("web",)}
    shown = timeline_events(ev, [4, 5], mask=False, **labels)  # type: ignore[arg-type]
    assert shown.get_column("customer").to_list() == ["ana@example.org", "ana@example.org", "bo"]
    masked = timeline_events(ev, [4], mask=True, **labels)  # type: ignore[arg-type]
    assert masked.get_column("customer").to_list() == [mask_id(9)] * 2
