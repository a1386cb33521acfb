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

from journeymap.analysis.friction import FRICTION_COLUMNS, FRICTION_WEIGHTS, rank_friction
from journeymap.events.settings import OverlaySettings


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


def test_findings_explain_the_top_component() -> None:
    findings = dict(zip(ranked()["id"], ranked()["finding"], strict=True))
    assert findings["b → c"] == "Moves b → c take a median 1.0 h, 36.0× the map's median of 100 s."
    assert findings["c"] == "30% of visits to c repeat an earlier step, 6.0× the map's median of 5%."
    assert findings["b"] == "40% of journeys that reach b end there unconverted, 4.0× the map's median of 10%."
    assert findings["a"] == "a: no friction above the map's baseline."
