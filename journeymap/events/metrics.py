"""Touchpoint and transition metrics, and the channel switch matrix, on a cut log.

All metrics are aggregations over the sorted integer columns, taken as zero-copy numpy
views: the next event is the next row, a journey's outcome is gathered by journey id,
counts are ``bincount`` per code and distinct counts come from
:mod:`journeymap.events._columnar` (bit sets per journey or customer). No Python loop
touches events; only per-touchpoint and per-transition rows are built as frames.

Conventions
-----------
* A touchpoint's ``channel`` (and owner) is the channel most of its events happen in.
* Dwell and transition times are in seconds; ``*_p90_s`` is the linear-interpolated 90th
  percentile (numpy's default method).
* A transition is a pair of consecutive events in the same journey (self-loops included).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.events._columnar import dense_codes, distinct_pair_counts, grouped_quantiles
from journeymap.events.journeys import decode
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = [
    "SWITCH_SCHEMA",
    "TOUCHPOINT_SCHEMA",
    "TRANSITION_SCHEMA",
    "channel_switch_matrix",
    "directly_follows",
    "touchpoint_metrics",
    "transition_metrics",
]

TOUCHPOINT_SCHEMA: dict[str, pl.DataType] = {
    "touchpoint": pl.String(),
    "channel": pl.String(),
    "visits": pl.UInt32(),
    "customers": pl.UInt32(),
    "journeys_started": pl.UInt32(),
    "journeys_ended": pl.UInt32(),
    "dropoffs": pl.UInt32(),
    "dropoff_rate": pl.Float64(),
    "repeats": pl.UInt32(),
    "repeat_rate": pl.Float64(),
    "dwell_median_s": pl.Float64(),
    "dwell_p90_s": pl.Float64(),
    "sentiment_mean": pl.Float64(),
}
TRANSITION_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "target": pl.String(),
    "source_channel": pl.String(),
    "target_channel": pl.String(),
    "count": pl.UInt32(),
    "customers": pl.UInt32(),
    "journeys": pl.UInt32(),
    "median_s": pl.Float64(),
    "p90_s": pl.Float64(),
    "conversion_share": pl.Float64(),
    "cross_channel": pl.Boolean(),
    "cross_owner": pl.Boolean(),
    "designed": pl.Boolean(),
    "declared_carry": pl.String(),
}
SWITCH_SCHEMA: dict[str, pl.DataType] = {
    "from_channel": pl.String(),
    "to_channel": pl.String(),
    "count": pl.UInt32(),
    "customers": pl.UInt32(),
}


class _Frame:
    """Numpy views of the cut log plus per-event helpers shared by the metrics."""

    def __init__(self, log: EventLog, journeys: pl.DataFrame) -> None:
        ev = log.events
        if "journey" not in ev.columns:
            raise ValueError("the log has no journeys: call cut_journeys first")
        self.n = ev.height
        self.tp = ev.get_column("touchpoint").to_numpy()
        self.ch = ev.get_column("channel").to_numpy()
        self.journey = ev.get_column("journey").to_numpy()
        self.customer = ev.get_column("customer").to_numpy()
        self.step = ev.get_column("step").to_numpy()
        self.ts = ev.get_column("ts").to_physical().to_numpy()
        self.sentiment = ev.get_column("sentiment")
        owner = ev.get_column("owner")
        self.owner = owner.fill_null(len(log.owners)).to_numpy()
        self.n_tp = max(len(log.touchpoints), int(self.tp.max()) + 1 if self.n else 0, 1)
        self.n_ch = max(len(log.channels), int(self.ch.max()) + 1 if self.n else 0, 1)
        self.n_owner = len(log.owners) + 1  # the last code stands for "no owner"
        self.n_journeys = int(self.journey.max()) + 1 if self.n else 0
        self.n_customers = int(self.customer.max()) + 1 if self.n else 0
        self.last = np.r_[self.journey[1:] != self.journey[:-1], True] if self.n else np.zeros(0, dtype=bool)
        self.journey_starts = np.flatnonzero(np.r_[True, self.last[:-1]]) if self.n else np.zeros(0, dtype=np.int64)
        self.customer_starts = (
            np.flatnonzero(np.r_[True, self.customer[1:] != self.customer[:-1]]) if self.n else self.journey_starts
        )
        self.outcome = _outcome_per_journey(journeys, self.n_journeys)[self.journey] if self.n else self.journey
        self.dt_us = np.r_[self.ts[1:] - self.ts[:-1], 0] if self.n else np.zeros(0, dtype=np.int64)

    def dominant(self, codes: npt.NDArray[np.integer], n_codes: int) -> npt.NDArray[np.int64]:
        """Most frequent code per touchpoint (ties: smallest code)."""
        packed = np.multiply(self.tp, n_codes, dtype=np.int64)
        np.add(packed, codes, out=packed, casting="unsafe")
        counts = np.bincount(packed, minlength=self.n_tp * n_codes)
        best: npt.NDArray[np.int64] = counts.reshape(self.n_tp, n_codes).argmax(axis=1).astype(np.int64)
        return best


_cache: list[tuple[pl.DataFrame, pl.DataFrame, _Frame]] = []


def _frame(log: EventLog, journeys: pl.DataFrame) -> _Frame:
    """The helper arrays, shared by consecutive metric calls on the same cut log."""
    if _cache and _cache[0][0] is log.events and _cache[0][1] is journeys:
        return _cache[0][2]
    frame = _Frame(log, journeys)
    _cache[:] = [(log.events, journeys, frame)]
    return frame


def _outcome_per_journey(journeys: pl.DataFrame, n_journeys: int) -> npt.NDArray[np.uint8]:
    """Outcome code by journey id: 0 converted, 1 abandoned, 2 ongoing (missing journeys: ongoing)."""
    table = np.full(max(n_journeys, 1), 2, dtype=np.uint8)
    codes = journeys.select(
        pl.col("outcome").replace_strict(
            {"converted": 0, "abandoned": 1, "ongoing": 2}, default=2, return_dtype=pl.UInt8
        )
    ).to_series()
    ids = journeys.get_column("journey").to_numpy()
    keep = ids < n_journeys
    table[ids[keep]] = codes.to_numpy()[keep]
    return table


def _bincount(codes: npt.NDArray[np.integer], size: int) -> npt.NDArray[np.int64]:
    return np.bincount(codes, minlength=size)[:size].astype(np.int64, copy=False)


def touchpoint_metrics(log: EventLog, journeys: pl.DataFrame, settings: OverlaySettings) -> pl.DataFrame:
    """One row per touchpoint: volumes, drop-off, repeats, dwell and sentiment.

    Parameters
    ----------
    log, journeys:
        Output of :func:`journeymap.events.journeys.cut_journeys`.
    settings:
        Accepted for symmetry with the other overlay functions (rankings use ``min_volume``).

    Returns
    -------
    polars.DataFrame
        :data:`TOUCHPOINT_SCHEMA`, sorted by visits (descending) then touchpoint.
        ``dropoffs`` counts journeys ending at the touchpoint with outcome ``abandoned``;
        ``dropoff_rate`` divides by journeys that visited it; ``repeats`` counts visits to a
        touchpoint already visited earlier in the same journey; dwell is the time to the
        next event of the same journey (null when there is none).
    """
    del settings
    f = _frame(log, journeys)
    if f.n == 0:
        return pl.DataFrame(schema=TOUCHPOINT_SCHEMA)
    t = f.n_tp
    visits = _bincount(f.tp, t)
    visited_journeys = distinct_pair_counts(f.journey, f.tp, f.n_journeys, t, by="inner", starts=f.journey_starts)
    dropoffs = _bincount(f.tp[f.last & (f.outcome == 1)], t)
    inner = ~f.last
    median, p90 = grouped_quantiles(f.tp[inner], f.dt_us[inner], t, (0.5, 0.9))
    counts = pl.DataFrame(
        {
            "__tp": np.arange(t, dtype=np.uint32),
            "__channel": f.dominant(f.ch, f.n_ch).astype(np.uint32),
            "visits": visits,
            "customers": distinct_pair_counts(f.customer, f.tp, f.n_customers, t, by="inner", starts=f.customer_starts),
            "journeys_started": _bincount(f.tp[f.step == 0], t),
            "journeys_ended": _bincount(f.tp[f.last], t),
            "dropoffs": dropoffs,
            "__journeys": visited_journeys,
            "dwell_median_s": median / 1e6,
            "dwell_p90_s": p90 / 1e6,
        }
    ).filter(pl.col("visits") > 0)
    sentiment = (
        pl.DataFrame({"__tp": f.tp, "__s": f.sentiment})
        .drop_nulls()
        .group_by("__tp")
        .agg(pl.col("__s").mean().cast(pl.Float64).alias("sentiment_mean"))
    )
    agg = counts.join(sentiment, on="__tp", how="left")
    out = agg.select(
        decode(pl.col("__tp"), log.touchpoints).alias("touchpoint"),
        decode(pl.col("__channel"), log.channels).alias("channel"),
        "visits",
        "customers",
        "journeys_started",
        "journeys_ended",
        "dropoffs",
        (pl.col("dropoffs") / pl.col("__journeys")).alias("dropoff_rate"),
        (pl.col("visits") - pl.col("__journeys")).alias("repeats"),
        ((pl.col("visits") - pl.col("__journeys")) / pl.col("visits")).alias("repeat_rate"),
        pl.col("dwell_median_s").fill_nan(None),
        pl.col("dwell_p90_s").fill_nan(None),
        "sentiment_mean",
    )
    return out.cast(TOUCHPOINT_SCHEMA).sort(["visits", "touchpoint"], descending=[True, False])  # type: ignore[arg-type]


def transition_metrics(
    log: EventLog,
    journeys: pl.DataFrame,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> pl.DataFrame:
    """One row per observed transition (directly-follows inside journeys).

    Returns
    -------
    polars.DataFrame
        :data:`TRANSITION_SCHEMA`, sorted by count (descending), source, target.
        ``conversion_share`` is the share of journeys containing the transition that
        converted; ``cross_channel``/``cross_owner`` compare the touchpoints' channels and
        owners (each touchpoint's most frequent one); ``designed``/``declared_carry`` come
        from the map.
    """
    del settings
    f = _frame(log, journeys)
    at = np.flatnonzero(~f.last)
    if at.size == 0:
        return pl.DataFrame(schema=TRANSITION_SCHEMA)
    t = f.n_tp
    # Pair code src * t + tgt, built in place (one 8-byte array, no intermediate copies).
    packed = np.multiply(f.tp[at], t, dtype=np.int64)
    np.add(packed, f.tp[at + 1], out=packed, casting="unsafe")
    pair, original = dense_codes(packed)
    del packed
    n_pairs = original.size
    journey = f.journey[at]
    conv = f.outcome[at] == 0
    conv_journeys = distinct_pair_counts(journey[conv], pair[conv], f.n_journeys, n_pairs, by="inner")
    channel = f.dominant(f.ch, f.n_ch)
    owner = f.dominant(f.owner, f.n_owner)
    p_src, p_tgt = original // t, original % t
    no_owner = f.n_owner - 1
    counts = pl.DataFrame(
        {
            "__pair": np.arange(n_pairs, dtype=np.uint32),
            "__src": p_src.astype(np.uint32),
            "__tgt": p_tgt.astype(np.uint32),
            "__src_ch": channel[p_src].astype(np.uint32),
            "__tgt_ch": channel[p_tgt].astype(np.uint32),
            "count": _bincount(pair, n_pairs),
            "customers": distinct_pair_counts(f.customer[at], pair, f.n_customers, n_pairs, by="inner"),
            "journeys": distinct_pair_counts(journey, pair, f.n_journeys, n_pairs, by="inner"),
            "__conv_journeys": conv_journeys,
            "cross_owner": (owner[p_src] != owner[p_tgt]) & (owner[p_src] != no_owner) & (owner[p_tgt] != no_owner),
        }
    )
    median, p90 = grouped_quantiles(pair, f.dt_us[at], n_pairs, (0.5, 0.9))
    agg = counts.with_columns(pl.Series("median_s", median / 1e6), pl.Series("p90_s", p90 / 1e6))
    designed = {(tr.source, tr.target): tr.context_carry.value for tr in journey_map.transitions} if journey_map else {}
    out = agg.select(
        decode(pl.col("__src"), log.touchpoints).alias("source"),
        decode(pl.col("__tgt"), log.touchpoints).alias("target"),
        decode(pl.col("__src_ch"), log.channels).alias("source_channel"),
        decode(pl.col("__tgt_ch"), log.channels).alias("target_channel"),
        "count",
        "customers",
        "journeys",
        "median_s",
        "p90_s",
        (pl.col("__conv_journeys") / pl.col("journeys")).alias("conversion_share"),
        (pl.col("__src_ch") != pl.col("__tgt_ch")).alias("cross_channel"),
        "cross_owner",
    )
    carry = pl.DataFrame(
        {
            "source": [s for s, _ in designed],
            "target": [tg for _, tg in designed],
            "declared_carry": list(designed.values()),
        },
        schema={"source": pl.String, "target": pl.String, "declared_carry": pl.String},
    )
    out = out.join(carry, on=["source", "target"], how="left", maintain_order="left").with_columns(
        pl.col("declared_carry").is_not_null().alias("designed")
    )
    return (
        out.select(list(TRANSITION_SCHEMA))
        .cast(TRANSITION_SCHEMA)  # type: ignore[arg-type]
        .sort(["count", "source", "target"], descending=[True, False, False])
    )


def directly_follows(log: EventLog) -> pl.DataFrame:
    """Transition counts only (source, target, count): the directly-follows graph inside journeys.

    The cheap subset of :func:`transition_metrics`, for process-mining style exports.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> ev = pl.DataFrame({"journey": [0, 0, 0, 1], "touchpoint": [0, 1, 0, 1]}, schema={"journey": pl.UInt32,
    ...                   "touchpoint": pl.UInt32})
    >>> directly_follows(EventLog(ev, ("a", "b"), (), ())).rows()
    [('a', 'b', 1), ('b', 'a', 1)]
    """
    journey = log.events.get_column("journey").to_numpy()
    tp = log.events.get_column("touchpoint").to_numpy().astype(np.int64)
    n_tp = max(len(log.touchpoints), int(tp.max()) + 1 if tp.size else 1)
    same = np.flatnonzero(journey[1:] == journey[:-1])
    counts = np.bincount(tp[same] * n_tp + tp[same + 1], minlength=n_tp * n_tp)
    pairs = np.flatnonzero(counts)
    frame = pl.DataFrame(
        {"__src": (pairs // n_tp).astype(np.uint32), "__tgt": (pairs % n_tp).astype(np.uint32), "count": counts[pairs]}
    )
    return frame.select(
        decode(pl.col("__src"), log.touchpoints).alias("source"),
        decode(pl.col("__tgt"), log.touchpoints).alias("target"),
        pl.col("count").cast(pl.UInt32),
    ).sort(["count", "source", "target"], descending=[True, False, False])


def channel_switch_matrix(transitions: pl.DataFrame) -> pl.DataFrame:
    """Cross-channel transitions summed by channel pair.

    ``customers`` sums the transitions' distinct customers, so a customer switching between
    the same two channels through two different touchpoint pairs counts twice.

    Examples
    --------
    >>> tr = pl.DataFrame({"source_channel": ["web", "web", "app"], "target_channel": ["app", "app", "app"],
    ...                    "count": [3, 2, 9], "customers": [2, 1, 4], "cross_channel": [True, True, False]})
    >>> channel_switch_matrix(tr).rows()
    [('web', 'app', 5, 3)]
    """
    return (
        transitions.filter(pl.col("cross_channel"))
        .group_by(pl.col("source_channel").alias("from_channel"), pl.col("target_channel").alias("to_channel"))
        .agg(pl.col("count").sum().cast(pl.UInt32), pl.col("customers").sum().cast(pl.UInt32))
        .sort(["count", "from_channel", "to_channel"], descending=[True, False, False])
        .cast(SWITCH_SCHEMA)  # type: ignore[arg-type]
    )
