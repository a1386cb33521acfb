"""Cutting each customer's event stream into journeys, and the moves inside them.

What a journey is comes from the column mapping. When the log's journeys are its cases
(:attr:`EventLog.case_journeys`: a case, ticket, order, session or application id was
mapped), a new journey starts at each new case and nowhere else: a case is never cut by a gap
nor at a goal. Otherwise a new journey starts at a customer's first event, after an
inactivity gap longer than :attr:`OverlaySettings.gap`, and right after a goal event (a
converted event or a goal touchpoint): reaching the goal ends the journey. Either way a
journey is *converted* when it holds a goal event, *ongoing* when it is not and its last event
lies within one gap of the log's end, else *abandoned*. Everything is shift/cumulative-sum
arithmetic on the sorted integer frame. :func:`count_split_cases` counts the cases a gap cut
splits, and :func:`split_cases_note` says it.

A *move* is two consecutive events of one journey. Its channel and team are those two
events' own values, as recorded: a **channel switch** is a move whose two events have
different channels; a **team handoff** is a move whose two events both name a team
(``owner``) and name different ones. A switch (or handoff) is a **ping-pong return** when it
goes back to a channel (team) that an earlier event of the same journey already had, i.e.
one the customer had left. The map's design never stands in for what an event recorded.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.events._columnar import distinct_pair_counts, first_in_segment
from journeymap.events.log import EventLog
from journeymap.events.settings import OverlaySettings

__all__ = [
    "JOURNEY_SCHEMA",
    "MOVE_BITS",
    "count_split_cases",
    "cut_journeys",
    "decode",
    "format_gap",
    "goal_expr",
    "has_goal",
    "move_flags",
    "split_cases_note",
    "split_cases_warning",
]

JOURNEY_SCHEMA: dict[str, pl.DataType] = {
    "journey": pl.UInt32(),
    "customer": pl.UInt32(),
    "start": pl.Datetime("us", "UTC"),
    "end": pl.Datetime("us", "UTC"),
    "events": pl.UInt32(),
    "touchpoints": pl.UInt32(),
    "channels": pl.UInt32(),
    "switches": pl.UInt32(),
    "team_handoffs": pl.UInt32(),
    "channel_ping_pong": pl.UInt32(),
    "team_ping_pong": pl.UInt32(),
    "outcome": pl.String(),
    "first_touchpoint": pl.String(),
    "last_touchpoint": pl.String(),
}


def decode(expr: pl.Expr, labels: tuple[str, ...]) -> pl.Expr:
    """Integer codes -> their labels (String); use on aggregated, small frames."""
    return expr.replace_strict(list(range(len(labels))), list(labels), default=None, return_dtype=pl.String)


MOVE_BITS: dict[str, int] = {"channel_switch": 1, "team_handoff": 2, "channel_return": 4, "team_return": 8}
"""Bits of the ``moved`` event column: what the move *into* this event did (0 on a journey's first event)."""


def move_flags(
    new_journey: npt.NDArray[np.bool_],
    journey: npt.NDArray[np.integer],
    codes: npt.NDArray[np.integer],
    known: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per event: whether the move into it changes ``codes``, and whether that change is a return.

    ``new_journey`` marks each journey's first event (no move leads into it); ``known`` marks
    the events whose code was recorded (a move from or to an unknown code changes nothing).
    A change is a *return* when an earlier event of the same journey already had the new code.

    Examples
    --------
    >>> new = np.array([True, False, False, False, True, False])
    >>> journey = np.array([0, 0, 0, 0, 1, 1])
    >>> change, back = move_flags(new, journey, np.array([0, 1, 1, 0, 1, 0]))
    >>> change.tolist(), back.tolist()
    ([False, True, False, True, False, True], [False, False, False, True, False, False])
    >>> known = np.array([1, 0, 1, 1, 1, 1], dtype=bool)
    >>> change, back = move_flags(new, journey, np.array([0, 9, 1, 0, 1, 0]), known)
    >>> change.tolist(), back.tolist()
    ([False, False, False, True, False, True], [False, False, False, True, False, False])
    """
    n = codes.size
    change = np.zeros(n, dtype=bool)
    if n < 2:
        return change, change.copy()
    np.not_equal(codes[1:], codes[:-1], out=change[1:])
    if known is not None:
        change[1:] &= known[1:] & known[:-1]
    change &= ~new_journey
    back = np.zeros(n, dtype=bool)
    # Only journeys that change at all can return (without unknown codes, only those that change twice).
    changes = np.bincount(journey[change].astype(np.int64), minlength=int(journey.max()) + 1)
    rows = np.flatnonzero(changes[journey] >= (2 if known is None else 1))
    if rows.size:
        # Unknown codes never count as seen: each gets a value no known code has.
        seen = codes[rows] if known is None else np.where(known[rows], codes[rows], np.iinfo(np.int64).max)
        back[rows] = change[rows] & ~first_in_segment(new_journey[rows], seen)
    return change, back


def goal_expr(log: EventLog, settings: OverlaySettings) -> pl.Expr:
    """True for events that reach the goal: ``converted`` or a goal touchpoint."""
    goals = set(settings.goal_touchpoints)
    codes = [i for i, label in enumerate(log.touchpoints) if label in goals]
    expr = pl.col("converted").fill_null(False)
    if codes:
        expr = expr | pl.col("touchpoint").is_in(codes)
    return expr


def has_goal(log: EventLog, settings: OverlaySettings) -> bool:
    """Whether a journey has a goal to reach: goal touchpoints, conversion values in the mapping, or converted events.

    Without a goal no journey converts, and a finished journey did not give up either: completion,
    drop-off and abandon are then not measured (every finished journey is ``"abandoned"`` only for
    want of a goal).

    Examples
    --------
    >>> ev = pl.DataFrame({"converted": [False, False]})
    >>> log = EventLog(ev, ("home", "buy"), ("web",), ())
    >>> has_goal(log, OverlaySettings()), has_goal(log, OverlaySettings(goal_touchpoints=("buy",)))
    (False, True)
    >>> has_goal(EventLog(ev, ("home",), ("web",), (), conversion_goal=True), OverlaySettings())
    True
    """
    if settings.goal_touchpoints or log.conversion_goal:
        return True
    return "converted" in log.events.columns and bool(log.events.get_column("converted").any())


def cut_journeys(log: EventLog, settings: OverlaySettings) -> tuple[EventLog, pl.DataFrame]:
    """Add ``journey`` and ``step`` to the events and summarise each journey.

    Parameters
    ----------
    log:
        Events sorted by customer, ts, seq (by customer, case, ts, seq when its journeys are
        its cases).
    settings:
        ``gap``, ``goal_touchpoints`` and ``ongoing_after`` are used (with case journeys,
        ``gap`` only says which journeys are ongoing).

    Returns
    -------
    tuple[EventLog, polars.DataFrame]
        The log with ``journey`` (UInt32, numbered in sorted order), ``step`` (UInt32,
        0-based) and ``moved`` (UInt8, the :data:`MOVE_BITS` of the move into each event), and
        one row per journey (:data:`JOURNEY_SCHEMA`): ``switches`` counts its channel switches,
        ``team_handoffs`` its team handoffs, ``*_ping_pong`` the switches and handoffs that return
        to a channel or team it had left. ``outcome`` is
        ``"converted"`` when a goal event is in the journey, else ``"ongoing"`` when its last
        event is at or after ``ongoing_after`` (default: latest event minus ``gap``), else
        ``"abandoned"``.

    Examples
    --------
    >>> from datetime import datetime, timedelta, UTC
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> ev = pl.DataFrame({"customer": [0, 0, 0], "ts": [t0, t0 + timedelta(hours=1), t0 + timedelta(days=9)],
    ...     "seq": [1, 2, 3], "touchpoint": [0, 1, 0], "channel": [0, 1, 0], "converted": [False, True, False]},
    ...     schema_overrides={"customer": pl.UInt32, "seq": pl.UInt32, "touchpoint": pl.UInt32, "channel": pl.UInt32})
    >>> log = EventLog(ev, ("home", "buy"), ("web", "app"), ())
    >>> cut, journeys = cut_journeys(log, OverlaySettings())
    >>> cut.events["journey"].to_list(), cut.events["step"].to_list()
    ([0, 0, 1], [0, 1, 0])
    >>> journeys.select("events", "switches", "outcome", "last_touchpoint").rows()
    [(2, 1, 'converted', 'buy'), (1, 0, 'ongoing', 'home')]

    With the events' cases as journeys, the goal and the nine-day gap cut nothing:

    >>> by_case = EventLog(ev.with_columns(case=pl.lit(0, pl.UInt32)), ("home", "buy"), ("web", "app"), (),
    ...     case_journeys=True)
    >>> cut_journeys(by_case, OverlaySettings())[1].select("events", "switches", "outcome").rows()
    [(3, 2, 'converted')]
    """
    events = log.events.drop([c for c in ("journey", "step", "moved") if c in log.events.columns])
    if max(events.n_chunks("all"), default=1) > 1:
        events = events.rechunk()  # zero-copy numpy views below, and for every metric after
    if events.height == 0:
        empty = events.with_columns(
            pl.lit(0, pl.UInt32).alias("journey"),
            pl.lit(0, pl.UInt32).alias("step"),
            pl.lit(0, pl.UInt8).alias("moved"),
        )
        return _with_events(log, empty), pl.DataFrame(schema=JOURNEY_SCHEMA)
    # Plain array arithmetic on the sorted integer columns: the journey cut is a handful of
    # vectorised comparisons, a cumulative sum and a gather.
    n = events.height
    customer = events.get_column("customer").to_numpy()
    ts = events.get_column("ts").to_physical().to_numpy()
    channel = events.get_column("channel").to_numpy()
    touchpoint = events.get_column("touchpoint").to_numpy()
    goal = events.select(goal_expr(log, settings)).to_series().to_numpy()
    gap_us = int(settings.gap.total_seconds() * 1_000_000)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(customer[1:], customer[:-1], out=new[1:])
    if log.case_journeys and "case" in events.columns:
        case = events.get_column("case").to_numpy()
        new[1:] |= case[1:] != case[:-1]
    else:
        new[1:] |= (ts[1:] - ts[:-1]) > gap_us
        new[1:] |= goal[:-1]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:] - 1, n - 1]
    journey = np.cumsum(new, dtype=np.uint32)
    journey -= np.uint32(1)
    step = np.arange(n, dtype=np.uint32)
    step -= starts.astype(np.uint32)[journey]
    switch, channel_back = move_flags(new, journey, channel)
    if "owner" in events.columns and events.get_column("owner").null_count() < n:
        owner = events.get_column("owner")
        handoff, team_back = move_flags(new, journey, owner.fill_null(0).to_numpy(), owner.is_not_null().to_numpy())
    else:
        handoff = team_back = np.zeros(n, dtype=bool)
    moved = switch.astype(np.uint8)
    for flag, bit in ((handoff, "team_handoff"), (channel_back, "channel_return"), (team_back, "team_return")):
        moved |= flag.astype(np.uint8) * np.uint8(MOVE_BITS[bit])
    events = events.with_columns(pl.Series("journey", journey), pl.Series("step", step), pl.Series("moved", moved))

    def per_journey(flag: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint32]:
        total = np.cumsum(flag, dtype=np.int64)
        return (total[ends] - total[starts]).astype(np.uint32)  # the first event's flag is always False

    goal_sum = np.cumsum(goal, dtype=np.int64)
    goal_before = goal_sum[starts] - goal[starts]
    n_journeys = starts.size
    n_tp = max(len(log.touchpoints), int(touchpoint.max()) + 1)
    n_ch = max(len(log.channels), int(channel.max()) + 1)
    starts_s = pl.Series(starts)
    ends_s = pl.Series(ends)
    summary = pl.DataFrame(
        {
            "journey": np.arange(n_journeys, dtype=np.uint32),
            "customer": events.get_column("customer").gather(starts_s),
            "start": events.get_column("ts").gather(starts_s),
            "end": events.get_column("ts").gather(ends_s),
            "events": (ends - starts + 1).astype(np.uint32),
            "touchpoints": distinct_pair_counts(
                journey, touchpoint, n_journeys, n_tp, by="outer", starts=starts
            ).astype(np.uint32),
            "channels": distinct_pair_counts(journey, channel, n_journeys, n_ch, by="outer", starts=starts).astype(
                np.uint32
            ),
            "switches": per_journey(switch),
            "team_handoffs": per_journey(handoff),
            "channel_ping_pong": per_journey(channel_back),
            "team_ping_pong": per_journey(team_back),
            "__converted": goal_sum[ends] - goal_before > 0,
            "__first": events.get_column("touchpoint").gather(starts_s),
            "__last": events.get_column("touchpoint").gather(ends_s),
        }
    )
    ongoing_after = settings.ongoing_after
    if ongoing_after is None:
        latest = events.get_column("ts").max()
        ongoing_at: pl.Expr = pl.lit(latest) - pl.lit(settings.gap)
    else:
        ongoing_at = (
            pl.lit(ongoing_after).dt.convert_time_zone("UTC")
            if ongoing_after.tzinfo
            else pl.lit(ongoing_after).dt.replace_time_zone("UTC")
        )
    journeys = summary.select(
        "journey",
        "customer",
        "start",
        "end",
        "events",
        "touchpoints",
        "channels",
        "switches",
        "team_handoffs",
        "channel_ping_pong",
        "team_ping_pong",
        pl.when(pl.col("__converted"))
        .then(pl.lit("converted"))
        .when(pl.col("end") >= ongoing_at)
        .then(pl.lit("ongoing"))
        .otherwise(pl.lit("abandoned"))
        .alias("outcome"),
        decode(pl.col("__first"), log.touchpoints).alias("first_touchpoint"),
        decode(pl.col("__last"), log.touchpoints).alias("last_touchpoint"),
    )
    return _with_events(log, events), journeys


def _with_events(log: EventLog, events: pl.DataFrame) -> EventLog:
    return replace(log, events=events)


def count_split_cases(case: npt.NDArray[np.integer], journey: npt.NDArray[np.integer]) -> tuple[int, int]:
    """How many cases have events in more than one journey, and how many cases there are.

    ``case`` and ``journey`` hold each event's case and journey code (both non-negative; leave
    out the events without a case). Distinct ``(case, journey)`` pairs are counted per case.

    Examples
    --------
    >>> count_split_cases(np.array([4, 4, 9, 4, 7]), np.array([0, 0, 0, 1, 2]))
    (1, 3)
    >>> count_split_cases(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    (0, 0)
    """
    if case.size == 0:
        return 0, 0
    key = np.left_shift(case.astype(np.uint64), np.uint64(32)) | journey.astype(np.uint64)
    pairs = pl.Series(key).unique().to_numpy()
    per_case = np.bincount((pairs >> np.uint64(32)).astype(np.int64))
    return int((per_case > 1).sum()), int((per_case > 0).sum())


def format_gap(gap: timedelta) -> str:
    """A gap as an adjective: ``"30-day"``, ``"12-hour"``, ``"90-minute"``, ``"45-second"``.

    Examples
    --------
    >>> format_gap(timedelta(days=30)), format_gap(timedelta(hours=36)), format_gap(timedelta(minutes=90))
    ('30-day', '36-hour', '90-minute')
    """
    seconds = gap.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:,.0f}-{unit}"
    return f"{seconds:g}-second"


def split_cases_note(split: int, cases: int, gap: timedelta, *, hint: str) -> str | None:
    """The warning shown when a gap cut splits cases (``None`` when it splits none).

    Examples
    --------
    >>> split_cases_note(1_571, 13_087, timedelta(days=30), hint="map the case column to keep them whole")
    'the 30-day gap splits 12% of the 13,087 cases; map the case column to keep them whole'
    >>> split_cases_note(0, 13_087, timedelta(days=30), hint="") is None
    True
    """
    if not split or not cases:
        return None
    share = split / cases
    shown = f"{share:.0%}" if share >= 0.01 else "less than 1%"
    return f"the {format_gap(gap)} gap splits {shown} of the {cases:,} cases; {hint}"


def split_cases_warning(cut: EventLog, gap: timedelta, *, customer_is_case: bool = False) -> str | None:
    """Warn when journeys cut by ``gap`` split cases the data has; ``None`` when none is split.

    The cases are the log's ``case`` column when it has one (journeys were chosen to be cut by
    the gap), else the customers when ``customer_is_case`` (the customer column holds a case id
    and no case column was mapped). Journeys that are the cases split nothing.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> ev = pl.DataFrame({"customer": [0, 0, 1], "ts": [t0, t0 + timedelta(days=9), t0], "seq": [0, 1, 2],
    ...     "touchpoint": [0, 0, 0], "channel": [0, 0, 0], "converted": [False] * 3},
    ...     schema_overrides={"customer": pl.UInt32, "seq": pl.UInt32, "touchpoint": pl.UInt32, "channel": pl.UInt32})
    >>> cut, _ = cut_journeys(EventLog(ev, ("open",), ("web",), ()), OverlaySettings())
    >>> split_cases_warning(cut, timedelta(days=3), customer_is_case=True)
    'the 3-day gap splits 50% of the 2 cases; map the case column to keep them whole'
    """
    events = cut.events
    if cut.case_journeys or "journey" not in events.columns:
        return None
    if "case" in events.columns:
        pairs = events.select("case", "journey").drop_nulls()
        hint = "choose journeys by case in the column mapping to keep them whole"
        column = "case"
    elif customer_is_case:
        pairs = events.select("customer", "journey")
        hint = "map the case column to keep them whole"
        column = "customer"
    else:
        return None
    split, cases = count_split_cases(pairs.get_column(column).to_numpy(), pairs.get_column("journey").to_numpy())
    return split_cases_note(split, cases, gap, hint=hint)
