"""Observed silo handoffs: where customers switch channel (or owner team) and context is lost.

A handoff is a *move* — two consecutive events of one journey — whose two events were
recorded in different channels (a channel switch) or by different teams (a team handoff);
the channels and teams are the events' own values, never the map's design. Handoffs are
reported per observed place: the touchpoint pair and the pair of channels the two events
were in (:func:`handoffs_from_signs`), per channel pair and per team pair (joined to the
switch matrices by :func:`sign_rates_by_pair`), and per designed transition
(:func:`designed_handoff_evidence`). For every handoff (the *switch*), five signs that the
customer had to start over are measured; each rate is the share of those switches showing
the sign:

``repeat_step_rate``
    Within the :data:`LOOKAHEAD_EVENTS` events after the switch, the customer visits a
    touchpoint already visited before the switch in the same journey. The switch's own
    target counts only when the transition is not on the map: going back to an earlier
    touchpoint along a designed transition (a back-edge such as "call → tracking page") is
    the journey as designed, while an undesigned return is evidence that the customer started
    over. The events after the target count whether the transition is designed or not. Coming
    back to a goal (``settings.goal_touchpoints`` and the map's final touchpoints) is never a
    repeated step: a second purchase is no sign of lost context.
``reidentify_rate``
    Within the :data:`LOOKAHEAD_EVENTS` events after the switch, while still in the target
    channel, there is an ``identified`` event although the customer had already identified
    earlier in the journey (an identification further down the journey, in another channel,
    is that channel's own business, not a sign that this handoff lost the context).
``bounce_back_rate``
    The customer's next channel change after arriving goes back to the source channel,
    within ``settings.bounce_window`` of the switch, along a transition that is not on the
    map (returning along a designed transition, say to a confirmation page on the website
    after a call, is the journey as designed, not a bounce).
``repeat_contact_rate``
    The customer starts another assisted contact (a call, a chat, a desk visit...) after the
    one the switch lands in, within ``settings.repeat_contact_window`` of the switch.
    Assisted channels are those of kind ``assisted`` on the map; channels missing from the
    map count as assisted when their id names one (see
    :data:`journeymap.analysis._shared.ASSISTED_NAME_HINTS`).
``abandon_rate``
    The journey ends unconverted (outcome ``abandoned``) within ``settings.abandon_window``
    of the switch. Only measured when journeys have a goal
    (:func:`journeymap.events.journeys.has_goal`): without one, no journey converts and ending is
    no sign of giving up, so the rate is null and adds nothing to the score.

When the log's times are coarse (:attr:`EventLog.time_resolution`: dates only, or minutes only),
two events with the same time keep file order, but their real order is unknown. No sign is
counted on a move whose two events have the same time, and the events after a switch count
(for a repeated step, a new identification, a bounce-back) only when their time is later than
the switch's target: an order that the file, not the customer, decided is no evidence.

Each handoff's ``finding`` names its strongest sign; an abandon names the goal the journey
did not reach ("customers give up within 24.0 h without reaching Checkout"), and the map's
declaration is only spoken of when a map was given.

``context_loss_score`` is the weighted sum of the five rates with :data:`WEIGHTS` (which
add up to 1), so it lies in [0, 1]; re-identifying and repeating a step weigh most because
they are the direct evidence that the customer's data or history did not travel. Without a
goal the abandon rate is not measured and the score sums the other four (at most 0.8): a
handoff whose journeys never give up scores the same with a goal or without one.

A handoff is a *headline* finding when the map declares it as carrying context (``full``
or ``partial``), it was observed at least ``settings.min_volume`` times, and its
``context_loss_score`` reaches the threshold for that declaration in
:data:`HEADLINE_THRESHOLDS`: "declared full, but customers repeat themselves".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.analysis._shared import (
    assisted_channel_codes,
    channel_label,
    decode,
    format_duration,
    format_share,
    goal_phrase,
    goal_touchpoints,
    touchpoint_label,
    with_contact_flags,
)
from journeymap.events.journeys import MOVE_BITS, has_goal
from journeymap.events.log import EventLog
from journeymap.events.metrics import MoveGroups, PairKind, PreparedLog, prepare
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = [
    "HEADLINE_THRESHOLDS",
    "LOOKAHEAD_EVENTS",
    "RATE_COLUMNS",
    "SILO_COLUMNS",
    "SILO_SCHEMA",
    "DESIGNED_SCHEMA",
    "WEIGHTS",
    "TransitionSigns",
    "designed_handoff_evidence",
    "find_observed_silo_handoffs",
    "handoffs_from_signs",
    "sign_rates_by_pair",
    "transition_instances",
]

LOOKAHEAD_EVENTS = 3
"""How many events after a switch are searched for a repeated step or a new identification."""

WEIGHTS: dict[str, float] = {
    "repeat_step_rate": 0.25,
    "reidentify_rate": 0.25,
    "bounce_back_rate": 0.15,
    "repeat_contact_rate": 0.15,
    "abandon_rate": 0.20,
}
"""Weight of each sign of lost context in ``context_loss_score``; they add up to 1."""

HEADLINE_THRESHOLDS: dict[str, float] = {"full": 0.15, "partial": 0.30}
"""Lowest ``context_loss_score`` that contradicts a handoff declared with this context carry."""

RATE_COLUMNS = tuple(WEIGHTS)

SIGN_FLAGS = ("repeat_step", "reidentify", "bounce_back", "repeat_contact", "abandon")
"""The boolean column of :func:`transition_instances` behind each of :data:`RATE_COLUMNS`, in order."""

SILO_COLUMNS = (
    "source",
    "target",
    "source_channel",
    "target_channel",
    "count",
    "customers",
    "channel_switches",
    "team_handoffs",
    *RATE_COLUMNS,
    "context_loss_score",
    "declared_carry",
    "finding",
    "headline",
)

SILO_SCHEMA_RATES: dict[str, pl.DataType] = {
    **{rate: pl.Float64() for rate in RATE_COLUMNS},
    "context_loss_score": pl.Float64(),
}

SILO_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "target": pl.String(),
    "source_channel": pl.String(),
    "target_channel": pl.String(),
    "count": pl.Int64(),
    "customers": pl.Int64(),
    "channel_switches": pl.Int64(),
    "team_handoffs": pl.Int64(),
    **SILO_SCHEMA_RATES,
    "declared_carry": pl.String(),
    "finding": pl.String(),
    "headline": pl.Boolean(),
}

_PHRASES = {
    "repeat_step_rate": "customers repeat a step they had already done",
    "reidentify_rate": "customers identify again",
    "bounce_back_rate": "customers go back to {source_channel} within {bounce}",
    "repeat_contact_rate": "customers need another assisted contact within {repeat}",
    "abandon_rate": "customers give up within {abandon}",
}

_CARRY_CLAUSES = {
    "full": "the map declares this handoff as full context.",
    "partial": "the map declares this handoff as partial context.",
    "none": "the map already marks this handoff as losing context.",
}


def _dur(window: timedelta) -> pl.Expr:
    return pl.lit(window, dtype=pl.Duration("us"))


def _with_outcome(frame: pl.LazyFrame, journeys: pl.DataFrame) -> pl.LazyFrame:
    """Add each event's journey end (``_journey_end``) and whether the journey was abandoned (``_abandoned``)."""
    ordered = journeys.select("journey", "end", (pl.col("outcome") == "abandoned").alias("abandoned"))
    ids = ordered.get_column("journey")
    if ids.len() and bool((ids.cast(pl.Int64) == pl.int_range(ids.len(), eager=True)).all()):
        # Journeys are numbered 0..n-1 in order (cut_journeys does so): a gather, no join.
        return frame.with_columns(
            pl.lit(ordered.get_column("end")).gather(pl.col("journey")).alias("_journey_end"),
            pl.lit(ordered.get_column("abandoned")).gather(pl.col("journey")).alias("_abandoned"),
        )
    outcome = ordered.select(
        pl.col("journey").cast(frame.collect_schema()["journey"]),
        pl.col("end").alias("_journey_end"),
        pl.col("abandoned").alias("_abandoned"),
    )
    return frame.join(outcome.lazy(), on="journey", how="left", maintain_order="left")


def _designed_pair(log: EventLog, journey_map: JourneyMap | None) -> pl.Expr:
    """True where the move from the previous event's touchpoint to this one is a designed transition."""
    if journey_map is None:
        return pl.lit(False)
    code = {label: i for i, label in enumerate(log.touchpoints)}
    width = len(log.touchpoints)
    keys = [
        code[t.source] * width + code[t.target] for t in journey_map.transitions if {t.source, t.target} <= code.keys()
    ]
    pair = pl.col("touchpoint").shift(1).cast(pl.Int64) * width + pl.col("touchpoint").cast(pl.Int64)
    return pair.is_in(keys).fill_null(False)


def transition_instances(
    log: EventLog, journeys: pl.DataFrame, journey_map: JourneyMap | None, settings: OverlaySettings
) -> pl.DataFrame:
    """Every observed transition (two consecutive events of a journey) with the five signs of lost context.

    The signs are computed for every transition; they mean "after the switch" on the
    transitions that cross channels or owners, which are the ones reported.

    Parameters
    ----------
    log:
        The event log with ``journey`` and ``step`` columns (from ``cut_journeys``).
    journeys:
        The journeys frame (``journey``, ``end``, ``outcome`` are used).
    journey_map:
        Tells which channels are assisted (``None`` falls back to channel ids), which
        transitions are designed (no bounce-back, and no repeated step at the target, along them)
        and which touchpoints are final (coming back to one is no repeated step).
    settings:
        Windows for bounce-back, repeat contact and abandon; goal touchpoints (no repeated step).

    Returns
    -------
    pl.DataFrame
        One row per transition, in log order: ``customer``, ``journey``, ``source``, ``target``, ``source_channel``,
        ``target_channel`` (integer codes of the log) and the boolean columns
        ``repeat_step``, ``reidentify``, ``bounce_back``, ``repeat_contact``, ``abandon`` (null on every
        move when the journeys have no goal: not measured), and ``same_time`` (the two events have the
        same time in a log of coarse times: no sign is counted on the move).
    """
    ev = log.events
    same_next = [(pl.col("journey").shift(-k) == pl.col("journey")).fill_null(False) for k in (1, 2, 3)]
    assert len(same_next) == LOOKAHEAD_EVENTS
    width = max(len(log.touchpoints), 1)
    ident = pl.col("identified").cast(pl.UInt32)
    cum_ident = ident.cum_sum()
    run_start = (
        (pl.col("journey") != pl.col("journey").shift(1)) | (pl.col("channel") != pl.col("channel").shift(1))
    ).fill_null(True)
    base = ev.select("customer", "ts", "touchpoint", "channel", "identified", "journey", "step")
    entry_designed = _designed_pair(log, journey_map)
    lazy = with_contact_flags(base.lazy(), assisted_channel_codes(log, journey_map), settings.repeat_contact_window)
    # In a log of coarse times, events with equal times are in file order: an order nobody observed.
    coarse = log.time_resolution is not None
    t_target = pl.col("ts").shift(-1)
    same_time = (same_next[0] & (t_target == pl.col("ts"))).fill_null(False) if coarse else pl.lit(False)

    def after_target(k: int) -> pl.Expr:
        """The event ``k`` steps on is later than the switch's target (always, with fine times)."""
        return (pl.col("ts").shift(-k) > t_target).fill_null(False) if coarse and k > 1 else pl.lit(True)

    frame = (
        _with_outcome(lazy, journeys)
        .with_columns(
            # first visit of this touchpoint in the journey (one hash pass, no group-by)
            first_visit=(
                pl.col("journey").cast(pl.UInt64) * width + pl.col("touchpoint").cast(pl.UInt64)
            ).is_first_distinct(),
            # identified at or before this event, inside the journey
            ident_so_far=(
                cum_ident - pl.when(pl.col("step") == 0).then(cum_ident - pl.col("identified")).forward_fill()
            )
            > 0,
            run_start=run_start,
        )
        .with_columns(
            # the first channel change strictly after this event (next run), for bounce-backs
            next_run_channel=pl.when(pl.col("run_start")).then(pl.col("channel")).shift(-1).backward_fill(),
            next_run_ts=pl.when(pl.col("run_start")).then(pl.col("ts")).shift(-1).backward_fill(),
            next_run_journey=pl.when(pl.col("run_start")).then(pl.col("journey")).shift(-1).backward_fill(),
            next_run_designed=pl.when(pl.col("run_start")).then(entry_designed).shift(-1).backward_fill(),
        )
    )
    # The event k steps after the switch repeats a touchpoint visited before the switch when it is
    # not a first visit, and its first visit is not one of the events in between. The target itself
    # (k = 1) counts only when the switch is not a designed transition.
    tp_at = [pl.col("touchpoint").shift(-k) for k in (0, 1, 2, 3)]
    first_at = [pl.col("first_visit").shift(-k) for k in (0, 1, 2, 3)]
    switch_designed = entry_designed.shift(-1).fill_null(False) if journey_map is not None else pl.lit(False)
    goals = set(goal_touchpoints(settings, journey_map))
    goal_codes = [code for code, label in enumerate(log.touchpoints) if label in goals]
    repeat_step = pl.any_horizontal(
        [
            same_next[k - 1]
            & ~first_at[k]
            & ~pl.any_horizontal([(tp_at[m] == tp_at[k]) & first_at[m] for m in range(1, k)] or [pl.lit(False)])
            & (~switch_designed if k == 1 else pl.lit(True))
            & ~tp_at[k].cast(pl.Int64).is_in(goal_codes)
            & after_target(k)
            for k in (1, 2, 3)
        ]
    ).fill_null(False)
    target_ch = pl.col("channel").shift(-1)
    in_target = [
        same_next[0],
        same_next[1] & (pl.col("channel").shift(-2) == target_ch),
        same_next[2] & (pl.col("channel").shift(-2) == target_ch) & (pl.col("channel").shift(-3) == target_ch),
    ]
    reidentify = pl.col("ident_so_far") & pl.any_horizontal(
        [in_target[k - 1] & pl.col("identified").shift(-k) & after_target(k) for k in (1, 2, 3)]
    ).fill_null(False)
    t_switch = pl.col("ts").shift(-1)
    bounce = (
        (pl.col("next_run_journey").shift(-1) == pl.col("journey"))
        & ~pl.col("next_run_designed").shift(-1)
        & (pl.col("next_run_channel").shift(-1) == pl.col("channel"))
        & ((pl.col("next_run_ts").shift(-1) - t_switch) <= _dur(settings.bounce_window))
        & ((pl.col("next_run_ts").shift(-1) > t_switch) if coarse else pl.lit(True))
    ).fill_null(False)
    abandon = (pl.col("_abandoned") & ((pl.col("_journey_end") - t_switch) <= _dur(settings.abandon_window))).fill_null(
        False
    )
    known = ~same_time
    # Without a goal, ending a journey is no sign of giving up: not measured (null), not False.
    abandon = (abandon & known) if has_goal(log, settings) else pl.lit(None, dtype=pl.Boolean)
    return (
        frame.with_columns(
            target=pl.col("touchpoint").shift(-1),
            target_channel=pl.col("channel").shift(-1),
            repeat_step=repeat_step & known,
            reidentify=reidentify & known,
            bounce_back=bounce & known,
            repeat_contact=pl.col("next_contact_soon").shift(-1).fill_null(False) & known,
            abandon=abandon,
            same_time=same_time,
        )
        .filter(same_next[0])
        .select(
            "customer",
            "journey",
            pl.col("touchpoint").alias("source"),
            "target",
            pl.col("channel").alias("source_channel"),
            "target_channel",
            "repeat_step",
            "reidentify",
            "bounce_back",
            "repeat_contact",
            "abandon",
            "same_time",
        )
        .collect()
    )


def find_observed_silo_handoffs(
    log: EventLog,
    journeys: pl.DataFrame,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> pl.DataFrame:
    """Observed channel switches and team handoffs with the evidence of lost context.

    Parameters
    ----------
    log:
        The event log with ``journey``, ``step`` and ``moved`` columns (from ``cut_journeys``).
    journeys:
        The journeys frame from ``cut_journeys``.
    journey_map:
        The designed map (declared context carry, channel kinds and names for the findings); may be ``None``.
    settings:
        Windows and ``min_volume`` (a handoff seen fewer times is never a headline).

    Returns
    -------
    pl.DataFrame
        One row per observed place of handoff — touchpoint pair and the pair of channels its two
        events were recorded in — with the columns of :data:`SILO_COLUMNS`, sorted by
        ``context_loss_score`` (highest first), then ``count``. Only moves whose two events differ
        in channel or team count.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from journeymap.events.journeys import cut_journeys
    >>> t = [datetime(2024, 1, 1, h, tzinfo=timezone.utc) for h in (9, 10)]
    >>> events = pl.DataFrame({
    ...     "customer": [0, 0], "ts": t, "seq": [0, 1], "touchpoint": [0, 1], "channel": [0, 1],
    ...     "owner": [0, 1], "converted": [False, False], "identified": [True, True],
    ...     "value": [None, None], "sentiment": [None, None]},
    ...     schema_overrides={"customer": pl.UInt32, "seq": pl.UInt32, "touchpoint": pl.UInt32,
    ...         "channel": pl.UInt32, "owner": pl.UInt32, "value": pl.Float64, "sentiment": pl.Float64})
    >>> settings = OverlaySettings(goal_touchpoints=("paid",), ongoing_after=datetime(2025, 1, 1, tzinfo=timezone.utc))
    >>> log, journeys = cut_journeys(EventLog(events, ("login", "call"), ("web", "phone"), ("Digital", "Care")),
    ...     settings)
    >>> silo = find_observed_silo_handoffs(log, journeys, None, settings)
    >>> rates = ["reidentify_rate", "abandon_rate", "context_loss_score"]
    >>> silo.select("channel_switches", "team_handoffs", *rates).row(0)
    (1, 1, 1.0, 1.0, 0.45)
    >>> silo["finding"][0]
    'In 100% of the 1 move from login (web) to call (phone), customers identify again.'

    Without a goal, the journey's end is no abandon: not measured.

    >>> no_goal = OverlaySettings(ongoing_after=settings.ongoing_after)
    >>> find_observed_silo_handoffs(log, journeys, None, no_goal).select(rates).row(0)
    (1.0, None, 0.25)
    """
    prepared = prepare(log, journeys)
    signs = TransitionSigns.of(transition_instances(log, journeys, journey_map, settings))
    return handoffs_from_signs(prepared, signs, None, journey_map, settings)


@dataclass(frozen=True, eq=False)
class TransitionSigns:
    """The signs of lost context of every move, one bit per sign in the order of :data:`RATE_COLUMNS`.

    ``bits`` is aligned with the moves of :attr:`journeymap.events.metrics.PreparedLog.transitions`
    (both are the consecutive event pairs of each journey, in log order). ``abandon`` says whether
    the abandon sign was measured (the journeys have a goal); when it was not, ``abandon_rate`` is
    NaN and the score sums the other signs with their weights.
    """

    bits: npt.NDArray[np.uint8]
    abandon: bool = True

    @classmethod
    def of(cls, instances: pl.DataFrame) -> TransitionSigns:
        """Pack the frame of :func:`transition_instances` (an ``abandon`` column all null: not measured)."""
        bits = np.zeros(instances.height, dtype=np.uint8)
        for i, flag in enumerate(SIGN_FLAGS):
            column = instances.get_column(flag).fill_null(False)
            bits |= column.to_numpy().astype(np.uint8) << np.uint8(i)
        abandon = instances.get_column("abandon")
        measured = instances.height == 0 or abandon.null_count() < instances.height
        return cls(bits, abandon=measured)

    def counts(self, rows: npt.NDArray[np.int64], code: npt.NDArray[np.int64], n_codes: int) -> npt.NDArray[np.int64]:
        """Per code (rows) and sign (columns): how many of the moves ``rows`` (with codes ``code``) show it."""
        # One count per (code, combination of signs); each sign's total is a sum over combinations.
        patterns = 1 << len(SIGN_FLAGS)
        cell = np.multiply(code, patterns, dtype=np.int64)
        cell += self.bits[rows]
        by_pattern = np.bincount(cell, minlength=n_codes * patterns)[: n_codes * patterns].reshape(-1, patterns)
        has_sign = (np.arange(patterns)[:, None] >> np.arange(len(SIGN_FLAGS))) & 1
        per_sign: npt.NDArray[np.int64] = (by_pattern @ has_sign).astype(np.int64)
        return per_sign

    def rates(self, rows: npt.NDArray[np.int64], code: npt.NDArray[np.int64], n_codes: int) -> dict[str, Any]:
        """Per code: the share of its moves showing each sign, and ``context_loss_score`` (NaN where none)."""
        total = np.bincount(code, minlength=n_codes)[:n_codes]
        per_sign = self.counts(rows, code, n_codes)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns: dict[str, Any] = {rate: per_sign[:, i] / total for i, rate in enumerate(RATE_COLUMNS)}
        measured = {r: w for r, w in WEIGHTS.items() if self.abandon or r != "abandon_rate"}
        columns["context_loss_score"] = np.round(sum(columns[r] * w for r, w in measured.items()), 6)
        if not self.abandon:
            columns["abandon_rate"] = np.full(total.shape, np.nan)
        return columns


def sign_rates_by_pair(
    prepared: PreparedLog,
    kind: PairKind,
    signs: TransitionSigns,
    keep: npt.NDArray[np.bool_] | None,
) -> pl.DataFrame:
    """The signs of lost context per pair of ``kind`` (channel or team pairs), decoded with its labels.

    Joined to the channel and team switch matrices on ``kind.names``: the evidence measured on the
    moves that actually crossed each pair.
    """
    groups, width, labels, names = kind.groups, kind.width, kind.labels, kind.names
    rows, code = groups.take(prepared, keep)
    n = groups.original.size
    total = np.bincount(code, minlength=n)[:n]
    seen = np.flatnonzero(total)
    columns = {name: values[seen] for name, values in signs.rates(rows, code, n).items()}
    frame = pl.DataFrame(
        {"__from": groups.original[seen] // width, "__to": groups.original[seen] % width, **columns},
        schema_overrides={"__from": pl.Int64, "__to": pl.Int64},
    )
    if frame.height == 0:
        return pl.DataFrame(schema={names[0]: pl.String, names[1]: pl.String, **SILO_SCHEMA_RATES})
    return frame.select(
        decode("__from", labels).alias(names[0]),
        decode("__to", labels).alias(names[1]),
        pl.col(*RATE_COLUMNS).fill_nan(None),
        "context_loss_score",
    )


def handoffs_from_signs(
    prepared: PreparedLog,
    signs: TransitionSigns,
    keep: npt.NDArray[np.bool_] | None,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> pl.DataFrame:
    """:func:`find_observed_silo_handoffs` from packed signs, for the journeys ``keep`` marks (``None``: all)."""
    moves = prepared.transitions
    groups = prepared.handoff_places
    rows, code = groups.take(prepared, keep)
    n = groups.original.size
    count = np.bincount(code, minlength=n)[:n]
    seen = np.flatnonzero(count)
    if seen.size == 0:
        return pl.DataFrame(schema=SILO_SCHEMA)
    moved = moves.moved[rows]
    n_ch = prepared.n_ch
    key = groups.original[seen]
    pair = moves.original[key // (n_ch * n_ch)]
    columns = {name: values[seen] for name, values in signs.rates(rows, code, n).items()}
    log = prepared.log
    frame = pl.DataFrame(
        {
            "__src": pair // prepared.n_tp,
            "__tgt": pair % prepared.n_tp,
            "__src_ch": (key // n_ch) % n_ch,
            "__tgt_ch": key % n_ch,
            "count": count[seen],
            "customers": _customers(groups, keep)[seen],
            "channel_switches": np.bincount(code[(moved & MOVE_BITS["channel_switch"]) != 0], minlength=n)[seen],
            "team_handoffs": np.bincount(code[(moved & MOVE_BITS["team_handoff"]) != 0], minlength=n)[seen],
            **columns,
        },
        schema_overrides={"__src": pl.Int64, "__tgt": pl.Int64, "__src_ch": pl.Int64, "__tgt_ch": pl.Int64},
    ).with_columns(
        pl.col(*RATE_COLUMNS).fill_nan(None),  # a sign not measured is null, not a share
        decode("__src", log.touchpoints).alias("source"),
        decode("__tgt", log.touchpoints).alias("target"),
        decode("__src_ch", log.channels).alias("source_channel"),
        decode("__tgt_ch", log.channels).alias("target_channel"),
    )
    designed = {(tr.source, tr.target): tr.context_carry.value for tr in journey_map.transitions} if journey_map else {}
    carry = pl.DataFrame(
        {
            "source": [s for s, _ in designed],
            "target": [tg for _, tg in designed],
            "declared_carry": list(designed.values()),
        },
        schema={"source": pl.String, "target": pl.String, "declared_carry": pl.String},
    )
    threshold = pl.col("declared_carry").replace_strict(HEADLINE_THRESHOLDS, default=None, return_dtype=pl.Float64)
    result = (
        frame.join(carry, on=["source", "target"], how="left")
        .with_columns(
            headline=((pl.col("context_loss_score") >= threshold) & (pl.col("count") >= settings.min_volume)).fill_null(
                False
            )
        )
        .sort(
            ["context_loss_score", "count", "source", "target", "source_channel", "target_channel"],
            descending=[True, True, False, False, False, False],
        )
    )
    findings = [_finding(row, journey_map, settings) for row in result.iter_rows(named=True)]
    return (
        result.with_columns(finding=pl.Series(findings, dtype=pl.String)).select(SILO_COLUMNS).cast(SILO_SCHEMA)  # type: ignore[arg-type]
    )


def _customers(groups: MoveGroups, keep: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.int64]:
    if groups.index is None:
        raise ValueError("these move groups count no customers")
    return groups.index.customers(keep)


def _finding(row: dict[str, Any], journey_map: JourneyMap | None, settings: OverlaySettings) -> str:
    source = _place(row["source"], row["source_channel"], journey_map)
    target = _place(row["target"], row["target_channel"], journey_map)
    # Without a map there is no declaration to compare with: the finding ends at the evidence.
    clause = (
        _CARRY_CLAUSES.get(str(row["declared_carry"]), "this handoff is not on the map.")
        if journey_map is not None
        else ""
    )
    count = int(row["count"])
    if row["source_channel"] == row["target_channel"]:
        noun = "handoff" if count == 1 else "handoffs"
        moves = f"the {count:,} {noun} to another team from {source} to {target}"
    else:
        moves = f"the {count:,} move{'s' if count != 1 else ''} from {source} to {target}"
    contributions = {rate: float(row[rate] or 0.0) * weight for rate, weight in WEIGHTS.items()}
    top = max(contributions, key=lambda rate: contributions[rate])
    if contributions[top] <= 0:
        return f"No sign of lost context in {moves}" + (f"; {clause}" if clause else ".")
    phrase = _PHRASES[top].format(
        source_channel=channel_label(str(row["source_channel"]), journey_map),
        bounce=format_duration(settings.bounce_window.total_seconds()),
        repeat=format_duration(settings.repeat_contact_window.total_seconds()),
        abandon=format_duration(settings.abandon_window.total_seconds()),
    )
    goal = goal_phrase(settings, journey_map) if top == "abandon_rate" else None
    if goal:
        phrase += f" without reaching {goal}"
    return f"In {format_share(float(row[top]))} of {moves}, {phrase}" + (f"; {clause}" if clause else ".")


def _place(touchpoint: str, channel: str, journey_map: JourneyMap | None) -> str:
    return f"{touchpoint_label(touchpoint, journey_map)} ({channel_label(channel, journey_map)})"


DESIGNED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "target": pl.String(),
    "designed_crossing": pl.String(),
    "declared_carry": pl.String(),
    "moves": pl.Int64(),
    "channel_switches": pl.Int64(),
    "team_handoffs": pl.Int64(),
    **SILO_SCHEMA_RATES,
    "contradicts_declaration": pl.Boolean(),
}
"""Per designed handoff: what the map declares beside what the moves along it show."""


def designed_handoff_evidence(
    prepared: PreparedLog,
    signs: TransitionSigns,
    keep: npt.NDArray[np.bool_] | None,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> pl.DataFrame:
    """Every handoff the map designs (a transition crossing channels or teams), beside the evidence.

    ``moves`` counts the observed moves along the designed transition (its source touchpoint, then
    its target, in one journey) in the journeys ``keep`` marks; ``channel_switches`` and
    ``team_handoffs`` how many of them actually changed channel or team in the events; the rates and
    ``context_loss_score`` are measured on all of them. ``contradicts_declaration`` is set when a
    handoff declared ``full`` or ``partial`` shows a score at or above its threshold in
    :data:`HEADLINE_THRESHOLDS` over at least ``settings.min_volume`` moves. Empty without a map.
    """
    if journey_map is None:
        return pl.DataFrame(schema=DESIGNED_SCHEMA)
    from journeymap.graph import find_handoffs  # networkx and pandas load only when a map is compared

    handoffs = find_handoffs(journey_map)
    if not handoffs:
        return pl.DataFrame(schema=DESIGNED_SCHEMA)
    moves = prepared.transitions
    n = moves.original.size
    code_of = {label: i for i, label in enumerate(prepared.log.touchpoints)}
    position = {int(key): i for i, key in enumerate(moves.original)}
    designed_pairs = np.zeros(n, dtype=bool)
    for h in handoffs:
        if h.source in code_of and h.target in code_of:
            found = position.get(code_of[h.source] * prepared.n_tp + code_of[h.target])
            if found is not None:
                designed_pairs[found] = True
    # Only the moves along designed handoffs are counted.
    along = prepared.moves_along(designed_pairs)
    rows = along if keep is None else along[prepared.kept_moves(keep)[along]]
    code = moves.pair[rows]
    moved = moves.moved[rows]
    count = np.bincount(code, minlength=n)[:n]
    columns = signs.rates(rows, code, n)
    switches = np.bincount(code[(moved & MOVE_BITS["channel_switch"]) != 0], minlength=n)[:n]
    handed = np.bincount(code[(moved & MOVE_BITS["team_handoff"]) != 0], minlength=n)[:n]
    records = []
    for h in handoffs:
        parts = (("channel", h.cross_channel), ("team", h.cross_owner))
        crossing = " and ".join(part for part, crossed in parts if crossed)
        found = (
            position.get(code_of[h.source] * prepared.n_tp + code_of[h.target])
            if h.source in code_of and h.target in code_of
            else None
        )
        seen = found is not None and count[found] > 0
        record: dict[str, Any] = {
            "source": h.source,
            "target": h.target,
            "designed_crossing": crossing,
            "declared_carry": h.context_carry,
            "moves": int(count[found]) if seen else 0,
            "channel_switches": int(switches[found]) if seen else 0,
            "team_handoffs": int(handed[found]) if seen else 0,
        }
        for name in (*RATE_COLUMNS, "context_loss_score"):
            value = float(columns[name][found]) if seen else None
            record[name] = None if value is None or np.isnan(value) else value
        limit = HEADLINE_THRESHOLDS.get(h.context_carry)
        enough = seen and record["moves"] >= settings.min_volume
        record["contradicts_declaration"] = bool(enough and limit is not None and record["context_loss_score"] >= limit)
        records.append(record)
    return pl.DataFrame(records, schema=DESIGNED_SCHEMA)
