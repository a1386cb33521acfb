"""compute_overlay wiring and filter_log on the hand-made log."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from journeymap.errors import UserInputError
from journeymap.events.log import EventLog
from journeymap.events.overlay import compute_overlay, filter_log
from journeymap.events.settings import OverlaySettings
from tests.unit.events.events_fixtures import T0, shop_map, three_customers_log


def _with_segment(log: EventLog) -> EventLog:
    segment = pl.Series("attr_segment", ["gold"] * 6 + ["silver"] * 3 + ["gold"] * 3).cast(pl.Categorical)
    return EventLog(log.events.with_columns(segment), log.touchpoints, log.channels, log.owners, log.source)


def test_filter_by_dates_channels_and_attributes() -> None:
    log = _with_segment(three_customers_log())
    by_date = filter_log(log, OverlaySettings(start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=101)))
    assert by_date.events["seq"].to_list() == [3, 4, 5, 6, 8, 10]
    by_channel = filter_log(log, OverlaySettings(channels=("phone",)))
    assert by_channel.events["seq"].to_list() == [3, 8]
    by_segment = filter_log(log, OverlaySettings(attribute_filters=(("segment", ("silver",)),)))
    assert by_segment.events["seq"].to_list() == [7, 8, 9]
    assert by_segment.touchpoints == log.touchpoints
    assert filter_log(log, OverlaySettings()) is log


def test_unknown_attribute_names_it() -> None:
    with pytest.raises(UserInputError, match=r"^three\.csv, attribute 'region': is not an attribute of this event log"):
        filter_log(three_customers_log(), OverlaySettings(attribute_filters=(("region", ("EU",)),)))


def test_compute_overlay_returns_every_frame() -> None:
    calls: list[str] = []
    overlay = compute_overlay(three_customers_log(), shop_map(), OverlaySettings(), on_phase=calls.append)
    assert calls == [
        "filter",
        "journeys",
        "touchpoint metrics",
        "transition metrics",
        "silo handoffs",
        "friction",
        "conformance",
        "kpis",
    ]
    assert overlay.journeys.height == 5
    assert overlay.touchpoints["touchpoint"].to_list() == ["home", "cart", "call", "buy"]
    assert overlay.transitions.height == 6
    assert overlay.switch_matrix.rows() == [("web", "phone", 2, 2), ("phone", "web", 1, 1)]
    assert overlay.conformance is not None
    assert overlay.kpis.journeys == 5 and overlay.kpis.customers == 3
    assert set(overlay.frames()) >= {"journeys", "touchpoints", "transitions", "switch_matrix", "friction", "kpis"}
    assert "journey" in overlay.log.events.columns


def test_compute_overlay_without_map_and_with_filters() -> None:
    overlay = compute_overlay(three_customers_log(), None, OverlaySettings(channels=("web",)))
    assert overlay.conformance is None
    assert overlay.switch_matrix.height == 0
    assert overlay.journeys["events"].to_list() == [4, 1, 1, 1, 3]


def test_a_filter_that_keeps_nothing_gives_empty_frames() -> None:
    overlay = compute_overlay(three_customers_log(), shop_map(), OverlaySettings(channels=("fax",)))
    assert (overlay.journeys.height, overlay.touchpoints.height, overlay.transitions.height) == (0, 0, 0)
    assert overlay.journeys.columns[:3] == ["journey", "customer", "start"]
    assert overlay.kpis.journeys == 0
