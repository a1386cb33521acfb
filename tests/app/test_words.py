"""Figures that read alike must mean the same: the completion rate beside the funnel's converted step.

Both are worked out here apart from the engine, with plain pandas, on the bundled retail sample
(``data/sample/retail_events.csv.gz``, its column mapping and the retail map), as the Overlay page's demo
reads it with its defaults:

- a row equal to an earlier one in every column is dropped; so are rows whose time does not read with the
  mapping's format and rows without any customer identifier;
- rows sharing a value of any identifier column (email, device id, loyalty id, phone) are one customer;
- each customer's events, in time and then file order, are cut into journeys by a gap of more than 3 days and
  right after a goal event: a final touchpoint of the map (after the mapping's value map) or an outcome the
  mapping counts as converted;
- a journey with a goal event has converted; one without is ongoing when its last event lies within 3 days of
  the log's last event, else abandoned.

The completion rate is converted / (converted + abandoned); the funnel starts from those finished journeys and
ends with the converted ones, so its last share is the same figure, and both say so on hover.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from journeymap.ui.state import MaturityKeys, OverlayKeys

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
GAP = pd.Timedelta(days=3)


def _journey_outcomes() -> pd.Series:
    """Outcome of every journey of the sample (``converted``, ``abandoned``, ``ongoing``), by journey number."""
    mapping = json.loads((SAMPLE / "retail_mapping.json").read_text(encoding="utf-8"))
    template = json.loads((ROOT / "data" / "templates" / "retail-bopis.json").read_text(encoding="utf-8"))
    ids = mapping["customer_ids"]
    raw = pd.read_csv(SAMPLE / "retail_events.csv.gz", dtype=str, keep_default_na=False)
    events = raw.drop_duplicates().reset_index(drop=True)
    events["ts"] = pd.to_datetime(events["timestamp"], format=mapping["timestamp_format"], errors="coerce", utc=True)
    events = events[events["ts"].notna() & (events[ids] != "").any(axis=1)].reset_index(drop=True)

    # One customer per group of rows linked by a shared identifier: each row takes the smallest row number
    # among the rows sharing any of its values, until nothing changes.
    customer = pd.Series(range(len(events)), index=events.index)
    while True:
        before = customer.copy()
        for column in ids:
            given = events[column] != ""
            customer[given] = customer[given].groupby(events.loc[given, column]).transform("min")
        if customer.equals(before):
            break
    events["customer"] = customer

    finals = {tp["id"] for tp in template["touchpoints"] if tp.get("is_final")}
    touchpoint = events["event"].map(lambda label: mapping["value_map"].get(label, label))
    events["goal"] = touchpoint.isin(finals) | events["outcome"].isin(mapping["conversion_values"])
    events["row"] = range(len(events))
    events = events.sort_values(["customer", "ts", "row"], kind="mergesort")
    previous_goal = events["goal"].shift(fill_value=False).astype(bool)
    starts = (
        events["customer"].ne(events["customer"].shift()) | (events["ts"] - events["ts"].shift() > GAP) | previous_goal
    )
    events["journey"] = starts.cumsum()
    journeys = events.groupby("journey").agg(converted=("goal", "any"), last=("ts", "max"))
    outcome = pd.Series("abandoned", index=journeys.index)
    outcome[journeys["last"] >= events["ts"].max() - GAP] = "ongoing"
    outcome[journeys["converted"]] = "converted"
    return outcome


@pytest.fixture(scope="module")
def outcomes() -> pd.Series:
    return _journey_outcomes()


def test_the_reference_reads_the_sample_as_the_ingest_report_says(outcomes: pd.Series) -> None:
    counts = outcomes.value_counts().to_dict()
    assert len(outcomes) == 7_089 and counts == {"abandoned": 4_324, "converted": 2_764, "ongoing": 1}


def test_completion_rate_and_funnel_converted_share_are_one_figure_defined_on_hover(
    make_app: Callable[..., AppTest], outcomes: pd.Series
) -> None:
    converted = int((outcomes == "converted").sum())
    finished = converted + int((outcomes == "abandoned").sum())

    at = make_app("views/overlay.py").run()
    at.button(key=OverlayKeys.DEMO).click().run()
    assert not at.exception, at.exception
    kpi = next(m for m in at.metric if m.label == "Completion rate")
    assert kpi.value == f"{converted / finished:.0%}" == "39%"
    assert kpi.help.startswith("Converted journeys out of the finished ones (converted or abandoned)")
    assert "funnel's Converted step" in kpi.help

    (funnel,) = [
        trace
        for chart in at.get("plotly_chart")
        for trace in json.loads(chart.proto.spec)["data"]  # type: ignore[attr-defined]
        if trace["type"] == "funnel"
    ]
    assert (funnel["y"][0], funnel["x"][0]) == ("Finished journeys", finished)
    assert (funnel["y"][-1], funnel["x"][-1]) == ("Converted", converted)
    assert "percent initial" in funnel["textinfo"]  # each bar's share is of the finished journeys
    assert "%{percentInitial:.0%} of the finished journeys" in funnel["hovertemplate"]
    assert funnel["hovertext"][0].startswith("Journeys that are over: converted or abandoned")
    assert "This share is the completion rate: converted journeys out of the finished ones" in funnel["hovertext"][-1]


def test_maturity_evidence_columns_are_defined_on_hover(make_app: Callable[..., AppTest]) -> None:
    at = make_app().run()
    at.switch_page("views/overlay.py").run()
    at.button(key=OverlayKeys.DEMO).click().run()  # registers the sample on the retail map
    at.switch_page("views/maturity.py").run()
    maps = at.selectbox(key=MaturityKeys.EVIDENCE_MAP)
    maps.select_index(next(i for i, name in enumerate(maps.options) if name.startswith("Retail"))).run()
    at.selectbox(key=MaturityKeys.EVIDENCE_DATASET).select_index(1).run()
    assert not at.exception, at.exception
    (evidence,) = [df for df in at.dataframe if "Suggests level" in df.value.columns]
    config = json.loads(evidence.proto.columns)  # type: ignore[attr-defined]
    assert list(evidence.value.columns) == ["Dimension", "Indicator", "Value", "Suggests level"]
    assert {column: bool(config[column].get("help")) for column in evidence.value.columns} == dict.fromkeys(
        evidence.value.columns, True
    )
    assert "share from 0 (none) to 1 (all)" in config["Value"]["help"]
    # Indicators by name: the measured ones from the overlay of the sample are there.
    assert {"measured context loss", "identity-stitching rate"} <= set(evidence.value["Indicator"])
