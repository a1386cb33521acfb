"""Conformance of the support log against the support map (see ``analysis_fixtures``)."""

from __future__ import annotations

import polars as pl

from journeymap.analysis.conformance import check_conformance
from tests.unit.analysis.analysis_fixtures import support_journeys, support_log, support_map, support_transitions


def test_conformance_by_hand() -> None:
    got = check_conformance(support_log(), support_journeys(), support_transitions(), support_map())
    # 'verify' is not on the map, so call → verify and verify → faq are undesigned.
    assert got.undesigned.rows() == [("call", "verify", 1), ("verify", "faq", 1)]
    assert got.unobserved == [("faq", "login")]
    # Journey 0 takes call → verify; journey 1 (faq → chat → faq) and journey 2 (call → call) conform.
    assert got.conforming_journey_share == 2 / 3
    assert got.unknown_touchpoints.rows() == [("verify", 1)]
    assert got.unknown_touchpoints.columns == ["label", "count"]


def test_undesigned_sorted_by_count() -> None:
    transitions = support_transitions().with_columns(designed=False)
    got = check_conformance(support_log(), support_journeys(), transitions, support_map())
    assert got.undesigned.rows()[0] == ("faq", "chat", 2)
    assert got.undesigned.height == 7


def test_no_journeys() -> None:
    log = support_log()
    empty_log = type(log)(log.events.clear(), log.touchpoints, log.channels, log.owners)
    got = check_conformance(empty_log, support_journeys().clear(), support_transitions().clear(), support_map())
    assert got.conforming_journey_share is None  # no journey: nothing to say, not 0 %
    assert got.unobserved == [(t.source, t.target) for t in support_map().transitions]
    assert got.unknown_touchpoints.height == 0


def test_a_map_without_transitions_gives_no_share() -> None:
    """Nothing to follow: no percentage, however many single-event journeys there are."""
    bare = support_map().model_copy(update={"transitions": ()})
    got = check_conformance(support_log(), support_journeys(), support_transitions(), bare)
    assert got.conforming_journey_share is None


def test_single_event_journeys_are_not_counted() -> None:
    """Two journeys that move (one off the map) and one single-event journey: 1 of 2 conforms, not 2 of 3."""
    journeys = support_journeys().with_columns(events=pl.Series([6, 3, 1], dtype=pl.UInt32))
    log = support_log()
    moving = log.events.filter(pl.col("journey") != 2)
    single = log.events.filter(pl.col("journey") == 2).head(1)
    trimmed = type(log)(pl.concat([moving, single]), log.touchpoints, log.channels, log.owners)
    got = check_conformance(trimmed, journeys, support_transitions(), support_map())
    assert got.conforming_journey_share == 1 / 2
