"""Coarse times: a column of dates only (or of minutes only) is detected, reported and kept in the log.

Events of one customer on one day keep file order, but that order was decided by the export,
not by the customer: no sign of lost context is counted on a move between two events of the same
day, and the events after a switch count only when they are later than its target.

The hand-made log below, a coupon redeemed "on 2017-01-07", in file order::

    row 1  c1  2017-01-07  store  redeem-coupon
    row 2  c1  2017-01-06  web    view-offer
    row 3  c1  2017-01-07  web    view-offer
    row 4  c1  2017-01-09  email  newsletter

sorts to rows 2, 1, 3, 4 (the two events of the 7th in file order). With real times in that
order, the switch web → store would be followed by a bounce back to the web and a repeated
"view-offer", and store → web would repeat "view-offer": three signs. With dates only, store →
web is a move between events of one day (no sign), and the "view-offer" after web → store is of
the switch's own day (no sign): none.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from journeymap.analysis.silo import transition_instances
from journeymap.events.ingest import LOG_FORMAT, ingest, load_log, log_format, save_log, time_resolution
from journeymap.events.journeys import cut_journeys
from journeymap.events.mapping import ColumnMapping, guess_mapping
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings

REAL = Path(__file__).resolve().parents[2] / "data" / "real"
SIGNS = ["repeat_step", "reidentify", "bounce_back", "repeat_contact"]
ROWS = [  # customer, day, fine time (same order as the days), channel, event
    ("c1", "2017-01-07", "2017-01-07 09:00:05", "store", "redeem-coupon"),
    ("c1", "2017-01-06", "2017-01-06 10:00:05", "web", "view-offer"),
    ("c1", "2017-01-07", "2017-01-07 09:30:05", "web", "view-offer"),
    ("c1", "2017-01-09", "2017-01-09 10:00:05", "email", "newsletter"),
]
MAPPING = ColumnMapping(customer_ids=["customer"], timestamp="day", channel="channel", touchpoint="event")


def coupon_log(column: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer": [r[0] for r in ROWS],
            "day": [r[1] for r in ROWS],
            "time": [r[2] for r in ROWS],
            "channel": [r[3] for r in ROWS],
            "event": [r[4] for r in ROWS],
        }
    ).select("customer", pl.col(column).alias("day"), "channel", "event")


def signs_of(raw: pl.DataFrame) -> list[tuple[str, str, bool, bool, bool]]:
    log, _, _ = ingest(raw, MAPPING, source="coupons.csv")
    settings = OverlaySettings()
    cut, journeys = cut_journeys(log, settings)
    moves = transition_instances(cut, journeys, None, settings)
    return [
        (log.touchpoints[s], log.touchpoints[t], rs, bb, same)
        for s, t, rs, bb, same in moves.select("source", "target", "repeat_step", "bounce_back", "same_time").rows()
    ]


def test_a_date_only_column_is_detected_and_reported() -> None:
    log, report, _ = ingest(coupon_log("day"), MAPPING, source="coupons.csv")
    assert (log.time_resolution, report.time_resolution) == ("day", "day")
    assert (
        "day holds dates only: events of one day keep file order; signs of lost context are not counted on moves "
        "between events of the same day"
    ) in report.notes
    # Ties keep file order: row 1 (the coupon) before row 3 on the 7th.
    assert log.events["seq"].to_list() == [2, 1, 3, 4]
    assert report.out_of_order == 1  # row 2 is earlier than row 1


def test_signs_are_not_counted_on_moves_ordered_by_the_file() -> None:
    assert signs_of(coupon_log("time")) == [  # source, target, repeat step, bounce back, same time
        ("view-offer", "redeem-coupon", True, True, False),
        ("redeem-coupon", "view-offer", True, False, False),
        ("view-offer", "newsletter", False, False, False),
    ]
    assert signs_of(coupon_log("day")) == [
        ("view-offer", "redeem-coupon", False, False, False),
        ("redeem-coupon", "view-offer", False, False, True),
        ("view-offer", "newsletter", False, False, False),
    ]


def test_a_fine_log_with_equal_times_still_counts_its_signs() -> None:
    same_second = coupon_log("time").with_columns(
        pl.Series("day", ["2017-01-07 09:00:05", "2017-01-06 10:00:05", "2017-01-07 09:00:05", "2017-01-09 10:00:05"])
    )
    log, _, _ = ingest(same_second, MAPPING, source="coupons.csv")
    assert log.time_resolution is None
    assert [move[2:] for move in signs_of(same_second)][1] == (True, False, False)


@pytest.mark.parametrize(
    ("times", "timezone", "expected"),
    [
        (["2024-01-01 10:00", "2024-01-01 10:07"], "UTC", "minute"),
        (["2024-01-01 10:00:00", "2024-01-01 11:00:00"], "UTC", "minute"),  # whole hours are whole minutes
        (["2024-01-01 10:00:01", "2024-01-01 10:07:00"], "UTC", None),
        (["2024-01-01", "2024-03-31"], "Europe/Amsterdam", "day"),  # local midnights, across a clock change
        (["2024-01-01 00:00", "2024-01-02 00:00"], "UTC", "day"),
    ],
)
def test_the_resolution_is_the_coarsest_that_holds_every_time(
    times: list[str], timezone: str, expected: str | None
) -> None:
    raw = pl.DataFrame({"id": ["a", "a"], "ts": times, "ev": ["x", "y"]})
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev", timezone=timezone)
    log, report, _ = ingest(raw, mapping, source="e.csv")
    assert log.time_resolution == report.time_resolution == expected
    notes = [note for note in report.notes if note.startswith("ts holds")]
    if expected == "minute":
        assert notes == [
            "ts holds times to the minute only: events of one minute keep file order; signs of lost context are "
            "not counted on moves between events of the same minute"
        ]
    assert bool(notes) == (expected is not None)


def test_time_resolution_ignores_rows_left_out() -> None:
    ts = pl.Series(["2024-01-05 00:00:00", None]).str.to_datetime(time_zone="UTC")
    assert time_resolution(ts) == "day"
    assert time_resolution(ts.head(0)) is None


def test_the_cached_log_keeps_the_resolution(tmp_path: Path) -> None:
    log, _, _ = ingest(coupon_log("day"), MAPPING, source="coupons.csv")
    save_log(log, tmp_path / "log.parquet")
    assert LOG_FORMAT == 3 and log_format(tmp_path / "log.parquet") == 3
    assert load_log(tmp_path / "log.parquet").time_resolution == "day"
    fine, _, _ = ingest(coupon_log("time"), MAPPING, source="coupons.csv")
    save_log(fine, tmp_path / "fine.parquet")
    assert load_log(tmp_path / "fine.parquet").time_resolution is None


def test_complaints_of_one_day_carry_no_sign_of_lost_context() -> None:
    """BPI 2016 complaints: ContactDate is a date. A pandas reference counts the moves (consecutive complaints
    of one customer, cut by the 3-day gap) and those between two complaints of one day, and, of the latter,
    those whose topic the journey already had: the repeated steps that file order alone would make."""
    frame = pd.read_csv(REAL / "BPI2016_Complaints.csv", sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    frame["row"] = range(len(frame))
    frame["day"] = pd.to_datetime(frame["ContactDate"])
    frame = frame.sort_values(["CustomerID", "day", "row"], kind="mergesort").reset_index(drop=True)
    new = (frame["CustomerID"] != frame["CustomerID"].shift()) | (frame["day"].diff() > pd.Timedelta(days=3))
    same_day = ~new & (frame["day"] == frame["day"].shift())
    seen = pd.Series(new.cumsum()).to_frame("j").assign(t=frame["ComplaintTopic_EN"]).duplicated()
    moves, ties, file_made_repeats = int((~new).sum()), int(same_day.sum()), int((same_day & seen).sum())
    assert (moves, ties, file_made_repeats) == (36, 34, 2)

    raw = read_events(REAL / "BPI2016_Complaints.csv")
    log, report, _ = ingest(raw, guess_mapping(raw), source="BPI2016_Complaints.csv")
    assert log.time_resolution == "day"
    assert any(
        note.startswith("ContactDate holds dates only: events of one day keep file order") for note in report.notes
    )
    settings = OverlaySettings()
    cut, journeys = cut_journeys(log, settings)
    instances = transition_instances(cut, journeys, None, settings)
    assert (instances.height, int(instances["same_time"].sum())) == (moves, ties)
    assert instances.filter("same_time").select(pl.any_horizontal(SIGNS).any()).item() is False
    # Were the dates times, file order would have made repeated steps of them.
    as_if_fine = transition_instances(replace(cut, time_resolution=None), journeys, None, settings)
    assert int(as_if_fine.filter(instances["same_time"])["repeat_step"].sum()) == file_made_repeats
