"""Touchpoint and transition metrics, and the channel switch matrix, on a cut log.

All metrics are aggregations over the sorted integer columns, taken as zero-copy numpy
views: the next event is the next row, a journey's outcome is gathered by journey id,
counts are ``bincount`` per code and distinct counts come from
:mod:`journeymap.events._columnar` (bit sets per journey or customer). No Python loop
touches events; only per-touchpoint and per-transition rows are built as frames.

Conventions
-----------
* A *move* is two consecutive events of one journey (self-loops included); a *transition* is
  every move between the same two touchpoints. A move's channels and teams are its two events'
  own values: a channel switch, a team handoff and a ping-pong return are defined on the events
  (see :mod:`journeymap.events.journeys`), never through a touchpoint's usual channel or team.
* A touchpoint's ``channel`` is the channel most of its events happen in, and ``channel_mix``
  lists the channels its events were seen in with their shares: what was observed, beside the
  map's design.
* Dwell and transition times are in seconds; ``*_p90_s`` is the linear-interpolated 90th
  percentile (numpy's default method).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.events._columnar import (
    BitSetIndex,
    DistinctIndex,
    IntArray,
    dense_codes,
    distinct_index,
    first_in_segment,
    grouped_quantiles,
)
from journeymap.events.journeys import MOVE_BITS, decode
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = [
    "SWITCH_SCHEMA",
    "TEAM_SCHEMA",
    "TEAM_SWITCH_SCHEMA",
    "TOUCHPOINT_SCHEMA",
    "MoveGroups",
    "PairKind",
    "PreparedLog",
    "TRANSITION_SCHEMA",
    "channel_switch_matrix",
    "directly_follows",
    "pair_kind",
    "prepare",
    "team_move_counts",
    "team_switch_matrix",
    "team_table",
    "touchpoint_metrics",
    "touchpoint_table",
    "transition_metrics",
    "transition_table",
]

TOUCHPOINT_SCHEMA: dict[str, pl.DataType] = {
    "touchpoint": pl.String(),
    "channel": pl.String(),
    "channel_mix": pl.String(),
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
    "channel_switches": pl.UInt32(),
    "team_handoffs": pl.UInt32(),
    "cross_channel": pl.Boolean(),
    "cross_owner": pl.Boolean(),
    "designed": pl.Boolean(),
    "declared_carry": pl.String(),
}
_PAIR_COUNTS: dict[str, pl.DataType] = {
    "count": pl.UInt32(),
    "customers": pl.UInt32(),
    "journeys": pl.UInt32(),
    "ping_pong": pl.UInt32(),
    "median_wait_s": pl.Float64(),
}
SWITCH_SCHEMA: dict[str, pl.DataType] = {"from_channel": pl.String(), "to_channel": pl.String(), **_PAIR_COUNTS}
"""Channel switches by (from channel, to channel): moves, distinct customers and journeys, ping-pong returns
(switches back to a channel the journey had left) and the median time between the two events."""
TEAM_SWITCH_SCHEMA: dict[str, pl.DataType] = {
    "from_team": pl.String(),
    "to_team": pl.String(),
    **{name: dtype for name, dtype in _PAIR_COUNTS.items() if name != "customers"},
}
"""Team handoffs by (from team, to team), with the columns of :data:`SWITCH_SCHEMA` but ``customers``
(teams run to the hundreds; distinct journeys per pair are counted, customers are not)."""
TEAM_SCHEMA: dict[str, pl.DataType] = {
    "team": pl.String(),
    "events": pl.UInt32(),
    "handoffs_in": pl.UInt32(),
    "handoffs_out": pl.UInt32(),
    "ping_pong_in": pl.UInt32(),
    "median_wait_after_handoff_s": pl.Float64(),
}
"""Per team: its events, handoffs into and out of it, handoffs back into it after the journey had left it,
and the median time from the previous team's last event to its first after a handoff in."""


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
    """Every move of the full log, in log order: its touchpoint pair code, first event, journey and time.

    ``moved`` holds the :data:`journeymap.events.journeys.MOVE_BITS` of each move (channel switch,
    team handoff, ping-pong returns), taken from its second event; ``index`` counts distinct
    journeys and customers per touchpoint pair.
    """

    at: npt.NDArray[np.int64]
    """Row of each move's first event; the second is the next row."""
    pair: npt.NDArray[np.int64]
    original: npt.NDArray[np.int64]
    source: npt.NDArray[np.integer]
    journey: npt.NDArray[np.integer]
    customer: npt.NDArray[np.integer]
    dt_us: npt.NDArray[np.int64]
    moved: npt.NDArray[np.uint8]
    index: BitSetIndex | DistinctIndex

    def where(self, bits: int) -> npt.NDArray[np.bool_]:
        """Per move: whether it has any of ``bits`` (see ``MOVE_BITS``)."""
        flags: npt.NDArray[np.bool_] = (self.moved & np.uint8(bits)) != 0
        return flags


@dataclass(frozen=True, eq=False)
class _MoveMix:
    """Per touchpoint pair: its moves by first and by second event's channel, its switches and handoffs.

    Sums over moves, so the counts of the kept journeys are the whole log's minus the dropped ones'.
    """

    by_source_channel: IntArray
    by_target_channel: IntArray
    switches: IntArray
    handoffs: IntArray

    @classmethod
    def of(cls, prepared: PreparedLog, rows: npt.NDArray[np.int64] | None) -> _MoveMix:
        """Count the moves ``rows`` (all for ``None``)."""
        moves = prepared.transitions
        src, tgt = prepared.move_channels
        pair, moved = moves.pair, moves.moved
        if rows is not None:
            pair, moved, src, tgt = pair[rows], moved[rows], src[rows], tgt[rows]
        n_pairs, n_ch = moves.original.size, prepared.n_ch

        def by_channel(channel: npt.NDArray[np.integer]) -> IntArray:
            cells = np.multiply(pair, n_ch, dtype=np.int64)
            cells += channel
            return np.bincount(cells, minlength=n_pairs * n_ch)[: n_pairs * n_ch].reshape(n_pairs, n_ch)

        return cls(
            by_channel(src),
            by_channel(tgt),
            _bincount(pair[(moved & np.uint8(MOVE_BITS["channel_switch"])) != 0], n_pairs),
            _bincount(pair[(moved & np.uint8(MOVE_BITS["team_handoff"])) != 0], n_pairs),
        )

    def minus(self, other: _MoveMix) -> _MoveMix:
        """These counts without ``other``'s (a part of them)."""
        return _MoveMix(
            self.by_source_channel - other.by_source_channel,
            self.by_target_channel - other.by_target_channel,
            self.switches - other.switches,
            self.handoffs - other.handoffs,
        )


@dataclass(frozen=True, eq=False)
class MoveGroups:
    """Some of the moves, grouped by a key: which moves, the dense code of each one's key, the key of each code.

    ``index`` counts distinct journeys and customers per code under any journey filter.
    """

    rows: npt.NDArray[np.int64]
    """Move numbers (into the arrays of :attr:`PreparedLog.transitions`), in log order."""
    code: npt.NDArray[np.int64]
    original: npt.NDArray[np.int64]
    first: npt.NDArray[np.bool_]
    """Per move: the first of its journey with its code (so distinct journeys are a count of these)."""
    index: BitSetIndex | DistinctIndex | None
    """Distinct customers per code, when asked for."""
    _last: dict[str, Any] = field(default_factory=dict, repr=False)
    """The moves of the last journey filter taken, reused by every table of that filter."""

    def journeys(self, prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None) -> IntArray:
        """Distinct journeys per code among the journeys ``keep`` marks (``None``: all)."""
        first = self.first if keep is None else self.first & prepared.kept_moves(keep)[self.rows]
        return np.bincount(self.code[first], minlength=self.original.size).astype(np.int64)

    def take(
        self, prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The moves of the journeys ``keep`` marks (``None``: all) and their codes (the last answer is kept)."""
        if keep is None:
            return self.rows, self.code
        last = self._last.get("take")
        if last is not None and last[0] is keep:
            return last[1], last[2]
        kept = prepared.kept_moves(keep)[self.rows]
        rows, code = self.rows[kept], self.code[kept]
        self._last["take"] = (keep, rows, code)
        return rows, code


class PreparedLog:
    """A cut log as numpy arrays, ready to be counted again under any filter of whole journeys.

    The overlay page filters journeys (started in a date range, touching some channels, of a
    segment). What a filter cannot change is built once per cut log: every move with its
    pair code, time and switch flags, each journey's first and last touchpoint and outcome, and the
    distinct indexes (:mod:`journeymap.events._columnar`). A filter then takes four per-event columns
    of the kept journeys (:meth:`events`) and masks the moves; distinct journeys and customers come
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
        owner = (
            ev.get_column("owner").fill_null(len(log.owners)).to_numpy()
            if "owner" in ev.columns
            else np.full(tp.size, len(log.owners), dtype=np.uint32)
        )
        self.owner = owner
        self.arrays: dict[str, npt.NDArray[Any]] = {
            "tp_channel": _pack(tp, ch, self.n_ch),
            "tp_owner": _pack(tp, owner, self.n_owner),
            "sentiment": ev.get_column("sentiment").cast(pl.Float64).fill_null(np.nan).to_numpy(),
        }
        n = tp.size
        self.last = np.r_[self.journey[1:] != self.journey[:-1], True] if n else np.zeros(0, dtype=bool)
        self.all_events = self._count(None)
        self._subset: tuple[npt.NDArray[np.bool_], _EventCounts] | None = None
        self._kept_moves: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None
        self._mix: tuple[npt.NDArray[np.bool_], _MoveMix] | None = None
        self._along: tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]] | None = None

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
        """Every move of the full log with its dense pair code, and the distinct index of pairs."""
        at = np.flatnonzero(~self.last)
        tp = self.tp
        packed = np.multiply(tp[at], self.n_tp, dtype=np.int64)
        np.add(packed, tp[at + 1], out=packed, casting="unsafe")
        pair, original = dense_codes(packed)
        del packed
        journey = self.journey[at]
        customer = self.customer[at]
        index = distinct_index(journey, customer, pair, original.size, self.n_journeys)
        ts = self.log.events.get_column("ts").to_physical().to_numpy()
        moved = (
            self.log.events.get_column("moved").to_numpy()[at + 1]
            if "moved" in self.log.events.columns
            else np.zeros(at.size, dtype=np.uint8)
        )
        return _Transitions(at, pair, original, tp[at], journey, customer, ts[at + 1] - ts[at], moved, index)

    def kept_moves(self, keep: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Per move: whether its journey is one ``keep`` marks (the last answer is kept)."""
        if self._kept_moves is not None and self._kept_moves[0] is keep:
            return self._kept_moves[1]
        kept: npt.NDArray[np.bool_] = keep[self.transitions.journey]
        self._kept_moves = (keep, kept)
        return kept

    def moves_along(self, pairs: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """The moves whose touchpoint pair code ``pairs`` marks, in log order (the last answer is kept)."""
        if self._along is not None and np.array_equal(self._along[0], pairs):
            return self._along[1]
        rows = np.flatnonzero(pairs[self.transitions.pair]).astype(np.int64)
        self._along = (pairs, rows)
        return rows

    @cached_property
    def move_channels(self) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.integer]]:
        """Per move: the channel code of its first and of its second event."""
        at = self.transitions.at
        return self.ch[at], self.ch[at + 1]

    @cached_property
    def _all_moves(self) -> _MoveMix:
        return _MoveMix.of(self, None)

    def move_mix(self, keep: npt.NDArray[np.bool_] | None) -> _MoveMix:
        """The channel mix and switch counts per touchpoint pair of the journeys ``keep`` marks (``None``: all).

        Like :meth:`events`, the smaller side of the filter is counted (the dropped moves are taken off
        the whole log's counts when most are kept).
        """
        if keep is None:
            return self._all_moves
        if self._mix is not None and self._mix[0] is keep:
            return self._mix[1]
        kept = self.kept_moves(keep)
        if 2 * int(np.count_nonzero(kept)) > kept.size:
            mix = self._all_moves.minus(_MoveMix.of(self, np.flatnonzero(~kept)))
        else:
            mix = _MoveMix.of(self, np.flatnonzero(kept))
        self._mix = (keep, mix)
        return mix

    def move_codes(self, codes: npt.NDArray[np.integer], rows: npt.NDArray[np.int64]) -> tuple[IntArray, IntArray]:
        """Per move of ``rows``: the per-event ``codes`` of its first and its second event."""
        at = self.transitions.at[rows]
        return codes[at].astype(np.int64), codes[at + 1].astype(np.int64)

    def _groups(
        self,
        selected: npt.NDArray[np.bool_],
        key: Callable[[npt.NDArray[np.int64]], IntArray],
        *,
        customers: bool,
    ) -> MoveGroups:
        moves = self.transitions
        rows = np.flatnonzero(selected).astype(np.int64)
        code, original = dense_codes(key(rows))
        journey = moves.journey[rows]
        new_journey = np.r_[True, journey[1:] != journey[:-1]] if rows.size else np.zeros(0, dtype=bool)
        first = first_in_segment(new_journey, code)
        index = (
            distinct_index(journey, moves.customer[rows], code, original.size, self.n_journeys) if customers else None
        )
        return MoveGroups(rows, code, original, first, index)

    @cached_property
    def channel_pairs(self) -> MoveGroups:
        """The channel switches, by ``from channel * n_ch + to channel``."""

        def key(rows: npt.NDArray[np.int64]) -> IntArray:
            src, tgt = self.move_codes(self.ch, rows)
            return src * self.n_ch + tgt

        return self._groups(self.transitions.where(MOVE_BITS["channel_switch"]), key, customers=True)

    @cached_property
    def team_pairs(self) -> MoveGroups:
        """The team handoffs, by ``from team * n_owner + to team``."""

        def key(rows: npt.NDArray[np.int64]) -> IntArray:
            src, tgt = self.move_codes(self.owner, rows)
            return src * self.n_owner + tgt

        return self._groups(self.transitions.where(MOVE_BITS["team_handoff"]), key, customers=False)

    @cached_property
    def handoff_places(self) -> MoveGroups:
        """The moves that switch channel or hand off to another team, by touchpoint pair and channel pair.

        The key is ``pair * n_ch² + from channel * n_ch + to channel`` (``pair``: the dense touchpoint
        pair code of :attr:`transitions`).
        """

        def key(rows: npt.NDArray[np.int64]) -> IntArray:
            src, tgt = self.move_codes(self.ch, rows)
            return (self.transitions.pair[rows] * self.n_ch + src) * self.n_ch + tgt

        both = MOVE_BITS["channel_switch"] | MOVE_BITS["team_handoff"]
        return self._groups(self.transitions.where(both), key, customers=True)

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


def _channel_mix(by_channel: npt.NDArray[np.int64], channels: tuple[str, ...]) -> list[str]:
    """Per touchpoint, the channels its events were in, most first, with their shares.

    Examples
    --------
    >>> _channel_mix(np.array([[8, 2, 0], [0, 0, 0], [0, 1, 0]]), ("web", "app", "store"))
    ['web 80% · app 20%', '', 'app 100%']
    """
    totals = by_channel.sum(axis=1)
    out: list[str] = []
    for row, total in zip(by_channel, totals, strict=True):
        seen = np.flatnonzero(row)
        order = seen[np.argsort(-row[seen], kind="stable")]
        out.append(" · ".join(f"{_label(channels, int(c))} {row[c] / total:.0%}" for c in order))
    return out


def _label(labels: tuple[str, ...], code: int) -> str:
    return labels[code] if code < len(labels) else str(code)


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
        ``channel`` is the channel most of its events were in and ``channel_mix`` every channel its
        events were in, most first, with its share (``"web 80% · app 20%"``). ``dropoffs``
        counts journeys ending at the touchpoint with outcome ``abandoned``;
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
        rows = prepared.kept_moves(keep)
        source, dwell = moves.source[rows], moves.dt_us[rows]
    median, p90 = grouped_quantiles(source, dwell, t, (0.5, 0.9))
    sentiment = f.sentiment_mean()
    visited_journeys = prepared.touchpoint_index.journeys(keep)
    counts = pl.DataFrame(
        {
            "__tp": np.arange(t, dtype=np.uint32),
            "__channel": f.channel.astype(np.uint32),
            "channel_mix": _channel_mix(f.by_channel, log.channels),
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
        "channel_mix",
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
        converted; ``channel_switches`` and ``team_handoffs`` count its moves whose two events
        have different channels or teams, and ``cross_channel``/``cross_owner`` say whether there
        is any; ``source_channel``/``target_channel`` are the channels most of its moves went from
        and to; ``designed``/``declared_carry`` come from the map.
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
        rows = prepared.kept_moves(keep)
        pair, dt = moves.pair[rows], moves.dt_us[rows]
        converted = keep & (prepared.outcome == 0)
    p_src, p_tgt = moves.original // t, moves.original % t
    # Each move's own channels and teams: how many of a transition's moves switched channel or team,
    # and the channel pair most of them went through (shown as the transition's channels).
    mix = prepared.move_mix(keep)
    counts = pl.DataFrame(
        {
            "__src": p_src.astype(np.uint32),
            "__tgt": p_tgt.astype(np.uint32),
            "__src_ch": mix.by_source_channel.argmax(axis=1).astype(np.uint32),
            "__tgt_ch": mix.by_target_channel.argmax(axis=1).astype(np.uint32),
            "count": mix.by_source_channel.sum(axis=1),
            "customers": moves.index.customers(keep),
            "journeys": moves.index.journeys(keep),
            "__conv_journeys": moves.index.journeys(converted),
            "channel_switches": mix.switches,
            "team_handoffs": mix.handoffs,
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
        "channel_switches",
        "team_handoffs",
        (pl.col("channel_switches") > 0).alias("cross_channel"),
        (pl.col("team_handoffs") > 0).alias("cross_owner"),
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


@dataclass(frozen=True, eq=False)
class PairKind:
    """What a switch matrix is made of: the moves grouped by pair, how a pair code splits, its labels."""

    groups: MoveGroups
    width: int
    """A pair's code is ``from * width + to``."""
    labels: tuple[str, ...]
    names: tuple[str, str]
    """The matrix's two label columns."""
    return_bit: int
    """The ``MOVE_BITS`` flag of a ping-pong return of this kind."""
    schema: dict[str, pl.DataType]


def pair_kind(prepared: PreparedLog, kind: str) -> PairKind:
    """The channel (``"channel"``) or team (``"team"``) switches of a prepared log."""
    if kind == "channel":
        return PairKind(
            prepared.channel_pairs,
            prepared.n_ch,
            prepared.log.channels,
            ("from_channel", "to_channel"),
            MOVE_BITS["channel_return"],
            SWITCH_SCHEMA,
        )
    return PairKind(
        prepared.team_pairs,
        prepared.n_owner,
        prepared.log.owners,
        ("from_team", "to_team"),
        MOVE_BITS["team_return"],
        TEAM_SWITCH_SCHEMA,
    )


def _pair_table(prepared: PreparedLog, kind: PairKind, keep: npt.NDArray[np.bool_] | None) -> pl.DataFrame:
    """Counts per pair code of ``kind``, decoded with its labels."""
    moves = prepared.transitions
    groups = kind.groups
    rows, code = groups.take(prepared, keep)
    n = groups.original.size
    if rows.size == 0:
        return pl.DataFrame(schema=kind.schema)
    back = (moves.moved[rows] & np.uint8(kind.return_bit)) != 0
    (median,) = grouped_quantiles(code, moves.dt_us[rows], n, (0.5,))
    frame = pl.DataFrame(
        {
            "__from": (groups.original // kind.width).astype(np.uint32),
            "__to": (groups.original % kind.width).astype(np.uint32),
            "count": _bincount(code, n),
            **({"customers": groups.index.customers(keep)} if groups.index is not None else {}),
            "journeys": groups.journeys(prepared, keep),
            "ping_pong": _bincount(code[back], n),
            "median_wait_s": median / 1e6,
        }
    ).filter(pl.col("count") > 0)
    return (
        frame.select(
            decode(pl.col("__from"), kind.labels).alias(kind.names[0]),
            decode(pl.col("__to"), kind.labels).alias(kind.names[1]),
            *[name for name in kind.schema if name in frame.columns],
        )
        .cast(kind.schema)  # type: ignore[arg-type]
        .sort(["count", *kind.names], descending=[True, False, False])
    )


def channel_switch_matrix(prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None = None) -> pl.DataFrame:
    """Channel switches of the journeys ``keep`` marks (``None``: all) by channel pair (:data:`SWITCH_SCHEMA`).

    Every move whose two events were recorded in different channels counts once, in the pair of
    those two channels; every pair that occurs is listed, most switches first.

    Examples
    --------
    >>> from datetime import datetime, timedelta, UTC
    >>> from journeymap.events.journeys import cut_journeys
    >>> from journeymap.events.settings import OverlaySettings
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> ev = pl.DataFrame({"customer": [0, 0, 0, 0], "ts": [t0 + timedelta(hours=h) for h in range(4)],
    ...     "seq": [0, 1, 2, 3], "touchpoint": [0, 0, 0, 0], "channel": [0, 1, 1, 0], "owner": [None] * 4,
    ...     "converted": [False] * 4, "sentiment": [None] * 4},
    ...     schema_overrides={"customer": pl.UInt32, "seq": pl.UInt32, "touchpoint": pl.UInt32,
    ...                       "channel": pl.UInt32, "owner": pl.UInt32, "sentiment": pl.Float64})
    >>> cut, journeys = cut_journeys(EventLog(ev, ("login",), ("web", "app"), ()), OverlaySettings())
    >>> channel_switch_matrix(prepare(cut, journeys)).rows()
    [('app', 'web', 1, 1, 1, 1, 3600.0), ('web', 'app', 1, 1, 1, 0, 3600.0)]
    """
    return _pair_table(prepared, pair_kind(prepared, "channel"), keep)


def team_switch_matrix(prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None = None) -> pl.DataFrame:
    """Team handoffs of the journeys ``keep`` marks (``None``: all) by team pair (:data:`TEAM_SWITCH_SCHEMA`).

    Every move whose two events name two different teams counts once, in the pair of those two
    teams; a move from or to an event without a team is no handoff. Empty without a team column.
    """
    return _pair_table(prepared, pair_kind(prepared, "team"), keep)


def team_table(prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None = None) -> pl.DataFrame:
    """Per team, for the journeys ``keep`` marks (``None``: all): :data:`TEAM_SCHEMA`, most handoffs first.

    Empty when the log has no team column.
    """
    n = len(prepared.log.owners)
    if n == 0:
        return pl.DataFrame(schema=TEAM_SCHEMA)
    moves = prepared.transitions
    groups = prepared.team_pairs
    rows, code = groups.take(prepared, keep)
    # Counted per team pair first (a few thousand codes), then summed per team.
    n_pairs = groups.original.size
    per_pair = np.bincount(code, minlength=n_pairs)
    back = (moves.moved[rows] & np.uint8(MOVE_BITS["team_return"])) != 0
    back_per_pair = np.bincount(code[back], minlength=n_pairs)
    src_team, tgt_team = groups.original // prepared.n_owner, groups.original % prepared.n_owner
    tgt = tgt_team[code]
    (median,) = grouped_quantiles(tgt, moves.dt_us[rows], n, (0.5,)) if rows.size else (np.full(n, np.nan),)
    frame = pl.DataFrame(
        {
            "team": list(prepared.log.owners),
            "events": prepared.events(keep).by_owner.sum(axis=0)[:n],
            "handoffs_in": np.bincount(tgt_team, weights=per_pair, minlength=n)[:n].astype(np.int64),
            "handoffs_out": np.bincount(src_team, weights=per_pair, minlength=n)[:n].astype(np.int64),
            "ping_pong_in": np.bincount(tgt_team, weights=back_per_pair, minlength=n)[:n].astype(np.int64),
            "median_wait_after_handoff_s": median / 1e6,
        }
    ).filter(pl.col("events") > 0)
    return (
        frame.with_columns(pl.col("median_wait_after_handoff_s").fill_nan(None))
        .cast(TEAM_SCHEMA)  # type: ignore[arg-type]
        .sort(
            [pl.col("handoffs_in") + pl.col("handoffs_out"), pl.col("team")],
            descending=[True, False],
        )
    )


def team_move_counts(prepared: PreparedLog, keep: npt.NDArray[np.bool_] | None = None) -> pl.DataFrame:
    """Every move whose two events both name a team, by (from team, to team) — same-team moves included.

    The handover-of-work view of process mining (directly following work, beta 0): columns
    ``from_team``, ``to_team``, ``count``, most first.
    """
    moves = prepared.transitions
    none = prepared.n_owner - 1
    rows = np.flatnonzero(
        (prepared.owner[moves.at] != none)
        & (prepared.owner[moves.at + 1] != none)
        & (True if keep is None else keep[moves.journey])
    )
    src, tgt = prepared.move_codes(prepared.owner, rows.astype(np.int64))
    code, original = dense_codes(src * prepared.n_owner + tgt)
    owners = prepared.log.owners
    return pl.DataFrame(
        {
            "from_team": [owners[c // prepared.n_owner] for c in original],
            "to_team": [owners[c % prepared.n_owner] for c in original],
            "count": np.bincount(code, minlength=original.size).astype(np.int64),
        },
        schema={"from_team": pl.String, "to_team": pl.String, "count": pl.Int64},
    ).sort(["count", "from_team", "to_team"], descending=[True, False, False])
