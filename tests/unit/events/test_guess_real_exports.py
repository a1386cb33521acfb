"""The column guess on real exports: the vendored logs as they are, and as other systems would name them.

Each vendored log (``tests/data/real``) is guessed as published, then as variants made here from it:

- the case column (the one ``test_real_logs`` maps as the customer) renamed ``ticket_no``, ``claim_ref``,
  ``member_key`` or ``order_number``. A ticket, claim or order names a case, so each is one journey;
  ``member_key`` names a customer, so journeys are that customer's events cut by the gap;
- the time column renamed ``logged``, ``moment`` or ``when_utc`` (no usual time word) and written as ISO 8601
  text, as datetimes, as epoch milliseconds or as ``YYYY-MM-DD HH:MM:SS.fff`` text;
- a row id named like the activity (``activity_id``, one value per row) added right after the activity;
- the team column renamed ``queue_name``, ``handling_unit`` or ``resolver_group``.

The right answer is the hand-written mapping of ``test_real_logs`` under the new names. Then ``journeymap
overlay FILE`` with no mapping must give the same journeys (count, and each journey's events, switches and
handoffs) and the same channel-switch and team-handoff tables as ``--mapping`` with the hand-written one, whose
figures ``test_real_logs`` checks against a pandas reference. Both runs keep every row (``--duplicates keep``,
as that reference does) and take a gap longer than any case, so a journey is a whole case either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from journeymap.cli import main
from journeymap.events.mapping import FieldGuess, RejectedColumn, guess_columns, guess_mapping, mapping_to_json
from journeymap.events.read import read_events, xes_classifiers
from tests.unit.events.test_real_logs import LOGS, REAL, RealLog

FILES = ["helpdesk.xes.gz", "receipt.parquet", "bpic2012.xes.gz", "BPI2016_Complaints.csv"]
REFERENCE = {
    "helpdesk.xes.gz": "helpdesk-workgroup",  # the guess takes the group, not the person (see below)
    "receipt.parquet": "receipt",
    "bpic2012.xes.gz": "bpic2012",
    "BPI2016_Complaints.csv": "complaints",
}
CASES = {"helpdesk.xes.gz": 4_580, "receipt.parquet": 1_434, "bpic2012.xes.gz": 13_087, "BPI2016_Complaints.csv": 226}
"""Distinct values of each log's case column: its journeys when a journey is a whole case."""

_raw: dict[str, pl.DataFrame] = {}


def raw_of(file: str) -> pl.DataFrame:
    if file not in _raw:
        _raw[file] = read_events(REAL / file)
    return _raw[file]


def classifiers_of(file: str) -> list[tuple[str, ...]]:
    return [c.keys for c in xes_classifiers(REAL / file)] if file.endswith(".xes.gz") else []


# --- the logs as published ----------------------------------------------------------------------------------

TRACE = "case:concept:name"
PUBLISHED: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "helpdesk.xes.gz": {
        "customer_ids": (TRACE, "high"),
        "case": (TRACE, "high"),
        "timestamp": ("time:timestamp", "high"),
        "touchpoint": ("concept:name", "high"),
        "channel": (None, None),
        "owner": ("workgroup", "high"),
    },
    "receipt.parquet": {
        "customer_ids": (TRACE, "high"),
        "case": (TRACE, "high"),
        "timestamp": ("time:timestamp", "high"),
        "touchpoint": ("concept:name", "high"),
        "channel": ("case:channel", "high"),
        "owner": ("org:group", "high"),
    },
    "bpic2012.xes.gz": {
        "customer_ids": (TRACE, "high"),
        "case": (TRACE, "high"),
        "timestamp": ("time:timestamp", "high"),
        "touchpoint": ("concept:name", "high"),
        "channel": (None, None),
        "owner": ("org:resource", "medium"),
    },
    "BPI2016_Complaints.csv": {
        "customer_ids": ("CustomerID", "high"),
        "case": (None, None),
        "timestamp": ("ContactDate", "high"),
        "touchpoint": ("ComplaintTopic_EN", "medium"),
        "channel": ("ContactChannelID", "high"),
        "owner": (None, None),
    },
}


@pytest.mark.parametrize("file", FILES)
def test_the_published_logs_are_guessed_with_a_confidence_per_field(file: str) -> None:
    guess = guess_columns(raw_of(file), source=file, classifiers=classifiers_of(file))
    assert {f.field: (f.column, f.confidence) for f in guess.fields if f.field in PUBLISHED[file]} == PUBLISHED[file]
    assert all(f.reason for f in guess.fields)
    mapping = guess.to_mapping()
    assert mapping == guess_mapping(raw_of(file), source=file, classifiers=classifiers_of(file))
    case = PUBLISHED[file]["case"][0]
    assert (mapping.case, mapping.journeys) == (case, "case" if case else "gap")


def test_the_xes_classifier_makes_the_touchpoint_a_template() -> None:
    """BPIC 2012 declares ``concept:name lifecycle:transition``: 24 activities, 36 with their lifecycle step."""
    raw = raw_of("bpic2012.xes.gz")
    assert classifiers_of("bpic2012.xes.gz") == [("concept:name", "lifecycle:transition"), ("org:resource",)]
    guess = guess_columns(raw, source="bpic2012.xes.gz", classifiers=classifiers_of("bpic2012.xes.gz"))
    mapping = guess.to_mapping()
    assert (mapping.touchpoint, mapping.touchpoint_template) == ("concept:name", "{event} · {lifecycle:transition}")
    combined = raw.select(pl.struct("concept:name", "lifecycle:transition").n_unique()).item()
    assert (raw["concept:name"].n_unique(), combined) == (24, 36)
    assert guess.field("touchpoint").reason == (
        "the XES activity name (concept:name), 24 distinct values in 100,000 sampled rows; the XES file's classifier "
        "is concept:name + lifecycle:transition, so a touchpoint is {event} · {lifecycle:transition} "
        "(36 labels instead of 24)"
    )
    # Without the header's declaration, the activity alone.
    assert guess_mapping(raw).touchpoint_template is None
    # A lifecycle with one value (every event 'complete') adds nothing to the label.
    receipt = raw_of("receipt.parquet")
    plain = guess_columns(receipt, classifiers=[("concept:name", "lifecycle:transition")])
    assert plain.to_mapping().touchpoint_template is None
    assert plain.field("touchpoint").reason.endswith(
        "; the XES classifier (concept:name + lifecycle:transition) adds nothing: 'lifecycle:transition' has a "
        "single value"
    )


def test_what_was_left_out_is_said() -> None:
    helpdesk = guess_columns(raw_of("helpdesk.xes.gz"), source="helpdesk.xes.gz")
    assert [r for r in helpdesk.rejected if r.field in ("customer_ids", "owner")] == [
        RejectedColumn(
            "customer_ids", "customer", f"changes within 7 cases of '{TRACE}': a case belongs to one customer"
        ),
        RejectedColumn(
            "owner",
            "responsible_section",
            "the same on every event of a case: describes the case, never hands off",
        ),
        RejectedColumn(
            "owner",
            "org:resource",
            "names a person; 'workgroup' names a group (choose 'org:resource' for handoffs between people)",
        ),
    ]
    complaints = guess_columns(raw_of("BPI2016_Complaints.csv"))
    assert (
        RejectedColumn(
            "customer_ids",
            "ComplaintID",
            "289 distinct values in 289 rows: a row id, not a customer or a case "
            "(a journey's id repeats on its events)",
        )
        in complaints.rejected
    )
    receipt = guess_columns(raw_of("receipt.parquet"))
    assert (
        RejectedColumn(
            "timestamp", "case:deadline", "the same on every event of a case: a case date, not an event time"
        )
        in receipt.rejected
    )


# --- renamed exports --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """New names for a log's case, time and team columns, and how its times are written."""

    case: str
    time: str
    time_as: str
    team: str


VARIANTS = [
    Variant("ticket_no", "logged", "iso", "queue_name"),
    Variant("claim_ref", "moment", "datetime", "handling_unit"),
    Variant("member_key", "when_utc", "epoch-ms", "resolver_group"),
    Variant("order_number", "moment", "text", "queue_name"),
]
ROW_ID = "activity_id"


def _utc(raw: pl.DataFrame, column: str) -> pl.Expr:
    """The log's event time as UTC datetimes (the complaints log writes dates only)."""
    dtype = raw.schema[column]
    if dtype == pl.String:
        return pl.col(column).str.to_datetime("%Y-%m-%d", time_unit="us", time_zone="UTC")
    assert isinstance(dtype, pl.Datetime)
    return pl.col(column) if dtype.time_zone else pl.col(column).dt.replace_time_zone("UTC")


def renamed(name: str, variant: Variant) -> tuple[pl.DataFrame, RealLog]:
    """A log under new column names, with an ``activity_id`` row id; and its hand-written mapping renamed."""
    log = LOGS[name]
    raw = raw_of(log.file)
    times = _utc(raw, log.time)
    written = {
        "iso": times.dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"),
        "datetime": times,
        "epoch-ms": times.dt.epoch("ms"),
        "text": times.dt.to_string("%Y-%m-%d %H:%M:%S%.f"),
    }[variant.time_as]
    frame = raw.with_columns(written.alias(log.time), pl.format("A{}", pl.int_range(pl.len())).alias(ROW_ID))
    order = [c for c in frame.columns if c != ROW_ID]
    order.insert(order.index(log.activity) + 1, ROW_ID)
    names = {log.case: variant.case, log.time: variant.time}
    if log.team:
        names[log.team] = variant.team
    frame = frame.select(order).rename(names)
    team = variant.team if log.team else None
    return frame, RealLog(log.file, variant.case, variant.time, log.activity, log.channel, team)


def expected_mapping(log: RealLog) -> dict[str, Any]:
    case = None if log.case == "member_key" else log.case  # a member is a customer; the others name a case
    return {
        "customer_ids": [log.case],
        "case": case,
        "journeys": "case" if case else "gap",
        "timestamp": log.time,
        "touchpoint": log.activity,
        "touchpoint_template": None,
        "channel": log.channel,
        "owner": log.team,
    }


RENAMED = [pytest.param(name, i, id=f"{name}-{v.case}-{v.time}-{v.time_as}") for name in LOGS for i, v in
           enumerate(VARIANTS)]  # fmt: skip


@pytest.mark.parametrize(("name", "index"), RENAMED)
def test_renamed_exports_are_guessed_by_their_values(name: str, index: int) -> None:
    frame, log = renamed(name, VARIANTS[index])
    guess = guess_columns(frame, source=f"{name}.csv")
    mapping = guess.to_mapping()
    assert {k: getattr(mapping, k) for k in expected_mapping(log)} == expected_mapping(log)
    # The row id named like the activity is refused, and says why.
    rows = min(frame.height, 100_000)
    sampled = " sampled" if frame.height > rows else ""
    assert RejectedColumn(
        "touchpoint", ROW_ID, f"{rows:,} distinct values in {rows:,}{sampled} rows: one value per row, a row id and "
        "not an activity"
    ) in guess.rejected  # fmt: skip
    assert ROW_ID not in mapping.columns()
    # Times are found by their values, never by the name.
    time_guess = guess.field("timestamp")
    assert time_guess.column == log.time
    if VARIANTS[index].time_as == "epoch-ms":
        assert time_guess.reason.startswith("holds whole numbers that read as epoch milliseconds (")
    elif VARIANTS[index].time_as in ("iso", "text"):
        assert time_guess.reason.startswith("reads as dates and times (YYYY-MM-DD")


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (pl.col("t").dt.to_string("%d/%m/%Y %H:%M"), "reads as dates and times (DD/MM/YYYY HH:MM, 500 of 500 sampled "
                                                     "values; {sampled})"),
        (pl.col("t").dt.epoch("s").cast(pl.String), "holds whole numbers that read as epoch seconds ({sampled})"),
        (pl.col("t").dt.date(), "holds dates ({all})"),
        (pl.col("t").dt.strftime("%Y-%m-%d"), "reads as dates (YYYY-MM-DD, 500 of 500 sampled values; {sampled})"),
    ],
    ids=["day-first", "epoch-seconds-text", "date", "date-text"],
)  # fmt: skip
def test_times_in_other_shapes_are_found(written: pl.Expr, reason: str) -> None:
    """The helpdesk times written four more ways under a name with no time word; text is probed on 500 values."""
    raw = raw_of("helpdesk.xes.gz").rename({"time:timestamp": "t"})
    times = raw.get_column("t")

    def span(values: pl.Series) -> str:
        return f"{values.min():%Y-%m-%d} to {values.max():%Y-%m-%d}"

    expected = reason.format(sampled=span(times.head(500)), all=span(times))
    guess = guess_columns(raw.with_columns(written.alias("registered")).drop("t"))
    assert guess.field("timestamp") == FieldGuess("timestamp", "registered", "high", expected)


# --- the overlay without a mapping equals the overlay with the hand-written one ------------------------------


def _overlay(tmp: Path, path: Path, mapping: RealLog | None, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = ["overlay", str(path), "--gap", "36500d", "--duplicates", "keep", "--out", str(tmp), "--format", "parquet"]
    if mapping is not None:
        mapping_path = tmp.parent / f"{tmp.name}.json"
        mapping_path.write_text(mapping_to_json(mapping.mapping()), encoding="utf-8")
        args += ["--mapping", str(mapping_path)]
    assert main(args) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out.splitlines()
    journeys = pl.read_parquet(tmp / "journeys.parquet")
    per_journey = ["start", "end", "events", "switches", "team_handoffs", "channel_ping_pong", "team_ping_pong"]
    pairs = ["count", "journeys", "ping_pong"]
    return {
        "journeys": journeys.height,
        "per journey": sorted(journeys.select(per_journey).rows()),
        "channel switches": sorted(
            pl.read_parquet(tmp / "channel_switch_matrix.parquet").select("from_channel", "to_channel", *pairs).rows()
        ),
        "team handoffs": sorted(
            pl.read_parquet(tmp / "team_switch_matrix.parquet").select("from_team", "to_team", *pairs).rows()
        ),
        "printed": [line for line in printed if line.startswith(("channel switches:", "team handoffs:"))],
    }


OVERLAID = [pytest.param(file, None, id=file) for file in FILES] + [
    pytest.param("helpdesk.xes.gz", 0, id="helpdesk-renamed-csv"),
    pytest.param("receipt.parquet", 3, id="receipt-renamed-csv"),
    pytest.param("BPI2016_Complaints.csv", 2, id="complaints-renamed-parquet"),
    pytest.param("bpic2012.xes.gz", 1, id="bpic2012-renamed-parquet"),
]


@pytest.mark.parametrize(("file", "index"), OVERLAID)
def test_overlay_without_a_mapping_equals_the_hand_written_mapping(
    file: str, index: int | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = REFERENCE[file]
    if index is None:
        path, log = REAL / file, LOGS[name]
    else:
        frame, log = renamed(name, VARIANTS[index])
        if frame.schema[log.time] == pl.String or VARIANTS[index].time_as == "epoch-ms":
            path = tmp_path / f"{name}.csv"
            frame.write_csv(path)
        else:
            path = tmp_path / f"{name}.parquet"
            frame.write_parquet(path)
    guessed = _overlay(tmp_path / "guessed", path, None, capsys)
    by_hand = _overlay(tmp_path / "by_hand", path, log, capsys)
    assert guessed == by_hand
    assert guessed["journeys"] == CASES[file]
    assert len(guessed["printed"]) == (2 if log.team else 1)
