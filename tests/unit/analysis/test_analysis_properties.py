"""Invariants of the analyses on random small logs (cut and measured by the engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.analysis.friction import FRICTION_WEIGHTS, rank_friction
from journeymap.analysis.kpis import journey_kpis
from journeymap.analysis.silo import WEIGHTS, find_observed_silo_handoffs
from journeymap.events.journeys import cut_journeys
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.metrics import touchpoint_metrics, transition_metrics
from journeymap.events.settings import OverlaySettings

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TOUCHPOINTS = ("home", "cart", "call", "desk")
CHANNELS = ("web", "phone", "store")
CHANNEL_OF = (0, 0, 1, 2)

# (customer, minutes after the previous event of that customer, touchpoint, identified, converted)
event = st.tuples(
    st.integers(0, 3),
    st.integers(1, 6000),
    st.integers(0, len(TOUCHPOINTS) - 1),
    st.booleans(),
    st.sampled_from([False, False, False, True]),
)


def log_of(rows: list[tuple[int, int, int, bool, bool]]) -> EventLog:
    rows = sorted(rows, key=lambda r: r[0])
    clock: dict[int, datetime] = {}
    data = []
    for seq, (customer, minutes, tp, identified, converted) in enumerate(rows):
        clock[customer] = clock.get(customer, T0) + timedelta(minutes=minutes)
        data.append((customer, clock[customer], seq, tp, CHANNEL_OF[tp], CHANNEL_OF[tp], converted, identified))
    events = pl.DataFrame(
        {
            "customer": [d[0] for d in data],
            "ts": [d[1] for d in data],
            "seq": [d[2] for d in data],
            "touchpoint": [d[3] for d in data],
            "channel": [d[4] for d in data],
            "owner": [d[5] for d in data],
            "converted": [d[6] for d in data],
            "identified": [d[7] for d in data],
            "value": [None] * len(data),
            "sentiment": [None] * len(data),
        },
        schema=EVENT_SCHEMA,
    ).sort("customer", "ts", "seq")
    return EventLog(events, TOUCHPOINTS, CHANNELS, CHANNELS)


@settings(max_examples=60, deadline=None)
@given(st.lists(event, min_size=1, max_size=40))
def test_rates_scores_and_kpis_stay_in_range(rows: list[tuple[int, int, int, bool, bool]]) -> None:
    overlay_settings = OverlaySettings(goal_touchpoints=("desk",))
    log, journeys = cut_journeys(log_of(rows), overlay_settings)
    touchpoints = touchpoint_metrics(log, journeys, overlay_settings)
    transitions = transition_metrics(log, journeys, None, overlay_settings)
    silo = find_observed_silo_handoffs(log, journeys, None, overlay_settings)

    # Each touchpoint has one channel and each channel is its team here, so a touchpoint pair has one
    # channel pair and every channel switch is a team handoff: one silo row per cross-channel
    # transition, whose moves all switched and handed off. Every rate a share; the score their weighted sum.
    assert silo.height == transitions.filter(pl.col("cross_channel") | pl.col("cross_owner")).height
    assert silo["count"].sum() == journeys["switches"].sum() == journeys["team_handoffs"].sum()
    assert (silo["channel_switches"] == silo["count"]).all() and (silo["team_handoffs"] == silo["count"]).all()
    for rate in WEIGHTS:
        assert silo[rate].is_between(0.0, 1.0).all()
    expected = sum(silo[rate] * weight for rate, weight in WEIGHTS.items())
    assert ((silo["context_loss_score"] - expected).abs() < 1e-6).all()
    assert not silo["headline"].any()  # without a map nothing is declared

    friction = rank_friction(touchpoints, transitions, silo, overlay_settings)
    assert friction.height == touchpoints.height + transitions.height
    assert friction["score"].is_sorted(descending=True)
    for component in FRICTION_WEIGHTS:
        assert friction[component].drop_nulls().is_between(0.0, 5.0).all()

    kpis = journey_kpis(log, journeys, transitions, silo, None, overlay_settings)
    assert kpis.journeys == journeys.height
    for value in (kpis.completion_rate, kpis.repeat_contact_rate, kpis.measured_integration_factor):
        assert value is None or 0.0 <= value <= 1.0
