"""What if the context travelled across a handoff? Predicted effects of fixing it, with honest uncertainty.

A *handoff* to fix is a designed transition (touchpoint → touchpoint), a channel pair or a team pair
(:class:`Fix`). Its *crossings* are its moves whose two events were recorded in different channels or
by different teams (the overlay's handoffs). Two answers are given, each with the assumptions it
stands on (one sentence each) and the number of crossings behind it.

**The estimate from the observed crossings** (:func:`estimate_fix`). At each crossing the context was
*lost* when the customer had to redo something because of it — re-identified, repeated a step or
bounced back (:data:`LOST_SIGNS`, the signs of :func:`journeymap.analysis.silo.transition_instances`)
— and *kept* when none of these shows. What followed each crossing is measured:

=================  ==========================================================================
outcome            definition (per crossing)
=================  ==========================================================================
completion         the journey converted (journeys that are over; not measured without a goal)
repeat contact     the crossing's repeat-contact sign (another assisted contact soon after)
effort             events from the crossing's target to the journey's last event, both counted
                   (converted journeys; all journeys that are over when there is no goal)
time to goal       hours from the crossing's target to the journey's last event (converted journeys)
=================  ==========================================================================

The two signs that are outcomes (repeat contact, abandon) never define the treatment. The signs show in
the events after a crossing, so only crossings after which the customer took another step are compared;
those that ended the journey at their target cannot be told apart and keep their observed outcome (a
customer who gave up at once is not credited to a fix). Kept and lost crossings are compared inside
*strata* of what the data shows to differ between them: the source touchpoint (and so the stage), the
customer's segment (an attribute column named ``segment``, when the log has one), the number of distinct
channels the journey used before the crossing (1, 2, or :data:`MIX_CAP` and more) and whether the customer
had identified before (re-identifying is only possible then). The effect is kept − lost per stratum,
averaged with the lost crossings as weights: the effect on the crossings that lost context. Lost crossings
in a stratum without any kept one cannot be compared and are left out (counted as ``unmatched``). The
prediction for "integrated" gives the lost crossings the kept crossings' outcomes: observed mean + (matched
lost / measured) × effect. The 95% interval is a bootstrap over journeys: :data:`DRAWS` draws with a
Poisson(1) weight per journey, seeded, one draw of weights serving every outcome. Above
:data:`BOOTSTRAP_CAP` crossings the draws are taken on a uniform subsample of journeys holding ``m`` of the
``n`` crossings, and the spread around the subsample's own estimate is scaled by ``sqrt(m / n)`` (the
standard error of a smooth statistic shrinks as one over the square root of the sample). With fewer than
:data:`MIN_CROSSINGS` matched lost or kept crossings an outcome says "not enough evidence" and gives no
number.

**The journey graph re-run** (:func:`rerun_journey_graph`). A Markov chain is fitted from the moves of the
journeys that are over, absorbed in *converted* or *ended*. Its states are a touchpoint × how the journey's
last crossing went (none yet, context kept, lost, or the journey ended at its target; carried until the
next crossing, so that what a lost context does a step or two later shows) × whether the customer had
identified yet. Fixing handoffs sends their lost crossings to the same touchpoint with context kept; the
absorbing chain is solved (``v = s (I - Q)^-1``) for completion, drop-off, events per journey, handoffs and
lost handoffs per journey. The model as is reproduces the observed figures exactly (every visit of a state
has one way in and one way out), so predicted = observed + (model fixed − model as is). Intervals come from
:data:`DRAWS` draws of every row of transition counts and of the starts (Dirichlet, seeded), each carried to
first order through the fundamental matrix (the gradient of each KPI per transition probability is
``v[from] (value[to] + reward)``): solving the chain again for every draw gives the same bounds on the
bundled sample, to within 3% of the interval's width, at 200 times the cost. The prediction's interval is
over the model with the fixes; the change's over the same draws of both.

:func:`rank_handoffs` ranks every candidate — the map's designed handoffs, the observed channel and team
pairs with at least :data:`MIN_CROSSINGS` lost and kept crossings — by predicted gain = customers
affected (distinct customers with a lost crossing) × effect on completion (on effort without a goal),
with the graph re-run's gain beside it. :func:`shift_evidence` gives the maturity evidence before and
after the fixes; :func:`what_if` gives it all at once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl
from threadpoolctl import threadpool_limits

from journeymap.analysis._shared import channel_label, touchpoint_label
from journeymap.analysis.silo import SIGN_FLAGS, TransitionSigns
from journeymap.errors import UserInputError
from journeymap.events._columnar import dense_codes
from journeymap.events.journeys import MOVE_BITS
from journeymap.events.log import EventLog
from journeymap.model import ContextCarry, JourneyMap

if TYPE_CHECKING:
    from journeymap.events.overlay import Overlay, PreparedOverlay
    from journeymap.maturity.evidence import Evidence, EvidenceChange
    from journeymap.maturity.framework import Framework

__all__ = [
    "BOOTSTRAP_CAP",
    "DRAWS",
    "LOST_SIGNS",
    "MIN_CROSSINGS",
    "MIX_CAP",
    "RANKING_SCHEMA",
    "RANK_GRAPH_LIMIT",
    "EvidenceShift",
    "Fix",
    "FixEstimate",
    "GraphRerun",
    "KpiForecast",
    "OutcomeEffect",
    "WhatIf",
    "estimate_fix",
    "format_change",
    "format_value",
    "rank_handoffs",
    "rerun_journey_graph",
    "shift_evidence",
    "to_be_map",
    "what_if",
]

MIN_CROSSINGS = 30
"""Fewest matched lost and kept crossings an effect is given for; below it: "not enough evidence"."""
DRAWS = 200
"""Bootstrap draws (the estimate) and Dirichlet draws (the graph re-run) behind each interval."""
BOOTSTRAP_CAP = 200_000
"""Crossings above which the bootstrap runs on a uniform subsample of journeys (spread scaled by √(m/n))."""
MIX_CAP = 3
"""Distinct channels before a crossing are counted 1, 2, then 3 for three or more."""
RANK_GRAPH_LIMIT = 100
"""The ranking gives the graph re-run's gain of this many candidates, those of highest predicted gain."""
LOST_SIGNS = ("repeat_step", "reidentify", "bounce_back")
"""The signs that say context was lost at a crossing: what the customer had to redo because of it."""
CONFIDENCE = 0.95

FixKind = Literal["transition", "channel", "team"]
Mask = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Codes = npt.NDArray[np.integer[Any]]
Weights = npt.NDArray[np.uint8]
Signed = npt.NDArray[np.signedinteger[Any]]

_LOST_BITS = np.uint8(sum(1 << SIGN_FLAGS.index(sign) for sign in LOST_SIGNS))
_REPEAT_CONTACT_BIT = np.uint8(1 << SIGN_FLAGS.index("repeat_contact"))
_CROSSING_BITS = np.uint8(MOVE_BITS["channel_switch"] | MOVE_BITS["team_handoff"])
_NEW_CHANNEL_BITS = (MOVE_BITS["channel_switch"], MOVE_BITS["channel_return"])
_NONE, _KEPT, _LOST, _ENDED = 0, 1, 2, 3
_HOW = 4
"""How the journey's last crossing went: none yet, the context kept, lost, or the journey ended at its target.

Kept and lost both mean the customer went on after the crossing, as the signs can only show then; a
journey's start (no crossing yet) is kept apart, so that the kept state holds only arrivals comparable to
the lost ones."""
_KIND_WORDS = {"channel": "channel switch", "team": "team handoff"}


@dataclass(frozen=True)
class Fix:
    """A handoff whose context is to travel: a transition, a channel pair or a team pair.

    ``source`` and ``target`` are touchpoint ids (or the log's touchpoint labels), channel ids or team
    labels, as the event log names them; ``label`` says it in plain words (names from the map).

    Examples
    --------
    >>> Fix("channel", "web", "store").label
    'web → store (channel switch)'
    """

    kind: FixKind
    source: str
    target: str
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            suffix = "" if self.kind == "transition" else f" ({_KIND_WORDS[self.kind]})"
            object.__setattr__(self, "label", f"{self.source} → {self.target}{suffix}")

    @classmethod
    def parse(cls, text: str, journey_map: JourneyMap | None, log: EventLog) -> Fix:
        """Read ``"FROM->TO"``: touchpoints (ids or names) first, else channels, else teams.

        Both ends must be of the same kind. Raises :class:`UserInputError` naming the value that is
        none of them, with the choices.

        Examples
        --------
        >>> log = EventLog(pl.DataFrame(), ("cart", "call"), ("web", "phone"), ("Sales", "Care"))
        >>> Fix.parse("cart -> call", None, log)
        Fix(kind='transition', source='cart', target='call', label='cart → call')
        >>> Fix.parse("web->phone", None, log).kind, Fix.parse("sales→care", None, log).target
        ('channel', 'Care')
        >>> Fix.parse("cart->nowhere", None, log)
        Traceback (most recent call last):
        ...
        journeymap.errors.UserInputError: handoff 'cart->nowhere': 'nowhere' is not a touchpoint, channel or team \
of the map or the events. Touchpoints: call, cart; channels: phone, web; teams: Care, Sales.
        """
        parts = [part.strip() for part in text.replace("→", "->").split("->")]
        if len(parts) != 2 or not all(parts):
            raise UserInputError(
                "is not a handoff", source=f"handoff {text!r}", hint="Write it as FROM->TO, e.g. 'Product page->Call'."
            )
        choices = _choices(journey_map, log)
        resolved: dict[FixKind, list[str]] = {}
        for kind, names in choices.items():
            ends = [names.get(part) or names.get(part.casefold()) for part in parts]
            if all(end is not None for end in ends):
                resolved[kind] = [str(end) for end in ends]
                break
        if not resolved:
            known = set().union(*(names for names in choices.values()))
            unknown = next((part for part in parts if part not in known and part.casefold() not in known), None)
            lists = "; ".join(
                f"{word}: {_first(_shown(names, journey_map, kind))}"
                for word, (kind, names) in zip(("Touchpoints", "channels", "teams"), choices.items(), strict=True)
            )
            problem = (
                f"{unknown!r} is not a touchpoint, channel or team of the map or the events"
                if unknown is not None
                else "names two different kinds of things (a handoff is touchpoint→touchpoint, channel→channel "
                "or team→team)"
            )
            raise UserInputError(problem, source=f"handoff {text!r}", hint=f"{lists}.")
        kind, (source, target) = next(iter(resolved.items()))
        return cls(kind, source, target, _label(kind, source, target, journey_map))

    @classmethod
    def named(cls, kind: FixKind, source: str, target: str, journey_map: JourneyMap | None) -> Fix:
        """The fix labelled with the map's names, as :func:`rank_handoffs` labels it.

        Examples
        --------
        >>> Fix.named("team", "Sales", "Care", None).label
        'Sales → Care (team handoff)'
        """
        return cls(kind, source, target, _label(kind, source, target, journey_map))


def to_be_map(journey_map: JourneyMap, fixes: Sequence[Fix]) -> tuple[JourneyMap, int]:
    """The map with the context carry of the fixed handoffs' designed transitions set to ``full``.

    A transition fix sets its own designed transition; a channel (team) fix every designed transition from a
    touchpoint of the first channel (team) to one of the second — a touchpoint's team is its owner, else its
    channel's owner team, compared ignoring case. Returns the new map and how many transitions it changed;
    a fix without any designed transition is refused, naming it.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Returns",
    ...     stages=(Stage(id="s", name="Service"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(
    ...         Touchpoint(id="form", name="Return form", channel="web", stage="s"),
    ...         Touchpoint(id="phone", name="Return call", channel="call", stage="s"),
    ...     ),
    ...     transitions=(Transition(source="form", target="phone", context_carry="none"),),
    ... )
    >>> fixed, changed = to_be_map(m, [Fix("channel", "web", "call")])
    >>> [t.context_carry.value for t in fixed.transitions], changed
    (['full'], 1)
    >>> to_be_map(m, [Fix("channel", "call", "web", "Call center → Website (channel switch)")])
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: handoff Call center → Website (channel switch): the map designs no \
transition across it, so there is no context carry to set. Add the transition in the map editor first, or \
leave this handoff out.
    """
    channel_of = {tp.id: tp.channel for tp in journey_map.touchpoints}
    owner_team = {c.id: c.owner_team for c in journey_map.channels}
    team_of = {tp.id: (tp.owner or owner_team.get(tp.channel, "")).casefold() for tp in journey_map.touchpoints}

    def crosses(fix: Fix, source: str, target: str) -> bool:
        if fix.kind == "transition":
            return (source, target) == (fix.source, fix.target)
        if fix.kind == "channel":
            return (channel_of.get(source), channel_of.get(target)) == (fix.source, fix.target)
        return (team_of.get(source), team_of.get(target)) == (fix.source.casefold(), fix.target.casefold())

    chosen: set[int] = set()
    for fix in fixes:
        found = {i for i, tr in enumerate(journey_map.transitions) if crosses(fix, tr.source, tr.target)}
        if not found:
            raise UserInputError(
                "the map designs no transition across it, so there is no context carry to set",
                source=f"handoff {fix.label}",
                hint="Add the transition in the map editor first, or leave this handoff out.",
            )
        chosen |= found
    transitions = tuple(
        tr.model_copy(update={"context_carry": ContextCarry.FULL}) if i in chosen else tr
        for i, tr in enumerate(journey_map.transitions)
    )
    return journey_map.model_copy(update={"transitions": transitions}), len(chosen)


def _choices(journey_map: JourneyMap | None, log: EventLog) -> dict[FixKind, dict[str, str]]:
    """Per kind, every accepted spelling → the id the log uses (ids exact, names and case-folded forms)."""
    touchpoints: dict[str, str] = {}
    channels: dict[str, str] = {}
    for label in log.touchpoints:
        touchpoints.setdefault(label, label)
        touchpoints.setdefault(label.casefold(), label)
    for label in log.channels:
        channels.setdefault(label, label)
        channels.setdefault(label.casefold(), label)
    if journey_map is not None:
        for tp in journey_map.touchpoints:
            for spelling in (tp.id, tp.name, tp.name.casefold(), tp.id.casefold()):
                touchpoints.setdefault(spelling, tp.id)
        for ch in journey_map.channels:
            for spelling in (ch.id, ch.name, ch.name.casefold(), ch.id.casefold()):
                channels.setdefault(spelling, ch.id)
    teams: dict[str, str] = {}
    for label in log.owners:
        teams.setdefault(label, label)
        teams.setdefault(label.casefold(), label)
    return {"transition": touchpoints, "channel": channels, "team": teams}


def _shown(names: dict[str, str], journey_map: JourneyMap | None, kind: FixKind) -> list[str]:
    """The choices of one kind as a user reads them: the map's name, with the id when it differs."""
    shown = []
    for value in sorted(set(names.values()), key=str.casefold):
        if kind == "transition":
            name = touchpoint_label(value, journey_map)
        else:
            name = channel_label(value, journey_map) if kind == "channel" else value
        shown.append(value if name == value else f"{name} ({value})")
    return shown


def _first(names: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(names[:most]) or "none"
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def _label(kind: FixKind, source: str, target: str, journey_map: JourneyMap | None) -> str:
    if kind == "transition":
        return f"{touchpoint_label(source, journey_map)} → {touchpoint_label(target, journey_map)}"
    if kind == "channel":
        pair = f"{channel_label(source, journey_map)} → {channel_label(target, journey_map)}"
        return f"{pair} (channel switch)"
    return f"{source} → {target} (team handoff)"


# ---------------------------------------------------------------------------------------------------------------
# The crossings of the whole log, measured once per prepared overlay


@dataclass(frozen=True, eq=False)
class _Crossings:
    """Every crossing of a prepared overlay whose order is known, with its stratum and outcomes (log order).

    Codes keep the log's own (unsigned) dtypes: widen them before multiplying two of them.
    """

    move: IntArray
    """Move numbers (into ``PreparedLog.transitions``)."""
    at: IntArray
    """Event row of each crossing's source (its target is the next row)."""
    end: Signed
    """Event row of the last event of each crossing's journey."""
    journey: Codes
    customer: Codes
    source: Codes
    target: Codes
    source_channel: Codes
    target_channel: Codes
    source_team: Codes
    target_team: Codes
    channel_switch: Mask
    team_handoff: Mask
    lost: Mask
    stratum: IntArray
    """Dense code of (source touchpoint, segment, channels before, identified before)."""
    outcome: npt.NDArray[np.uint8]
    """The journey's outcome: 0 converted, 1 ended without converting, 2 not over."""
    repeat_contact: Mask
    went_on: Mask
    """The journey has an event after the crossing's target: a lost context could show."""
    unknown_order: int
    """Crossings between two events of the same time in a log of coarse times: left out (order unknown)."""
    segments: bool
    """Whether the strata include a ``segment`` attribute."""
    ts: IntArray
    """Per event, its time (microseconds)."""
    event_state: Signed
    """Per event, its state in the journey graph re-run as is (see :func:`_fit_chain`)."""


_cache: list[tuple[PreparedOverlay, _Crossings]] = []


def _crossings(prepared: PreparedOverlay) -> _Crossings:
    """The crossings of ``prepared`` (the last answer is kept: a page's reruns share it)."""
    if _cache and _cache[0][0] is prepared:
        return _cache[0][1]
    found = _measure_crossings(prepared)
    _cache[:] = [(prepared, found)]
    return found


_BLOCK = 1 << 19
"""Rows per block of the block-wise passes over events: their scratch arrays stay small and are reused."""


def _carried(marks: Mask, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Per row, ``values`` at the last marked row at or before it (the first row must be marked).

    Runs in blocks, the last value carried from one to the next, so that no scratch array is as long as the rows.

    Examples
    --------
    >>> _carried(np.array([1, 0, 1, 0, 0], dtype=bool), np.array([5, 6, 7, 8, 9])).tolist()
    [5, 5, 7, 7, 7]
    """
    carried = np.empty_like(values)
    last = values[:1]
    for first in range(0, marks.size, _BLOCK):
        block = slice(first, first + _BLOCK)
        taken = np.concatenate([last, values[block][marks[block]]])
        np.take(taken, np.cumsum(marks[block], dtype=np.int32), out=carried[block])
        last = taken[-1:]
    return carried


def _measure_crossings(prepared: PreparedOverlay) -> _Crossings:
    """Find the crossings and measure all that :class:`_Crossings` holds, in numpy passes over the arrays.

    The passes over the events are running counts and narrow types (their memory is touched once): no sort.
    """
    metrics = prepared.metrics
    moves = metrics.transitions
    events = prepared.log.events
    n_events = metrics.tp.size
    is_crossing = (moves.moved & _CROSSING_BITS) != 0
    unknown = np.zeros(is_crossing.size, dtype=bool)
    if prepared.log.time_resolution is not None:
        unknown = is_crossing & (moves.dt_us == 0)
    rows = np.flatnonzero(is_crossing & ~unknown)
    at = moves.at[rows]
    journey = moves.journey[rows]
    moved = moves.moved[rows]
    bits = prepared.signs.bits[rows]
    lost = (bits & _LOST_BITS) != 0
    row_type = np.int32 if n_events < 2**31 else np.int64
    starts = np.r_[True, metrics.last[:-1]] if n_events else np.zeros(0, dtype=bool)
    first_row = np.zeros(metrics.n_journeys, dtype=row_type)
    first_row[metrics.journey[starts]] = np.flatnonzero(starts)
    last_row = np.zeros(metrics.n_journeys, dtype=row_type)
    last_row[metrics.journey[metrics.last]] = np.flatnonzero(metrics.last)
    end = last_row[journey]
    # Distinct channels of the journey up to the crossing's source: 1 + the switches to a channel not seen before.
    event_moved = events.get_column("moved").to_numpy()
    switch, back = _NEW_CHANNEL_BITS
    # A journey switches to a channel it has not seen fewer times than there are channels: running counts
    # that wrap around above that still subtract exactly.
    narrow = np.uint16 if metrics.n_ch < 2**16 else np.uint32
    seen = np.cumsum((event_moved & np.uint8(switch | back)) == switch, dtype=narrow)
    mix = np.minimum(1 + (seen[at] - seen[first_row][journey]).astype(np.int32), MIX_CAP)
    # Re-identifying is only possible for a customer who had identified before: compared apart. Whether the
    # customer identified yet is carried from each journey's start and each identification.
    identified = events.get_column("identified").fill_null(False).to_numpy()
    so_far = _carried(starts | identified, identified)
    source = metrics.tp[at]
    segments = "attr_segment" in events.columns
    segment: IntArray = np.zeros(1, dtype=np.int64)
    if segments:
        codes = events.get_column("attr_segment").cast(pl.Categorical).to_physical().cast(pl.Int64).fill_null(-1)
        segment = codes.to_numpy()[at] + 1
    n_segments = int(segment.max()) + 1 if segment.size else 1
    wide = np.int32 if metrics.n_tp * n_segments * MIX_CAP * 2 < 2**31 else np.int64
    place = (source.astype(wide) * n_segments + segment.astype(wide)) * MIX_CAP + (mix - 1)
    stratum, _ = dense_codes(place * 2 + so_far[at])
    # The graph re-run's state of every event: how the journey's last crossing went, carried from each
    # crossing's target (and each journey's start) to the next crossing, and whether the customer identified yet.
    # (Arrays of the targets' rows are read shifted by one: ``x[1:][at]`` is ``x[at + 1]``.)
    sources = moves.at[is_crossing] if unknown.any() else at
    how = np.full(n_events, _NONE, dtype=np.int8)
    how[1:][sources] = _KEPT
    how[1:][at[lost]] = _LOST
    how[1:][sources[metrics.last[1:][sources]]] = _ENDED
    marked = starts.copy()
    marked[1:][sources] = True
    how = _carried(marked, how)
    state: Signed = metrics.tp.astype(np.int16 if _HOW * 2 * metrics.n_tp <= 2**15 else np.int32)
    state *= _HOW
    state += how
    state *= 2
    state += so_far
    owner = metrics.owner
    return _Crossings(
        move=rows,
        at=at,
        end=end,
        journey=journey,
        customer=moves.customer[rows],
        source=source,
        target=metrics.tp[1:][at],
        source_channel=metrics.ch[at],
        target_channel=metrics.ch[1:][at],
        source_team=owner[at],
        target_team=owner[1:][at],
        channel_switch=(moved & np.uint8(MOVE_BITS["channel_switch"])) != 0,
        team_handoff=(moved & np.uint8(MOVE_BITS["team_handoff"])) != 0,
        lost=lost,
        stratum=stratum,
        outcome=metrics.outcome[journey],
        repeat_contact=(bits & _REPEAT_CONTACT_BIT) != 0,
        went_on=end - 1 > at,
        unknown_order=int(unknown.sum()),
        segments=segments,
        ts=events.get_column("ts").to_physical().to_numpy(),
        event_state=state,
    )


def _fix_rows(crossings: _Crossings, fix: Fix, log: EventLog) -> Mask:
    """Per crossing: whether it is one of ``fix``'s (codes the log does not have match nothing)."""
    labels = {"transition": log.touchpoints, "channel": log.channels, "team": log.owners}[fix.kind]
    if fix.source not in labels or fix.target not in labels:
        return np.zeros(crossings.move.size, dtype=bool)
    a, b = labels.index(fix.source), labels.index(fix.target)
    mine: Mask
    if fix.kind == "transition":
        mine = (crossings.source == a) & (crossings.target == b)
    elif fix.kind == "channel":
        mine = crossings.channel_switch & (crossings.source_channel == a) & (crossings.target_channel == b)
    else:
        mine = crossings.team_handoff & (crossings.source_team == a) & (crossings.target_team == b)
    return mine


# ---------------------------------------------------------------------------------------------------------------
# Outcomes and the stratified comparison


@dataclass(frozen=True)
class _Outcome:
    name: str
    label: str
    unit: Literal["share", "events", "hours"]


_OUTCOMES = (
    _Outcome("completion", "completion", "share"),
    _Outcome("repeat_contact", "repeat contact", "share"),
    _Outcome("effort", "effort (events to the end)", "events"),
    _Outcome("time_to_goal", "time to goal", "hours"),
)


def _measured_on(crossings: _Crossings, name: str, has_goal: bool, rows: IntArray) -> Mask | None:
    """Per crossing of ``rows``: whether ``name`` is measured on it (``None``: not measured at all)."""
    if name == "repeat_contact":
        return np.ones(rows.size, dtype=bool)
    outcome = crossings.outcome[rows]
    converted: Mask = outcome == 0
    finished: Mask = outcome != 2
    if name == "completion":
        return finished if has_goal else None
    if name == "effort":
        return converted if has_goal else finished
    return converted if has_goal else None


def _outcome_value(crossings: _Crossings, name: str, rows: IntArray) -> FloatArray:
    """Per crossing of ``rows``: the value of outcome ``name``."""
    if name == "completion":
        converted: Mask = crossings.outcome[rows] == 0
        return converted.astype(np.float64)
    if name == "repeat_contact":
        return crossings.repeat_contact[rows].astype(np.float64)
    at, end = crossings.at[rows], crossings.end[rows]
    if name == "effort":
        return (end - at).astype(np.float64)
    hours: FloatArray = (crossings.ts[end] - crossings.ts[at + 1]) / 3.6e9
    return hours


@dataclass(frozen=True)
class _Effects:
    """Per draw (rows) and group (columns): the stratified comparison of kept and lost crossings."""

    lost: FloatArray
    """Matched lost crossings (in strata that also have kept ones); weighted counts under bootstrap weights."""
    kept: FloatArray
    """Matched kept crossings."""
    unmatched: FloatArray
    """Lost crossings in strata without kept ones."""
    lost_mean: FloatArray
    """Matched lost crossings' mean."""
    kept_mean: FloatArray
    """Kept crossings' mean, each stratum weighted by its lost crossings."""

    @property
    def effect(self) -> FloatArray:
        """Kept − lost: what keeping the context changes on the lost crossings (NaN without matched ones)."""
        diff: FloatArray = self.kept_mean - self.lost_mean
        return diff


_POISSON_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(12)]).astype(np.float32)


def _poisson_weights(rng: np.random.Generator, shape: tuple[int, int]) -> Weights:
    """Poisson(1) weights: uniform draws through the inverse of its distribution function.

    Four times cheaper than :meth:`numpy.random.Generator.poisson`; a weight of 12 or more (probability below
    1e-9, under the resolution of the uniform draws) is never drawn.

    Examples
    --------
    >>> w = _poisson_weights(np.random.default_rng(0), (100, 10_000))
    >>> round(float(w.mean()), 2), round(float(w.var()), 2), float((w == 0).mean().round(2))
    (1.0, 1.0, 0.37)
    """
    uniform = rng.random(shape, dtype=np.float32)
    weights = np.zeros(shape, dtype=np.uint8)
    for threshold in _POISSON_CDF[:-1]:
        weights += uniform >= threshold
    return weights


def _sums(codes: IntArray, weights: FloatArray | None, size: int) -> FloatArray:
    """Per code ``0..size-1``: the sum of ``weights`` (the count without), as floats."""
    return np.asarray(np.bincount(codes, weights=weights, minlength=size)[:size], dtype=np.float64)


def _compare(
    group: IntArray,
    stratum: IntArray,
    lost: Mask,
    value: FloatArray,
    n_groups: int,
    weights: Weights | None = None,
) -> _Effects:
    """Kept vs lost per group, inside strata, weighted by the lost crossings of each stratum.

    ``weights`` (draws × crossings, whole numbers) are bootstrap weights; ``None`` counts every crossing once.

    Examples
    --------
    Stratum 0: kept 1, 1, 0 (mean 2/3), lost 0, 0 (two). Stratum 1: kept 1, lost 1, 0 (two).
    Stratum 2: lost only (unmatched).

    >>> e = _compare(np.zeros(9, dtype=np.int64), np.array([0, 0, 0, 0, 0, 1, 1, 1, 2]),
    ...              np.array([0, 0, 0, 1, 1, 0, 1, 1, 1], dtype=bool), np.array([1., 1, 0, 0, 0, 1, 1, 0, 1]), 1)
    >>> e.lost.tolist(), e.kept.tolist(), e.unmatched.tolist()
    ([[4.0]], [[4.0]], [[1.0]])
    >>> round(float(e.kept_mean[0, 0]), 4), float(e.lost_mean[0, 0]), round(float(e.effect[0, 0]), 4)
    (0.8333, 0.25, 0.5833)
    """
    n_strata = int(stratum.max()) + 1 if stratum.size else 1
    place, original = dense_codes(group * n_strata + stratum)
    cell = place * 2 + lost
    n_cells = 2 * original.size
    draws = 1 if weights is None else weights.shape[0]
    if weights is None:
        count = _sums(cell, None, n_cells)[None]
        total = _sums(cell, value, n_cells)[None]
    else:
        # Crossings grouped by cell, each cell's weights summed per draw in one pass.
        order = np.argsort(cell, kind="stable")
        ordered = cell[order]
        bounds = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if cell.size else np.zeros(0, dtype=np.int64)
        count = np.zeros((draws, n_cells))
        total = np.zeros((draws, n_cells))
        if cell.size:
            grouped = weights if np.array_equal(order, np.arange(cell.size)) else weights[:, order]
            count[:, ordered[bounds]] = np.add.reduceat(grouped, bounds, axis=1, dtype=np.float64)
            total[:, ordered[bounds]] = np.add.reduceat(grouped * value[order], bounds, axis=1)
    count = count.reshape(draws, -1, 2)
    total = total.reshape(draws, -1, 2)
    n_kept, n_lost = count[..., 0], count[..., 1]
    matched = (n_kept > 0) & (n_lost > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        kept_mean = np.where(matched, total[..., 0] / n_kept, 0.0)
    owner = original // n_strata

    def per_group(values: FloatArray) -> FloatArray:
        flat_group = (np.arange(draws, dtype=np.int64)[:, None] * n_groups + owner[None, :]).ravel()
        return _sums(flat_group, values.ravel(), draws * n_groups).reshape(draws, n_groups)

    lost_n = per_group(np.where(matched, n_lost, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _Effects(
            lost=lost_n,
            kept=per_group(np.where(matched, n_kept, 0.0)),
            unmatched=per_group(np.where(matched, 0.0, n_lost)),
            lost_mean=per_group(np.where(matched, total[..., 1], 0.0)) / lost_n,
            kept_mean=per_group(np.where(matched, n_lost * kept_mean, 0.0)) / lost_n,
        )


# ---------------------------------------------------------------------------------------------------------------
# The estimate for one fix


@dataclass(frozen=True)
class OutcomeEffect:
    """One outcome of a fix's crossings: kept vs lost, the effect of keeping the context, the prediction.

    ``effect``, its ``interval``, ``predicted`` and its ``predicted_interval`` are ``None`` when there is
    not enough evidence (fewer than :data:`MIN_CROSSINGS` matched lost or kept crossings).
    Shares are between 0 and 1, effort in events, time in hours.
    """

    outcome: str
    label: str
    unit: str
    measured: int
    """Crossings this outcome is measured on."""
    observed: float | None
    """Mean over those crossings, as observed."""
    lost_crossings: int
    kept_crossings: int
    unmatched: int
    lost_mean: float | None
    kept_mean: float | None
    effect: float | None
    interval: tuple[float, float] | None
    predicted: float | None
    predicted_interval: tuple[float, float] | None

    @property
    def enough(self) -> bool:
        """Whether there was enough evidence to give a number."""
        return self.effect is not None


@dataclass(frozen=True)
class FixEstimate:
    """The estimate from the observed crossings of one fix (see the module docstring)."""

    fix: Fix
    crossings: int
    lost: int
    kept: int
    customers_affected: int
    """Distinct customers with at least one crossing that lost the context."""
    ended_at_once: int
    """Crossings whose journey ended at the target: not compared (whether they lost the context cannot be told)."""
    outcomes: tuple[OutcomeEffect, ...]
    assumptions: tuple[str, ...]
    draws: int
    bootstrap_crossings: int
    """Crossings the bootstrap resampled: all of them, or a subsample above :data:`BOOTSTRAP_CAP`."""

    def outcome(self, name: str) -> OutcomeEffect | None:
        """The outcome called ``name`` (``None`` when not measured, e.g. completion without a goal)."""
        return next((o for o in self.outcomes if o.outcome == name), None)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def estimate_fix(
    prepared: PreparedOverlay,
    fix: Fix,
    *,
    keep: Mask | None = None,
    draws: int = DRAWS,
    seed: int = 0,
    min_crossings: int = MIN_CROSSINGS,
) -> FixEstimate:
    """Compare the crossings of ``fix`` that kept the context with those that lost it (module docstring).

    Parameters
    ----------
    prepared:
        :func:`journeymap.events.overlay.prepare_overlay` of the log and map.
    fix:
        The handoff (:meth:`Fix.parse`).
    keep:
        The journeys the overlay's filters keep (by journey id; ``None``: all).
    draws, seed:
        Bootstrap draws and the seed of their random generator.
    min_crossings:
        Fewest matched lost and kept crossings for a number.
    """
    crossings = _crossings(prepared)
    mine = _fix_rows(crossings, fix, prepared.log)
    if keep is not None:
        mine &= keep[crossings.journey]
    rows = np.flatnonzero(mine)
    stratum, lost, went_on = crossings.stratum[rows], crossings.lost[rows], crossings.went_on[rows]
    measured = []
    for spec in _OUTCOMES:
        on = _measured_on(crossings, spec.name, prepared.has_goal, rows)
        if on is not None:
            measured.append((spec, on, _outcome_value(crossings, spec.name, rows)))
    points = [_point(spec, stratum, lost, on, on & went_on, value, min_crossings) for spec, on, value in measured]
    # The bootstrap resamples journeys; above the cap, a uniform subsample of them (one draw of weights per
    # journey serves every outcome).
    rng = np.random.default_rng(seed)
    journeys, journey_of = np.unique(crossings.journey[rows], return_inverse=True)
    sampled = np.ones(rows.size, dtype=bool)
    if rows.size > BOOTSTRAP_CAP:
        sampled = (rng.random(journeys.size) < BOOTSTRAP_CAP / rows.size)[journey_of]
    scale = math.sqrt(int(sampled.sum()) / rows.size) if rows.size else 1.0
    journeys, journey_of = np.unique(journey_of[sampled], return_inverse=True)
    sample = np.flatnonzero(sampled)
    # Each outcome's compared crossings in order of stratum and loss, so that their cells come in runs.
    wanted = []
    for i, ((_, on, value), point) in enumerate(zip(measured, points, strict=True)):
        if point.effect is not None:
            columns = np.flatnonzero((on & went_on)[sample])
            sub = sample[columns]
            wanted.append((i, columns[np.lexsort((lost[sub], stratum[sub]))], value))

    def effects(columns: IntArray, value: FloatArray, weights: Weights | None = None) -> FloatArray:
        sub = sample[columns]
        group = np.zeros(sub.size, dtype=np.int64)
        return _compare(group, stratum[sub], lost[sub], value[sub], 1, weights).effect[:, 0]

    spreads: dict[int, list[FloatArray]] = {i: [] for i, _, _ in wanted}
    chunk = max(1, 4_000_000 // max(journey_of.size, 1))
    for first in range(0, draws if wanted else 0, chunk):
        weights = _poisson_weights(rng, (min(chunk, draws - first), journeys.size))
        for i, columns, value in wanted:
            spreads[i].append(effects(columns, value, weights[:, journey_of[columns]]))
    outcomes = list(points)
    for i, columns, value in wanted:
        spread = np.concatenate(spreads[i]) - float(effects(columns, value)[0])
        finite = spread[np.isfinite(spread)]
        # A draw that leaves no stratum with both kept and lost crossings has no effect: with most draws
        # like that the evidence is too thin for an interval.
        if 2 * finite.size < spread.size:
            outcomes[i] = replace(points[i], effect=None)
        else:
            bounds = np.quantile(finite, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
            outcomes[i] = _with_interval(points[i], bounds, scale)
    n_lost = int(lost.sum())
    ended = int((~went_on).sum())
    return FixEstimate(
        fix=fix,
        crossings=int(rows.size),
        lost=n_lost,
        kept=int(rows.size) - n_lost,
        customers_affected=int(np.unique(crossings.customer[rows[lost]]).size),
        ended_at_once=ended,
        outcomes=tuple(outcomes),
        assumptions=_estimate_assumptions(
            crossings, outcomes, ended, prepared.has_goal, draws, seed, int(sampled.sum()), rows.size
        ),
        draws=draws,
        bootstrap_crossings=int(sampled.sum()),
    )


def _point(
    spec: _Outcome,
    stratum: IntArray,
    lost: Mask,
    on: Mask,
    compared: Mask,
    value: FloatArray,
    min_crossings: int,
) -> OutcomeEffect:
    """``spec`` measured on the crossings ``on``, kept and lost compared on the crossings ``compared``.

    The effect is given (without its interval yet) when there is enough evidence.
    """
    point = _compare(
        np.zeros(int(compared.sum()), dtype=np.int64), stratum[compared], lost[compared], value[compared], 1
    )
    measured = int(on.sum())
    observed = float(value[on].mean()) if measured else None
    n_lost, n_kept = int(point.lost[0, 0]), int(point.kept[0, 0])
    enough = n_lost >= min_crossings and n_kept >= min_crossings and observed is not None
    return OutcomeEffect(
        outcome=spec.name,
        label=spec.label,
        unit=spec.unit,
        measured=measured,
        observed=observed,
        lost_crossings=n_lost,
        kept_crossings=n_kept,
        unmatched=int(point.unmatched[0, 0]),
        lost_mean=_number(point.lost_mean[0, 0]) if n_lost else None,
        kept_mean=_number(point.kept_mean[0, 0]) if n_lost else None,
        effect=float(point.effect[0, 0]) if enough else None,
        interval=None,
        predicted=None,
        predicted_interval=None,
    )


def _with_interval(point: OutcomeEffect, spread: FloatArray, scale: float) -> OutcomeEffect:
    """The effect's interval from the bootstrap's spread around its own estimate, and the prediction."""
    assert point.effect is not None and point.observed is not None
    low, high = (point.effect + scale * float(bound) for bound in spread)
    share = point.lost_crossings / point.measured
    return replace(
        point,
        interval=(low, high),
        predicted=point.observed + share * point.effect,
        predicted_interval=(point.observed + share * low, point.observed + share * high),
    )


def _estimate_assumptions(
    crossings: _Crossings,
    outcomes: Sequence[OutcomeEffect],
    ended: int,
    has_goal: bool,
    draws: int,
    seed: int,
    sampled: int,
    total: int,
) -> tuple[str, ...]:
    strata = (
        "source touchpoint (and so stage), segment and"
        if crossings.segments
        else "source touchpoint (and so stage) and"
    )
    # Repeat contact is measured on every crossing: its unmatched lost crossings are the whole handoff's.
    unmatched = next((o.unmatched for o in outcomes if o.outcome == "repeat_contact"), 0)
    lines = [
        "A crossing is a move of this handoff whose two events were recorded in different channels or by different "
        "teams.",
        "Context counts as lost at a crossing when the customer re-identified, repeated a step or bounced back after "
        "it; repeat contacts and abandons are outcomes and never part of that definition.",
        f"Only crossings after which the customer took another step are compared, as the signs show in the events "
        f"after a crossing; {ended:,} ended the journey at the target, whether they lost the context cannot be told, "
        "and they keep their observed outcome.",
        f"Kept and lost crossings are compared within strata of the same {strata} number of channels used before the "
        f"crossing (1, 2, {MIX_CAP} or more); nothing else that differs between them is adjusted for.",
        "The effect is kept minus lost within each stratum, averaged over the lost crossings; "
        f"{unmatched:,} lost crossing{'s' if unmatched != 1 else ''} in strata without kept ones "
        f"{'are' if unmatched != 1 else 'is'} left out.",
        "The prediction gives the lost crossings the outcomes of the kept crossings of their stratum, as if the "
        "signs, and nothing unmeasured behind them, made the difference.",
    ]
    if has_goal:
        lines.append(
            "Completion counts journeys that are over (ongoing ones are left out); effort and time to goal are "
            "measured on converted journeys, so they compare customers who got there."
        )
    else:
        lines.append(
            "Without a goal nothing converts: completion and time to goal are not measured, and effort counts the "
            "events to the end of every journey that is over."
        )
    lines.append(
        f"Intervals are {CONFIDENCE:.0%} bootstrap percentiles over journeys ({draws} draws of Poisson(1) weights "
        f"per journey, seed {seed})"
        + (
            f", drawn on a uniform subsample of {sampled:,} of the {total:,} crossings with the spread scaled by "
            f"√({sampled:,}/{total:,})."
            if sampled < total
            else "."
        )
    )
    if crossings.unknown_order:
        lines.append(
            f"{crossings.unknown_order:,} crossings between two events of the same time (a log of coarse times) are "
            "left out: their order is unknown."
        )
    return tuple(lines)


# ---------------------------------------------------------------------------------------------------------------
# The journey graph re-run: an absorbing Markov chain over touchpoint × how the last crossing went


@dataclass(frozen=True)
class KpiForecast:
    """One journey KPI: observed, predicted with the fixes, and two 95% intervals.

    ``interval`` is the prediction's (how sure the KPI with the fixes is: the rows' own sampling included);
    ``change_interval`` the change's (predicted - observed: the same draws of the chain as is and fixed).
    """

    name: str
    label: str
    unit: str
    observed: float
    predicted: float
    interval: tuple[float, float]
    change_interval: tuple[float, float]


@dataclass(frozen=True)
class GraphRerun:
    """The journey graph re-run with some handoffs fixed (see the module docstring)."""

    fixes: tuple[Fix, ...]
    kpis: tuple[KpiForecast, ...]
    journeys: int
    """Journeys the chain is fitted on (those that are over)."""
    moves: int
    states: int
    fixed_crossings: int
    """Lost crossings of the fixed handoffs sent to the kept state."""
    unfixable: int
    """Lost crossings left lost: no customer ever arrived at their target with context kept."""
    draws: int
    assumptions: tuple[str, ...]

    def kpi(self, name: str) -> KpiForecast | None:
        """The KPI called ``name`` (``None`` when not measured)."""
        return next((k for k in self.kpis if k.name == name), None)


@dataclass(frozen=True, eq=False)
class _Chain:
    """Transition counts of the fitted chain, as classes of moves sharing (from, to as is, to fixed, crossing).

    A state is (touchpoint, how the journey's last crossing went, identified yet in the journey), densely
    numbered; the two absorbing states follow: ``states`` (converted) and ``states + 1`` (ended).
    """

    states: int
    cells: IntArray
    """The key of each cell of moves as is: ``(from * (states + 2) + to) * 2 + crossing``, ascending."""
    source: IntArray
    to_as_is: IntArray
    to_fixed: IntArray
    crossing: Mask
    count: FloatArray
    lost_state: Mask
    """Per state (and the two absorbing ones): the journey's last crossing lost the context."""
    kept_twin: IntArray
    """Per state: the same touchpoint and identification with the context kept (-1 when never visited)."""
    starts: FloatArray
    journeys: int
    moves: int
    crossing_from: Signed
    """Per crossing: its source state (-1 when its journey is not in the fit)."""
    crossing_to: Signed
    """Per crossing: its target state as is (-1 when its journey is not in the fit)."""
    fixed: int
    """Lost crossings sent to their kept twin."""
    unfixable: int


_chains: list[tuple[PreparedOverlay, Mask | None, _Chain]] = []


def _fit_chain(prepared: PreparedOverlay, crossings: _Crossings, keep: Mask | None) -> _Chain:
    """The chain as is, fitted on the journeys that are over (and ``keep`` keeps); the last one is kept."""
    if _chains and _chains[0][0] is prepared and _chains[0][1] is keep:
        return _chains[0][2]
    metrics = prepared.metrics
    in_fit = metrics.outcome != 2
    if keep is not None:
        in_fit = in_fit & keep[: in_fit.size]
    state = crossings.event_state
    event_in = in_fit[metrics.journey]
    present = np.zeros(_HOW * 2 * metrics.n_tp, dtype=bool)
    present[state[event_in]] = True
    dense = np.cumsum(present, dtype=np.int64) - 1
    n_states = int(present.sum())
    width = n_states + 2
    original = np.flatnonzero(present)
    kept = original + (_KEPT - (original // 2) % _HOW) * 2
    # Each event's state, densely numbered, in the narrowest type that holds a cell's key.
    top = 2 * width * width
    of_event: Signed = np.take(dense.astype(np.int32 if top < 2**31 else np.int64), state)
    # A move goes from each event to the next one of its journey (``PreparedLog.transitions``), with that
    # event's move flags; each journey that is over is absorbed after its last event: converted or ended. Every
    # event of the journeys in the fit gives one key, counted in blocks.
    onward = np.empty_like(of_event)
    onward[:-1] = of_event[1:]
    last = np.flatnonzero(metrics.last)
    onward[last] = np.where(metrics.outcome[metrics.journey[last]] == 0, n_states, n_states + 1)
    keys = of_event * width
    keys += onward
    keys *= 2
    moved = prepared.log.events.get_column("moved").to_numpy()
    keys[:-1] += ~metrics.last[:-1] & ((moved[1:] & _CROSSING_BITS) != 0)
    keys = keys[event_in]
    if top <= _BLOCK:
        blocks = (np.bincount(keys[i : i + _BLOCK], minlength=top) for i in range(0, keys.size, _BLOCK))
        counts = sum(blocks, np.zeros(top, dtype=np.int64))
        cells = np.flatnonzero(counts)
        count = np.asarray(counts, dtype=np.float64)[cells]
    else:
        cell, cells = dense_codes(keys)
        count = np.bincount(cell, minlength=cells.size).astype(np.float64)
    journey_in = in_fit[crossings.journey]
    first = np.flatnonzero(np.r_[True, metrics.last[:-1]] & event_in) if state.size else np.zeros(0, dtype=np.int64)
    pair = cells // 2
    chain = _Chain(
        states=n_states,
        cells=cells,
        source=pair // width,
        to_as_is=pair % width,
        to_fixed=pair % width,
        crossing=(cells % 2).astype(bool),
        count=count,
        lost_state=np.r_[(original // 2) % _HOW == _LOST, False, False],
        kept_twin=np.where(present[kept], dense[kept], -1),
        starts=np.bincount(of_event[first], minlength=n_states).astype(np.float64),
        journeys=int(first.size),
        moves=int(keys.size - first.size),
        crossing_from=np.where(journey_in, of_event[crossings.at], -1),
        crossing_to=np.where(journey_in, of_event[1:][crossings.at], -1),
        fixed=0,
        unfixable=0,
    )
    _chains[:] = [(prepared, keep, chain)]
    return chain


def _fix_chain(chain: _Chain, crossings: _Crossings, fixed: Mask) -> _Chain:
    """``chain`` with the lost crossings that ``fixed`` marks sent to their target's kept twin.

    Each cell of moves is split in classes: the part that stays, and the fixed part that goes elsewhere.
    """
    restore = fixed & crossings.lost & crossings.went_on & (chain.crossing_to >= 0)
    twin = np.full(restore.size, -1, dtype=np.int64)
    twin[restore] = chain.kept_twin[chain.crossing_to[restore]]
    fixable = twin >= 0
    width = chain.states + 2
    key = (chain.crossing_from[fixable] * width + chain.crossing_to[fixable]) * 2 + 1
    moved = np.bincount(np.searchsorted(chain.cells, key), minlength=chain.cells.size).astype(np.float64)
    has_moved = np.flatnonzero(moved > 0)
    classes = np.r_[np.arange(chain.cells.size), has_moved]
    weights = np.r_[chain.count - moved, moved[has_moved]]
    nonzero = weights > 0
    return replace(
        chain,
        source=chain.source[classes][nonzero],
        to_as_is=chain.to_as_is[classes][nonzero],
        to_fixed=np.r_[chain.to_as_is, chain.kept_twin[chain.to_as_is[has_moved]]][nonzero],
        crossing=chain.crossing[classes][nonzero],
        count=weights[nonzero],
        fixed=int(fixable.sum()),
        unfixable=int((restore & ~fixable).sum()),
    )


_KPIS = (
    ("completion", "completion rate", "share"),
    ("drop_off", "drop-off", "share"),
    ("events", "events per journey", "events"),
    ("handoffs", "handoffs per journey", "handoffs"),
    ("lost_handoffs", "handoffs losing context per journey", "handoffs"),
)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _one_blas_thread(work: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``work`` on one BLAS thread: its solves are small, and threads fighting for two cores cost 100 times."""

    @functools.wraps(work)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with threadpool_limits(limits=1, user_api="blas"):
            return work(*args, **kwargs)

    return run


@_one_blas_thread
def _solve(chain: _Chain, to: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Solve the chain whose classes go to ``to``, for every KPI of :data:`_KPIS` (columns).

    Each KPI is ``s N g``: ``s`` the start distribution, ``N = (I - Q)^-1`` and ``g`` what one step from each
    state brings (absorption in converted or ended, one event, a crossing, a lost crossing). Returns the
    KPIs per journey, their gradient per class of moves (``v[from] * (value[to] + reward)``, ``v = s N``,
    ``value = N g``) and per start state (``value``), and each class's probability.
    """
    n = chain.states
    totals = np.bincount(chain.source, weights=chain.count, minlength=n)
    prob = chain.count / totals[chain.source]
    reward = np.stack(
        [to == n, to == n + 1, np.ones(to.size, dtype=bool), chain.crossing, chain.crossing & chain.lost_state[to]],
        axis=1,
    ).astype(np.float64)
    inside = to < n
    q = np.bincount(chain.source[inside] * n + to[inside], weights=prob[inside], minlength=n * n).reshape(n, n)
    system = np.eye(n) - q
    per_step = np.stack(
        [np.bincount(chain.source, weights=prob * reward[:, k], minlength=n) for k in range(reward.shape[1])], axis=1
    )
    value = np.linalg.solve(system, per_step)
    start = chain.starts / chain.starts.sum()
    visits = np.linalg.solve(system.T, start)
    onward = np.where(inside[:, None], value[np.minimum(to, n - 1)], 0.0)
    gradient: FloatArray = visits[chain.source][:, None] * (onward + reward)
    kpis: FloatArray = start @ value
    return kpis, gradient, np.asarray(value, dtype=np.float64), prob


def rerun_journey_graph(
    prepared: PreparedOverlay,
    fixes: Sequence[Fix],
    *,
    keep: Mask | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> GraphRerun:
    """Re-run the journey graph with the lost crossings of ``fixes`` sent to the kept state (module docstring).

    Completion and drop-off are only given when the journeys have a goal.
    """
    crossings = _crossings(prepared)
    fixed = np.zeros(crossings.move.size, dtype=bool)
    for fix in fixes:
        fixed |= _fix_rows(crossings, fix, prepared.log)
    chain = _fix_chain(_fit_chain(prepared, crossings, keep), crossings, fixed)
    if chain.journeys == 0:
        nothing = (
            "No journey is over (each one's last event lies within one gap of the log's end), so there is no "
            "journey graph to fit.",
        )
        return GraphRerun(tuple(fixes), (), 0, 0, 0, 0, 0, draws, nothing)
    point_as_is, gradient_as_is, start_as_is, prob = _solve(chain, chain.to_as_is)
    point_fixed, gradient_fixed, start_fixed, _ = _solve(chain, chain.to_fixed)
    # Dirichlet draws of every row and of the start distribution (gamma variates per class), the same draw
    # serving the chain as is and fixed; each draw is carried to first order through the gradients.
    rng = np.random.default_rng(seed)
    gamma = rng.gamma(np.broadcast_to(chain.count, (draws, chain.count.size)))
    row = (np.arange(draws, dtype=np.int64)[:, None] * chain.states + chain.source[None, :]).ravel()
    rows = np.bincount(row, weights=gamma.ravel(), minlength=draws * chain.states).reshape(draws, chain.states)
    step = gamma / rows[:, chain.source] - prob
    visited = chain.starts > 0
    starts = np.zeros((draws, chain.states))
    starts[:, visited] = rng.gamma(np.broadcast_to(chain.starts[visited], (draws, int(visited.sum()))))
    start_step = starts / starts.sum(axis=1, keepdims=True) - chain.starts / chain.starts.sum()
    levels = [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2]
    with threadpool_limits(limits=1, user_api="blas"):  # as in _one_blas_thread
        low, high = np.quantile(step @ gradient_fixed + start_step @ start_fixed, levels, axis=0)
        change = step @ (gradient_fixed - gradient_as_is) + start_step @ (start_fixed - start_as_is)
    change_low, change_high = np.quantile(change, levels, axis=0)
    observed = _observed_kpis(prepared, crossings, keep)
    kpis = []
    for k, (name, label, unit) in enumerate(_KPIS):
        if prepared.has_goal or name not in ("completion", "drop_off"):
            gain = float(point_fixed[k] - point_as_is[k])
            predicted = observed[name] + gain
            interval = (predicted + float(low[k]), predicted + float(high[k]))
            changes = (gain + float(change_low[k]), gain + float(change_high[k]))
            kpis.append(KpiForecast(name, label, unit, observed[name], predicted, interval, changes))
    return GraphRerun(
        fixes=tuple(fixes),
        kpis=tuple(kpis),
        journeys=chain.journeys,
        moves=chain.moves,
        states=chain.states,
        fixed_crossings=chain.fixed,
        unfixable=chain.unfixable,
        draws=draws,
        assumptions=_rerun_assumptions(chain, draws, seed),
    )


def _observed_kpis(prepared: PreparedOverlay, crossings: _Crossings, keep: Mask | None) -> dict[str, float]:
    """The observed figures the chain reproduces, over the journeys that are over (kept by ``keep``)."""
    metrics = prepared.metrics
    outcome = metrics.outcome
    in_fit = outcome != 2 if keep is None else (outcome != 2) & keep[: outcome.size]
    journeys = max(int(in_fit.sum()), 1)
    moves = metrics.transitions
    is_crossing = (moves.moved & _CROSSING_BITS) != 0
    lost = crossings.lost & crossings.went_on & in_fit[crossings.journey]
    return {
        "completion": float((in_fit & (outcome == 0)).sum()) / journeys,
        "drop_off": float((in_fit & (outcome == 1)).sum()) / journeys,
        "events": float(in_fit[metrics.journey].sum()) / journeys,
        "handoffs": float((is_crossing & in_fit[moves.journey]).sum()) / journeys,
        "lost_handoffs": float(lost.sum()) / journeys,
    }


def _rerun_assumptions(chain: _Chain, draws: int, seed: int) -> tuple[str, ...]:
    lines = [
        f"The journey graph is a Markov chain fitted from {chain.moves:,} moves of {chain.journeys:,} journeys that "
        f"are over; its {chain.states} states are a touchpoint, how the journey's last crossing went (none yet, kept, "
        "lost, or the journey ended there) and whether the customer had identified yet, and what a customer does next "
        "depends on that state only.",
        "A fixed handoff sends its lost crossings to the same touchpoint with context kept, from where customers go "
        "on as those who arrived there with context kept did; crossings that ended the journey at once stay as they "
        "are.",
        f"Predicted = observed + (model with the fixes - model as is); intervals are {CONFIDENCE:.0%} percentiles of "
        f"{draws} draws of every state's transition probabilities (Dirichlet on the counts, seed {seed}), each draw "
        "carried to first order through the chain's fundamental matrix: the prediction's over the model with the "
        "fixes, the change's over the same draws of both models.",
        "Events per journey count every journey that is over, converted or not.",
    ]
    if chain.unfixable:
        lines.append(
            f"{chain.unfixable:,} lost crossings stay lost: no customer ever arrived at their target touchpoint with "
            "context kept, so there is no behaviour to give them."
        )
    return tuple(lines)


# ---------------------------------------------------------------------------------------------------------------
# Ranking every candidate handoff

RANKING_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "source": pl.String(),
    "target": pl.String(),
    "label": pl.String(),
    "crossings": pl.Int64(),
    "lost": pl.Int64(),
    "kept": pl.Int64(),
    "customers_affected": pl.Int64(),
    "effect": pl.Float64(),
    "gain": pl.Float64(),
    "graph_gain": pl.Float64(),
}
"""One row per candidate handoff. With a goal, ``effect`` is the effect on completion, ``gain`` = customers
affected × effect (customers more who complete) and ``graph_gain`` the graph re-run's change in completion ×
journeys (journeys more that complete). Without a goal, ``effect`` is the effect on effort (events to the
end), ``gain`` = customers affected × −effect (events saved) and ``graph_gain`` the events per journey saved ×
journeys. ``effect`` and ``gain`` are null when there is not enough evidence; ``graph_gain`` is given for the
:data:`RANK_GRAPH_LIMIT` candidates of highest ``gain`` (null for the others)."""


_KINDS: tuple[FixKind, ...] = ("transition", "channel", "team")
_KIND_SUFFIX = ("", " (channel switch)", " (team handoff)")


def _candidates(
    crossings: _Crossings, prepared: PreparedOverlay, journey_map: JourneyMap | None
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Every candidate (its kind in :data:`_KINDS`, source and target codes), and the (crossing, candidate)
    pairs of membership."""
    log, metrics = prepared.log, prepared.metrics
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []

    def add(kind: int, rows: IntArray, source: Codes, target: Codes, width: int) -> None:
        dense, original = dense_codes(source[rows].astype(np.int64) * width + target[rows])
        offset = sum(part[0].size for part in parts)
        parts.append((np.full(original.size, kind), original // width, original % width, rows, dense + offset))

    if journey_map is not None:
        from journeymap.graph import find_handoffs  # networkx loads only when a map is compared

        code = {label: i for i, label in enumerate(log.touchpoints)}
        designed = np.zeros((metrics.n_tp, metrics.n_tp), dtype=bool)
        for h in find_handoffs(journey_map):
            if h.source in code and h.target in code:
                designed[code[h.source], code[h.target]] = True
        rows = np.flatnonzero(designed[crossings.source, crossings.target])
        add(0, rows, crossings.source, crossings.target, metrics.n_tp)
    add(1, np.flatnonzero(crossings.channel_switch), crossings.source_channel, crossings.target_channel, metrics.n_ch)
    add(2, np.flatnonzero(crossings.team_handoff), crossings.source_team, crossings.target_team, metrics.n_owner)
    kind, source, target, rows, candidate = (np.concatenate(column) for column in zip(*parts, strict=True))
    return kind, source, target, rows, candidate


def _named(
    log: EventLog, journey_map: JourneyMap | None, kind: IntArray, source: IntArray, target: IntArray
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Candidates' kinds, source and target ids and labels (as :func:`_label` says them), from their codes."""
    ids = (log.touchpoints, log.channels, log.owners)
    shown = (
        [touchpoint_label(label, journey_map) for label in log.touchpoints],
        [channel_label(label, journey_map) for label in log.channels],
        list(log.owners),
    )
    start = np.cumsum([0, *(len(labels) for labels in ids[:-1])])[kind]
    every_id = np.array([label for labels in ids for label in labels], dtype=object)
    every_shown = np.array([label for labels in shown for label in labels], dtype=object)
    labels = every_shown[start + source] + " → " + every_shown[start + target] + np.array(_KIND_SUFFIX, object)[kind]
    kinds = np.array(_KINDS, dtype=object)[kind]
    return kinds.tolist(), every_id[start + source].tolist(), every_id[start + target].tolist(), labels.tolist()


def rank_handoffs(
    prepared: PreparedOverlay,
    journey_map: JourneyMap | None,
    *,
    keep: Mask | None = None,
    min_crossings: int = MIN_CROSSINGS,
) -> pl.DataFrame:
    """Every candidate handoff with at least ``min_crossings`` lost and kept crossings, best predicted gain first.

    Candidates are the map's designed handoffs (transitions that cross channels or teams on the map), and the
    observed channel and team pairs. Columns: :data:`RANKING_SCHEMA`.
    """
    crossings = _crossings(prepared)
    kind, source, target, rows, candidate = _candidates(crossings, prepared, journey_map)
    if keep is not None:
        inside = keep[crossings.journey[rows]]
        rows, candidate = rows[inside], candidate[inside]
    lost = crossings.lost[rows]
    n = kind.size
    n_lost = np.bincount(candidate[lost], minlength=n)
    n_all = np.bincount(candidate, minlength=n)
    enough = (n_lost >= min_crossings) & (n_all - n_lost >= min_crossings)
    chosen = np.flatnonzero(enough)
    if chosen.size == 0:
        return pl.DataFrame(schema=RANKING_SCHEMA)
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[chosen] = np.arange(chosen.size)
    inside = enough[candidate]
    rows, group, lost = rows[inside], renumber[candidate[inside]], lost[inside]
    kpi = "completion" if prepared.has_goal else "effort"
    measured = _measured_on(crossings, kpi, prepared.has_goal, rows)
    assert measured is not None  # completion with a goal, effort always
    on = measured & crossings.went_on[rows]
    compared_rows = rows[on]
    value = _outcome_value(crossings, kpi, compared_rows)
    compared = _compare(group[on], crossings.stratum[compared_rows], lost[on], value, chosen.size)
    sufficient = (compared.lost[0] >= min_crossings) & (compared.kept[0] >= min_crossings)
    effect = np.where(sufficient, compared.effect[0], np.nan)
    customers_of = group[lost] * (int(crossings.customer.max()) + 1) + crossings.customer[rows[lost]]
    _, distinct = dense_codes(customers_of)
    customers = np.bincount(distinct // (int(crossings.customer.max()) + 1), minlength=chosen.size)
    gain = customers * (effect if prepared.has_goal else -effect)
    # The graph re-run's gain for the candidates of highest predicted gain (those with a number first).
    order = np.lexsort((-n_lost[chosen], -np.nan_to_num(gain, nan=-np.inf)))
    graph_gain = _graph_gains(prepared, crossings, rows, group, lost, order[:RANK_GRAPH_LIMIT], chosen.size, keep)
    kinds, sources, targets, labels = _named(prepared.log, journey_map, kind[chosen], source[chosen], target[chosen])
    frame = pl.DataFrame(
        {
            "kind": kinds,
            "source": sources,
            "target": targets,
            "label": labels,
            "crossings": n_all[chosen],
            "lost": n_lost[chosen],
            "kept": n_all[chosen] - n_lost[chosen],
            "customers_affected": customers,
            "effect": effect,
            "gain": gain,
            "graph_gain": graph_gain,
        },
        schema=RANKING_SCHEMA,
    ).with_columns(pl.col("effect", "gain", "graph_gain").fill_nan(None))
    return frame.sort(["gain", "lost", "label"], descending=[True, True, False], nulls_last=True)


@_one_blas_thread
def _graph_gains(
    prepared: PreparedOverlay,
    crossings: _Crossings,
    rows: IntArray,
    group: IntArray,
    lost: Mask,
    wanted: IntArray,
    n_groups: int,
    keep: Mask | None,
) -> FloatArray:
    """Per candidate of ``wanted``: the graph re-run's gain with that handoff alone fixed, NaN for the others.

    A fix changes only the rows of its lost crossings' source states (``Q' = Q + E D``, ``E`` picking those
    ``r`` rows), so with ``N = (I - Q)^-1``, the expected visits ``v = s N`` and the value per state
    ``h = N r`` (absorption in *converted*, or events to the end), the change is exactly
    ``v E (I - D N E)^-1 D h`` (Woodbury): one ``r × r`` solve per candidate instead of a whole chain.
    """
    chain = _fit_chain(prepared, crossings, keep)
    if chain.journeys == 0:
        return np.full(n_groups, np.nan)
    n, width = chain.states, chain.states + 2
    totals = _sums(chain.source, chain.count, n)
    p = _sums(chain.source * width + chain.to_as_is, chain.count, n * width).reshape(n, width) / totals[:, None]
    fundamental = np.linalg.inv(np.eye(n) - p[:, :n])
    visits = (chain.starts / chain.starts.sum()) @ fundamental
    value = fundamental @ (p[:, n] if prepared.has_goal else np.ones(n))
    # Each candidate's lost crossings move from (target, lost) to (target, kept), in their source's row.
    is_wanted = np.zeros(n_groups, dtype=bool)
    is_wanted[wanted] = True
    movable = np.flatnonzero(lost & is_wanted[group])
    movable = movable[crossings.went_on[rows[movable]]]
    source, target = chain.crossing_from[rows[movable]], chain.crossing_to[rows[movable]]
    twin = np.where(target >= 0, chain.kept_twin[np.maximum(target, 0)], -1)
    ok = (source >= 0) & (twin >= 0)
    owner, source, target, twin = group[movable][ok], source[ok], target[ok], twin[ok]
    order = np.lexsort((source, owner))
    owner, source, target, twin = owner[order], source[order], target[order], twin[order]
    share = 1.0 / totals[source]
    bounds = np.searchsorted(owner, np.arange(n_groups + 1))
    gains = np.full(n_groups, np.nan)
    gains[wanted] = 0.0
    for g in wanted[bounds[wanted + 1] > bounds[wanted]]:
        part = slice(bounds[g], bounds[g + 1])
        rows_of, local = np.unique(source[part], return_inverse=True)
        delta = np.zeros((rows_of.size, n))
        np.add.at(delta, (local, twin[part]), share[part])
        np.add.at(delta, (local, target[part]), -share[part])
        inner = np.eye(rows_of.size) - delta @ fundamental[:, rows_of]
        gains[g] = visits[rows_of] @ np.linalg.solve(inner, delta @ value)
    result: FloatArray = gains * chain.journeys if prepared.has_goal else -gains * chain.journeys
    return result


def format_value(value: float | None, unit: str) -> str:
    """A KPI or an outcome as it reads: shares in percent, hours with ``h``, counts to two decimals.

    Examples
    --------
    >>> format_value(0.3831, "share"), format_value(34.75, "hours"), format_value(6.2566, "events")
    ('38.3%', '34.8 h', '6.26')
    >>> format_value(None, "share")
    'n/a'
    """
    if value is None:
        return "n/a"
    if unit == "share":
        return f"{value:.1%}"
    return f"{value:.1f} h" if unit == "hours" else f"{value:.2f}"


def format_change(value: float, unit: str) -> str:
    """A difference, signed: percentage points for shares.

    Examples
    --------
    >>> format_change(-0.0162, "share"), format_change(2.158, "events"), format_change(-22.59, "hours")
    ('-1.6 pp', '+2.16', '-22.6 h')
    """
    if unit == "share":
        return f"{value * 100:+.1f} pp"
    return f"{value:+.1f} h" if unit == "hours" else f"{value:+.2f}"


# ---------------------------------------------------------------------------------------------------------------
# Everything at once, and the maturity link


@dataclass(frozen=True)
class WhatIf:
    """The estimate per fix, the graph re-run with all fixes together, and the ranking of every candidate."""

    estimates: tuple[FixEstimate, ...]
    rerun: GraphRerun
    ranking: pl.DataFrame
    has_goal: bool


def what_if(
    prepared: PreparedOverlay,
    fixes: Sequence[Fix],
    journey_map: JourneyMap | None,
    *,
    keep: Mask | None = None,
    draws: int = DRAWS,
    seed: int = 0,
    min_crossings: int = MIN_CROSSINGS,
) -> WhatIf:
    """:func:`estimate_fix` for each fix, :func:`rerun_journey_graph` with all of them, :func:`rank_handoffs`."""
    estimates = tuple(
        estimate_fix(prepared, fix, keep=keep, draws=draws, seed=seed, min_crossings=min_crossings) for fix in fixes
    )
    rerun = rerun_journey_graph(prepared, fixes, keep=keep, draws=draws, seed=seed)
    ranking = rank_handoffs(prepared, journey_map, keep=keep, min_crossings=min_crossings)
    return WhatIf(estimates, rerun, ranking, prepared.has_goal)


@dataclass(frozen=True)
class _OverlayEvidence:
    """What :func:`journeymap.maturity.sources.evidence_from_overlay` reads of an overlay."""

    kpis: Any
    silo_handoffs: pl.DataFrame
    conformance: Any


@dataclass(frozen=True)
class EvidenceShift:
    """The maturity evidence measured from the overlay, and the same evidence with the fixes' context kept."""

    kept_share_before: float | None
    """Share of the channel switches that kept the context (none of :data:`LOST_SIGNS`)."""
    kept_share_after: float | None
    before: Evidence
    after: Evidence
    changes: tuple[EvidenceChange, ...]
    """The indicators the fixes move, per dimension, with the levels they suggest."""
    assumptions: tuple[str, ...]


def shift_evidence(
    overlay: Overlay, fixes: Sequence[Fix], journey_map: JourneyMap | None, framework: Framework | None = None
) -> EvidenceShift:
    """The overlay's maturity evidence before and after ``fixes`` (the built-in framework unless given).

    After the fixes, their lost crossings show none of :data:`LOST_SIGNS`; the silo handoffs, the
    measured integration factor and the evidence are computed again by the overlay's and the maturity
    assessment's own functions.
    """
    from journeymap.analysis.kpis import kpis_of
    from journeymap.analysis.silo import handoffs_from_signs
    from journeymap.maturity.evidence import compare_evidence
    from journeymap.maturity.framework import load_builtin_framework
    from journeymap.maturity.sources import evidence_from_overlay

    prepared = overlay.prepared
    crossings = _crossings(prepared)
    fixed = np.zeros(crossings.move.size, dtype=bool)
    for fix in fixes:
        fixed |= _fix_rows(crossings, fix, prepared.log)
    restored = crossings.move[fixed & crossings.lost]
    bits = prepared.signs.bits.copy()
    bits[restored] &= ~_LOST_BITS
    signs = TransitionSigns(bits, abandon=prepared.signs.abandon)
    silo = handoffs_from_signs(prepared.metrics, signs, overlay.keep, journey_map, overlay.settings)
    # Only the integration factor depends on the silo handoffs; the other counts are the overlay's own.
    factor = kpis_of(overlay.journeys, silo, contacts=0, repeats=0, channel_customers=(), touchpoints_seen=0)
    kpis = replace(overlay.kpis, measured_integration_factor=factor.measured_integration_factor)
    before = evidence_from_overlay(overlay)
    after = evidence_from_overlay(_OverlayEvidence(kpis, silo, overlay.conformance))
    switches = (
        crossings.channel_switch if overlay.keep is None else crossings.channel_switch & overlay.keep[crossings.journey]
    )
    total = int(switches.sum())
    kept_before = int((switches & ~crossings.lost).sum())
    kept_after = int((switches & ~(crossings.lost & ~fixed)).sum())
    return EvidenceShift(
        kept_share_before=kept_before / total if total else None,
        kept_share_after=kept_after / total if total else None,
        before=before,
        after=after,
        changes=compare_evidence(framework or load_builtin_framework(), before, after),
        assumptions=(
            "After the fixes, their lost crossings show no re-identification, repeated step or bounce-back; repeat "
            "contacts and abandons after them are left as observed (what the fixes do to those is the estimate, not "
            "evidence yet).",
        ),
    )
