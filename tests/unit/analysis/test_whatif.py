"""The what-if on a hand-made log: handoffs parsed, kept and lost crossings compared, the chain solved by hand.

``handoff_log()`` — six customers, one journey each, web → phone → web, worked out on paper (``*``: the
customer identifies at that event; every journey starts identified at ``a``):

========  =====================  ==========================================  =========
journey   events                 the crossing a → b                          outcome
========  =====================  ==========================================  =========
J1        a* b* c                lost (identified again at b), went on        converted
J2        a* b* b                lost, went on (b again), then stopped        abandoned
J3        a* b c                 kept, went on                               converted
J4        a* b c                 kept, went on                               converted
J5        a* b b c               kept, went on                               converted
J6        a* b                   kept by its signs, but ended at b           abandoned
========  =====================  ==========================================  =========

b → c is designed (no bounce-back) and lands on the goal ``c``; b → b stays in the phone channel.

**The estimate for a → b** (one stratum: source a, one channel before, identified): 6 crossings, 2 lost,
4 kept, 1 ended at the target (J6: left out of the comparison); completion of the compared crossings:
kept 3/3 = 1, lost 1/2, effect +0.5; observed completion 4/6; predicted 4/6 + 2/6 × 0.5 = 5/6.

**The journey graph** (states: touchpoint, how the last crossing went, identified — all identified here):
row a: to (b, lost) 2, (b, kept) 3, (b, ended) 1; row (b, lost): to (c, ended) 1, (b, lost) 1, ended 1;
row (b, kept): to (c, ended) 3, (b, kept) 1; (b, ended) and (c, ended) are absorbed. Completion from
(b, kept) = 1, from (b, lost) = 1/2 (h = 1/3 + h/3), from a = 2/6 × 1/2 + 3/6 = 2/3 = the observed 4/6.
Fixing a → b sends a's 2 lost arrivals to (b, kept): completion 5/6. Events per journey: observed 18/6 = 3;
fixed 1 + 5/6 × 4/3 (visits of (b, kept): self-loop 1/4) + 1/6 + 5/6 × 4/3 × 3/4 = 28/9. Handoffs per
journey (a → b, b → c): observed 10/6, fixed 1 + 5/6 = 11/6. Lost handoffs: 2/6, fixed 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from journeymap.analysis.whatif import (
    MIN_CROSSINGS,
    Fix,
    estimate_fix,
    rank_handoffs,
    rerun_journey_graph,
    shift_evidence,
)
from journeymap.errors import UserInputError
from journeymap.events.log import EventLog
from journeymap.events.overlay import PreparedOverlay, compute_overlay, prepare_overlay
from journeymap.events.settings import OverlaySettings
from journeymap.maturity.sources import evidence_from_overlay
from journeymap.model import Channel, ChannelKind, JourneyMap, Stage, Touchpoint, Transition

T0 = datetime(2024, 1, 1, tzinfo=UTC)
JOURNEYS = [
    [("a", True), ("b", True), ("c", False)],
    [("a", True), ("b", True), ("b", False)],
    [("a", True), ("b", False), ("c", False)],
    [("a", True), ("b", False), ("c", False)],
    [("a", True), ("b", False), ("b", False), ("c", False)],
    [("a", True), ("b", False)],
]
CHANNEL_OF = {"a": "web", "b": "phone", "c": "web"}


def handoff_map() -> JourneyMap:
    return JourneyMap(
        name="Handoff",
        stages=(Stage(id="s", name="Service"),),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL, owner_team="Digital"),
            Channel(id="phone", name="Phone line", kind=ChannelKind.ASSISTED, owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="a", name="Account page", channel="web", stage="s"),
            Touchpoint(id="b", name="Support call", channel="phone", stage="s"),
            Touchpoint(id="c", name="Case closed", channel="web", stage="s", is_final=True),
        ),
        transitions=(
            Transition(source="a", target="b"),
            Transition(source="b", target="b"),
            Transition(source="b", target="c"),
        ),
    )


def build_log(journeys: list[list[tuple[str, bool]]], segments: list[str] | None = None) -> EventLog:
    """One customer per journey, ten days apart, events ten minutes apart; ``segments``: one per customer."""
    rows = []
    for customer, events in enumerate(journeys):
        for step, (touchpoint, identified) in enumerate(events):
            channel = ("web", "phone").index(CHANNEL_OF[touchpoint])
            rows.append(
                {
                    "customer": customer,
                    "ts": T0 + timedelta(days=10 * customer, minutes=10 * step),
                    "seq": len(rows),
                    "touchpoint": "abc".index(touchpoint),
                    "channel": channel,
                    "owner": channel,
                    "converted": False,
                    "identified": identified,
                    "value": None,
                    "sentiment": None,
                    **({"attr_segment": segments[customer]} if segments else {}),
                }
            )
    frame = pl.DataFrame(
        rows,
        schema_overrides={
            "customer": pl.UInt32,
            "seq": pl.UInt32,
            "touchpoint": pl.UInt32,
            "channel": pl.UInt32,
            "owner": pl.UInt32,
            "value": pl.Float64,
            "sentiment": pl.Float64,
            **({"attr_segment": pl.Categorical} if segments else {}),
        },
    )
    return EventLog(frame, ("a", "b", "c"), ("web", "phone"), ("Digital", "Care"))


def handoff_log() -> EventLog:
    return build_log(JOURNEYS)


def prepare(log: EventLog) -> PreparedOverlay:
    return prepare_overlay(
        log, handoff_map(), OverlaySettings(goal_touchpoints=("c",), ongoing_after=T0 + timedelta(days=365))
    )


def prepared_handoffs() -> PreparedOverlay:
    return prepare(handoff_log())


AB = Fix("transition", "a", "b")


def test_the_log_holds_what_the_docstring_says() -> None:
    prepared = prepared_handoffs()
    assert prepared.journeys["outcome"].to_list() == ["converted", "abandoned"] + ["converted"] * 3 + ["abandoned"]
    moves = prepared.metrics.transitions
    lost = (prepared.signs.bits & 0b111) != 0
    # The a → b moves are the first of each journey: lost in J1 and J2 only; no other move lost the context.
    first_moves = np.r_[True, moves.journey[1:] != moves.journey[:-1]]
    assert lost[first_moves].tolist() == [True, True, False, False, False, False]
    assert not lost[~first_moves].any()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a->b", Fix("transition", "a", "b", "Account page → Support call")),
        ("Account page -> support call", Fix("transition", "a", "b", "Account page → Support call")),
        ("a → b", Fix("transition", "a", "b", "Account page → Support call")),
        ("web->phone", Fix("channel", "web", "phone", "Website → Phone line (channel switch)")),
        ("Website->Phone line", Fix("channel", "web", "phone", "Website → Phone line (channel switch)")),
        ("digital->care", Fix("team", "Digital", "Care", "Digital → Care (team handoff)")),
    ],
)
def test_a_handoff_is_read_as_touchpoints_then_channels_then_teams(text: str, expected: Fix) -> None:
    assert Fix.parse(text, handoff_map(), handoff_log()) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a->nowhere",
            "handoff 'a->nowhere': 'nowhere' is not a touchpoint, channel or team of the map or the events. "
            "Touchpoints: Account page (a), Support call (b), Case closed (c); channels: Phone line (phone), "
            "Website (web); teams: Care, Digital.",
        ),
        (
            "a->web",
            "handoff 'a->web': names two different kinds of things (a handoff is touchpoint→touchpoint, "
            "channel→channel or team→team). Touchpoints: Account page (a), Support call (b), Case closed (c); "
            "channels: Phone line (phone), Website (web); teams: Care, Digital.",
        ),
        ("a", "handoff 'a': is not a handoff. Write it as FROM->TO, e.g. 'Product page->Call'."),
        ("a->", "handoff 'a->': is not a handoff. Write it as FROM->TO, e.g. 'Product page->Call'."),
    ],
)
def test_an_unknown_handoff_is_refused_with_the_choices(text: str, message: str) -> None:
    with pytest.raises(UserInputError) as raised:
        Fix.parse(text, handoff_map(), handoff_log())
    assert str(raised.value) == message


def test_the_estimate_compares_kept_and_lost_crossings_by_hand() -> None:
    estimate = estimate_fix(prepared_handoffs(), AB, min_crossings=1, draws=50)
    assert (estimate.crossings, estimate.lost, estimate.kept, estimate.ended_at_once) == (6, 2, 4, 1)
    assert estimate.customers_affected == 2
    completion = estimate.outcome("completion")
    assert completion is not None
    assert (completion.measured, completion.lost_crossings, completion.kept_crossings, completion.unmatched) == (
        6,
        2,
        3,
        0,
    )
    assert completion.observed == pytest.approx(4 / 6)
    assert (completion.kept_mean, completion.lost_mean, completion.effect) == pytest.approx((1.0, 0.5, 0.5))
    assert completion.predicted == pytest.approx(4 / 6 + 2 / 6 * 0.5)
    assert completion.interval is not None
    low, high = completion.interval
    assert low <= 0.5 <= high
    # Effort: events from the crossing's target to the end, converted journeys (J1, J3, J4, J5): 2, 2, 2, 3.
    effort = estimate.outcome("effort")
    assert effort is not None
    assert (effort.kept_mean, effort.lost_mean) == pytest.approx((7 / 3, 2.0))
    assert effort.observed == pytest.approx(9 / 4)
    # Time to goal: from b to c, 10 minutes (20 in J5).
    time = estimate.outcome("time_to_goal")
    assert time is not None
    assert (time.kept_mean, time.lost_mean) == pytest.approx((40 / 3 / 60, 10 / 60))
    assert len(estimate.assumptions) >= 6
    assert all(line.endswith(".") and line.count(". ") == 0 for line in estimate.assumptions)


def test_below_the_minimum_the_estimate_gives_no_number() -> None:
    estimate = estimate_fix(prepared_handoffs(), AB)
    completion = estimate.outcome("completion")
    assert completion is not None
    assert MIN_CROSSINGS > 3
    assert not completion.enough
    assert (completion.effect, completion.interval, completion.predicted) == (None, None, None)
    # What was observed is still said.
    assert (completion.lost_crossings, completion.kept_crossings) == (2, 3)
    assert completion.observed == pytest.approx(4 / 6)
    assert estimate_fix(prepared_handoffs(), AB, min_crossings=2).outcome("completion").enough  # type: ignore[union-attr]


def test_a_handoff_the_log_does_not_have_has_no_crossings() -> None:
    estimate = estimate_fix(prepared_handoffs(), Fix("transition", "c", "a"))
    assert (estimate.crossings, estimate.lost, estimate.customers_affected) == (0, 0, 0)
    assert all(not outcome.enough for outcome in estimate.outcomes)


def test_strata_keep_apart_what_differs() -> None:
    """Segments that differ: in x nothing converts, in y the kept crossing does.

    x: lost a* b* b (abandoned), kept a* b b three times (abandoned); y: lost a* b* b (abandoned), kept a* b c
    (converted). Pooled, kept 1/4 vs lost 0/2: +0.25. Within segments, each lost crossing against the kept
    ones of its own segment: x 0 - 0, y 1 - 0, averaged over the two lost crossings: +0.5.
    """
    lost, kept_x, kept_y = (
        [("a", True), ("b", True), ("b", False)],
        [("a", True), ("b", False), ("b", False)],
        [
            ("a", True),
            ("b", False),
            ("c", False),
        ],
    )
    journeys = [lost, kept_x, kept_x, kept_x, lost, kept_y]
    pooled = estimate_fix(prepare(build_log(journeys)), AB, min_crossings=1, draws=10).outcome("completion")
    within = estimate_fix(
        prepare(build_log(journeys, ["x", "x", "x", "x", "y", "y"])), AB, min_crossings=1, draws=10
    ).outcome("completion")
    assert pooled is not None and within is not None
    assert (pooled.kept_mean, pooled.lost_mean, pooled.effect) == pytest.approx((0.25, 0.0, 0.25))
    assert (within.kept_mean, within.lost_mean, within.effect) == pytest.approx((0.5, 0.0, 0.5))
    assert (within.lost_crossings, within.kept_crossings, within.unmatched) == (2, 4, 0)
    # A segment of lost crossings only cannot be compared: counted, left out.
    alone = estimate_fix(
        prepare(build_log(journeys, ["x", "x", "x", "x", "z", "y"])), AB, min_crossings=1, draws=10
    ).outcome("completion")
    assert alone is not None
    assert (alone.lost_crossings, alone.unmatched, alone.effect) == (1, 1, 0.0)


def test_the_graph_re_run_solves_the_chain_by_hand() -> None:
    prepared = prepared_handoffs()
    as_is = rerun_journey_graph(prepared, [], draws=50)
    fixed = rerun_journey_graph(prepared, [AB], draws=50)
    observed = {k.name: k.observed for k in as_is.kpis}
    assert observed == pytest.approx(
        {"completion": 4 / 6, "drop_off": 2 / 6, "events": 3.0, "handoffs": 10 / 6, "lost_handoffs": 2 / 6}
    )
    # The model as is reproduces what was observed; the fix is worked out in the module docstring.
    assert {k.name: k.predicted for k in as_is.kpis} == pytest.approx(observed, abs=1e-12)
    predicted = {k.name: k.predicted for k in fixed.kpis}
    assert predicted == pytest.approx(
        {"completion": 5 / 6, "drop_off": 1 / 6, "events": 28 / 9, "handoffs": 11 / 6, "lost_handoffs": 0.0}
    )
    assert (fixed.journeys, fixed.moves, fixed.fixed_crossings, fixed.unfixable) == (6, 12, 2, 0)
    # Five states: a (no crossing yet), b kept, b lost, b ended, c ended — all identified.
    assert fixed.states == 5
    for kpi in fixed.kpis:
        low, high = kpi.interval
        assert low <= kpi.predicted + 1e-12 and kpi.predicted <= high + 1e-12


def test_a_journey_that_starts_at_the_target_is_no_kept_arrival() -> None:
    """Two more journeys start at b (identified) and stop there: arrivals at b with no crossing before.

    They get a state of their own (no crossing yet), so the kept arrivals' row is unchanged: fixing a → b
    still converts 5/6 of the six journeys from a, none of the two from b: 5/8 (observed 4/8). Were they
    counted as kept arrivals, (b, kept) would end a third of its visits (2 of 6) and predict less.
    """
    prepared = prepare(build_log([*JOURNEYS, [("b", True)], [("b", True)]]))
    fixed = rerun_journey_graph(prepared, [AB], draws=10).kpi("completion")
    assert fixed is not None
    assert (fixed.observed, fixed.predicted) == pytest.approx((4 / 8, 5 / 8))


def test_the_ranking_lists_the_handoffs_with_enough_crossings() -> None:
    ranking = rank_handoffs(prepared_handoffs(), handoff_map(), min_crossings=2)
    # a → b as a designed transition, web → phone and Digital → Care: the same six crossings each (equal gains
    # are listed by label).
    assert ranking.select("kind", "source", "target", "crossings", "lost", "kept", "customers_affected").rows() == [
        ("transition", "a", "b", 6, 2, 4, 2),
        ("team", "Digital", "Care", 6, 2, 4, 2),
        ("channel", "web", "phone", 6, 2, 4, 2),
    ]
    assert ranking["effect"].to_list() == pytest.approx([0.5] * 3)
    assert ranking["gain"].to_list() == pytest.approx([1.0] * 3)
    # The graph re-run's gain: completion 2/3 → 5/6 over 6 journeys = one more completed journey.
    assert ranking["graph_gain"].to_list() == pytest.approx([1.0] * 3)
    assert rank_handoffs(prepared_handoffs(), handoff_map()).height == 0


def test_without_a_goal_the_ranking_weighs_effort() -> None:
    """No goal: nothing converts, and effort (events from b to the end) ranks the handoffs.

    Compared a → b crossings: lost J1 (b c: 2), J2 (b b: 2); kept J3, J4 (2), J5 (b b c: 3): effect +1/3 event,
    so 2 customers × -1/3 = -2/3 events saved; the graph re-run: events per journey 3 → 28/9 over 6 journeys,
    also -2/3 events saved.
    """
    settings = OverlaySettings(ongoing_after=T0 + timedelta(days=365))
    prepared = prepare_overlay(handoff_log(), handoff_map(), settings)
    assert not prepared.has_goal
    ranking = rank_handoffs(prepared, handoff_map(), min_crossings=2).filter(pl.col("kind") == "transition")
    assert ranking.select("effect", "gain", "graph_gain").row(0) == pytest.approx((1 / 3, -2 / 3, -2 / 3))
    estimate = estimate_fix(prepared, AB, min_crossings=1, draws=10)
    assert [o.outcome for o in estimate.outcomes] == ["repeat_contact", "effort"]


def test_the_fix_moves_the_context_evidence_by_hand() -> None:
    """Channel switches: a → b six times (J1, J2 lost the context), b → c four times: 8/10 kept it, 10/10 fixed.

    The measured integration factor is 1 - the mean context-loss score of the switches: a → b shows
    re-identifying in 2/6 (weight 0.25) and giving up within a day in 2/6 (J2, J6; weight 0.2), b → c nothing:
    1 - 6 × (0.25 + 0.2) / 3 / 10 = 0.91. Fixed, the re-identifications go: 1 - 6 × 0.2 / 3 / 10 = 0.96.
    """
    settings = OverlaySettings(goal_touchpoints=("c",), ongoing_after=T0 + timedelta(days=365))
    overlay = compute_overlay(handoff_log(), handoff_map(), settings)
    shift = shift_evidence(overlay, [AB], handoff_map())
    assert (shift.kept_share_before, shift.kept_share_after) == pytest.approx((0.8, 1.0))
    assert shift.before == evidence_from_overlay(overlay)
    assert (shift.before.measured_integration_factor, shift.after.measured_integration_factor) == pytest.approx(
        (0.91, 0.96)
    )
    assert (shift.before.context_loss_score, shift.after.context_loss_score) == pytest.approx((0.09, 0.04))
    moved = [(c.dimension_id, c.indicator, c.level_before, c.level_after) for c in shift.changes]
    assert moved == [
        ("data_integration", "measured_integration_factor", 5, 5),
        ("data_integration", "context_loss_score", 5, 5),
        ("channel_switching", "context_loss_score", 5, 5),
    ]
    assert [(c.before, c.after) for c in shift.changes] == [
        pytest.approx((0.91, 0.96)),
        pytest.approx((0.09, 0.04)),
        pytest.approx((0.09, 0.04)),
    ]
    unchanged = shift_evidence(overlay, [], handoff_map())
    assert (unchanged.after, unchanged.changes) == (unchanged.before, ())
