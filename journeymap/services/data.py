"""Event data: uploads, files on the server, column mappings, ingest and the datasets they register.

Ingest once, recompute often: a raw export is read once per (content hash, column mapping), encoded
into an :class:`~journeymap.events.log.EventLog` kept as Parquet under the data folder
(:attr:`journeymap.config.Settings.data_dir`) and registered in the store. Every service here takes
the engine and the acting person first (see :mod:`journeymap.services._core`):

=========================  =========================================================================
service                    permission
=========================  =========================================================================
``store_upload``           MANAGE_DATA (copies an uploaded file into the data folder)
``read_server_file``       MANAGE_DATA, and only files under the data roots (never the database)
``save_mapping``           MANAGE_DATA
``apply_mapping``          MANAGE_DATA, READ_MAP on the map; EDIT_MAP too when it adds touchpoints
``use_demo``               MANAGE_DATA (EDIT_MAP when the demo map has to be created again)
``overlay_maps``           READ_WORKSPACE (the maps an overlay can be drawn on)
``overlay_revision``       READ_MAP on the map
``list_datasets``          READ_WORKSPACE
``get_dataset``            READ_WORKSPACE
``newest_dataset_of_map``  READ_MAP on the map (a share link's reports use it)
``list_mappings``          READ_WORKSPACE
``find_saved_mapping``     READ_WORKSPACE
=========================  =========================================================================

Applying a mapping is all or nothing: the slow part (reading and ingesting the file) runs first,
into a temporary file, and only then, in the one transaction, the new map revision (when
touchpoints are created from the data), the dataset and the saved mapping are written. A failed
ingest, a refused permission or a stale map revision leave no revision, no dataset and no cache file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl
from sqlmodel import Session

from journeymap.access import Action, Actor
from journeymap.config import settings
from journeymap.editing import new_id, upsert_touchpoint
from journeymap.errors import UserInputError
from journeymap.events.ingest import LOG_FORMAT, ingest, log_format, read_mapped, save_log
from journeymap.events.mapping import ColumnMapping, mapping_from_json, mapping_hash, mapping_to_json
from journeymap.events.read import detect_format, read_events
from journeymap.model import JourneyMap, Touchpoint
from journeymap.services._core import check, service
from journeymap.store import (
    DatasetInfo,
    MappingInfo,
    MapSummary,
    Revision,
    create_map,
    get_revision,
    latest_revision,
    list_maps,
    save_revision,
)
from journeymap.store import datasets as store
from journeymap.templates import load_template

__all__ = [
    "DEMO_EVENTS",
    "DEMO_MAPPING",
    "DEMO_TEMPLATE",
    "INGEST_STEPS",
    "Applied",
    "NewTouchpoints",
    "RawSource",
    "apply_mapping",
    "data_dir",
    "find_saved_mapping",
    "get_dataset",
    "hash_file",
    "list_datasets",
    "list_mappings",
    "newest_dataset_of_map",
    "overlay_maps",
    "overlay_revision",
    "read_server_file",
    "save_mapping",
    "store_upload",
    "touchpoints_from_labels",
    "use_demo",
]

_REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_EVENTS = _REPO_ROOT / "data" / "sample" / "retail_events.csv.gz"
DEMO_MAPPING = _REPO_ROOT / "data" / "sample" / "retail_mapping.json"
DEMO_TEMPLATE = "retail-bopis"
_CHUNK = 8 * 1024 * 1024
INGEST_STEPS = {
    "read": (0.0, "Reading the mapped columns"),
    "timestamps": (0.35, "Parsing event times"),
    "labels": (0.45, "Mapping labels to touchpoints and channels"),
    "validate": (0.55, "Checking rows and duplicates"),
    "identity": (0.65, "Resolving identities"),
    "encode": (0.75, "Encoding and sorting"),
    "save": (0.92, "Saving the event log"),
}
"""Ingest phase → (share of the work done when it starts, what the progress bar says)."""
# SQLite keeps its data in these files beside the database file: none of them is an event file.
_DATABASE_SIDE_FILES = ("", "-wal", "-shm", "-journal")

Progress = Callable[[float], None]
StepProgress = Callable[[float, str], None]


@dataclass(frozen=True)
class RawSource:
    """A raw event file chosen to be mapped: where it is, what to call it, and its content hash."""

    path: str
    name: str
    content_hash: str
    mapping_json: str | None = None  # a mapping that comes with the file (the demo dataset)


@dataclass(frozen=True)
class NewTouchpoints:
    """Raw labels to add to the map as touchpoints of ``stage`` (``fallback_channel`` when the data names none)."""

    labels: tuple[str, ...]
    stage: str
    fallback_channel: str


@dataclass(frozen=True)
class Applied:
    """What applying a mapping did: the dataset, the map revision to overlay it on, and the ingest report.

    ``report`` is empty when an earlier ingest of the same file with the same mapping was reused.
    """

    dataset_id: int
    map_id: int
    revision_id: int
    report: tuple[str, ...]


def data_dir() -> Path:
    """Where uploads and ingested logs are kept (:attr:`journeymap.config.Settings.data_dir`), created when missing."""
    base = settings().data_dir
    base.mkdir(parents=True, exist_ok=True)
    return base


# --- files --------------------------------------------------------------------------------------


def _suffix(name: str) -> str:
    return "".join(s.lower() for s in Path(name).suffixes[-2:])


def hash_file(path: str | Path, progress: Progress | None = None) -> str:
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
_FILE_HASHES: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_FILE_HASHES_LOCK = threading.Lock()
_FILE_HASHES_MAX = 64


def _hash_cached(path: Path, progress: Progress | None) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
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


def _readable_server_file(text: str) -> Path:
    """The file ``text`` names, resolved, if it lies under a data root and is no database file; else refuse."""
    raw = text.strip().strip('"').strip("'")
    if not raw:
        raise UserInputError("no path given", source="server-side path", hint="Type the full path of an event file.")
    given = Path(raw).expanduser()
    resolved = given.resolve()  # follows symlinks and removes "..": the check is on where the file really is
    conf = settings()
    roots = [root.expanduser().resolve() for root in conf.data_roots]
    database = conf.sqlite_path.expanduser().resolve()
    forbidden = {database.with_name(database.name + side) for side in _DATABASE_SIDE_FILES}
    if resolved in forbidden or not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots)
        raise UserInputError(
            "is not in a folder Journeymap may read",
            source=str(given),
            hint=f"Files on the server are read only from {allowed}. Copy the file there, or add its folder to "
            "JOURNEYMAP_DATA_ROOTS (folders separated by ':') and restart Journeymap.",
        )
    if not resolved.is_file():
        raise UserInputError(
            "is not a file on the server",
            source=str(given),
            hint="Check the path; it is read on the machine that runs Journeymap, not on your computer.",
        )
    return resolved


@service(Action.MANAGE_DATA)
def read_server_file(session: Session, actor: Actor, *, path: str, progress: Progress | None = None) -> RawSource:
    """A file on the server named by an editor, if it is under the data roots; hashed (``progress``: share done).

    The path is resolved first (``..`` and symbolic links followed), then must lie under one of
    :attr:`journeymap.config.Settings.data_roots` and be neither the SQLite database nor its side
    files. A refusal names the path, the allowed folders and how to add one.
    """
    del session, actor
    found = _readable_server_file(path)
    return RawSource(str(found), found.name, _hash_cached(found, progress))


@service(Action.MANAGE_DATA)
def store_upload(
    session: Session, actor: Actor, *, upload: IO[bytes], name: str, size: int, progress: Progress | None = None
) -> RawSource:
    """Copy an uploaded file into the data folder's ``uploads``, hashing it on the way; where it now is.

    The copy goes to a temporary name first and is renamed when complete, so a broken upload
    never leaves a half-written file under a content hash.
    """
    del session, actor
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


# --- mappings -----------------------------------------------------------------------------------


@service(Action.MANAGE_DATA)
def save_mapping(
    session: Session, actor: Actor, *, name: str, mapping_json: str, source_columns: list[str]
) -> MappingInfo:
    """Save a column mapping under ``name`` (replacing one of that name), for files with these columns."""
    del actor
    return store.save_mapping(session=session, name=name, mapping_json=mapping_json, source_columns=source_columns)


@service(Action.READ_WORKSPACE)
def list_mappings(session: Session, actor: Actor) -> list[MappingInfo]:
    """Saved column mappings, most recently saved first."""
    del actor
    return store.list_mappings(session=session)


@service(Action.READ_WORKSPACE)
def find_saved_mapping(session: Session, actor: Actor, *, columns: list[str]) -> MappingInfo | None:
    """The mapping saved most recently for a file with exactly these columns (in any order), if any."""
    del actor
    return store.find_mapping_for_columns(session=session, columns=columns)


# --- reads --------------------------------------------------------------------------------------


@service(Action.READ_WORKSPACE)
def overlay_maps(session: Session, actor: Actor) -> list[MapSummary]:
    """The maps an overlay can be drawn on (not archived), most recently changed first."""
    del actor
    return list_maps(session=session)


@service(Action.READ_MAP, map_arg="map_id")
def overlay_revision(session: Session, actor: Actor, *, map_id: int) -> Revision:
    """The latest revision of the map being overlaid."""
    del actor
    return latest_revision(session=session, map_id=map_id)


@service(Action.READ_WORKSPACE)
def list_datasets(session: Session, actor: Actor) -> list[DatasetInfo]:
    """Registered datasets, newest first."""
    del actor
    return store.list_datasets(session=session)


@service(Action.READ_WORKSPACE)
def get_dataset(session: Session, actor: Actor, *, dataset_id: int) -> DatasetInfo:
    """One registered dataset; :class:`UserInputError` for an unknown id."""
    del actor
    return store.get_dataset(session=session, dataset_id=dataset_id)


@service(Action.READ_MAP, map_arg="map_id")
def newest_dataset_of_map(session: Session, actor: Actor, *, map_id: int) -> DatasetInfo | None:
    """The dataset registered most recently for ``map_id`` (``None`` when none was), for the map's reports."""
    del actor
    return next((d for d in store.list_datasets(session=session) if d.map_id == map_id), None)


# --- applying a mapping -------------------------------------------------------------------------


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


def _dominant_channels(source: RawSource, mapping: ColumnMapping) -> dict[str, str]:
    """Raw touchpoint label → the map channel most of its events were recorded in (whole file, two columns)."""
    touchpoint, channel = mapping.touchpoint, mapping.channel
    if not touchpoint or channel is None:
        return {}
    fmt = detect_format(source.name)
    raw = read_events(
        source.path, fmt=fmt, name=source.name, columns=[touchpoint, channel], categorical=[touchpoint, channel]
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
    return {
        label: mapping.channel_map.get(ch, ch)
        for label, ch in zip(counts["t"].to_list(), counts["c"].to_list(), strict=True)
    }


@dataclass(frozen=True)
class _Ingested:
    """An ingest ready to be registered: the log's figures, and where its Parquet is (a temporary file)."""

    rows: int
    customers: int
    stitching_rate: float
    tmp_path: Path
    target: Path
    report: tuple[str, ...]


def _ingest(source: RawSource, mapping_json: str, journey_map: JourneyMap, progress: StepProgress | None) -> _Ingested:
    """Read and ingest ``source`` into a temporary Parquet file beside its final place (nothing registered)."""
    mapping = mapping_from_json(mapping_json, source="column mapping")

    def step(name: str) -> None:
        if progress is not None:
            share, text = INGEST_STEPS[name]
            progress(share, text)

    def reading(share: float) -> None:
        if progress is not None:
            progress(0.35 * share, INGEST_STEPS["read"][1])

    step("read")
    raw = read_mapped(source.path, mapping, fmt=detect_format(source.name), name=source.name, progress=reading)
    log, validation, identity = ingest(raw, mapping, journey_map, source=source.name, phase=step)
    del raw  # the encoded log is all that is kept
    step("save")
    logs = data_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    target = logs / f"{source.content_hash[:32]}-{mapping_hash(mapping_json)[:16]}.parquet"
    fd, tmp_name = tempfile.mkstemp(dir=logs, suffix=".part")
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        save_log(log, tmp_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    lines: list[str] = []
    for text in (validation.summary(), identity.summary()):
        if text and not any(text in line for line in lines):
            lines.append(text)
    customers = int(log.events["customer"].n_unique()) if log.events.height else 0
    return _Ingested(log.events.height, customers, identity.stitching_rate, tmp_path, target, tuple(lines))


def _reusable(known: DatasetInfo | None) -> bool:
    """Whether an earlier ingest can be opened as it is (its cache there, in today's format, its rate measured)."""
    return (
        known is not None
        and Path(known.cache_path).is_file()
        and known.stitching_rate is not None
        and log_format(known.cache_path) == LOG_FORMAT
    )


def _apply(
    session: Session,
    actor: Actor,
    *,
    source: RawSource,
    mapping_json: str | None,
    base: Revision | JourneyMap,
    new_touchpoints: NewTouchpoints | None,
    save_as: str | None,
    progress: StepProgress | None,
) -> Applied:
    """Ingest first (slow, no write), then write the revision, the dataset and the saved mapping together.

    ``base`` is the revision the data is for, or a map to create (as its revision 1) once the ingest is done.
    """
    if mapping_json is None:
        if source.mapping_json is None:
            raise UserInputError("no column mapping given", source=source.name, hint="Map the columns first.")
        mapping_json = source.mapping_json
    mapping = mapping_from_json(mapping_json, source=f"mapping of {source.name}")
    journey_map = base.journey_map if isinstance(base, Revision) else base
    if new_touchpoints is not None:
        journey_map, added = touchpoints_from_labels(
            journey_map,
            list(new_touchpoints.labels),
            stage=new_touchpoints.stage,
            channels=_dominant_channels(source, mapping),
            fallback_channel=new_touchpoints.fallback_channel,
        )
        mapping = mapping.model_copy(update={"value_map": {**mapping.value_map, **added}})
    mapping_json = mapping_to_json(mapping)
    known = store.find_dataset(session=session, content_hash=source.content_hash, mapping_json=mapping_json)
    ingested = None if _reusable(known) else _ingest(source, mapping_json, journey_map, progress)
    columns: list[str] = []
    if save_as and save_as.strip():
        columns = read_events(source.path, fmt=detect_format(source.name), name=source.name, rows=1).columns
    try:
        if not isinstance(base, Revision):
            base = create_map(session=session, journey_map=base, author=actor.name, message="Created for the demo")
        revision_id = base.id
        if new_touchpoints is not None:
            revision_id = save_revision(
                session=session,
                map_id=base.map_id,
                journey_map=journey_map,
                author=actor.name,
                message=f"Added {len(new_touchpoints.labels)} touchpoint(s) from {source.name}",
                base_revision_id=base.id,
            ).id
        if ingested is None:
            assert known is not None
            info = known
        else:
            info = store.register_dataset(
                session=session,
                name=source.name,
                source_filename=source.name,
                content_hash=source.content_hash,
                cache_path=str(ingested.target),
                rows=ingested.rows,
                customers=ingested.customers,
                mapping_json=mapping_json,
                created_by=actor.name,
                map_id=base.map_id,
                stitching_rate=ingested.stitching_rate,
            )
        if save_as and save_as.strip():
            store.save_mapping(session=session, name=save_as, mapping_json=mapping_json, source_columns=columns)
        if ingested is not None:
            os.replace(ingested.tmp_path, ingested.target)  # last: every write before it has been accepted
    finally:
        if ingested is not None:
            ingested.tmp_path.unlink(missing_ok=True)
    return Applied(info.id, base.map_id, revision_id, ingested.report if ingested is not None else ())


def _base_revision(session: Session, map_id: int, revision_id: int) -> Revision:
    base = get_revision(session=session, revision_id=revision_id)
    if base.map_id != map_id:
        raise UserInputError(
            f"revision {revision_id} is not a revision of map {map_id}",
            source="apply column mapping",
            hint="Open the map again and apply the mapping.",
        )
    return base


@service(Action.MANAGE_DATA)
def apply_mapping(
    session: Session,
    actor: Actor,
    *,
    source: RawSource,
    mapping_json: str | None,
    map_id: int,
    base_revision_id: int,
    new_touchpoints: NewTouchpoints | None = None,
    save_as: str | None = None,
    progress: StepProgress | None = None,
) -> Applied:
    """Ingest ``source`` with a column mapping for a map revision and register the dataset: all or nothing.

    ``mapping_json`` of ``None`` uses the mapping that came with the source. ``new_touchpoints``
    adds raw labels to the map as touchpoints, in a new revision on top of ``base_revision_id``
    (an edit of the map: EDIT_MAP, refused on a map a workshop has locked, and refused as stale
    when someone saved the map meanwhile). ``save_as`` saves the mapping under that name for the
    next file with the same columns. ``progress`` receives ``(share, step)`` as the ingest goes.

    The file is read and ingested into a temporary file before anything is written; then the
    revision, the dataset and the saved mapping are written in this one transaction. An ingest
    already made from the same content with the same mapping is reused without reading the file
    again (unless made before the stitching rate was kept or in an older cache format). Every
    problem is a :class:`UserInputError`, and then nothing is kept.
    """
    check(session, actor, Action.EDIT_MAP if new_touchpoints is not None else Action.READ_MAP, map_id=map_id)
    base = _base_revision(session, map_id, base_revision_id)
    return _apply(
        session,
        actor,
        source=source,
        mapping_json=mapping_json,
        base=base,
        new_touchpoints=new_touchpoints,
        save_as=save_as,
        progress=progress,
    )


def _demo_source() -> RawSource:
    if not DEMO_EVENTS.is_file() or not DEMO_MAPPING.is_file():
        raise UserInputError(
            "the demo dataset is not installed",
            source=str(DEMO_EVENTS.relative_to(_REPO_ROOT)),
            hint="Reinstall Journeymap, or upload an event file instead.",
        )
    return RawSource(
        str(DEMO_EVENTS), DEMO_EVENTS.name, _hash_cached(DEMO_EVENTS, None), DEMO_MAPPING.read_text(encoding="utf-8")
    )


@service(Action.MANAGE_DATA)
def use_demo(session: Session, actor: Actor, *, progress: StepProgress | None = None) -> Applied:
    """The bundled demo events on the demo map (the retail template the seed saved), ingested and registered.

    When the demo map is gone (renamed or archived), it is created again from its template: an edit
    of the workspace (EDIT_MAP), authored by the actor.
    """
    source = _demo_source()
    template = load_template(DEMO_TEMPLATE)
    demo = next((m for m in list_maps(session=session) if m.name == template.name), None)
    base: Revision | JourneyMap = template
    if demo is None:
        check(session, actor, Action.EDIT_MAP)
    else:
        base = latest_revision(session=session, map_id=demo.id)
    return _apply(
        session,
        actor,
        source=source,
        mapping_json=None,
        base=base,
        new_touchpoints=None,
        save_as=None,
        progress=progress,
    )
