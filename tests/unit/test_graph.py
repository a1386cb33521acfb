"""Structural analysis on the named fixtures; every expected value is read off the map by hand."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from journeymap.graph import (
    SWITCH_MATRIX_COLUMNS,
    Handoff,
    analyze_structure,
    designed_integration_factor,
    designed_switch_matrix,
    entry_touchpoints,
    find_dead_ends,
    find_empty_stages,
    find_handoffs,
    find_silo_handoffs,
    find_unreachable,
    to_digraph,
)
from journeymap.model import Channel, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from tests.fixtures import big_map, bopis_map, linear_journey

BOPIS_HANDOFFS = [
    # source, target, cross_channel, cross_owner, carry
    ("search", "stock-check", True, False, "partial"),
    ("stock-check", "checkout", True, False, "full"),
    ("checkout", "ready-notice", True, False, "full"),
    ("ready-notice", "pickup-desk", True, True, "none"),
    ("ready-notice", "order-help", True, True, "partial"),
    ("order-help", "pickup-desk", True, True, "none"),
    ("curbside", "pickup-desk", False, True, "full"),
]


def _summary(handoffs: list[Handoff] | tuple[Handoff, ...]) -> list[tuple[str, str, bool, bool, str]]:
    return [(h.source, h.target, h.cross_channel, h.cross_owner, h.context_carry) for h in handoffs]


def _four_switch_map() -> JourneyMap:
    """Two channels, four cross-channel transitions: 2 full, 1 partial, 1 none; one same-channel none."""
    tps = [("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")]
    return JourneyMap(
        name="Four switches",
        stages=(Stage(id="s", name="S"),),
        channels=(Channel(id="a", name="A"), Channel(id="b", name="B")),
        touchpoints=tuple(Touchpoint(id=i, name=i.upper(), channel=c, stage="s") for i, c in tps),
        transitions=(
            Transition(source="a1", target="b1", context_carry=ContextCarry.FULL),
            Transition(source="a2", target="b2", context_carry=ContextCarry.FULL),
            Transition(source="b1", target="a2", context_carry=ContextCarry.PARTIAL),
            Transition(source="b2", target="a1", context_carry=ContextCarry.NONE),
            Transition(source="a1", target="a2", context_carry=ContextCarry.NONE),
        ),
    )


def test_to_digraph_node_attributes() -> None:
    g = to_digraph(bopis_map())
    assert list(g.nodes) == [
        "search",
        "stock-check",
        "checkout",
        "delivery-faq",
        "ready-notice",
        "pickup-desk",
        "order-help",
        "curbside",
    ]
    assert g.nodes["pickup-desk"] == {
        "name": "Pick-up desk",
        "channel": "store",
        "channel_name": "Store",
        "channel_kind": "physical",
        "stage": "collect",
        "stage_index": 3,
        "owner": "Fulfilment",
        "is_final": True,
        "requires_identification": True,
        "emotion": -1,
    }
    assert g.nodes["curbside"]["owner"] == "Store operations"
    assert g.nodes["search"]["stage_index"] == 0


def test_to_digraph_edge_attributes() -> None:
    g = to_digraph(bopis_map())
    assert g.number_of_edges() == 9
    assert g.edges["ready-notice", "pickup-desk"] == {
        "context_carry": "none",
        "note": "Desk cannot see the order",
        "cross_channel": True,
        "cross_owner": True,
        "is_handoff": True,
    }
    assert g.edges["search", "checkout"] == {
        "context_carry": "full",
        "note": "",
        "cross_channel": False,
        "cross_owner": False,
        "is_handoff": False,
    }
    assert g.edges["curbside", "pickup-desk"]["is_handoff"] is True
    assert g.edges["curbside", "pickup-desk"]["cross_channel"] is False


def test_to_digraph_does_not_change_the_map() -> None:
    m = bopis_map()
    before = m.model_dump()
    g = to_digraph(m)
    g.remove_node("search")
    assert m.model_dump() == before


def test_find_handoffs_bopis() -> None:
    assert _summary(find_handoffs(bopis_map())) == BOPIS_HANDOFFS


def test_find_handoffs_full_record() -> None:
    first = find_handoffs(bopis_map())[3]
    assert first == Handoff(
        source="ready-notice",
        target="pickup-desk",
        source_name="Ready-for-pickup notice",
        target_name="Pick-up desk",
        source_channel="Mobile app",
        target_channel="Store",
        source_owner="E-commerce",
        target_owner="Fulfilment",
        cross_channel=True,
        cross_owner=True,
        context_carry="none",
        note="Desk cannot see the order",
    )
    assert first.is_silo is True


def test_find_silo_handoffs_bopis() -> None:
    assert [(h.source, h.target) for h in find_silo_handoffs(bopis_map())] == [
        ("ready-notice", "pickup-desk"),
        ("order-help", "pickup-desk"),
    ]


def test_same_channel_carry_none_is_not_a_silo_handoff() -> None:
    m = _four_switch_map()
    assert [(h.source, h.target) for h in find_silo_handoffs(m)] == [("b2", "a1")]


def test_linear_journey_has_no_findings() -> None:
    m = linear_journey()
    assert find_handoffs(m) == []
    assert find_silo_handoffs(m) == []
    assert find_dead_ends(m) == []
    assert find_unreachable(m) == []
    assert find_empty_stages(m) == []
    assert designed_integration_factor(m) is None
    assert designed_switch_matrix(m).empty


def test_dead_ends_unreachable_empty_stages_bopis() -> None:
    m = bopis_map()
    assert find_dead_ends(m) == ["delivery-faq"]
    assert find_unreachable(m) == ["curbside"]
    assert find_empty_stages(m) == ["loyalty"]
    assert entry_touchpoints(m) == ["search"]


def test_final_touchpoint_is_never_a_dead_end() -> None:
    m = linear_journey()
    without_final = m.model_copy(
        update={"touchpoints": tuple(tp.model_copy(update={"is_final": False}) for tp in m.touchpoints)}
    )
    assert find_dead_ends(without_final) == ["confirmation"]


def test_entry_is_first_stage_with_touchpoints() -> None:
    m = linear_journey()
    shifted = m.model_copy(update={"stages": (Stage(id="pre", name="Before"), *m.stages)})
    assert entry_touchpoints(shifted) == ["landing"]
    assert find_unreachable(shifted) == []
    assert find_empty_stages(shifted) == ["pre"]


def test_unreachable_follows_paths_not_just_edges() -> None:
    m = linear_journey()
    # Drop landing -> cart: cart and everything after it can no longer be reached.
    cut = m.model_copy(update={"transitions": m.transitions[1:]})
    assert find_unreachable(cut) == ["cart", "confirmation"]


def test_empty_map() -> None:
    m = JourneyMap(name="Empty")
    assert entry_touchpoints(m) == []
    assert find_unreachable(m) == []
    report = analyze_structure(m)
    assert (report.touchpoints, report.transitions, report.channels) == (0, 0, 0)
    assert report.integration_factor is None


def test_designed_switch_matrix_bopis() -> None:
    frame = designed_switch_matrix(bopis_map())
    assert list(frame.columns) == list(SWITCH_MATRIX_COLUMNS)
    assert frame.to_dict("records") == [
        {"from_channel": "Website", "to_channel": "Mobile app", "transitions": 2, "full": 1, "partial": 1, "none": 0},
        {"from_channel": "Mobile app", "to_channel": "Website", "transitions": 1, "full": 1, "partial": 0, "none": 0},
        {"from_channel": "Mobile app", "to_channel": "Store", "transitions": 1, "full": 0, "partial": 0, "none": 1},
        {
            "from_channel": "Mobile app",
            "to_channel": "Call center",
            "transitions": 1,
            "full": 0,
            "partial": 1,
            "none": 0,
        },
        {"from_channel": "Call center", "to_channel": "Store", "transitions": 1, "full": 0, "partial": 0, "none": 1},
    ]
    assert [str(frame[c].dtype) for c in SWITCH_MATRIX_COLUMNS[2:]] == ["int64"] * 4


def test_designed_switch_matrix_empty_has_columns() -> None:
    frame = designed_switch_matrix(linear_journey())
    assert list(frame.columns) == list(SWITCH_MATRIX_COLUMNS)
    assert len(frame) == 0


def test_switch_matrix_names_channels_that_share_a_name_by_id() -> None:
    m = JourneyMap(
        name="Twins",
        stages=(Stage(id="s", name="S"),),
        channels=(Channel(id="app-ios", name="App"), Channel(id="app-android", name="App")),
        touchpoints=(
            Touchpoint(id="x", name="X", channel="app-ios", stage="s"),
            Touchpoint(id="y", name="Y", channel="app-android", stage="s"),
        ),
        transitions=(Transition(source="x", target="y"),),
    )
    assert designed_switch_matrix(m)[["from_channel", "to_channel"]].to_dict("records") == [
        {"from_channel": "App (app-ios)", "to_channel": "App (app-android)"}
    ]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (_four_switch_map, 0.625),  # (2 + 0.5) / 4; the same-channel transition is ignored
        (bopis_map, 0.5),  # (2 full + 2 partial / 2) / 6
        (linear_journey, None),
    ],
)
def test_designed_integration_factor(fixture: Callable[[], JourneyMap], expected: float | None) -> None:
    assert designed_integration_factor(fixture()) == expected


def test_analyze_structure_bopis() -> None:
    report = analyze_structure(bopis_map())
    assert _summary(report.handoffs) == BOPIS_HANDOFFS
    assert [(h.source, h.target) for h in report.silo_handoffs] == [
        ("ready-notice", "pickup-desk"),
        ("order-help", "pickup-desk"),
    ]
    assert report.dead_ends == ("delivery-faq",)
    assert report.unreachable == ("curbside",)
    assert report.empty_stages == ("loyalty",)
    assert report.integration_factor == 0.5
    assert (report.touchpoints, report.transitions, report.channels) == (8, 9, 4)
    pd.testing.assert_frame_equal(report.switch_matrix, designed_switch_matrix(bopis_map()))


def test_analyze_structure_agrees_with_single_functions_on_big_map() -> None:
    m = big_map(n_touchpoints=120, n_transitions=300, seed=3)
    report = analyze_structure(m)
    assert list(report.handoffs) == find_handoffs(m)
    assert list(report.silo_handoffs) == find_silo_handoffs(m)
    assert list(report.dead_ends) == find_dead_ends(m)
    assert list(report.unreachable) == find_unreachable(m)
    assert report.integration_factor == designed_integration_factor(m)
    assert (report.touchpoints, report.transitions) == (120, 300)


def test_big_map_is_deterministic() -> None:
    assert big_map(n_touchpoints=50, n_transitions=100, seed=7) == big_map(n_touchpoints=50, n_transitions=100, seed=7)
    assert big_map(n_touchpoints=50, n_transitions=100, seed=7) != big_map(n_touchpoints=50, n_transitions=100, seed=8)
    assert len(big_map().touchpoints) == 300
    assert len(big_map().transitions) == 1000
