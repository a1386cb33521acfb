"""Every service function × every kind of person: allowed or refused, and a refusal writes nothing.

The rows live beside the services they try (``cases_*.py`` in this folder). People: the owner, an
editor, a viewer, a share-link visitor (whose link opens one map) and a visitor who is not signed in.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import journeymap.services
from journeymap.access import PermissionDenied
from journeymap.services import SERVICES
from tests.unit.services.cases import Case
from tests.unit.services.world import PEOPLE, World


def _service_modules() -> None:
    for info in pkgutil.iter_modules(journeymap.services.__path__):
        importlib.import_module(f"journeymap.services.{info.name}")


def _cases() -> list[Case]:
    found: list[Case] = []
    folder = __import__("tests.unit.services", fromlist=["__path__"])
    for info in pkgutil.iter_modules(folder.__path__):
        if info.name.startswith("cases_"):
            found.extend(importlib.import_module(f"tests.unit.services.{info.name}").CASES)
    return found


_service_modules()
CASES = _cases()


def test_every_service_has_a_row() -> None:
    covered = {case.service for case in CASES}
    assert sorted(set(SERVICES) - covered) == []
    assert sorted(covered - set(SERVICES)) == []  # no row for a service that does not exist


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_access_matrix(case: Case, person: str, world: World) -> None:
    actor = world.actors[person]
    if person in case.allowed:
        result = case.call(world, actor)
        if case.check is not None:
            case.check(world, result)
        return
    before = world.rows()
    with pytest.raises(PermissionDenied):
        case.call(world, actor)
    assert world.rows() == before
