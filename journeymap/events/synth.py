"""Seeded generator of realistic raw event exports for a journey map, with planted problems.

:func:`generate_events` writes what a CX team would export from its web analytics, app,
store and contact-center systems for one journey map: string timestamps, raw channel labels
(``"web"``, ``"ios-app"``, ``"call_center"``), raw event names (some legacy codes that only
a value map turns into touchpoints), and identifiers that differ by channel — web and app
events carry a device id (and the email once the customer signs in), stores a loyalty
number, the contact center a phone number — with some events carrying two, so identity
resolution can stitch them into customers.

Customers walk the map: each journey starts at an entry touchpoint (no designed incoming
transition), moves along designed transitions (forward ones weighted
:data:`FORWARD_WEIGHT`, backward ones :data:`BACKWARD_WEIGHT`), stops with probability
:data:`BASE_STOP` at any step (drop-off) and ends converted at a final touchpoint. Customers
seldom go round in circles (:data:`REVISIT_DAMPING`), and a move back to an earlier stage
happens days later, as a new journey. Customers have one or more journeys separated by more
than :data:`MIN_JOURNEY_GAP`. All journeys are simulated together, one vectorised step at a
time (no loop over events or customers): 10 million events take about 25 seconds.

Identification: an event is *identified* (its raw event name ends in ``:verified`` and is
listed in the mapping's ``identify_values``) at the first touchpoint that requires
identification in a journey, and again — re-identification — with probability
:data:`BASE_REIDENTIFY` after any channel switch, or at the planted rate on a planted handoff.

:class:`Plants` describes the problems planted for analyses to find:

* :class:`HandoffPlant` — on a designed handoff ``source → target``, after the switch the
  customer identifies again (``reidentify``), is sent back to redo the source step one to
  two and a half days later (``repeat_step``), returns to the source step within hours
  (``bounce_back``), or gives up right there (``abandon``); ``lost_abandon`` plants an *effect* of
  lost context: the extra chance that a customer who lost it there (identified again at the
  target, or was sent back) gives up after their next step, so that estimates of what lost
  context costs can be checked;
* ``dropoffs`` — extra probability that journeys end (unconverted) at a touchpoint;
* ``waits`` — factor on the time to the next event after a touchpoint;
* ``loops`` — probability that a touchpoint is done again right away;
* ``undesigned`` — probability of taking an off-map transition from a touchpoint;
* dirty rows — unparsable timestamps, rows without any identifier and duplicated rows,
  for validation to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from journeymap.errors import UserInputError
from journeymap.events.mapping import ColumnMapping
from journeymap.model import ChannelKind, ContextCarry, JourneyMap

__all__ = [
    "BACKWARD_WEIGHT",
    "BASE_REIDENTIFY",
    "BASE_STOP",
    "FORWARD_WEIGHT",
    "REVISIT_DAMPING",
    "IDENTIFIED_SUFFIX",
    "MIN_JOURNEY_GAP",
    "RAW_COLUMNS",
    "TIMESTAMP_FORMAT",
    "ColumnMappingDict",
    "HandoffPlant",
    "TEMPLATE_PLANTS",
    "Plants",
    "default_plants",
    "generate_events",
    "template_plants",
]

ColumnMappingDict = dict[str, Any]
"""A :class:`journeymap.events.mapping.ColumnMapping` as a JSON-ready dict."""

FORWARD_WEIGHT = 1.0
BACKWARD_WEIGHT = 0.1
REVISIT_DAMPING = 0.95
"""Chance that a customer about to revisit a touchpoint of the same journey picks another step instead."""
BASE_STOP = 0.05
"""Probability that a journey ends (unconverted) after any non-final touchpoint."""
BASE_REIDENTIFY = 0.03
"""Probability that an already identified customer identifies again after a channel switch."""
MIN_JOURNEY_GAP = 4 * 86400
"""Seconds between the end of one journey of a customer and the start of the next, at least."""
MEAN_EXTRA_GAP = 30 * 86400
MEAN_EXTRA_JOURNEYS = 1.2
MAX_STEPS = 40
RESTART_DELAY = (5 * 86400, 20 * 86400)
"""Seconds before a customer who moves back to an earlier stage carries on (a new journey)."""
MAX_DELAY = int(2.5 * 86400)
"""Longest wait between two events of a journey (shorter than the default 3-day journey gap)."""
CROSS_CHANNEL_MEDIAN = 4 * 3600
SAME_CHANNEL_MEDIAN = {
    ChannelKind.DIGITAL: 90,
    ChannelKind.MESSAGING: 1800,
    ChannelKind.ASSISTED: 300,
    ChannelKind.PHYSICAL: 900,
}
DELAY_SIGMA = 0.9
IDENTIFIED_SUFFIX = ":verified"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
BAD_TIMESTAMP = "31/02/2025 25:61"
CONVERSION_VALUE = "goal_reached"
RAW_COLUMNS = (
    "event_id",
    "timestamp",
    "email",
    "device_id",
    "loyalty_id",
    "phone",
    "channel",
    "event",
    "outcome",
    "order_value",
    "csat",
    "agent_team",
    "segment",
    "region",
)

_I64 = npt.NDArray[np.int64]
_F64 = npt.NDArray[np.float64]
_B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class HandoffPlant:
    """Elevated signs of lost context on one designed handoff ``source → target`` (probabilities).

    ``lost_abandon`` is an effect of the loss rather than a sign of it: the probability that a
    customer who lost context at the handoff (identified again at the target after having
    identified before, or was sent back by ``repeat_step``/``bounce_back``) ends the journey
    right after their next step (the step after the target, or the one they were sent back to),
    unless that step reaches a final touchpoint. It is drawn from a random stream of its own, so
    a plant without it generates exactly the export it did before the field existed.
    """

    source: str
    target: str
    reidentify: float = 0.0
    repeat_step: float = 0.0
    bounce_back: float = 0.0
    abandon: float = 0.0
    lost_abandon: float = 0.0


@dataclass(frozen=True)
class Plants:
    """Problems planted in a generated export.

    Attributes
    ----------
    handoffs:
        Handoffs where customers start over.
    dropoffs:
        ``(touchpoint, probability)``: extra chance that the journey ends there, unconverted.
    waits:
        ``(touchpoint, factor)``: the wait before the next event is this many times longer.
    loops:
        ``(touchpoint, probability)``: the customer does the touchpoint again right away.
    undesigned:
        ``(source, target, probability)``: an off-map move taken from ``source``.
    bad_timestamps, empty_identifiers, duplicates:
        Numbers of dirty rows: unparsable time, no identifier at all, exact copy of a row.
    """

    handoffs: tuple[HandoffPlant, ...] = ()
    dropoffs: tuple[tuple[str, float], ...] = ()
    waits: tuple[tuple[str, float], ...] = ()
    loops: tuple[tuple[str, float], ...] = ()
    undesigned: tuple[tuple[str, str, float], ...] = ()
    bad_timestamps: int = 3
    empty_identifiers: int = 3
    duplicates: int = 2


@dataclass(frozen=True)
class _Model:
    n: int
    cum: _F64  # (n, n + 1) cumulative next-step probabilities; column n = end of journey
    start_cum: _F64
    final: _B
    requires_id: _B
    channel: _I64
    channel_kind: _I64  # per touchpoint: index into ChannelKind order
    stage: _I64  # per touchpoint: position of its stage
    wait_factor: _F64
    plant_index: _I64  # (n, n): index into plant arrays or -1
    plant_rates: _F64  # (plants, 5): reidentify, repeat_step, bounce_back, abandon, lost_abandon


_KINDS = list(ChannelKind)
_PLANT_RATES = ("reidentify", "repeat_step", "bounce_back", "abandon", "lost_abandon")


def _index(journey_map: JourneyMap, touchpoint: str, what: str) -> int:
    for i, tp in enumerate(journey_map.touchpoints):
        if tp.id == touchpoint:
            return i
    raise UserInputError(
        f"names touchpoint '{touchpoint}', which is not on the map '{journey_map.name}'",
        source="planted problems",
        location=what,
        hint="Use touchpoint ids of the map.",
    )


def _probability(value: float, what: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise UserInputError(
            f"is {value}, not a probability", source="planted problems", location=what, hint="Use 0 to 1."
        )
    return value


def _designed_weights(journey_map: JourneyMap) -> _F64:
    n = len(journey_map.touchpoints)
    stage_order = {s.id: i for i, s in enumerate(journey_map.stages)}
    stage_of = np.array([stage_order[t.stage] for t in journey_map.touchpoints])
    weights = np.zeros((n, n))
    for tr in journey_map.transitions:
        s, t = _index(journey_map, tr.source, "map"), _index(journey_map, tr.target, "map")
        weights[s, t] = FORWARD_WEIGHT if stage_of[t] >= stage_of[s] else BACKWARD_WEIGHT
    return weights


def _build_model(journey_map: JourneyMap, plants: Plants) -> _Model:
    n = len(journey_map.touchpoints)
    if n == 0:
        raise UserInputError(
            "has no touchpoints", source=f"map '{journey_map.name}'", hint="Add touchpoints before generating events."
        )
    tps = journey_map.touchpoints
    channel_ids = [c.id for c in journey_map.channels]
    final = np.array([t.is_final for t in tps])
    weights = _designed_weights(journey_map)
    rows = weights.sum(axis=1, keepdims=True)
    probs = np.divide(weights, rows, out=np.zeros_like(weights), where=rows > 0)
    for source, target, p in plants.undesigned:
        s, t = _index(journey_map, source, "undesigned"), _index(journey_map, target, "undesigned")
        probs[s] *= 1.0 - _probability(p, "undesigned")
        probs[s, t] += p
    for touchpoint, p in plants.loops:
        s = _index(journey_map, touchpoint, "loops")
        probs[s] *= 1.0 - _probability(p, "loops")
        probs[s, s] += p
    stop = np.full(n, BASE_STOP)
    for touchpoint, p in plants.dropoffs:
        s = _index(journey_map, touchpoint, "dropoffs")
        stop[s] = 1.0 - (1.0 - BASE_STOP) * (1.0 - _probability(p, "dropoffs"))
    dead_end = probs.sum(axis=1) == 0
    stop[dead_end | final] = 1.0
    full = np.concatenate([probs * (1.0 - stop)[:, None], stop[:, None]], axis=1)
    cum = np.cumsum(full, axis=1)
    cum[:, -1] = 1.0

    has_incoming = (weights > 0).any(axis=0)
    entries = ~has_incoming & ~final
    if not entries.any():
        first_stage = journey_map.stages[0].id if journey_map.stages else tps[0].stage
        entries = np.array([t.stage == first_stage for t in tps])
    start_cum = np.cumsum(entries / entries.sum())
    start_cum[-1] = 1.0

    wait = np.ones(n)
    for touchpoint, factor in plants.waits:
        wait[_index(journey_map, touchpoint, "waits")] = factor
    plant_index = np.full((n, n), -1, dtype=np.int64)
    rates = np.zeros((max(len(plants.handoffs), 1), len(_PLANT_RATES)))
    for k, h in enumerate(plants.handoffs):
        s, t = _index(journey_map, h.source, "handoffs"), _index(journey_map, h.target, "handoffs")
        plant_index[s, t] = k
        what = f"handoff {h.source} → {h.target}"
        rates[k] = [_probability(getattr(h, f), what) for f in _PLANT_RATES]
        if rates[k, 2] + rates[k, 1] + rates[k, 3] > 1.0:
            raise UserInputError(
                "has repeat_step + bounce_back + abandon above 1",
                source="planted problems",
                location=what,
                hint="Lower the rates.",
            )
    kinds = {c.id: _KINDS.index(c.kind) for c in journey_map.channels}
    stage_order = {s.id: i for i, s in enumerate(journey_map.stages)}
    return _Model(
        n=n,
        cum=cum,
        start_cum=start_cum,
        final=final,
        requires_id=np.array([t.requires_identification for t in tps]),
        channel=np.array([channel_ids.index(t.channel) for t in tps], dtype=np.int64),
        channel_kind=np.array([kinds[t.channel] for t in tps], dtype=np.int64),
        stage=np.array([stage_order[t.stage] for t in tps], dtype=np.int64),
        wait_factor=wait,
        plant_index=plant_index,
        plant_rates=rates,
    )


@dataclass
class _Walk:
    journey: _I64
    touchpoint: _I64
    t: _I64
    identified: _B
    signed_in: _B
    planted: _B
    end_t: _I64


def _walk(model: _Model, rng: np.random.Generator, n_journeys: int, effect_rng: np.random.Generator) -> _Walk:
    """Simulate all journeys at once; times are seconds from each journey's start.

    ``effect_rng`` draws only the planted effects of lost context (``lost_abandon``), so that
    ``rng``'s stream, and the export, do not change when none is planted.
    """
    n = model.n
    flat = (model.cum + np.arange(n)[:, None]).ravel()
    same_median = np.array([SAME_CHANNEL_MEDIAN[k] for k in _KINDS], dtype=np.float64)
    cur = np.searchsorted(model.start_cum, rng.random(n_journeys), side="right").astype(np.int64)
    cur = np.minimum(cur, n - 1)
    t = np.zeros(n_journeys, dtype=np.int64)
    has_id = model.requires_id[cur].copy()
    forced = np.full(n_journeys, -1, dtype=np.int64)
    forced_kind = np.zeros(n_journeys, dtype=np.int8)
    quit_after_next = np.zeros(n_journeys, dtype=bool)
    lost_effect = bool((model.plant_rates[:, 4] > 0).any())
    out_j, out_tp, out_t = [np.arange(n_journeys)], [cur.copy()], [t.copy()]
    out_id, out_in, out_pl = [has_id.copy()], [has_id.copy()], [np.zeros(n_journeys, dtype=bool)]
    active = ~model.final[cur]
    visited = (np.uint64(1) << cur.astype(np.uint64)) if n <= 64 else None
    for _ in range(MAX_STEPS):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        c = cur[idx]
        g = np.searchsorted(flat, c + rng.random(idx.size), side="right")
        nxt = np.minimum(g - c * (n + 1), n)
        if visited is not None:
            # Customers rarely go round in circles: most would-be revisits draw the next step again.
            seen = (nxt < n) & (nxt != c) & ((visited[idx] >> np.minimum(nxt, 63).astype(np.uint64)) & 1 == 1)
            redraw = seen & (rng.random(idx.size) < REVISIT_DAMPING)
            g2 = np.searchsorted(flat, c + rng.random(idx.size), side="right")
            nxt = np.where(redraw, np.minimum(g2 - c * (n + 1), n), nxt)
        f = forced[idx]
        was_forced = f >= 0
        nxt[was_forced] = f[was_forced]
        ended = nxt == n
        active[idx[ended]] = False
        keep = ~ended
        idx, c, nxt, was_forced = idx[keep], c[keep], nxt[keep], was_forced[keep]
        kind = forced_kind[idx]
        cross = model.channel[c] != model.channel[nxt]
        median = np.where(cross, CROSS_CHANNEL_MEDIAN, same_median[model.channel_kind[nxt]]) * model.wait_factor[c]
        delay = median * np.exp(DELAY_SIGMA * rng.standard_normal(idx.size))
        delay = np.where(kind == 1, rng.uniform(600, 8 * 3600, idx.size), delay)
        delay = np.where(kind == 2, rng.uniform(26 * 3600, 60 * 3600, idx.size), delay)
        delay = np.clip(delay, 5, MAX_DELAY)
        # Moving back to an earlier stage (a loyalty offer leading to a new purchase) happens days
        # later, so it starts a new journey.
        restart = (model.stage[nxt] < model.stage[c]) & ~was_forced
        delay = np.where(restart, rng.uniform(RESTART_DELAY[0], RESTART_DELAY[1], idx.size), delay).astype(np.int64)
        has_id[idx[restart]] = False
        if visited is not None:
            visited[idx[restart]] = np.uint64(0)
        forced[idx] = -1
        forced_kind[idx] = 0
        t[idx] += delay
        p = model.plant_index[c, nxt]
        planted = (p >= 0) & ~was_forced
        rates = model.plant_rates[np.maximum(p, 0)]
        r = rng.random((idx.size, 3))
        prior = has_id[idx]
        identified = model.requires_id[nxt] & ~prior
        identified |= cross & prior & (r[:, 0] < BASE_REIDENTIFY)
        identified |= planted & (r[:, 0] < rates[:, 0])
        has_id[idx] = prior | identified
        out_j.append(idx)
        out_tp.append(nxt)
        out_t.append(t[idx].copy())
        out_id.append(identified)
        out_in.append(has_id[idx].copy())
        out_pl.append(planted)
        abandon = planted & (r[:, 1] < rates[:, 3])
        bounce = planted & ~abandon & (r[:, 2] < rates[:, 2])
        repeat = planted & ~abandon & ~bounce & (r[:, 2] < rates[:, 2] + rates[:, 1])
        back = bounce | repeat
        forced[idx[back]] = c[back]
        forced_kind[idx[bounce]] = 1
        forced_kind[idx[repeat]] = 2
        cur[idx] = nxt
        if visited is not None:
            visited[idx] |= np.uint64(1) << nxt.astype(np.uint64)
        stop = abandon | model.final[nxt]
        if lost_effect:
            # Customers who lost the context at the last step give up after this one.
            stop |= quit_after_next[idx]
            quit_after_next[idx] = False
            lost = planted & ~abandon & ((prior & identified) | back)
            quit_after_next[idx[lost & (effect_rng.random(idx.size) < rates[:, 4])]] = True
        active[idx[stop]] = False
    return _Walk(
        journey=np.concatenate(out_j),
        touchpoint=np.concatenate(out_tp),
        t=np.concatenate(out_t),
        identified=np.concatenate(out_id),
        signed_in=np.concatenate(out_in),
        planted=np.concatenate(out_pl),
        end_t=t,
    )


def _channel_labels(journey_map: JourneyMap) -> tuple[list[str], list[int], dict[str, str]]:
    """Raw labels, the first label index per channel (apps get an iOS and an Android label), the map."""
    labels: list[str] = []
    first: list[int] = []
    for ch in journey_map.channels:
        first.append(len(labels))
        low = ch.id.lower()
        if "app" in low.split("-") or low == "app":
            variants = ["ios-app", "android-app"] if "ios-app" not in labels else [f"ios-{low}", f"android-{low}"]
        elif any(word in low for word in ("call", "contact", "phone")):
            variants = ["call_center" if "call_center" not in labels else low.replace("-", "_")]
        else:
            variants = [low.replace("-", "_")]
        labels.extend(variants if len(variants) == 2 else [variants[0], variants[0]])
    return labels, first, {label: journey_map.channels[i // 2].id for i, label in enumerate(labels)}


def _event_labels(journey_map: JourneyMap) -> tuple[list[str], dict[str, str]]:
    """Raw event names: touchpoint ids, every third one a legacy code; then the identified variants."""
    plain = []
    for i, tp in enumerate(journey_map.touchpoints):
        plain.append("EVT_" + tp.id.upper().replace("-", "_") if i % 3 == 1 else tp.id)
    labels = plain + [p + IDENTIFIED_SUFFIX for p in plain]
    value_map = {label: journey_map.touchpoints[i % len(plain)].id for i, label in enumerate(labels)}
    return labels, {k: v for k, v in value_map.items() if k != v}


def _purchase_touchpoints(journey_map: JourneyMap) -> _B:
    stage_ids = [s.id for s in journey_map.stages]
    purchase = "purchase" if "purchase" in stage_ids else (stage_ids[min(2, len(stage_ids) - 1)] if stage_ids else "")
    return np.array([t.stage == purchase for t in journey_map.touchpoints])


def _zfill(expr: pl.Expr, width: int) -> pl.Expr:
    return expr.cast(pl.String).str.zfill(width)


def generate_events(
    journey_map: JourneyMap,
    *,
    customers: int,
    seed: int,
    start: datetime,
    days: int = 365,
    plants: Plants | None = None,
) -> tuple[pl.DataFrame, ColumnMappingDict]:
    """Generate a raw event export for ``journey_map`` and the column mapping that ingests it.

    Parameters
    ----------
    journey_map:
        The designed journey customers walk.
    customers:
        Number of customers (each has one or more journeys).
    seed:
        Seed of the random generator: the same arguments give the same frame.
    start:
        Earliest event time (naive times are UTC).
    days:
        Journeys start within this many days after ``start``.
    plants:
        Problems to plant; ``None`` plants nothing but the dirty rows of ``Plants()``.

    Returns
    -------
    tuple of (pl.DataFrame, dict)
        The raw export (all columns strings or numbers, as read from a CSV; columns
        :data:`RAW_COLUMNS`, sorted by time, the duplicated rows appended at the end) and a
        :class:`~journeymap.events.mapping.ColumnMapping` as a dict.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(name="m", stages=(Stage(id="buy", name="Buy"),),
    ...     channels=(Channel(id="web", name="Web"), Channel(id="call-center", name="Calls", kind="assisted")),
    ...     touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...                  Touchpoint(id="order", name="Order", channel="call-center", stage="buy", is_final=True)),
    ...     transitions=(Transition(source="cart", target="order"),))
    >>> raw, mapping = generate_events(m, customers=50, seed=1, start=datetime(2024, 1, 1))
    >>> sorted(raw.get_column("channel").drop_nulls().unique().to_list())
    ['call_center', 'web']
    >>> mapping["channel_map"]["call_center"], mapping["value_map"]["EVT_ORDER"]
    ('call-center', 'order')
    """
    if customers < 1:
        raise UserInputError(
            f"is {customers}", source="event generator", location="customers", hint="Generate at least one customer."
        )
    plants = plants or Plants()
    model = _build_model(journey_map, plants)
    rng = np.random.default_rng(seed)
    origin = int((start if start.tzinfo else start.replace(tzinfo=UTC)).timestamp())
    span = days * 86400

    # Journeys per customer, then the walk of every journey at once.
    per_customer = 1 + rng.poisson(MEAN_EXTRA_JOURNEYS, customers)
    owner = np.repeat(np.arange(customers, dtype=np.int64), per_customer)
    walk = _walk(model, rng, owner.size, np.random.default_rng((seed, 1)))

    # Journey start times: a customer's journeys follow each other, separated by gaps.
    step = walk.end_t + MIN_JOURNEY_GAP + rng.exponential(MEAN_EXTRA_GAP, owner.size).astype(np.int64)
    exclusive = np.cumsum(step) - step
    group_first = np.concatenate([[0], np.cumsum(per_customer)[:-1]])
    within = exclusive - np.repeat(exclusive[group_first], per_customer)
    first = rng.uniform(0, span * 0.8, customers).astype(np.int64)
    journey_start = np.repeat(first, per_customer) + within
    kept = journey_start[walk.journey] < span

    j = walk.journey[kept]
    cust = owner[j].astype(np.int32)
    tp = walk.touchpoint[kept].astype(np.int16)
    ts = origin + journey_start[j] + walk.t[kept]
    identified, signed_in, planted = walk.identified[kept], walk.signed_in[kept], walk.planted[kept]
    del j, walk, kept, owner, journey_start
    n_events = int(tp.size)

    channel_labels, first_label, channel_map = _channel_labels(journey_map)
    event_labels, value_map = _event_labels(journey_map)
    kind = model.channel_kind[tp]
    digital = kind == _KINDS.index(ChannelKind.DIGITAL)
    messaging = kind == _KINDS.index(ChannelKind.MESSAGING)
    assisted = kind == _KINDS.index(ChannelKind.ASSISTED)
    physical = kind == _KINDS.index(ChannelKind.PHYSICAL)
    del kind
    r = rng.random((n_events, 4), dtype=np.float32)
    has_phone = (assisted & (r[:, 0] < 0.8)) | (messaging & (r[:, 0] < 0.3))
    purchase = _purchase_touchpoints(journey_map)[tp]
    # Web and app events carry the email once signed in, at checkout, and when a cookie matches it.
    has_email = (digital & (signed_in | purchase | (r[:, 1] < 0.3))) | messaging
    has_email |= (assisted | physical) & (r[:, 1] < 0.4)
    has_loyalty = (physical & (r[:, 2] < 0.85)) | (assisted & (r[:, 2] < 0.3))
    has_phone |= assisted & ~has_email & ~has_loyalty
    has_loyalty |= physical & ~has_email
    final = model.final[tp]
    value = np.where(purchase & (r[:, 3] < 0.7), np.round(rng.lognormal(np.log(60), 0.6, n_events), 2), np.nan)
    del r, purchase, signed_in, messaging, physical
    rated = (final | assisted) & (rng.random(n_events, dtype=np.float32) < 0.35)
    happy = rng.choice(np.arange(1, 6, dtype=np.int8), n_events, p=[0.04, 0.06, 0.15, 0.35, 0.40])
    unhappy = rng.choice(np.arange(1, 6, dtype=np.int8), n_events, p=[0.30, 0.30, 0.20, 0.15, 0.05])
    csat = np.where(rated, np.where(planted, unhappy, happy), np.int8(0))
    del rated, happy, unhappy, planted
    teams = [journey_map.owner_of(t) for t in journey_map.touchpoints]
    os_bit = rng.integers(0, 2, customers, dtype=np.int8)
    segment = rng.choice(np.arange(3, dtype=np.int8), customers, p=[0.4, 0.45, 0.15])
    region = rng.integers(0, 4, customers, dtype=np.int8)

    frame = pl.DataFrame(
        {
            "_ts": ts,
            "_cust": cust,
            "_channel": (np.asarray(first_label, dtype=np.int16)[model.channel[tp]] + os_bit[cust]).astype(np.int16),
            "_event": (tp + np.where(identified, model.n, 0)).astype(np.int16),
            "_phone": has_phone,
            "_email": has_email,
            "_device": digital,
            "_loyalty": has_loyalty,
            "_final": final,
            "order_value": value,
            "csat": csat,
            "_team": np.where(assisted, tp, -1).astype(np.int16),
            "_segment": segment[cust],
            "_region": region[cust],
        }
    )
    del ts, cust, tp, identified, has_phone, has_email, digital, has_loyalty, final, value, csat, assisted
    frame = frame.sort("_ts", maintain_order=True)
    # Dirty rows are chosen on the numeric frame, so the string columns are built only once.
    n_rows = frame.height
    wanted = min(plants.bad_timestamps + plants.empty_identifiers + plants.duplicates, n_rows)
    dirty = rng.choice(n_rows, size=wanted, replace=False) if n_rows else np.zeros(0, dtype=np.int64)
    bad = dirty[: plants.bad_timestamps].tolist()
    empty = dirty[plants.bad_timestamps : plants.bad_timestamps + plants.empty_identifiers].tolist()
    duplicated = np.sort(dirty[plants.bad_timestamps + plants.empty_identifiers :])
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    frame = frame.with_columns(_bad=row.is_in(bad), _noid=row.is_in(empty))
    teams_s = pl.Series(teams, dtype=pl.String)
    # Identifier strings are built once per customer and gathered per event.
    ids = pl.DataFrame({"c": np.arange(customers, dtype=np.int64)}).select(
        ("c" + _zfill(pl.col("c"), 7) + "@mail.example").alias("email"),
        ("D" + _zfill((pl.col("c") * 2654435761) % 10_000_000_000, 10)).alias("device_id"),
        ("LY" + _zfill((pl.col("c") * 7919) % 100_000_000, 8)).alias("loyalty_id"),
        ("+4477" + _zfill((pl.col("c") * 37) % 100_000_000, 8)).alias("phone"),
    )
    ok = ~pl.col("_noid")

    def identifier(name: str, present: str) -> pl.Expr:
        return pl.when(pl.col(present) & ok).then(pl.lit(ids.get_column(name)).gather(pl.col("_cust"))).alias(name)

    frame = frame.select(
        ("ev" + _zfill(row, 9)).alias("event_id"),
        pl.when("_bad")
        .then(pl.lit(BAD_TIMESTAMP))
        .otherwise(pl.from_epoch("_ts", time_unit="s").dt.strftime(TIMESTAMP_FORMAT))
        .alias("timestamp"),
        identifier("email", "_email"),
        identifier("device_id", "_device"),
        identifier("loyalty_id", "_loyalty"),
        identifier("phone", "_phone"),
        pl.lit(pl.Series(channel_labels, dtype=pl.String)).gather(pl.col("_channel")).alias("channel"),
        pl.lit(pl.Series(event_labels, dtype=pl.String)).gather(pl.col("_event")).alias("event"),
        pl.when("_final").then(pl.lit(CONVERSION_VALUE)).alias("outcome"),
        pl.col("order_value").fill_nan(None),
        pl.when(pl.col("csat") > 0).then(pl.col("csat")).alias("csat"),
        pl.when(pl.col("_team") >= 0).then(pl.lit(teams_s).gather(pl.col("_team").clip(0))).alias("agent_team"),
        pl.lit(pl.Series(["new", "regular", "premium"])).gather(pl.col("_segment")).alias("segment"),
        pl.lit(pl.Series(["north", "south", "east", "west"])).gather(pl.col("_region")).alias("region"),
    )
    if duplicated.size:
        # A re-sent batch: exact copies of a few rows at the end of the export.
        frame = pl.concat([frame, frame[duplicated]], rechunk=False)
    mapping = ColumnMapping(
        customer_ids=["email", "device_id", "loyalty_id", "phone"],
        timestamp="timestamp",
        timestamp_format=TIMESTAMP_FORMAT,
        timezone="UTC",
        channel="channel",
        touchpoint="event",
        value_map=value_map,
        channel_map=channel_map,
        outcome="outcome",
        conversion_values=[CONVERSION_VALUE],
        value="order_value",
        sentiment="csat",
        identify_values=[label for label in event_labels if label.endswith(IDENTIFIED_SUFFIX)],
        attributes=["segment", "region"],
    )
    return frame, mapping.model_dump(mode="json")


def default_plants(journey_map: JourneyMap) -> Plants:
    """Plants chosen from the map itself: its busiest designed handoffs and touchpoints.

    Expected traffic comes from the walk's absorbing Markov chain (expected visits per
    journey); the two busiest cross-channel handoffs declared ``full`` or ``partial``
    get lost context, the busiest non-final
    touchpoint gets a drop-off, the next one a long wait and the third a loop.

    Examples
    --------
    >>> from journeymap.templates import load_template
    >>> p = default_plants(load_template("retail-bopis"))
    >>> len(p.handoffs), len(p.dropoffs), len(p.waits), len(p.loops)
    (2, 1, 1, 1)
    """
    model = _build_model(journey_map, Plants())
    n = model.n
    q = np.diff(np.concatenate([np.zeros((n, 1)), model.cum], axis=1), axis=1)[:, :n]
    start = np.diff(np.concatenate([[0.0], model.start_cum]))
    visits = np.linalg.solve(np.eye(n) - q.T, start)
    tps = journey_map.touchpoints
    chan = {t.id: t.channel for t in tps}
    index = {t.id: i for i, t in enumerate(tps)}
    candidates = sorted(
        (
            (-visits[index[tr.source]] * q[index[tr.source], index[tr.target]], k, tr)
            for k, tr in enumerate(journey_map.transitions)
            if chan[tr.source] != chan[tr.target] and tr.context_carry != ContextCarry.NONE
        ),
        key=lambda item: (item[0], item[1]),
    )
    handoffs = tuple(
        HandoffPlant(tr.source, tr.target, reidentify=0.45, repeat_step=0.3, bounce_back=0.1, abandon=0.1)
        for _, _, tr in candidates[:2]
    )
    busy = [tps[i].id for i in np.argsort(-visits, kind="stable") if not tps[i].is_final]
    return Plants(
        handoffs=handoffs,
        dropoffs=((busy[0], 0.3),) if busy else (),
        waits=((busy[1], 10.0),) if len(busy) > 1 else (),
        loops=((busy[2], 0.3),) if len(busy) > 2 else (),
    )


TEMPLATE_PLANTS: dict[str, Plants] = {
    "retail-bopis": Plants(
        handoffs=(
            # Stock on the product page is hours old: customers find the shelf empty and go back online.
            HandoffPlant("product-page", "store-browse", bounce_back=0.45, repeat_step=0.15, abandon=0.2),
            # The associate's tablet cannot see the customer's online cart: sign in and search again.
            HandoffPlant("store-browse", "stock-check", reidentify=0.6, repeat_step=0.35),
        ),
        dropoffs=(("web-checkout", 0.35),),
        waits=(("ready-for-pickup", 8.0),),
        loops=(("delivery-tracking", 0.3),),
        undesigned=(("web-checkout", "wismo-call", 0.06), ("app-browse", "web-checkout", 0.1)),
    ),
    "telecom-support": Plants(
        handoffs=(
            # The live agent does not get the bot transcript: customers go back to the bot or give up.
            HandoffPlant("chatbot-triage", "live-chat", repeat_step=0.45, abandon=0.2),
            # Opening the bot from the outage page in the app asks the customer to sign in again.
            HandoffPlant("outage-status", "chatbot-triage", reidentify=0.6, repeat_step=0.3),
        ),
        dropoffs=(("coverage-check", 0.3),),
        waits=(("repair-sms", 8.0),),
        loops=(("chatbot-triage", 0.25),),
        undesigned=(("chatbot-triage", "store-swap", 0.05), ("app-welcome", "call-ivr", 0.08)),
    ),
}
"""Curated plants for built-in templates (the sample data in ``data/sample`` uses them)."""


def template_plants(template_id: str, journey_map: JourneyMap) -> Plants:
    """The curated plants of a built-in template, else :func:`default_plants` of the map.

    Examples
    --------
    >>> from journeymap.templates import load_template
    >>> template_plants("retail-bopis", load_template("retail-bopis")).dropoffs
    (('web-checkout', 0.35),)
    """
    return TEMPLATE_PLANTS.get(template_id) or default_plants(journey_map)
