"""Recommendations for the largest gaps, in order of impact and effort, with the map's elements."""

from __future__ import annotations

import pytest

from journeymap.maturity import Framework, find_gaps, load_builtin_framework, map_elements, recommend
from tests.unit.maturity.maturity_fixtures import returns_map, tiny_framework


@pytest.fixture
def tiny() -> Framework:
    return tiny_framework()


def test_gaps_are_positive_and_largest_first(tiny: Framework) -> None:
    gaps = find_gaps(tiny, {"data": 1.5, "tone": 1.0}, {"data": 4, "tone": 4})
    assert [(g.dimension_id, g.gap) for g in gaps] == [("tone", 3.0), ("data", 2.5)]
    assert find_gaps(tiny, {"data": 4.0}, {"data": 4, "tone": 3}) == ()  # reached; tone not assessed


def test_recommendations_cover_the_way_up_ordered_by_impact_then_effort(tiny: Framework) -> None:
    actions = recommend(tiny, {"data": 2.0, "tone": 1.0}, {"data": 5, "tone": 2})
    assert [a.recommendation.id for a in actions] == [
        "data_low",  # high impact, medium effort
        "data_mid",  # high, high
        "tone_guide",  # medium, low
        "data_top",  # low, high
    ]
    assert all(a.elements == () for a in actions)  # no map given


def test_a_recommendation_below_the_current_level_is_skipped(tiny: Framework) -> None:
    actions = recommend(tiny, {"data": 3.0}, {"data": 4})
    assert [a.recommendation.id for a in actions] == ["data_mid"]


def test_fractional_current_level_keeps_the_step_it_is_inside(tiny: Framework) -> None:
    actions = recommend(tiny, {"data": 2.5}, {"data": 4})
    assert [a.recommendation.id for a in actions] == ["data_low", "data_mid"]


def test_largest_keeps_only_the_biggest_gaps(tiny: Framework) -> None:
    # gaps: data 3 → 5 (2), tone 1 → 2 (1); only data is kept
    actions = recommend(tiny, {"data": 3.0, "tone": 1.0}, {"data": 5, "tone": 2}, largest=1)
    assert [a.recommendation.id for a in actions] == ["data_mid", "data_top"]


def test_equal_impact_and_effort_larger_gap_first() -> None:
    fw = load_builtin_framework()
    actions = recommend(
        fw, {"data_integration": 1.0, "channel_switching": 2.0}, {"data_integration": 3, "channel_switching": 3}
    )
    assert [a.recommendation.id for a in actions] == ["di_carry_none", "cs_fix_silo_handoffs"]


def test_recommendations_list_the_selected_maps_elements() -> None:
    fw = load_builtin_framework()
    actions = recommend(
        fw, {"channel_switching": 2.0}, {"channel_switching": 3}, map_elements=map_elements(returns_map())
    )
    (action,) = actions
    assert action.recommendation.id == "cs_fix_silo_handoffs"
    assert action.elements == (
        ("handoffs with carry none", ("Return form (Website) → Return call (Call center), carry none",)),
    )
