"""Reading raw event exports: CSV, Parquet, XES (plain or gzipped) and JSON lines.

:func:`read_events` returns the file's raw columns as a Polars frame; mapping them to
customers, touchpoints and channels is :mod:`journeymap.events.mapping`'s job. Every
problem a user can cause (empty file, truncated gzip, wrong delimiter, a line too long
to be an event, a binary file, two columns of one name, a ragged row, an unclosed quote, a
broken JSON line) raises :class:`~journeymap.errors.UserInputError` naming the file and, where
there is one, the line. Polars reads; when it refuses a file, the file is read again with Python's
``csv``/``json`` modules only to find and name the first bad line (a cost paid only on failure).

XES is streamed: elements are parsed incrementally and cleared as soon as their event
is recorded, so memory grows with the number of events, not with the size of the XML
tree. Trace attributes become columns prefixed ``case:`` (``case:concept:name``), as
process-mining tools name them.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple, cast
from xml.parsers import expat

import polars as pl

from journeymap.errors import UserInputError
from journeymap.json_input import load_json

__all__ = [
    "FORMATS",
    "MAX_LINE_BYTES",
    "ROW_HASH",
    "EventFormat",
    "XesClassifier",
    "count_values",
    "detect_format",
    "read_events",
    "xes_classifiers",
]

EventFormat = Literal["csv", "parquet", "xes", "jsonl"]
FORMATS: tuple[EventFormat, ...] = ("csv", "parquet", "xes", "jsonl")
MAX_LINE_BYTES = 8 * 1024 * 1024
"""Longest line (CSV, JSON lines, XES) accepted; longer lines are reported, never loaded."""
ROW_HASH = "__row_hash"
"""Column :func:`read_events` adds with ``row_hash=True``: a 64-bit hash of the columns of the row not read."""

_CHUNK = 1024 * 1024
_SAMPLE = 64 * 1024
_DELIMITERS = ",;\t|"
_SUFFIXES: dict[str, EventFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xes": "xes",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def detect_format(path: str | Path) -> EventFormat:
    """The event format a file name suggests.

    Examples
    --------
    >>> detect_format("exports/helpdesk.xes.gz"), detect_format("clicks.CSV")
    ('xes', 'csv')
    >>> detect_format("notes.docx")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: notes.docx: is not a format Journeymap reads ('.docx'). ...
    """
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise UserInputError(
        f"is not a format Journeymap reads ({suffix or 'no extension'!r})",
        source=p.name,
        hint="Use CSV, Parquet, XES (.xes or .xes.gz) or JSON lines (.jsonl), or name the format explicitly.",
    )


def read_events(
    path: str | Path,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: Callable[[float], None] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    columns: Sequence[str] | None = None,
    categorical: Collection[str] = (),
    name: str | None = None,
    rows: int | None = None,
    row_hash: bool = False,
) -> pl.DataFrame:
    """Read a raw event export into a frame of its own columns.

    Parameters
    ----------
    path:
        The file. ``.gz`` is decompressed on the fly for XES.
    fmt:
        ``"csv"``, ``"parquet"``, ``"xes"`` or ``"jsonl"``; guessed from the name when ``None``.
    encoding:
        Text encoding of a CSV file; detected (UTF-8, else Windows-1252/Latin-1) when ``None``.
    delimiter:
        CSV field separator; sniffed from the first lines when ``None``.
    progress:
        Called with the share of the file read so far (0.0 to 1.0).
    max_line_bytes:
        Longest accepted line; a longer line is reported instead of being loaded.
    columns:
        Read only these columns (the mapped ones): the others are never parsed. A column that
        is not in the file is reported by name.
    categorical:
        Text columns to return as ``Categorical``: dictionary-encoded while reading, a fraction
        of the memory of the strings (a customer id column of 10M rows: ~0.05 instead of ~0.4 GB).
    name:
        The file's name in messages (default: the name of ``path``; an upload is stored under
        its content hash).
    rows:
        Read only the first ``rows`` events: a preview and mapping sample of a large file, at
        the memory of the sample (CSV, Parquet and JSON lines stop early; XES is parsed whole).
    row_hash:
        Add :data:`ROW_HASH` (UInt64), a hash of the file's columns not in ``columns``, computed
        while the file is read: two rows equal in the columns read are equal in every column when
        their hashes are, so exact duplicates can be told from rows equal only in the columns
        read. No hash is added when every column is read.

    Returns
    -------
    polars.DataFrame
        One row per event, raw column names and values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("customer;ts;event\\nc1;2024-01-01;visit\\n")
    >>> read_events(p).columns
    ['customer', 'ts', 'event']
    >>> read_events(p, columns=["customer", "event"], categorical=["event"]).schema
    Schema([('customer', String), ('event', Categorical)])
    >>> read_events(p, columns=["user"])
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: e.csv, column 'user': is not in the file. Fix the column mapping; ...
    """
    p = Path(path)
    label = name or p.name
    try:
        return _read(p, fmt, encoding, delimiter, progress, max_line_bytes, columns, categorical, rows, row_hash)
    except UserInputError as exc:
        if exc.source == p.name and label != p.name:
            raise UserInputError(exc.problem, source=label, location=exc.location, hint=exc.hint) from None
        raise


def _read(
    p: Path,
    fmt: str | None,
    encoding: str | None,
    delimiter: str | None,
    progress: Callable[[float], None] | None,
    max_line_bytes: int,
    columns: Sequence[str] | None,
    categorical: Collection[str],
    rows: int | None,
    row_hash: bool = False,
) -> pl.DataFrame:
    if not p.is_file():
        raise UserInputError("file not found", source=str(p), hint="Check the path.")
    kind: str = fmt.lower() if fmt else detect_format(p)
    if kind not in FORMATS:
        raise UserInputError(
            f"is not a format Journeymap reads ({kind!r})",
            source=p.name,
            hint=f"Choose one of {', '.join(FORMATS)}.",
        )
    if p.stat().st_size == 0:
        raise UserInputError("is empty (0 bytes)", source=p.name, hint="Export the events again.")
    report = progress or _no_progress
    report(0.0)
    wanted = list(dict.fromkeys(columns)) if columns is not None else None
    if kind == "parquet":
        frame = _read_parquet(p, wanted, categorical, rows, row_hash)
    elif kind == "xes":
        frame = _project(_read_xes(p, report, max_line_bytes), p, wanted, categorical, row_hash)
        frame = frame.head(rows) if rows is not None else frame
    elif kind == "jsonl":
        frame = _project(_read_jsonl(p, report, max_line_bytes, rows), p, wanted, categorical, row_hash)
    else:
        frame = _read_csv(p, encoding, delimiter, report, max_line_bytes, wanted, categorical, rows, row_hash)
    if frame.height == 0:
        raise UserInputError(
            "holds no events (only a header or no rows)", source=p.name, hint="Export the events again."
        )
    report(1.0)
    return frame


def count_values(
    path: str | Path,
    column: str,
    *,
    fmt: str | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> list[tuple[str, int]]:
    """The values of one raw column over the whole file with their counts, most frequent first.

    Only that column is read, as dictionary codes, so counting the labels of a 2 GB export
    costs the memory of one integer column, not of the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("id,ev\\na,view\\nb,buy\\nc,view\\nd,\\n")
    >>> count_values(p, "ev")
    [('view', 2), ('buy', 1)]
    """
    frame = read_events(path, fmt=fmt, name=name, columns=[column], categorical=[column])
    counts = (
        frame.group_by(column)
        .agg(pl.len().alias("n"))
        .drop_nulls(column)
        .select(pl.col(column).cast(pl.String).alias("label"), "n")
        .sort(["n", "label"], descending=[True, False])
    )
    if limit is not None:
        counts = counts.head(limit)
    return [(str(label), int(n)) for label, n in counts.iter_rows()]


def _no_progress(_share: float) -> None:
    return None


def _check_present(p: Path, available: Sequence[str], wanted: Sequence[str]) -> None:
    for col in wanted:
        if col not in available:
            raise UserInputError(
                "is not in the file",
                source=p.name,
                location=f"column '{col}'",
                hint=f"Fix the column mapping; the file has: {', '.join(list(available)[:30])}.",
            )


def _row_hash(unread: Sequence[str]) -> list[pl.Expr]:
    """:data:`ROW_HASH` of the columns ``unread`` (none when every column is read)."""
    return [pl.struct(list(unread)).hash(seed=11).alias(ROW_HASH)] if unread else []


def _project(
    frame: pl.DataFrame, p: Path, wanted: list[str] | None, categorical: Collection[str], row_hash: bool = False
) -> pl.DataFrame:
    """The wanted columns of a frame already read, text columns listed in ``categorical`` encoded."""
    if wanted is None:
        return frame
    _check_present(p, frame.columns, wanted)
    return frame.select(
        *(
            pl.col(c).cast(pl.Categorical) if c in categorical and frame.schema[c] == pl.String else pl.col(c)
            for c in wanted
        ),
        *_row_hash([c for c in frame.columns if c not in wanted] if row_hash else []),
    )


def _open_binary(p: Path) -> BinaryIO:
    with p.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return cast(BinaryIO, gzip.open(p, "rb"))
    return p.open("rb")


def _chunks(p: Path, report: Callable[[float], None]) -> Iterator[bytes]:
    """Decompressed chunks of a file, reporting progress on the compressed size."""
    size = max(p.stat().st_size, 1)
    with p.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        stream: BinaryIO = cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")) if magic == b"\x1f\x8b" else raw
        try:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    return
                report(min(raw.tell() / size, 0.99))
                yield chunk
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise UserInputError(
                f"is a damaged or truncated gzip file ({exc})",
                source=p.name,
                hint="Download or export the file again; the compressed data ends early.",
            ) from None


class _LineGuard:
    """Tracks the current line length across chunks; refuses over-long lines.

    Newlines are counted only with ``count_lines`` (a sample that stops after its rows): counting
    those of a 1 GB export takes longer than reading it, so the number of a refused line is found
    by reading the file again up to it, a cost paid only on failure.
    """

    def __init__(self, path: Path, limit: int, *, count_lines: bool = False) -> None:
        self.path = path
        self.limit = limit
        self.count_lines = count_lines
        self.line = 1  # the current line's number, kept only when counting
        self.run = 0  # bytes of the current line so far
        self.fed = 0  # bytes fed so far
        self.line_start = 0  # offset of the current line's first byte

    def feed(self, chunk: bytes) -> None:
        # Chunks are never longer than the limit, so an over-long line always crosses a chunk
        # boundary and is seen by this running count.
        first = chunk.find(b"\n")
        if first < 0:
            self.run += len(chunk)
            self.fed += len(chunk)
            self._check()
            return
        self.run += first
        self._check()
        if self.count_lines:
            self.line += chunk.count(b"\n")
        last = chunk.rfind(b"\n")
        self.line_start = self.fed + last + 1
        self.run = len(chunk) - last - 1
        self.fed += len(chunk)
        self._check()

    def _check(self) -> None:
        if self.run > self.limit:
            line = self.line if self.count_lines else self._line_at(self.line_start)
            raise UserInputError(
                f"line is longer than {self.limit:,} bytes; a single event cannot be that long",
                source=self.path.name,
                location=f"line {line}",
                hint="The file is probably not an event export, or a field holds a whole document: "
                "remove that field and export again.",
            )

    def _line_at(self, offset: int) -> int:
        """The number of the line that starts at byte ``offset`` of the (decompressed) file."""
        lines, seen = 1, 0
        for chunk in _chunks(self.path, _no_progress):
            if seen + len(chunk) >= offset:
                return lines + chunk.count(b"\n", 0, offset - seen)
            lines += chunk.count(b"\n")
            seen += len(chunk)
        return lines


def _scan_lines(p: Path, report: Callable[[float], None], limit: int, rows: int | None = None) -> None:
    guard = _LineGuard(p, limit, count_lines=rows is not None)
    for chunk in _chunks(p, report):
        for start in range(0, len(chunk), limit):
            guard.feed(chunk[start : start + limit])
        if rows is not None and guard.line > rows + 1:
            return  # a sample only needs its own lines checked


def _read_parquet(
    p: Path, wanted: list[str] | None, categorical: Collection[str], rows: int | None = None, row_hash: bool = False
) -> pl.DataFrame:
    try:
        if wanted is None:
            return pl.read_parquet(p) if rows is None else pl.scan_parquet(p).head(rows).collect()
        schema = pl.read_parquet_schema(p)
    except Exception as exc:  # Polars raises several error types for foreign or damaged files
        raise _parquet_error(p, exc) from None
    _check_present(p, list(schema), wanted)
    try:
        # Only the wanted columns are decoded; text turns into codes batch by batch (streaming).
        lazy = pl.scan_parquet(p).select(
            *(
                pl.col(c).cast(pl.Categorical) if c in categorical and schema[c] == pl.String else pl.col(c)
                for c in wanted
            ),
            *_row_hash([c for c in schema if c not in wanted] if row_hash else []),
        )
        if rows is not None:
            lazy = lazy.head(rows)
        return lazy.collect(engine="streaming")
    except Exception as exc:
        raise _parquet_error(p, exc) from None


def _parquet_error(p: Path, exc: Exception) -> UserInputError:
    return UserInputError(
        f"is not a readable Parquet file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
        source=p.name,
        hint="Export the file again, or choose the right format.",
    )


_JSONL_HINT = 'Each line must be one JSON object, such as {"customer": "c1", "ts": "2024-01-01"}.'


def _read_jsonl(p: Path, report: Callable[[float], None], limit: int, rows: int | None = None) -> pl.DataFrame:
    _scan_lines(p, report, limit, rows)
    with _open_binary(p) as fh:
        _refuse_binary(p, fh.read(_SAMPLE), "JSON lines")
    try:
        return pl.read_ndjson(p, infer_schema_length=10_000, n_rows=rows)
    except Exception as exc:
        raise _jsonl_problem(p, rows) or UserInputError(
            f"is not valid JSON lines ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            source=p.name,
            hint=_JSONL_HINT,
        ) from None


def _jsonl_problem(p: Path, rows: int | None) -> UserInputError | None:
    """The first line that is no JSON object, read again line by line (only after Polars refused the file)."""
    objects = 0
    with _open_binary(p) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                value = load_json(line.rstrip(b"\r\n"), source=p.name, hint=_JSONL_HINT)
            except UserInputError as exc:
                # The loader names a place inside this one line ("line 1, column 7", "byte 3").
                within = (exc.location or "").removeprefix("line 1").removeprefix(", ")
                location = f"line {number}" + (f", {within}" if within else "")
                return UserInputError(exc.problem, source=p.name, location=location, hint=_JSONL_HINT)
            if not isinstance(value, dict):
                return UserInputError(
                    f"is not a JSON object (it is {_json_kind(value)})",
                    source=p.name,
                    location=f"line {number}",
                    hint=_JSONL_HINT,
                )
            objects += 1
            if rows is not None and objects > rows:
                return None
    return None


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"the value {value!r}"


def _refuse_binary(p: Path, sample: bytes, what: str) -> None:
    """Refuse a file whose first bytes hold a NUL byte: no text export has one (UTF-16 aside)."""
    nul = sample.find(b"\x00")
    if nul < 0:
        return
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        kind, hint = "UTF-16 text", f"Save it as UTF-8 {what}."
    elif sample.startswith(b"PK\x03\x04"):
        kind, hint = "a zip archive or an Excel workbook", f"Save the sheet as {what} (File > Save as), or unzip it."
    elif sample.startswith(b"PAR1"):
        kind, hint = "a Parquet file", "Name it .parquet, or choose the Parquet format."
    else:
        kind, hint = "a binary file", f"Choose the {what} export itself, or the format the file really has."
    line = sample.count(b"\n", 0, nul) + 1
    raise UserInputError(
        f"is {kind}, not {what} text (a NUL byte at byte {nul + 1:,})",
        source=p.name,
        location=f"line {line}",
        hint=hint,
    )


def _detect_encoding(sample: bytes) -> str:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # a multi-byte character cut by the sample end
            return "utf-8"
        return "cp1252"


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(
    p: Path,
    encoding: str | None,
    delimiter: str | None,
    report: Callable[[float], None],
    limit: int,
    wanted: list[str] | None = None,
    categorical: Collection[str] = (),
    rows: int | None = None,
    row_hash: bool = False,
) -> pl.DataFrame:
    _scan_lines(p, report, limit, rows)
    with _open_binary(p) as fh:
        sample = fh.read(_SAMPLE)
    enc = (encoding or _detect_encoding(sample)).lower().replace("_", "-")
    try:
        text_sample = sample.decode(enc, errors="replace")
    except LookupError:
        raise UserInputError(
            f"unknown text encoding {encoding!r}", source=p.name, hint="Use utf-8, latin-1 or cp1252."
        ) from None
    if not enc.startswith(("utf-16", "utf16", "utf-32", "utf32")):
        _refuse_binary(p, sample, "CSV")
    sep = delimiter or _sniff_delimiter(text_sample)
    _check_header(p, text_sample, sep)
    if enc in ("utf-8", "utf8"):
        return _read_csv_utf8(p, p, sep, wanted, categorical, rows, row_hash)
    # Polars reads UTF-8 only. A sample is re-encoded in memory; a whole file is re-encoded chunk
    # by chunk into a temporary file, so a large Latin-1 export never sits in memory several times.
    if rows is not None:
        with _open_binary(p) as fh:
            sample_text = _head_bytes(fh, rows).decode(enc, errors="replace")
        return _read_csv_utf8(p, io.BytesIO(sample_text.encode("utf-8")), sep, wanted, categorical, rows, row_hash)
    fd, tmp_name = tempfile.mkstemp(prefix="journeymap-utf8-", suffix=".csv")
    try:
        decoder = codecs.getincrementaldecoder(enc)(errors="replace")
        with os.fdopen(fd, "wb") as out, _open_binary(p) as fh:
            while chunk := fh.read(_CHUNK):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
        return _read_csv_utf8(p, Path(tmp_name), sep, wanted, categorical, rows, row_hash)
    finally:
        os.unlink(tmp_name)


def _read_csv_utf8(
    p: Path,
    source: Path | io.BytesIO,
    sep: str,
    wanted: list[str] | None,
    categorical: Collection[str],
    rows: int | None,
    row_hash: bool = False,
) -> pl.DataFrame:
    sample_rows: dict[str, Any] = {"n_rows": rows} if rows is not None else {}
    if wanted is None:
        frame = _explain_empty(p, source, sep, _csv_frame(p, source, sep, **sample_rows), rows)
        _check_width(p, frame, sep)
        return frame
    header = _csv_frame(p, source, sep, n_rows=0)
    _check_width(p, header, sep)
    _check_present(p, header.columns, wanted)
    if isinstance(source, io.BytesIO):
        source.seek(0)
    # Only the mapped columns are parsed; label columns become dictionary codes as they are read.
    overrides = {c: pl.Categorical() for c in wanted if c in categorical}
    unread = [c for c in header.columns if c not in wanted] if row_hash else []
    if unread:
        # The other columns are parsed only into one hash per row.
        select: list[str | pl.Expr] = [*wanted, *_row_hash(unread)]
        frame = _csv_frame(p, source, sep, schema_overrides=overrides, select=select, **sample_rows)
    else:
        frame = _csv_frame(p, source, sep, columns=wanted, schema_overrides=overrides, **sample_rows)
    return _explain_empty(p, source, sep, frame.select(*wanted, *([ROW_HASH] if unread else [])), rows)


def _explain_empty(p: Path, source: Path | io.BytesIO, sep: str, frame: pl.DataFrame, rows: int | None) -> pl.DataFrame:
    # Polars returns no rows (instead of failing) when the header or, reading the first rows, the
    # first row opens a quote that is never closed: look for the reason before calling the file empty.
    if frame.height == 0:
        problem = _csv_problem(p, source, sep, rows)
        if problem is not None:
            raise problem
    return frame


def _head_bytes(fh: BinaryIO, rows: int) -> bytes:
    """The first ``rows`` + 1 lines of a file (header included), read chunk by chunk."""
    parts: list[bytes] = []
    lines = 0
    while lines <= rows and (chunk := fh.read(_CHUNK)):
        parts.append(chunk)
        lines += chunk.count(b"\n")
    return b"".join(parts)


def _csv_frame(
    p: Path, source: Path | io.BytesIO, sep: str, *, select: list[str | pl.Expr] | None = None, **options: Any
) -> pl.DataFrame:
    common: dict[str, Any] = {
        "separator": sep,
        "infer_schema": False,
        "truncate_ragged_lines": False,
        "encoding": "utf8-lossy",
        "quote_char": '"',
    }
    try:
        if select is not None:
            return pl.scan_csv(source, **common, **options).select(*select).collect()
        return pl.read_csv(source, **common, **options)
    except pl.exceptions.NoDataError:
        raise UserInputError(
            "holds no events (no header line)", source=p.name, hint="Export the events again."
        ) from None
    except Exception as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _csv_problem(p, source, sep, options.get("n_rows")) or UserInputError(
            f"could not be read as CSV with delimiter {sep!r} ({message})",
            source=p.name,
            hint="Check that every row has the same number of fields, or pass the delimiter explicitly.",
        ) from None


def _check_header(p: Path, text_sample: str, sep: str) -> None:
    """Refuse two columns of one name: Polars would rename the second and a mapping would never see it."""
    try:
        header = next(csv.reader(io.StringIO(text_sample, newline=""), delimiter=sep, quotechar='"'), [])
    except csv.Error:
        return  # the full read names the problem
    first: dict[str, int] = {}
    for position, name in enumerate(header, 1):
        if name in first:
            named = f"named {name!r}" if name.strip() else "without a name"
            raise UserInputError(
                f"columns {first[name]} and {position} are both {named}",
                source=p.name,
                location="line 1 (header)",
                hint="Give every column its own name in the file, then read it again.",
            )
        first[name] = position


class _RecordLines:
    """The lines a ``csv.reader`` consumes, kept until the record they make is checked."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line

    def record(self) -> str:
        text = "".join(self.taken)
        self.taken.clear()
        return text


def _csv_problem(p: Path, source: Path | io.BytesIO, sep: str, rows: int | None) -> UserInputError | None:
    """The first row Polars cannot read, found again with Python's ``csv`` (only after Polars refused the file).

    Named: a row with more fields than the header, a quote that is never closed, text after a
    closing quote, a quote inside an unquoted field, a NUL byte. ``None`` when none is found.
    """
    binary: BinaryIO = io.BytesIO(source.getvalue()) if isinstance(source, io.BytesIO) else _open_binary(source)
    stray_quote = re.compile(f'(?<=[^{re.escape(sep)}\r\n"])"(?=[^{re.escape(sep)}\r\n"])')
    with io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="") as text:
        lines = _RecordLines(iter(text))
        reader = csv.reader(lines, delimiter=sep, quotechar='"', strict=True)
        row, start = 0, 1  # row 0 is the header; ``start`` is the line the current record starts on

        def at(line: int) -> str:
            return f"line {line} (header)" if row == 0 else f"line {line} (row {row})"

        try:
            header = next(reader, None)
            if header is None:
                return None
            lines.record()
            width = len(header)
            start = reader.line_num + 1
            row = 1
            for record in reader:
                raw = lines.record()
                if len(record) > width:
                    return UserInputError(
                        f"has {len(record)} fields; the header has {width}",
                        source=p.name,
                        location=at(start),
                        hint=f"Quote the fields that hold the delimiter {sep!r}, or remove the extra fields.",
                    )
                if any("\x00" in field for field in record):
                    return UserInputError(
                        "holds binary data (a NUL byte)",
                        source=p.name,
                        location=at(start),
                        hint="Export the file again; it is damaged or not CSV text.",
                    )
                stray = stray_quote.search(raw) if '"' in raw else None
                if stray is not None:
                    field = raw[raw.rfind(sep, 0, stray.start()) + 1 :].split(sep, 1)[0].strip()
                    return UserInputError(
                        f"has a double quote inside a field that does not start with one ({field[:40]!r})",
                        source=p.name,
                        location=at(start),
                        hint='Quote that field and double the quote inside it ("5"" screen"), or remove the quote.',
                    )
                start = reader.line_num + 1
                row += 1
                if rows is not None and row > rows + 1:
                    return None
        except csv.Error as exc:
            reason = str(exc)
            if reason.startswith(("unexpected end of data", "field larger than field limit")):
                return UserInputError(
                    "a quoted field starts on this row and its closing quote is missing",
                    source=p.name,
                    location=at(start),
                    hint='Close the quote, or double a quote that is part of the text ("").',
                )
            if "expected after" in reason:
                return UserInputError(
                    f"has text after the closing quote of a field ({reason})",
                    source=p.name,
                    location=at(reader.line_num),
                    hint='Quote the whole field and double the quotes inside it (""), or remove the quote.',
                )
            return UserInputError(
                f"cannot be read as CSV ({reason})",
                source=p.name,
                location=at(start),
                hint="Fix that row, or export the file again.",
            )
    return None


def _check_width(p: Path, frame: pl.DataFrame, sep: str) -> None:
    if frame.width <= 1:
        header = frame.columns[0] if frame.columns else ""
        raise UserInputError(
            f"only one column was found with delimiter {sep!r} (header: {header[:80]!r})",
            source=p.name,
            location="line 1",
            hint="The delimiter is probably different: pass it explicitly (for example ';' or a tab).",
        )


# --- XES -------------------------------------------------------------------------------------------------

_ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})


def _read_xes(p: Path, report: Callable[[float], None], limit: int) -> pl.DataFrame:
    # A bare expat parser with handlers: no element tree is built at all, which is ~10x faster
    # than ElementTree's pull parser and keeps memory to the recorded values.
    state = _XesState()
    parser = expat.ParserCreate()
    parser.buffer_text = False
    parser.StartElementHandler = state.start
    parser.EndElementHandler = state.end
    guard = _LineGuard(p, limit)
    try:
        for chunk in _chunks(p, report):
            for start in range(0, len(chunk), limit):
                piece = chunk[start : start + limit]
                guard.feed(piece)
                parser.Parse(piece, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UserInputError(
            f"is not valid XES/XML ({expat.ErrorString(exc.code)})",
            source=p.name,
            location=f"line {exc.lineno}, column {exc.offset}",
            hint="Export the log again; the file may be truncated or not XES.",
        ) from None
    if not state.rows:
        raise UserInputError("holds no XES events (no <event> inside a <trace>)", source=p.name, hint="Check the file.")
    # Attribute keys are few, so building columns per key is cheap; values stay strings, then typed.
    event_keys = sorted({k for row in state.rows for k in row})
    trace_keys = sorted({k for t in state.traces for k in t})
    columns: list[pl.Series] = []
    trace_index = pl.Series("t", state.trace_of_row, dtype=pl.UInt32)
    for key in trace_keys:
        per_trace = pl.Series(key, [t.get(key) for t in state.traces], dtype=pl.String)
        columns.append(per_trace.gather(trace_index))
    for key in event_keys:
        if key in trace_keys:
            continue
        columns.append(pl.Series(key, [row.get(key) for row in state.rows], dtype=pl.String))
    frame = pl.DataFrame(columns)
    casts: list[pl.Expr] = []
    for key, kind in state.types.items():
        if key not in frame.columns:
            continue
        if kind == "int":
            casts.append(pl.col(key).cast(pl.Int64, strict=False))
        elif kind == "float":
            casts.append(pl.col(key).cast(pl.Float64, strict=False))
        elif kind == "boolean":
            casts.append(pl.col(key).str.to_lowercase().eq("true").alias(key))
        elif kind == "date":
            casts.append(_parse_xes_date(key))
    return frame.with_columns(casts) if casts else frame


class _XesState:
    """Expat callbacks recording trace and event attributes (nested attributes are ignored)."""

    def __init__(self) -> None:
        self.depth = 0
        self.rows: list[dict[str, str]] = []
        self.trace_of_row: list[int] = []
        self.traces: list[dict[str, str]] = []
        self.types: dict[str, str] = {}
        self.trace: dict[str, str] | None = None
        self.row: dict[str, str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        tag = name.rpartition(":")[2]
        if tag in _ATTRIBUTE_TAGS:
            key = attrs.get("key")
            if key is None:
                return
            if self.depth == 4 and self.row is not None:
                self.row[key] = attrs.get("value", "")
                if key not in self.types:
                    self.types[key] = tag
            elif self.depth == 3 and self.trace is not None:
                self.trace["case:" + key] = attrs.get("value", "")
                if "case:" + key not in self.types:
                    self.types["case:" + key] = tag
        elif self.depth == 3 and tag == "event" and self.trace is not None:
            self.row = {}
        elif self.depth == 2 and tag == "trace":
            self.trace = {}

    def end(self, name: str) -> None:
        if self.depth == 3 and self.row is not None:
            self.rows.append(self.row)
            self.trace_of_row.append(len(self.traces))
            self.row = None
        elif self.depth == 2 and self.trace is not None:
            self.traces.append(self.trace)
            self.trace = None
        self.depth -= 1


def _parse_xes_date(key: str) -> pl.Expr:
    col = pl.col(key).str.replace(r"Z$", "+00:00")
    with_zone = col.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC")
    naive = col.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC")
    return pl.coalesce(with_zone, naive).alias(key)


class XesClassifier(NamedTuple):
    """An event classifier declared in an XES header: the attribute keys that together name an activity."""

    name: str
    keys: tuple[str, ...]


class _HeaderDone(Exception):
    """Raised by the header parser at the first trace: the rest of the file is not needed."""


def xes_classifiers(path: str | Path) -> tuple[XesClassifier, ...]:
    """The ``<classifier>`` declarations of an XES file's header, in file order.

    Only the header is parsed (up to the first ``<trace>``), so this costs the same for a
    2 GB log as for a small one. A file that is not XES, or is damaged, declares none.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.xes"
    >>> header = "<log><classifier name='Activity' keys='concept:name lifecycle:transition'/>"
    >>> _ = p.write_text(header + "<classifier name='Odd' keys=\\"'my key' org:group\\"/><trace/></log>")
    >>> [tuple(c) for c in xes_classifiers(p)]
    [('Activity', ('concept:name', 'lifecycle:transition')), ('Odd', ('my key', 'org:group'))]
    """
    found: list[XesClassifier] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "trace":
            raise _HeaderDone
        if tag == "classifier" and attrs.get("keys"):
            # Keys are separated by white space; a key holding a space is quoted with single quotes.
            keys = tuple(q or plain for q, plain in re.findall(r"'([^']*)'|(\S+)", attrs["keys"]))
            found.append(XesClassifier(attrs.get("name", ""), keys))

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    try:
        with _open_binary(Path(path)) as fh:
            while chunk := fh.read(_SAMPLE):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _HeaderDone:
        pass
    except (OSError, EOFError, expat.ExpatError, gzip.BadGzipFile, zlib.error):
        pass  # reading the events reports a damaged file; the header only adds a classifier
    return tuple(found)
