"""Ingest: raw export + column mapping -> validated, identity-resolved, encoded :class:`EventLog`.

Ingest once, recompute often: :func:`ingest` does the expensive, string-heavy work once
(parsing times, mapping labels, resolving identities, encoding strings as integer codes,
sorting), and :func:`save_log` keeps the result as the dataset's cached Parquet form. A
bad row never stops the run: it is excluded and counted in the :class:`ValidationReport`.
Unmapped labels are never dropped: they stay in the log under their raw label and are
listed in the report.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from journeymap.errors import UserInputError
from journeymap.events.identity import IdentityReport, resolve_identities
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.mapping import ColumnMapping
from journeymap.model import JourneyMap

__all__ = ["TIMESTAMP_FORMATS", "ValidationReport", "ingest", "load_log", "parse_timestamps", "save_log"]

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
_DUPLICATE = "exact duplicate event"


@dataclass(frozen=True)
class ValidationReport:
    """What ingest read, kept and left out, and why.

    ``excluded`` holds ``(reason, count, first row numbers)``; row numbers count data rows
    from 1. ``unmapped_touchpoints`` and ``unknown_channels`` are ``(label, count)`` pairs
    for labels kept under their raw name.
    """

    source: str
    rows_read: int
    rows_kept: int
    excluded: tuple[tuple[str, int, tuple[int, ...]], ...] = ()
    unmapped_touchpoints: tuple[tuple[str, int], ...] = ()
    unknown_channels: tuple[tuple[str, int], ...] = ()
    duplicates: int = 0
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
    text = column.cast(pl.String).str.strip_chars().str.replace(r"Z$", "+00:00")
    text = pl.select(pl.when(text.str.len_chars() == 0).then(None).otherwise(text)).to_series()
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
    return pl.when(text.str.len_chars() == 0).then(None).otherwise(text)


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
    for col in mapping.columns():
        if col not in raw.columns:
            raise UserInputError(
                "is not in the file",
                source=source,
                location=f"column '{col}'",
                hint=f"Fix the column mapping; the file has: {', '.join(raw.columns[:30])}.",
            )


def _counts(frame: pl.DataFrame, col: str, keep: pl.Expr) -> tuple[tuple[str, int], ...]:
    counted = frame.filter(keep).group_by(col).len().sort(["len", col], descending=[True, False])
    return tuple((str(label), int(n)) for label, n in counted.iter_rows())


def ingest(
    raw: pl.DataFrame,
    mapping: ColumnMapping,
    journey_map: JourneyMap | None = None,
    *,
    source: str,
    now: datetime | None = None,
) -> tuple[EventLog, ValidationReport, IdentityReport]:
    """Validate, map, resolve identities and encode a raw export.

    Parameters
    ----------
    raw:
        Raw columns, as returned by :func:`journeymap.events.read.read_events`.
    mapping:
        Which raw column means what.
    journey_map:
        When given, labels are checked against its touchpoint and channel ids; owners come
        from the map when the mapping names no owner column; touchpoints marked
        ``requires_identification`` count as identify events.
    source:
        File name used in messages and stored in the log.
    now:
        Reference time for future dates (default: the current time).

    Returns
    -------
    tuple[EventLog, ValidationReport, IdentityReport]

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
    now = now or datetime.now(UTC)
    frame = raw.select(mapping.columns()).with_row_index("__row", offset=1)
    rows = frame.get_column("__row")
    ts = parse_timestamps(
        frame.get_column(mapping.timestamp),
        fmt=mapping.timestamp_format,
        timezone=mapping.timezone,
        source=source,
        rows=rows,
    )
    channel_expr = _label(pl.col(mapping.channel)) if mapping.channel else pl.lit(mapping.channel_constant or "default")
    if mapping.channel_map:
        channel_expr = channel_expr.replace(mapping.channel_map)
    event_expr = _label(pl.col(mapping.touchpoint)) if mapping.touchpoint else pl.lit(None, dtype=pl.String)
    frame = frame.with_columns(
        ts.alias("__ts"),
        channel_expr.alias("__channel"),
        event_expr.alias("__event"),
        *(_label(pl.col(c)).alias(f"__id{i}") for i, c in enumerate(mapping.customer_ids)),
        *([_label(pl.col(mapping.session)).alias("__session")] if mapping.session else []),
    )
    label = _template_expr(mapping) if mapping.touchpoint_template else pl.col("__event")
    frame = frame.with_columns(label.alias("__label"))
    mapped: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(mapping.touchpoint_rules):
        mapped = pl.when(pl.col("__label").str.contains(rule.pattern)).then(pl.lit(rule.touchpoint)).otherwise(mapped)
    if mapping.value_map:
        by_value = pl.col("__label").replace_strict(mapping.value_map, default=None, return_dtype=pl.String)
        mapped = pl.coalesce(by_value, mapped)
    frame = frame.with_columns(mapped.alias("__mapped"))
    frame = frame.with_columns(pl.coalesce("__mapped", "__label").alias("__touchpoint"))

    # Exclusions: each row gets its first reason.
    id_cols = [f"__id{i}" for i in range(len(mapping.customer_ids))] + (["__session"] if mapping.session else [])
    raw_ts = pl.col(mapping.timestamp)
    raw_ts_present = raw_ts.is_not_null() & (raw_ts.cast(pl.String).str.strip_chars() != "").fill_null(False)
    reasons: list[tuple[str, pl.Expr]] = [
        ("empty timestamp", ~raw_ts_present),
        ("unparsable timestamp", pl.col("__ts").is_null()),
        ("empty customer identifier", pl.all_horizontal(pl.col(c).is_null() for c in id_cols)),
        ("empty touchpoint", pl.col("__touchpoint").is_null()),
        ("timestamp in the future", pl.col("__ts") > pl.lit(now + _FUTURE_SLACK)),
    ]
    reason_expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, cond in reversed(reasons):
        reason_expr = pl.when(cond).then(pl.lit(reason)).otherwise(reason_expr)
    frame = frame.with_columns(reason_expr.alias("__reason"))
    # Exact duplicates: identical in every mapped column, among rows not excluded otherwise.
    valid = pl.col("__reason").is_null()
    frame = frame.with_columns((valid & ~pl.struct(mapping.columns()).is_first_distinct().over(valid)).alias("__dup"))
    dup_mask = frame.get_column("__dup")
    duplicates = int(dup_mask.sum())
    if not mapping.keep_duplicates:
        frame = frame.with_columns(
            pl.when(pl.col("__dup")).then(pl.lit(_DUPLICATE)).otherwise(pl.col("__reason")).alias("__reason")
        )
    excluded: list[tuple[str, int, tuple[int, ...]]] = []
    reason_col = frame.get_column("__reason")
    for reason in [r for r, _ in reasons] + [_DUPLICATE]:
        mask = reason_col == reason
        count = int(mask.sum())
        if count:
            excluded.append((reason, count, _examples(mask, frame.get_column("__row"))))
    notes: list[str] = []
    if duplicates and mapping.keep_duplicates:
        rows_dup = ", ".join(map(str, _examples(dup_mask, frame.get_column("__row"))))
        notes.append(f"{duplicates:,} exact duplicate event(s) kept as the mapping asks (rows {rows_dup})")
    kept = frame.filter(pl.col("__reason").is_null())
    if kept.height == 0:
        detail = "; ".join(f"{reason}: {count:,} (rows {', '.join(map(str, ex))})" for reason, count, ex in excluded)
        raise UserInputError(
            f"has 0 valid rows out of {frame.height:,} ({detail or 'no rows'})",
            source=source,
            hint="Check the column mapping (customer, timestamp and touchpoint columns) and the file.",
        )

    map_tp_ids = {t.id for t in journey_map.touchpoints} if journey_map else set()
    map_ch_ids = {c.id for c in journey_map.channels} if journey_map else set()
    if journey_map is not None:
        unmapped = _counts(kept, "__touchpoint", ~pl.col("__touchpoint").is_in(sorted(map_tp_ids)))
        unknown_channels = _counts(kept, "__channel", ~pl.col("__channel").is_in(sorted(map_ch_ids)))
    else:
        has_rules = bool(mapping.value_map or mapping.touchpoint_rules)
        unmapped = _counts(kept, "__touchpoint", pl.col("__mapped").is_null()) if has_rules else ()
        unknown_channels = ()

    n_ids = len(mapping.customer_ids)
    customer, identity = resolve_identities(kept.select(id_cols), id_cols[:n_ids], link_columns=id_cols[n_ids:])
    identity = replace(identity, identifiers=tuple(mapping.customer_ids))

    touchpoints = tuple(sorted(kept.get_column("__touchpoint").unique().to_list()))
    channels = tuple(sorted(kept.get_column("__channel").unique().to_list()))
    owner_expr: pl.Expr
    if mapping.owner:
        owner_expr = _label(pl.col(mapping.owner))
    elif journey_map is not None:
        owners_by_tp = {t.id: journey_map.owner_of(t) for t in journey_map.touchpoints}
        owner_expr = pl.col("__touchpoint").replace_strict(owners_by_tp, default=None, return_dtype=pl.String)
    else:
        owner_expr = pl.lit(None, dtype=pl.String)
    kept = kept.with_columns(owner_expr.alias("__owner"))
    owners = tuple(sorted(kept.get_column("__owner").drop_nulls().unique().to_list()))

    identify_ids = {t.id for t in journey_map.touchpoints if t.requires_identification} if journey_map else set()
    identified = pl.col("__label").is_in(list(mapping.identify_values)) | pl.col("__touchpoint").is_in(
        sorted(identify_ids)
    )
    if mapping.identify_values and mapping.touchpoint:
        identified = identified | pl.col("__event").is_in(list(mapping.identify_values))
    converted: pl.Expr = pl.lit(False)
    if mapping.outcome:
        converted = _label(pl.col(mapping.outcome)).is_in(list(mapping.conversion_values)).fill_null(False)
    events = kept.with_columns(customer).select(
        pl.col("customer"),
        pl.col("__ts").alias("ts"),
        pl.col("__row").cast(pl.UInt32).alias("seq"),
        pl.col("__touchpoint").cast(pl.Enum(touchpoints)).to_physical().cast(pl.UInt32).alias("touchpoint"),
        pl.col("__channel").cast(pl.Enum(channels)).to_physical().cast(pl.UInt32).alias("channel"),
        pl.col("__owner").cast(pl.Enum(owners)).to_physical().cast(pl.UInt32).alias("owner"),
        converted.alias("converted"),
        identified.fill_null(False).alias("identified"),
        (pl.col(mapping.value).cast(pl.Float64, strict=False) if mapping.value else pl.lit(None, pl.Float64)).alias(
            "value"
        ),
        (
            pl.col(mapping.sentiment).cast(pl.Float64, strict=False) if mapping.sentiment else pl.lit(None, pl.Float64)
        ).alias("sentiment"),
        *(_label(pl.col(a)).cast(pl.Categorical).alias(f"attr_{a}") for a in mapping.attributes),
    )
    events = events.sort(["customer", "ts", "seq"])
    same = pl.col("customer") == pl.col("customer").shift(1)
    out_of_order = int(events.select((same & (pl.col("seq") < pl.col("seq").shift(1))).sum()).item())
    future = next((count for reason, count, _ in excluded if reason == "timestamp in the future"), 0)
    log = EventLog(events=events, touchpoints=touchpoints, channels=channels, owners=owners, source=source)
    report = ValidationReport(
        source=source,
        rows_read=frame.height,
        rows_kept=events.height,
        excluded=tuple(excluded),
        unmapped_touchpoints=unmapped,
        unknown_channels=unknown_channels,
        duplicates=duplicates,
        out_of_order=out_of_order,
        future_dates=future,
        notes=(*notes, identity.summary()),
    )
    return log, report, identity


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
            "version": 1,
            "touchpoints": list(log.touchpoints),
            "channels": list(log.channels),
            "owners": list(log.owners),
            "source": log.source,
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
    info = json.loads(meta[_META_KEY])
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
    )
