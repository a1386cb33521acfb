"""Conformance of the support log against the support map (see ``analysis_fixtures``)."""

from __future__ import annotations

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
    assert got.conforming_journey_share == 0.0
    assert got.unobserved == [(t.source, t.target) for t in support_map().transitions]
    assert got.unknown_touchpoints.height == 0
