"""AppTest helpers: each test gets a fresh, seeded database and runs pages from the repository root."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.store import make_engine
from journeymap.viz import HEADER_PREFIX

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new SQLite file per test; the app's cached engine is keyed by this path, so it is fresh too."""
    path = tmp_path / "journeymap.db"
    monkeypatch.setenv("JOURNEYMAP_DB", str(path))
    # Files a test writes for "File on the server" live in its tmp_path; the real logs in tests/data.
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", os.pathsep.join([str(tmp_path), str(ROOT / "tests" / "data")]))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    yield path


@pytest.fixture
def engine(fresh_database: Path) -> Engine:
    """An engine on the test's database (the pages create and seed it on their first run)."""
    return make_engine(f"sqlite:///{fresh_database}")


def _app(page: str = "app.py") -> AppTest:
    return AppTest.from_file(str(ROOT / page), default_timeout=30)


def _graph_payload(at: AppTest) -> dict[str, Any]:
    """Touchpoint nodes, stage headers, edges and config the page sent to the agraph component."""
    found = [
        el
        for el in at.get("component_instance")
        if el.proto.component_name == "streamlit_agraph.agraph"  # type: ignore[attr-defined]
    ]
    assert len(found) == 1, f"expected one graph component, found {len(found)}"
    args = json.loads(found[0].proto.json_args)  # type: ignore[attr-defined]
    data = json.loads(args["data"])
    headers = [n for n in data["nodes"] if str(n["id"]).startswith(HEADER_PREFIX)]
    nodes = [n for n in data["nodes"] if not str(n["id"]).startswith(HEADER_PREFIX)]
    return {"nodes": nodes, "headers": headers, "edges": data["edges"], "config": json.loads(args["config"])}


@pytest.fixture
def make_app() -> Callable[..., AppTest]:
    """``make_app(page="app.py")``: an AppTest on a page path relative to the repository root."""
    return _app


@pytest.fixture
def graph_payload() -> Callable[[AppTest], dict[str, Any]]:
    """``graph_payload(at)``: the nodes, edges and config the page sent to the agraph component."""
    return _graph_payload


def _frame(at: AppTest, *columns: str) -> Any:
    matches = [df.value for df in at.dataframe if list(df.value.columns)[: len(columns)] == list(columns)]
    assert len(matches) == 1, f"expected one table starting with columns {columns}, found {len(matches)}"
    return matches[0]


@pytest.fixture
def frame() -> Callable[..., Any]:
    """``frame(at, "From", "To")``: the one table (a DataFrame) whose columns start with those names."""
    return _frame
