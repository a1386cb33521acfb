"""Journeys and metrics on random logs agree with a plain, obviously-correct Polars version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.events.journeys import cut_journeys
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.metrics import directly_follows, touchpoint_metrics, transition_metrics
from journeymap.events.settings import OverlaySettings

T0 = datetime(2024, 1, 1, tzinfo=UTC)
GAP = OverlaySettings(gap=timedelta(hours=10))

event = st.tuples(
    st.integers(0, 3),  # customer
    st.integers(0, 60),  # hour
    st.integers(0, 4),  # touchpoint
    st.integers(0, 2),  # channel
    st.booleans(),  # converted
)


def _log(rows: list[tuple[int, int, int, int, bool]]) -> EventLog:
    frame = pl.DataFrame(
        {
            "customer": [r[0] for r in rows],
            "ts": [T0 + timedelta(hours=r[1]) for r in rows],
            "seq": list(range(len(rows))),
            "touchpoint": [r[2] for r in rows],
            "channel": [r[3] for r in rows],
            "owner": [None] * len(rows),
            "converted": [r[4] and r[2] == 4 for r in rows],
            "identified": [False] * len(rows),
            "value": [None] * len(rows),
            "sentiment": [None] * len(rows),
        },
        schema=EVENT_SCHEMA,
    ).sort("customer", "ts", "seq")
    return EventLog(frame, ("a", "b", "c", "d", "e"), ("web", "app", "phone"), ())


def _reference(log: EventLog) -> pl.DataFrame:
    """Journey ids with a per-customer loop-free but simple formulation (group-wise shifts)."""
    ev = log.events.with_columns(
        prev_ts=pl.col("ts").shift(1).over("customer"),
        prev_goal=pl.col("converted").shift(1).over("customer"),
    )
    new = pl.col("prev_ts").is_null() | ((pl.col("ts") - pl.col("prev_ts")) > GAP.gap) | pl.col("prev_goal")
    return ev.with_columns(journey=(new.cum_sum() - 1).cast(pl.UInt32))


@settings(max_examples=60, deadline=None)
@given(st.lists(event, min_size=1, max_size=40))
def test_metrics_match_a_plain_reference(rows: list[tuple[int, int, int, int, bool]]) -> None:
    log = _log(rows)
    cut, journeys = cut_journeys(log, GAP)
    ref = _reference(log)
    assert cut.events["journey"].to_list() == ref["journey"].to_list()
    ev = cut.events

    per_journey = ev.group_by("journey").agg(
        pl.col("touchpoint").n_unique().alias("tps"), pl.col("channel").n_unique().alias("chs"), pl.len().alias("n")
    )
    expected = per_journey.sort("journey")
    assert journeys["touchpoints"].to_list() == expected["tps"].to_list()
    assert journeys["channels"].to_list() == expected["chs"].to_list()
    assert journeys["events"].to_list() == expected["n"].to_list()

    tp = touchpoint_metrics(cut, journeys, GAP)
    names = pl.Series(["a", "b", "c", "d", "e"])
    by_tp = (
        ev.group_by("touchpoint")
        .agg(
            pl.len().alias("visits"),
            pl.col("customer").n_unique().alias("customers"),
            (pl.len() - pl.col("journey").n_unique()).alias("repeats"),
        )
        .with_columns(pl.col("touchpoint").map_elements(lambda i: names[i], return_dtype=pl.String))
        .sort("touchpoint")
    )
    got = tp.sort("touchpoint").select("touchpoint", "visits", "customers", "repeats")
    assert got.rows() == by_tp.select("touchpoint", "visits", "customers", "repeats").rows()

    moves = ev.with_columns(nxt=pl.col("touchpoint").shift(-1), nj=pl.col("journey").shift(-1)).filter(
        pl.col("journey") == pl.col("nj")
    )
    expected_tr = (
        moves.group_by("touchpoint", "nxt")
        .agg(
            pl.len().alias("count"),
            pl.col("customer").n_unique().alias("customers"),
            pl.col("journey").n_unique().alias("journeys"),
        )
        .with_columns(
            pl.col("touchpoint").map_elements(lambda i: names[i], return_dtype=pl.String).alias("source"),
            pl.col("nxt").map_elements(lambda i: names[i], return_dtype=pl.String).alias("target"),
        )
        .select("source", "target", "count", "customers", "journeys")
        .sort("source", "target")
    )
    tr = transition_metrics(cut, journeys, None, GAP).sort("source", "target")
    assert tr.select("source", "target", "count", "customers", "journeys").rows() == expected_tr.rows()
    assert (
        directly_follows(cut).sort("source", "target").rows() == expected_tr.select("source", "target", "count").rows()
    )
    assert tr["count"].sum() == ev.height - journeys.height if tr.height else ev.height == journeys.height
