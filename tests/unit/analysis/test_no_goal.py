"""No goal, no drop-off claims.

Without a goal (no goal touchpoint, no conversion value in the mapping, no converted event) no
journey can convert: every finished journey would count as abandoned, so a completion rate, a
drop-off and an "abandon after the switch" would only restate that no goal was set. They are not
measured; findings never speak of conversion; the completion rate reads "n/a — set a goal".

The three-customer shop export (``events_fixtures.ROWS``) without its outcome column, cut by
the 3-day gap, ongoing after 242 h - 72 h = 170 h:

========  ===============================  ================  ================================
customer  events (hours)                   no goal           goal = Checkout (``buy``, final)
========  ===============================  ================  ================================
A         home 0, cart 1, call 3, cart 4,  one journey,      cut after buy: converted; then
          buy 5, home 6                    finished          home 6, finished unconverted
B         home 0, call 2 | home 242        finished | ongo.  abandoned | ongoing
C         home 100, cart 101, cart 103     finished          abandoned
========  ===============================  ================  ================================

With the goal, 1 of the 4 finished journeys converts: completion 25%.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from journeymap.analysis.kpis import NO_GOAL
from journeymap.events.goals import default_settings
from journeymap.events.ingest import ingest
from journeymap.events.journeys import has_goal
from journeymap.events.log import EventLog
from journeymap.events.mapping import ColumnMapping, guess_mapping
from journeymap.events.overlay import Overlay, compute_overlay
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from journeymap.overlay_viz import kpi_strip
from journeymap.report import build_report
from tests.unit.events.events_fixtures import shop_map, three_customers_csv

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
CONVERSION_WORDS = re.compile(r"convert|reaching|give up|drop", re.IGNORECASE)


def shop_log(tmp_path: Path, *, conversion_values: tuple[str, ...] = ()) -> EventLog:
    path = tmp_path / "shop.csv"
    path.write_text(three_customers_csv(), encoding="utf-8")
    raw = read_events(path)
    if conversion_values:  # an outcome goal no row reaches
        raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias("outcome"))
    mapping = ColumnMapping(
        customer_ids=["customer"],
        timestamp="time",
        channel="channel",
        touchpoint="event",
        outcome="outcome" if conversion_values else None,
        conversion_values=list(conversion_values),
    )
    log, _, _ = ingest(raw, mapping, shop_map(), source="shop.csv")
    return log


def test_without_a_goal_nothing_is_said_of_conversion(tmp_path: Path) -> None:
    log = shop_log(tmp_path)
    settings = OverlaySettings()
    assert not has_goal(log, settings)
    overlay = compute_overlay(log, shop_map(), settings)
    assert not overlay.prepared.has_goal and not overlay.kpis.has_goal
    assert overlay.journeys["outcome"].to_list() == ["abandoned", "abandoned", "ongoing", "abandoned"]
    assert (overlay.kpis.completion_rate, overlay.kpis.effort_steps) == (None, None)
    # No drop-off figure anywhere: touchpoints (the graph's badges and tooltips read them) nor moves.
    assert overlay.touchpoints["dropoff_rate"].null_count() == overlay.touchpoints.height
    assert overlay.transitions["conversion_share"].null_count() == overlay.transitions.height
    friction = overlay.friction
    assert friction.height > 0
    assert (
        friction.select(pl.col("dropoff", "dropoff_raw", "dropoff_baseline").null_count()).row(0)
        == (friction.height,) * 3
    )
    silo = overlay.silo_handoffs
    assert silo.height > 0 and silo["abandon_rate"].null_count() == silo.height
    findings = [*friction["finding"].to_list(), *silo["finding"].to_list()]
    assert not [text for text in findings if CONVERSION_WORDS.search(text)]
    assert overlay.designed_handoffs["abandon_rate"].drop_nulls().len() == 0


def test_with_the_maps_goal_the_same_events_are_measured(tmp_path: Path) -> None:
    log = shop_log(tmp_path)
    settings = default_settings(shop_map())
    assert settings.goal_touchpoints == ("buy",) and has_goal(log, settings)
    overlay = compute_overlay(log, shop_map(), settings)
    assert overlay.journeys["outcome"].to_list() == ["converted", "abandoned", "abandoned", "ongoing", "abandoned"]
    assert overlay.kpis.completion_rate == 0.25
    assert overlay.friction["dropoff"].null_count() < overlay.friction.height
    assert overlay.silo_handoffs["abandon_rate"].null_count() == 0


def test_conversion_values_are_a_goal_even_when_no_event_reaches_one(tmp_path: Path) -> None:
    log = shop_log(tmp_path, conversion_values=("order",))
    assert log.conversion_goal and not bool(log.events["converted"].any())
    overlay = compute_overlay(log, shop_map(), OverlaySettings())
    assert overlay.kpis.has_goal and overlay.kpis.completion_rate == 0.0  # a goal nobody reached


def test_completion_reads_set_a_goal_on_the_page_and_in_the_report(tmp_path: Path) -> None:
    overlay = compute_overlay(shop_log(tmp_path), shop_map(), OverlaySettings())
    strip = {item.key: item.value for item in kpi_strip(overlay.kpis.as_dict(), has_goal=overlay.kpis.has_goal)}
    assert strip["completion_rate"] == NO_GOAL == "n/a — set a goal"
    rows = dict(build_report(shop_map(), revision=None, overlay=overlay).table("kpis").rows)
    assert rows["Completion rate"] == NO_GOAL
    with_goal = compute_overlay(shop_log(tmp_path), shop_map(), default_settings(shop_map()))
    assert dict(build_report(shop_map(), revision=None, overlay=with_goal).table("kpis").rows)["Completion rate"] == (
        "25.0%"
    )


def _helpdesk(settings: OverlaySettings) -> Overlay:
    raw = read_events(REAL / "helpdesk.xes.gz")
    log, _, _ = ingest(raw, guess_mapping(raw), source="helpdesk.xes.gz")
    return compute_overlay(log, None, settings)


@pytest.fixture(scope="module")
def helpdesk_without_goal() -> Overlay:
    return _helpdesk(OverlaySettings())


def test_helpdesk_without_a_goal_never_says_tickets_end_unconverted(helpdesk_without_goal: Overlay) -> None:
    """Every ticket ends at Closed; without a goal that was '100% of journeys that reach Closed end there
    unconverted'."""
    overlay = helpdesk_without_goal
    assert overlay.kpis.completion_rate is None
    findings = overlay.friction["finding"].to_list() + overlay.silo_handoffs["finding"].to_list()
    assert findings and not [text for text in findings if CONVERSION_WORDS.search(text)]
    assert overlay.friction["dropoff"].null_count() == overlay.friction.height
    closed = _helpdesk(OverlaySettings(goal_touchpoints=("Closed",)))
    assert closed.kpis.completion_rate is not None and 0.9 < closed.kpis.completion_rate <= 1.0
