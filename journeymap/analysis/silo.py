"""Observed silo handoffs: where customers switch channel (or owner team) and context is lost.

Every observed transition ``source → target`` that the transition metrics mark as crossing
channels or owner teams is a handoff. For each time a customer took it (two consecutive
events of one journey, the *switch*), five signs that the customer had to start over are
measured; each rate is the share of those switches showing the sign:

``repeat_step_rate``
    Within the :data:`LOOKAHEAD_EVENTS` events after the switch, the customer visits a
    touchpoint already visited before the switch in the same journey. The switch's own
    target counts only when the transition is not on the map: going back to an earlier
    touchpoint along a designed transition (a back-edge such as "call → tracking page") is
    the journey as designed, while an undesigned return is evidence that the customer started
    over. The events after the target count whether the transition is designed or not.
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
    of the switch.

``context_loss_score`` is the weighted sum of the five rates with :data:`WEIGHTS` (which
add up to 1), so it lies in [0, 1]; re-identifying and repeating a step weigh most because
they are the direct evidence that the customer's data or history did not travel.

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
    touchpoint_label,
    with_contact_flags,
)
from journeymap.events._columnar import dense_codes
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap

__all__ = [
    "HEADLINE_THRESHOLDS",
    "LOOKAHEAD_EVENTS",
    "RATE_COLUMNS",
    "SILO_COLUMNS",
    "WEIGHTS",
    "TransitionSigns",
    "find_observed_silo_handoffs",
    "handoffs_from_signs",
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
    *RATE_COLUMNS,
    "context_loss_score",
    "declared_carry",
    "finding",
    "headline",
)

_KEYS = ["source", "target", "source_channel", "target_channel"]

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
        Tells which channels are assisted (``None`` falls back to channel ids) and which
        transitions are designed (no bounce-back, and no repeated step at the target, along them).
    settings:
        Windows for bounce-back, repeat contact and abandon.

    Returns
    -------
    pl.DataFrame
        One row per transition, in log order: ``customer``, ``journey``, ``source``, ``target``, ``source_channel``,
        ``target_channel`` (integer codes of the log) and the boolean columns
        ``repeat_step``, ``reidentify``, ``bounce_back``, ``repeat_contact``, ``abandon``.
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
    repeat_step = pl.any_horizontal(
        [
            same_next[k - 1]
            & ~first_at[k]
            & ~pl.any_horizontal([(tp_at[m] == tp_at[k]) & first_at[m] for m in range(1, k)] or [pl.lit(False)])
            & (~switch_designed if k == 1 else pl.lit(True))
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
        [in_target[k - 1] & pl.col("identified").shift(-k) for k in (1, 2, 3)]
    ).fill_null(False)
    t_switch = pl.col("ts").shift(-1)
    bounce = (
        (pl.col("next_run_journey").shift(-1) == pl.col("journey"))
        & ~pl.col("next_run_designed").shift(-1)
        & (pl.col("next_run_channel").shift(-1) == pl.col("channel"))
        & ((pl.col("next_run_ts").shift(-1) - t_switch) <= _dur(settings.bounce_window))
    ).fill_null(False)
    abandon = (pl.col("_abandoned") & ((pl.col("_journey_end") - t_switch) <= _dur(settings.abandon_window))).fill_null(
        False
    )
    return (
        frame.with_columns(
            target=pl.col("touchpoint").shift(-1),
            target_channel=pl.col("channel").shift(-1),
            repeat_step=repeat_step,
            reidentify=reidentify,
            bounce_back=bounce,
            repeat_contact=pl.col("next_contact_soon").shift(-1).fill_null(False),
            abandon=abandon,
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
        )
        .collect()
    )


def find_observed_silo_handoffs(
    log: EventLog,
    journeys: pl.DataFrame,
    transitions: pl.DataFrame,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> pl.DataFrame:
    """Observed cross-channel and cross-owner transitions with the evidence of lost context.

    Parameters
    ----------
    log:
        The event log with ``journey`` and ``step`` columns (from ``cut_journeys``).
    journeys:
        The journeys frame from ``cut_journeys``.
    transitions:
        The transition metrics frame; its rows with ``cross_channel`` or ``cross_owner`` are
        the handoffs reported, with their ``count``, ``customers`` and ``declared_carry``.
    journey_map:
        The designed map (channel kinds and names for the findings); may be ``None``.
    settings:
        Windows and ``min_volume`` (a handoff seen fewer times is never a headline).

    Returns
    -------
    pl.DataFrame
        One row per handoff with the columns of :data:`SILO_COLUMNS`, sorted by
        ``context_loss_score`` (highest first), then ``count``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = [datetime(2024, 1, 1, h, tzinfo=timezone.utc) for h in (9, 10)]
    >>> events = pl.DataFrame({
    ...     "customer": [0, 0], "ts": t, "seq": [0, 1], "touchpoint": [0, 1], "channel": [0, 1],
    ...     "owner": [0, 1], "converted": [False, False], "identified": [True, True],
    ...     "value": [None, None], "sentiment": [None, None], "journey": [0, 0], "step": [0, 1]},
    ...     schema_overrides={"value": pl.Float64, "sentiment": pl.Float64})
    >>> log = EventLog(events, ("login", "call"), ("web", "phone"), ("Digital", "Care"))
    >>> journeys = pl.DataFrame({"journey": [0], "end": [t[1]], "outcome": ["abandoned"]})
    >>> transitions = pl.DataFrame({"source": ["login"], "target": ["call"], "source_channel": ["web"],
    ...     "target_channel": ["phone"], "count": [1], "customers": [1], "cross_channel": [True],
    ...     "cross_owner": [True], "declared_carry": ["full"]})
    >>> silo = find_observed_silo_handoffs(log, journeys, transitions, None, OverlaySettings())
    >>> silo.select("reidentify_rate", "abandon_rate", "context_loss_score", "headline").row(0)
    (1.0, 1.0, 0.45, True)
    >>> silo["finding"][0]
    'In 100% of the 1 move from login (web) to call (phone), customers identify again; the map declares \
this handoff as full context.'
    """
    instances = transition_instances(log, journeys, journey_map, settings)
    signs = TransitionSigns.of(instances, len(log.touchpoints))
    return handoffs_from_signs(signs, None, log.touchpoints, transitions, journey_map, settings)


@dataclass(frozen=True, eq=False)
class TransitionSigns:
    """The signs of lost context of every transition, packed for counting under any journey filter.

    ``pair`` numbers the observed ``(source, target)`` pairs densely, ``original`` holds
    ``source * width + target`` (touchpoint codes) of each number, ``journey`` is the journey of
    the transition, ``bits`` one bit per sign in the order of :data:`RATE_COLUMNS`.
    """

    pair: npt.NDArray[np.int64]
    original: npt.NDArray[np.int64]
    journey: npt.NDArray[np.int64]
    bits: npt.NDArray[np.uint8]
    width: int

    @classmethod
    def of(cls, instances: pl.DataFrame, n_touchpoints: int) -> TransitionSigns:
        """Pack the frame of :func:`transition_instances`."""
        width = max(n_touchpoints, 1)
        packed = np.multiply(instances.get_column("source").to_numpy(), width, dtype=np.int64)
        packed += instances.get_column("target").to_numpy()
        pair, original = dense_codes(packed)
        bits = np.zeros(instances.height, dtype=np.uint8)
        for i, flag in enumerate(SIGN_FLAGS):
            bits |= instances.get_column(flag).to_numpy().astype(np.uint8) << np.uint8(i)
        return cls(pair, original, instances.get_column("journey").to_numpy().astype(np.int64), bits, width)

    def rates(self, keep: npt.NDArray[np.bool_] | None, touchpoints: tuple[str, ...]) -> pl.DataFrame:
        """Per observed ``(source, target)``: the share of its transitions showing each sign.

        Only the transitions of the journeys ``keep`` marks (by journey id) count; all for ``None``.
        """
        if keep is None:
            pair, bits = self.pair, self.bits
        else:
            rows = keep[self.journey]
            pair, bits = self.pair[rows], self.bits[rows]
        # One count per (pair, combination of signs); each sign's total is a sum over combinations.
        patterns = 1 << len(SIGN_FLAGS)
        cell = np.multiply(pair, patterns, dtype=np.int64)
        cell += bits
        by_pattern = np.bincount(cell, minlength=self.original.size * patterns).reshape(-1, patterns)
        total = by_pattern.sum(axis=1)
        seen = np.flatnonzero(total)
        has_sign = (np.arange(patterns)[:, None] >> np.arange(len(SIGN_FLAGS))) & 1
        per_sign = by_pattern[seen] @ has_sign
        columns: dict[str, Any] = {
            "source": self.original[seen] // self.width,
            "target": self.original[seen] % self.width,
        }
        for i, rate in enumerate(RATE_COLUMNS):
            columns[rate] = per_sign[:, i] / total[seen]
        return pl.DataFrame(columns).with_columns(decode("source", touchpoints), decode("target", touchpoints))


def handoffs_from_signs(
    signs: TransitionSigns,
    keep: npt.NDArray[np.bool_] | None,
    touchpoints: tuple[str, ...],
    transitions: pl.DataFrame,
    journey_map: JourneyMap | None,
    settings: OverlaySettings,
) -> pl.DataFrame:
    """:func:`find_observed_silo_handoffs` from packed signs, for the journeys ``keep`` marks (``None``: all)."""
    observed = signs.rates(keep, touchpoints)
    handoffs = transitions.filter(pl.col("cross_channel") | pl.col("cross_owner")).select(
        *_KEYS,
        pl.col("count").cast(pl.Int64),
        pl.col("customers").cast(pl.Int64),
        pl.col("declared_carry").cast(pl.String),
    )
    score = pl.sum_horizontal(pl.col(rate) * weight for rate, weight in WEIGHTS.items())
    threshold = pl.col("declared_carry").replace_strict(HEADLINE_THRESHOLDS, default=None, return_dtype=pl.Float64)
    result = (
        handoffs.join(observed, on=["source", "target"], how="left")
        .with_columns(pl.col(rate).fill_null(0.0) for rate in RATE_COLUMNS)
        .with_columns(context_loss_score=score.round(6))
        .with_columns(
            headline=((pl.col("context_loss_score") >= threshold) & (pl.col("count") >= settings.min_volume)).fill_null(
                False
            )
        )
        .sort(["context_loss_score", "count", "source", "target"], descending=[True, True, False, False])
    )
    findings = [_finding(row, journey_map, settings) for row in result.iter_rows(named=True)]
    return result.with_columns(finding=pl.Series(findings, dtype=pl.String)).select(SILO_COLUMNS)


def _finding(row: dict[str, Any], journey_map: JourneyMap | None, settings: OverlaySettings) -> str:
    source = _place(row["source"], row["source_channel"], journey_map)
    target = _place(row["target"], row["target_channel"], journey_map)
    clause = _CARRY_CLAUSES.get(str(row["declared_carry"]), "this handoff is not on the map.")
    count = int(row["count"])
    moves = f"the {count:,} move{'s' if count != 1 else ''} from {source} to {target}"
    contributions = {rate: float(row[rate]) * weight for rate, weight in WEIGHTS.items()}
    top = max(contributions, key=lambda rate: contributions[rate])
    if contributions[top] <= 0:
        return f"No sign of lost context in {moves}; {clause}"
    phrase = _PHRASES[top].format(
        source_channel=channel_label(str(row["source_channel"]), journey_map),
        bounce=format_duration(settings.bounce_window.total_seconds()),
        repeat=format_duration(settings.repeat_contact_window.total_seconds()),
        abandon=format_duration(settings.abandon_window.total_seconds()),
    )
    return f"In {format_share(float(row[top]))} of {moves}, {phrase}; {clause}"


def _place(touchpoint: str, channel: str, journey_map: JourneyMap | None) -> str:
    return f"{touchpoint_label(touchpoint, journey_map)} ({channel_label(channel, journey_map)})"
