"""State keys and cached loaders of the overlay page.

Ingest once, recompute often. A raw export is read once per content hash, ingested once per
(content hash, column mapping) into an :class:`~journeymap.events.log.EventLog` that is kept as
Parquet on disk and registered in the store; the page then recomputes overlays from that log,
cached per (dataset, mapping, map revision, settings). Everything here wraps pure functions of
:mod:`journeymap` in ``st.cache_data`` (small results) or ``st.cache_resource`` (event frames,
shared read-only so a rerun never copies millions of rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl
import streamlit as st
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from journeymap.analysis.friction import rank_friction
from journeymap.editing import new_id, upsert_touchpoint
from journeymap.errors import UserInputError
from journeymap.events._columnar import BitSetIndex, DistinctIndex
from journeymap.events.identity import IdentityReport
from journeymap.events.ingest import LOG_FORMAT, ValidationReport, ingest, load_log, log_format, read_mapped, save_log
from journeymap.events.journeys import split_cases_warning
from journeymap.events.log import EventLog
from journeymap.events.mapping import ColumnMapping, MappingGuess, guess_columns, mapping_from_json, mapping_to_json
from journeymap.events.overlay import Overlay, PreparedOverlay, compute_overlay, prepare_overlay, unfiltered
from journeymap.events.read import count_values, detect_format, read_events, xes_classifiers
from journeymap.events.settings import OverlaySettings
from journeymap.json_input import load_json
from journeymap.model import JourneyMap, Touchpoint, validation_error_to_user_error
from journeymap.overlay_viz import (
    JourneyPaths,
    count_paths,
    count_reach,
    journeys_behind,
    path_per_journey,
    stages_per_journey,
    timeline_events,
)
from journeymap.store import (
    MappingInfo,
    create_map,
    find_mapping_for_columns,
    list_datasets,
    list_maps,
    register_dataset,
    save_mapping,
    save_revision,
    session_scope,
)
from journeymap.templates import load_template
from journeymap.ui.access import can_edit

__all__ = [
    "DEMO_EVENTS",
    "DEMO_MAPPING",
    "DEMO_TEMPLATE",
    "IngestOutcome",
    "OverlayKeys",
    "RawSource",
    "apply_mapping",
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
    "data_dir",
    "demo_source",
    "ensure_demo_map",
    "hash_file",
    "ingest_source",
    "overlay_key",
    "prepared_key",
    "release_upload",
    "saved_mapping_for",
    "source_from_path",
    "store_upload",
    "touchpoints_from_labels",
]

_REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_EVENTS = _REPO_ROOT / "data" / "sample" / "retail_events.csv.gz"
DEMO_MAPPING = _REPO_ROOT / "data" / "sample" / "retail_mapping.json"
DEMO_TEMPLATE = "retail-bopis"
_CHUNK = 8 * 1024 * 1024
SAMPLE_ROWS = 50_000
"""Rows read for the mapping guess and the preview; labels are counted over the whole file."""
_MAX_COUNTED = 5_000
_INGEST_STEPS = {
    "read": (0.0, "Reading the mapped columns"),
    "timestamps": (0.35, "Parsing event times"),
    "labels": (0.45, "Mapping labels to touchpoints and channels"),
    "validate": (0.55, "Checking rows and duplicates"),
    "identity": (0.65, "Resolving identities"),
    "encode": (0.75, "Encoding and sorting"),
    "save": (0.92, "Saving the event log"),
}


class OverlayKeys:
    """Session-state and widget keys of the overlay page (no page spells a key as a literal)."""

    # Choices.
    SOURCE = "jm_ov_source"
    DATASET_ID = "jm_ov_dataset_id"
    MAP_ID = "jm_ov_map_id"
    INGEST_REPORT = "jm_ov_ingest_report"
    FINDING = "jm_ov_finding"
    PAIR = "jm_ov_pair"
    NOTICE = "jm_ov_notice"

    # Data step.
    UPLOAD = "jm_ov_upload"
    UPLOAD_GENERATION = "jm_ov_upload_generation"
    UPLOAD_SUBMIT = "jm_ov_upload_submit"
    PATH = "jm_ov_path"
    PATH_SUBMIT = "jm_ov_path_submit"
    DEMO = "jm_ov_demo"
    SAVED_CHOICE = "jm_ov_saved_choice"
    SAVED_OPEN = "jm_ov_saved_open"
    MAP_CHOICE = "jm_ov_map_choice"

    # Mapping step.
    M_PREFIX = "jm_ov_m_"
    M_CUSTOMER = "jm_ov_m_customer"
    M_TIME = "jm_ov_m_time"
    M_CHANNEL = "jm_ov_m_channel"
    M_CHANNEL_CONST = "jm_ov_m_channel_const"
    M_TOUCHPOINT = "jm_ov_m_touchpoint"
    M_OWNER = "jm_ov_m_owner"
    M_CASE = "jm_ov_m_case"
    M_JOURNEYS = "jm_ov_m_journeys"
    M_OUTCOME = "jm_ov_m_outcome"
    M_CONVERSION = "jm_ov_m_conversion"
    M_ATTRIBUTES = "jm_ov_m_attributes"
    M_DUPLICATES = "jm_ov_m_duplicates"
    M_VALUES = "jm_ov_m_values"
    M_CHANNELS = "jm_ov_m_channels"
    M_CREATE_STAGE = "jm_ov_m_create_stage"
    M_CREATE_CHANNEL = "jm_ov_m_create_channel"
    M_CREATE = "jm_ov_m_create"
    M_SAVE_NAME = "jm_ov_m_save_name"
    M_APPLY = "jm_ov_m_apply"
    M_CANCEL = "jm_ov_m_cancel"

    # Overlay view.
    F_DATES = "jm_ov_f_dates"
    F_CHANNELS = "jm_ov_f_channels"
    F_ATTR_PREFIX = "jm_ov_f_attr_"
    F_MIN_VOLUME = "jm_ov_f_min_volume"
    F_GAP_HOURS = "jm_ov_f_gap_hours"
    F_GOALS = "jm_ov_f_goals"
    F_VIEW = "jm_ov_f_view"
    F_COLOR = "jm_ov_f_color"
    GRAPH = "jm_ov_graph"
    BOARD = "jm_ov_board"
    BOARD_KIND = "jm_ov_board_kind"
    HEATMAP = "jm_ov_heatmap"
    HEATMAP_METRIC = "jm_ov_heatmap_metric"
    PAIR_CHOICE = "jm_ov_pair_choice"
    CH_SEARCH = "jm_ov_ch_search"
    CH_TABLE = "jm_ov_ch_table"
    CH_DOWNLOAD = "jm_ov_ch_download"
    PAIR_ROWS = "jm_ov_pair_rows"
    TEAM_SEARCH = "jm_ov_team_search"
    TEAM_TABLE = "jm_ov_team_table"
    TEAM_DOWNLOAD = "jm_ov_team_download"
    TEAM_HEATMAP = "jm_ov_team_heatmap"
    TEAMS_TABLE = "jm_ov_teams_table"
    TEAMS_DOWNLOAD = "jm_ov_teams_download"
    DESIGNED_TABLE = "jm_ov_designed_table"
    SANKEY_LEVEL = "jm_ov_sankey_level"
    SANKEY_TOP = "jm_ov_sankey_top"
    SANKEY = "jm_ov_sankey"
    FUNNEL = "jm_ov_funnel"
    DRILL_CHOICE = "jm_ov_drill_choice"
    DRILL_UNMASK = "jm_ov_drill_unmask"
    TIMELINE = "jm_ov_timeline"


@dataclass(frozen=True)
class RawSource:
    """A raw event file the user chose: where it is, what to call it, and its content hash."""

    path: str
    name: str
    content_hash: str
    mapping_json: str | None = None  # a mapping that comes with the file (the demo dataset)


def data_dir() -> Path:
    """Where uploads and ingested logs are kept: ``JOURNEYMAP_DATA_DIR``, else beside the database."""
    configured = os.environ.get("JOURNEYMAP_DATA_DIR", "").strip()
    if configured:
        base = Path(configured).expanduser()
    else:
        db = os.environ.get("JOURNEYMAP_DB", "").strip()
        base = (Path(db).expanduser().resolve().parent if db else _REPO_ROOT / ".journeymap") / "datasets"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _suffix(name: str) -> str:
    parts = [s.lower() for s in Path(name).suffixes][-2:]
    return "".join(parts) if parts else ""


def hash_file(path: str | Path, progress: Callable[[float], None] | None = None) -> str:
    """SHA-256 of a file, read in chunks (reports the share read to ``progress``)."""
    p = Path(path)
    size = max(p.stat().st_size, 1)
    digest = hashlib.sha256()
    done = 0
    with p.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(min(done / size, 1.0))
    return digest.hexdigest()


# Hashes of server-side files by (path, size, modification time): a changed file is hashed again.
# A plain dict, not st.cache_data: the progress callback draws into the page's own progress bar, and
# cache_data would record that call and fail to replay it on a hit (CacheReplayClosureError).
_FILE_HASHES: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_FILE_HASHES_LOCK = threading.Lock()
_FILE_HASHES_MAX = 64


def _hash_cached(path: str, size: int, mtime_ns: int, progress: Callable[[float], None] | None = None) -> str:
    key = (path, size, mtime_ns)
    with _FILE_HASHES_LOCK:
        known = _FILE_HASHES.get(key)
        if known is not None:
            _FILE_HASHES.move_to_end(key)
    if known is not None:
        if progress is not None:
            progress(1.0)
        return known
    digest = hash_file(path, progress)
    with _FILE_HASHES_LOCK:
        _FILE_HASHES[key] = digest
        while len(_FILE_HASHES) > _FILE_HASHES_MAX:
            _FILE_HASHES.popitem(last=False)
    return digest


def source_from_path(
    text: str, *, mapping_json: str | None = None, progress: Callable[[float], None] | None = None
) -> RawSource:
    """A server-side file named by the user; :class:`UserInputError` when it is not a readable file.

    ``progress`` receives the share of the file hashed (a 2 GB file takes a few seconds).
    """
    raw = text.strip().strip('"').strip("'")
    if not raw:
        raise UserInputError("no path given", source="server-side path", hint="Type the full path of an event file.")
    p = Path(raw).expanduser()
    if not p.is_file():
        raise UserInputError(
            "is not a file on the server",
            source=str(p),
            hint="Check the path; it is read on the machine that runs Journeymap, not on your computer.",
        )
    stat = p.stat()
    content_hash = _hash_cached(str(p.resolve()), stat.st_size, stat.st_mtime_ns, progress)
    return RawSource(str(p.resolve()), p.name, content_hash, mapping_json)


def store_upload(upload: IO[bytes], name: str, size: int, progress: Callable[[float], None] | None = None) -> RawSource:
    """Copy an uploaded file into :func:`data_dir`, hashing it on the way; returns where it now is.

    The copy goes to a temporary name first and is renamed when complete, so a broken upload
    never leaves a half-written file under a content hash.
    """
    uploads = data_dir() / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    done = 0
    upload.seek(0)
    fd, tmp_name = tempfile.mkstemp(dir=uploads, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(min(done / max(size, 1), 1.0))
        content_hash = digest.hexdigest()
        final = uploads / f"{content_hash[:32]}{_suffix(name)}"
        if final.exists():
            os.unlink(tmp_name)
        else:
            shutil.move(tmp_name, final)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return RawSource(str(final), name, content_hash)


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
    mapped columns only (:func:`ingest_source`). A sample shorter than :data:`SAMPLE_ROWS` is the
    whole file.
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


def saved_mapping_for(engine: Engine, columns: list[str]) -> MappingInfo | None:
    """The saved mapping made for a file with exactly these columns, if any."""
    with session_scope(engine) as session:
        return find_mapping_for_columns(session=session, columns=columns)


def demo_source() -> RawSource:
    """The bundled demo dataset with its mapping."""
    if not DEMO_EVENTS.is_file() or not DEMO_MAPPING.is_file():
        raise UserInputError(
            "the demo dataset is not installed",
            source=str(DEMO_EVENTS.relative_to(_REPO_ROOT)),
            hint="Reinstall Journeymap, or upload an event file instead.",
        )
    return source_from_path(str(DEMO_EVENTS), mapping_json=DEMO_MAPPING.read_text(encoding="utf-8"))


def ensure_demo_map(engine: Engine, *, author: str) -> int:
    """The id of the saved map made from the demo's template, created from the template when missing."""
    template = load_template(DEMO_TEMPLATE)
    with session_scope(engine) as session:
        for summary in list_maps(session=session):
            if summary.name == template.name:
                return summary.id
        revision = create_map(
            session=session, journey_map=template, author=author or "Journeymap demo", message="Created for the demo"
        )
        return revision.map_id


def _dominant_channels(source: RawSource, touchpoint: str, channel: str | None) -> dict[str, str]:
    if channel is None or channel not in cached_raw(source).columns:
        return {}
    # Two columns of the whole file, as codes: grouped first, turned into text only per group.
    raw = read_events(
        source.path,
        fmt=detect_format(source.name),
        name=source.name,
        columns=[touchpoint, channel],
        categorical=[touchpoint, channel],
    )
    counts = (
        raw.select(pl.col(touchpoint).alias("t"), pl.col(channel).alias("c"))
        .drop_nulls()
        .group_by("t", "c")
        .agg(pl.len().alias("n"))
        .with_columns(pl.col("t").cast(pl.String), pl.col("c").cast(pl.String))
        .sort(["t", "n", "c"], descending=[False, True, False])
        .unique("t", keep="first", maintain_order=True)
    )
    return dict(zip(counts["t"].to_list(), counts["c"].to_list(), strict=True))


def touchpoints_from_labels(
    journey_map: JourneyMap,
    labels: list[str],
    *,
    stage: str,
    channels: dict[str, str],
    fallback_channel: str,
) -> tuple[JourneyMap, dict[str, str]]:
    """The map with one new touchpoint per raw label, and the raw label → new touchpoint id mapping.

    Each touchpoint goes to ``channels[label]`` when that is a channel of the map, else to
    ``fallback_channel``; ids are made from the labels and never collide with existing ones.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage
    >>> m = JourneyMap(name="m", stages=(Stage(id="s", name="S"),),
    ...     channels=(Channel(id="web", name="Web"), Channel(id="app", name="App")))
    >>> new_map, added = touchpoints_from_labels(m, ["Read FAQ", "Scan"], stage="s", channels={"Scan": "app"},
    ...                                          fallback_channel="web")
    >>> added, [(t.id, t.channel) for t in new_map.touchpoints]
    ({'Read FAQ': 'read-faq', 'Scan': 'scan'}, [('read-faq', 'web'), ('scan', 'app')])
    """
    channel_ids = {c.id for c in journey_map.channels}
    taken = [tp.id for tp in journey_map.touchpoints]
    added: dict[str, str] = {}
    new_map = journey_map
    for label in labels:
        tp_id = new_id(label, taken)
        taken.append(tp_id)
        channel = channels.get(label, fallback_channel)
        tp = Touchpoint(
            id=tp_id,
            name=label.strip()[:200] or tp_id,
            channel=channel if channel in channel_ids else fallback_channel,
            stage=stage,
        )
        new_map = upsert_touchpoint(new_map, tp)
        added[label] = tp_id
    return new_map, added


def _parse_mapping(data: dict[str, Any]) -> ColumnMapping:
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_user_error(exc, source="column mapping") from None


def apply_mapping(
    engine: Engine,
    source: RawSource,
    mapping: dict[str, Any] | None,
    journey_map: JourneyMap,
    *,
    map_id: int,
    revision_id: int,
    author: str,
    create: tuple[list[str], str, str] | None,
    save_name: str | None,
    progress: Callable[[float, str], None] | None = None,
) -> int:
    """Validate the mapping, optionally add touchpoints from the data, ingest, register; the dataset id.

    ``mapping`` of ``None`` uses the mapping that came with the source. ``create`` is
    ``(raw labels, stage id, fallback channel id)``: those labels become touchpoints of a new
    revision of the map first. Every problem is a :class:`UserInputError`; the ingest report
    is kept in session state for the page to show. ``progress`` receives ``(share, step)`` as
    the ingest goes (see :func:`ingest_source`). Adding touchpoints writes a map revision: only an
    editor who may change the map now can ask for it, checked before anything is written.
    """
    if create is not None and not can_edit(engine, map_id=map_id):
        raise UserInputError(
            "only an editor can add touchpoints to the map",
            source="Create touchpoints from data",
            hint="Sign in as an editor, or apply the mapping without creating touchpoints.",
        )
    if mapping is None:
        if source.mapping_json is None:
            raise UserInputError("no column mapping given", source=source.name, hint="Map the columns first.")
        column_mapping = mapping_from_json(source.mapping_json, source=f"mapping of {source.name}")
    else:
        column_mapping = _parse_mapping(mapping)
    if create is not None:
        labels, stage, fallback = create
        touchpoint_col = column_mapping.touchpoint or ""
        dominant = _dominant_channels(source, touchpoint_col, column_mapping.channel) if touchpoint_col else {}
        dominant = {label: column_mapping.channel_map.get(ch, ch) for label, ch in dominant.items()}
        journey_map, added = touchpoints_from_labels(
            journey_map, labels, stage=stage, channels=dominant, fallback_channel=fallback
        )
        with session_scope(engine) as session:
            new_revision = save_revision(
                session=session,
                map_id=map_id,
                journey_map=journey_map,
                author=author or "Anonymous",
                message=f"Added {len(added)} touchpoint(s) from {source.name}",
                base_revision_id=revision_id,
            )
        journey_map = new_revision.journey_map
        column_mapping = column_mapping.model_copy(update={"value_map": {**column_mapping.value_map, **added}})
    mapping_json = mapping_to_json(column_mapping)
    outcome = ingest_source(engine, source, mapping_json, journey_map, map_id=map_id, author=author, progress=progress)
    if save_name and save_name.strip():
        with session_scope(engine) as session:
            save_mapping(
                session=session,
                name=save_name.strip(),
                mapping_json=mapping_json,
                source_columns=cached_raw(source).columns,
            )
    lines: list[str] = []
    for report in (outcome.validation, outcome.identity):
        text = report.summary() if report is not None else ""
        if text and not any(text in line for line in lines):
            lines.append(text)
    st.session_state[OverlayKeys.INGEST_REPORT] = lines
    return outcome.dataset_id


@dataclass(frozen=True)
class IngestOutcome:
    """What an ingest produced: the registered dataset id and the reports (``None`` when the cache was reused)."""

    dataset_id: int
    validation: ValidationReport | None
    identity: IdentityReport | None


def _mapping_hash(mapping_json: str) -> str:
    value = load_json(mapping_json, source="column mapping", hint="Set the column mapping again.")
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def ingest_source(
    engine: Engine,
    source: RawSource,
    mapping_json: str,
    journey_map: JourneyMap,
    *,
    map_id: int | None,
    author: str,
    progress: Callable[[float, str], None] | None = None,
) -> IngestOutcome:
    """Ingest a raw source with a mapping, cache the log as Parquet and register the dataset.

    Only the mapped columns are read, label columns as dictionary codes, and the raw frame is
    dropped as soon as the log is built: peak memory stays a small multiple of the encoded log,
    not of the file (a 2 GB CSV of 19M events ingests in about 6 GB). ``progress`` receives
    ``(share, step)`` at each phase: reading, times, labels, checks, identities, encoding, saving.

    A dataset already ingested from the same content with the same mapping (and whose cache
    file is still there) is reused without reading the file again, unless it was ingested
    before the stitching rate was kept or in an older cache format (:data:`LOG_FORMAT`: before
    the customers' identifiers or the cases were kept): then it is ingested again. Raises
    :class:`UserInputError` for problems in the file or the mapping; nothing is registered then.
    """
    wanted = _mapping_hash(mapping_json)
    with session_scope(engine) as session:
        for known in list_datasets(session=session):
            if (
                known.content_hash == source.content_hash
                and _mapping_hash(known.mapping_json) == wanted
                and Path(known.cache_path).is_file()
                and known.stitching_rate is not None
                and log_format(known.cache_path) == LOG_FORMAT
            ):
                return IngestOutcome(dataset_id=known.id, validation=None, identity=None)
    mapping = mapping_from_json(mapping_json, source="column mapping")

    def step(name: str) -> None:
        if progress is not None:
            share, text = _INGEST_STEPS[name]
            progress(share, text)

    def reading(share: float) -> None:
        if progress is not None:
            progress(0.35 * share, _INGEST_STEPS["read"][1])

    step("read")
    raw = read_mapped(source.path, mapping, fmt=detect_format(source.name), name=source.name, progress=reading)
    log, validation, identity = ingest(raw, mapping, journey_map, source=source.name, phase=step)
    del raw  # the encoded log is all that is kept
    step("save")
    target = data_dir() / "logs" / f"{source.content_hash[:32]}-{wanted[:16]}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_log(log, target)
    customers = int(log.events["customer"].n_unique()) if log.events.height else 0
    with session_scope(engine) as session:
        info = register_dataset(
            session=session,
            name=source.name,
            source_filename=source.name,
            content_hash=source.content_hash,
            cache_path=str(target),
            rows=log.events.height,
            customers=customers,
            mapping_json=mapping_json,
            created_by=author or "Anonymous",
            map_id=map_id,
            stitching_rate=identity.stitching_rate,
        )
    _log_cached.clear()  # the cache file may have been rewritten under the same key
    return IngestOutcome(dataset_id=info.id, validation=validation, identity=identity)


@st.cache_resource(show_spinner="Loading the event log…", max_entries=3)
def _log_cached(content_hash: str, mapping_hash: str, cache_path: str) -> EventLog:
    del content_hash, mapping_hash
    return load_log(cache_path)


def cached_log(content_hash: str, mapping_json: str, cache_path: str) -> EventLog:
    """The ingested log of a dataset, loaded once from its Parquet cache and shared."""
    return _log_cached(content_hash, _mapping_hash(mapping_json), cache_path)


def overlay_key(content_hash: str, mapping_json: str, revision_id: int, settings: OverlaySettings) -> str:
    """The cache key of one overlay's journeys: dataset content, mapping, map revision and settings.

    ``min_volume`` is left out: it only changes the rankings, which are redone on the small
    metric frames (see :func:`cached_overlay`).
    """
    return f"{content_hash[:32]}:{_mapping_hash(mapping_json)[:16]}:{revision_id}:{replace(settings, min_volume=1)!r}"


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
def _log_facts_cached(content_hash: str, mapping_hash: str, cache_path: str) -> tuple[date, date, dict[str, list[str]]]:
    log = _log_cached(content_hash, mapping_hash, cache_path)
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
    return _log_facts_cached(content_hash, _mapping_hash(mapping_json), cache_path)


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
