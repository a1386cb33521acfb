"""A fresh copy of the service tests' world for every test (see ``world.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.services.world import World, build_template, open_world


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("world") / "template.db"
    return path, build_template(path)


@pytest.fixture
def world(world_template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[World]:
    template, ids = world_template
    opened = open_world(template, ids, tmp_path / "journeymap.db")
    yield opened
    opened.engine.dispose()
