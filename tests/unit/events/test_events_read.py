"""Reading every supported format, and the message each malformed input gets."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from journeymap.errors import UserInputError
from journeymap.events.ingest import ingest
from journeymap.events.mapping import ColumnMapping
from journeymap.events.read import read_events

REAL = Path(__file__).resolve().parents[2] / "data" / "real"

XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <string key="concept:name" value="log-level, not an event"/>
  <trace>
    <string key="concept:name" value="case-1"/>
    <string key="segment" value="gold"/>
    <event>
      <string key="concept:name" value="Open &amp; read"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00.000+01:00"/>
      <int key="items" value="3"/>
      <list key="nested"><string key="inner" value="ignored"/></list>
    </event>
    <event>
      <string key="concept:name" value="Close"/>
      <date key="time:timestamp" value="2024-01-01T10:30:00Z"/>
      <float key="cost" value="1.5"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="case-2"/>
    <event>
      <string key="concept:name" value="Open &amp; read"/>
      <date key="time:timestamp" value="2024-01-02T08:00:00"/>
    </event>
  </trace>
</log>
"""


def test_xes_trace_attributes_become_case_columns(tmp_path: Path) -> None:
    path = tmp_path / "tiny.xes.gz"
    path.write_bytes(gzip.compress(XES.encode()))
    frame = read_events(path)
    assert frame.height == 3
    assert frame["case:concept:name"].to_list() == ["case-1", "case-1", "case-2"]
    assert frame["case:segment"].to_list() == ["gold", "gold", None]
    assert frame["concept:name"].to_list() == ["Open & read", "Close", "Open & read"]
    assert frame["items"].to_list() == [3, None, None]
    assert frame["cost"].to_list() == [None, 1.5, None]
    assert "inner" not in frame.columns
    assert [t.isoformat() for t in frame["time:timestamp"]] == [
        "2024-01-01T09:00:00+00:00",
        "2024-01-01T10:30:00+00:00",
        "2024-01-02T08:00:00+00:00",
    ]


def test_progress_is_reported_up_to_one(tmp_path: Path) -> None:
    path = tmp_path / "tiny.xes"
    path.write_text(XES)
    seen: list[float] = []
    read_events(path, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_latin1_semicolon_csv_is_detected() -> None:
    frame = read_events(REAL / "BPI2016_Complaints.csv")
    assert frame.height == 289
    assert frame.width == 18
    assert frame.columns[:3] == ["CustomerID", "AgeCategory", "Gender"]
    # Latin-1 text decodes to proper characters, not replacement marks.
    assert not frame["ComplaintTopic"].str.contains("\ufffd").any()


def test_explicit_encoding_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    path.write_bytes("id|when|what\nc1|2024-01-01|café\n".encode("cp1252"))
    frame = read_events(path, fmt="csv", encoding="cp1252", delimiter="|")
    assert frame.rows() == [("c1", "2024-01-01", "café")]


def test_jsonl_and_parquet(tmp_path: Path) -> None:
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text('{"id": "a", "ts": "2024-01-01", "ev": "x"}\n{"id": "b", "ts": "2024-01-02", "ev": "y"}\n')
    assert read_events(jsonl)["id"].to_list() == ["a", "b"]
    parquet = tmp_path / "e.parquet"
    pl.DataFrame({"id": ["a"], "ev": ["x"]}).write_parquet(parquet)
    assert read_events(parquet).rows() == [("a", "x")]


def _message(path: Path, **kwargs: object) -> str:
    with pytest.raises(UserInputError) as info:
        read_events(path, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.xes.gz"
    path.write_bytes(gzip.compress(XES.encode() * 3)[:-40])
    message = _message(path)
    assert message.startswith("cut.xes.gz: is a damaged or truncated gzip file")
    assert "export the file again" in message


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("id;ts;event\na;2024-01-01;x\n")
    message = _message(path, delimiter=",")
    assert message.startswith("semi.csv, line 1: only one column was found with delimiter ','")
    assert "'id;ts;event'" in message and "pass it explicitly" in message


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _message(empty) == "empty.csv: is empty (0 bytes). Export the events again."
    header = tmp_path / "header.csv"
    header.write_text("id,ts,event\n")
    assert _message(header).startswith("header.csv: holds no events")


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "events.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert _message(path).startswith("events.xlsx: is not a format Journeymap reads ('.xlsx')")
    assert "not a format" in _message(path, fmt="sql")


def test_giant_line_is_refused_without_loading_it(tmp_path: Path) -> None:
    path = tmp_path / "giant.csv"
    with path.open("w") as fh:
        fh.write("id,ts,event\n")
        fh.write("a,2024-01-01,x\n")
        fh.write("b,2024-01-01," + "y" * 300_000 + "\n")
    message = _message(path, max_line_bytes=100_000)
    assert message.startswith("giant.csv, line 3: line is longer than 100,000 bytes")


def test_giant_line_in_jsonl_and_xes(tmp_path: Path) -> None:
    jsonl = tmp_path / "giant.jsonl"
    jsonl.write_text('{"a": "' + "z" * 50_000 + '"}\n')
    assert _message(jsonl, max_line_bytes=10_000).startswith("giant.jsonl, line 1: line is longer than 10,000")
    xes = tmp_path / "giant.xes"
    xes.write_text(XES.replace("gold", "g" * 50_000))
    assert _message(xes, max_line_bytes=10_000).startswith("giant.xes, line 6: line is longer than 10,000")


def test_broken_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken.xes"
    path.write_text(XES.replace("</trace>", "</trac>", 1))
    message = _message(path)
    assert message.startswith("broken.xes, line 18, column 4")
    assert "is not valid XES/XML (mismatched tag)" in message


def _ingest_message(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    raw = read_events(path)
    mapping = ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="event")
    with pytest.raises(UserInputError) as info:
        ingest(raw, mapping, source=path.name)
    return str(info.value)


def test_mixed_date_formats(tmp_path: Path) -> None:
    text = "id,ts,event\na,2024-01-05,x\na,2024-01-06,y\nb,07/01/2024,x\n"
    message = _ingest_message(tmp_path, "mixed.csv", text)
    assert message.startswith("mixed.csv, column 'ts', row 3: mixes date formats")
    assert "row 1 is '2024-01-05' (%Y-%m-%d)" in message and "row 3 is '07/01/2024' (%d/%m/%Y)" in message


def test_invalid_dates_everywhere(tmp_path: Path) -> None:
    message = _ingest_message(tmp_path, "nodates.csv", "id,ts,event\na,soon,x\nb,later,y\n")
    assert message.startswith("nodates.csv, column 'ts': no value is a date Journeymap can read (first value: 'soon')")


def test_zero_valid_rows(tmp_path: Path) -> None:
    message = _ingest_message(tmp_path, "noids.csv", "id,ts,event\n,2024-01-01,x\n ,2024-01-02,y\n")
    assert message.startswith("noids.csv: has 0 valid rows out of 2 (empty customer identifier: 2 (rows 1, 2))")
