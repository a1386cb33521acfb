"""Nothing saved can fail to load, and a stored revision that does fail names its last readable one.

``model_copy(update=...)`` skips validation, so a page that renamed a template that way could save
a 250-character name (the model allows 200): it was written, then never read again. Every save now
reads its document back first. Against SQLite and PostgreSQL (where the name column is VARCHAR(200)).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from journeymap.errors import UserInputError
from journeymap.model import JourneyMap, map_to_json
from journeymap.store import (
    DamagedRevisionError,
    MapRecord,
    MapRevision,
    create_map,
    get_draft,
    get_revision,
    last_readable_revision,
    latest_revision,
    list_maps,
    restore_revision,
    save_draft,
    save_revision,
)

LONG = "R" * 250
NAME_TOO_LONG = "save map, field 'name': String should have at most 200 characters."


def _long_named(journey_map: JourneyMap) -> JourneyMap:
    return journey_map.model_copy(update={"name": LONG})


def test_a_name_over_200_characters_is_refused_before_anything_is_written(
    session: Session, returns: JourneyMap
) -> None:
    with pytest.raises(UserInputError) as refused:
        create_map(session=session, journey_map=_long_named(returns), author="Ana")
    assert str(refused.value) == f"{NAME_TOO_LONG} Nothing was saved: shorten or correct that field and save again."
    assert list_maps(session=session, include_archived=True) == []

    first = create_map(session=session, journey_map=returns, author="Ana")
    with pytest.raises(UserInputError, match=NAME_TOO_LONG):
        save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=_long_named(returns),
            author="Ana",
            message="",
            base_revision_id=first.id,
        )
    with pytest.raises(UserInputError, match="unsaved edits, field 'name': String should have at most 200"):
        save_draft(
            session=session,
            map_id=first.map_id,
            client_key="tab-1",
            base_revision_id=first.id,
            journey_map=_long_named(returns),
        )
    assert latest_revision(session=session, map_id=first.map_id).number == 1
    assert get_draft(session=session, map_id=first.map_id, client_key="tab-1") is None


def test_what_is_saved_is_what_reads_back(session: Session, returns: JourneyMap) -> None:
    padded = returns.model_copy(update={"name": "  Returns  "})  # unvalidated: the model strips names
    first = create_map(session=session, journey_map=padded, author="Ana")
    assert first.journey_map.name == "Returns"
    assert list_maps(session=session)[0].name == "Returns"
    assert latest_revision(session=session, map_id=first.map_id).journey_map == returns


def test_an_overlong_client_key_is_refused(session: Session, returns: JourneyMap) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    with pytest.raises(UserInputError, match="browser client key: must be 1 to 200 characters"):
        save_draft(session=session, map_id=first.map_id, client_key="k" * 201, base_revision_id=first.id,
                   journey_map=returns)  # fmt: skip


def _damage(session: Session, revision_id: int) -> None:
    document = map_to_json(JourneyMap(name="x")).replace('"name": "x"', f'"name": "{LONG}"')
    session.exec(update(MapRevision).where(col(MapRevision.id) == revision_id).values(document=document))
    session.commit()


def test_a_damaged_latest_revision_names_the_map_and_its_last_readable_revision(
    session: Session, returns: JourneyMap
) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    second = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=returns.model_copy(update={"description": "v2"}),
        author="Bo",
        message="v2",
        base_revision_id=first.id,
    )
    third = save_revision(
        session=session,
        map_id=first.map_id,
        journey_map=returns.model_copy(update={"description": "v3"}),
        author="Cy",
        message="v3",
        base_revision_id=second.id,
    )
    _damage(session, third.id)
    _damage(session, second.id)

    with pytest.raises(DamagedRevisionError) as caught:
        latest_revision(session=session, map_id=first.map_id)
    damaged = caught.value
    assert (damaged.map_id, damaged.revision_id, damaged.map_name) == (first.map_id, third.id, "Returns")
    assert damaged.last_readable is not None and damaged.last_readable.id == first.id
    message = str(damaged)
    assert message.startswith(
        f"Saved map 'Returns' (id {first.map_id}), revision 3 (id {third.id}): the stored document is damaged "
        "(field 'name': String should have at most 200 characters). Revision 1 (saved by Ana at "
    )
    assert message.endswith("is the last one that reads: restore it from the map editor, or import the map from "
                            "an exported file.")  # fmt: skip
    with pytest.raises(DamagedRevisionError, match="revision 2"):
        get_revision(session=session, revision_id=second.id)

    readable = last_readable_revision(session=session, map_id=first.map_id)
    assert readable is not None and (readable.number, readable.journey_map) == (1, returns)
    restored = restore_revision(
        session=session, map_id=first.map_id, revision_id=first.id, author="Ana", base_revision_id=third.id
    )
    assert (restored.number, restored.message) == (4, "Restored revision 1")
    assert latest_revision(session=session, map_id=first.map_id).journey_map == returns


def test_when_no_revision_reads_the_message_says_so(session: Session, returns: JourneyMap) -> None:
    first = create_map(session=session, journey_map=returns, author="Ana")
    _damage(session, first.id)
    with pytest.raises(DamagedRevisionError, match="No earlier revision reads either") as caught:
        latest_revision(session=session, map_id=first.map_id)
    assert caught.value.last_readable is None
    assert last_readable_revision(session=session, map_id=first.map_id) is None


def test_no_text_longer_than_its_column_reaches_the_database(session: Session) -> None:
    """A guard under every store write: SQLite would keep the value, PostgreSQL would fail the statement."""
    session.add(MapRecord(name="M" * 201, owner="Ana"))
    with pytest.raises(UserInputError) as refused:
        session.flush()
    session.rollback()
    assert str(refused.value) == (
        "save maps, field 'name': is 201 characters long; at most 200 fit. Nothing was saved: shorten it and try again."
    )
    assert list_maps(session=session, include_archived=True) == []
