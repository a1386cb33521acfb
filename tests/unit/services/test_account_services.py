"""Account and maturity services beyond the access matrix: the first account, the last owner, stale saves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from journeymap.access import Action, Actor, PermissionDenied, Role
from journeymap.errors import UserInputError
from journeymap.maturity import Answer, load_builtin_framework
from journeymap.services import accounts, maturity
from journeymap.store import init_db, make_engine
from journeymap.store.access import LastOwner
from journeymap.store.assessments import StaleFrameworkError

VISITOR = Actor("Guest", Role.GUEST)
LOCAL_OWNER = Actor("Local user", Role.OWNER)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'journeymap.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


def rows(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    with Session(engine) as session:
        connection = session.connection()
        return {
            table.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
            for table in SQLModel.metadata.sorted_tables
        }


def first_owner(engine: Engine) -> Actor:
    made = accounts.create_first_account(
        engine, VISITOR, username="olive", password="correct horse", display_name="Olive", from_local_client=True
    )
    assert made.account is not None
    return made.account.actor


def test_the_first_account_is_the_owner_and_is_signed_in(engine: Engine) -> None:
    assert accounts.is_open_mode(engine, VISITOR) is True
    made = accounts.create_first_account(
        engine, VISITOR, username="Olive", password="correct horse", display_name="Olive", from_local_client=True
    )
    assert made.account is not None and (made.account.username, made.account.role) == ("olive", Role.OWNER)
    assert accounts.account_for_sign_in(engine, VISITOR, token=made.token) == made.account
    assert accounts.is_open_mode(engine, VISITOR) is False


def test_a_second_first_account_is_refused_and_writes_nothing(engine: Engine) -> None:
    first_owner(engine)
    before = rows(engine)
    with pytest.raises(PermissionDenied, match="the workspace has an owner already"):
        accounts.create_first_account(
            engine, VISITOR, username="mallory", password="correct horse", from_local_client=True
        )
    assert rows(engine) == before


def test_a_first_account_from_elsewhere_is_refused_and_writes_nothing(engine: Engine) -> None:
    before = rows(engine)
    with pytest.raises(PermissionDenied, match="only be created on the machine that runs Journeymap"):
        accounts.create_first_account(
            engine, VISITOR, username="mallory", password="correct horse", from_local_client=False
        )
    assert rows(engine) == before
    assert accounts.is_open_mode(engine, VISITOR) is True


def test_open_local_mode_invites_nobody_before_the_owner_account(engine: Engine) -> None:
    before = rows(engine)
    with pytest.raises(UserInputError, match="the workspace has no owner account yet"):
        accounts.create_account(engine, LOCAL_OWNER, username="bo", password="correct horse", role=Role.VIEWER)
    assert rows(engine) == before


def test_the_last_owner_can_be_neither_demoted_nor_removed(engine: Engine) -> None:
    olive = first_owner(engine)
    assert olive.account_id is not None
    before = rows(engine)
    with pytest.raises(LastOwner):
        accounts.change_role(engine, olive, account_id=olive.account_id, role=Role.EDITOR)
    with pytest.raises(LastOwner):
        accounts.remove_account(engine, olive, account_id=olive.account_id)
    assert rows(engine) == before
    bo = accounts.create_account(engine, olive, username="bo", password="correct horse", role=Role.OWNER)
    accounts.change_role(engine, olive, account_id=olive.account_id, role=Role.EDITOR)
    assert [(a.username, a.role) for a in accounts.list_accounts(engine, bo.actor)] == [
        ("olive", Role.EDITOR),
        ("bo", Role.OWNER),
    ]
    # Olive's page still carries her old actor: the service acts with what she is now.
    with pytest.raises(PermissionDenied, match="editors may not manage accounts"):
        accounts.list_accounts(engine, olive)


def test_a_removed_account_acts_as_a_visitor_at_its_next_call(engine: Engine) -> None:
    olive = first_owner(engine)
    eddie = accounts.create_account(engine, olive, username="eddie", password="correct horse", role=Role.EDITOR)
    signed_in = accounts.sign_in(engine, VISITOR, username="eddie", password="correct horse")
    assert accounts.may_edit(engine, eddie.actor) is True
    accounts.remove_account(engine, olive, account_id=eddie.id)
    assert accounts.may_edit(engine, eddie.actor) is False
    assert accounts.account_for_sign_in(engine, VISITOR, token=signed_in.token) is None
    with pytest.raises(PermissionDenied, match="visitors who are not signed in may not record assessments"):
        maturity.ensure_builtin_framework(engine, eddie.actor)


def test_answers_are_the_actors_own_and_a_stale_framework_save_writes_nothing(engine: Engine) -> None:
    olive = first_owner(engine)
    eddie = accounts.create_account(engine, olive, username="eddie", password="correct horse", role=Role.EDITOR)
    maturity.ensure_builtin_framework(engine, olive)
    created = maturity.create_assessment(
        engine, olive, name="Q3", business_unit="Retail", assessed_on=date(2026, 9, 30), framework_key="omnichannel"
    )
    maturity.save_answers(engine, eddie.actor, assessment_id=created.id, answers=[Answer("Olive", "di_profile", 1)])
    assert maturity.open_assessment(engine, olive, assessment_id=created.id).answers == (
        Answer("eddie", "di_profile", 1),
    )
    edited = load_builtin_framework().model_copy(update={"name": "Edited"})
    saved = maturity.save_framework(engine, eddie.actor, framework=edited, base_number=1)
    assert (saved.number, saved.author) == (2, "eddie")
    before = rows(engine)
    with pytest.raises(StaleFrameworkError, match="was changed by eddie \\(revision 2\\)"):
        maturity.save_framework(engine, olive, framework=edited, base_number=1)
    with pytest.raises(UserInputError, match="review.json"):
        maturity.import_assessment(engine, olive, data=b"{not json", source="review.json")
    assert rows(engine) == before
    assert olive.can(Action.ASSESS)
