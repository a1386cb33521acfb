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

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.events._columnar import BitSetIndex, DistinctIndex, dense_codes, distinct_index, grouped_quantiles
from journeymap.events.journeys import decode
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = [
    "SWITCH_SCHEMA",
    "TOUCHPOINT_SCHEMA",
    "PreparedLog",
    "TRANSITION_SCHEMA",
    "channel_switch_matrix",
    "directly_follows",
    "prepare",
    "touchpoint_metrics",
    "touchpoint_table",
    "transition_metrics",
    "transition_table",
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


@dataclass(frozen=True, eq=False)
class _EventCounts:
    """What the touchpoint figures count per event, summed per touchpoint: additive over journeys.

    ``by_channel[t, c]`` and ``by_owner[t, o]`` count events of touchpoint ``t`` in channel ``c``
    or of owner ``o``; ``rated`` and ``rating_sum`` count and sum the sentiment scores given.
    Being sums, the counts of the kept journeys are the whole log's minus the dropped ones'
    (:meth:`minus`), whichever side is smaller is counted.
    """

    by_channel: npt.NDArray[np.int64]
    by_owner: npt.NDArray[np.int64]
    rated: npt.NDArray[np.int64]
    rating_sum: npt.NDArray[np.float64]

    @classmethod
    def of(cls, arrays: dict[str, npt.NDArray[Any]], *, n_tp: int, n_ch: int, n_owner: int) -> _EventCounts:
        """Count packed event columns (``tp_channel``, ``tp_owner``, ``sentiment``)."""
        tp_channel, sentiment = arrays["tp_channel"], arrays["sentiment"]
        rated = ~np.isnan(sentiment)
        rated_tp = tp_channel[rated] // n_ch
        return cls(
            np.bincount(tp_channel, minlength=n_tp * n_ch)[: n_tp * n_ch].reshape(n_tp, n_ch),
            np.bincount(arrays["tp_owner"], minlength=n_tp * n_owner)[: n_tp * n_owner].reshape(n_tp, n_owner),
            np.bincount(rated_tp, minlength=n_tp)[:n_tp],
            np.bincount(rated_tp, weights=sentiment[rated], minlength=n_tp)[:n_tp].astype(np.float64),
        )

    def minus(self, other: _EventCounts) -> _EventCounts:
        """These counts without ``other``'s (a part of them)."""
        return _EventCounts(
            self.by_channel - other.by_channel,
            self.by_owner - other.by_owner,
            self.rated - other.rated,
            self.rating_sum - other.rating_sum,
        )

    @property
    def n(self) -> int:
        """Events counted."""
        return int(self.by_channel.sum())

    @property
    def visits(self) -> npt.NDArray[np.int64]:
        """Events per touchpoint."""
        visits: npt.NDArray[np.int64] = self.by_channel.sum(axis=1).astype(np.int64)
        return visits

    @property
    def channel(self) -> npt.NDArray[np.int64]:
        """The channel most of each touchpoint's events happen in (ties: the smallest code)."""
        best: npt.NDArray[np.int64] = self.by_channel.argmax(axis=1).astype(np.int64)
        return best

    @property
    def owner_team(self) -> npt.NDArray[np.int64]:
        """The owner most of each touchpoint's events have (the last code: no owner)."""
        best: npt.NDArray[np.int64] = self.by_owner.argmax(axis=1).astype(np.int64)
        return best

    def sentiment_mean(self) -> npt.NDArray[np.float64]:
        """Mean sentiment per touchpoint (NaN where no event has one)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mean: npt.NDArray[np.float64] = self.rating_sum / self.rated
        return mean


@dataclass(frozen=True, eq=False)
class _Transitions:
    """Every transition of the full log: its pair code, source, journey and time, and the distinct index of pairs."""

    pair: npt.NDArray[np.int64]
    original: npt.NDArray[np.int64]
    source: npt.NDArray[np.integer]
    journey: npt.NDArray[np.integer]
    dt_us: npt.NDArray[np.int64]
    index: BitSetIndex | DistinctIndex


class PreparedLog:
    """A cut log as numpy arrays, ready to be counted again under any filter of whole journeys.

    The overlay page filters journeys (started in a date range, touching some channels, of a
    segment). What a filter cannot change is built once per cut log: every transition with its
    pair code and time, each journey's first and last touchpoint and outcome, and the distinct
    indexes (:mod:`journeymap.events._columnar`). A filter then takes four per-event columns of the
    kept journeys (:meth:`events`) and masks the transitions; distinct journeys and customers come
    from the indexes.
    """

    def __init__(self, log: EventLog, journeys: pl.DataFrame) -> None:
        ev = log.events
        if "journey" not in ev.columns:
            raise ValueError("the log has no journeys: call cut_journeys first")
        self.log = log
        self.journeys = journeys
        tp = ev.get_column("touchpoint").to_numpy()
        ch = ev.get_column("channel").to_numpy()
        self.n_tp = max(len(log.touchpoints), int(tp.max()) + 1 if ev.height else 0, 1)
        self.n_ch = max(len(log.channels), int(ch.max()) + 1 if ev.height else 0, 1)
        self.n_owner = len(log.owners) + 1  # the last code stands for "no owner"
        self.journey = ev.get_column("journey").to_numpy()
        self.customer = ev.get_column("customer").to_numpy()
        self.n_journeys = max(journeys.height, int(self.journey.max()) + 1 if ev.height else 0)
        self.outcome = _outcome_per_journey(journeys, self.n_journeys)
        self.tp, self.ch = tp, ch
        owner = ev.get_column("owner").fill_null(len(log.owners)).to_numpy()
        self.arrays: dict[str, npt.NDArray[Any]] = {
            "tp_channel": _pack(tp, ch, self.n_ch),
            "tp_owner": _pack(tp, owner, self.n_owner),
            "sentiment": ev.get_column("sentiment").cast(pl.Float64).fill_null(np.nan).to_numpy(),
        }
        n = tp.size
        self.last = np.r_[self.journey[1:] != self.journey[:-1], True] if n else np.zeros(0, dtype=bool)
        self.all_events = self._count(None)
        self._subset: tuple[npt.NDArray[np.bool_], _EventCounts] | None = None

    def _count(self, rows: npt.NDArray[np.bool_] | None) -> _EventCounts:
        arrays = self.arrays if rows is None else {name: values[rows] for name, values in self.arrays.items()}
        return _EventCounts.of(arrays, n_tp=self.n_tp, n_ch=self.n_ch, n_owner=self.n_owner)

    def events(self, keep: npt.NDArray[np.bool_] | None) -> _EventCounts:
        """The event counts of the journeys ``keep`` marks (indexed by journey id); of all for ``None``.

        When most journeys are kept, the dropped ones are counted and taken off the whole log's
        counts. The counts of the last ``keep`` array are kept, so the metrics of one filter share them.
        """
        if keep is None:
            return self.all_events
        if self._subset is not None and self._subset[0] is keep:
            return self._subset[1]
        rows = keep[self.journey]
        if 2 * int(np.count_nonzero(keep)) > keep.size:
            counts = self.all_events.minus(self._count(~rows))
        else:
            counts = self._count(rows)
        self._subset = (keep, counts)
        return counts

    def kept(self, keep: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.bool_]:
        """Per journey id: whether it is kept (``None`` keeps every journey)."""
        return np.ones(self.n_journeys, dtype=bool) if keep is None else keep

    @cached_property
    def transitions(self) -> _Transitions:
        """Every transition of the full log with its dense pair code, and the distinct index of pairs."""
        at = np.flatnonzero(~self.last)
        tp = self.tp
        packed = np.multiply(tp[at], self.n_tp, dtype=np.int64)
        np.add(packed, tp[at + 1], out=packed, casting="unsafe")
        pair, original = dense_codes(packed)
        del packed
        journey = self.journey[at]
        index = distinct_index(journey, self.customer[at], pair, original.size, self.n_journeys)
        ts = self.log.events.get_column("ts").to_physical().to_numpy()
        return _Transitions(pair, original, tp[at], journey, ts[at + 1] - ts[at], index)

    @cached_property
    def journey_ends(self) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.integer]]:
        """The first and the last touchpoint of each journey, by journey id."""
        tp = self.tp
        first = np.zeros(self.n_journeys, dtype=tp.dtype)
        last = np.zeros(self.n_journeys, dtype=tp.dtype)
        starts = np.r_[True, self.last[:-1]] if tp.size else self.last
        first[self.journey[starts]] = tp[starts]
        last[self.journey[self.last]] = tp[self.last]
        return first, last

    @cached_property
    def touchpoint_index(self) -> BitSetIndex | DistinctIndex:
        """Distinct journeys and customers per touchpoint, under any journey filter."""
        return distinct_index(self.journey, self.customer, self.tp, self.n_tp, self.n_journeys)

    @cached_property
    def channel_index(self) -> BitSetIndex | DistinctIndex:
        """Distinct journeys and customers per channel, under any journey filter."""
        return distinct_index(self.journey, self.customer, self.ch, self.n_ch, self.n_journeys)


_cache: list[tuple[pl.DataFrame, pl.DataFrame, PreparedLog]] = []


def prepare(log: EventLog, journeys: pl.DataFrame) -> PreparedLog:
    """The prepared arrays of a cut log, shared by consecutive metric calls on the same log."""
    if _cache and _cache[0][0] is log.events and _cache[0][1] is journeys:
        return _cache[0][2]
    prepared = PreparedLog(log, journeys)
    _cache[:] = [(log.events, journeys, prepared)]
    return prepared


def _pack(tp: npt.NDArray[np.integer], codes: npt.NDArray[np.integer], n_codes: int) -> npt.NDArray[np.integer]:
    """``touchpoint * n_codes + code`` per event, in the smallest unsigned type that holds it."""
    packed = np.multiply(tp, n_codes, dtype=np.int64)
    np.add(packed, codes, out=packed, casting="unsafe")
    small: npt.NDArray[np.integer] = packed.astype(np.uint32) if packed.size and int(packed.max()) < 2**32 else packed
    return small


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
    return touchpoint_table(prepare(log, journeys), None)


def touchpoint_table(prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None) -> pl.DataFrame:
    """:func:`touchpoint_metrics` of the journeys ``keep`` marks (by journey id; ``None``: all)."""
    f = prepared.events(keep)
    log = prepared.log
    if f.n == 0:
        return pl.DataFrame(schema=TOUCHPOINT_SCHEMA)
    t = prepared.n_tp
    visits = f.visits
    first_tp, last_tp = prepared.journey_ends
    kept = prepared.kept(keep)
    dropoffs = _bincount(last_tp[kept & (prepared.outcome == 1)], t)
    moves = prepared.transitions
    if keep is None:
        source, dwell = moves.source, moves.dt_us
    else:
        rows = keep[moves.journey]
        source, dwell = moves.source[rows], moves.dt_us[rows]
    median, p90 = grouped_quantiles(source, dwell, t, (0.5, 0.9))
    sentiment = f.sentiment_mean()
    visited_journeys = prepared.touchpoint_index.journeys(keep)
    counts = pl.DataFrame(
        {
            "__tp": np.arange(t, dtype=np.uint32),
            "__channel": f.channel.astype(np.uint32),
            "visits": visits,
            "customers": prepared.touchpoint_index.customers(keep),
            "journeys_started": _bincount(first_tp[kept], t),
            "journeys_ended": _bincount(last_tp[kept], t),
            "dropoffs": dropoffs,
            "__journeys": visited_journeys,
            "dwell_median_s": median / 1e6,
            "dwell_p90_s": p90 / 1e6,
            "sentiment_mean": sentiment,
        }
    ).filter(pl.col("visits") > 0)
    out = counts.select(
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
        pl.col("sentiment_mean").fill_nan(None),
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
    return transition_table(prepare(log, journeys), None, journey_map)


def transition_table(
    prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None, journey_map: JourneyMap | None
) -> pl.DataFrame:
    """:func:`transition_metrics` of the journeys ``keep`` marks (by journey id; ``None``: all)."""
    moves = prepared.transitions
    f = prepared.events(keep)
    log = prepared.log
    if moves.pair.size == 0 or f.n == 0:
        return pl.DataFrame(schema=TRANSITION_SCHEMA)
    t = prepared.n_tp
    n_pairs = moves.original.size
    if keep is None:
        pair, dt = moves.pair, moves.dt_us
        converted = prepared.outcome == 0
    else:
        rows = keep[moves.journey]
        pair, dt = moves.pair[rows], moves.dt_us[rows]
        converted = keep & (prepared.outcome == 0)
    channel, owner = f.channel, f.owner_team
    p_src, p_tgt = moves.original // t, moves.original % t
    no_owner = prepared.n_owner - 1
    counts = pl.DataFrame(
        {
            "__src": p_src.astype(np.uint32),
            "__tgt": p_tgt.astype(np.uint32),
            "__src_ch": channel[p_src].astype(np.uint32),
            "__tgt_ch": channel[p_tgt].astype(np.uint32),
            "count": _bincount(pair, n_pairs),
            "customers": moves.index.customers(keep),
            "journeys": moves.index.journeys(keep),
            "__conv_journeys": moves.index.journeys(converted),
            "cross_owner": (owner[p_src] != owner[p_tgt]) & (owner[p_src] != no_owner) & (owner[p_tgt] != no_owner),
        }
    )
    median, p90 = grouped_quantiles(pair, dt, n_pairs, (0.5, 0.9))
    agg = counts.with_columns(pl.Series("median_s", median / 1e6), pl.Series("p90_s", p90 / 1e6)).filter(
        pl.col("count") > 0
    )
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
