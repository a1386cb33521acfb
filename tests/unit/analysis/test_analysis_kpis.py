"""Journey KPIs of the support log (see ``analysis_fixtures``), worked out on paper."""

from __future__ import annotations

import polars as pl
import pytest

from journeymap.analysis.kpis import JourneyKpis, journey_kpis
from journeymap.analysis.silo import find_observed_silo_handoffs
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from tests.unit.analysis.analysis_fixtures import support_journeys, support_log, support_map, support_transitions


def kpis_of_support(with_map: bool = False) -> JourneyKpis:
    log, journeys, transitions = support_log(), support_journeys(), support_transitions()
    journey_map = support_map() if with_map else None
    silo = find_observed_silo_handoffs(log, journeys, journey_map, OverlaySettings())
    return journey_kpis(log, journeys, transitions, silo, journey_map, OverlaySettings())


def test_kpis_by_hand() -> None:
    k = kpis_of_support()
    assert (k.journeys, k.customers) == (3, 2)
    assert k.completion_rate == 0.5  # 1 converted, 1 abandoned, 1 ongoing left out
    # Contacts (chat and phone are assisted by name): c0 chat 00:20, call 00:30 (verify 2 min later is
    # the same call); c1 chat 00:05, call day 5, call day 5 + 2h. Followed within 7 days: 3 of 5.
    assert k.repeat_contact_rate == 0.6
    assert k.first_contact_resolution == pytest.approx(0.4)
    assert (k.effort_steps, k.effort_switches) == (3.0, 2.0)
    # 1 - (2 × 0.45 + 0.7 + 0.45 + 0.4) / 5
    assert k.measured_integration_factor == pytest.approx(0.51)
    assert k.channel_engagement == (("web", 1.0), ("chat", 1.0), ("phone", 1.0))
    # (1 + 1 + 1) × 0.51 / 5 touchpoints
    assert k.omnichannel_effectiveness == pytest.approx(0.306)
    # Switches per journey 3, 2, 0 (A, B, C; D, E): 5 / 3 journeys, 2 of 3 journeys with one, and 2 of the
    # 5 return to the web (C, E). Each event's team is its channel's, so the handoffs are the same moves.
    assert (k.switches_per_journey, k.switch_journey_share, k.switch_ping_pong_share) == pytest.approx(
        (5 / 3, 2 / 3, 0.4)
    )
    assert (k.handoffs_per_journey, k.handoff_journey_share, k.handoff_ping_pong_share) == pytest.approx(
        (5 / 3, 2 / 3, 0.4)
    )


def test_team_kpis_need_a_team_column() -> None:
    log, journeys = support_log(), support_journeys()
    no_teams = EventLog(log.events.with_columns(owner=pl.lit(None, pl.UInt32)), log.touchpoints, log.channels, ())
    silo = find_observed_silo_handoffs(log, journeys, None, OverlaySettings())
    k = journey_kpis(no_teams, journeys, support_transitions(), silo, None, OverlaySettings())
    assert (k.handoffs_per_journey, k.handoff_journey_share, k.handoff_ping_pong_share) == (None, None, None)
    assert k.switches_per_journey == pytest.approx(5 / 3)


def test_map_channel_kinds_change_the_contacts() -> None:
    k = kpis_of_support(with_map=True)
    # Only phone is assisted: c0 call 00:30; c1 calls day 5 and day 5 + 2h → 1 of 3 followed.
    assert k.repeat_contact_rate == pytest.approx(1 / 3)


def test_as_dict_has_the_scalar_kpis() -> None:
    d = kpis_of_support().as_dict()
    assert list(d) == [
        "journeys",
        "customers",
        "completion_rate",
        "repeat_contact_rate",
        "first_contact_resolution",
        "effort_steps",
        "effort_switches",
        "measured_integration_factor",
        "omnichannel_effectiveness",
        "switches_per_journey",
        "switch_journey_share",
        "switch_ping_pong_share",
        "handoffs_per_journey",
        "handoff_journey_share",
        "handoff_ping_pong_share",
    ]
    assert d["completion_rate"] == 0.5


def test_empty_denominators_give_none() -> None:
    log, journeys, transitions = support_log(), support_journeys(), support_transitions()
    silo = find_observed_silo_handoffs(log, journeys, None, OverlaySettings()).clear()
    ongoing = journeys.with_columns(outcome=pl.lit("ongoing"))
    k = journey_kpis(log, ongoing, transitions, silo, None, OverlaySettings())
    assert (k.completion_rate, k.effort_steps, k.measured_integration_factor, k.omnichannel_effectiveness) == (
        None,
        None,
        None,
        None,
    )
    # No switch at all: the ping-pong shares have no denominator.
    moves = ("switches", "team_handoffs", "channel_ping_pong", "team_ping_pong")
    still = journeys.with_columns(pl.lit(0, pl.UInt32).alias(c) for c in moves)
    k = journey_kpis(log, still, transitions, silo, None, OverlaySettings())
    assert (k.switches_per_journey, k.switch_journey_share, k.switch_ping_pong_share) == (0.0, 0.0, None)
    assert (k.handoffs_per_journey, k.handoff_journey_share, k.handoff_ping_pong_share) == (0.0, 0.0, None)
