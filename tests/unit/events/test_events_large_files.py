"""Reading only what a mapping uses: projection, dictionary codes, head samples, whole-file counts.

Each path must give exactly what the whole-frame path gives on the same small file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from journeymap.errors import UserInputError
from journeymap.events.identity import resolve_identities
from journeymap.events.ingest import PHASES, ingest, read_mapped
from journeymap.events.mapping import ColumnMapping, guess_mapping, mapping_from_json, mapping_to_json
from journeymap.events.read import count_values, read_events
from journeymap.events.synth import generate_events
from journeymap.templates import load_template
from tests.unit.events.events_fixtures import shop_map, three_customers_csv

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# Labels with spaces around them, an empty identifier, a duplicate row (rows 2 and 5) and a column
# ("note") that no mapping reads.
DIRTY = """id,ts,channel,event,outcome,note
a,2024-01-01 10:00, web ,view,,x
a,2024-01-01 11:00,web,buy,order,y
 ,2024-01-01 12:00,web,view,,z
b,2024-01-02 09:00,app, view ,,w
a,2024-01-01 11:00,web,buy,order,y
b,2024-01-02 09:30,app,buy,,v
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _dirty_mapping() -> ColumnMapping:
    return ColumnMapping(
        customer_ids=["id"],
        timestamp="ts",
        channel="channel",
        touchpoint="event",
        outcome="outcome",
        conversion_values=["order"],
    )


def test_projection_reads_only_mapped_columns_as_codes(tmp_path: Path) -> None:
    path = _write(tmp_path, "dirty.csv", DIRTY)
    raw = read_mapped(path, _dirty_mapping())
    assert raw.schema == pl.Schema(
        {
            "id": pl.Categorical(),
            "ts": pl.String(),
            "channel": pl.Categorical(),
            "event": pl.Categorical(),
            "outcome": pl.Categorical(),
            "__row_hash": pl.UInt64(),  # of the whole row, "note" included: tells exact duplicates
        }
    )
    assert raw.get_column("channel").cast(pl.String).to_list() == [" web ", "web", "web", "app", "web", "app"]


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_projection_reports_a_missing_mapped_column_by_name(tmp_path: Path, suffix: str) -> None:
    frame = pl.DataFrame({"id": ["a"], "ts": ["2024-01-01"], "ev": ["x"]})
    path = tmp_path / f"e.{suffix}"
    {"csv": frame.write_csv, "parquet": frame.write_parquet, "jsonl": frame.write_ndjson}[suffix](path)
    mapping = ColumnMapping(customer_ids=["user"], timestamp="ts", touchpoint="ev")
    with pytest.raises(UserInputError) as info:
        read_mapped(path, mapping)
    assert str(info.value) == (
        f"e.{suffix}, column 'user': is not in the file. Fix the column mapping; the file has: id, ts, ev."
    )


def test_messages_name_the_upload_not_the_stored_copy(tmp_path: Path) -> None:
    path = _write(tmp_path, "3fa9c0.csv", "id,ts\na,2024-01-01\n")
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev")
    with pytest.raises(UserInputError, match=r"^my export\.csv, column 'ev': is not in the file\."):
        read_mapped(path, mapping, name="my export.csv")


def test_wrong_delimiter_is_still_reported_before_missing_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "semi.csv", "id;ts;event\na;2024-01-01;x\n")
    with pytest.raises(UserInputError, match=r"^semi\.csv, line 1: only one column was found with delimiter ','"):
        read_events(path, delimiter=",", columns=["id", "ts"])


def _same_log(a: tuple[object, ...], b: tuple[object, ...]) -> None:
    log_a, report_a, identity_a = a
    log_b, report_b, identity_b = b
    assert_frame_equal(log_a.events, log_b.events, categorical_as_str=True)  # type: ignore[attr-defined]
    assert (log_a.touchpoints, log_a.channels, log_a.owners) == (  # type: ignore[attr-defined]
        log_b.touchpoints,  # type: ignore[attr-defined]
        log_b.channels,  # type: ignore[attr-defined]
        log_b.owners,  # type: ignore[attr-defined]
    )
    assert report_a == report_b
    assert identity_a == identity_b


def test_ingest_of_the_projected_codes_equals_ingest_of_the_whole_frame(tmp_path: Path) -> None:
    path = _write(tmp_path, "dirty.csv", DIRTY)
    mapping = _dirty_mapping()
    whole = ingest(read_events(path), mapping, source="dirty.csv", now=NOW)
    projected = ingest(read_mapped(path, mapping), mapping, source="dirty.csv", now=NOW)
    _same_log(whole, projected)
    log, report, identity = projected
    assert report.excluded == (("empty customer identifier", 1, (3,)), ("exact duplicate event", 1, (5,)))
    assert (log.touchpoints, log.channels) == (("buy", "view"), ("app", "web"))
    assert log.events.select("customer", "seq", "touchpoint", "channel", "converted").rows() == [
        (0, 1, 1, 1, False),
        (0, 2, 0, 1, True),
        (1, 4, 1, 0, False),
        (1, 6, 0, 0, False),
    ]
    assert identity.customers == 2


def test_ingest_of_a_generated_export_is_the_same_from_codes(tmp_path: Path) -> None:
    retail = load_template("retail-bopis")
    raw, mapping_dict = generate_events(retail, customers=300, seed=3, start=datetime(2025, 1, 1))
    path = tmp_path / "retail.csv"
    raw.write_csv(path)
    mapping = mapping_from_json(mapping_to_json(ColumnMapping(**mapping_dict)))  # type: ignore[arg-type]
    whole = ingest(read_events(path), mapping, retail, source="retail.csv", now=NOW)
    projected = ingest(read_mapped(path, mapping), mapping, retail, source="retail.csv", now=NOW)
    _same_log(whole, projected)
    assert whole[0].events.height == projected[1].rows_kept > 0


def test_ingest_reports_its_phases_in_order(tmp_path: Path) -> None:
    path = _write(tmp_path, "dirty.csv", DIRTY)
    seen: list[str] = []
    ingest(read_mapped(path, _dirty_mapping()), _dirty_mapping(), source="dirty.csv", now=NOW, phase=seen.append)
    assert tuple(seen) == PHASES == ("timestamps", "labels", "validate", "identity", "encode")


def test_head_sample_reads_the_first_rows_of_each_format(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": [f"c{i}" for i in range(10)], "n": [str(i) for i in range(10)]})
    for suffix, write in (("csv", frame.write_csv), ("parquet", frame.write_parquet), ("jsonl", frame.write_ndjson)):
        path = tmp_path / f"e.{suffix}"
        write(path)
        assert read_events(path, rows=3).get_column("id").to_list() == ["c0", "c1", "c2"], suffix
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id;ville\nc1;Liège\nc2;Köln\nc3;Zürich\n".encode("cp1252"))
    assert read_events(latin, rows=2).rows() == [("c1", "Liège"), ("c2", "Köln")]


def test_whole_file_value_counts_equal_the_eager_counts(tmp_path: Path) -> None:
    path = _write(tmp_path, "dirty.csv", DIRTY)
    assert count_values(path, "event") == [("buy", 3), ("view", 2), (" view ", 1)]
    assert count_values(path, "outcome") == [("order", 2)]  # empty cells are not values
    assert count_values(path, "event", limit=1) == [("buy", 3)]
    eager = (
        read_events(path)
        .select(pl.col("channel").alias("label"))
        .drop_nulls()
        .group_by("label")
        .len("n")
        .sort(["n", "label"], descending=[True, False])
    )
    assert count_values(path, "channel") == eager.rows()


def test_guess_from_a_head_sample_with_whole_file_labels_equals_the_full_guess(tmp_path: Path) -> None:
    path = _write(tmp_path, "three.csv", three_customers_csv())
    full = guess_mapping(read_events(path), shop_map())
    head = read_events(path, rows=3)

    def labels(column: str) -> list[str]:
        return [label for label, _ in count_values(path, column)]

    assert guess_mapping(head, shop_map(), labels=labels) == full
    # Without the whole-file labels, conversion values seen only further down are missed.
    assert guess_mapping(head, shop_map()).conversion_values == []
    assert full.conversion_values == ["order"]


def test_identity_from_integer_codes_equals_identity_from_text() -> None:
    text = pl.DataFrame(
        {
            "email": ["ann@x.org", "ann@x.org", None, None, "bob@y.org"],
            "device": [None, "d-1", "d-1", None, None],
            "loyalty": [None, None, "L-7", "L-7", None],
        }
    )
    codes = text.select(pl.all().cast(pl.Categorical).to_physical().cast(pl.UInt32))
    sparse = codes.select(pl.all().cast(pl.UInt64) * 10**12)  # large ids: no array as long as the largest
    expected = resolve_identities(text, text.columns)
    assert expected[0].to_list() == [0, 0, 0, 0, 1]
    for frame in (codes, sparse):
        customer, report = resolve_identities(frame, frame.columns)
        assert customer.to_list() == expected[0].to_list()
        assert report == expected[1]


def test_a_latin1_export_is_reencoded_through_a_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id;ville;ts\nc1;Liège;2024-01-01\nc2;Köln €;2024-01-02\n".encode("cp1252"))
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ville")
    raw = read_mapped(latin, mapping)
    assert raw.get_column("ville").cast(pl.String).to_list() == ["Liège", "Köln €"]
    assert read_events(latin).rows() == [("c1", "Liège", "2024-01-01"), ("c2", "Köln €", "2024-01-02")]
    assert list(scratch.iterdir()) == []  # the UTF-8 copy is gone
