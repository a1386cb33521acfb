"""Channel switches and team handoffs on the vendored real logs, against a plain pandas reference.

Each log is overlaid as a user would (ingest with a column mapping, then :func:`compute_overlay`),
with journeys equal to the cases (a gap longer than any case, no goal). The reference below is
written independently of the engine: it sorts the raw rows with pandas, takes each row's
predecessor in the same case and compares the two rows' own channel and team. A move is a
channel switch when the two channels differ, a team handoff when both rows name a team and the
teams differ, and a ping-pong return when the new channel (team) was already on an earlier row
of the same case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from journeymap.cli import main
from journeymap.events.ingest import ingest
from journeymap.events.mapping import ColumnMapping, mapping_to_json
from journeymap.events.metrics import team_move_counts
from journeymap.events.overlay import Overlay, compute_overlay
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from tests.fixtures import PM4PY_MISSING

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
WHOLE_CASES = OverlaySettings(gap=timedelta(days=365 * 100))
NO_TEAM = "<no team>"


@dataclass(frozen=True)
class RealLog:
    """One vendored log with the columns a user maps: case, time, activity, and a channel and/or a team."""

    file: str
    case: str
    time: str
    activity: str
    channel: str | None = None
    team: str | None = None

    def mapping(self) -> ColumnMapping:
        return ColumnMapping(
            customer_ids=[self.case],
            timestamp=self.time,
            touchpoint=self.activity,
            channel=self.channel,
            owner=self.team,
            keep_duplicates=True,
        )


LOGS = {
    "helpdesk-resource": RealLog("helpdesk.xes.gz", "case:concept:name", "time:timestamp", "concept:name", None,
                                 "org:resource"),
    "helpdesk-workgroup": RealLog("helpdesk.xes.gz", "case:concept:name", "time:timestamp", "concept:name", None,
                                  "workgroup"),
    "receipt": RealLog("receipt.parquet", "case:concept:name", "time:timestamp", "concept:name", "case:channel",
                       "org:group"),
    "complaints": RealLog("BPI2016_Complaints.csv", "CustomerID", "ContactDate", "ComplaintTopic_EN",
                          "ContactChannelID"),
    "bpic2012": RealLog("bpic2012.xes.gz", "case:concept:name", "time:timestamp", "concept:name", None,
                        "org:resource"),
}  # fmt: skip


@dataclass(frozen=True)
class Reference:
    """What the pandas reference counts for one dimension (channel or team)."""

    per_case: dict[str, tuple[int, int]]
    """Case → (switches or handoffs, ping-pong returns)."""
    pairs: dict[tuple[str, str], tuple[int, int, int]]
    """(from, to) → (moves, distinct cases, ping-pong returns)."""
    waits: dict[tuple[str, str], float]
    """(from, to) → median seconds between the two rows."""


_raw_cache: dict[str, pd.DataFrame] = {}


def _rows(log: RealLog) -> pd.DataFrame:
    """The raw rows in case and time order, file order within ties, with the time parsed."""
    if log.file not in _raw_cache:
        frame = read_events(REAL / log.file).to_pandas()
        frame["_row"] = range(len(frame))
        frame["_ts"] = pd.to_datetime(frame[log.time], utc=True)
        _raw_cache[log.file] = frame.sort_values([log.case, "_ts", "_row"], kind="mergesort").reset_index(drop=True)
    return _raw_cache[log.file]


def _reference(log: RealLog, column: str | None) -> Reference:
    frame = _rows(log)
    cases = frame[log.case].astype(str)
    if column is None:  # no channel column: every event is in the one default channel
        return Reference(dict.fromkeys(cases.unique(), (0, 0)), {}, {})
    values = frame[column].astype("string").str.strip()
    values = values.mask(values == "")
    previous = values.groupby(cases, sort=False).shift(1)
    first_of_case = cases != cases.shift(1)
    moved = ~first_of_case & values.notna() & previous.notna() & (values != previous)
    moved = moved.fillna(False).astype(bool)
    seen_before = pd.DataFrame({"case": cases, "value": values}).duplicated(keep="first")
    back = moved & seen_before
    per_case_counts = pd.DataFrame({"case": cases, "moved": moved, "back": back}).groupby("case", sort=False).sum()
    per_case = {str(c): (int(r.moved), int(r.back)) for c, r in per_case_counts.iterrows()}
    gap = frame["_ts"].diff().dt.total_seconds()
    moves = pd.DataFrame(
        {"from": previous[moved], "to": values[moved], "case": cases[moved], "back": back[moved], "wait": gap[moved]}
    )
    grouped = moves.groupby(["from", "to"])
    pairs = {(str(a), str(b)): (int(len(g)), int(g["case"].nunique()), int(g["back"].sum())) for (a, b), g in grouped}
    waits = {(str(a), str(b)): float(g["wait"].median()) for (a, b), g in grouped}
    return Reference(per_case, pairs, waits)


_overlays: dict[str, Overlay] = {}


def _overlay(name: str) -> Overlay:
    if name not in _overlays:
        log = LOGS[name]
        event_log, _, _ = ingest(read_events(REAL / log.file), log.mapping(), source=log.file)
        _overlays[name] = compute_overlay(event_log, None, WHOLE_CASES)
    return _overlays[name]


def _per_case(overlay: Overlay, count: str, ping_pong: str) -> dict[str, tuple[int, int]]:
    """Journey figures by the case's own identifier (journeys are cases here)."""
    events = overlay.log.events
    case_of = events.group_by("journey").agg(pl.col("customer_id").first().cast(pl.String))
    joined = overlay.journeys.join(case_of, on="journey")
    return {str(c): (int(n), int(p)) for c, n, p in joined.select("customer_id", count, ping_pong).iter_rows()}


def _pairs(matrix: pl.DataFrame, names: tuple[str, str]) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {
        (str(a), str(b)): (int(n), int(c), int(p))
        for a, b, n, c, p in matrix.select(*names, "count", "journeys", "ping_pong").iter_rows()
    }


DIMENSIONS = [pytest.param(name, "channel", id=f"{name}-channel") for name in LOGS if name != "helpdesk-workgroup"] + [
    pytest.param(name, "team", id=f"{name}-team") for name, log in LOGS.items() if log.team
]


@pytest.mark.parametrize(("name", "dimension"), DIMENSIONS)
def test_switches_and_handoffs_equal_the_pandas_reference(name: str, dimension: str) -> None:
    log = LOGS[name]
    overlay = _overlay(name)
    column = log.channel if dimension == "channel" else log.team
    reference = _reference(log, column)
    if dimension == "channel":
        count, ping_pong, matrix, names = (
            "switches",
            "channel_ping_pong",
            overlay.switch_matrix,
            ("from_channel", "to_channel"),
        )
        per_journey, share, back_share = (
            overlay.kpis.switches_per_journey,
            overlay.kpis.switch_journey_share,
            overlay.kpis.switch_ping_pong_share,
        )
    else:
        count, ping_pong, matrix, names = (
            "team_handoffs",
            "team_ping_pong",
            overlay.team_switch_matrix,
            ("from_team", "to_team"),
        )
        per_journey, share, back_share = (
            overlay.kpis.handoffs_per_journey,
            overlay.kpis.handoff_journey_share,
            overlay.kpis.handoff_ping_pong_share,
        )  # fmt: skip
    # Journeys are the cases, each with its own counts.
    assert _per_case(overlay, count, ping_pong) == reference.per_case
    # Every pair that occurs, with its moves, distinct cases and returns; nothing left out.
    assert _pairs(matrix, names) == reference.pairs
    waits = dict(zip(zip(matrix[names[0]], matrix[names[1]], strict=True), matrix["median_wait_s"], strict=True))
    assert waits == pytest.approx(reference.waits, abs=1e-6)
    # The top 10 in the same order (most moves first, then by name).
    top = sorted(reference.pairs.items(), key=lambda item: (-item[1][0], item[0]))[:10]
    assert [pair for pair, _ in top] == list(zip(matrix[names[0]], matrix[names[1]], strict=True))[:10]
    # KPIs: per journey, share of journeys with at least one, ping-pong share.
    totals = [n for n, _ in reference.per_case.values()]
    returns = sum(p for _, p in reference.per_case.values())
    assert per_journey == sum(totals) / len(totals)
    assert share == sum(n > 0 for n in totals) / len(totals)
    assert back_share == (returns / sum(totals) if sum(totals) else None)


def test_the_logs_hold_what_the_reference_claims() -> None:
    """The counts the parametrized test checks are not trivially empty where the data has switches."""
    helpdesk = _reference(LOGS["helpdesk-resource"], "org:resource")
    assert sum(n for n, _ in helpdesk.per_case.values()) == 8_648
    complaints = _reference(LOGS["complaints"], "ContactChannelID")
    assert (sum(n for n, _ in complaints.per_case.values()), len(complaints.pairs)) == (10, 7)
    bpic = _reference(LOGS["bpic2012"], "org:resource")
    assert (sum(n for n, _ in bpic.per_case.values()), sum(p for _, p in bpic.per_case.values())) == (45_105, 7_683)
    assert len(bpic.pairs) == 2_111
    receipt = _reference(LOGS["receipt"], "case:channel")  # the intake channel is a case attribute
    assert receipt.pairs == {}


def test_one_activity_done_by_many_teams_counts_only_real_changes() -> None:
    """In BPIC 2012 most activities are done by dozens of employees; a handoff is only a change inside a case."""
    rows = _rows(LOGS["bpic2012"])
    teams_per_activity = rows.groupby("concept:name")["org:resource"].nunique()
    assert int((teams_per_activity >= 20).sum()) >= 10
    overlay = _overlay("bpic2012")
    transitions = overlay.transitions
    # A self-loop done twice by the same employee is no handoff, whoever usually does the activity.
    assert int(transitions["team_handoffs"].sum()) == int(overlay.journeys["team_handoffs"].sum())
    assert (transitions["team_handoffs"] <= transitions["count"]).all()
    assert int(overlay.journeys["team_handoffs"].sum()) == sum(n for n, _ in _reference(
        LOGS["bpic2012"], "org:resource").per_case.values())  # fmt: skip


@pytest.mark.parametrize("name", ["helpdesk-resource", "receipt", "complaints", "bpic2012"])
def test_cli_summary_prints_the_reference_figures(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = LOGS[name]
    mapping = tmp_path / "mapping.json"
    mapping.write_text(mapping_to_json(log.mapping()), encoding="utf-8")
    code = main(["overlay", str(REAL / log.file), "--mapping", str(mapping), "--gap", "36500d",
                 "--out", str(tmp_path / "out"), "--format", "csv"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    expected = []
    for column, label in ((log.channel, "channel switches"), (log.team, "team handoffs")):
        if label == "team handoffs" and column is None:
            continue
        per_case = _reference(log, column).per_case
        total, n = sum(m for m, _ in per_case.values()), len(per_case)
        parts = [
            f"{total / n:.2f} per journey",
            f"{sum(m > 0 for m, _ in per_case.values()) / n:.1%} of journeys with at least one",
        ]  # noqa: E501
        if label == "team handoffs":
            parts.append(f"{sum(p for _, p in per_case.values()) / total if total else 0:.1%} ping-pong")
        expected.append(f"{label}: {total:,} ({'; '.join(parts)})")
    assert [line for line in printed if line.startswith(("channel switches:", "team handoffs:"))] == expected
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"channel_switch_matrix.csv", "team_switch_matrix.csv", "teams.csv"} <= written
    team_matrix = pl.read_csv(tmp_path / "out" / "team_switch_matrix.csv", infer_schema_length=0)
    if log.team:
        assert team_matrix.height == len(_reference(log, log.team).pairs)


def test_a_journey_filter_counts_the_kept_cases_only() -> None:
    """Cases that started in the first half of the helpdesk log: the reference over just those cases."""
    log = LOGS["helpdesk-resource"]
    rows = _rows(log)
    first = rows.groupby("case:concept:name")["_ts"].min()
    middle = first.sort_values().iloc[len(first) // 2]
    kept = set(first[first < middle].index.astype(str))
    event_log, _, _ = ingest(read_events(REAL / log.file), log.mapping(), source=log.file)
    base = _overlay("helpdesk-resource")
    filtered = compute_overlay(
        event_log, None, OverlaySettings(gap=WHOLE_CASES.gap, end=middle.to_pydatetime()), prepared=base.prepared
    )
    reference = _reference(log, log.team)
    expected_cases = {c: v for c, v in reference.per_case.items() if c in kept}
    assert _per_case(filtered, "team_handoffs", "team_ping_pong") == expected_cases
    _raw_cache["helpdesk-kept"] = rows[rows["case:concept:name"].astype(str).isin(kept)].reset_index(drop=True)
    kept_log = RealLog("helpdesk-kept", log.case, log.time, log.activity, None, log.team)
    assert _pairs(filtered.team_switch_matrix, ("from_team", "to_team")) == _reference(kept_log, log.team).pairs


@pytest.mark.parametrize("name", ["helpdesk-resource", "receipt", "bpic2012"])
def test_team_moves_equal_pm4py_handover_of_work(name: str) -> None:
    """With the team as resource, all moves between two known teams (same team included), normalised by their
    total, are pm4py's handover-of-work network with beta 0, restricted to the same known pairs."""
    pm4py = pytest.importorskip("pm4py", reason=PM4PY_MISSING)
    log = LOGS[name]
    ours = team_move_counts(_overlay(name).prepared.metrics)
    total = int(ours["count"].sum())
    mine = {(a, b): n / total for a, b, n in ours.iter_rows()}
    frame = _rows(log)[[log.case, log.activity, "_ts", log.team]].copy()
    frame[log.case] = frame[log.case].astype(str)
    frame[log.team] = frame[log.team].fillna(NO_TEAM)  # pm4py cannot sort missing resources
    df = pm4py.format_dataframe(frame, case_id=log.case, activity_key=log.activity, timestamp_key="_ts")
    network = pm4py.discover_handover_of_work_network(df, beta=0, resource_key=log.team)
    known = {(str(a), str(b)): float(v) for (a, b), v in network.connections.items() if NO_TEAM not in (a, b)}
    norm = sum(known.values())
    theirs = {pair: v / norm for pair, v in known.items()}
    assert mine.keys() == theirs.keys()
    assert mine == pytest.approx(theirs, rel=1e-9)


def test_touchpoints_created_from_the_data_keep_every_channel_switch() -> None:
    """ "Create touchpoints from data" gives each new touchpoint the channel most of its events are in; the
    overlay on that map still counts the switches the events record (a topic is raised through several channels)."""
    from journeymap.model import Channel, JourneyMap, Stage
    from journeymap.ui.overlay_state import touchpoints_from_labels

    log = LOGS["complaints"]
    rows = _rows(log)
    channels = sorted(rows[log.channel].astype(str).unique())
    dominant = (
        rows.groupby(log.activity)[log.channel].agg(lambda values: values.astype(str).value_counts().index[0]).to_dict()
    )
    empty = JourneyMap(
        name="Complaints",
        stages=(Stage(id="service", name="Service"),),
        channels=tuple(Channel(id=c, name=f"Contact channel {c}") for c in channels),
    )
    labels = sorted(rows[log.activity].astype(str).unique())
    journey_map, added = touchpoints_from_labels(
        empty, labels, stage="service", channels=dominant, fallback_channel=channels[0]
    )
    assert len(journey_map.touchpoints) == len(labels)
    # Several topics are raised through more than one channel: their designed channel is only the most common one.
    assert int((rows.groupby(log.activity)[log.channel].nunique() > 1).sum()) > 0
    mapping = log.mapping().model_copy(update={"value_map": added})
    event_log, _, _ = ingest(read_events(REAL / log.file), mapping, journey_map, source=log.file)
    overlay = compute_overlay(event_log, journey_map, WHOLE_CASES)
    reference = _reference(log, log.channel)
    assert _pairs(overlay.switch_matrix, ("from_channel", "to_channel")) == reference.pairs
    assert int(overlay.journeys["switches"].sum()) == 10
    mixed = overlay.touchpoints.filter(pl.col("channel_mix").str.contains(" · "))
    assert mixed.height == int((rows.groupby(log.activity)[log.channel].nunique() > 1).sum())
