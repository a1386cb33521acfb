"""Who may do what on the Maturity page: members read, owners and editors write, everyone else reads nothing.

A write control drawn while someone could write can still fire after their role changed (or they
signed out in another tab): the callback asks the service, which refuses with a message and writes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from streamlit.testing.v1 import AppTest

from journeymap.access import Role
from journeymap.maturity import Answer, load_builtin_framework
from journeymap.store import session_scope
from journeymap.store.access import UserAccount
from journeymap.store.assessments import create_assessment, ensure_framework, save_answers
from journeymap.ui.state import ReviewKeys
from tests.app.signing import add_account, sign_in

MakeApp = Callable[..., AppTest]
PAGE = "views/maturity.py"
WRITE_BUTTONS = {
    "jm_maturity_new_submit",
    "jm_maturity_answer_submit",
    "jm_maturity_target_submit",
    "jm_maturity_import_submit",
    "jm_maturity_framework_submit",
}


def _assessment(engine: Engine) -> int:
    add_account(engine, "Olive")  # the workspace's owner: accounts exist, so nobody edits unsigned
    with session_scope(engine) as session:
        fw = ensure_framework(session=session, framework=load_builtin_framework())
        created = create_assessment(
            session=session,
            name="Q3 review",
            business_unit="Retail",
            assessed_on=date(2026, 9, 30),
            framework_key=fw.framework_key,
            framework_revision=fw.number,
        )
        save_answers(session=session, assessment_id=created.id, answers=[Answer("Olive", "di_profile", 3)])
        return created.id


def _rows(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of the assessment tables (what a refused write must leave as it was)."""
    names = ("framework_revisions", "assessments", "assessment_answers")
    with Session(engine) as session:
        return {
            name: sorted(
                tuple(map(repr, row)) for row in session.connection().execute(select(SQLModel.metadata.tables[name]))
            )
            for name in names
        }


def _buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


def _texts(elements: object) -> list[str]:
    """The messages shown, without the escapes that keep user text literal in Markdown."""
    return [str(e.value).replace("\\", "") for e in elements]  # type: ignore[attr-defined]


@pytest.mark.parametrize("who", ["signed out", "share link"])
def test_visitors_without_an_account_read_no_assessment(make_app: MakeApp, engine: Engine, who: str) -> None:
    _assessment(engine)
    at = make_app(PAGE)
    if who == "share link":
        at.session_state[ReviewKeys.SHARE_MAP_ID] = 1
    at.run()
    assert not at.exception, at.exception
    assert _texts(at.main.info) == [
        "Sign in to see the workspace's maturity assessments: they are read by its members only "
        "(a share link opens one map, not the assessments)."
    ]
    assert not _buttons(at) & WRITE_BUTTONS
    assert list(at.dataframe) == [] and len(at.tabs) == 0


def test_a_viewer_reads_everything_and_writes_nothing(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _assessment(engine)
    at = sign_in(make_app(PAGE), engine, "Vera", Role.VIEWER)
    at.query_params["assessment"] = str(assessment_id)
    at.run()
    assert not at.exception, at.exception
    assert not _buttons(at) & WRITE_BUTTONS
    assert at.get("file_uploader") == []
    assert at.text_area(key="jm_maturity_framework_text").disabled is True
    assert "jm_maturity_export" in {b.key for b in at.get("download_button")}  # type: ignore[attr-defined]
    assert "Vera is viewer: owners and editors answer. The Scores tab shows every answer." in _texts(at.info)


def _demote(engine: Engine, name: str) -> None:
    with session_scope(engine) as session:
        row = session.exec(select(UserAccount).where(UserAccount.username == name)).one()
        row.role = Role.VIEWER.value
        session.add(row)


@pytest.mark.parametrize(
    "button",
    [
        "jm_maturity_answer_submit",
        "jm_maturity_target_submit",
        "jm_maturity_new_submit",
        "jm_maturity_framework_submit",
    ],
)
def test_a_write_drawn_for_an_editor_is_refused_once_they_are_a_viewer(
    make_app: MakeApp, engine: Engine, button: str
) -> None:
    assessment_id = _assessment(engine)
    at = sign_in(make_app(PAGE), engine, "Eddie", Role.EDITOR)
    at.query_params["assessment"] = str(assessment_id)
    at.run()
    assert button in _buttons(at)
    if button == "jm_maturity_answer_submit":
        at.selectbox(key=f"jm_maturity_answer_{assessment_id}_Eddie_di_profile").set_value(2)
    if button == "jm_maturity_new_submit":
        at.text_input(key="jm_maturity_new_name").input("Q4")
    before = _rows(engine)

    _demote(engine, "eddie")  # the owner made Eddie a viewer while his page was open
    at.button(key=button).click().run()
    assert not at.exception, at.exception
    assert any(
        "Eddie: viewers may not record assessments. Ask an editor to do this for you" in e for e in _texts(at.error)
    ), _texts(at.error)
    assert _rows(engine) == before
    assert not _buttons(at) & WRITE_BUTTONS  # and the page now draws no write control


def test_a_write_after_signing_out_elsewhere_is_refused(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _assessment(engine)
    at = sign_in(make_app(PAGE), engine, "Eddie", Role.EDITOR)
    at.query_params["assessment"] = str(assessment_id)
    at.run()
    at.selectbox(key=f"jm_maturity_answer_{assessment_id}_Eddie_di_profile").set_value(2)
    before = _rows(engine)
    with session_scope(engine) as session:  # another tab signed out: the token has ended
        from journeymap.store.access import end_sign_in

        end_sign_in(session=session, token=str(at.session_state[ReviewKeys.SIGN_IN_TOKEN]))
    at.button(key="jm_maturity_answer_submit").click().run()
    assert not at.exception, at.exception
    assert any("visitors who are not signed in may not record assessments" in e for e in _texts(at.error))
    assert _rows(engine) == before
