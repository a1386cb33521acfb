"""State keys and cached loaders of the overlay page.

Ingest once, recompute often. The services of :mod:`journeymap.services.data` store a raw export,
ingest it once per (content hash, column mapping) into an :class:`~journeymap.events.log.EventLog`
kept as Parquet on disk, and register it; the page then recomputes overlays from that log, cached
per (dataset, mapping, map revision, settings). Everything here wraps pure functions of
:mod:`journeymap` in ``st.cache_data`` (small results) or ``st.cache_resource`` (event frames,
shared read-only so a rerun never copies millions of rows). Nothing here opens the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st
from pydantic import ValidationError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from journeymap.analysis.friction import rank_friction
from journeymap.events._columnar import BitSetIndex, DistinctIndex
from journeymap.events.ingest import load_log
from journeymap.events.journeys import split_cases_warning
from journeymap.events.log import EventLog
from journeymap.events.mapping import ColumnMapping, MappingGuess, guess_columns, mapping_hash, mapping_to_json
from journeymap.events.overlay import Overlay, PreparedOverlay, compute_overlay, prepare_overlay, unfiltered
from journeymap.events.read import count_values, detect_format, read_events, xes_classifiers
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap, validation_error_to_user_error
from journeymap.overlay_viz import (
    JourneyPaths,
    count_paths,
    count_reach,
    journeys_behind,
    path_per_journey,
    stages_per_journey,
    timeline_events,
)
from journeymap.services.data import DEMO_EVENTS, RawSource, touchpoints_from_labels
from journeymap.ui.state import OverlayKeys

__all__ = [
    "DEMO_EVENTS",
    "SAMPLE_ROWS",
    "FindingRef",
    "MappingForm",
    "RawSource",
    "cached_behind",
    "cached_guess",
    "cached_label_counts",
    "cached_log",
    "cached_log_facts",
    "cached_overlay",
    "cached_paths",
    "cached_raw",
    "cached_reach",
    "cached_split_warning",
    "cached_timeline",
    "mapping_json_from_form",
    "overlay_key",
    "prepared_key",
    "release_upload",
    "touchpoints_from_labels",
]

SAMPLE_ROWS = 50_000
"""Rows read for the mapping guess and the preview; labels are counted over the whole file."""
_MAX_COUNTED = 5_000


@dataclass(frozen=True)
class FindingRef:
    """One row of the friction board by its ids: a touchpoint (``target`` is ``None``) or a transition.

    Examples
    --------
    >>> FindingRef("transition", "cart", "pay").item, FindingRef("touchpoint", "cart").item
    (('cart', 'pay'), 'cart')
    """

    kind: str
    source: str
    target: str | None = None

    @property
    def item(self) -> str | tuple[str, str]:
        """The touchpoint id, or the transition's ``(source, target)``: what the graph and the drill-down take."""
        return self.source if self.target is None else (self.source, self.target)

    def label(self, names: dict[str, str]) -> str:
        """The item as people read it, touchpoints by their names on the map."""
        source = names.get(self.source, self.source)
        return source if self.target is None else f"{source} → {names.get(self.target, self.target)}"

    @classmethod
    def rows(cls, friction: pl.DataFrame) -> list[FindingRef]:
        """The findings of a friction ranking (:func:`journeymap.analysis.friction.rank_friction`), in its order."""
        return [cls(str(kind), str(source), None if target is None else str(target))
                for kind, source, target in friction.select("kind", "source", "target").iter_rows()]  # fmt: skip


@dataclass
class MappingForm:
    """The choices of the column-mapping form for one file on one map, kept apart from the form's widgets.

    Streamlit forgets a widget's value in a run that does not draw it (a visit to another page is
    one) and draws it again with its default: the saved mapping or the guess, not what the user
    chose. So every field takes its value from here when it is drawn anew (:meth:`kept`), and each
    value table its rows (:meth:`table_rows`). One form at a time, for one ``scope`` (the file's
    content and the map): another file or map starts a new form. Applying or cancelling the
    mapping :meth:`forget` it, so the next reading of a file starts from its saved mapping or the guess.
    """

    scope: str
    fields: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, tuple[dict[str, str], dict[str, str]]] = field(default_factory=dict)
    """Per value table: the choices its rows were drawn with, and the choices made since."""

    @classmethod
    def open(cls, scope: str) -> MappingForm:
        """The form of ``scope``: the one kept in the session, or a new one (which replaces another scope's)."""
        form = st.session_state.get(OverlayKeys.M_FORM)
        if not isinstance(form, cls) or form.scope != scope:
            form = cls(scope)
            st.session_state[OverlayKeys.M_FORM] = form
        return form

    def key(self, base: str, part: str = "") -> str:
        """A widget key of this form: ``base``, the scope, then ``part`` (the column the widget is about)."""
        return f"{base}{self.scope}{part}"

    def kept(self, base: str, initial: Any, part: str = "") -> str:
        """The key of a field's widget, with the field's value in session state: as the user left it, or ``initial``.

        The widget is then drawn with this key and no default of its own.
        """
        key = self.key(base, part)
        if key in st.session_state:
            self.fields[key] = st.session_state[key]
        else:
            st.session_state[key] = self.fields.setdefault(key, initial)
        return key

    def table_rows(self, key: str, start: dict[str, str]) -> dict[str, str]:
        """The raw value → id choices a value table's rows are drawn with; ``start`` for a new table.

        ``st.data_editor`` reports edits by row position on the rows it was first drawn with, so
        they stay the same while its widget lives; a table drawn anew shows the choices last
        recorded with :meth:`keep_table`.
        """
        rows, chosen = self.tables.get(key, (start, start))
        if key not in st.session_state:
            rows = chosen
        self.tables[key] = (rows, chosen)
        return rows

    def keep_table(self, key: str, chosen: dict[str, str]) -> None:
        """Record a value table's choices, its rows' edits applied (after :meth:`table_rows`)."""
        self.tables[key] = (self.tables[key][0], chosen)

    def forget(self) -> None:
        """Drop the form and its widgets' values."""
        for key in [*self.fields, *self.tables]:
            st.session_state.pop(key, None)
        st.session_state.pop(OverlayKeys.M_FORM, None)


def release_upload(upload: Any, widget_key: str) -> None:
    """Free an upload Streamlit holds in the server's memory once it is stored, and reset its uploader.

    The uploaded file and the widget's value both hold all its bytes (a 2 GB file: 4 GB); the page
    draws a new uploader (:attr:`OverlayKeys.UPLOAD_GENERATION`) so no widget keeps the old one.
    """
    run_ctx = get_script_run_ctx()
    remove_file = getattr(run_ctx.uploaded_file_mgr, "remove_file", None) if run_ctx else None
    if run_ctx is not None and remove_file is not None:
        remove_file(session_id=run_ctx.session_id, file_id=upload.file_id)
    st.session_state[OverlayKeys.UPLOAD_GENERATION] = int(st.session_state.get(OverlayKeys.UPLOAD_GENERATION, 0)) + 1
    st.session_state.pop(widget_key, None)


@st.cache_resource(show_spinner="Reading the first rows of the event file…", max_entries=4)
def _raw_cached(content_hash: str, path: str, name: str) -> pl.DataFrame:
    del content_hash
    return read_events(path, fmt=detect_format(name), name=name, rows=SAMPLE_ROWS)


def cached_raw(source: RawSource) -> pl.DataFrame:
    """The first :data:`SAMPLE_ROWS` rows of a source, all its columns (read once per content hash; shared).

    It feeds the mapping guess and the preview. The whole file is never held here: label
    counts read one column of the whole file (:func:`cached_label_counts`), and ingest reads the
    mapped columns only (:func:`journeymap.services.data.apply_mapping`). A sample shorter than
    :data:`SAMPLE_ROWS` is the whole file.
    """
    return _raw_cached(source.content_hash, source.path, source.name)


@st.cache_data(show_spinner=False, max_entries=32)
def _guess_cached(content_hash: str, revision_id: int, path: str, name: str, _journey_map: JourneyMap) -> MappingGuess:
    del revision_id
    sample = _raw_cached(content_hash, path, name)
    # An XES file may declare which attributes make an activity (concept:name + lifecycle:transition).
    classifiers = [c.keys for c in xes_classifiers(path)] if detect_format(name) == "xes" else []
    if sample.height < SAMPLE_ROWS:
        return guess_columns(sample, _journey_map, source=name, classifiers=classifiers)

    def labels(column: str) -> list[str]:
        return [label for label, _ in _label_counts_cached(content_hash, column, path, name)]

    return guess_columns(sample, _journey_map, labels=labels, source=name, classifiers=classifiers)


def cached_guess(source: RawSource, revision_id: int, journey_map: JourneyMap) -> MappingGuess:
    """The column guess for a source and a map revision: per field a column (or none), a confidence, a reason.

    It never fails for a field it cannot fill: the form shows that field empty with the reason.
    """
    return _guess_cached(source.content_hash, revision_id, source.path, source.name, journey_map)


@st.cache_data(show_spinner="Counting the values of a column…", max_entries=64)
def _label_counts_cached(content_hash: str, column: str, path: str, name: str) -> list[tuple[str, int]]:
    del content_hash  # the cache key: the file's content
    return count_values(path, column, fmt=detect_format(name), name=name, limit=_MAX_COUNTED)


def cached_label_counts(source: RawSource, column: str, limit: int) -> list[tuple[str, int]]:
    """The most frequent values of a raw column with their counts over the whole file.

    Only that column is read (as dictionary codes), once per file and column; the page's
    different limits are slices of the same counts.
    """
    if column not in cached_raw(source).columns:
        return []
    return _label_counts_cached(source.content_hash, column, source.path, source.name)[:limit]


def mapping_json_from_form(values: dict[str, Any]) -> str:
    """The column mapping the form's ``values`` describe, as JSON; :class:`UserInputError` naming the field."""
    try:
        return mapping_to_json(ColumnMapping.model_validate(values))
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source="column mapping") from None


def _modified(path: str) -> int:
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return 0  # a missing cache: load_log names it


@st.cache_resource(show_spinner="Loading the event log…", max_entries=3)
def _log_cached(content_hash: str, mapping_key: str, cache_path: str, modified: int) -> EventLog:
    # The cache file's modification time is part of the key: an ingest that rewrites it is read again.
    del content_hash, mapping_key, modified
    return load_log(cache_path)


def cached_log(content_hash: str, mapping_json: str, cache_path: str) -> EventLog:
    """The ingested log of a dataset, loaded once from its Parquet cache and shared."""
    return _log_cached(content_hash, mapping_hash(mapping_json), cache_path, _modified(cache_path))


def overlay_key(content_hash: str, mapping_json: str, revision_id: int, settings: OverlaySettings) -> str:
    """The cache key of one overlay's journeys: dataset content, mapping, map revision and settings.

    ``min_volume`` is left out: it only changes the rankings, which are redone on the small
    metric frames (see :func:`cached_overlay`).
    """
    return f"{content_hash[:32]}:{mapping_hash(mapping_json)[:16]}:{revision_id}:{replace(settings, min_volume=1)!r}"


def prepared_key(content_hash: str, mapping_json: str, revision_id: int, settings: OverlaySettings) -> str:
    """The cache key of the journeys every filter of these settings shares (filters left out)."""
    return overlay_key(content_hash, mapping_json, revision_id, unfiltered(settings))


@st.cache_resource(show_spinner="Cutting the journeys…", max_entries=2)
def _prepared_cached(key: str, _log: EventLog, _journey_map: JourneyMap, _settings: OverlaySettings) -> PreparedOverlay:
    del key
    return prepare_overlay(_log, _journey_map, _settings)


@st.cache_resource(show_spinner="Computing the overlay…", max_entries=8)
def _overlay_cached(
    key: str, base_key: str, _log: EventLog, _journey_map: JourneyMap, _settings: OverlaySettings
) -> Overlay:
    del key
    prepared = _prepared_cached(base_key, _log, _journey_map, unfiltered(_settings))
    return compute_overlay(_log, _journey_map, _settings, prepared=prepared)


@st.cache_resource(show_spinner=False, max_entries=32)
def _reranked(key: str, min_volume: int, _overlay: Overlay, _journey_map: JourneyMap) -> Overlay:
    del key
    settings = replace(_overlay.settings, min_volume=min_volume)
    silo = _overlay.silo_handoffs
    if silo.height:
        silo = silo.with_columns((pl.col("headline") & (pl.col("count") >= min_volume)).alias("headline"))
    friction = rank_friction(
        _overlay.touchpoints, _overlay.transitions, silo, settings, _journey_map, has_goal=_overlay.prepared.has_goal
    )
    return replace(_overlay, silo_handoffs=silo, friction=friction, settings=settings)


def cached_overlay(
    log: EventLog,
    *,
    content_hash: str,
    mapping_json: str,
    revision_id: int,
    journey_map: JourneyMap,
    settings: OverlaySettings,
) -> Overlay:
    """The overlay of a dataset on a map revision under some settings, computed once per key.

    The journeys are cut once per (dataset, mapping, revision, journey settings) and shared by
    every filter (:func:`journeymap.events.overlay.prepare_overlay`); the metrics of each filter
    are computed with ``min_volume=1`` and cached; a higher minimum volume re-ranks friction and
    re-flags headline handoffs from the cached metric frames, so moving that slider never
    recomputes anything from the events.
    """
    key = overlay_key(content_hash, mapping_json, revision_id, settings)
    base_key = prepared_key(content_hash, mapping_json, revision_id, settings)
    overlay = _overlay_cached(key, base_key, log, journey_map, replace(settings, min_volume=1))
    return overlay if settings.min_volume <= 1 else _reranked(key, settings.min_volume, overlay, journey_map)


@st.cache_data(show_spinner=False, max_entries=16)
def _log_facts_cached(
    content_hash: str, mapping_key: str, cache_path: str, modified: int
) -> tuple[date, date, dict[str, list[str]]]:
    log = _log_cached(content_hash, mapping_key, cache_path, modified)
    events = log.events
    if not events.height:
        today = datetime.now(UTC).date()
        return today, today, {}
    bounds = events.select(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last")).row(0)
    values = {
        attr: [str(v) for v in events[f"attr_{attr}"].cast(pl.String).drop_nulls().unique().sort().head(200)]
        for attr in log.attributes
    }
    return bounds[0].date(), bounds[1].date(), values


def cached_log_facts(content_hash: str, mapping_json: str, cache_path: str) -> tuple[date, date, dict[str, list[str]]]:
    """First and last event day of a dataset, and the values of each attribute (for the filters)."""
    return _log_facts_cached(content_hash, mapping_hash(mapping_json), cache_path, _modified(cache_path))


# Figures' data derived from one overlay, keyed by :func:`overlay_key` (the overlay itself is not hashed).


@st.cache_resource(show_spinner=False, max_entries=4)
def _paths_per_journey(base_key: str, level: str, _prepared: PreparedOverlay, _journey_map: JourneyMap) -> JourneyPaths:
    del base_key
    labels = _prepared.log.touchpoints
    if level == "stage":
        stage_names = {s.id: s.name for s in _journey_map.stages}
        stage_of = {tp.id: stage_names[tp.stage] for tp in _journey_map.touchpoints}
        names = {code: stage_of.get(label, "Unmapped") for code, label in enumerate(labels)}
    else:
        tp_names = {tp.id: tp.name for tp in _journey_map.touchpoints}
        names = {code: tp_names.get(label, label) for code, label in enumerate(labels)}
    return path_per_journey(_prepared.log.events, names, max_steps=6)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_paths(key: str, base_key: str, level: str, *, _overlay: Overlay, _journey_map: JourneyMap) -> pl.DataFrame:
    """Journey paths (stage by stage, or touchpoint by touchpoint) of an overlay's journeys.

    Each journey's path is worked out once per prepared log (``base_key``); a filter only counts.
    """
    del key
    return count_paths(_paths_per_journey(base_key, level, _overlay.prepared, _journey_map), _overlay.journeys)


@st.cache_resource(show_spinner=False, max_entries=2)
def _stages_per_journey(
    base_key: str, _prepared: PreparedOverlay, _journey_map: JourneyMap
) -> BitSetIndex | DistinctIndex:
    del base_key
    return stages_per_journey(_prepared.log.events, _prepared.log.touchpoints, _journey_map)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_reach(key: str, base_key: str, *, _overlay: Overlay, _journey_map: JourneyMap) -> pl.DataFrame:
    """Journeys reaching each stage of the map, then converting."""
    del key
    stages = _stages_per_journey(base_key, _overlay.prepared, _journey_map)
    return count_reach(stages, _overlay.journeys, _journey_map)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_split_warning(base_key: str, customer_is_case: bool, *, _overlay: Overlay) -> str | None:
    """The warning when the overlay's gap splits the data's cases, worked out once per prepared log.

    See :func:`journeymap.events.journeys.split_cases_warning`; ``None`` when no case is split.
    """
    del base_key
    return split_cases_warning(_overlay.prepared.log, _overlay.prepared.settings.gap, customer_is_case=customer_is_case)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_behind(key: str, item: str | tuple[str, str], *, _overlay: Overlay) -> list[int]:
    """Sample journeys behind a finding (a touchpoint id or a ``(source, target)`` pair)."""
    del key
    full = _overlay.prepared.log
    return journeys_behind(full.events, full.touchpoints, item, limit=5, keep=_overlay.keep)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_timeline(
    key: str, journey_ids: tuple[int, ...], mask: bool, *, _overlay: Overlay, _names: dict[str, str]
) -> pl.DataFrame:
    """Decoded events of some journeys for the timeline; customers masked unless ``mask`` is false."""
    del key
    full = _overlay.prepared.log
    return timeline_events(
        full.events,
        journey_ids,
        touchpoint_labels=full.touchpoints,
        channel_labels=full.channels,
        touchpoint_names=_names,
        mask=mask,
    )
