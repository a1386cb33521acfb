"""Every bad input a user can give ends in one message naming the file, the line or row, and what to do.

Each case here was a traceback or a silent misreading before: over-deep JSON (a ``RecursionError``
in every JSON reader), an unclosed quote, two columns of one name (the second silently renamed),
ragged rows, binary files and broken JSON lines (no line named), column-guess errors naming
"column mapping" instead of the file, and CSV exports writing ``=HYPERLINK(...)`` labels as live
formulas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journeymap.cli import main
from journeymap.csv_export import csv_bytes, csv_safe, write_csv
from journeymap.errors import UserInputError
from journeymap.events.ingest import load_log
from journeymap.events.mapping import guess_mapping, mapping_from_json
from journeymap.events.read import read_events
from journeymap.json_input import MAX_JSON_DEPTH, load_json
from journeymap.maturity import assessment_from_json, framework_from_json
from journeymap.model import map_from_json
from journeymap.overlay_viz import csv_bytes as page_csv_bytes
from tests.unit.events.events_fixtures import three_customers_csv

DEEP = "[" * 100_000
HINT = "Fix it."
TOO_DEEP = "is nested more than 64 levels deep, which no Journeymap document is"

# --- the shared JSON loader ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DEEP, f"x.json, line 1, column 65: {TOO_DEEP}. Fix it."),
        ('{"a":' * 100_000, f"x.json, line 1, column 321: {TOO_DEEP}. Fix it."),  # 5 characters per level
        ("[" * 60 + "\n[[[\n[[", f"x.json, line 3, column 2: {TOO_DEEP}. Fix it."),  # 60 + 3 + 2: the 65th
        ('{"a": }', "x.json, line 1, column 7: is not valid JSON (Expecting value). Fix it."),
        (b'{"a": "\xff"}', "x.json, byte 8: is not UTF-8 text (invalid start byte). Fix it."),
    ],
)  # fmt: skip
def test_loader_names_the_place(text: str | bytes, expected: str) -> None:
    with pytest.raises(UserInputError) as caught:
        load_json(text, source="x.json", hint=HINT)
    assert str(caught.value) == expected


def test_loader_reads_up_to_the_limits() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    value = load_json(at_limit, source="x.json", hint=HINT)
    for _ in range(MAX_JSON_DEPTH - 1):
        value = value[0]
    assert value == []
    # Brackets inside strings do not nest, escaped quotes included.
    assert load_json(json.dumps({"label": "[" * 500 + '\\"' + "{" * 500}), source="x.json", hint=HINT) == {
        "label": "[" * 500 + '\\"' + "{" * 500
    }


def test_loader_refuses_a_document_over_the_size_limit() -> None:
    with pytest.raises(UserInputError) as caught:
        load_json(b" " * 2_000_000 + b"[]", source="big.json", hint=HINT, max_bytes=1024 * 1024)
    assert str(caught.value) == (
        "big.json: is too large for a Journeymap document (1.9 MB; the limit is 1.0 MB). Fix it."
    )


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (lambda t: map_from_json(t, source="m.json"), "Export the map again from Journeymap, or fix the JSON syntax."),
        (
            lambda t: mapping_from_json(t, source="m.json"),
            "Fix the JSON syntax, or write a new mapping with 'journeymap mapping guess'.",
        ),
        (lambda t: framework_from_json(t, source="m.json"), "Fix the JSON syntax."),
        (lambda t: assessment_from_json(t, source="m.json"), "Export the assessment again from Journeymap."),
    ],
    ids=["map", "mapping", "framework", "assessment"],
)
def test_every_json_reader_refuses_deep_nesting(read: Callable[[bytes], object], expected: str) -> None:
    with pytest.raises(UserInputError) as caught:
        read(DEEP.encode())
    assert str(caught.value) == (
        f"m.json, line 1, column 65: is nested more than 64 levels deep, which no Journeymap document is. {expected}"
    )


def test_a_cached_log_with_damaged_metadata_is_named(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    table = pa.table({"customer": [1]}).replace_schema_metadata({"journeymap.event_log": DEEP})
    pq.write_table(table, path)
    with pytest.raises(UserInputError) as caught:
        load_log(path)
    assert str(caught.value) == (
        "log.parquet, line 1, column 65: is nested more than 64 levels deep, which no Journeymap document is. "
        "Ingest the raw export again."
    )
    pq.write_table(table.replace_schema_metadata({"journeymap.event_log": '["a"]'}), path)
    with pytest.raises(UserInputError, match=r"^log\.parquet: has damaged dictionaries in its metadata\."):
        load_log(path)


# --- event files ----------------------------------------------------------------------------------------------

HEADER = "customer,ts,event\n"
RAGGED_HINT = "Quote the fields that hold the delimiter ',', or remove the extra fields."
QUOTE_HINT = 'Close the quote, or double a quote that is part of the text ("").'
JSONL_HINT = 'Each line must be one JSON object, such as {"customer": "c1", "ts": "2024-01-01"}.'

BAD_FILES: list[tuple[str, bytes, str]] = [
    (
        "unclosed.csv",
        (HEADER + 'c1,2024-01-01,"visit\nc2,2024-01-02,buy\n').encode(),
        "unclosed.csv, line 2 (row 1): a quoted field starts on this row and its closing quote is missing. "
        + QUOTE_HINT,
    ),
    (
        "unclosed_later.csv",
        (HEADER + 'c1,2024-01-01,visit\nc1,2024-01-01,"visit\nc2,2024-01-02,buy\n').encode(),
        "unclosed_later.csv, line 3 (row 2): a quoted field starts on this row and its closing quote is missing. "
        + QUOTE_HINT,
    ),
    (
        "duplicate.csv",
        b"customer,ts,event,channel,event\nc1,2024-01-01,visit,web,buy\n",
        "duplicate.csv, line 1 (header): columns 3 and 5 are both named 'event'. "
        "Give every column its own name in the file, then read it again.",
    ),
    (
        "ragged.csv",
        (HEADER + "c1,2024-01-01,visit\nc2,2024-01-02,buy,extra\nc3,2024-01-03,visit\n").encode(),
        "ragged.csv, line 3 (row 2): has 4 fields; the header has 3. " + RAGGED_HINT,
    ),
    (
        # A quoted field spans lines 2-3: the ragged row is row 2 but line 4.
        "multiline.csv",
        (HEADER + 'c1,2024-01-01,"two\nlines"\nc2,2024-01-02,buy,extra\n').encode(),
        "multiline.csv, line 4 (row 2): has 4 fields; the header has 3. " + RAGGED_HINT,
    ),
    (
        "inches.csv",
        (HEADER + 'c1,2024-01-01,visit\nc2,2024-01-02,5" screen\n').encode(),
        "inches.csv, line 3 (row 2): has a double quote inside a field that does not start with one ('5\" screen'). "
        'Quote that field and double the quote inside it ("5"" screen"), or remove the quote.',
    ),
    (
        # The header is 12 bytes; the data starts with byte value 0.
        "binary.csv",
        b"customer,ts\n" + bytes(range(256)) * 4,
        "binary.csv, line 2: is a binary file, not CSV text (a NUL byte at byte 13). "
        "Choose the CSV export itself, or the format the file really has.",
    ),
    (
        "workbook.csv",
        b"PK\x03\x04\x14\x00\x06\x00",
        "workbook.csv, line 1: is a zip archive or an Excel workbook, not CSV text (a NUL byte at byte 6). "
        "Save the sheet as CSV (File > Save as), or unzip it.",
    ),
    (
        # Line 2 is blank; on line 3 the value "2024-01-01" ends at column 37, a space, then "event" at 39.
        "broken.jsonl",
        b'{"customer": "c1", "ts": "2024-01-01", "event": "a"}\n\n{"customer": "c2", "ts": "2024-01-01" "event"}\n',
        "broken.jsonl, line 3, column 39: is not valid JSON (Expecting ',' delimiter). " + JSONL_HINT,
    ),
    (
        "array.jsonl",
        b'{"customer": "c1", "ts": "2024-01-01", "event": "a"}\n["c2", "2024-01-01", "b"]\n',
        "array.jsonl, line 2: is not a JSON object (it is an array). " + JSONL_HINT,
    ),
    (
        # '{"customer": ' is 13 characters and depth 1; the 64th '[' (depth 65) is at column 13 + 64.
        "deep.jsonl",
        b'{"customer": "c1", "ts": "2024-01-01", "event": "a"}\n{"customer": ' + DEEP.encode() + b"\n",
        "deep.jsonl, line 2, column 77: is nested more than 64 levels deep, which no Journeymap document is. "
        + JSONL_HINT,
    ),
    (
        "binary.jsonl",
        b'{"customer": "c1"}\n\x00\x01',
        "binary.jsonl, line 2: is a binary file, not JSON lines text (a NUL byte at byte 20). "
        "Choose the JSON lines export itself, or the format the file really has.",
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
@pytest.mark.parametrize("rows", [None, 50_000], ids=["whole file", "page sample"])
def test_a_bad_event_file_is_named_with_its_line(
    tmp_path: Path, name: str, content: bytes, expected: str, rows: int | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserInputError) as caught:
        read_events(path, rows=rows)
    assert str(caught.value) == expected


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_the_cli_prints_the_same_one_line_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["overlay", str(path), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"journeymap: error: {expected}\n"
    assert not (tmp_path / "out").exists()


def test_a_latin1_file_with_a_ragged_row_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("customer;ts;event\nc1;2024-01-01;café\nc2;2024-01-02;thé;x\n".encode("cp1252"))
    with pytest.raises(UserInputError) as caught:
        read_events(path)
    assert str(caught.value) == (
        "latin.csv, line 3 (row 2): has 4 fields; the header has 3. "
        "Quote the fields that hold the delimiter ';', or remove the extra fields."
    )


def test_a_utf16_export_is_read_not_refused_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes("customer\tts\tevent\nc1\t2024-01-01\tcafé\n".encode("utf-16"))
    assert read_events(path).rows() == [("c1", "2024-01-01", "café")]


def test_a_quoted_field_with_doubled_quotes_is_no_problem(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text(HEADER + 'c1,2024-01-01,"say ""hi"", then ""bye"""\n')
    assert read_events(path).rows() == [("c1", "2024-01-01", 'say "hi", then "bye"')]


# --- the CLI's JSON entry points and the column guess --------------------------------------------------------


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "three.csv"
    path.write_text(three_customers_csv())
    return path


@pytest.mark.parametrize(
    ("option", "hint"),
    [
        ("--map", "Export the map again from Journeymap, or fix the JSON syntax."),
        ("--mapping", "Fix the JSON syntax, or write a new mapping with 'journeymap mapping guess'."),
    ],
)
def test_cli_refuses_deep_json_in_one_line(
    tmp_path: Path, events: Path, capsys: pytest.CaptureFixture[str], option: str, hint: str
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    assert main(["overlay", str(events), option, str(deep), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "journeymap: error: deep.json, line 1, column 65: is nested more than 64 levels deep, "
        f"which no Journeymap document is. {hint}\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("x,y\n1,2\n", "no column looks like a customer identifier. Name the customer id column(s) in the mapping "
         "(customer_ids)."),
        ("customer,kind\nc1,a\n", "no column looks like an event time. Name the timestamp column in the mapping "
         "(timestamp)."),
    ],
)  # fmt: skip
def test_a_failed_column_guess_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(content)
    columns = ", ".join(content.splitlines()[0].split(","))
    assert main(["mapping", "guess", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    # The reason per field comes first (what was looked for), then the one-line error.
    assert err[0] == "export.csv: columns guessed (confidence, reason)"
    assert err[-1] == f"journeymap: error: export.csv, columns {columns}: {expected}"
    with pytest.raises(UserInputError, match=rf"^export\.csv, columns {columns}: "):
        guess_mapping(read_events(path), source="export.csv")


# --- CSV written for people ----------------------------------------------------------------------------------

INJECTED = '=HYPERLINK("http://evil.example","Click")'


def test_csv_exports_quote_formulas_and_keep_numbers() -> None:
    frame = pl.DataFrame(
        {
            "label": [INJECTED, "+1 555 0100", "-cmd", "@SUM(A1)", "\t=1", "\r=1", "Web", "-3", "+2.5", None],
            "team": pl.Series(["=x", "a", "b", "c", "d", "e", "f", "g", "h", "i"], dtype=pl.Categorical),
            "count": [-3, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            "share": [-0.5, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        }
    )
    safe = csv_safe(frame)
    assert safe.get_column("label").to_list() == [
        "'" + INJECTED, "'+1 555 0100", "'-cmd", "'@SUM(A1)", "'\t=1", "'\r=1", "Web", "-3", "+2.5", None,
    ]  # fmt: skip
    assert safe.get_column("team").to_list()[:2] == ["'=x", "a"]
    assert safe.get_column("count").to_list() == frame.get_column("count").to_list()
    assert safe.get_column("share").to_list() == frame.get_column("share").to_list()
    # The page's download buttons and the CLI write through the same rule.
    assert page_csv_bytes(frame) == csv_bytes(frame)
    assert csv_bytes(pl.DataFrame({"=1+1": [1]})) == b"'=1+1\n1\n"


def test_write_csv_quotes_formulas(tmp_path: Path) -> None:
    write_csv(pl.DataFrame({"team": [INJECTED], "n": [-1]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == 'team,n\n"\'=HYPERLINK(""http://evil.example"",""Click"")",-1\n'


def test_cli_overlay_csv_quotes_formula_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The phone channel's raw label is a formula: it reaches the channel tables as a label.
    events = tmp_path / "three.csv"
    quoted = '"' + INJECTED.replace('"', '""') + '"'
    events.write_text(three_customers_csv().replace(";phone;", f";{quoted};"))
    assert read_events(events).get_column("channel").unique().sort().to_list() == [INJECTED, "web"]
    out = tmp_path / "out"
    assert main(["overlay", str(events), "--out", str(out), "--format", "csv"]) == 0
    capsys.readouterr()
    switches = pl.read_csv(out / "channel_switch_matrix.csv", infer_schema=False)
    assert switches.select("from_channel", "to_channel").rows() == [("web", "'" + INJECTED), ("'" + INJECTED, "web")]
    assert switches.get_column("median_wait_s").to_list() == ["7200.0", "3600.0"]  # numbers stay numbers
    for path in out.glob("*.csv"):
        cells = [v for row in pl.read_csv(path, infer_schema=False).iter_rows() for v in row if isinstance(v, str)]
        assert not [v for v in cells if v.startswith(("=", "@"))], path.name
