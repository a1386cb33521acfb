"""Column mapping: which raw columns hold the customer, the time, the channel and the touchpoint.

A :class:`ColumnMapping` is saved next to a dataset as JSON so that the next export of
the same system ingests without questions. :func:`guess_mapping` proposes one from
column names and values (XES names such as ``case:concept:name`` and
``time:timestamp`` included), and, given a journey map, maps raw labels that already
match touchpoint or channel ids or names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from journeymap.errors import UserInputError
from journeymap.json_input import load_json
from journeymap.model import JourneyMap, validation_error_to_user_error

__all__ = [
    "ColumnMapping",
    "TouchpointRule",
    "customer_is_case",
    "guess_mapping",
    "is_case_column",
    "mapping_from_json",
    "mapping_to_json",
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
    keep_duplicates:
        Keep rows identical in every mapped column (they are still counted); by default
        only the first is kept.

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
    keep_duplicates: bool = False

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


def normalize_label(text: str) -> str:
    """Lower-case letters and digits only: how names and labels are compared.

    Examples
    --------
    >>> normalize_label("Customer_ID"), normalize_label("case:concept:name")
    ('customerid', 'caseconceptname')
    """
    return re.sub(r"[^0-9a-z]", "", text.lower())


_CUSTOMER_NAMES = (
    "caseconceptname",
    "customerid",
    "customer",
    "clientid",
    "userid",
    "accountid",
    "visitorid",
    "caseid",
    "case",
    "id",
)
_CASE_NAMES = (
    "caseconceptname",
    "caseid",
    "case",
    "casenumber",
    "ticketid",
    "ticket",
    "ticketnumber",
    "incidentid",
    "orderid",
    "applicationid",
    "sessionid",
)
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
_TIME_NAMES = (
    "timetimestamp",
    "timestamp",
    "eventtime",
    "eventtimestamp",
    "ts",
    "time",
    "datetime",
    "date",
    "createdat",
    "occurredat",
)
_EVENT_NAMES = (
    "conceptname",
    "touchpoint",
    "event",
    "eventname",
    "eventtype",
    "activity",
    "action",
    "page",
    "pagename",
    "step",
    "type",
)
_CHANNEL_NAMES = ("channel", "channelid", "casechannel", "contactchannel", "contactchannelid", "medium", "source")
_OWNER_NAMES = ("orggroup", "team", "owner", "ownerteam", "department", "orgresource", "resource", "agent")
_VALUE_NAMES = ("value", "amount", "revenue", "price", "ordervalue")
_SENTIMENT_NAMES = ("sentiment", "csat", "satisfaction", "rating", "nps")
_SESSION_NAMES = ("sessionid", "session")
_OUTCOME_NAMES = ("outcome", "converted", "conversion", "result")
_CONVERSION_VALUES = ("converted", "conversion", "purchase", "purchased", "order", "success", "won", "true", "yes", "1")
_IDENTIFY_WORDS = ("login", "log in", "signin", "sign in", "verify", "verification", "authenticate", "identified")


def is_case_column(name: str) -> bool:
    """Whether a column name says it holds a case (case, ticket, order, session or application id).

    Examples
    --------
    >>> is_case_column("case:concept:name"), is_case_column("Ticket ID"), is_case_column("email")
    (True, True, False)
    """
    return normalize_label(name) in _CASE_NAMES


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


def _pick(names: dict[str, str], wanted: tuple[str, ...], taken: set[str]) -> str | None:
    for want in wanted:
        col = names.get(want)
        if col is not None and col not in taken:
            return col
    return None


def _pick_contains(raw: pl.DataFrame, words: tuple[str, ...], taken: set[str], *, string_only: bool) -> str | None:
    for word in words:
        for col in raw.columns:
            if col in taken or word not in normalize_label(col):
                continue
            if string_only and raw.schema[col] != pl.String:
                continue
            return col
    return None


def guess_mapping(
    raw: pl.DataFrame,
    journey_map: JourneyMap | None = None,
    *,
    labels: Callable[[str], list[str]] | None = None,
    source: str = "column mapping",
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

    Returns
    -------
    ColumnMapping
        A mapping to review; :func:`journeymap.events.ingest.ingest` reports what it could not map.
        A case column (:func:`is_case_column`, filled on every row) becomes the ``case``, so
        journeys are the cases; it may also be the customer column (an XES trace id is both).

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
    names: dict[str, str] = {}
    for col in raw.columns:
        names.setdefault(normalize_label(col), col)
    taken: set[str] = set()

    def claim(col: str | None) -> str | None:
        if col is not None:
            taken.add(col)
        return col

    ids: list[str] = []
    primary = _pick(names, _CUSTOMER_NAMES, taken) or _pick_contains(
        raw, ("customer", "client"), taken, string_only=False
    )
    if primary is not None:
        ids.append(primary)
        taken.add(primary)
    case = _pick_case(raw, names)
    if case is not None:
        taken.add(case)
    for want in _EXTRA_ID_NAMES:
        extra = names.get(want)
        if extra is not None and extra not in taken:
            ids.append(extra)
            taken.add(extra)
    if not ids:
        raise UserInputError(
            "no column looks like a customer identifier",
            source=source,
            location=f"columns {', '.join(raw.columns[:20])}",
            hint="Name the customer id column(s) in the mapping (customer_ids).",
        )
    time_col = next((c for c in raw.columns if c not in taken and raw.schema[c].is_temporal()), None)
    named_time = _pick(names, _TIME_NAMES, taken) or _pick_contains(raw, ("time", "date"), taken, string_only=False)
    named_is_temporal = named_time is not None and raw.schema[named_time].is_temporal()
    timestamp = claim(named_time if named_time is not None and (named_is_temporal or time_col is None) else time_col)
    if timestamp is None:
        raise UserInputError(
            "no column looks like an event time",
            source=source,
            location=f"columns {', '.join(raw.columns[:20])}",
            hint="Name the timestamp column in the mapping (timestamp).",
        )
    channel = claim(_pick(names, _CHANNEL_NAMES, taken) or _pick_contains(raw, ("channel",), taken, string_only=False))
    owner = claim(_pick(names, _OWNER_NAMES, taken))
    event = claim(
        _pick(names, _EVENT_NAMES, taken)
        or _pick_contains(raw, ("topicen", "topic", "event", "activity", "subject", "reason"), taken, string_only=True)
    )
    if event is None:
        event = claim(_most_varied_string(raw, taken))
    if event is None:
        raise UserInputError(
            "no column looks like an event or touchpoint name",
            source=source,
            location=f"columns {', '.join(raw.columns[:20])}",
            hint="Name the event column in the mapping (touchpoint).",
        )
    value = claim(_numeric(raw, _pick(names, _VALUE_NAMES, taken)))
    sentiment = claim(_numeric(raw, _pick(names, _SENTIMENT_NAMES, taken)))
    session = claim(_pick(names, _SESSION_NAMES, taken))
    outcome = claim(_pick(names, _OUTCOME_NAMES, taken))

    def values_of(col: str) -> list[str]:
        return labels(col)[:_MAX_LABELS] if labels is not None else _labels(raw, col)

    conversion_values: list[str] = []
    if outcome is not None:
        if labels is not None:
            present = labels(outcome)
        else:
            present = raw.get_column(outcome).cast(pl.String).drop_nulls().unique().to_list()
        conversion_values = sorted(v for v in present if normalize_label(v) in _CONVERSION_VALUES)
    event_labels = values_of(event)
    identify = sorted(v for v in event_labels if any(w in v.lower() for w in _IDENTIFY_WORDS))
    value_map: dict[str, str] = {}
    channel_map: dict[str, str] = {}
    if journey_map is not None:
        value_map = _match(event_labels, [(t.id, t.name) for t in journey_map.touchpoints])
        if channel is not None:
            by_kind = [(c.id, c.kind.value) for c in journey_map.channels]
            channel_map = _match(values_of(channel), [(c.id, c.name) for c in journey_map.channels] + by_kind)
    attributes = _attribute_columns(raw, taken)
    return ColumnMapping(
        customer_ids=ids,
        timestamp=timestamp,
        case=case,
        journeys="case" if case is not None else "gap",
        channel=channel,
        channel_constant=None if channel is not None else "default",
        touchpoint=event,
        value_map=value_map,
        channel_map=channel_map,
        outcome=outcome,
        conversion_values=conversion_values,
        value=value,
        sentiment=sentiment,
        owner=owner,
        session=session,
        identify_values=identify,
        attributes=attributes,
    )


def _pick_case(raw: pl.DataFrame, names: dict[str, str]) -> str | None:
    """The first case-like column filled on every row; it may be the customer column too."""
    for want in _CASE_NAMES:
        candidate = names.get(want)
        # An id missing on some rows (an order id on purchases only) cannot hold every event.
        if candidate is not None and not _has_empty(raw.get_column(candidate)):
            return candidate
    return None


def _has_empty(column: pl.Series) -> bool:
    if column.null_count():
        return True
    if column.dtype in (pl.String, pl.Categorical):
        return bool(column.cast(pl.String).str.strip_chars().str.len_chars().eq(0).any())
    return False


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


def _most_varied_string(raw: pl.DataFrame, taken: set[str]) -> str | None:
    best: tuple[int, str] | None = None
    for col in raw.columns:
        if col in taken or raw.schema[col] != pl.String:
            continue
        n = raw.get_column(col).head(10_000).n_unique()
        if 2 <= n <= 500 and (best is None or n > best[0]):
            best = (n, col)
    return best[1] if best else None


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
