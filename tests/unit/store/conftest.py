"""Store tests run against real databases: a SQLite file and a throwaway PostgreSQL server."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from journeymap.model import Channel, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.store import init_db, make_engine


def _load_pg() -> ModuleType:
    # tests/ is not a package; load the helper by path so plain `pytest` finds it too.
    name = "journeymap_tests_pg"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[2] / "pg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pg = _load_pg()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One PostgreSQL server for the whole test session."""
    bindir = pg.find_postgres_bin()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL is not installed (initdb/pg_ctl not found) and CI=true: install 'postgresql'.")
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not found); install the 'postgresql' package.")
    server = pg.start_postgres(bindir)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, initialised database: a SQLite file, or a new database on the test server."""
    database = None
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'journeymap.db'}")
    else:
        server = request.getfixturevalue("pg_server")
        # A zone far from UTC, with odd minutes, so times read back must be converted.
        database, url = server.create_database(timezone="Asia/Kolkata")
        eng = make_engine(url)
    init_db(eng)
    yield eng
    eng.dispose()
    if database is not None:
        server.drop_database(database)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def returns_map(name: str = "Returns") -> JourneyMap:
    """Five touchpoints, five transitions, two silo handoffs (worked out by hand below).

    form -> login  none     same channel, same team (Digital)      not a silo handoff
    form -> faq    none     same channel, team Digital -> Care     silo handoff
    form -> track  none     web -> app, same team                  silo handoff
    track -> phone full     context travels                        not a silo handoff
    faq -> phone   partial  context partly travels                 not a silo handoff
    """
    return JourneyMap(
        name=name,
        stages=(Stage(id="service", name="Onboarding/Service"),),
        channels=(
            Channel(id="web", name="Website", owner_team="Digital"),
            Channel(id="app", name="Mobile app", owner_team="Digital"),
            Channel(id="call", name="Call center", kind="assisted", owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="form", name="Return form", channel="web", stage="service"),
            Touchpoint(id="login", name="Log in", channel="web", stage="service"),
            Touchpoint(id="faq", name="Returns FAQ", channel="web", stage="service", owner="Care"),
            Touchpoint(id="track", name="Track return", channel="app", stage="service"),
            Touchpoint(id="phone", name="Return call", channel="call", stage="service"),
        ),
        transitions=(
            Transition(source="form", target="login", context_carry=ContextCarry.NONE),
            Transition(source="form", target="faq", context_carry=ContextCarry.NONE),
            Transition(source="form", target="track", context_carry=ContextCarry.NONE),
            Transition(source="track", target="phone", context_carry=ContextCarry.FULL),
            Transition(source="faq", target="phone", context_carry=ContextCarry.PARTIAL),
        ),
    )


def tiny_map(name: str) -> JourneyMap:
    """One touchpoint, no transitions."""
    return JourneyMap(
        name=name,
        stages=(Stage(id="buy", name="Purchase"),),
        channels=(Channel(id="web", name="Website"),),
        touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),),
    )


@pytest.fixture
def returns() -> JourneyMap:
    return returns_map()


@pytest.fixture
def make_tiny() -> Callable[[str], JourneyMap]:
    return tiny_map
