"""Journeys as the data defines them: one journey per case, on the vendored real logs.

Each log is ingested with its case column mapped (``case``, journeys by case) and overlaid with
the default 3-day gap, which must cut nothing. The references are plain pandas over the raw rows:
group sizes per case, the cases a gap would split (a case with two consecutive events further
apart than the gap), and, for a goal, each case's outcome (converted when an event is at a goal
activity, else ongoing when its last event is within one gap of the log's last event, else
abandoned). Switches and handoffs per case come from ``test_real_logs``' reference, which
obtained them with a gap longer than any case.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl
import pytest

from journeymap.errors import UserInputError
from journeymap.events.goals import final_touchpoints
from journeymap.events.ingest import LOG_FORMAT, ingest, load_log, log_format, save_log
from journeymap.events.journeys import split_cases_warning
from journeymap.events.log import EventLog
from journeymap.events.mapping import ColumnMapping, guess_mapping, mapping_from_json, mapping_to_json
from journeymap.events.overlay import Overlay, compute_overlay
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from journeymap.model import Channel, JourneyMap, Stage, Touchpoint
from journeymap.overlay_viz import stage_reach
from journeymap.templates import load_template
from tests.unit.events.test_real_logs import LOGS, RealLog, _per_case, _reference

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
CASE_LOGS = {"helpdesk": "helpdesk-resource", "bpic2012": "bpic2012", "receipt": "receipt"}
CASES = {"helpdesk": 4_580, "bpic2012": 13_087, "receipt": 1_434}


def case_mapping(log: RealLog, *, journeys: str = "case") -> ColumnMapping:
    """The log's mapping (customer = case column) with the case column mapped."""
    data = {**log.mapping().model_dump(), "case": log.case, "journeys": journeys}
    return ColumnMapping.model_validate(data)


_raw: dict[str, pl.DataFrame] = {}
_logs: dict[tuple[str, str], EventLog] = {}
_overlays: dict[str, Overlay] = {}


def raw_of(log: RealLog) -> pl.DataFrame:
    if log.file not in _raw:
        _raw[log.file] = read_events(REAL / log.file)
    return _raw[log.file]


def case_log(name: str, journeys: str = "case") -> EventLog:
    key = (name, journeys)
    if key not in _logs:
        log = LOGS[CASE_LOGS[name]]
        _logs[key] = ingest(raw_of(log), case_mapping(log, journeys=journeys), source=log.file)[0]
    return _logs[key]


def case_overlay(name: str) -> Overlay:
    if name not in _overlays:
        _overlays[name] = compute_overlay(case_log(name), None, OverlaySettings())
    return _overlays[name]


def rows(log: RealLog) -> pd.DataFrame:
    """Raw rows with the time parsed, in case and time order (file order within ties)."""
    frame = raw_of(log).to_pandas()
    frame["_row"] = range(len(frame))
    frame["_ts"] = pd.to_datetime(frame[log.time], utc=True)
    frame["_case"] = frame[log.case].astype(str)
    return frame.sort_values(["_case", "_ts", "_row"], kind="mergesort").reset_index(drop=True)


def events_per_journey(overlay: Overlay) -> dict[str, int]:
    """Journey events by the journey's case label (the customer column is the case column here)."""
    labels = overlay.log.events.group_by("journey").agg(pl.col("customer_id").first().cast(pl.String))
    joined = overlay.journeys.join(labels, on="journey")
    return dict(zip(joined["customer_id"].to_list(), joined["events"].to_list(), strict=True))


# --- one journey per case ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASE_LOGS))
def test_one_journey_per_case_with_the_pandas_group_sizes(name: str) -> None:
    log = LOGS[CASE_LOGS[name]]
    overlay = case_overlay(name)
    sizes = rows(log).groupby("_case").size()
    assert len(sizes) == CASES[name]
    assert overlay.journeys.height == overlay.kpis.journeys == CASES[name]
    assert events_per_journey(overlay) == {str(case): int(n) for case, n in sizes.items()}
    # The default 3-day gap, which cuts these logs into many more journeys, cuts no case.
    assert (
        compute_overlay(ingest(raw_of(log), log.mapping(), source=log.file)[0], None, OverlaySettings()).kpis.journeys
        > (CASES[name])
    )


@pytest.mark.parametrize(
    ("name", "dimension"),
    [("helpdesk", "team"), ("bpic2012", "team"), ("receipt", "team"), ("receipt", "channel")],
)
def test_switches_and_handoffs_per_case_equal_the_real_log_reference(name: str, dimension: str) -> None:
    log = LOGS[CASE_LOGS[name]]
    column = log.team if dimension == "team" else log.channel
    count, ping_pong = ("team_handoffs", "team_ping_pong") if dimension == "team" else ("switches", "channel_ping_pong")
    assert _per_case(case_overlay(name), count, ping_pong) == _reference(log, column).per_case


@pytest.mark.parametrize("name", list(CASE_LOGS))
def test_the_cached_log_keeps_each_case_together_inside_its_customer(name: str, tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    save_log(case_log(name), path)
    assert log_format(path) == LOG_FORMAT
    log = load_log(path)
    assert log.case_journeys
    events = log.events.select("customer", "case", "ts")
    assert events.schema["case"] == pl.UInt32
    frame = events.to_pandas()
    # Contiguous runs: a customer (a case) never comes back after another one started.
    for column in ("customer", "case"):
        runs = (frame[column] != frame[column].shift()).sum()
        assert runs == frame[column].nunique()
    # Time order inside a case, and cases numbered by their first event.
    assert (frame.groupby("case")["ts"].diff().dropna() >= pd.Timedelta(0)).all()
    firsts = frame.groupby("case")["ts"].min().sort_index()
    assert firsts.is_monotonic_increasing


def test_case_and_customer_combine_customers_for_identity_cases_for_journeys() -> None:
    """Helpdesk names the customer of each ticket; a few tickets name two, which the ticket then joins."""
    log = LOGS["helpdesk-resource"]
    mapping = ColumnMapping.model_validate(
        {**log.mapping().model_dump(), "customer_ids": ["customer"], "case": log.case, "journeys": "case"}
    )
    event_log, _, identity = ingest(raw_of(log), mapping, source=log.file)
    overlay = compute_overlay(event_log, None, OverlaySettings())
    frame = rows(log)
    graph = nx.Graph()
    graph.add_edges_from(zip("c:" + frame["customer"].astype(str), "t:" + frame["_case"], strict=True))
    components = list(nx.connected_components(graph))
    assert identity.customers == overlay.kpis.customers == len(components)
    assert overlay.journeys.height == 4_580
    cases_per_customer = sorted(sum(1 for node in c if node.startswith("t:")) for c in components)
    per_customer = overlay.journeys.group_by("customer").len()["len"].sort().to_list()
    assert per_customer == cases_per_customer
    assert sorted(overlay.journeys["events"].to_list()) == sorted(frame.groupby("_case").size().tolist())
    # Journeys are numbered customer by customer (the distinct indexes rely on it).
    assert overlay.journeys["customer"].diff().drop_nulls().min() >= 0


# --- the gap-split warning ------------------------------------------------------------------------


def split_reference(log: RealLog, gap: timedelta) -> tuple[int, int]:
    frame = rows(log)
    wide = frame.groupby("_case")["_ts"].diff() > pd.Timedelta(gap)
    per_case = wide.groupby(frame["_case"]).any()
    return int(per_case.sum()), len(per_case)


@pytest.mark.parametrize("name", list(CASE_LOGS))
def test_the_warning_says_how_many_cases_a_gap_splits(name: str) -> None:
    log = LOGS[CASE_LOGS[name]]
    gap = timedelta(days=30)
    split, cases = split_reference(log, gap)
    assert cases == CASES[name]
    share = f"{split / cases:.0%}" if split / cases >= 0.01 else "less than 1%"
    # Journeys chosen to be cut by the gap on data with a case column.
    cut = compute_overlay(case_log(name, "gap"), None, OverlaySettings(gap=gap)).prepared.log
    assert split_cases_warning(cut, gap) == (
        f"the 30-day gap splits {share} of the {cases:,} cases; "
        "choose journeys by case in the column mapping to keep them whole"
    )
    # No case column mapped, but the customer column holds the case.
    plain = ingest(raw_of(log), log.mapping(), source=log.file)[0]
    cut = compute_overlay(plain, None, OverlaySettings(gap=gap)).prepared.log
    assert split_cases_warning(cut, gap, customer_is_case=True) == (
        f"the 30-day gap splits {share} of the {cases:,} cases; map the case column to keep them whole"
    )
    # Journeys by case split none.
    assert split_cases_warning(case_overlay(name).prepared.log, gap) is None


def test_helpdesk_split_figure() -> None:
    """The figure the warning gives on helpdesk: 2,648 of the 4,580 tickets pause for more than 30 days."""
    split, cases = split_reference(LOGS["helpdesk-resource"], timedelta(days=30))
    assert (split, cases, f"{split / cases:.0%}") == (2_648, 4_580, "58%")


# --- goals: a case is never cut at one, and completion, drop-off and funnel agree -------------------

GOALS = {
    "helpdesk": ("Closed",),
    "bpic2012": ("A_ACTIVATED",),
    "receipt": ("T05 Print and send confirmation of receipt",),
}


def outcome_reference(log: RealLog, goals: tuple[str, ...], gap: timedelta) -> dict[str, str]:
    frame = rows(log)
    reached = frame[log.activity].astype(str).isin(goals).groupby(frame["_case"]).any()
    last = frame.groupby("_case")["_ts"].max()
    ongoing = last >= frame["_ts"].max() - pd.Timedelta(gap)
    return {
        str(case): "converted" if reached[case] else ("ongoing" if ongoing[case] else "abandoned")
        for case in reached.index
    }


@pytest.mark.parametrize("name", list(CASE_LOGS))
def test_goal_outcomes_and_completion_equal_the_reference(name: str) -> None:
    log = LOGS[CASE_LOGS[name]]
    settings = OverlaySettings(goal_touchpoints=GOALS[name])
    overlay = compute_overlay(case_log(name), None, settings)
    assert overlay.journeys.height == CASES[name]  # no case is cut at its goal
    labels = overlay.log.events.group_by("journey").agg(pl.col("customer_id").first().cast(pl.String))
    joined = overlay.journeys.join(labels, on="journey")
    expected = outcome_reference(log, GOALS[name], settings.gap)
    assert dict(zip(joined["customer_id"], joined["outcome"], strict=True)) == expected
    outcomes = pd.Series(expected).value_counts()
    converted, abandoned = int(outcomes.get("converted", 0)), int(outcomes.get("abandoned", 0))
    assert overlay.kpis.completion_rate == converted / (converted + abandoned)
    assert converted > 0 and abandoned > 0


def test_a_goal_in_the_middle_of_a_case_does_not_cut_it() -> None:
    """Helpdesk tickets are resolved, then closed; a gap-cut log ends a journey at the goal, a case never does."""
    log = LOGS["helpdesk-resource"]
    settings = OverlaySettings(goal_touchpoints=("Resolve ticket",))
    by_case = compute_overlay(case_log("helpdesk"), None, settings)
    assert by_case.journeys.height == 4_580
    expected = outcome_reference(log, ("Resolve ticket",), settings.gap)
    assert int((by_case.journeys["outcome"] == "converted").sum()) == sum(o == "converted" for o in expected.values())
    whole_cases = OverlaySettings(gap=timedelta(days=365 * 100), goal_touchpoints=("Resolve ticket",))
    by_gap = compute_overlay(ingest(raw_of(log), log.mapping(), source=log.file)[0], None, whole_cases)
    assert by_gap.journeys.height > 4_580  # cut right after each "Resolve ticket" that is not last


def data_map(labels: list[str], goals: tuple[str, ...]) -> JourneyMap:
    """A map of the log's activities: goals in a "Done" stage and final, the rest in "Work"."""
    return JourneyMap(
        name="From the data",
        stages=(Stage(id="work", name="Work"), Stage(id="done", name="Done")),
        channels=(Channel(id="default", name="Default"),),
        touchpoints=tuple(
            Touchpoint(
                id=f"t{i}",
                name=label,
                channel="default",
                stage="done" if label in goals else "work",
                is_final=label in goals,
            )
            for i, label in enumerate(labels)
        ),
    )


def assert_consistent(overlay: Overlay, reach: pl.DataFrame) -> None:
    """No funnel step above its first, the converted share is the completion rate, drop-offs are the abandoned."""
    outcome = overlay.journeys["outcome"]
    converted, abandoned = int((outcome == "converted").sum()), int((outcome == "abandoned").sum())
    steps = reach["journeys"].to_list()
    assert reach["step"][0] == "Finished journeys" and steps[0] == converted + abandoned
    assert max(steps) == steps[0]  # no stage above 100%
    assert reach["step"][-1] == "Converted" and steps[-1] == converted
    assert steps[-1] / steps[0] == overlay.kpis.completion_rate
    touchpoints = overlay.touchpoints
    assert int(touchpoints["dropoffs"].sum()) == abandoned
    assert (touchpoints["dropoff_rate"].drop_nulls() <= 1.0).all()


@pytest.mark.parametrize("name", list(CASE_LOGS))
def test_completion_dropoff_and_funnel_agree_on_the_real_logs(name: str) -> None:
    log = LOGS[CASE_LOGS[name]]
    labels = sorted(rows(log)[log.activity].astype(str).unique())
    journey_map = data_map(labels, GOALS[name])
    mapping = case_mapping(log).model_copy(
        update={"value_map": {label: f"t{i}" for i, label in enumerate(labels)}, "channel": None,
                "channel_constant": "default"}
    )  # fmt: skip
    event_log = ingest(raw_of(log), mapping, journey_map, source=log.file)[0]
    settings = OverlaySettings(goal_touchpoints=final_touchpoints(journey_map))
    overlay = compute_overlay(event_log, journey_map, settings)
    reach = stage_reach(overlay.log.events, overlay.journeys, overlay.log.touchpoints, journey_map)
    assert_consistent(overlay, reach)
    expected = outcome_reference(log, GOALS[name], settings.gap)
    assert int((overlay.journeys["outcome"] == "converted").sum()) == sum(o == "converted" for o in expected.values())


def test_completion_dropoff_and_funnel_agree_on_the_sample() -> None:
    root = Path(__file__).resolve().parents[3]
    journey_map = load_template("retail-bopis")
    mapping = mapping_from_json((root / "data/sample/retail_mapping.json").read_text(encoding="utf-8"))
    event_log = ingest(read_events(root / "data/sample/retail_events.csv.gz"), mapping, journey_map, source="r")[0]
    for goals in (final_touchpoints(journey_map), ()):
        overlay = compute_overlay(event_log, journey_map, OverlaySettings(goal_touchpoints=goals))
        reach = stage_reach(overlay.log.events, overlay.journeys, overlay.log.touchpoints, journey_map)
        assert_consistent(overlay, reach)
        # A converted journey holds a goal event; it ends at its first one (gap journeys end at the goal).
        goal_codes = [i for i, label in enumerate(overlay.log.touchpoints) if label in goals]
        goal = overlay.log.events.select(
            pl.col("journey"), (pl.col("converted") | pl.col("touchpoint").is_in(goal_codes)).alias("goal")
        )
        reached = goal.group_by("journey").agg(pl.col("goal").any(), pl.col("goal").last().alias("last"))
        joined = overlay.journeys.join(reached, on="journey")
        assert (joined["goal"] == (joined["outcome"] == "converted")).all()
        assert (joined.filter(pl.col("goal"))["last"]).all()


# --- ongoing ------------------------------------------------------------------------------------


def test_ongoing_is_within_one_gap_of_the_log_end_for_both_kinds_of_journeys() -> None:
    log = LOGS["bpic2012"]
    gap = timedelta(days=10)
    end = rows(log)["_ts"].max()
    for event_log in (case_log("bpic2012"), ingest(raw_of(log), log.mapping(), source=log.file)[0]):
        journeys = compute_overlay(event_log, None, OverlaySettings(gap=gap)).journeys.to_pandas()
        late = journeys["end"] >= end - pd.Timedelta(gap)
        assert (journeys.loc[late, "outcome"] == "ongoing").all()
        assert (journeys.loc[~late, "outcome"] == "abandoned").all()
        assert late.sum() > 0


# --- the mapping ---------------------------------------------------------------------------------


def test_mapping_json_stays_backward_compatible() -> None:
    old = '{"customer_ids": ["id"], "timestamp": "ts", "touchpoint": "ev"}'
    assert mapping_from_json(old).journeys == "gap" and mapping_from_json(old).case is None
    with_case = '{"customer_ids": ["id"], "timestamp": "ts", "touchpoint": "ev", "case": "ticket"}'
    assert mapping_from_json(with_case).journeys == "case"
    chosen = mapping_from_json(mapping_to_json(mapping_from_json(with_case).model_copy(update={"journeys": "gap"})))
    assert (chosen.case, chosen.journeys) == ("ticket", "gap")
    with pytest.raises(UserInputError, match="journeys by case need a case column"):
        mapping_from_json('{"customer_ids": ["id"], "timestamp": "ts", "touchpoint": "ev", "journeys": "case"}')


def test_guess_picks_a_case_column_filled_on_every_row() -> None:
    assert guess_mapping(read_events(REAL / "helpdesk.xes.gz")).case == "case:concept:name"
    raw = pl.DataFrame(
        {"user_id": ["a", "a"], "ts": ["2024-01-01", "2024-01-02"], "event": ["x", "y"], "order_id": ["o1", None]}
    )
    assert guess_mapping(raw).case is None  # an order id on some events only cannot hold every event
    raw = raw.with_columns(pl.Series("ticket_id", ["t1", "t2"]))
    assert (guess_mapping(raw).case, guess_mapping(raw).customer_ids) == ("ticket_id", ["user_id"])


def test_events_without_a_case_are_excluded_only_when_journeys_are_cases() -> None:
    raw = pl.DataFrame(
        {
            "id": ["a", "a", "a", "b"],
            "ts": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"],
            "ev": ["open", "work", "close", "open"],
            "ticket": ["t1", "", "t1", "t2"],
        }
    )
    by_case = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev", case="ticket")
    log, report, _ = ingest(raw, by_case, source="t.csv")
    assert report.excluded == (("empty case identifier", 1, (2,)),)
    assert log.events.select("customer", "case", "seq").rows() == [(0, 0, 1), (0, 0, 3), (1, 1, 4)]
    by_gap = by_case.model_copy(update={"journeys": "gap"})
    log, report, _ = ingest(raw, by_gap, source="t.csv")
    assert report.excluded == ()
    assert log.events["case"].to_list() == [0, None, 0, 1] and not log.case_journeys


def test_interleaved_cases_of_one_customer_are_each_one_journey() -> None:
    """Two tickets of one customer overlap in time: each is one journey, in order of its first event."""
    raw = pl.DataFrame(
        {
            "id": ["a"] * 5,
            "ts": ["2024-01-01", "2024-01-02", "2024-01-20", "2024-01-21", "2024-01-22"],
            "ev": ["open", "open", "close", "work", "close"],
            "ticket": ["t2", "t1", "t2", "t1", "t1"],
        }
    )
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev", case="ticket")
    log, report, _ = ingest(raw, mapping, source="t.csv")
    assert report.out_of_order == 0  # file order inside each case is time order
    overlay = compute_overlay(log, None, OverlaySettings(goal_touchpoints=("close",), gap=timedelta(days=1)))
    assert overlay.journeys.select("customer", "events", "outcome", "last_touchpoint").rows() == [
        (0, 2, "converted", "close"),  # t2: opened first
        (0, 3, "converted", "close"),
    ]
    assert np.array_equal(overlay.log.events["seq"].to_numpy(), [1, 3, 2, 4, 5])


def test_an_older_cache_format_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "old.parquet"
    save_log(case_log("receipt"), path)
    meta = pl.read_parquet_metadata(path)
    info = json.loads(meta["journeymap.event_log"])
    info["version"] = 1
    pl.read_parquet(path).drop("case").write_parquet(path, metadata={"journeymap.event_log": json.dumps(info)})
    assert log_format(path) == 1
    old = load_log(path)
    assert not old.case_journeys  # read as before: journeys cut by the gap


def test_an_event_with_a_case_but_no_customer_id_joins_the_case_customer() -> None:
    """A case links identifiers as a session does: the ticket's first event names no customer, yet belongs to b."""
    raw = pl.DataFrame(
        {
            "id": ["", "b", "a"],
            "ts": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "ev": ["open", "work", "open"],
            "ticket": ["t1", "t1", "t2"],
        }
    )
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev", case="ticket")
    log, report, identity = ingest(raw, mapping, source="t.csv")
    assert report.excluded == ()
    assert identity.customers == 2
    events = log.events.select("seq", pl.col("customer_id").cast(pl.String), "case").rows()
    assert sorted(events) == [(1, "b", 0), (2, "b", 0), (3, "a", 1)]
