"""Friction ranking on hand-made touchpoint and transition metrics, worked out on paper.

Touchpoint baselines (min_volume 10 leaves 'd' out): dropoff median(0.1, 0.4, 0.1) = 0.1,
repeat median(0.05, 0.05, 0.30) = 0.05, wait median(60, 120, 600) = 120 s. With 100 visits
and 20 prior observations, 'b' drop-off shrinks to (40 + 2) / 120 = 0.35 → log2(0.35 / 0.1)
= 1.807355; 'c' repeat (30 + 1) / 120 → log2(0.258333 / 0.05) = 2.369234 and wait
(60000 + 2400) / 120 = 520 → log2(520 / 120) = 2.115477.

Transition 'b → c' (count 50): drop-off 1 - 0.2 = 0.8 against 0.2 → (40 + 4) / 70 → log2(3.142857)
= 1.652077; repeat 0.5 against median(0.5, 0.1) = 0.3 → (25 + 6) / 70 → 0.561879; wait 3600
against 100 → (180000 + 2000) / 70 = 2600 → log2(26) = 4.70044; context loss 0.6 against
0.35 → (30 + 7) / 70 → 0.594744.
"""

from __future__ import annotations

import polars as pl
import pytest

from journeymap.analysis.friction import FRICTION_COLUMNS, FRICTION_WEIGHTS, _compare, rank_friction
from journeymap.events.settings import OverlaySettings
from journeymap.model import Channel, ChannelKind, JourneyMap, Stage, Touchpoint, Transition


def metrics_touchpoints() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "touchpoint": ["a", "b", "c", "d"],
            "channel": ["web", "web", "phone", "web"],
            "visits": [100, 100, 100, 1],
            "customers": [80, 90, 70, 1],
            "dropoff_rate": [0.1, 0.4, 0.1, 1.0],
            "repeat_rate": [0.05, 0.05, 0.30, 0.0],
            "dwell_median_s": [60.0, 120.0, 600.0, None],
        }
    )


def metrics_transitions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["a", "b", "c"],
            "target": ["b", "c", "a"],
            "source_channel": ["web", "web", "phone"],
            "target_channel": ["web", "phone", "web"],
            "count": [50, 50, 50],
            "customers": [45, 40, 30],
            "conversion_share": [0.8, 0.2, 0.8],
            "median_s": [100.0, 3600.0, 100.0],
        }
    )


def metrics_silo() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["b", "c"],
            "target": ["c", "a"],
            "source_channel": ["web", "phone"],
            "target_channel": ["phone", "web"],
            "count": [50, 50],
            "repeat_step_rate": [0.5, 0.1],
            "context_loss_score": [0.6, 0.1],
        }
    )


def ranked() -> pl.DataFrame:
    return rank_friction(metrics_touchpoints(), metrics_transitions(), metrics_silo(), OverlaySettings(min_volume=10))


def test_weights_add_up_to_one() -> None:
    assert sum(FRICTION_WEIGHTS.values()) == pytest.approx(1.0)


def test_components_and_scores_by_hand() -> None:
    got = ranked()
    assert got.columns == list(FRICTION_COLUMNS)
    assert got.select(
        "kind", "id", "dropoff", "repeat", "wait", "context_loss", "score", "customers_affected"
    ).rows() == [
        ("transition", "b → c", 1.652077, 0.561879, 4.70044, 0.594744, 1.574092, 40),
        ("touchpoint", "c", 0.0, 2.369234, 2.115477, None, 0.791168, 70),
        ("touchpoint", "b", 1.807355, 0.0, 0.0, None, 0.632574, 90),
        ("touchpoint", "a", 0.0, 0.0, 0.0, None, 0.0, 80),
        ("transition", "a → b", 0.0, None, 0.0, None, 0.0, 45),
        ("transition", "c → a", 0.0, 0.0, 0.0, 0.0, 0.0, 30),
    ]


def test_baselines_are_medians_per_kind() -> None:
    got = ranked()
    baselines = ["dropoff_baseline", "repeat_baseline", "wait_baseline", "context_loss_baseline"]
    by_kind = {kind: rows.select(baselines).unique().rows() for (kind,), rows in got.group_by("kind")}
    assert by_kind == {"touchpoint": [(0.1, 0.05, 120.0, None)], "transition": [(0.2, 0.3, 100.0, 0.35)]}


def test_min_volume_leaves_small_items_out() -> None:
    assert "d" not in ranked()["id"].to_list()
    everything = rank_friction(metrics_touchpoints(), metrics_transitions(), metrics_silo(), OverlaySettings())
    assert "d" in everything["id"].to_list()


def abc_map() -> JourneyMap:
    """A map naming 'a', 'b' and 'c' (not 'd'), designing a → b and b → c."""
    stage = Stage(id="s", name="Stage")
    return JourneyMap(
        name="ABC",
        stages=(stage,),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL, owner_team="Digital"),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED, owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="a", name="Home page", channel="web", stage="s"),
            Touchpoint(id="b", name="Basket", channel="web", stage="s"),
            Touchpoint(id="c", name="Order call", channel="phone", stage="s"),
        ),
        transitions=(Transition(source="a", target="b"), Transition(source="b", target="c")),
    )


def test_findings_explain_the_top_component() -> None:
    # No map was given: the baselines are this data's, and no finding speaks of a map.
    findings = dict(zip(ranked()["id"], ranked()["finding"], strict=True))
    assert findings == {
        "b → c": "Moves from b to c take a median 1.0 h, 36.0× the median of 100 s in this data.",
        "c": "30% of visits to c are repeat visits within the same journey, 6.0× the median of 5% in this data.",
        "b": "40% of journeys that reach b end there unconverted, 4.0× the median of 10% in this data.",
        "a": "No friction above the baseline of this data at a.",
        "a → b": "No friction above the baseline of this data on moves from a to b.",
        "c → a": "No friction above the baseline of this data on moves from c to a.",
    }


def test_findings_use_the_touchpoint_names_of_the_map_and_keep_ids() -> None:
    # With min_volume 1, 'd' joins the touchpoints: drop-off baseline median(0.1, 0.4, 0.1, 1.0) = 0.25, so
    # 'b' shrinks to (40 + 5) / 120 = 0.375 → log2(1.5) = 0.584963 and 'd' to (1 + 5) / 21 → 0.192645.
    transitions = metrics_transitions().with_columns(designed=pl.Series([True, True, False]))
    got = rank_friction(metrics_touchpoints(), transitions, metrics_silo(), OverlaySettings(), abc_map())
    assert got.select("id", "dropoff").rows() == [
        ("b → c", 1.652077),
        ("c", 0.0),
        ("b", 0.584963),
        ("d", 0.192645),
        ("a", 0.0),
        ("a → b", 0.0),
        ("c → a", 0.0),
    ]
    assert got["finding"].to_list() == [
        "Moves from Basket to Order call take a median 1.0 h, 36.0× the map's median of 100 s.",
        "30% of visits to Order call are repeat visits within the same journey, 6.0× the map's median of 5%.",
        "40% of journeys that reach Basket end there unconverted, 1.6× the map's median of 25%.",
        # 'd' is not on the map: its raw label stays.
        "100% of journeys that reach d end there unconverted, 4.0× the map's median of 25%.",
        "No friction above the map's baseline at Home page.",
        "No friction above the map's baseline on moves from Home page to Basket.",
        "No friction above the map's baseline on moves from Order call to Home page (not on the map).",
    ]


def zero_baseline_ranking() -> pl.DataFrame:
    """Most items show no drop-off and no repeated step: the baselines are 0."""
    touchpoints = pl.DataFrame(
        {
            "touchpoint": ["a", "b", "c"],
            "visits": [50, 50, 50],
            "customers": [50, 40, 30],
            "dropoff_rate": [0.0, 0.0, 0.2],
            "repeat_rate": [0.0, 0.0, 0.0],
            "dwell_median_s": [60.0, 60.0, 60.0],
        }
    )
    transitions = pl.DataFrame(
        {
            "source": ["a", "b", "b"],
            "target": ["b", "a", "c"],
            "source_channel": ["web", "web", "web"],
            "target_channel": ["web", "web", "phone"],
            "count": [50, 50, 50],
            "customers": [45, 40, 30],
            "conversion_share": [0.5, 0.5, 0.5],
            "median_s": [100.0, 100.0, 100.0],
        }
    )
    silo = pl.DataFrame(
        {
            "source": ["a", "b", "b"],
            "target": ["b", "a", "c"],
            "source_channel": ["web", "web", "web"],
            "target_channel": ["web", "web", "phone"],
            "count": [50, 50, 50],
            "repeat_step_rate": [0.0, 1.0, 0.0],
            "context_loss_score": [0.1, 0.1, 0.1],
        }
    )
    return rank_friction(touchpoints, transitions, silo, OverlaySettings(), abc_map())


def test_a_zero_baseline_reads_as_none_on_this_map() -> None:
    # b → a: repeat 1.0 shrinks to 50 / 70 = 0.714286 against the 5% floor → log2(14.285714) = 3.836501.
    # c: drop-off 0.2 shrinks to 10 / 70 = 0.142857 → log2(2.857143) = 1.514573.
    got = zero_baseline_ranking().select("id", "dropoff", "repeat", "finding").rows()
    assert got[:2] == [
        (
            "b → a",
            0.0,
            3.836501,
            "In 100% of moves from Basket to Home page, customers repeat a step they had already done, "
            "where most moves on this map show none.",
        ),
        (
            "c",
            1.514573,
            0.0,
            "20% of journeys that reach Order call end there unconverted, where most touchpoints on this map lose "
            "no journeys.",
        ),
    ]


@pytest.mark.parametrize(
    ("component", "raw", "base", "items", "text"),
    [
        ("repeat", 0.5, 0.1, "moves", ", 5.0× the map's median of 10%"),
        ("repeat", 0.5, 0.004, "moves", ", where most moves on this map show almost none"),
        ("dropoff", 0.3, 0.0, "touchpoints", ", where most touchpoints on this map lose no journeys"),
        ("wait", 600.0, 0.2, "touchpoints", ", where most touchpoints on this map take under a second"),
        ("wait", 600.0, 120.0, "moves", ", 5.0× the map's median of 2 min"),
        ("context_loss", 0.4, 0.0, "moves", ", where most handoffs on this map show none"),
        ("context_loss", 0.4, 0.2, "moves", ", 2.0× the map's median of 0.20"),
    ],
)
def test_comparison_with_the_baseline(component: str, raw: float, base: float, items: str, text: str) -> None:
    assert _compare(component, raw, base, items) == text


def test_context_loss_is_weighted_over_the_real_channel_pairs_and_named_by_the_main_one() -> None:
    """b → c was crossed 30 times from web to phone (score 0.9) and 10 times from app to phone (score 0.1):
    its context loss is (30 × 0.9 + 10 × 0.1) / 40 = 0.7, and the finding names web → phone."""
    transitions = metrics_transitions().with_columns(
        pl.when(pl.col("source") == "b").then(40).otherwise(pl.col("count")).alias("count"),
        pl.lit(100.0).alias("median_s"),
        pl.lit(0.8).alias("conversion_share"),
    )
    silo = pl.DataFrame(
        {
            "source": ["b", "b", "c"],
            "target": ["c", "c", "a"],
            "source_channel": ["web", "app", "phone"],
            "target_channel": ["phone", "phone", "web"],
            "count": [30, 10, 50],
            "repeat_step_rate": [0.0, 0.0, 0.0],
            "context_loss_score": [0.9, 0.1, 0.1],
        }
    )
    got = rank_friction(metrics_touchpoints(), transitions, silo, OverlaySettings(min_volume=10))
    row = got.filter(pl.col("id") == "b → c").row(0, named=True)
    assert row["context_loss_raw"] == pytest.approx(0.7)
    assert row["finding"].startswith("Customers moving from b to c (mostly from web to phone) show signs")
