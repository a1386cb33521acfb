"""Column mapping, validation, ingest and the cached log form, on tiny files and the real logs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from journeymap.errors import UserInputError
from journeymap.events.ingest import ingest, load_log, save_log
from journeymap.events.journeys import cut_journeys
from journeymap.events.mapping import (
    ColumnMapping,
    TouchpointRule,
    guess_mapping,
    mapping_from_json,
    mapping_to_json,
)
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from tests.unit.events.events_fixtures import shop_map, three_customers_csv

REAL = Path(__file__).resolve().parents[2] / "data" / "real"


@pytest.fixture(scope="module")
def real_raw() -> dict[str, pl.DataFrame]:
    names = ["bpic2012.xes.gz", "helpdesk.xes.gz", "receipt.parquet", "BPI2016_Complaints.csv"]
    return {name: read_events(REAL / name) for name in names}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bpic2012.xes.gz",
            {
                "customer_ids": ["case:concept:name"],
                "timestamp": "time:timestamp",
                "case": "case:concept:name",  # the trace id is the case: journeys are the cases
                "journeys": "case",
                "channel_constant": "default",
                "touchpoint": "concept:name",
                "owner": "org:resource",
                "attributes": ["lifecycle:transition"],
            },
        ),
        (
            "receipt.parquet",
            {
                "customer_ids": ["case:concept:name"],
                "timestamp": "time:timestamp",
                "case": "case:concept:name",
                "journeys": "case",
                "channel": "case:channel",
                "touchpoint": "concept:name",
                "owner": "org:group",
                "attributes": ["case:department", "case:group"],
            },
        ),
        (
            "BPI2016_Complaints.csv",
            {
                "customer_ids": ["CustomerID"],
                "timestamp": "ContactDate",
                "channel": "ContactChannelID",
                "touchpoint": "ComplaintTopic_EN",
                "identify_values": ["disruption: Login digid"],
                "attributes": ["AgeCategory", "Gender", "Office_U", "ComplaintThemeID", "ComplaintSubthemeID"],
            },
        ),
    ],
)
def test_guess_mapping_on_real_logs(real_raw: dict[str, pl.DataFrame], name: str, expected: dict[str, object]) -> None:
    assert guess_mapping(real_raw[name]).model_dump(exclude_defaults=True) == expected


@pytest.mark.parametrize(
    ("name", "rows_read", "rows_kept", "customers", "touchpoints", "channels"),
    [
        ("bpic2012.xes.gz", 262_200, 262_200, 13_087, 24, 1),
        ("helpdesk.xes.gz", 21_348, 21_221, 4_580, 14, 1),
        ("receipt.parquet", 8_577, 8_577, 1_434, 27, 5),
        # Two pairs of complaints share every mapped column but not their ComplaintID: all kept.
        ("BPI2016_Complaints.csv", 289, 289, 226, 70, 8),
    ],
)
def test_real_logs_ingest_without_code_changes(
    real_raw: dict[str, pl.DataFrame],
    name: str,
    rows_read: int,
    rows_kept: int,
    customers: int,
    touchpoints: int,
    channels: int,
) -> None:
    log, report, identity = ingest(real_raw[name], guess_mapping(real_raw[name]), source=name)
    assert (report.rows_read, report.rows_kept) == (rows_read, rows_kept)
    assert identity.customers == customers == log.events["customer"].n_unique()
    assert (len(log.touchpoints), len(log.channels)) == (touchpoints, channels)
    assert log.events.height == rows_kept
    # Sorted by customer, ts, seq.
    assert log.events.select(pl.struct("customer", "ts", "seq").is_sorted()).item() is None or log.events.equals(
        log.events.sort("customer", "ts", "seq")
    )


def test_helpdesk_duplicates_are_reported_and_can_be_kept(real_raw: dict[str, pl.DataFrame]) -> None:
    raw = real_raw["helpdesk.xes.gz"]
    _, report, _ = ingest(raw, guess_mapping(raw), source="helpdesk.xes.gz")
    assert report.duplicates == 127
    assert report.excluded == (("exact duplicate event", 127, (128, 270, 425, 478, 495)),)
    keep = guess_mapping(raw).model_copy(update={"duplicates": "keep"})
    log, report, _ = ingest(raw, keep, source="helpdesk.xes.gz")
    assert (log.events.height, report.duplicates, report.excluded) == (21_348, 127, ())


def test_complaints_report_text(real_raw: dict[str, pl.DataFrame]) -> None:
    raw = real_raw["BPI2016_Complaints.csv"]
    _, report, _ = ingest(raw, guess_mapping(raw), source="BPI2016_Complaints.csv")
    assert report.out_of_order == 13
    assert report.summary().splitlines()[:5] == [
        "BPI2016_Complaints.csv: 289 rows read, 289 kept.",
        "- 13 event(s) were out of time order in the file (sorted by time)",
        "- 2 rows repeat another row in every mapped column but differ in others: kept (rows 81, 148)",
        "- ContactDate holds dates only: events of one day keep file order; signs of lost context are not counted "
        "on moves between events of the same day",
        "- 226 customers from 226 identifier values (CustomerID); 0 customers stitched from several identifiers, "
        "covering 0.0% of events.",
    ]


def _three(tmp_path: Path) -> pl.DataFrame:
    path = tmp_path / "three.csv"
    path.write_text(three_customers_csv())
    return read_events(path)


def test_guessed_mapping_with_a_map_maps_labels(tmp_path: Path) -> None:
    raw = _three(tmp_path)
    mapping = guess_mapping(raw, shop_map())
    assert (mapping.customer_ids, mapping.timestamp, mapping.channel, mapping.touchpoint) == (
        ["customer"],
        "time",
        "channel",
        "event",
    )
    assert (mapping.outcome, mapping.conversion_values, mapping.sentiment) == ("outcome", ["order"], "csat")
    assert mapping.value_map == {}  # labels already equal the map's ids


def test_ingest_three_customers_matches_the_hand_made_log(tmp_path: Path) -> None:
    raw = _three(tmp_path)
    mapping = guess_mapping(raw, shop_map())
    log, report, identity = ingest(raw, mapping, shop_map(), source="three.csv")
    assert (report.rows_read, report.rows_kept, report.excluded) == (12, 12, ())
    assert (report.unmapped_touchpoints, report.unknown_channels) == ((), ())
    # The export has no team column: the map's owners (care for the phone, ecom for the web) never stand in.
    assert (log.touchpoints, log.channels, log.owners) == (("buy", "call", "cart", "home"), ("phone", "web"), ())
    assert log.events["owner"].null_count() == 12
    assert log.events["converted"].to_list() == [False, False, False, False, True] + [False] * 7
    assert log.events["sentiment"].drop_nulls().to_list() == [2.0, 4.0]
    _, journeys = cut_journeys(log, OverlaySettings())
    assert journeys["events"].to_list() == [5, 1, 2, 1, 3]
    assert journeys["team_handoffs"].to_list() == [0, 0, 0, 0, 0]
    assert identity.customers == 3


def test_teams_come_only_from_the_owner_column(tmp_path: Path) -> None:
    """The same export with a ``team`` column: care on the phone, ecom on the web, except C's second cart (care).

    Journey 0 (A): cart → call hands off ecom → care, call → cart back to ecom (a return); journey 2 (B):
    home → call, ecom → care; journey 4 (C): cart → cart hands off ecom → care inside the web.
    """
    lines = three_customers_csv().splitlines()
    teams = ["team"] + ["care" if ";phone;" in line else "ecom" for line in lines[1:]]
    teams[12] = "care"  # C's cart at 103 h, the last row
    path = tmp_path / "teams.csv"
    path.write_text("\n".join(f"{line};{team}" for line, team in zip(lines, teams, strict=True)) + "\n")
    raw = read_events(path)
    mapping = guess_mapping(raw, shop_map())
    assert mapping.owner == "team"
    log, _, _ = ingest(raw, mapping, shop_map(), source="teams.csv")
    assert log.owners == ("care", "ecom")
    _, journeys = cut_journeys(log, OverlaySettings())
    assert journeys["switches"].to_list() == [2, 0, 1, 0, 0]
    assert journeys["team_handoffs"].to_list() == [2, 0, 1, 0, 1]
    assert journeys["team_ping_pong"].to_list() == [1, 0, 0, 0, 0]


def test_value_map_rules_templates_and_unmapped_labels() -> None:
    raw = pl.DataFrame(
        {
            "email": ["a@x", "a@x", "a@x", "b@y"],
            "device": ["d1", None, "d2", "d2"],
            "ts": ["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:07", "2024-01-01 11:00"],
            "ch": ["WEB", "WEB", "App", "App"],
            "ev": ["pv_home", "login", "pv_cart", "legacy_77"],
        }
    )
    mapping = ColumnMapping(
        customer_ids=["email", "device"],
        timestamp="ts",
        channel="ch",
        touchpoint="ev",
        touchpoint_template="{channel}:{event}",
        channel_map={"WEB": "web", "App": "app"},
        value_map={"web:login": "login"},
        touchpoint_rules=[TouchpointRule(pattern=r":pv_(\w+)$", touchpoint="page")],
        identify_values=["login"],
    )
    log, report, identity = ingest(raw, mapping, source="web.csv")
    assert log.touchpoints == ("app:legacy_77", "login", "page")
    assert log.channels == ("app", "web")
    assert report.unmapped_touchpoints == (("app:legacy_77", 1),)
    assert log.events["identified"].to_list() == [False, True, False, False]
    # a@x, d1 and d2 (via row 3) and b@y (via d2) are one customer.
    assert (identity.customers, identity.stitched_events, identity.stitching_rate) == (1, 4, 1.0)


def test_validation_excludes_bad_rows_with_reasons() -> None:
    raw = pl.DataFrame(
        {
            "id": ["a", "a", None, "b", "b", "c", "c"],
            "ts": ["2024-01-01", "not a date", "2024-01-02", "2024-01-03", "2024-01-03", "2030-01-01", ""],
            "ev": ["x", "y", "x", "x", "x", "y", "z"],
        }
    )
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev")
    log, report, _ = ingest(raw, mapping, source="dirty.csv", now=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.rows_read == 7
    assert report.rows_kept == 2
    assert report.excluded == (
        ("empty timestamp", 1, (7,)),
        ("unparsable timestamp", 1, (2,)),
        ("empty customer identifier", 1, (3,)),
        ("timestamp in the future", 1, (6,)),
        ("exact duplicate event", 1, (5,)),
    )
    assert (report.future_dates, report.duplicates) == (1, 1)
    assert log.events["seq"].to_list() == [1, 4]


def test_missing_column_names_the_column() -> None:
    raw = pl.DataFrame({"id": ["a"], "ts": ["2024-01-01"], "ev": ["x"]})
    mapping = ColumnMapping(customer_ids=["user"], timestamp="ts", touchpoint="ev")
    with pytest.raises(UserInputError, match=r"^e.csv, column 'user': is not in the file\. .*has: id, ts, ev\."):
        ingest(raw, mapping, source="e.csv")


def test_explicit_timestamp_format_and_timezone() -> None:
    raw = pl.DataFrame({"id": ["a", "a"], "ts": ["05.01.2024 10:00", "bad"], "ev": ["x", "y"]})
    mapping = ColumnMapping(
        customer_ids=["id"],
        timestamp="ts",
        timestamp_format="%d.%m.%Y %H:%M",
        timezone="Europe/Amsterdam",
        touchpoint="ev",
    )
    log, report, _ = ingest(raw, mapping, source="e.csv")
    assert log.events["ts"].to_list() == [datetime(2024, 1, 5, 9, 0, tzinfo=UTC)]
    assert report.excluded == (("unparsable timestamp", 1, (2,)),)


def test_mapping_json_round_trip_and_errors() -> None:
    mapping = ColumnMapping(
        customer_ids=["email", "phone"],
        timestamp="ts",
        channel_constant="store",
        touchpoint="event",
        touchpoint_rules=[TouchpointRule(pattern="^pay", touchpoint="checkout")],
        value_map={"pay_ok": "checkout"},
        attributes=["region"],
    )
    assert mapping_from_json(mapping_to_json(mapping)) == mapping
    with pytest.raises(UserInputError, match=r"^m\.json, line 1, column 2: is not valid JSON"):
        mapping_from_json("{oops", source="m.json")
    with pytest.raises(UserInputError, match=r"^m\.json, field 'touchpoint_rules\.0\.pattern': is not a valid regular"):
        mapping_from_json(
            '{"customer_ids": ["a"], "timestamp": "t", "touchpoint": "e", "touchpoint_rules": [{"pattern": "(", '
            '"touchpoint": "x"}]}',
            source="m.json",
        )
    with pytest.raises(UserInputError, match=r"field 'unknown_field': Extra inputs are not permitted"):
        mapping_from_json('{"customer_ids": ["a"], "timestamp": "t", "touchpoint": "e", "unknown_field": 1}')


def test_save_and_load_log_round_trip(tmp_path: Path) -> None:
    raw = pl.DataFrame(
        {"id": ["a", "b"], "ts": ["2024-01-01", "2024-01-02"], "ev": ["x", "y"], "seg": ["gold", "silver"]}
    )
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev", attributes=["seg"])
    log, _, _ = ingest(raw, mapping, source="e.csv")
    path = tmp_path / "log.parquet"
    save_log(log, path)
    loaded = load_log(path)
    assert loaded.events.equals(log.events)
    assert (loaded.touchpoints, loaded.channels, loaded.owners, loaded.source) == (
        ("x", "y"),
        ("default",),
        (),
        "e.csv",
    )
    assert loaded.attributes == ("seg",)
    assert [p.name for p in tmp_path.iterdir()] == ["log.parquet"]


def test_load_log_refuses_foreign_parquet(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    with pytest.raises(UserInputError, match=r"^other\.parquet: is a Parquet file but not a Journeymap event log"):
        load_log(path)


def test_labels_and_channels_missing_from_the_map_are_kept_and_reported() -> None:
    raw = pl.DataFrame(
        {
            "id": ["a", "a", "a", "b"],
            "ts": ["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 10:07", "2024-01-02 09:00"],
            "channel": ["web", "fax", "web", "web"],
            "ev": ["Home", "promo", "Cart", "promo"],
        }
    )
    mapping = guess_mapping(raw, shop_map())
    assert mapping.value_map == {"Cart": "cart", "Home": "home"}
    log, report, _ = ingest(raw, mapping, shop_map(), source="e.csv")
    assert report.unmapped_touchpoints == (("promo", 2),)
    assert report.unknown_channels == (("fax", 1),)
    assert log.touchpoints == ("cart", "home", "promo")
    assert log.events.height == 4
    assert "- channels not on the map: 'fax' (1)" in report.summary()


def test_empty_channel_cells_go_to_an_unknown_channel_and_are_reported() -> None:
    raw = pl.DataFrame(
        {
            "id": ["a", "a", "b", "b"],
            "ts": ["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02 09:00", "2024-01-02 09:30"],
            "ch": ["web", " ", None, "phone"],
            "ev": ["home", "cart", "home", "call"],
        }
    )
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", channel="ch", touchpoint="ev")
    log, validation, _ = ingest(raw, mapping, None, source="x.csv")
    assert log.channels == ("phone", "unknown", "web")
    assert [log.channels[c] for c in log.events["channel"].to_list()] == ["web", "unknown", "unknown", "phone"]
    assert log.events.height == 4
    assert validation.notes[0] == "2 event(s) with an empty 'ch' cell counted in channel 'unknown'"


def test_each_customer_keeps_one_raw_identifier_for_unmasking() -> None:
    raw = pl.DataFrame(
        {
            "email": ["a@x", None, " b@x ", None],
            "device": ["d1", "d1", "d2", "d3"],
            "ts": ["2024-01-01 10:00", "2024-01-01 11:00", "2024-01-02 09:00", "2024-01-02 09:30"],
            "ev": ["home", "cart", "home", "call"],
        }
    )
    mapping = ColumnMapping(customer_ids=["email", "device"], timestamp="ts", touchpoint="ev")
    log, _, _ = ingest(raw, mapping, None, source="x.csv")
    # a@x and d1 are one customer; b@x is trimmed; d3 has no email, so its device id stands for it.
    rows = log.events.select("customer", pl.col("customer_id").cast(pl.String), "seq").rows()
    assert rows == [(0, "a@x", 1), (0, "a@x", 2), (1, "b@x", 3), (2, "d3", 4)]
    assert log.events.schema["customer_id"] == pl.Categorical
