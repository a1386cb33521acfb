"""A small workspace for service tests: one of each kind of person, two maps, a share link, a workshop.

Built once per test session into a SQLite file and copied for each test, so every call meets the
same, untouched world. Accounts are inserted with a placeholder hash (no password is ever checked
here: the actor carries its account id, as a signed-in page does).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from journeymap.access import Actor, Role, hash_token
from journeymap.model import Channel, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.store import create_map, init_db, make_engine
from journeymap.store.access import ShareLink, UserAccount
from journeymap.store.reviews import Workshop

PEOPLE = ("owner", "editor", "viewer", "share_link", "signed_out")
SHARE_TOKEN = "share-token-of-the-first-map-0123456789"
JOIN_CODE = "ABC234"


def sample_map(name: str = "Returns") -> JourneyMap:
    """Three touchpoints in two channels, two transitions (one a silo handoff)."""
    return JourneyMap(
        name=name,
        stages=(Stage(id="buy", name="Buy"), Stage(id="help", name="Help")),
        channels=(
            Channel(id="web", name="Website", owner_team="Digital"),
            Channel(id="call", name="Call center", owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="pay", name="Payment", channel="web", stage="buy"),
            Touchpoint(id="phone", name="Phone line", channel="call", stage="help"),
        ),
        transitions=(
            Transition(source="cart", target="pay", context_carry=ContextCarry.FULL),
            Transition(source="pay", target="phone", context_carry=ContextCarry.NONE),
        ),
    )


@dataclass
class World:
    """The workspace of one test: its engine, its people, its maps."""

    engine: Engine
    path: Path
    actors: dict[str, Actor] = field(default_factory=dict)
    shared_map: int = 0  # the map the share link opens
    other_map: int = 0  # a map nobody shared
    workshop_id: int = 0  # a running workshop on the shared map
    ids: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, in order: what a refused call must leave exactly as it was."""
        with Session(self.engine) as session:
            return {
                table.name: sorted(tuple(map(repr, row)) for row in session.connection().execute(select(table)))
                for table in SQLModel.metadata.sorted_tables
            }


def build_template(path: Path) -> dict[str, Any]:
    """Write the world's database to ``path``; return its ids."""
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    ids: dict[str, Any] = {}
    with Session(engine) as session:
        for username, role in (("olive", Role.OWNER), ("eddie", Role.EDITOR), ("vera", Role.VIEWER)):
            row = UserAccount(username=username, display_name=username.title(), role=role.value, password_hash="-")
            session.add(row)
            session.flush()
            ids[role.value] = row.id
        shared = create_map(session=session, journey_map=sample_map("Returns"), author="Olive")
        other = create_map(session=session, journey_map=sample_map("Private plans"), author="Olive")
        ids["shared_map"], ids["other_map"] = shared.map_id, other.map_id
        ids["shared_revision"], ids["other_revision"] = shared.id, other.id
        session.add(ShareLink(map_id=shared.map_id, token_hash=hash_token(SHARE_TOKEN), created_by="Olive"))
        workshop = Workshop(map_id=shared.map_id, title="Returns workshop", join_code=JOIN_CODE, facilitator="Olive")
        session.add(workshop)
        session.flush()
        ids["workshop"] = workshop.id
        session.commit()
    engine.dispose()
    return ids


def open_world(template: Path, ids: dict[str, Any], path: Path) -> World:
    """A copy of the template database at ``path``, with the actors that use it."""
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    actors = {
        "owner": Actor("Olive", Role.OWNER, account_id=ids["owner"]),
        "editor": Actor("Eddie", Role.EDITOR, account_id=ids["editor"]),
        "viewer": Actor("Vera", Role.VIEWER, account_id=ids["viewer"]),
        "share_link": Actor("Share link", Role.GUEST, map_scope=ids["shared_map"]),
        "signed_out": Actor("Guest", Role.GUEST),
    }
    return World(
        engine=engine,
        path=path,
        actors=actors,
        shared_map=ids["shared_map"],
        other_map=ids["other_map"],
        workshop_id=ids["workshop"],
        ids=dict(ids),
    )


def sign_in_token(world: World, person: str) -> str:
    """A running sign-in token of ``person``'s account (written straight to the store)."""
    from journeymap.store.access import start_sign_in
    from journeymap.store.db import session_scope

    with session_scope(world.engine) as session:
        return start_sign_in(session=session, account_id=world.ids[person])


def add_assessment(world: World) -> int:
    """An assessment against the built-in framework, with one answer by Olive (written straight to the store)."""
    from datetime import date

    from journeymap.maturity import Answer, load_builtin_framework
    from journeymap.store.assessments import create_assessment, ensure_framework, save_answers
    from journeymap.store.db import session_scope

    with session_scope(world.engine) as session:
        framework = ensure_framework(session=session, framework=load_builtin_framework())
        created = create_assessment(
            session=session,
            name="Q3 review",
            business_unit="Retail",
            assessed_on=date(2026, 9, 30),
            framework_key=framework.framework_key,
            framework_revision=framework.number,
        )
        save_answers(session=session, assessment_id=created.id, answers=[Answer("Olive", "di_profile", 2)])
        return created.id
