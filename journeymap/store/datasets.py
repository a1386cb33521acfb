"""Registry of ingested event datasets and of saved column mappings.

A dataset is ingested once (read, encoded, sorted, cached as Parquet) and recomputed
from its cache many times; this module records where that cache is and what it was
built from. Column mappings are settings a team reuses: saving one under an existing
name replaces it, and a file whose header has the same columns gets it suggested.

Mappings are stored as JSON text; their meaning belongs to the event engine, and so does their
hash (:func:`journeymap.events.mapping.mapping_hash`). Functions here flush but never commit: the
service that calls them owns the transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DateTime, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from journeymap.errors import UserInputError
from journeymap.events.mapping import mapping_hash
from journeymap.store.db import as_utc, utc_now
from journeymap.store.maps import MapRecord

__all__ = [
    "DatasetBase",
    "DatasetInfo",
    "DatasetRecord",
    "MappingInfo",
    "SavedMapping",
    "find_dataset",
    "find_mapping_for_columns",
    "get_dataset",
    "get_mapping",
    "list_datasets",
    "list_mappings",
    "register_dataset",
    "save_mapping",
]


# --- datasets -----------------------------------------------------------------------


class DatasetBase(SQLModel):
    """What describes an ingested dataset."""

    name: str = Field(max_length=200)
    source_filename: str = Field(max_length=500)
    content_hash: str = Field(max_length=64, index=True)
    cache_path: str = Field(max_length=2000)
    rows: int
    customers: int
    created_by: str = Field(max_length=200)
    mapping_json: str = Field(sa_type=Text)
    map_id: int | None = Field(default=None, foreign_key=f"{MapRecord.__tablename__}.id")
    # Share of events attached to a customer known under several identifiers, measured at ingest.
    stitching_rate: float | None = Field(default=None, nullable=True)


class DatasetRecord(DatasetBase, table=True):
    """One ingested dataset: the file's hash, the mapping used, and its cache."""

    __tablename__ = "datasets"
    # The same file read with another column mapping is another dataset (another cache).
    __table_args__ = (UniqueConstraint("content_hash", "mapping_hash", name="uq_datasets_content_mapping"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    mapping_hash: str = Field(max_length=64)


class DatasetInfo(DatasetBase):
    """A registered dataset, detached from any session."""

    id: int
    created_at: datetime


def _dataset_info(row: DatasetRecord) -> DatasetInfo:
    data = row.model_dump(exclude={"mapping_hash"})
    data["created_at"] = as_utc(row.created_at)
    return DatasetInfo(**data)


def _existing_dataset(session: Session, content_hash: str, mapping_hash: str) -> DatasetRecord | None:
    return session.exec(
        select(DatasetRecord).where(
            col(DatasetRecord.content_hash) == content_hash, col(DatasetRecord.mapping_hash) == mapping_hash
        )
    ).first()


def _fill_stitching_rate(session: Session, row: DatasetRecord, stitching_rate: float | None) -> DatasetInfo:
    """The record, with ``stitching_rate`` stored when it had none (a dataset registered before it was kept)."""
    if stitching_rate is not None and row.stitching_rate is None:
        row.stitching_rate = stitching_rate
        session.add(row)
        session.flush()
    return _dataset_info(row)


def register_dataset(
    *,
    session: Session,
    name: str,
    source_filename: str,
    content_hash: str,
    cache_path: str,
    rows: int,
    customers: int,
    mapping_json: str,
    created_by: str,
    map_id: int | None = None,
    stitching_rate: float | None = None,
) -> DatasetInfo:
    """Record an ingested dataset; the same file with the same mapping returns the existing record.

    Mappings are compared by their JSON value, so key order and spacing do not matter.
    ``stitching_rate`` is the identity report's share of events attached to a customer known
    under several identifiers (``None`` when not measured). A dataset registered again keeps
    its record; a rate it lacked is filled in. When another session registers the same file with
    the same mapping at the same moment, :class:`UserInputError` asks to apply the mapping again
    (the caller's transaction is then to be rolled back: nothing of it is kept).

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with Session(engine) as session:
    ...     kwargs = dict(name="Orders", source_filename="orders.csv", content_hash="ab" * 32,
    ...                   cache_path="/cache/ab.parquet", rows=10, customers=3,
    ...                   mapping_json='{"customer": "cid"}', created_by="Ana")
    ...     first = register_dataset(session=session, **kwargs, stitching_rate=0.25)
    ...     again = register_dataset(session=session, **kwargs)
    >>> first.id == again.id, again.stitching_rate
    (True, 0.25)
    """
    content_hash = content_hash.strip().lower()
    hashed = mapping_hash(mapping_json, source="column mapping")
    existing = _existing_dataset(session, content_hash, hashed)
    if existing is not None:
        return _fill_stitching_rate(session, existing, stitching_rate)
    row = DatasetRecord(
        name=name.strip()[:200] or source_filename[:200],
        source_filename=source_filename[:500],
        content_hash=content_hash,
        cache_path=cache_path,
        rows=rows,
        customers=customers,
        created_by=created_by.strip()[:200],
        mapping_json=mapping_json,
        mapping_hash=hashed,
        map_id=map_id,
        stitching_rate=stitching_rate,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise UserInputError(
            "was registered with the same column mapping by someone else at the same moment",
            source=source_filename[:500],
            hint="Apply the mapping again: the dataset registered a moment ago is then opened.",
        ) from None
    return _dataset_info(row)


def find_dataset(*, session: Session, content_hash: str, mapping_json: str) -> DatasetInfo | None:
    """The dataset registered from this content with this mapping (compared by JSON value), if any."""
    row = _existing_dataset(session, content_hash.strip().lower(), mapping_hash(mapping_json))
    return None if row is None else _dataset_info(row)


def list_datasets(*, session: Session) -> list[DatasetInfo]:
    """Registered datasets, newest first."""
    rows = session.exec(
        select(DatasetRecord).order_by(col(DatasetRecord.created_at).desc(), col(DatasetRecord.id).desc())
    ).all()
    return [_dataset_info(row) for row in rows]


def get_dataset(*, session: Session, dataset_id: int) -> DatasetInfo:
    """One registered dataset; :class:`UserInputError` for an unknown id."""
    row = session.get(DatasetRecord, dataset_id)
    if row is None:
        raise UserInputError(
            f"No registered dataset with id {dataset_id}; it may have been deleted",
            hint="Choose a dataset from the list, or import the file again.",
        )
    return _dataset_info(row)


# --- column mappings ----------------------------------------------------------------


class SavedMapping(SQLModel, table=True):
    """A named column mapping and the header it was made for."""

    __tablename__ = "saved_mappings"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    mapping_json: str = Field(sa_type=Text)
    source_columns_json: str = Field(sa_type=Text)
    # The header as a sorted set, so "same columns in another order" is one indexed look-up.
    columns_key: str = Field(sa_type=Text, index=True)


class MappingInfo(SQLModel):
    """A saved column mapping, detached from any session."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    mapping_json: str
    source_columns: list[str]


def _columns_key(columns: list[str]) -> str:
    return json.dumps(sorted(set(columns)), ensure_ascii=False)


def _mapping_info(row: SavedMapping) -> MappingInfo:
    assert row.id is not None
    return MappingInfo(
        id=row.id,
        name=row.name,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        mapping_json=row.mapping_json,
        source_columns=json.loads(row.source_columns_json),
    )


def _mapping_row(session: Session, name: str) -> SavedMapping | None:
    return session.exec(select(SavedMapping).where(col(SavedMapping.name) == name)).first()


def save_mapping(*, session: Session, name: str, mapping_json: str, source_columns: list[str]) -> MappingInfo:
    """Save a column mapping under ``name``, replacing a mapping of that name.

    Examples
    --------
    >>> from journeymap.store import init_db, make_engine
    >>> engine = make_engine("sqlite://")
    >>> init_db(engine)
    >>> with Session(engine) as session:
    ...     _ = save_mapping(session=session, name="Shop export", mapping_json='{"customer": "cid"}',
    ...                      source_columns=["cid", "ts", "page"])
    ...     find_mapping_for_columns(session=session, columns=["page", "cid", "ts"]).name
    'Shop export'
    """
    name = name.strip()
    if not name:
        raise UserInputError(
            "the mapping has no name",
            source="save column mapping",
            location="field 'name'",
            hint="Give the mapping a name, such as the system the file comes from.",
        )
    if len(name) > 200:
        raise UserInputError(
            f"the name is {len(name)} characters long; at most 200 are allowed",
            source="save column mapping",
            location="field 'name'",
            hint="Choose a shorter name.",
        )
    mapping_hash(mapping_json, source=f"column mapping '{name}'")  # refuses broken JSON before writing
    row = _mapping_row(session, name)
    now = utc_now()
    if row is None:
        row = SavedMapping(name=name, created_at=now, mapping_json="", source_columns_json="", columns_key="")
    row.mapping_json = mapping_json
    row.source_columns_json = json.dumps(list(source_columns), ensure_ascii=False)
    row.columns_key = _columns_key(source_columns)
    row.updated_at = now
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise UserInputError(
            "a mapping of this name was saved by someone else at the same moment",
            source=f"column mapping '{name}'",
            hint="Save it again to replace theirs, or choose another name.",
        ) from None
    return _mapping_info(row)


def list_mappings(*, session: Session) -> list[MappingInfo]:
    """Saved mappings, most recently saved first."""
    rows = session.exec(
        select(SavedMapping).order_by(col(SavedMapping.updated_at).desc(), col(SavedMapping.id).desc())
    ).all()
    return [_mapping_info(row) for row in rows]


def find_mapping_for_columns(*, session: Session, columns: list[str]) -> MappingInfo | None:
    """The most recently saved mapping made for exactly these columns (in any order), if any."""
    row = session.exec(
        select(SavedMapping)
        .where(col(SavedMapping.columns_key) == _columns_key(columns))
        .order_by(col(SavedMapping.updated_at).desc(), col(SavedMapping.id).desc())
    ).first()
    return None if row is None else _mapping_info(row)


def get_mapping(*, session: Session, name: str) -> MappingInfo:
    """A saved mapping by name; :class:`UserInputError` when there is none."""
    row = _mapping_row(session, name.strip())
    if row is None:
        raise UserInputError(
            f"No saved column mapping named '{name.strip()}'",
            hint="Choose a mapping from the list, or map the columns and save the mapping.",
        )
    return _mapping_info(row)
