"""Dataset registry and saved column mappings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from journeymap.errors import UserInputError
from journeymap.model import JourneyMap
from journeymap.store import (
    DatasetInfo,
    create_map,
    find_mapping_for_columns,
    get_dataset,
    get_mapping,
    list_datasets,
    list_mappings,
    register_dataset,
    save_mapping,
)

ORDERS_HASH = "a" * 64
CALLS_HASH = "b" * 64
MAPPING = '{"customer": "cid", "timestamp": "ts", "touchpoint": "page"}'


def _register(session: Session, **overrides: object) -> DatasetInfo:
    values: dict[str, object] = {
        "name": "Orders",
        "source_filename": "orders.csv",
        "content_hash": ORDERS_HASH,
        "cache_path": "/cache/orders.parquet",
        "rows": 1200,
        "customers": 75,
        "mapping_json": MAPPING,
        "created_by": "Ana",
    }
    values.update(overrides)
    return register_dataset(session=session, **values)  # type: ignore[arg-type]


def test_register_dataset_records_every_field(session: Session, make_tiny: Callable[[str], JourneyMap]) -> None:
    first = create_map(session=session, journey_map=make_tiny("Returns"), author="Ana")
    info = register_dataset(
        session=session,
        name="Orders",
        source_filename="orders.csv",
        content_hash=ORDERS_HASH.upper(),
        cache_path="/cache/orders.parquet",
        rows=1200,
        customers=75,
        mapping_json=MAPPING,
        created_by="Ana",
        map_id=first.map_id,
    )
    fields = info.model_dump(exclude={"id", "created_at"})
    assert fields == {
        "name": "Orders",
        "source_filename": "orders.csv",
        "content_hash": ORDERS_HASH,
        "cache_path": "/cache/orders.parquet",
        "rows": 1200,
        "customers": 75,
        "created_by": "Ana",
        "mapping_json": MAPPING,
        "map_id": first.map_id,
    }
    assert get_dataset(session=session, dataset_id=info.id) == info
    assert info.created_at.tzinfo is not None


def test_registration_is_idempotent_on_content_and_mapping(session: Session) -> None:
    first = _register(session)
    same_mapping_reformatted = '{ "touchpoint": "page", "timestamp": "ts",\n "customer": "cid" }'
    again = _register(session, mapping_json=same_mapping_reformatted, name="Orders again", cache_path="/elsewhere")
    assert again == first
    other_mapping = _register(session, mapping_json='{"customer": "email", "timestamp": "ts", "touchpoint": "page"}')
    other_file = _register(session, content_hash=CALLS_HASH, name="Calls", source_filename="calls.csv")
    listed = list_datasets(session=session)
    assert [d.id for d in listed] == [other_file.id, other_mapping.id, first.id]
    assert [d.name for d in listed] == ["Calls", "Orders", "Orders"]


def test_broken_mapping_json_is_refused_and_nothing_registered(session: Session) -> None:
    with pytest.raises(UserInputError) as caught:
        _register(session, mapping_json='{"customer": ')
    assert str(caught.value).startswith("column mapping, line 1, column 14: is not valid JSON (Expecting value).")
    assert list_datasets(session=session) == []


def test_unknown_dataset_id(session: Session) -> None:
    with pytest.raises(UserInputError) as caught:
        get_dataset(session=session, dataset_id=42)
    assert str(caught.value) == (
        "No registered dataset with id 42; it may have been deleted. "
        "Choose a dataset from the list, or import the file again."
    )


def test_save_mapping_overwrites_by_name(session: Session) -> None:
    first = save_mapping(
        session=session, name="Shop export", mapping_json=MAPPING, source_columns=["cid", "ts", "page"]
    )
    assert (first.name, first.source_columns, first.mapping_json) == ("Shop export", ["cid", "ts", "page"], MAPPING)
    replaced = save_mapping(
        session=session, name=" Shop export ", mapping_json='{"customer": "cid"}', source_columns=["cid", "when"]
    )
    assert (replaced.id, replaced.created_at) == (first.id, first.created_at)
    assert replaced.updated_at >= first.updated_at
    assert (replaced.mapping_json, replaced.source_columns) == ('{"customer": "cid"}', ["cid", "when"])
    assert list_mappings(session=session) == [replaced]
    assert get_mapping(session=session, name="Shop export") == replaced


def test_find_mapping_for_columns_matches_the_same_set_newest_first(session: Session) -> None:
    old = save_mapping(session=session, name="Old", mapping_json="{}", source_columns=["cid", "ts", "page"])
    other = save_mapping(session=session, name="Calls", mapping_json="{}", source_columns=["phone", "ts"])
    new = save_mapping(session=session, name="New", mapping_json="{}", source_columns=["page", "ts", "cid"])
    found = find_mapping_for_columns(session=session, columns=["ts", "page", "cid"])
    assert found is not None and found.name == "New"
    assert [m.name for m in list_mappings(session=session)] == ["New", "Calls", "Old"]
    assert find_mapping_for_columns(session=session, columns=["cid", "ts"]) is None
    assert find_mapping_for_columns(session=session, columns=["cid", "ts", "page", "extra"]) is None
    calls = find_mapping_for_columns(session=session, columns=["ts", "phone"])
    assert calls is not None and calls.id == other.id
    # Saving the old one again makes it the newest suggestion.
    save_mapping(session=session, name="Old", mapping_json="{}", source_columns=["cid", "ts", "page"])
    again = find_mapping_for_columns(session=session, columns=["cid", "page", "ts"])
    assert again is not None and (again.id, again.name) == (old.id, "Old")
    assert new.id != old.id


def test_mapping_errors(session: Session) -> None:
    with pytest.raises(UserInputError) as caught:
        save_mapping(session=session, name="  ", mapping_json="{}", source_columns=["a"])
    assert str(caught.value) == (
        "save column mapping, field 'name': the mapping has no name. "
        "Give the mapping a name, such as the system the file comes from."
    )
    with pytest.raises(UserInputError, match="column mapping 'Shop', line 1, column 2: is not valid JSON"):
        save_mapping(session=session, name="Shop", mapping_json="{nope", source_columns=["a"])
    with pytest.raises(UserInputError) as caught:
        get_mapping(session=session, name="Shop")
    assert str(caught.value) == (
        "No saved column mapping named 'Shop'. Choose a mapping from the list, or map the columns and save the mapping."
    )
    assert list_mappings(session=session) == []
