"""compute_overlay wiring, journey filters and prepared reuse on the hand-made log."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from journeymap.errors import UserInputError
from journeymap.events.log import EventLog
from journeymap.events.overlay import compute_overlay, journey_mask, prepare_overlay
from journeymap.events.settings import OverlaySettings
from tests.unit.events.events_fixtures import T0, shop_map, three_customers_log

H = 3600.0

# Journeys of three_customers_log: 0 = A 0h-5h (web, phone), 1 = A 6h, 2 = B 0h-2h (web, phone),
# 3 = B 242h, 4 = C 100h-103h.
#
# Its three moves that switch channel, each also a handoff between ecom (web) and care (phone), and
# their signs of lost context with shop_map (cart → call is designed, partial; nobody identifies, so
# nobody re-identifies; only the phone is assisted and no customer calls twice):
#   M1 A cart (1h, web) → call (3h, phone): cart comes back at 4h (repeated step); the next channel
#      change goes back to the web 1 h later along call → cart, not on the map (bounce); journey 0
#      converted (no abandon) → 0.25 + 0.15 = 0.4.
#   M2 A call (3h) → cart (4h, web), back to the web and ecom: cart was done at 1h (repeated step),
#      no channel change after → 0.25.
#   M3 B home (0h, web) → call (2h, phone): journey 2 ends there abandoned (abandon) → 0.2.
# web → phone (M1, M3): rates (repeat step, re-identify, bounce, repeat contact, abandon) 0.5, 0, 0.5, 0,
# 0.5, score 0.125 + 0.075 + 0.1 = 0.3; phone → web (M2): 1, 0, 0, 0, 0, score 0.25.


def _with_segment(log: EventLog) -> EventLog:
    segment = pl.Series("attr_segment", ["gold"] * 6 + ["silver"] * 3 + ["gold"] * 3).cast(pl.Categorical)
    return EventLog(log.events.with_columns(segment), log.touchpoints, log.channels, log.owners, log.source)


def test_filters_keep_whole_journeys_by_start_channel_and_segment() -> None:
    prepared = prepare_overlay(_with_segment(three_customers_log()), shop_map(), OverlaySettings())
    by_date = journey_mask(prepared, OverlaySettings(start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=101)))
    assert by_date is not None and by_date.tolist() == [False, True, False, False, True]
    by_channel = journey_mask(prepared, OverlaySettings(channels=("phone",)))
    assert by_channel is not None and by_channel.tolist() == [True, False, True, False, False]
    by_segment = journey_mask(prepared, OverlaySettings(attribute_filters=(("segment", ("silver",)),)))
    assert by_segment is not None and by_segment.tolist() == [False, False, True, True, False]
    both = journey_mask(prepared, OverlaySettings(channels=("phone",), attribute_filters=(("segment", ("gold",)),)))
    assert both is not None and both.tolist() == [True, False, False, False, False]
    assert journey_mask(prepared, OverlaySettings(min_volume=4)) is None


def test_a_date_range_keeps_journeys_whole() -> None:
    """Journey 0 starts inside the range and ends after it: all five of its events count."""
    overlay = compute_overlay(three_customers_log(), shop_map(), OverlaySettings(end=T0 + timedelta(hours=2)))
    assert overlay.journeys["journey"].to_list() == [0, 2]
    assert overlay.journeys["events"].to_list() == [5, 2]
    assert overlay.journeys["outcome"].to_list() == ["converted", "abandoned"]
    assert overlay.log.events["seq"].to_list() == [1, 2, 3, 4, 5, 7, 8]
    assert overlay.kpis.journeys == 2 and overlay.kpis.customers == 2


def test_unknown_attribute_names_it() -> None:
    prepared = prepare_overlay(three_customers_log(), None, OverlaySettings())
    with pytest.raises(UserInputError, match=r"^three\.csv, attribute 'region': is not an attribute of this event log"):
        journey_mask(prepared, OverlaySettings(attribute_filters=(("region", ("EU",)),)))


def test_compute_overlay_returns_every_frame() -> None:
    calls: list[str] = []
    overlay = compute_overlay(three_customers_log(), shop_map(), OverlaySettings(), on_phase=calls.append)
    assert calls == [
        "journeys",
        "prepare",
        "filter",
        "touchpoint metrics",
        "transition metrics",
        "switch matrices",
        "silo handoffs",
        "friction",
        "conformance",
        "kpis",
    ]
    assert overlay.journeys.height == 5
    assert overlay.touchpoints["touchpoint"].to_list() == ["home", "cart", "call", "buy"]
    assert overlay.transitions.height == 6
    # from, to, count, customers, journeys, ping-pong, median wait (M1 2 h, M3 2 h; M2 1 h), then the rates.
    assert overlay.switch_matrix.rows() == [
        ("web", "phone", 2, 2, 2, 0, 2 * H, 0.5, 0.0, 0.5, 0.0, 0.5, 0.3),
        ("phone", "web", 1, 1, 1, 1, H, 1.0, 0.0, 0.0, 0.0, 0.0, 0.25),
    ]
    team_pairs = overlay.team_switch_matrix.select(
        "from_team", "to_team", "count", "journeys", "ping_pong", "median_wait_s", "context_loss_score"
    )
    assert team_pairs.rows() == [("ecom", "care", 2, 2, 0, 2 * H, 0.3), ("care", "ecom", 1, 1, 1, H, 0.25)]
    # care: the 2 calls, handed 2 in (M1, M3) and 1 out (M2), waits 2 h and 2 h; ecom: the other 10 events,
    # 1 in (M2, a return), 2 out, wait 1 h. Both have 3 handoffs: by name.
    assert overlay.teams.rows() == [("care", 2, 2, 1, 0, 2 * H), ("ecom", 10, 1, 2, 1, H)]
    # Silo places, by score: M1 0.4, M2 0.25, M3 0.2.
    assert overlay.silo_handoffs.select("source", "target", "count", "channel_switches", "team_handoffs",
                                        "context_loss_score", "declared_carry", "headline").rows() == [
        ("cart", "call", 1, 1, 1, 0.4, "partial", True),
        ("call", "cart", 1, 1, 1, 0.25, None, False),
        ("home", "call", 1, 1, 1, 0.2, None, False),
    ]  # fmt: skip
    # The map's one designed handoff, cart → call (web → phone, ecom → care), declared partial: M1 shows
    # 0.4 ≥ 0.30 over 1 move.
    assert overlay.designed_handoffs.rows() == [
        ("cart", "call", "channel and team", "partial", 1, 1, 1, 1.0, 0.0, 1.0, 0.0, 0.0, 0.4, True)
    ]
    assert overlay.conformance is not None
    assert overlay.kpis.journeys == 5 and overlay.kpis.customers == 3
    # Switches 2, 0, 1, 0, 0 (handoffs the same): 3 / 5 per journey, 2 of 5 journeys, 1 of 3 returns.
    assert (overlay.kpis.switches_per_journey, overlay.kpis.switch_journey_share) == (0.6, 0.4)
    assert (overlay.kpis.handoffs_per_journey, overlay.kpis.handoff_journey_share) == (0.6, 0.4)
    assert overlay.kpis.switch_ping_pong_share == overlay.kpis.handoff_ping_pong_share == pytest.approx(1 / 3)
    assert set(overlay.frames()) >= {
        "journeys",
        "touchpoints",
        "transitions",
        "channel_switch_matrix",
        "team_switch_matrix",
        "teams",
        "silo_handoffs",
        "designed_handoffs",
        "friction",
        "kpis",
    }
    assert "journey" in overlay.log.events.columns


def test_compute_overlay_without_map_and_with_filters() -> None:
    overlay = compute_overlay(three_customers_log(), None, OverlaySettings(channels=("phone",)))
    assert overlay.conformance is None
    assert overlay.journeys["events"].to_list() == [5, 2]
    # Journeys 0 and 2 hold all three switches; without the map call → cart is still off any design and
    # "phone" is assisted by its name, so the rates are those with the map.
    assert overlay.switch_matrix.rows() == [
        ("web", "phone", 2, 2, 2, 0, 2 * H, 0.5, 0.0, 0.5, 0.0, 0.5, 0.3),
        ("phone", "web", 1, 1, 1, 1, H, 1.0, 0.0, 0.0, 0.0, 0.0, 0.25),
    ]
    assert overlay.designed_handoffs.height == 0
    assert dict(overlay.kpis.channel_engagement) == {"phone": 1.0, "web": 1.0}


@pytest.mark.parametrize(
    ("filters", "kept_seqs"),
    [
        ({"channels": ("phone",)}, [1, 2, 3, 4, 5, 7, 8]),  # 2 of 5 journeys: counted directly
        ({"end": T0 + timedelta(hours=200)}, [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]),  # 4 of 5: all minus dropped
    ],
)
def test_a_filter_counts_the_kept_journeys_as_if_they_were_alone(filters: dict[str, Any], kept_seqs: list[int]) -> None:
    """The filtered overlay equals the overlay of a log holding only the kept journeys' events."""
    settings = OverlaySettings(ongoing_after=T0 + timedelta(hours=200))
    log = three_customers_log()
    filtered = compute_overlay(log, shop_map(), replace(settings, **filters))
    alone = EventLog(log.events.filter(pl.col("seq").is_in(kept_seqs)), log.touchpoints, log.channels, log.owners)
    expected = compute_overlay(alone, shop_map(), settings)
    for name in (
        "touchpoints",
        "transitions",
        "switch_matrix",
        "team_switch_matrix",
        "teams",
        "silo_handoffs",
        "designed_handoffs",
        "friction",
    ):
        assert_frame_equal(getattr(filtered, name), getattr(expected, name))
    assert filtered.kpis == expected.kpis
    assert filtered.conformance is not None and expected.conformance is not None
    assert filtered.conformance.conforming_journey_share == expected.conformance.conforming_journey_share


def test_a_prepared_overlay_gives_the_same_figures_as_a_fresh_one() -> None:
    log, settings = three_customers_log(), OverlaySettings(start=T0 + timedelta(hours=50), min_volume=1)
    prepared = prepare_overlay(log, shop_map(), OverlaySettings())
    again = compute_overlay(log, shop_map(), settings, prepared=prepared)
    fresh = compute_overlay(log, shop_map(), settings)
    assert again.prepared is prepared
    assert again.journeys["journey"].to_list() == [3, 4]
    for name in ("journeys", "touchpoints", "transitions", "silo_handoffs", "friction"):
        assert_frame_equal(getattr(again, name), getattr(fresh, name))
    assert again.kpis == fresh.kpis


def test_a_filter_that_keeps_nothing_gives_empty_frames() -> None:
    overlay = compute_overlay(three_customers_log(), shop_map(), OverlaySettings(channels=("fax",)))
    assert (overlay.journeys.height, overlay.touchpoints.height, overlay.transitions.height) == (0, 0, 0)
    assert overlay.silo_handoffs.height == 0 and overlay.friction.height == 0
    assert overlay.journeys.columns[:3] == ["journey", "customer", "start"]
    assert overlay.kpis.journeys == 0 and overlay.kpis.customers == 0
    assert overlay.log.events.height == 0
