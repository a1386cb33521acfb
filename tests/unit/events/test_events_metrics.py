"""Journeys, touchpoint and transition metrics and the switch matrix on a log worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from journeymap.events.journeys import cut_journeys
from journeymap.events.metrics import channel_switch_matrix, prepare, touchpoint_metrics, transition_metrics
from journeymap.events.settings import OverlaySettings
from tests.unit.events.events_fixtures import T0, shop_map, three_customers_log

H = 3600.0


@pytest.fixture
def cut() -> tuple[object, pl.DataFrame]:
    return cut_journeys(three_customers_log(), OverlaySettings())


def test_journeys_are_cut_by_goal_and_gap(cut: tuple[object, pl.DataFrame]) -> None:
    log, journeys = cut
    assert log.events["journey"].to_list() == [0, 0, 0, 0, 0, 1, 2, 2, 3, 4, 4, 4]  # type: ignore[attr-defined]
    assert log.events["step"].to_list() == [0, 1, 2, 3, 4, 0, 0, 1, 0, 0, 1, 2]  # type: ignore[attr-defined]
    assert journeys.select(
        "journey",
        "customer",
        "events",
        "touchpoints",
        "channels",
        "switches",
        "outcome",
        "first_touchpoint",
        "last_touchpoint",
    ).rows() == [
        (0, 0, 5, 4, 2, 2, "converted", "home", "buy"),
        (1, 0, 1, 1, 1, 0, "abandoned", "home", "home"),
        (2, 1, 2, 2, 2, 1, "abandoned", "home", "call"),
        (3, 1, 1, 1, 1, 0, "ongoing", "home", "home"),
        (4, 2, 3, 2, 1, 0, "abandoned", "home", "cart"),
    ]
    # A: cart → call (web → phone, ecom → care), then call → cart back to the web and ecom of steps 0-1
    # (1 + 2 + 4 + 8 = 15); B: home → call (1 + 2).
    assert log.events["moved"].to_list() == [0, 0, 3, 15, 0, 0, 0, 3, 0, 0, 0, 0]  # type: ignore[attr-defined]
    assert journeys.select("switches", "team_handoffs", "channel_ping_pong", "team_ping_pong").rows() == [
        (2, 2, 1, 1),
        (0, 0, 0, 0),
        (1, 1, 0, 0),
        (0, 0, 0, 0),
        (0, 0, 0, 0),
    ]
    assert journeys["start"][4] == T0 + timedelta(hours=100)
    assert journeys["end"][4] == T0 + timedelta(hours=103)


def test_gap_and_goal_settings_change_the_cut() -> None:
    # A 100-day gap joins B's two visits; making "call" a goal ends A's first journey at the call.
    _, journeys = cut_journeys(three_customers_log(), OverlaySettings(gap=timedelta(days=100)))
    assert journeys["events"].to_list() == [5, 1, 3, 3]
    _, journeys = cut_journeys(three_customers_log(), OverlaySettings(goal_touchpoints=("call",)))
    assert journeys["events"].to_list() == [3, 2, 1, 2, 1, 3]
    assert journeys["outcome"].to_list() == ["converted", "converted", "abandoned", "converted", "ongoing", "abandoned"]


def test_explicit_ongoing_after() -> None:
    settings = OverlaySettings(ongoing_after=T0 + timedelta(hours=6))
    _, journeys = cut_journeys(three_customers_log(), settings)
    assert journeys["outcome"].to_list() == ["converted", "ongoing", "abandoned", "ongoing", "ongoing"]


def test_touchpoint_metrics_by_hand(cut: tuple[object, pl.DataFrame]) -> None:
    log, journeys = cut
    tp = touchpoint_metrics(log, journeys, OverlaySettings())  # type: ignore[arg-type]
    assert tp.columns == [
        "touchpoint", "channel", "channel_mix", "visits", "customers", "journeys_started", "journeys_ended",
        "dropoffs", "dropoff_rate", "repeats", "repeat_rate", "dwell_median_s", "dwell_p90_s", "sentiment_mean",
    ]  # fmt: skip
    # Every touchpoint of this log is done in one channel only.
    assert tp.rows() == [
        ("home", "web", "web 100%", 5, 3, 5, 2, 1, 0.2, 0, 0.0, H, 1.8 * H, None),
        ("cart", "web", "web 100%", 4, 2, 0, 1, 1, 0.5, 2, 0.5, 2 * H, 2 * H, None),
        ("call", "phone", "phone 100%", 2, 2, 0, 1, 1, 0.5, 0, 0.0, H, H, 3.0),
        ("buy", "web", "web 100%", 1, 1, 0, 1, 0, 0.0, 0, 0.0, None, None, None),
    ]


def test_transition_metrics_by_hand(cut: tuple[object, pl.DataFrame]) -> None:
    log, journeys = cut
    tr = transition_metrics(log, journeys, shop_map(), OverlaySettings())  # type: ignore[arg-type]
    assert tr.columns == [
        "source", "target", "source_channel", "target_channel", "count", "customers", "journeys", "median_s",
        "p90_s", "conversion_share", "channel_switches", "team_handoffs", "cross_channel", "cross_owner",
        "designed", "declared_carry",
    ]  # fmt: skip
    # The moves web → phone (A cart → call, B home → call) and phone → web (A call → cart) each switch
    # channel and, the phone being care's and the web ecom's, hand off to the other team.
    assert tr.rows() == [
        ("home", "cart", "web", "web", 2, 2, 2, H, H, 0.5, 0, 0, False, False, True, "full"),
        ("call", "cart", "phone", "web", 1, 1, 1, H, H, 1.0, 1, 1, True, True, False, None),
        ("cart", "buy", "web", "web", 1, 1, 1, H, H, 1.0, 0, 0, False, False, True, "full"),
        ("cart", "call", "web", "phone", 1, 1, 1, 2 * H, 2 * H, 1.0, 1, 1, True, True, True, "partial"),
        ("cart", "cart", "web", "web", 1, 1, 1, 2 * H, 2 * H, 0.0, 0, 0, False, False, False, None),
        ("home", "call", "web", "phone", 1, 1, 1, 2 * H, 2 * H, 0.0, 1, 1, True, True, False, None),
    ]
    # Without a map nothing is designed.
    bare = transition_metrics(log, journeys, None, OverlaySettings())  # type: ignore[arg-type]
    assert not bare["designed"].any()
    assert bare["declared_carry"].null_count() == bare.height


def test_transition_counts_never_exceed_events(cut: tuple[object, pl.DataFrame]) -> None:
    log, journeys = cut
    tr = transition_metrics(log, journeys, None, OverlaySettings())  # type: ignore[arg-type]
    # Transitions = events - journeys (each journey of n events has n-1 moves).
    assert tr["count"].sum() == 12 - 5


def test_switch_matrix_by_hand(cut: tuple[object, pl.DataFrame]) -> None:
    log, journeys = cut
    # web → phone: A cart (1h) → call (3h) and B home (0h) → call (2h): 2 moves, 2 customers, 2 journeys,
    # no return, median wait 2 h. phone → web: A call (3h) → cart (4h), back to the web it had left: 1 h.
    assert channel_switch_matrix(prepare(log, journeys)).rows() == [  # type: ignore[arg-type]
        ("web", "phone", 2, 2, 2, 0, 2 * H),
        ("phone", "web", 1, 1, 1, 1, H),
    ]


def test_multi_customer_repeats_and_distinct_counts() -> None:
    # A transition taken twice in one journey counts once in journeys, twice in count.
    log = three_customers_log()
    events = log.events.with_columns(
        pl.when(pl.col("seq") == 3).then(pl.lit(3, pl.UInt32)).otherwise(pl.col("touchpoint")).alias("touchpoint")
    )  # A: home, cart, home (was call), cart, buy
    log2 = type(log)(events, log.touchpoints, log.channels, log.owners)
    cut_log, journeys = cut_journeys(log2, OverlaySettings())
    tr = transition_metrics(cut_log, journeys, None, OverlaySettings())
    row = tr.filter((pl.col("source") == "home") & (pl.col("target") == "cart"))
    assert row.select("count", "customers", "journeys").row(0) == (3, 2, 2)
    tp = touchpoint_metrics(cut_log, journeys, OverlaySettings())
    home = tp.filter(pl.col("touchpoint") == "home")
    assert home.select("visits", "repeats").row(0) == (6, 1)
