"""Column mapping: which raw columns hold the customer, the time, the channel and the touchpoint.

A :class:`ColumnMapping` is saved next to a dataset as JSON so that the next export of
the same system ingests without questions. :func:`guess_mapping` proposes one from
column names and values (XES names such as ``case:concept:name`` and
``time:timestamp`` included), and, given a journey map, maps raw labels that already
match touchpoint or channel ids or names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dt_time
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from journeymap.errors import UserInputError
from journeymap.json_input import load_json
from journeymap.model import JourneyMap, validation_error_to_user_error

__all__ = [
    "FIELD_WORDS",
    "ColumnMapping",
    "Confidence",
    "FieldGuess",
    "MappingGuess",
    "RejectedColumn",
    "TouchpointRule",
    "count_template_labels",
    "customer_is_case",
    "guess_columns",
    "guess_mapping",
    "is_case_column",
    "mapping_from_json",
    "mapping_hash",
    "mapping_to_json",
    "name_words",
    "normalize_label",
]

Column = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class TouchpointRule(BaseModel):
    """Raw labels matching ``pattern`` (a regular expression, searched) become ``touchpoint``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str
    touchpoint: Column

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a valid regular expression ({exc})") from None
        return value


class ColumnMapping(BaseModel):
    """How the raw columns of an export become the canonical event log.

    Parameters
    ----------
    customer_ids:
        Columns holding customer identifiers (customer id, email, device id, loyalty id,
        phone...). Events sharing any identifier value are one customer.
    case, journeys:
        What a journey is. ``case`` names a column holding the case the event belongs to (a
        case, ticket, order, session or application id); all events of a case belong to one
        customer. ``journeys="case"`` (the default when a case column is named) makes each case
        one journey, never cut by a gap nor at a goal. ``journeys="gap"`` (the only choice
        without a case column) cuts each customer's events by the inactivity gap and at goal
        events; a named case is then kept to report how many cases the gap splits.
    timestamp, timestamp_format, timezone:
        Event time column, its ``strftime`` format (guessed when ``None``) and the time zone
        of naive times.
    channel, channel_constant:
        Column holding the channel, or one channel for the whole file.
    touchpoint, touchpoint_template, touchpoint_rules:
        The event name column; an optional template over raw columns (``"{channel}:{event}"``,
        where ``channel`` and ``event`` name the mapped channel and touchpoint columns); regex
        rules applied to the resulting label, first match wins.
    value_map, channel_map:
        Raw label -> touchpoint id, raw channel -> channel id. Unmapped labels stay under
        their raw label and are reported.
    outcome, conversion_values:
        A column whose listed values mark a conversion.
    value, sentiment, owner, session:
        Optional columns: monetary value, CSAT/sentiment score, owner team or resource, and a
        session id (events of one session belong to one customer).
    identify_values:
        Raw event labels meaning the customer identified (``"login"``, ``"verify"``).
    attributes:
        Columns kept for filters (segment, region...), stored as ``attr_<name>``.
    duplicates:
        Which repeated rows are left out. ``"drop-exact"`` (the default) leaves out a row only
        when every column of the file equals an earlier row's (a re-sent batch); rows equal in
        the mapped columns but not in others (two lines of one basket, two complaints of one
        day) are kept and counted in the report. ``"drop-mapped"`` also leaves those out;
        ``"keep"`` keeps every row. A mapping written before this choice existed carries
        ``keep_duplicates``: ``true`` reads as ``"keep"``; ``false`` (its old default, which left
        out rows equal in the mapped columns only) reads as the new default ``"drop-exact"``.

    Examples
    --------
    >>> m = ColumnMapping(customer_ids=["email"], timestamp="ts", channel="channel", touchpoint="event")
    >>> mapping_from_json(mapping_to_json(m)) == m
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_ids: list[Column] = Field(min_length=1)
    timestamp: Column
    case: Column | None = None
    journeys: Literal["case", "gap"] = "gap"
    timestamp_format: str | None = None
    timezone: str = "UTC"
    channel: Column | None = None
    channel_constant: str | None = None
    touchpoint: Column | None = None
    touchpoint_template: str | None = None
    touchpoint_rules: list[TouchpointRule] = Field(default_factory=list)
    value_map: dict[str, str] = Field(default_factory=dict)
    channel_map: dict[str, str] = Field(default_factory=dict)
    outcome: Column | None = None
    conversion_values: list[str] = Field(default_factory=list)
    value: Column | None = None
    sentiment: Column | None = None
    owner: Column | None = None
    session: Column | None = None
    identify_values: list[str] = Field(default_factory=list)
    attributes: list[Column] = Field(default_factory=list)
    duplicates: Literal["drop-exact", "drop-mapped", "keep"] = "drop-exact"

    @model_validator(mode="before")
    @classmethod
    def _keep_duplicates(cls, data: Any) -> Any:
        # The boolean this choice replaced (see ``duplicates``).
        if isinstance(data, dict) and "keep_duplicates" in data:
            data = dict(data)
            keep = data.pop("keep_duplicates")
            if keep is True and data.get("duplicates") is None:
                data["duplicates"] = "keep"
        return data

    @model_validator(mode="before")
    @classmethod
    def _journeys_default(cls, data: Any) -> Any:
        # A mapping that names a case but no journey choice (or one written before the choice
        # existed) takes the cases as journeys.
        if isinstance(data, dict) and data.get("journeys") is None:
            return {**data, "journeys": "case" if data.get("case") else "gap"}
        return data

    @model_validator(mode="after")
    def _check(self) -> ColumnMapping:
        if self.journeys == "case" and self.case is None:
            raise ValueError("journeys: journeys by case need a case column; name it (case) or choose 'gap'")
        if self.touchpoint is None and self.touchpoint_template is None:
            raise ValueError("touchpoint: name the event/touchpoint column or give a touchpoint_template")
        if self.channel is not None and self.channel_constant is not None:
            raise ValueError("channel_constant: give either a channel column or a constant channel, not both")
        return self

    def columns(self) -> list[str]:
        """Every raw column the mapping reads (template placeholders included)."""
        cols: list[str] = [*self.customer_ids, self.timestamp]
        optional = (self.case, self.channel, self.touchpoint, self.outcome, self.value, self.sentiment, self.owner)
        for c in (*optional, self.session):
            if c is not None:
                cols.append(c)
        cols.extend(self.template_columns())
        cols.extend(self.attributes)
        return list(dict.fromkeys(cols))

    def template_columns(self) -> list[str]:
        """Raw columns named by the touchpoint template (aliases ``channel``/``event`` resolved)."""
        if not self.touchpoint_template:
            return []
        out: list[str] = []
        for name in re.findall(r"{([^{}]+)}", self.touchpoint_template):
            if name == "channel" and self.channel is not None:
                out.append(self.channel)
            elif name == "event" and self.touchpoint is not None:
                out.append(self.touchpoint)
            elif name != "channel":
                out.append(name)
        return out


def mapping_to_json(mapping: ColumnMapping) -> str:
    """The mapping as a JSON document.

    Examples
    --------
    >>> print(mapping_to_json(ColumnMapping(customer_ids=["id"], timestamp="ts", touchpoint="ev")).splitlines()[1])
      "customer_ids": [
    """
    return mapping.model_dump_json(indent=2)


def mapping_from_json(text: str | bytes, *, source: str = "mapping JSON") -> ColumnMapping:
    """Read a mapping written by :func:`mapping_to_json`.

    Raises :class:`UserInputError` naming the field for a broken document.

    Examples
    --------
    >>> mapping_from_json('{"customer_ids": [], "timestamp": "ts", "touchpoint": "e"}', source="m.json")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: m.json, field 'customer_ids': List should have at least 1 item ...
    """
    data = load_json(
        text, source=source, hint="Fix the JSON syntax, or write a new mapping with 'journeymap mapping guess'."
    )
    if not isinstance(data, dict):
        raise UserInputError("is not a column mapping (expected a JSON object)", source=source)
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source=source) from None


def mapping_hash(mapping_json: str, *, source: str = "column mapping") -> str:
    """The SHA-256 of a mapping's JSON value: key order and spacing do not change it.

    It names a dataset's ingested cache and, with the file's content hash, makes the dataset
    unique in the store. Raises :class:`UserInputError` (naming ``source``) for broken JSON.

    Examples
    --------
    >>> mapping_hash('{"a": 1, "b": "é"}') == mapping_hash('{ "b": "é",  "a": 1 }')
    True
    >>> mapping_hash('{"a": 1')
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: column mapping, line 1, column 8: is not valid JSON ...
    """
    value = load_json(mapping_json, source=source, hint="Set the column mapping again.")
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalize_label(text: str) -> str:
    """Lower-case letters and digits only: how names and labels are compared.

    Examples
    --------
    >>> normalize_label("Customer_ID"), normalize_label("case:concept:name")
    ('customerid', 'caseconceptname')
    """
    return re.sub(r"[^0-9a-z]", "", text.lower())


# --- guessing a mapping from an export ---------------------------------------------------------------
#
# Names are read as words ("ComplaintTopic_EN" -> complaint, topic, en) and only ever *suggest* a role;
# the values decide: an identifier repeats (a row id does not), a time parses, a touchpoint has far fewer
# values than rows, a team changes inside a case. Every choice and every refusal carries its reason.

Confidence = Literal["high", "medium", "low"]

FIELD_WORDS: dict[str, str] = {
    "customer_ids": "customer",
    "case": "case",
    "timestamp": "time",
    "touchpoint": "touchpoint",
    "channel": "channel",
    "owner": "team",
    "outcome": "outcome",
    "value": "value",
    "sentiment": "sentiment",
    "session": "session",
}
"""The mapping fields a guess explains, with the word the command line and the page use for each."""


@dataclass(frozen=True)
class FieldGuess:
    """The column a guess chose for one mapping field (``None``: none fits), how sure it is and why."""

    field: str
    column: str | None
    confidence: Confidence | None
    reason: str


@dataclass(frozen=True)
class RejectedColumn:
    """A column considered for a mapping field and left out, with the reason."""

    field: str
    column: str
    reason: str


_MISSING: dict[str, tuple[str, str]] = {
    "customer_ids": (
        "no column looks like a customer identifier",
        "Name the customer id column(s) in the mapping (customer_ids).",
    ),
    "timestamp": ("no column looks like an event time", "Name the timestamp column in the mapping (timestamp)."),
    "touchpoint": (
        "no column looks like an event or touchpoint name",
        "Name the event column in the mapping (touchpoint).",
    ),
}


@dataclass(frozen=True)
class MappingGuess:
    """A proposed column mapping with, per field, the column, the confidence and the reason.

    ``values`` holds the proposed :class:`ColumnMapping` fields; a required field the guess
    could not fill is ``None`` (or an empty list), so a form can still show everything else.
    """

    source: str
    columns: tuple[str, ...]
    fields: tuple[FieldGuess, ...]
    rejected: tuple[RejectedColumn, ...]
    values: dict[str, Any]

    def field(self, name: str) -> FieldGuess:
        """The guess for one mapping field (``"customer_ids"``, ``"timestamp"``, ``"owner"``...)."""
        for item in self.fields:
            if item.field == name:
                return item
        return FieldGuess(name, None, None, "not guessed")

    @property
    def missing(self) -> tuple[str, ...]:
        """Required fields the guess could not fill, in form order."""
        out = []
        if not self.values.get("customer_ids"):
            out.append("customer_ids")
        if not self.values.get("timestamp"):
            out.append("timestamp")
        if not self.values.get("touchpoint") and not self.values.get("touchpoint_template"):
            out.append("touchpoint")
        return tuple(out)

    @property
    def mapping(self) -> ColumnMapping | None:
        """The proposed mapping, or ``None`` while a required field is missing."""
        if self.missing:
            return None
        return ColumnMapping.model_validate(self.values)

    def to_mapping(self) -> ColumnMapping:
        """The proposed mapping; :class:`UserInputError` naming the file and the first missing field."""
        for name in self.missing:
            problem, hint = _MISSING[name]
            raise UserInputError(
                problem, source=self.source, location=f"columns {', '.join(self.columns[:20])}", hint=hint
            )
        return ColumnMapping.model_validate(self.values)

    def explain(self) -> list[str]:
        """One line per field (column, confidence, reason), then one per rejected column."""
        lines = [f"{self.source}: columns guessed (confidence, reason)"]
        for item in self.fields:
            column = repr(item.column) if item.column is not None else "-"
            lines.append(f"  {FIELD_WORDS.get(item.field, item.field)}: {column} ({item.confidence or 'none'}) "
                         f"{item.reason}")  # fmt: skip
        for refused in self.rejected:
            lines.append(f"  not {FIELD_WORDS.get(refused.field, refused.field)}: {refused.column!r}: {refused.reason}")
        return lines


_EXTRA_ID_NAMES = (
    "email",
    "emailaddress",
    "deviceid",
    "loyaltyid",
    "loyaltynumber",
    "phone",
    "phonenumber",
    "userid",
    "anonymousid",
    "cookieid",
)
_ID_SUFFIXES = frozenset({"id", "ids", "key", "ref", "reference", "number", "no", "nr", "num", "identifier", "uuid"})
# Ranked: an earlier word names the journey more surely than a later one.
_CASE_WORDS = (
    "case",
    "ticket",
    "incident",
    "claim",
    "application",
    "request",
    "order",
    "booking",
    "reservation",
    "issue",
    "session",
)
_CUSTOMER_WORDS = (
    "customer",
    "client",
    "user",
    "member",
    "account",
    "visitor",
    "person",
    "patient",
    "citizen",
    "subscriber",
    "shopper",
    "buyer",
    "consumer",
    "guest",
)
_TIME_WORDS = frozenset(
    {"time", "timestamp", "date", "datetime", "ts", "at", "when", "moment", "created", "occurred", "logged", "updated"}
)
_STRONG_TIME_WORDS = frozenset({"time", "timestamp", "date", "datetime", "ts"})
_CHANNEL_WORDS = frozenset({"channel", "medium"})
_CHANNEL_NAMES = frozenset({"source", "utmsource", "utmmedium", "via"})
_GROUP_WORDS = frozenset(
    {"group", "team", "queue", "workgroup", "department", "dept", "unit", "division", "desk", "resolver", "squad"}
)
_PERSON_WORDS = frozenset(
    {"resource", "agent", "assignee", "assigned", "owner", "handler", "employee", "staff", "operator", "responsible"}
)
_EVENT_WORDS: dict[str, int] = {
    "touchpoint": 60,
    "activity": 60,
    "event": 60,
    "action": 50,
    "step": 50,
    "task": 50,
    "page": 50,
    "screen": 50,
    "status": 40,
    "stage": 40,
    "state": 40,
    "topic": 40,
    "subject": 40,
    "reason": 40,
    "operation": 40,
    "type": 30,
    "category": 30,
}
_LANGUAGES = frozenset({"en", "nl", "de", "fr", "es", "pt"})
_VALUE_NAMES = ("value", "amount", "revenue", "price", "ordervalue")
_SENTIMENT_NAMES = ("sentiment", "csat", "satisfaction", "rating", "nps")
_SESSION_NAMES = ("sessionid", "session")
_OUTCOME_NAMES = ("outcome", "converted", "conversion", "result")
_CONVERSION_VALUES = ("converted", "conversion", "purchase", "purchased", "order", "success", "won", "true", "yes", "1")
_IDENTIFY_WORDS = ("login", "log in", "signin", "sign in", "verify", "verification", "authenticate", "identified")

_STATS_ROWS = 100_000
_CONCLUSIVE_ROWS = 20
"""Fewer sampled rows than this say nothing about repetition: the guess then goes by names only."""
_ROW_ID_SHARE = 0.9
_TIME_SAMPLE = 500
_TIME_SHARE = 0.95
_EPOCH_S = (631_152_000, 4_102_444_800)  # 1990-01-01 .. 2100-01-01
_EPOCH_MS = (_EPOCH_S[0] * 1000, _EPOCH_S[1] * 1000)
_MAX_TOUCHPOINTS = 5000
_TEMPLATE_SEPARATOR = " · "


def name_words(name: str) -> tuple[str, ...]:
    """The lower-case words of a column name: camelCase, separators and XES prefixes split.

    Examples
    --------
    >>> name_words("ComplaintTopic_EN"), name_words("case:concept:name"), name_words("SRNumber")
    (('complaint', 'topic', 'en'), ('case', 'concept', 'name'), ('sr', 'number'))
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return tuple(word for word in re.split(r"[^0-9A-Za-z]+", spaced.lower()) if word)


def _id_kind(words: tuple[str, ...]) -> tuple[str, str] | None:
    """``(kind, entity word)`` when a name reads as an identifier (kind: trace, case, customer or generic)."""
    if "".join(words) == "caseconceptname":
        return "trace", "case"
    if not words:
        return None
    if words[-1] in _ID_SUFFIXES:
        entity = words[:-1]
    elif len(words) == 1 and (words[0] in _CASE_WORDS or words[0] in _CUSTOMER_WORDS):
        entity = words
    else:
        return None
    for word in reversed(entity):  # the word nearest the suffix says whose id it is
        if word in _CASE_WORDS:
            return "case", word
        if word in _CUSTOMER_WORDS:
            return "customer", word
    return "generic", ""


def is_case_column(name: str) -> bool:
    """Whether a column name says it holds a case (case, ticket, order, claim, session or application id).

    Examples
    --------
    >>> is_case_column("case:concept:name"), is_case_column("Ticket ID"), is_case_column("email")
    (True, True, False)
    >>> is_case_column("claim_ref"), is_case_column("member_key")
    (True, False)
    """
    kind = _id_kind(name_words(name))
    return kind is not None and kind[0] in ("trace", "case")


def customer_is_case(mapping: ColumnMapping) -> bool:
    """Whether the mapping's one customer column holds a case id while no case column is mapped.

    Each customer is then a case, and journeys cut by a gap may split it.

    Examples
    --------
    >>> customer_is_case(ColumnMapping(customer_ids=["case:concept:name"], timestamp="t", touchpoint="e"))
    True
    >>> customer_is_case(ColumnMapping(customer_ids=["case:concept:name"], timestamp="t", touchpoint="e",
    ...     case="case:concept:name"))
    False
    """
    return mapping.case is None and len(mapping.customer_ids) == 1 and is_case_column(mapping.customer_ids[0])


@dataclass(frozen=True)
class _Column:
    """What the guess knows about one raw column, from its name and a sample of its values."""

    name: str
    words: tuple[str, ...]
    language: str | None
    kind: Literal["text", "integer", "float", "temporal", "boolean", "other"]
    rows: int
    filled: int
    distinct: int
    blocks: int
    digits: bool
    sampled: bool = False

    @property
    def row_id(self) -> bool:
        """One value per row, or nearly: a row id, not something events share."""
        return self.rows >= _CONCLUSIVE_ROWS and self.filled > 0 and self.distinct >= _ROW_ID_SHARE * self.filled

    @property
    def unique(self) -> bool:
        """Every value on one row only: no two events share it."""
        return self.rows >= _CONCLUSIVE_ROWS and self.filled > 0 and self.distinct == self.filled

    @property
    def grouped(self) -> bool:
        """The rows of each value follow each other in the file: the export is organised by this column."""
        return 1 < self.distinct < self.filled and self.blocks <= self.distinct * 1.01 + 1

    def counts(self) -> str:
        return f"{self.distinct:,} distinct values in {self.filled:,}{' sampled' if self.sampled else ''} rows"


def _describe(sample: pl.DataFrame, sampled: bool) -> dict[str, _Column]:
    out: dict[str, _Column] = {}
    for name in sample.columns:
        series = sample.get_column(name)
        dtype = series.dtype
        kind: Literal["text", "integer", "float", "temporal", "boolean", "other"]
        if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            kind = "text"
            text = series.cast(pl.String).str.strip_chars()
            series = pl.select(pl.when(text.str.len_chars() == 0).then(None).otherwise(text)).to_series()
        elif dtype.is_integer():
            kind = "integer"
        elif dtype.is_float():
            kind = "float"
        elif dtype in (pl.Date,) or isinstance(dtype, pl.Datetime):
            kind = "temporal"
        elif dtype == pl.Boolean:
            kind = "boolean"
        else:
            kind = "other"
        words = name_words(name)
        language = words[-1] if len(words) > 1 and words[-1] in _LANGUAGES else None
        if language is not None:
            words = words[:-1]
        if kind == "other":
            out[name] = _Column(name, words, language, kind, series.len(), 0, 0, 0, False)
            continue
        present = series.drop_nulls()
        digits = kind == "text" and present.len() > 0 and bool(present.str.contains(r"^\d+$").all())
        blocks = int(series.ne_missing(series.shift(1)).sum()) if series.len() else 0
        out[name] = _Column(
            name, words, language, kind, series.len(), present.len(), present.n_unique(), blocks, digits, sampled
        )
    return out


def _changes_within(sample: pl.DataFrame, key: str, columns: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Per column: how many values of ``key`` hold two of its values or more, and how many of those see it change."""
    columns = [c for c in columns if c != key]
    grouped = (
        sample.filter(pl.col(key).is_not_null())
        .group_by(key)
        .agg(
            *[(pl.col(c).count() > 1).alias(f"{c}\0seen") for c in columns],
            *[(pl.col(c).drop_nulls().n_unique() > 1).alias(c) for c in columns],
        )
    )
    seen = {c: int(grouped.get_column(f"{c}\0seen").sum()) for c in columns}
    return seen, {c: int(grouped.get_column(c).sum()) for c in columns}


@dataclass(frozen=True)
class _TimeFit:
    """How a column reads as event times."""

    column: str
    how: Literal["datetime", "text", "epoch-s", "epoch-ms"]
    fmt: str | None
    parsed: int
    sampled: int
    time_of_day: bool
    first: datetime | None
    last: datetime | None
    ambiguous: bool = False

    def describe(self) -> str:
        span = f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}" if self.first and self.last else "no dates"
        what = "dates and times" if self.time_of_day else "dates"
        if self.how == "datetime":
            return f"holds {what} ({span})"
        if self.how in ("epoch-s", "epoch-ms"):
            unit = "seconds" if self.how == "epoch-s" else "milliseconds"
            return f"holds whole numbers that read as epoch {unit} ({span})"
        fmt = _human_format(self.fmt or "")
        order = "; day first assumed: no day above 12 in the sample, check it" if self.ambiguous else ""
        return f"reads as {what} ({fmt}, {self.parsed:,} of {self.sampled:,} sampled values; {span}){order}"


def _human_format(fmt: str) -> str:
    """``%Y-%m-%d %H:%M`` as ``YYYY-MM-DD HH:MM``."""
    for code, text in (("%.f", "[.fff]"), ("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "HH"), ("%M", "MM"),
                       ("%S", "SS"), ("%z", "±HH:MM")):  # fmt: skip
        fmt = fmt.replace(code, text)
    return fmt


def _epoch(values: pl.Series, name: str) -> tuple[Literal["epoch-s", "epoch-ms"], pl.Series] | None:
    if values.len() == 0:
        return None
    low, high = values.min(), values.max()
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return None
    for how, (lo, hi), scale in (("epoch-s", _EPOCH_S, 1_000_000), ("epoch-ms", _EPOCH_MS, 1_000)):
        if lo <= low and high <= hi:
            times = (values.cast(pl.Float64) * scale).cast(pl.Int64).cast(pl.Datetime("us"))
            return how, times.alias(name)  # type: ignore[return-value]
    return None


def _probe_time(series: pl.Series, column: _Column) -> _TimeFit | None:
    """How the column reads as event times, or ``None`` when its values are not times."""
    name = column.name
    if column.filled == 0:
        return None
    if column.kind == "temporal":
        values = series.drop_nulls()
        times = values.cast(pl.Datetime("us")) if values.dtype == pl.Date else values
        with_time = isinstance(values.dtype, pl.Datetime) and bool((times.dt.time() != dt_time(0)).any())
        return _TimeFit(name, "datetime", None, values.len(), values.len(), with_time, times.min(), times.max())  # type: ignore[arg-type]
    if column.kind in ("integer", "float"):
        values = series.drop_nulls()
        found = _epoch(values, name)
        if found is None:
            return None
        how, times = found
        return _TimeFit(name, how, None, values.len(), values.len(), True, times.min(), times.max())  # type: ignore[arg-type]
    if column.kind != "text":
        return None
    from journeymap.events.ingest import TIMESTAMP_FORMATS  # ingest imports this module

    sample = series.cast(pl.String).str.strip_chars().drop_nulls()
    sample = sample.filter(sample.str.len_chars() > 0).head(_TIME_SAMPLE)
    if sample.len() == 0:
        return None
    if column.digits:
        numbers = sample.cast(pl.Int64, strict=False).drop_nulls()
        found = _epoch(numbers, name) if numbers.len() == sample.len() else None
        if found is None:
            return None
        how, times = found  # ingest reads epoch numbers written as text the same way
        return _TimeFit(name, how, None, sample.len(), sample.len(), True, times.min(), times.max())  # type: ignore[arg-type]
    text = sample.str.replace(r"Z$", "+00:00")
    best: tuple[int, str, pl.Series] | None = None
    counts: dict[str, int] = {}
    for fmt in TIMESTAMP_FORMATS:
        try:
            if "%z" in fmt:
                parsed = text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
            else:
                parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
        except pl.exceptions.PolarsError:
            continue
        hits = parsed.len() - parsed.null_count()
        counts[fmt] = hits
        if best is None or hits > best[0]:
            best = (hits, fmt, parsed)
    if best is None or best[0] < _TIME_SHARE * sample.len():
        return None
    hits, fmt, parsed = best
    swapped = fmt.replace("%d/%m/", "%m/%d/") if fmt.startswith("%d/%m/") else fmt.replace("%m/%d/", "%d/%m/")
    ambiguous = swapped != fmt and counts.get(swapped) == hits
    values = parsed.drop_nulls()
    return _TimeFit(name, "text", fmt, hits, sample.len(), "%H" in fmt, values.min(), values.max(), ambiguous)  # type: ignore[arg-type]


class _Guesser:
    """One guess over one frame: claims columns field by field and records every choice and refusal."""

    def __init__(self, raw: pl.DataFrame, classifiers: Sequence[Sequence[str]]) -> None:
        usable = [c for c in raw.columns if not c.startswith("__")]  # columns the reader adds (row hashes)
        self.raw = raw.select(usable)
        self.sample = self.raw.head(_STATS_ROWS)
        self.stats = _describe(self.sample, sampled=self.raw.height > self.sample.height)
        self.conclusive = self.sample.height >= _CONCLUSIVE_ROWS
        self.classifiers = [tuple(keys) for keys in classifiers]
        self.taken: set[str] = set()
        self.fields: list[FieldGuess] = []
        self.rejected: list[RejectedColumn] = []
        self.key: str | None = None
        self.key_label = "customer"
        self.changes: dict[str, int] = {}
        self.seen: dict[str, int] = {}

    # -- bookkeeping --

    def choose(self, field: str, column: str | None, confidence: Confidence | None, reason: str) -> str | None:
        if column is not None:
            self.taken.add(column)
        self.fields.append(FieldGuess(field, column, confidence if column is not None else None, reason))
        return column

    def reject(self, field: str, column: str, reason: str) -> None:
        self.rejected.append(RejectedColumn(field, column, reason))

    def free(self, kinds: tuple[str, ...]) -> list[_Column]:
        return [s for s in self.stats.values() if s.name not in self.taken and s.kind in kinds]

    def constant_in_key(self, column: str) -> bool:
        """The same on every event of a case (customer): known only with enough cases of two events or more."""
        return self.key is not None and self.seen.get(column, 0) >= 3 and self.changes.get(column) == 0

    # -- identifiers --

    def identifiers(self) -> tuple[list[str], str | None]:
        extras = [
            c
            for want in _EXTRA_ID_NAMES
            for c in self.raw.columns
            if normalize_label(c) == want and self.stats[c].filled > 0 and self.stats[c].kind != "other"
        ]
        extras = list(dict.fromkeys(extras))
        candidates: list[tuple[_Column, str, str]] = []
        for column in self.stats.values():
            found = _id_kind(column.words)
            if found is None or (column.name in extras and found[0] != "customer"):
                continue  # an email or device id is another identifier of a customer, never the first one
            kind, word = found
            if column.kind not in ("text", "integer"):
                self.reject("customer_ids", column.name, f"named like an identifier but holds {column.kind} values")
                continue
            if set(column.words) & (_CHANNEL_WORDS | _GROUP_WORDS | _PERSON_WORDS):
                continue  # a channel or team code (ContactChannelID, agent_id) is not whose journey it is
            if column.filled == 0:
                self.reject("customer_ids", column.name, "named like an identifier but empty")
                continue
            # Most customers may have one event, but a named journey id still repeats somewhere; an id named by
            # its suffix alone must repeat more than that to be told from a row number.
            if column.unique or (kind == "generic" and column.row_id):
                self.reject(
                    "customer_ids",
                    column.name,
                    f"{column.counts()}: a row id, not a customer or a case (a journey's id repeats on its events)",
                )
                continue
            if kind == "generic" and self.conclusive and column.distinct < 10 and column.filled >= 20 * column.distinct:
                self.reject("customer_ids", column.name, f"only {column.counts()}: a category code, not an identifier")
                continue
            candidates.append((column, kind, word))
        case = self.pick_case(candidates)
        customer = self.pick_customer(candidates, case, contacts=extras)
        extras = [c for c in extras if c not in (customer, case)]
        if customer is None and case is None and extras:
            customer = self.choose(
                "customer_ids",
                extras[0],
                "medium",
                f"named as a contact identifier ({', '.join(extras)}): events sharing any of them are one customer",
            )
            extras = extras[1:]
        elif extras:
            self.note("customer_ids", f"; also {', '.join(extras)}: events sharing any of them are one customer")
        ids = ([customer] if customer is not None else []) + extras
        if customer is None and case is not None:
            ids = [case, *ids]
        return ids, case

    def pick_case(self, candidates: list[tuple[_Column, str, str]]) -> str | None:
        def rank(item: tuple[_Column, str, str]) -> tuple[bool, int, bool]:
            column, kind, word = item
            return kind == "trace", -_CASE_WORDS.index(word), column.grouped

        cases = []
        for item in candidates:
            column, kind, _ = item
            if kind not in ("trace", "case"):
                continue
            if column.filled < column.rows:
                missing = column.rows - column.filled
                self.reject(
                    "case", column.name, f"empty on {missing:,} of {column.rows:,} rows: a case holds every event"
                )
                continue
            cases.append(item)
        if not cases:
            reason = (
                "no column is named as a case, ticket, order, claim, application or session id filled on every row; "
                "journeys are cut by an inactivity gap"
            )
            self.fields.append(FieldGuess("case", None, None, reason))
            return None
        best, kind, word = max(cases, key=rank)
        for other, _, _ in cases:
            if other is not best:
                self.reject("case", other.name, f"also names a case; '{best.name}' ranks first")
        if kind == "trace":
            reason = "the XES trace id: each trace is one case, one journey"
            confidence: Confidence = "high"
        else:
            reason = f"named as a {word} id, {best.counts()}, on every row: each {word} is one journey"
            if best.grouped:
                reason += " (the file lists each one's events together)"
            confidence = "high" if best.grouped or not self.conclusive else "medium"
        return self.choose("case", best.name, confidence, reason)

    def pick_customer(
        self, candidates: list[tuple[_Column, str, str]], case: str | None, *, contacts: list[str]
    ) -> str | None:
        customers = [(c, w) for c, kind, w in candidates if kind == "customer" and c.name != case]
        if case is not None and customers and self.conclusive:
            _, changes = _changes_within(self.sample, case, [c.name for c, _ in customers])
            kept = []
            for column, word in customers:
                if changes.get(column.name, 0):
                    self.reject(
                        "customer_ids",
                        column.name,
                        f"changes within {changes[column.name]:,} cases of '{case}': a case belongs to one customer",
                    )
                else:
                    kept.append((column, word))
            customers = kept
        if customers:

            def rank(item: tuple[_Column, str]) -> tuple[bool, int, int]:
                column, word = item
                return column.grouped, -_CUSTOMER_WORDS.index(word), column.distinct

            best, word = max(customers, key=rank)
            for other, _ in customers:
                if other is not best and other.name not in contacts:  # a second contact id is kept as one
                    why = "the file lists its events together" if best.grouped else f"'{word}' names the customer"
                    self.reject("customer_ids", other.name, f"also names a customer; '{best.name}' ranks first ({why})")
            reason = f"named as a {word} id, {best.counts()}: a customer has several events"
            if case is not None:
                reason += f", and every case of '{case}' has one"
            return self.choose("customer_ids", best.name, "high", reason)
        if case is not None:
            return self.choose(
                "customer_ids",
                case,
                "high" if self.stats[case].words == ("case", "concept", "name") else "medium",
                f"each case of '{case}' is taken as its own customer (no column names a customer who is the same "
                "on every event of a case)",
            )
        generic = [c for c, kind, _ in candidates if kind == "generic"]
        if generic and not contacts:  # an email or a phone says whose events these are better than a bare id
            best = max(generic, key=lambda c: (c.grouped, c.distinct))
            return self.choose(
                "customer_ids",
                best.name,
                "low",
                f"an identifier ({best.counts()}) repeated over events; no column is named as a customer or case id",
            )
        return None

    # -- time --

    def timestamp(self) -> str | None:
        fits: list[_TimeFit] = []
        for column in self.free(("text", "integer", "float", "temporal")):
            if column.kind != "temporal" and _id_kind(column.words) is not None:
                continue  # numbers named as identifiers are never times, whatever their range
            fit = _probe_time(self.sample.get_column(column.name), column)
            if fit is not None:
                fits.append(fit)
        if not fits:
            tried = "ISO 8601, YYYY-MM-DD HH:MM:SS, DD/MM/YYYY HH:MM, dates, epoch seconds or milliseconds"
            by_name = [c for c in self.free(("text",)) if set(c.words) & _STRONG_TIME_WORDS and c.filled]
            if by_name:  # the name says time though no value reads as one: ingest will name the bad values
                column = by_name[0]
                first = self.sample.get_column(column.name).drop_nulls().cast(pl.String).head(1).item()
                self.choose(
                    "timestamp",
                    column.name,
                    "low",
                    f"named like a time, but its values do not read as dates (first: {first!r}; tried {tried}): "
                    "set its format",
                )
                return column.name
            self.fields.append(
                FieldGuess(
                    "timestamp",
                    None,
                    None,
                    f"no column reads as dates or times ({tried} were tried): choose the event time column, "
                    "and its format",
                )
            )
            return None

        def case_attribute(fit: _TimeFit) -> bool:
            words = self.stats[fit.column].words
            return self.constant_in_key(fit.column) or (len(words) > 1 and words[0] == "case")

        def rank(fit: _TimeFit) -> tuple[bool, bool, bool, int]:
            named = bool(set(self.stats[fit.column].words) & _TIME_WORDS)
            return not case_attribute(fit), fit.time_of_day, named, self.stats[fit.column].distinct

        best = max(fits, key=rank)
        for other in fits:
            if other is best:
                continue
            if case_attribute(other):
                why = f"the same on every event of a {self.key_label}: a {self.key_label} date, not an event time"
            else:
                why = f"also {other.describe()}; '{best.column}' ranks first"
            self.reject("timestamp", other.column, why)
        reason = f"{best.describe()}"
        named = bool(set(self.stats[best.column].words) & _TIME_WORDS)
        if case_attribute(best):
            reason += f"; the same on every event of a {self.key_label}, but no other column holds times"
            confidence: Confidence = "low"
        elif best.ambiguous or best.parsed < best.sampled:
            confidence = "medium"
        else:
            confidence = "high" if named or best.how == "datetime" or len(fits) == 1 else "medium"
        return self.choose("timestamp", best.column, confidence, reason)

    # -- channel, team, touchpoint --

    def channel(self) -> str | None:
        candidates = []
        for column in self.free(("text", "integer")):
            words = set(column.words)
            if not (words & _CHANNEL_WORDS or normalize_label(column.name) in _CHANNEL_NAMES):
                continue
            if column.row_id or (self.conclusive and column.distinct > 200):
                self.reject("channel", column.name, f"{column.counts()}: too many for channels")
                continue
            candidates.append(column)
        if not candidates:
            self.fields.append(
                FieldGuess("channel", None, None, "no column named like a channel (channel, medium): one channel")
            )
            return None
        best = max(candidates, key=lambda c: ("channel" in c.words, c.distinct))
        for other in candidates:
            if other is not best:
                self.reject("channel", other.name, f"also named like a channel; '{best.name}' ranks first")
        reason = f"named like a channel, {best.distinct:,} distinct values"
        if self.constant_in_key(best.name):
            reason += f" (the same on every event of a {self.key_label}: no switch inside one)"
        return self.choose("channel", best.name, "high" if "channel" in best.words else "medium", reason)

    def team(self) -> str | None:
        candidates: list[tuple[int, _Column]] = []
        for column in self.free(("text", "integer")):
            words = set(column.words)
            tier = 2 if words & _GROUP_WORDS else 1 if words & _PERSON_WORDS else 0
            if tier == 0:
                continue
            if column.row_id:
                self.reject("owner", column.name, f"{column.counts()}: a row id, not a team")
                continue
            if self.conclusive and column.distinct < 2:
                self.reject("owner", column.name, "a single value: no handoff can be seen")
                continue
            if self.constant_in_key(column.name):
                self.reject(
                    "owner",
                    column.name,
                    f"the same on every event of a {self.key_label}: describes the {self.key_label}, never hands off",
                )
                continue
            candidates.append((tier, column))
        if not candidates:
            self.fields.append(
                FieldGuess(
                    "owner", None, None, "no column named like a team (group, team, queue, unit, resource, agent…)"
                )
            )
            return None
        tier, best = max(candidates, key=lambda item: (item[0], self.changes.get(item[1].name, 0)))
        for other_tier, other in candidates:
            if other is best:
                continue
            if other_tier < tier:
                why = f"names a person; '{best.name}' names a group (choose '{other.name}' for handoffs between people)"
            else:
                why = f"also named like a team; '{best.name}' changes within more {self.key_label}s"
            self.reject("owner", other.name, why)
        kind = "a group of people" if tier == 2 else "a person or resource"
        reason = f"named like {kind}, {best.distinct:,} distinct values"
        if self.changes.get(best.name):
            reason += f", changes within {self.changes[best.name]:,} {self.key_label}s"
        return self.choose("owner", best.name, "high" if tier == 2 else "medium", reason)

    def touchpoint(self) -> str | None:
        siblings = {normalize_label(" ".join(c.words)) for c in self.stats.values() if c.language == "en"}
        scored: list[tuple[int, _Column]] = []
        for column in self.free(("text", "integer")):
            norm = normalize_label(column.name)
            score = 100 if norm == "conceptname" else max((_EVENT_WORDS.get(w, 0) for w in column.words), default=0)
            if column.kind == "integer" and score == 0:
                continue
            refusal = None
            if column.row_id:
                refusal = f"{column.counts()}: one value per row, a row id and not an activity"
            elif self.conclusive and column.distinct < 2:
                refusal = "a single value: every event would be the same step"
            elif column.distinct > _MAX_TOUCHPOINTS:
                refusal = f"{column.counts()}: too many for touchpoints"
            elif self.constant_in_key(column.name):
                refusal = f"the same on every event of a {self.key_label}: describes it, is not a step"
            if refusal is not None:
                if score:  # only a column named like an activity needs a word on why it is not one
                    self.reject("touchpoint", column.name, refusal)
                continue
            if column.words and column.words[-1] in _ID_SUFFIXES:
                score -= 40  # codes of the activity; its label is the better touchpoint
            if column.digits:
                score -= 20
            if column.language == "en":
                score += 5
            elif column.language is not None or normalize_label(" ".join(column.words)) in siblings:
                score -= 5  # another language, or the untranslated twin of an English column
            scored.append((score, column))
        named = [(s, c) for s, c in scored if s > 0]
        if named:
            score, best = max(named, key=lambda item: (item[0], min(item[1].distinct, 500)))
            for other_score, other in named:
                if other is not best and other_score >= 30:
                    self.reject("touchpoint", other.name, f"also named like an activity; '{best.name}' ranks first")
            if score == 100:
                reason = "the XES activity name (concept:name)"
            else:
                word = max(best.words, key=lambda w: _EVENT_WORDS.get(w, 0))
                reason = f"named like an activity ('{word}')"
            reason += f", {best.counts()}"
            return self.choose("touchpoint", best.name, "high" if score >= 60 else "medium", reason)
        varied = [c for _, c in scored if c.kind == "text" and 2 <= c.distinct <= 500]
        if varied:
            best = max(varied, key=lambda c: c.distinct)
            return self.choose(
                "touchpoint",
                best.name,
                "low",
                f"no column is named like an activity; the most varied text column ({best.counts()})",
            )
        self.fields.append(
            FieldGuess("touchpoint", None, None, "no text column repeats a few labels over many events (an activity)")
        )
        return None

    def template(self, touchpoint: str) -> str | None:
        """A touchpoint template over the XES classifier's keys, when it names more than the activity."""
        for keys in self.classifiers:
            if touchpoint not in keys or not all(k in self.stats for k in keys):
                continue
            extras, dropped = [], []
            for key in keys:
                if key == touchpoint:
                    continue
                column = self.stats[key]
                if "{" in key or "}" in key or column.filled < column.rows:
                    dropped.append(f"'{key}' is missing on some events")
                elif column.distinct < 2:
                    dropped.append(f"'{key}' has a single value")
                else:
                    extras.append(key)
            declared = " + ".join(keys)
            if not extras:
                if len(keys) > 1:
                    self.note("touchpoint", f"; the XES classifier ({declared}) adds nothing: {', '.join(dropped)}")
                return None
            template = "{event}" + "".join(f"{_TEMPLATE_SEPARATOR}{{{k}}}" for k in extras)
            combined = self.sample.select(pl.struct([touchpoint, *extras]).n_unique()).item()
            plain = self.stats[touchpoint].distinct
            self.taken.update(extras)
            self.note(
                "touchpoint",
                f"; the XES file's classifier is {declared}, so a touchpoint is {template} "
                f"({combined:,} labels instead of {plain:,})",
            )
            return template
        return None

    def note(self, field: str, text: str) -> None:
        for i, item in enumerate(self.fields):
            if item.field == field:
                self.fields[i] = FieldGuess(item.field, item.column, item.confidence, item.reason + text)

    def named(self, field: str, names: tuple[str, ...], numeric: bool = False) -> str | None:
        by_name = {normalize_label(c): c for c in reversed(self.raw.columns)}
        for want in names:
            column = by_name.get(want)
            if column is None or column in self.taken:
                continue
            if numeric and _numeric(self.raw, column) is None:
                self.reject(field, column, "named like one, but holds no numbers")
                continue
            word = FIELD_WORDS[field]
            return self.choose(
                field, column, "medium", f"named like {'an' if word[0] in 'aeiou' else 'a'} {word} column"
            )
        return None


def guess_columns(
    raw: pl.DataFrame,
    journey_map: JourneyMap | None = None,
    *,
    labels: Callable[[str], list[str]] | None = None,
    source: str = "column mapping",
    classifiers: Sequence[Sequence[str]] = (),
) -> MappingGuess:
    """Propose a column mapping from the columns' names and values, with a confidence and a reason per field.

    Identifiers are found by name (``*_id``, case, ticket, order, claim, member, ``*_ref``, ``*_no``…) and
    kept only when their values repeat (a row id does not); a case must fill every row, a customer must be
    the same on every event of a case. Times are found by value: datetime columns, text in the formats
    ingest reads (ISO 8601, ``YYYY-MM-DD HH:MM:SS``, ``DD/MM/YYYY HH:MM``, dates) and numbers in the range
    of epoch seconds or milliseconds; a date that never changes within a case (a deadline) ranks last. The
    touchpoint is a named activity column with far fewer values than rows; the team a group (else a person)
    column that changes within cases. Nothing here raises for a missing field: see
    :meth:`MappingGuess.to_mapping`.

    Parameters
    ----------
    raw, journey_map, labels, source:
        As for :func:`guess_mapping`.
    classifiers:
        The key lists of the XES file's event classifiers (:func:`journeymap.events.read.xes_classifiers`).
        When the first one naming the activity column holds more keys (``concept:name`` +
        ``lifecycle:transition``), the touchpoint is a template over all of them.

    Examples
    --------
    >>> raw = pl.DataFrame({"ticket_no": ["t1", "t1", "t2"], "logged": ["03/02/2024 10:00"] * 3,
    ...                     "step": ["open", "close", "open"]})
    >>> guess = guess_columns(raw, source="export.csv")
    >>> guess.field("case").column, guess.field("timestamp").column, guess.field("touchpoint").column
    ('ticket_no', 'logged', 'step')
    >>> guess.field("timestamp").reason  # doctest: +ELLIPSIS
    'reads as dates and times (DD/MM/YYYY HH:MM, 3 of 3 sampled values; 2024-02-03 to 2024-02-03); day first...'
    >>> guess_columns(raw.drop("logged")).missing
    ('timestamp',)
    """
    guesser = _Guesser(raw, classifiers)
    ids, case = guesser.identifiers()
    if not ids:
        guesser.fields.append(
            FieldGuess(
                "customer_ids",
                None,
                None,
                "no column is named as an identifier (customer_id, case, ticket_no, member_key…) whose values repeat",
            )
        )
    key = case or (ids[0] if ids else None)
    if key is not None and guesser.conclusive:
        others = [c for c, s in guesser.stats.items() if s.kind != "other" and c not in ids and c != case]
        guesser.key = key
        guesser.key_label = "case" if case is not None else "customer"
        guesser.seen, guesser.changes = _changes_within(guesser.sample, key, others)
    timestamp = guesser.timestamp()
    channel = guesser.channel()
    owner = guesser.team()
    event = guesser.touchpoint()
    template = guesser.template(event) if event is not None else None
    value = guesser.named("value", _VALUE_NAMES, numeric=True)
    sentiment = guesser.named("sentiment", _SENTIMENT_NAMES, numeric=True)
    session = guesser.named("session", _SESSION_NAMES)
    outcome = guesser.named("outcome", _OUTCOME_NAMES)
    sample = guesser.raw

    def values_of(col: str) -> list[str]:
        return labels(col)[:_MAX_LABELS] if labels is not None else _labels(sample, col)

    conversion_values: list[str] = []
    if outcome is not None:
        if labels is not None:
            present = labels(outcome)
        else:
            present = sample.get_column(outcome).cast(pl.String).drop_nulls().unique().to_list()
        conversion_values = sorted(v for v in present if normalize_label(v) in _CONVERSION_VALUES)
    event_labels: list[str] = []
    if event is not None:
        event_labels = [label for label, _ in count_template_labels(sample, event, template)] if template else []
        event_labels = event_labels or values_of(event)
    identify = sorted(v for v in event_labels if any(w in v.lower() for w in _IDENTIFY_WORDS))
    value_map: dict[str, str] = {}
    channel_map: dict[str, str] = {}
    if journey_map is not None:
        value_map = _match(event_labels, [(t.id, t.name) for t in journey_map.touchpoints])
        if channel is not None:
            by_kind = [(c.id, c.kind.value) for c in journey_map.channels]
            channel_map = _match(values_of(channel), [(c.id, c.name) for c in journey_map.channels] + by_kind)
    values: dict[str, Any] = {
        "customer_ids": ids,
        "timestamp": timestamp,
        "case": case,
        "journeys": "case" if case is not None else "gap",
        "channel": channel,
        "channel_constant": None if channel is not None else "default",
        "touchpoint": event,
        "touchpoint_template": template,
        "value_map": value_map,
        "channel_map": channel_map,
        "outcome": outcome,
        "conversion_values": conversion_values,
        "value": value,
        "sentiment": sentiment,
        "owner": owner,
        "session": session,
        "identify_values": identify,
        "attributes": _attribute_columns(sample, guesser.taken | set(ids)),
    }
    order = list(FIELD_WORDS)
    fields = sorted(guesser.fields, key=lambda f: order.index(f.field) if f.field in order else len(order))
    return MappingGuess(
        source=source,
        columns=tuple(guesser.raw.columns),
        fields=tuple(fields),
        rejected=tuple(guesser.rejected),
        values=values,
    )


def guess_mapping(
    raw: pl.DataFrame,
    journey_map: JourneyMap | None = None,
    *,
    labels: Callable[[str], list[str]] | None = None,
    source: str = "column mapping",
    classifiers: Sequence[Sequence[str]] = (),
) -> ColumnMapping:
    """Propose a column mapping from column names and values.

    Parameters
    ----------
    raw:
        Frame returned by :func:`journeymap.events.read.read_events`.
    journey_map:
        When given, raw labels equal (ignoring case and punctuation) to a touchpoint or
        channel id or name are mapped to it.
    labels:
        The distinct values of a raw column, most frequent first. By default they are counted
        in ``raw``; when ``raw`` is only the head of a large file, pass the counts over the whole
        file (:func:`journeymap.events.read.count_values`) so rare labels are mapped too.
    source:
        The file ``raw`` was read from, named in the message when no column fits a role.
    classifiers:
        The XES file's event classifiers (see :func:`guess_columns`).

    Returns
    -------
    ColumnMapping
        A mapping to review; :func:`journeymap.events.ingest.ingest` reports what it could not map.
        :func:`guess_columns` gives the same guess with a confidence and a reason per field.
        A case column (named as a case, filled on every row) becomes the ``case``, so journeys are
        the cases; it may also be the customer column (an XES trace id is both).

    Examples
    --------
    >>> raw = pl.DataFrame({"email": ["a@x"], "event_time": ["2024-01-01"], "channel": ["web"], "page": ["home"]})
    >>> m = guess_mapping(raw)
    >>> m.customer_ids, m.timestamp, m.channel, m.touchpoint, m.case
    (['email'], 'event_time', 'channel', 'page', None)
    >>> xes = pl.DataFrame({"case:concept:name": ["1"], "time:timestamp": ["2024-01-01"], "concept:name": ["open"]})
    >>> m = guess_mapping(xes)
    >>> m.customer_ids, m.case, m.journeys
    (['case:concept:name'], 'case:concept:name', 'case')
    """
    guess = guess_columns(raw, journey_map, labels=labels, source=source, classifiers=classifiers)
    return guess.to_mapping()


def count_template_labels(raw: pl.DataFrame, event: str, template: str) -> list[tuple[str, int]]:
    """The labels a touchpoint template makes from raw rows, with their counts, most frequent first.

    ``{event}`` is the activity column ``event``; other names in braces are raw columns. A row
    missing any of them makes no label (ingest leaves it out the same way).

    Examples
    --------
    >>> raw = pl.DataFrame({"concept:name": ["open", "open", "close"], "lifecycle:transition": ["start", "start", ""]})
    >>> count_template_labels(raw, "concept:name", "{event} · {lifecycle:transition}")
    [('open · start', 2)]
    """
    parts: list[pl.Expr] = []
    for literal, name in re.findall(r"([^{}]*)(?:{([^{}]+)})?", template):
        if literal:
            parts.append(pl.lit(literal))
        if name:
            text = pl.col(event if name == "event" else name).cast(pl.String).str.strip_chars()
            parts.append(pl.when(text.str.len_chars() > 0).then(text))
    label = pl.concat_str(parts).alias("__label")
    counts = raw.select(label).drop_nulls().group_by("__label").len("n")
    counts = counts.sort(["n", "__label"], descending=[True, False])
    return [(str(v), int(n)) for v, n in counts.head(_MAX_LABELS).iter_rows()]


def _numeric(raw: pl.DataFrame, col: str | None) -> str | None:
    if col is None:
        return None
    if raw.schema[col].is_numeric():
        return col
    parsed = raw.get_column(col).head(1000).cast(pl.Float64, strict=False)
    return col if parsed.null_count() < parsed.len() else None


_MAX_LABELS = 5000


def _labels(raw: pl.DataFrame, col: str) -> list[str]:
    counts = raw.get_column(col).cast(pl.String).drop_nulls().value_counts(sort=True)
    return [str(v) for v in counts.get_column(col).head(_MAX_LABELS).to_list()]


def _match(labels: list[str], targets: list[tuple[str, str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for target_id, name in targets:
        index.setdefault(normalize_label(target_id), target_id)
        index.setdefault(normalize_label(name), target_id)
    out: dict[str, str] = {}
    for label in labels:
        hit = index.get(normalize_label(label))
        if hit is not None and hit != label:
            out[label] = hit
    return out


def _attribute_columns(raw: pl.DataFrame, taken: set[str]) -> list[str]:
    """Low-cardinality text columns (segment, gender, department): useful overlay filters."""
    out: list[str] = []
    sample = raw.head(50_000)
    for col in raw.columns:
        if col in taken or sample.schema[col] not in (pl.String, pl.Categorical, pl.Boolean):
            continue
        n = sample.get_column(col).n_unique()
        if 2 <= n <= 30:
            out.append(col)
        if len(out) == 5:
            break
    return out
