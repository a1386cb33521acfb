"""Ingest: raw export + column mapping -> validated, identity-resolved, encoded :class:`EventLog`.

Ingest once, recompute often: :func:`ingest` does the expensive, string-heavy work once
(parsing times, mapping labels, resolving identities, encoding strings as integer codes,
sorting), and :func:`save_log` keeps the result as the dataset's cached Parquet form. A
bad row never stops the run: it is excluded and counted in the :class:`ValidationReport`.
Unmapped labels are never dropped: they stay in the log under their raw label and are
listed in the report.

Duplicates are told by the whole row: :func:`read_mapped` reads only the mapped columns, plus a
64-bit hash of every column of the file computed while reading (:data:`~journeymap.events.read.ROW_HASH`).
A row is an *exact duplicate* when it equals an earlier row in every mapped column and has the
same row hash; a row equal in every mapped column only (two lines of one basket, two complaints
filed the same day) is kept by default and counted (``ColumnMapping.duplicates``).

The time column's resolution is detected: when every kept time is a whole day (in the mapping's
time zone) or a whole minute, the log's :attr:`~journeymap.events.log.EventLog.time_resolution`
says so and the report notes it. Events of one customer with equal times keep file order.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from journeymap.errors import UserInputError
from journeymap.events.identity import IdentityReport, resolve_keys
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.mapping import ColumnMapping
from journeymap.events.read import ROW_HASH, read_events
from journeymap.json_input import load_json
from journeymap.model import JourneyMap

__all__ = [
    "DUPLICATE_CHOICES",
    "LOG_FORMAT",
    "PHASES",
    "TIMESTAMP_FORMATS",
    "ValidationReport",
    "ingest",
    "load_log",
    "log_format",
    "parse_timestamps",
    "save_log",
    "time_resolution",
]

TIMESTAMP_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
)
"""Formats tried, in order, when the mapping names no timestamp format."""

_EXAMPLES = 5
_FUTURE_SLACK = timedelta(days=1)
_META_KEY = "journeymap.event_log"

LOG_FORMAT = 3
"""Version of the cached log written by :func:`save_log`; a cache of an older one is ingested again.
2: the case column, and logs sorted case by case (``case_journeys``). 3: the time resolution
(``time_resolution``), the outcome goal (``conversion_goal``), and exact duplicates told by every
column of the file."""
_DUPLICATE = "exact duplicate event"
_MAPPED_DUPLICATE = "repeats another row in every mapped column (differs in others)"

DUPLICATE_CHOICES: dict[str, str] = {
    "drop-exact": "Leave out exact duplicates only (every column of the file equal)",
    "drop-mapped": "Also leave out rows equal in every mapped column",
    "keep": "Keep every row",
}
"""The values of ``ColumnMapping.duplicates``, each with what it does."""

_RESOLUTIONS = {"day": ("dates only", "day"), "minute": ("times to the minute only", "minute")}


@dataclass(frozen=True)
class ValidationReport:
    """What ingest read, kept and left out, and why.

    ``excluded`` holds ``(reason, count, first row numbers)``; row numbers count data rows
    from 1. ``unmapped_touchpoints`` and ``unknown_channels`` are ``(label, count)`` pairs
    for labels kept under their raw name. ``duplicates`` counts the exact duplicates (every
    column of the file equal to an earlier row's), ``mapped_duplicates`` the rows equal to an
    earlier row in every mapped column but not in all (kept unless the mapping drops them);
    ``time_resolution`` is the log's (see :class:`~journeymap.events.log.EventLog`).
    """

    source: str
    rows_read: int
    rows_kept: int
    excluded: tuple[tuple[str, int, tuple[int, ...]], ...] = ()
    unmapped_touchpoints: tuple[tuple[str, int], ...] = ()
    unknown_channels: tuple[tuple[str, int], ...] = ()
    duplicates: int = 0
    mapped_duplicates: int = 0
    time_resolution: str | None = None
    out_of_order: int = 0
    future_dates: int = 0
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """A short plain-text account, one finding per line.

        Examples
        --------
        >>> excluded = (("unparsable timestamp", 1, (4,)),)
        >>> print(ValidationReport("e.csv", rows_read=10, rows_kept=9, excluded=excluded).summary())
        e.csv: 10 rows read, 9 kept.
        - excluded 1 row(s): unparsable timestamp (rows 4)
        """
        lines = [f"{self.source}: {self.rows_read:,} rows read, {self.rows_kept:,} kept."]
        for reason, count, rows in self.excluded:
            lines.append(f"- excluded {count:,} row(s): {reason} (rows {', '.join(map(str, rows))})")
        if self.unmapped_touchpoints:
            total = sum(c for _, c in self.unmapped_touchpoints)
            top = ", ".join(f"{label!r} ({count:,})" for label, count in self.unmapped_touchpoints[:5])
            lines.append(
                f"- {len(self.unmapped_touchpoints):,} unmapped touchpoint label(s) on {total:,} events kept "
                f"under their raw label: {top}"
            )
        if self.unknown_channels:
            top = ", ".join(f"{label!r} ({count:,})" for label, count in self.unknown_channels[:5])
            lines.append(f"- channels not on the map: {top}")
        if self.out_of_order:
            lines.append(f"- {self.out_of_order:,} event(s) were out of time order in the file (sorted by time)")
        lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines)


def _examples(mask: pl.Series, rows: pl.Series) -> tuple[int, ...]:
    return tuple(int(r) for r in rows.filter(mask).head(_EXAMPLES).to_list())


def _as_utc(series: pl.Series, timezone: str) -> pl.Series:
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            series = series.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    raise TypeError(dtype)


def _parse_with(text: pl.Series, fmt: str, timezone: str) -> pl.Series:
    if "%z" in fmt:
        return text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
    naive = text.str.to_datetime(fmt, strict=False, time_unit="us")
    return _as_utc(naive, timezone)


def parse_timestamps(
    column: pl.Series,
    *,
    fmt: str | None = None,
    timezone: str = "UTC",
    source: str = "events",
    rows: pl.Series | None = None,
) -> pl.Series:
    """Event times as ``Datetime("us", "UTC")``; values that cannot be read become null.

    Raises :class:`UserInputError` when no value can be read, or when the column mixes
    date formats (say ``2024-01-05`` and ``05/01/2024``): guessing would silently reorder
    events.

    Examples
    --------
    >>> parse_timestamps(pl.Series("ts", ["2024-01-05 10:00:00", "oops"])).to_list()
    [datetime.datetime(2024, 1, 5, 10, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), None]
    >>> parse_timestamps(pl.Series("ts", ["2024-01-05", "2024-01-06", "07/01/2024"]), source="e.csv")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: e.csv, column 'ts', row 3: mixes date formats: ...
    """
    name = column.name
    where = f"column '{name}'"
    row_numbers = rows if rows is not None else pl.Series(range(1, column.len() + 1))
    dtype = column.dtype
    if isinstance(dtype, pl.Datetime):
        return _as_utc(column, timezone).alias(name)
    if dtype == pl.Date:
        return _as_utc(column.cast(pl.Datetime("us")), timezone).alias(name)
    if dtype.is_numeric():
        # Epoch numbers: milliseconds when too large to be seconds.
        values = column.cast(pl.Float64)
        unit_ms = bool((values.drop_nulls().abs() > 1e11).any())
        micros = (values * (1_000 if unit_ms else 1_000_000)).cast(pl.Int64)
        return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias(name)
    text = column.cast(pl.String)
    # Clean-up builds new strings for every row: skip it when no value needs it (the usual export).
    if bool(text.str.contains(r"^\s|\s$|Z$|^$").any()):
        text = text.str.strip_chars().str.replace(r"Z$", "+00:00")
        text = pl.select(pl.when(text.str.len_chars() == 0).then(None).otherwise(text)).to_series()
    given = text.drop_nulls()
    if not fmt and given.len() and bool(given.str.contains(r"^\d{9,13}$").all()):
        # Epoch seconds or milliseconds written as text (a CSV cell), 1990 to 2100: read as the numbers they are.
        low, high = int(given.cast(pl.Int64).min()), int(given.cast(pl.Int64).max())  # type: ignore[arg-type]
        if 631_152_000 <= low <= high <= 4_102_444_800 or 631_152_000_000 <= low <= high <= 4_102_444_800_000:
            return parse_timestamps(text.cast(pl.Int64), timezone=timezone, source=source, rows=rows)
    present = text.is_not_null()
    if fmt:
        try:
            parsed = _parse_with(text, fmt, timezone)
        except pl.exceptions.PolarsError as exc:
            raise UserInputError(
                f"timestamp format {fmt!r} cannot be used ({str(exc).splitlines()[0]})",
                source=source,
                location=where,
                hint="Use strftime codes such as %Y-%m-%d %H:%M:%S.",
            ) from None
        if int((present & parsed.is_not_null()).sum()) == 0 and int(present.sum()) > 0:
            first = text.drop_nulls().head(1).to_list()[0]
            raise UserInputError(
                f"no value matches the timestamp format {fmt!r} (first value: {first!r})",
                source=source,
                location=where,
                hint="Fix timestamp_format in the column mapping, or leave it empty to detect the format.",
            )
        return parsed.alias(name)
    sample = text.drop_nulls().head(2000)
    if sample.len() == 0:
        return pl.Series(name, [None] * column.len(), dtype=pl.Datetime("us", "UTC"))
    scores = [
        (int(_parse_with(sample, f, timezone).is_not_null().sum()), -i, f) for i, f in enumerate(TIMESTAMP_FORMATS)
    ]
    best_count, _, best = max(scores)
    if best_count == 0:
        raise UserInputError(
            f"no value is a date Journeymap can read (first value: {sample[0]!r})",
            source=source,
            location=where,
            hint="Set timestamp_format in the column mapping (for example %d-%b-%Y %H:%M), or export ISO 8601 times.",
        )
    parsed = _parse_with(text, best, timezone)
    failed = present & parsed.is_null()
    if int(failed.sum()):
        failing = text.filter(failed)
        failing_rows = row_numbers.filter(failed)
        for other in TIMESTAMP_FORMATS:
            if other == best:
                continue
            hits = _parse_with(failing, other, timezone).is_not_null()
            if bool(hits.any()):
                ok = present & parsed.is_not_null()
                first_ok = int(row_numbers.filter(ok)[0])
                bad_row = int(failing_rows.filter(hits)[0])
                raise UserInputError(
                    f"mixes date formats: row {first_ok} is {text.filter(ok)[0]!r} ({best}) "
                    f"but row {bad_row} is {failing.filter(hits)[0]!r} ({other}); "
                    f"{int(hits.sum()):,} value(s) use the second format",
                    source=source,
                    location=f"{where}, row {bad_row}",
                    hint="Export all times in one format, or set timestamp_format in the column mapping "
                    "(rows that do not match it are then excluded and counted).",
                )
    return parsed.alias(name)


def _label(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_bytes() == 0).then(None).otherwise(text)


def _template_expr(mapping: ColumnMapping) -> pl.Expr:
    assert mapping.touchpoint_template is not None
    parts: list[pl.Expr] = []
    for literal, name in re.findall(r"([^{}]*)(?:{([^{}]+)})?", mapping.touchpoint_template):
        if literal:
            parts.append(pl.lit(literal))
        if not name:
            continue
        if name == "channel":
            parts.append(pl.col("__channel"))
        elif name == "event" and mapping.touchpoint is not None:
            parts.append(pl.col("__event"))
        else:
            parts.append(_label(pl.col(name)))
    return pl.concat_str(parts) if parts else pl.lit(None, dtype=pl.String)


def _check_columns(raw: pl.DataFrame, mapping: ColumnMapping, source: str) -> None:
    names = [c for c in raw.columns if c != ROW_HASH]
    for col in mapping.columns():
        if col not in raw.columns:
            raise UserInputError(
                "is not in the file",
                source=source,
                location=f"column '{col}'",
                hint=f"Fix the column mapping; the file has: {', '.join(names[:30])}.",
            )


def _counts(combos: pl.DataFrame, col: str, keep: pl.Expr) -> tuple[tuple[str, int], ...]:
    """``(label, events)`` over the kept rows whose label passes ``keep``, most frequent first.

    ``combos`` holds one row per distinct combination of label columns, with ``__n`` the number
    of kept rows that carry it.
    """
    counted = (
        combos.filter(keep & (pl.col("__n") > 0))
        .group_by(col)
        .agg(pl.col("__n").sum().alias("len"))
        .sort(["len", col], descending=[True, False])
    )
    return tuple((str(label), int(n)) for label, n in counted.iter_rows())


@dataclass(frozen=True)
class _Dictionary:
    """A dictionary-encoded raw column: a code per row (null for null) and the raw value of each code."""

    codes: pl.Series
    values: pl.Series

    def labels(self) -> pl.Series:
        """The trimmed label of each code (null when empty)."""
        return pl.DataFrame({"v": self.values}).select(_label(pl.col("v"))).to_series()

    def label_codes(self) -> pl.Series:
        """Per row, a code shared by equal trimmed labels; null when the label is empty."""
        labels = self.labels()
        if labels.null_count() == 0 and bool((labels == self.values).all()):
            return self.codes  # nothing to trim: the raw codes are the label codes
        rank = pl.DataFrame({"l": labels}).select(pl.col("l").rank("dense").cast(pl.UInt32)).to_series()
        return rank.gather(self.codes)


def _dictionary(column: pl.Series) -> _Dictionary:
    # Categorical codes are cheap to get (a CSV read for ingest already yields them); they are
    # renumbered 0..k-1 so every later lookup is an array index.
    cat = column if column.dtype == pl.Categorical else column.cast(pl.String).cast(pl.Categorical)
    physical = cat.to_physical()
    distinct = cat.drop_nulls().unique()
    values = distinct.cast(pl.String)
    if distinct.len() == 0:
        return _Dictionary(pl.repeat(None, column.len(), dtype=pl.UInt32, eager=True).alias(column.name), values)
    present = distinct.to_physical().to_numpy()
    remap = np.zeros(int(present.max()) + 1, dtype=np.uint32)
    remap[present] = np.arange(present.size, dtype=np.uint32)
    codes = pl.Series(column.name, remap[physical.fill_null(0).to_numpy()])
    if physical.null_count():
        codes = pl.select(pl.when(physical.is_null()).then(None).otherwise(codes)).to_series().alias(column.name)
    return _Dictionary(codes, values)


_LOOKUP_LIMIT = 1 << 24


def _combinations(dictionaries: list[_Dictionary], names: list[str]) -> tuple[pl.DataFrame, pl.Series]:
    """The distinct combinations of codes (``__combo`` and one column per name) and each row's combination."""
    sizes = [d.values.len() + 1 for d in dictionaries]  # one more code for null
    if float(np.prod([float(s) for s in sizes])) < 2.0**62:
        # Pack the codes of a row into one integer; the distinct integers are few.
        key = np.zeros(dictionaries[0].codes.len(), dtype=np.int64)
        for d, size in zip(dictionaries, sizes, strict=True):
            key *= size
            key += d.codes.fill_null(size - 1).cast(pl.Int64).to_numpy()
        distinct = np.sort(pl.Series(key).unique().to_numpy())
        top = int(distinct[-1]) if distinct.size else 0
        if top < _LOOKUP_LIMIT:
            # Few possible keys: a lookup table is one gather instead of a binary search per row.
            lookup = np.zeros(top + 1, dtype=np.uint32)
            lookup[distinct] = np.arange(distinct.size, dtype=np.uint32)
            combo = pl.Series("__combo", lookup[key])
        else:
            combo = pl.Series("__combo", np.searchsorted(distinct, key).astype(np.uint32))
        del key
        columns: dict[str, np.ndarray] = {}
        rest = distinct.copy()
        for name, size in reversed(list(zip(names, sizes, strict=True))):
            columns[name] = rest % size
            rest //= size
        combos = pl.DataFrame(
            [
                pl.Series(name, columns[name].astype(np.uint32)).set(pl.Series(columns[name] == size - 1), None)
                for name, size in zip(names, sizes, strict=True)
            ]
        ).with_row_index("__combo")
        return combos, combo
    keys = pl.DataFrame([d.codes.alias(name) for d, name in zip(dictionaries, names, strict=True)])
    combos = keys.unique().with_row_index("__combo")
    joined = keys.join(combos, on=names, how="left", nulls_equal=True, maintain_order="left")
    return combos, joined.get_column("__combo").rechunk()


def _number(column: pl.Series) -> pl.Series:
    """A raw number column as Float64 (null where the text is no number).

    Text read as dictionary codes is parsed once per distinct value.

    Examples
    --------
    >>> _number(pl.Series(["1.5", None, "x", "1.5"], dtype=pl.Categorical)).to_list()
    [1.5, None, None, 1.5]
    """
    if column.dtype != pl.Categorical:
        return column.cast(pl.Float64, strict=False)
    dictionary = _dictionary(column)
    return dictionary.values.cast(pl.Float64, strict=False).gather(dictionary.codes).alias(column.name)


def _present_text(column: pl.Series) -> pl.Series:
    """True where a raw value holds something other than whitespace."""
    text = column if column.dtype == pl.String else column.cast(pl.String)
    return text.str.contains(r"\S").fill_null(False)


def _no_phase(_name: str) -> None:
    return None


PHASES: tuple[str, ...] = ("timestamps", "labels", "validate", "identity", "encode")
"""Phases :func:`ingest` reports to its ``phase`` callback, in order."""


def ingest(
    raw: pl.DataFrame,
    mapping: ColumnMapping,
    journey_map: JourneyMap | None = None,
    *,
    source: str,
    now: datetime | None = None,
    phase: Callable[[str], None] | None = None,
) -> tuple[EventLog, ValidationReport, IdentityReport]:
    """Validate, map, resolve identities and encode a raw export.

    Parameters
    ----------
    raw:
        Raw columns, as returned by :func:`journeymap.events.read.read_events` (only the
        mapped columns are needed; text columns may be ``Categorical``).
    mapping:
        Which raw column means what.
    journey_map:
        When given, labels are checked against its touchpoint and channel ids; touchpoints
        marked ``requires_identification`` count as identify events. Teams come only from the
        mapped owner column, never from the map.
    source:
        File name used in messages and stored in the log.
    now:
        Reference time for future dates (default: the current time).
    phase:
        Called with the name of each phase (see :data:`PHASES`) as it starts, to show progress.

    Returns
    -------
    tuple[EventLog, ValidationReport, IdentityReport]

    Notes
    -----
    Label columns are dictionary-encoded first; trimming, label mapping, templates, rules and
    owners are computed once per distinct combination of label values, and only integer codes
    travel through the millions of rows. Identifiers need no dictionary: each value becomes one
    64-bit key (its label code, or a hash of its trimmed text when it was read as text), and the
    customers resolved from the keys are numbered and sorted by one sort of packed integers. The
    times are parsed on one core while the labels and identifiers are encoded on the other.

    A mapped case column becomes the integer ``case`` column, numbered in order of each case's
    first event, and links identifiers (the events of a case belong to one customer, as those of
    a session do). With journeys by case, events without a case are excluded and the log is sorted
    by customer, case, time and row, so each customer's events stay together and each case's
    events are together inside them (:attr:`EventLog.case_journeys`); otherwise by customer,
    time and row.

    Examples
    --------
    >>> raw = pl.DataFrame({"id": ["a", "a", "b", ""], "ts": ["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-03"],
    ...                     "ch": ["web", "app", "web", "web"], "ev": ["buy", "view", "view", "view"]})
    >>> m = ColumnMapping(customer_ids=["id"], timestamp="ts", channel="ch", touchpoint="ev")
    >>> log, report, ids = ingest(raw, m, source="e.csv")
    >>> log.events.select("customer", "seq", "touchpoint").rows(), log.touchpoints
    ([(0, 2, 1), (0, 1, 0), (1, 3, 1)], ('buy', 'view'))
    >>> report.excluded
    (('empty customer identifier', 1, (4,)),)
    """
    _check_columns(raw, mapping, source)
    report_phase = phase or _no_phase
    now = now or datetime.now(UTC)
    n = raw.height
    rows = pl.int_range(1, n + 1, dtype=pl.UInt32, eager=True).alias("__row")

    id_names = [*mapping.customer_ids, *(c for c in (mapping.session, mapping.case) if c is not None)]
    report_phase("timestamps")
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Times are parsed on one core while labels and identifiers are encoded on the other.
        parsing = pool.submit(_parse_times, raw.get_column(mapping.timestamp), mapping, source, rows)
        try:
            report_phase("labels")
            dictionaries, combo_cols, combo, table = _labels(raw, mapping, journey_map)
            keys = _identifier_keys(raw, id_names, dictionaries)
        finally:
            ts, ts_present = parsing.result()  # an error in the times is reported first, as they come first

    report_phase("validate")
    id_keys = [keys[c].alias(f"__id{i}") for i, c in enumerate(mapping.customer_ids)]
    # A session, and a case, link identifiers: all events of one belong to one customer.
    for name, col in (("__session", mapping.session), ("__case_link", mapping.case)):
        if col is not None and col not in mapping.customer_ids and col != mapping.session:
            id_keys.append(keys[col].alias(name))
    id_cols = [s.name for s in id_keys]
    case_codes = [dictionaries[mapping.case].label_codes().alias("__case")] if mapping.case is not None else []
    by_case = mapping.journeys == "case" and mapping.case is not None
    work = pl.DataFrame([rows, ts.alias("__ts"), combo.alias("__combo"), *id_keys, *case_codes])
    no_touchpoint = table.get_column("__touchpoint").is_null().gather(combo)
    reasons: list[tuple[str, pl.Series | pl.Expr]] = [
        ("empty timestamp", ~ts_present),
        ("unparsable timestamp", pl.col("__ts").is_null()),
        ("empty customer identifier", pl.all_horizontal(pl.col(c).is_null() for c in id_cols)),
        *([("empty case identifier", pl.col("__case").is_null())] if by_case else []),
        ("empty touchpoint", no_touchpoint),
        ("timestamp in the future", pl.col("__ts") > pl.lit(now + _FUTURE_SLACK)),
    ]
    reason_expr: pl.Expr = pl.lit(None, dtype=pl.UInt8)
    for code, (_, cond) in reversed(list(enumerate(reasons, start=1))):
        condition = pl.lit(cond) if isinstance(cond, pl.Series) else cond
        reason_expr = pl.when(condition).then(pl.lit(code, dtype=pl.UInt8)).otherwise(reason_expr)
    reason_col = work.select(reason_expr.alias("__reason")).to_series()
    del ts_present, no_touchpoint
    valid = reason_col.is_null()
    # Equal rows have equal codes, keys and times: one hash over them finds the candidates.
    covered = {mapping.timestamp, *combo_cols, *id_names, *mapping.attributes}
    cheap = [ts, combo, *keys.values(), *(dictionaries[a].codes for a in mapping.attributes)]
    cheap += [raw.get_column(c) for c in mapping.columns() if c not in covered]
    exact_mask, mapped_mask = _duplicates(raw, mapping.columns(), cheap, valid)
    del cheap
    duplicates, mapped_duplicates = int(exact_mask.sum()), int(mapped_mask.sum())
    drops = (
        (exact_mask, duplicates, mapping.duplicates != "keep"),
        (mapped_mask, mapped_duplicates, mapping.duplicates == "drop-mapped"),
    )
    for code, (mask, count, drop) in enumerate(drops, start=len(reasons) + 1):
        if drop and count:
            reason_col = pl.select(pl.when(mask).then(pl.lit(code, dtype=pl.UInt8)).otherwise(reason_col)).to_series()
    excluded: list[tuple[str, int, tuple[int, ...]]] = []
    for code, reason in enumerate([r for r, _ in reasons] + [_DUPLICATE, _MAPPED_DUPLICATE], start=1):
        mask = reason_col == code
        count = int(mask.sum())
        if count:
            excluded.append((reason, count, _examples(mask, rows)))
    notes = _duplicate_notes(raw, mapping, rows, valid, exact_mask, mapped_mask)
    keep = reason_col.is_null()
    del reason_col, exact_mask, mapped_mask
    # Each event's first identifier column (for its customer's raw identifier, see _customer_ids).
    n_ids = len(mapping.customer_ids)
    first_id = work.select(
        pl.coalesce(
            pl.when(pl.col(c).is_not_null()).then(pl.lit(i, dtype=pl.UInt8)) for i, c in enumerate(id_cols[:n_ids])
        )
    ).to_series()
    kept = work.with_columns(first_id.alias("__first_id")).filter(keep)
    del work, keys, id_keys, first_id, ts, combo  # what is left is in ``kept``
    if kept.height == 0:
        detail = "; ".join(f"{reason}: {count:,} (rows {', '.join(map(str, ex))})" for reason, count, ex in excluded)
        raise UserInputError(
            f"has 0 valid rows out of {n:,} ({detail or 'no rows'})",
            source=source,
            hint="Check the column mapping (customer, timestamp and touchpoint columns) and the file.",
        )
    resolution = time_resolution(kept.get_column("__ts"), mapping.timezone)
    kept_combo = kept.get_column("__combo")
    per_combo = kept_combo.value_counts(name="__n")
    table = table.join(per_combo, on="__combo", how="left", maintain_order="left").with_columns(
        pl.col("__n").fill_null(0)
    )
    map_tp_ids = {t.id for t in journey_map.touchpoints} if journey_map else set()
    map_ch_ids = {c.id for c in journey_map.channels} if journey_map else set()
    if journey_map is not None:
        unmapped = _counts(table, "__touchpoint", ~pl.col("__touchpoint").is_in(sorted(map_tp_ids)))
        unknown_channels = _counts(table, "__channel", ~pl.col("__channel").is_in(sorted(map_ch_ids)))
    else:
        has_rules = bool(mapping.value_map or mapping.touchpoint_rules)
        unmapped = _counts(table, "__touchpoint", pl.col("__mapped").is_null()) if has_rules else ()
        unknown_channels = ()

    no_channel = int(table.filter(pl.col("__no_channel")).get_column("__n").sum())
    if no_channel:
        notes.append(f"{no_channel:,} event(s) with an empty {mapping.channel!r} cell counted in channel 'unknown'")
    if resolution is not None:
        held, unit = _RESOLUTIONS[resolution]
        notes.append(
            f"{mapping.timestamp} holds {held}: events of one {unit} keep file order; signs of lost context are "
            f"not counted on moves between events of the same {unit}"
        )

    report_phase("identity")
    found = resolve_keys(
        [kept.get_column(c) for c in id_cols], identifiers=mapping.customer_ids, links=len(id_cols) - n_ids
    )
    identity = found.report
    kept = kept.drop(id_cols)

    report_phase("encode")
    used = table.filter(pl.col("__n") > 0)
    touchpoints = tuple(sorted(used.get_column("__touchpoint").unique().to_list()))
    channels = tuple(sorted(used.get_column("__channel").unique().to_list()))
    owners = tuple(sorted(used.get_column("__owner").drop_nulls().unique().to_list()))
    codes = table.select(
        _code_of("__touchpoint", touchpoints),
        _code_of("__channel", channels),
        _code_of("__owner", owners),
        "__converted",
        "__identified",
    )
    position, customer = _customer_order(found.first_row, kept.get_column("__ts"))
    del found
    if by_case:
        # Customers as numbered above, then each customer's cases together: sorted below.
        in_kept_order = np.empty_like(customer)
        in_kept_order[position] = customer
        position, customer = np.arange(kept.height), in_kept_order
    take = pl.Series(position)
    sorted_kept = kept.select("__ts", "__row", "__combo", "__first_id").gather(take)
    # Raw rows of the events in their final order: every raw column is gathered once.
    source_rows = (keep.arg_true().gather(take) if kept.height < n else take).to_numpy()
    pick = pl.Series(source_rows)

    with ThreadPoolExecutor(max_workers=1) as pool:
        # Each customer's raw identifier is looked up on one core while the other columns are gathered.
        identifiers = [raw.get_column(c) for c in mapping.customer_ids]
        naming = pool.submit(_customer_ids, customer, sorted_kept.get_column("__first_id"), source_rows, identifiers)
        event_combo = sorted_kept.get_column("__combo")
        columns = [
            pl.Series("customer", customer, dtype=pl.UInt32),
            sorted_kept.get_column("__ts").alias("ts"),
            sorted_kept.get_column("__row").alias("seq"),
            *(codes.get_column(c).gather(event_combo).alias(name) for c, name in _CODE_COLUMNS),
            *(
                _number(raw.get_column(col).gather(pick)).alias(name)
                if col is not None
                else pl.repeat(None, pick.len(), dtype=pl.Float64, eager=True).alias(name)
                for col, name in ((mapping.value, "value"), (mapping.sentiment, "sentiment"))
            ),
            *(
                dictionaries[a]
                .labels()
                .cast(pl.Categorical)
                .gather(dictionaries[a].codes.gather(pick))
                .alias(f"attr_{a}")
                for a in mapping.attributes
            ),
            *([_chronological(kept.get_column("__case"), kept.get_column("__ts")).gather(take)] if case_codes else []),
        ]
        events = pl.DataFrame([*columns, naming.result()])
    del kept, sorted_kept, columns, take, pick, source_rows
    if by_case:
        # Each customer's events stay together, each case's events together inside them (cases in
        # order of their first event).
        events = events.sort(["customer", "case", "ts", "seq"])
    same = pl.col("customer") == pl.col("customer").shift(1)
    if by_case:
        same = same & (pl.col("case") == pl.col("case").shift(1))
    out_of_order = int(events.select((same & (pl.col("seq") < pl.col("seq").shift(1))).sum()).item())
    future = next((count for reason, count, _ in excluded if reason == "timestamp in the future"), 0)
    log = EventLog(
        events=events,
        touchpoints=touchpoints,
        channels=channels,
        owners=owners,
        source=source,
        case_journeys=by_case,
        time_resolution=resolution,
        conversion_goal=bool(mapping.outcome and mapping.conversion_values),
    )
    report = ValidationReport(
        source=source,
        rows_read=n,
        rows_kept=events.height,
        excluded=tuple(excluded),
        unmapped_touchpoints=unmapped,
        unknown_channels=unknown_channels,
        duplicates=duplicates,
        mapped_duplicates=mapped_duplicates,
        time_resolution=resolution,
        out_of_order=out_of_order,
        future_dates=future,
        notes=(*notes, identity.summary()),
    )
    return log, report, identity


def _parse_times(
    raw_ts: pl.Series, mapping: ColumnMapping, source: str, rows: pl.Series
) -> tuple[pl.Series, pl.Series]:
    """The parsed times and where the raw time cell holds something (an empty cell is not an unparsable one)."""
    ts = parse_timestamps(raw_ts, fmt=mapping.timestamp_format, timezone=mapping.timezone, source=source, rows=rows)
    return ts, _present_text(raw_ts)


def _labels(
    raw: pl.DataFrame, mapping: ColumnMapping, journey_map: JourneyMap | None
) -> tuple[dict[str, _Dictionary], list[str], pl.Series, pl.DataFrame]:
    """Dictionaries of the attribute and case columns, the label columns of combinations, each row's
    combination and the label table (channel, touchpoint, owner, conversion, identification) of every
    combination."""
    n = raw.height
    combo_cols = list(
        dict.fromkeys(
            c
            for c in (mapping.channel, mapping.touchpoint, *mapping.template_columns(), mapping.owner, mapping.outcome)
            if c is not None
        )
    )
    # Dictionary codes where labels are looked up or kept; identifiers need only one key per value.
    coded = [*combo_cols, *mapping.attributes, *([mapping.case] if mapping.case is not None else [])]
    dictionaries = {c: _dictionary(raw.get_column(c)) for c in dict.fromkeys(coded)}
    if combo_cols:
        combos, combo = _combinations([dictionaries[c] for c in combo_cols], combo_cols)
        decoded = combos.select(
            "__combo",
            *(
                dictionaries[c].values.gather(combos.get_column(c)).alias(c)
                if dictionaries[c].values.len()
                else pl.repeat(None, combos.height, dtype=pl.String, eager=True).alias(c)
                for c in combo_cols
            ),
        )
    else:
        decoded = pl.DataFrame({"__combo": [0]}, schema={"__combo": pl.UInt32})
        combo = pl.repeat(0, n, dtype=pl.UInt32, eager=True)
    later = {c: d for c, d in dictionaries.items() if c in mapping.attributes or c == mapping.case}
    return later, combo_cols, combo, _label_table(decoded, mapping, journey_map)


_CODE_COLUMNS = (
    ("__touchpoint", "touchpoint"),
    ("__channel", "channel"),
    ("__owner", "owner"),
    ("__converted", "converted"),
    ("__identified", "identified"),
)


def _customer_ids(
    customer: np.ndarray, first_id: pl.Series, source_rows: np.ndarray, identifiers: list[pl.Series]
) -> pl.Series:
    """Per event, one raw identifier of its customer (``customer_id``, Categorical).

    The events are in their final order (by customer and time): ``customer`` is each one's customer,
    ``first_id`` the first identifier column holding a value on it (null when only a session or a
    case links it) and ``source_rows`` its row in the raw ``identifiers``. A customer's identifier
    is the first identifier of its earliest event that has one (a customer with none gets null);
    only one value per customer is turned into text.
    """
    if customer.size == 0:
        return pl.Series("customer_id", [], dtype=pl.Categorical)
    has = first_id.is_not_null().to_numpy()
    owner = customer[has]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if owner.size else np.zeros(0, dtype=np.int64)
    column = first_id.drop_nulls().to_numpy()[starts]
    rows = source_rows[has][starts]
    labels = pl.Series("customer_id", [None] * int(customer.max() + 1), dtype=pl.String)
    for i, raw in enumerate(identifiers):
        mine = np.flatnonzero(column == i)
        values = raw.gather(pl.Series(rows[mine])).cast(pl.String)
        trimmed = pl.DataFrame({"v": values}).select(_label(pl.col("v"))).to_series()
        labels = labels.scatter(owner[starts[mine]], trimmed)
    return labels.cast(pl.Categorical).gather(pl.Series(customer)).alias("customer_id")


def _customer_order(first_row: pl.Series, ts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The events sorted by customer, time and row, and the customer code of each, from one sort of 64-bit keys.

    ``first_row`` names each event's customer by the position of its first event (see
    :func:`~journeymap.events.identity.resolve_keys`), so customers numbered in order of first
    appearance are its distinct values in increasing order. Each key packs that position with
    the event's rank by (time, position); when the events are in time order already (an export
    sorted by time) the rank is the position itself. Returns the positions in sorted order and
    each sorted event's customer code (0, 1, ...).

    Examples
    --------
    >>> from datetime import datetime
    >>> ts = pl.Series([datetime(2024, 1, d) for d in (3, 1, 2, 1)]).dt.replace_time_zone("UTC")
    >>> position, customer = _customer_order(pl.Series([0, 1, 0, 1], dtype=pl.UInt32), ts)
    >>> position.tolist(), customer.tolist()
    ([2, 0, 1, 3], [0, 0, 1, 1])
    """
    n = first_row.len()
    micros = ts.dt.epoch("us").to_numpy()
    by_time: np.ndarray | None = None
    rank = np.arange(n, dtype=np.uint64)
    if n > 1 and not bool(np.all(micros[1:] >= micros[:-1])):
        by_time = np.argsort(micros, kind="stable")
        rank[by_time] = np.arange(n, dtype=np.uint64)
    packed = (first_row.to_numpy().astype(np.uint64) << np.uint64(32)) | rank
    del rank
    packed = pl.Series(packed).sort().to_numpy()  # Polars sorts 64-bit integers on every core
    position = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    if by_time is not None:
        position = by_time[position]
    owner = packed >> np.uint64(32)
    starts = np.flatnonzero(owner[1:] != owner[:-1]) + 1
    sizes = np.diff(np.r_[0, starts, n])
    return position, np.repeat(np.arange(sizes.size, dtype=np.uint32), sizes)


def _identifier_keys(raw: pl.DataFrame, names: list[str], dictionaries: dict[str, _Dictionary]) -> dict[str, pl.Series]:
    """One ``UInt64`` key per row of each identifier column: equal for equal trimmed labels, null when empty.

    A column read as categories keys by its label code; a text column by a 64-bit hash of the
    trimmed label, all columns hashed in one parallel pass (no dictionary of the values is built).
    Each column has its own key space, so the same text in two columns is two identifiers. Two
    different values of one column sharing a hash (for two million values, a chance of about one
    in ten million) would be taken as one.
    """
    distinct = list(dict.fromkeys(names))
    text = {c for c in distinct if raw.schema[c] != pl.Categorical}
    hashed = raw.select(
        pl.when(trimmed.str.len_bytes() > 0).then(trimmed.hash(seed=i + 1)).alias(c)
        for i, c in enumerate(distinct)
        if c in text
        for trimmed in (pl.col(c).cast(pl.String).str.strip_chars(),)
    )
    keys: dict[str, pl.Series] = {}
    for i, c in enumerate(distinct):
        if c in text:
            keys[c] = hashed.get_column(c)
        else:
            dictionary = dictionaries.get(c) or _dictionary(raw.get_column(c))
            keys[c] = dictionary.label_codes().cast(pl.UInt64) + pl.Series([i << 32], dtype=pl.UInt64)
    return keys


def _chronological(case: pl.Series, ts: pl.Series) -> pl.Series:
    """Case codes renumbered 0..k-1 in order of each case's first event (ties by code); nulls stay null.

    Examples
    --------
    >>> from datetime import datetime
    >>> ts = pl.Series([datetime(2024, 1, d) for d in (5, 1, 3, 2)])
    >>> _chronological(pl.Series([7, 2, 7, None], dtype=pl.UInt32), ts).to_list()
    [1, 0, 1, None]
    """
    first = (
        pl.DataFrame({"c": case, "t": ts})
        .drop_nulls("c")
        .group_by("c")
        .agg(pl.col("t").min())
        .sort(["t", "c"])
        .get_column("c")
        .to_numpy()
    )
    if first.size == 0:
        return case.alias("case")
    remap = np.zeros(int(first.max()) + 1, dtype=np.uint32)
    remap[first] = np.arange(first.size, dtype=np.uint32)
    codes = pl.Series("case", remap[case.fill_null(0).to_numpy()])
    if case.null_count():
        codes = pl.select(pl.when(case.is_null()).then(None).otherwise(codes)).to_series().alias("case")
    return codes


def _code_of(col: str, labels: tuple[str, ...]) -> pl.Expr:
    """Position of each label in the sorted dictionary (null when absent)."""
    lookup = {label: i for i, label in enumerate(labels)}
    return pl.col(col).replace_strict(lookup, default=None, return_dtype=pl.UInt32)


def _label_table(decoded: pl.DataFrame, mapping: ColumnMapping, journey_map: JourneyMap | None) -> pl.DataFrame:
    """Channel, touchpoint, owner, conversion and identification of each distinct combination of raw labels."""
    fallback = "unknown" if mapping.channel else (mapping.channel_constant or "default")
    raw_channel = _label(pl.col(mapping.channel)) if mapping.channel else pl.lit(None, dtype=pl.String)
    channel_expr = raw_channel
    if mapping.channel_map:
        channel_expr = channel_expr.replace(mapping.channel_map)
    channel_expr = channel_expr.fill_null(pl.lit(fallback))  # an empty channel cell: the fallback channel
    event_expr = _label(pl.col(mapping.touchpoint)) if mapping.touchpoint else pl.lit(None, dtype=pl.String)
    table = decoded.with_columns(
        channel_expr.alias("__channel"),
        (raw_channel.is_null() & pl.lit(bool(mapping.channel))).alias("__no_channel"),
        event_expr.alias("__event"),
    )
    label = _template_expr(mapping) if mapping.touchpoint_template else pl.col("__event")
    table = table.with_columns(label.alias("__label"))
    mapped: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(mapping.touchpoint_rules):
        mapped = pl.when(pl.col("__label").str.contains(rule.pattern)).then(pl.lit(rule.touchpoint)).otherwise(mapped)
    if mapping.value_map:
        by_value = pl.col("__label").replace_strict(mapping.value_map, default=None, return_dtype=pl.String)
        mapped = pl.coalesce(by_value, mapped)
    table = table.with_columns(mapped.alias("__mapped"))
    table = table.with_columns(pl.coalesce("__mapped", "__label").alias("__touchpoint"))
    # A team is what the event recorded: never the team the map assigns to its touchpoint.
    owner_expr = _label(pl.col(mapping.owner)) if mapping.owner else pl.lit(None, dtype=pl.String)
    identify_ids = {t.id for t in journey_map.touchpoints if t.requires_identification} if journey_map else set()
    identified = pl.col("__label").is_in(list(mapping.identify_values)) | pl.col("__touchpoint").is_in(
        sorted(identify_ids)
    )
    if mapping.identify_values and mapping.touchpoint:
        identified = identified | pl.col("__event").is_in(list(mapping.identify_values))
    converted: pl.Expr = pl.lit(False)
    if mapping.outcome:
        converted = _label(pl.col(mapping.outcome)).is_in(list(mapping.conversion_values)).fill_null(False)
    return table.with_columns(
        owner_expr.alias("__owner"),
        converted.alias("__converted"),
        identified.fill_null(False).alias("__identified"),
    )


def _duplicates(
    raw: pl.DataFrame, columns: list[str], cheap: list[pl.Series], valid: pl.Series
) -> tuple[pl.Series, pl.Series]:
    """Valid rows equal to an earlier valid row in every column of the file (exact duplicates), and in
    every mapped raw column but not in all (the two masks never overlap).

    Candidates are the valid rows whose hash over ``cheap`` repeats: codes, keys and parsed times
    that are equal whenever the raw ``columns`` are. Only candidate rows are compared on the raw
    ``columns``, then on the rest of the row: the :data:`~journeymap.events.read.ROW_HASH` read
    with the file, else the other columns of ``raw`` (``raw`` holding only mapped columns, those are
    the whole row). Two rows equal in every mapped column whose other columns differ but hash
    equally (a 64-bit collision) would count as exact.
    """
    # Rows whose hash is not repeated are certainly not duplicates; a collision only adds a candidate.
    combined = np.zeros(valid.len(), dtype=np.uint64)
    for part in cheap:
        if part.dtype == pl.String or part.dtype == pl.Categorical:
            part = part.hash(seed=7)
        combined ^= part.to_physical().fill_null(0).cast(pl.UInt64, wrap_numerical=True).to_numpy()
        combined *= np.uint64(0x100000001B3)  # a multiplication by an odd number keeps different values apart
    ordered = pl.Series(combined).sort().to_numpy()  # a sort of 64-bit integers: cheaper than a hash table
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    candidates = valid & pl.Series(combined).is_in(pl.Series(repeated).implode())
    del combined
    found = candidates.arg_true()
    none = pl.repeat(False, valid.len(), dtype=pl.Boolean, eager=True).alias("__dup")
    if found.len() == 0:
        return none, none.clone()
    mapped = pl.DataFrame([valid.alias("__valid"), *(raw.get_column(c) for c in columns)])[found]
    first_mapped = mapped.select(pl.struct(pl.all()).is_first_distinct()).to_series()
    rest = [c for c in raw.columns if c not in set(columns)]
    whole = pl.concat([mapped, raw.select(rest)[found]], how="horizontal") if rest else mapped
    first_whole = whole.select(pl.struct(pl.all()).is_first_distinct()).to_series()
    exact = none.clone().scatter(found, ~first_whole)
    return exact, none.clone().scatter(found, ~first_mapped & first_whole)


def _share_text(share: float) -> str:
    return "less than 1%" if 0 < share < 0.005 else f"{share:.0%}"


def _duplicate_notes(
    raw: pl.DataFrame,
    mapping: ColumnMapping,
    rows: pl.Series,
    valid: pl.Series,
    exact: pl.Series,
    mapped: pl.Series,
) -> list[str]:
    """The report's notes on duplicates kept (or, for the value column, left out)."""
    notes: list[str] = []
    n_exact, n_mapped = int(exact.sum()), int(mapped.sum())
    if n_exact and mapping.duplicates == "keep":
        listed = ", ".join(map(str, _examples(exact, rows)))
        notes.append(f"{n_exact:,} exact duplicate event(s) kept as the mapping asks (rows {listed})")
    if not n_mapped:
        return notes
    value = ""
    if mapping.value is not None:
        amounts = _number(raw.get_column(mapping.value)).fill_nan(None)
        total = amounts.filter(valid).abs().sum()
        if total:
            share = float(amounts.filter(mapped).abs().sum()) / float(total)
            value = f"{_share_text(share)} of the total of {mapping.value!r}"
    if mapping.duplicates == "drop-mapped":
        if value:
            notes.append(f"the {n_mapped:,} row(s) left out as repeats in every mapped column hold {value}")
        return notes
    listed = ", ".join(map(str, _examples(mapped, rows)))
    rows_repeat, differ = ("rows repeat", "differ") if n_mapped != 1 else ("row repeats", "differs")
    notes.append(
        f"{n_mapped:,} {rows_repeat} another row in every mapped column but {differ} in others: kept "
        f"(rows {listed}{'; ' + value if value else ''})"
    )
    return notes


def time_resolution(ts: pl.Series, timezone: str = "UTC") -> str | None:
    """``"day"`` when every time is a whole day in ``timezone``, ``"minute"`` when a whole minute, else ``None``.

    Nulls are ignored; no time at all gives ``None``.

    Examples
    --------
    >>> from datetime import datetime
    >>> days = pl.Series([datetime(2024, 1, 5), datetime(2024, 1, 6)]).dt.replace_time_zone("UTC")
    >>> time_resolution(days), time_resolution(days.dt.offset_by("10m")), time_resolution(days.dt.offset_by("1s"))
    ('day', 'minute', None)
    >>> time_resolution(days.dt.offset_by("-1h"), "Europe/Amsterdam")  # local midnight is 23:00 UTC
    'day'
    """
    present = ts.drop_nulls()
    if present.len() == 0:
        return None
    micros = present.dt.epoch("us")
    if not bool((micros % 60_000_000 == 0).all()):
        return None
    local = present.dt.convert_time_zone(timezone) if timezone != "UTC" else present
    whole_days = (local.dt.hour() == 0) & (local.dt.minute() == 0)
    return "day" if bool(whole_days.all()) else "minute"


def read_mapped(
    path: str | Path,
    mapping: ColumnMapping,
    *,
    fmt: str | None = None,
    name: str | None = None,
    progress: Callable[[float], None] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    identifiers_as_text: bool = False,
) -> pl.DataFrame:
    """Read what ``mapping`` uses from a raw export, at the least memory :func:`ingest` can start from.

    Only the mapped columns are read, and every label column (identifiers, channel, event,
    outcome, owner, attributes) is dictionary-encoded while it is read; times and numbers stay
    text for :func:`parse_timestamps` and the numeric casts. A mapped column missing from the
    file is reported by name. The other columns are parsed only into
    :data:`~journeymap.events.read.ROW_HASH`, a hash of the whole row that tells exact duplicates
    from rows equal in the mapped columns only.

    With ``identifiers_as_text`` the customer identifier and session columns stay text: building
    a dictionary of hundreds of thousands of identifier values while reading is most of the read's
    cost, and :func:`ingest` only needs a key per value, which it hashes from the text in one
    parallel pass (at 10M events: several seconds less). The value and sentiment columns are then
    read as dictionary codes: a text column costs 16 bytes a row even where it is empty, and these
    few distinct numbers in mostly empty cells pay for part of the identifiers' text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("id,ts,ev,note\\na,2024-01-01,view,x\\n")
    >>> read_mapped(p, ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev")).schema
    Schema([('id', Categorical), ('ts', String), ('ev', Categorical), ('__row_hash', UInt64)])
    """
    text = {mapping.timestamp, mapping.value, mapping.sentiment}
    if identifiers_as_text:
        text = {mapping.timestamp, *mapping.customer_ids, mapping.session} - {mapping.case}
    labels = [c for c in mapping.columns() if c not in text]
    return read_events(
        path,
        fmt=fmt,
        name=name,
        progress=progress,
        encoding=encoding,
        delimiter=delimiter,
        columns=mapping.columns(),
        categorical=labels,
        row_hash=True,
    )


def save_log(log: EventLog, path: str | Path) -> None:
    """Write the log as Parquet, dictionaries in the file's metadata; atomic (no half-written file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from journeymap.events.log import EventLog
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.parquet"
    >>> empty = pl.DataFrame(schema=EVENT_SCHEMA)
    >>> save_log(EventLog(empty, ("a",), ("web",), (), source="x.csv"), p)
    >>> load_log(p).touchpoints
    ('a',)
    """
    target = Path(path)
    meta = json.dumps(
        {
            "version": LOG_FORMAT,
            "touchpoints": list(log.touchpoints),
            "channels": list(log.channels),
            "owners": list(log.owners),
            "source": log.source,
            "case_journeys": log.case_journeys,
            "time_resolution": log.time_resolution,
            "conversion_goal": log.conversion_goal,
        }
    )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        log.events.write_parquet(tmp, metadata={_META_KEY: meta}, statistics=False, compression="lz4")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def load_log(path: str | Path) -> EventLog:
    """Read a log written by :func:`save_log`."""
    p = Path(path)
    try:
        meta = pl.read_parquet_metadata(p)
        # One contiguous chunk per column: every later step converts columns to numpy without copying.
        events = pl.read_parquet(p).rechunk()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise UserInputError(
            f"is not a readable event log ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            source=p.name,
            hint="Ingest the raw export again.",
        ) from None
    if _META_KEY not in meta:
        raise UserInputError(
            "is a Parquet file but not a Journeymap event log (no dictionaries in its metadata)",
            source=p.name,
            hint="Ingest the raw export with 'journeymap overlay' or the upload page.",
        )
    info = load_json(meta[_META_KEY], source=p.name, hint="Ingest the raw export again.")
    lists = ("touchpoints", "channels", "owners")
    if not isinstance(info, dict) or not all(isinstance(info.get(k), list) for k in lists):
        raise UserInputError(
            "has damaged dictionaries in its metadata", source=p.name, hint="Ingest the raw export again."
        )
    missing = [c for c in EVENT_SCHEMA if c not in events.columns]
    if missing:
        raise UserInputError(
            f"lacks the column(s) {', '.join(missing)}", source=p.name, hint="Ingest the raw export again."
        )
    return EventLog(
        events=events,
        touchpoints=tuple(info["touchpoints"]),
        channels=tuple(info["channels"]),
        owners=tuple(info["owners"]),
        source=str(info.get("source", p.name)),
        case_journeys=bool(info.get("case_journeys", False)) and "case" in events.columns,
        time_resolution=info.get("time_resolution") if info.get("time_resolution") in _RESOLUTIONS else None,
        conversion_goal=bool(info.get("conversion_goal", False)),
    )


def log_format(path: str | Path) -> int | None:
    """The :data:`LOG_FORMAT` a cached log was written with (``None`` when it is no readable Journeymap log).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from journeymap.events.log import EventLog
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.parquet"
    >>> save_log(EventLog(pl.DataFrame(schema=EVENT_SCHEMA), (), (), ()), p)
    >>> log_format(p) == LOG_FORMAT, log_format(p.with_name("missing.parquet"))
    (True, None)
    """
    try:
        meta = pl.read_parquet_metadata(Path(path))
        return int(load_json(meta[_META_KEY], source=Path(path).name, hint="").get("version", 1))
    except (OSError, KeyError, ValueError, AttributeError, pl.exceptions.PolarsError):  # UserInputError is a ValueError
        return None
