"""Persistence: saved maps as immutable revisions, drafts, datasets and column mappings.

Typical use::

    engine = make_engine()          # DATABASE_URL, JOURNEYMAP_DB or .journeymap/journeymap.db
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=m, author="Ana")
"""

from journeymap.store.datasets import (
    DatasetInfo,
    DatasetRecord,
    MappingInfo,
    SavedMapping,
    find_mapping_for_columns,
    get_dataset,
    get_mapping,
    list_datasets,
    list_mappings,
    register_dataset,
    save_mapping,
)
from journeymap.store.db import TABLE_MODULES, database_url, init_db, make_engine, session_scope
from journeymap.store.maps import (
    Draft,
    MapDraft,
    MapRecord,
    MapRevision,
    MapSummary,
    Revision,
    RevisionInfo,
    StaleRevisionError,
    archive_map,
    count_silo_handoffs,
    create_map,
    discard_draft,
    get_draft,
    get_map,
    get_revision,
    latest_revision,
    list_maps,
    list_revisions,
    restore_revision,
    save_draft,
    save_revision,
)

__all__ = [
    "TABLE_MODULES",
    "DatasetInfo",
    "DatasetRecord",
    "Draft",
    "MapDraft",
    "MapRecord",
    "MapRevision",
    "MapSummary",
    "MappingInfo",
    "Revision",
    "RevisionInfo",
    "SavedMapping",
    "StaleRevisionError",
    "archive_map",
    "count_silo_handoffs",
    "create_map",
    "database_url",
    "discard_draft",
    "find_mapping_for_columns",
    "get_dataset",
    "get_draft",
    "get_map",
    "get_mapping",
    "get_revision",
    "init_db",
    "latest_revision",
    "list_datasets",
    "list_mappings",
    "list_maps",
    "list_revisions",
    "make_engine",
    "register_dataset",
    "restore_revision",
    "save_draft",
    "save_mapping",
    "save_revision",
    "session_scope",
]
