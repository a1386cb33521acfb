"""Findings that read right: no map spoken of when none was given, goals named, goal repeats not friction.

Touchpoints (100 visits each): drop-off a 0.1, b 0.4, c 0.1, paid 0.0 → baseline median 0.1; 'b'
shrinks to (40 + 0.1 × 20) / 120 = 0.35 → log2(3.5) = 1.807355. Repeat a 0.05, b 0.05, c 0.30,
paid 0.60: with 'paid' a goal its repeat is left out, so the baseline is median(0.05, 0.05, 0.30)
= 0.05 (not median of all four = 0.175) and 'c' shrinks to (30 + 1) / 120 → log2(5.166667) =
2.369234. Waits 60, 120, 600, 60 → baseline 90 s; 'c' (60000 + 1800) / 120 = 515 → log2(5.722222)
= 2.516573.

Transitions (50 each): a → b converts 0.8, b → c 0.2, paid → paid 1.0 → drop-off baseline
median(0.2, 0.8, 0.0) = 0.2; 'b → c' (40 + 4) / 70 → log2(3.142857) = 1.652077. Repeat steps
(silo) b → c 0.1, paid → paid 0.5: the second grocery trip is left out, so the baseline is 0.1;
counted, it would be median(0.1, 0.5) = 0.3 and paid → paid would shrink to (25 + 6) / 70 →
log2(1.476190) = 0.561879.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from journeymap.analysis.friction import rank_friction
from journeymap.analysis.silo import find_observed_silo_handoffs
from journeymap.events.journeys import cut_journeys
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.settings import OverlaySettings
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition

PAID = OverlaySettings(goal_touchpoints=("paid",))


def touchpoints() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "touchpoint": ["a", "b", "c", "paid"],
            "visits": [100, 100, 100, 100],
            "customers": [80, 90, 70, 60],
            "dropoff_rate": [0.1, 0.4, 0.1, 0.0],
            "repeat_rate": [0.05, 0.05, 0.30, 0.60],
            "dwell_median_s": [60.0, 120.0, 600.0, 60.0],
        }
    )


def transitions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["a", "b", "paid"],
            "target": ["b", "c", "paid"],
            "source_channel": ["web", "web", "web"],
            "target_channel": ["web", "phone", "store"],
            "count": [50, 50, 50],
            "customers": [45, 40, 30],
            "conversion_share": [0.8, 0.2, 1.0],
            "median_s": [100.0, 100.0, 100.0],
        }
    )


def silo() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["b", "paid"],
            "target": ["c", "paid"],
            "source_channel": ["web", "web"],
            "target_channel": ["phone", "store"],
            "count": [50, 50],
            "repeat_step_rate": [0.1, 0.5],
            "context_loss_score": [0.1, 0.1],
        }
    )


def shop_map(*, paid_is_final: bool = True) -> JourneyMap:
    """'a' Home page, 'b' Basket, 'c' Order call, 'paid' Order paid (final); designs a → b → c."""
    return JourneyMap(
        name="Shop",
        stages=(Stage(id="s", name="Stage"),),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED),
        ),
        touchpoints=(
            Touchpoint(id="a", name="Home page", channel="web", stage="s"),
            Touchpoint(id="b", name="Basket", channel="web", stage="s"),
            Touchpoint(id="c", name="Order call", channel="phone", stage="s"),
            Touchpoint(id="paid", name="Order paid", channel="web", stage="s", is_final=paid_is_final),
        ),
        transitions=(
            Transition(source="a", target="b"),
            Transition(source="b", target="c", context_carry=ContextCarry.FULL),
        ),
    )


def findings(ranked: pl.DataFrame) -> dict[str, str]:
    return dict(zip(ranked["id"], ranked["finding"], strict=True))


# --- friction ---------------------------------------------------------------------------------------------------


def test_without_a_map_the_findings_speak_of_this_data_and_name_the_goal() -> None:
    assert findings(rank_friction(touchpoints(), transitions(), silo(), PAID)) == {
        # 'c': repeat 0.20 × 2.369234 outweighs wait 0.15 × 2.516573.
        "c": "30% of visits to c are repeat visits within the same journey, 6.0× the median of 5% in this data.",
        "b → c": (
            "80% of journeys that move from b to c do not go on to reach paid, 4.0× the median of 20% in this data."
        ),
        "b": "40% of journeys that reach b end there without reaching paid, 4.0× the median of 10% in this data.",
        "a": "No friction above the baseline of this data at a.",
        "paid": "No friction above the baseline of this data at paid.",
        "a → b": "No friction above the baseline of this data on moves from a to b.",
        "paid → paid": "No friction above the baseline of this data on moves from paid back to paid.",
    }


def test_with_a_map_the_findings_name_the_goal_by_its_name() -> None:
    got = findings(rank_friction(touchpoints(), transitions(), silo(), PAID, shop_map()))
    assert (
        got["b"]
        == "40% of journeys that reach Basket end there without reaching Order paid, 4.0× the map's median of 10%."
    )
    assert got["b → c"] == (
        "80% of journeys that move from Basket to Order call do not go on to reach Order paid, "
        "4.0× the map's median of 20%."
    )
    assert got["paid"] == "No friction above the map's baseline at Order paid."


def test_several_goals_are_all_named() -> None:
    settings = OverlaySettings(goal_touchpoints=("paid", "c", "a", "shipped"))
    got = findings(rank_friction(touchpoints(), transitions(), silo(), settings, shop_map()))
    assert got["b"] == (
        "40% of journeys that reach Basket end there without reaching Order paid, Order call, Home page "
        "or another goal, 4.0× the map's median of 10%."
    )


def test_without_goal_touchpoints_a_drop_off_is_unconverted() -> None:
    # The map's final touchpoint is no goal the data was measured against: conversion is the outcome column.
    got = findings(rank_friction(touchpoints(), transitions(), silo(), OverlaySettings(), shop_map()))
    assert got["b"] == "40% of journeys that reach Basket end there unconverted, 4.0× the map's median of 10%."
    assert got["b → c"] == (
        "80% of journeys that move from Basket to Order call do not convert, 4.0× the map's median of 20%."
    )


@pytest.mark.parametrize(
    ("settings", "journey_map"),
    [(PAID, None), (OverlaySettings(), shop_map())],
    ids=["goal of the settings", "final touchpoint of the map"],
)
def test_repeat_visits_to_a_goal_are_not_friction(settings: OverlaySettings, journey_map: JourneyMap | None) -> None:
    ranked = rank_friction(touchpoints(), transitions(), silo(), settings, journey_map)
    rows = {r["id"]: r for r in ranked.iter_rows(named=True)}
    assert (rows["paid"]["repeat"], rows["paid"]["repeat_raw"]) == (None, 0.6)  # left out, still shown
    assert (rows["paid → paid"]["repeat"], rows["paid → paid"]["repeat_raw"]) == (None, 0.5)
    assert {r["repeat_baseline"] for r in rows.values() if r["kind"] == "touchpoint"} == {0.05}
    assert {r["repeat_baseline"] for r in rows.values() if r["kind"] == "transition"} == {0.1}
    assert rows["c"]["repeat"] == 2.369234
    assert rows["paid"]["score"] == rows["paid → paid"]["score"] == 0.0


def test_without_a_goal_the_same_repeats_are_friction() -> None:
    # The control for the test above: no goal, no final touchpoint.
    ranked = rank_friction(touchpoints(), transitions(), silo(), OverlaySettings(), shop_map(paid_is_final=False))
    rows = {r["id"]: r for r in ranked.iter_rows(named=True)}
    assert rows["paid → paid"]["repeat"] == 0.561879
    assert rows["paid → paid"]["repeat_baseline"] == 0.3
    assert rows["paid → paid"]["finding"] == (
        "In 50% of moves from Order paid back to Order paid, customers repeat a step they had already done, "
        "1.7× the map's median of 30%."
    )


# --- silo handoffs -----------------------------------------------------------------------------------------------

T = [datetime(2024, 1, 1, h, tzinfo=UTC) for h in (9, 10, 11, 12)]
LABELS = ("browse", "paid", "help")  # touchpoint codes 0, 1, 2
AFTER = datetime(2025, 1, 1, tzinfo=UTC)  # journeys that end before it are finished


def silo_map(*, paid_is_final: bool) -> JourneyMap:
    return JourneyMap(
        name="Shop",
        stages=(Stage(id="s", name="Stage"),),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED),
        ),
        touchpoints=(
            Touchpoint(id="browse", name="Browse", channel="web", stage="s"),
            Touchpoint(id="paid", name="Order paid", channel="web", stage="s", is_final=paid_is_final),
            Touchpoint(id="help", name="Help line", channel="phone", stage="s"),
        ),
        transitions=(
            Transition(source="browse", target="paid"),
            Transition(source="browse", target="help", context_carry=ContextCarry.FULL),
        ),
    )


def one_journey(touchpoint_codes: list[int], channel_codes: list[int]) -> EventLog:
    n = len(touchpoint_codes)
    events = pl.DataFrame(
        {
            "customer": [0] * n,
            "ts": T[:n],
            "seq": list(range(n)),
            "touchpoint": touchpoint_codes,
            "channel": channel_codes,
            "owner": channel_codes,
            "converted": [False] * n,
            "identified": [False] * n,
            "value": [None] * n,
            "sentiment": [None] * n,
        },
        schema=EVENT_SCHEMA,
    )
    return EventLog(events, LABELS, ("web", "phone"), ("Digital", "Care"))


@pytest.mark.parametrize(
    ("paid_is_final", "expected"),
    [
        # paid → help: bounce back to the web (0.15); help → paid: no sign. No goal is set, so the journey's
        # end is no abandon (not measured).
        (True, [("paid", "help", 0.0, 0.15), ("help", "paid", 0.0, 0.0)]),
        # Not a final touchpoint: coming back to it is a repeated step (0.25) after both switches.
        (False, [("paid", "help", 1.0, 0.4), ("help", "paid", 1.0, 0.25)]),
    ],
)
def test_coming_back_to_a_final_touchpoint_is_no_repeated_step(
    paid_is_final: bool, expected: list[tuple[str, str, float, float]]
) -> None:
    # browse (web) 9:00 → paid (web) 10:00 → help (phone) 11:00 → paid (web) 12:00, then nothing (no goal).
    settings = OverlaySettings(ongoing_after=AFTER)
    log, journeys = cut_journeys(one_journey([0, 1, 2, 1], [0, 0, 1, 0]), settings)
    found = find_observed_silo_handoffs(log, journeys, silo_map(paid_is_final=paid_is_final), settings)
    assert found.select("source", "target", "repeat_step_rate", "context_loss_score").rows() == expected


def test_an_abandon_names_the_goal_and_no_map_is_spoken_of_without_one() -> None:
    # browse (web) 9:00 → help (phone) 10:00, then nothing: the journey gives up without reaching the goal.
    settings = OverlaySettings(ongoing_after=AFTER, goal_touchpoints=("paid",))
    log, journeys = cut_journeys(one_journey([0, 2], [0, 1]), settings)
    without_map = find_observed_silo_handoffs(log, journeys, None, settings)
    assert without_map["finding"].to_list() == [
        "In 100% of the 1 move from browse (web) to help (phone), customers give up within 24.0 h without "
        "reaching paid."
    ]
    with_map = find_observed_silo_handoffs(log, journeys, silo_map(paid_is_final=True), settings)
    assert with_map["finding"].to_list() == [
        "In 100% of the 1 move from Browse (Website) to Help line (Phone), customers give up within 24.0 h without "
        "reaching Order paid; the map declares this handoff as full context."
    ]
