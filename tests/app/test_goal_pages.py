"""Review, Maps and Maturity measure an overlay with the Overlay page's goal: the map's final touchpoints.

Map ``support`` (``test_overlay_goals.goal_map``): Browse (web) → Ask in chat (chat) → Call (phone);
Call is final, so it is the goal the Overlay page starts from. ``events.csv`` has no outcome column,
so without that goal nothing converts:

====  ============================  ================================
c1    browse → ask → call           converted at the call
c2    browse → ask                  abandoned at Ask in chat
c3    browse → ask                  abandoned at Ask in chat
c4    browse → call                 converted
c5    browse → ask                  abandoned at Ask in chat
c6    browse, a month later         ongoing
====  ============================  ================================

With the goal 2 of 5 finished journeys convert (40%), and 3 of the 4 journeys that reach Ask in chat
end there: the top of the friction board. Without a goal there is no completion rate and no drop-off,
and the abandon sign of the handoffs is not measured, so the context-loss evidence differs too. Each
page's figure is compared with the overlay computed here, apart from the pages, with
:func:`~journeymap.events.goals.default_settings` — and checked to differ from the overlay without a goal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from journeymap.events.goals import default_settings
from journeymap.events.ingest import load_log
from journeymap.events.overlay import Overlay, compute_overlay
from journeymap.events.settings import OverlaySettings
from journeymap.maturity.sources import evidence_from_overlay
from journeymap.store import list_datasets, session_scope
from journeymap.ui.state import OverlayKeys
from tests.app.test_maturity_page import _open, _setup, _table
from tests.app.test_overlay_goals import _apply, _metrics, _read, goal_map, map_id  # noqa: F401 (fixture)

MakeApp = Callable[..., AppTest]

EVENTS = """customer_id,timestamp,channel,activity
c1,2024-05-01T09:00:00Z,web,browse
c1,2024-05-01T09:10:00Z,chat,ask
c1,2024-05-01T09:30:00Z,phone,call
c2,2024-05-01T10:00:00Z,web,browse
c2,2024-05-01T10:10:00Z,chat,ask
c3,2024-05-01T11:00:00Z,web,browse
c3,2024-05-01T11:10:00Z,chat,ask
c4,2024-05-01T12:00:00Z,web,browse
c4,2024-05-01T12:10:00Z,phone,call
c5,2024-05-01T13:00:00Z,web,browse
c5,2024-05-01T13:10:00Z,chat,ask
c6,2024-06-01T08:00:00Z,web,browse
"""


class Overlays:
    """The dataset ingested through the Overlay page, overlaid here with and without the page's goal."""

    def __init__(self, engine: Engine) -> None:
        with session_scope(engine) as session:
            (dataset,) = list_datasets(session=session)
        log = load_log(dataset.cache_path)
        self.dataset_id = dataset.id
        self.with_goal: Overlay = compute_overlay(log, goal_map(), default_settings(goal_map()))
        self.without_goal: Overlay = compute_overlay(log, goal_map(), OverlaySettings())


@pytest.fixture
def overlays(make_app: MakeApp, map_id: int, engine: Engine, tmp_path: Path) -> Overlays:  # noqa: F811
    """Ingest ``events.csv`` on the Overlay page, whose completion rate (default goal) is 40%."""
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    at = _apply(_read(make_app, map_id, path))
    assert _metrics(at)["Completion rate"] == "40%"
    found = Overlays(engine)
    assert found.with_goal.kpis.completion_rate == 0.4
    assert found.without_goal.kpis.completion_rate is None
    return found


@pytest.fixture
def html_reports(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Callable[[], Any]]]:
    """The deferred downloads the page registers, by file name (generated on click in a browser)."""
    caught: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self: MediaFileManager, data_callable: Callable[[], Any], *args: Any, **kwargs: Any) -> str:
        caught[str(kwargs.get("file_name", args[2] if len(args) > 2 else None))] = data_callable
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    yield caught


def test_review_reports_the_completion_rate_of_the_overlay_page(
    make_app: MakeApp,
    map_id: int,  # noqa: F811
    overlays: Overlays,
    html_reports: dict[str, Callable[[], Any]],
) -> None:
    at = make_app("views/review.py").run()
    at.selectbox(key="jm_review_map").set_value(map_id).run()
    assert not at.exception, at.exception
    (name,) = [n for n in html_reports if n.endswith(".html")]
    data = html_reports[name]()
    report = data.decode() if isinstance(data, bytes) else str(data)
    assert "<tr><td>Completion rate</td><td>40.0%</td></tr>" in report  # the Overlay page's 40%
    assert "n/a — set a goal" not in report  # what the report said with no goal touchpoint
    assert overlays.with_goal.friction["finding"][0] in report.replace("&#x27;", "'")


def test_maps_shows_the_friction_headline_of_the_overlay_page(
    make_app: MakeApp, overlays: Overlays, frame: Callable[..., Any]
) -> None:
    expected = overlays.with_goal.friction["finding"][0]
    assert expected.startswith("75% of journeys that reach Ask in chat end there without reaching Call")
    assert overlays.without_goal.friction["finding"][0] != expected
    at = make_app("views/maps.py").run()
    assert not at.exception, at.exception
    table = frame(at, "Name", "Owner").set_index("Name")
    assert table.loc[goal_map().name, "Friction headline"] == expected


def test_maturity_evidence_comes_from_the_overlay_of_the_overlay_page(
    make_app: MakeApp,
    map_id: int,  # noqa: F811
    overlays: Overlays,
    engine: Engine,
) -> None:
    expected = evidence_from_overlay(overlays.with_goal)
    unset = evidence_from_overlay(overlays.without_goal)
    assert expected.context_loss_score is not None and expected.measured_integration_factor is not None
    assert (expected.context_loss_score, expected.measured_integration_factor) != (
        unset.context_loss_score,
        unset.measured_integration_factor,
    )
    at = _open(make_app, engine, _setup(engine))
    at.selectbox(key="jm_maturity_evidence_map").set_value(map_id).run()
    at.selectbox(key="jm_maturity_evidence_dataset").set_value(overlays.dataset_id).run()
    assert not at.exception, at.exception
    rows = {(r["Dimension"], r["Indicator"]): r["Value"] for r in _table(at, "Suggests level").to_dict("records")}
    assert rows[("Data integration", "measured integration factor")] == round(expected.measured_integration_factor, 3)
    assert rows[("Channel switching and context carry", "measured context loss")] == round(
        expected.context_loss_score, 3
    )


def test_overlay_page_kpi_reads_set_a_goal_without_one(make_app: MakeApp, map_id: int, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    at = _apply(_read(make_app, map_id, path))
    goals = [el for el in at.multiselect if el.key and el.key.startswith(OverlayKeys.F_GOALS)]
    goals[0].set_value([]).run()
    assert not at.exception, at.exception
    assert _metrics(at)["Completion rate"] == "n/a — set a goal"
    assert "No goal is chosen: no completion rate, drop-off or abandon is measured until one is set." in " ".join(
        c.value for c in at.caption
    )
