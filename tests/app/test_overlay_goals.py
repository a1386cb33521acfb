"""The overlay page's goal control and what a journey is, on tiny files worked out by hand.

Map ``support``: Browse (web, stage Look) → Ask in chat (chat, Help) → Call (phone, Help); Call is a
final touchpoint, so it is the default goal.

``events.csv`` (no case column: journeys are cut by the 3-day gap), all on 2024-05-01 except c5:

====  ===========================  ===============================================
c1    browse → ask → call          outcome "converted" at the call
c2    browse → ask → call
c3    browse → ask
c4    browse → call
c5    browse on 2024-06-01         ongoing (within 3 days of the file's last event)
====  ===========================  ===============================================

With the default goal (Call) c1, c2 and c4 convert and c3 is abandoned: 3 of 4 finished journeys,
75%; the funnel is 4 finished, 4 in Look, 4 in Help, 3 converted. With no goal touchpoint only the
outcome column converts: c1, 1 of 4, 25%.

``tickets.csv`` has a ``ticket_id`` column, which the guess maps as the case: t1 (c1: browse, call,
and a call nine days later) and t2 (c2: browse, ask) are two journeys; t1 converts at its calls, t2
ended more than 3 days before the file's last event, so it is abandoned: 50%. Cut by the 3-day gap
instead, t1 is cut in two (at the nine-day pause, and at its first call, the goal): the gap splits
1 of the 2 cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.model import JourneyMap
from journeymap.store import create_map, init_db, latest_revision, list_datasets, session_scope
from journeymap.ui.state import OverlayKeys
from tests.app.test_overlay_mapping_by_hand import _read as read_on_the_page
from tests.app.test_overlay_page import _by_key_prefix as _one
from tests.app.test_overlay_page import support_map

PAGE = "views/overlay.py"


@pytest.fixture(autouse=True)
def _files_in_tmp_path_are_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "File on the server" reads only under the data roots: the test's own folder is one."""
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(tmp_path))


EVENTS = """customer_id,timestamp,channel,activity,outcome
c1,2024-05-01T09:00:00Z,web,browse,
c1,2024-05-01T09:10:00Z,chat,ask,
c1,2024-05-01T09:30:00Z,phone,call,converted
c2,2024-05-01T10:00:00Z,web,browse,
c2,2024-05-01T10:05:00Z,chat,ask,
c2,2024-05-01T10:20:00Z,phone,call,
c3,2024-05-01T11:00:00Z,web,browse,
c3,2024-05-01T11:10:00Z,chat,ask,
c4,2024-05-01T12:00:00Z,web,browse,
c4,2024-05-01T12:30:00Z,phone,call,
c5,2024-06-01T08:00:00Z,web,browse,
"""

TICKETS = """customer_id,timestamp,channel,activity,ticket_id
c1,2024-05-01T09:00:00Z,web,browse,t1
c1,2024-05-01T10:00:00Z,phone,call,t1
c1,2024-05-10T10:00:00Z,phone,call,t1
c2,2024-05-02T09:00:00Z,web,browse,t2
c2,2024-05-02T09:30:00Z,chat,ask,t2
"""


def goal_map() -> JourneyMap:
    """The support map with the call as its final touchpoint."""
    base = support_map()
    return base.model_copy(
        update={"touchpoints": tuple(t.model_copy(update={"is_final": t.id == "call"}) for t in base.touchpoints)}
    )


@pytest.fixture
def map_id(engine: Engine) -> int:
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=goal_map(), author="Test").map_id


def _read(make_app: Callable[..., AppTest], map_id: int, path: Path) -> AppTest:
    """The page with the file read through the server-side path: the mapping step is shown."""
    at = read_on_the_page(make_app, map_id, path)
    assert not at.error
    return at


def _apply(at: AppTest) -> AppTest:
    _one(at.button, OverlayKeys.M_APPLY).click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _funnel(at: AppTest) -> dict[str, Any]:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)  # type: ignore[attr-defined]
        if spec["data"] and spec["data"][0]["type"] == "funnel":
            return dict(spec["data"][0])
    raise AssertionError("no funnel on the page")


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_the_goal_defaults_to_the_final_touchpoints_and_can_be_changed(
    make_app: Callable[..., AppTest], map_id: int, tmp_path: Path
) -> None:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    at = _apply(_read(make_app, map_id, path))
    goals = _one(at.multiselect, OverlayKeys.F_GOALS)
    assert goals.value == ["call"]
    assert goals.options == ["Browse", "Ask in chat", "Call"]  # the map's touchpoints, by name
    kpis = _metrics(at)
    assert (kpis["Journeys"], kpis["Completion rate"]) == ("5", "75%")
    funnel = _funnel(at)
    assert funnel["y"] == ["Finished journeys", "Look", "Help", "Converted"]
    assert funnel["x"] == [4, 4, 4, 3]  # 3 of 4: the completion rate
    assert "Journeys: each customer's events, cut by a 3-day gap and at the goal." in _captions(at)
    assert not at.warning

    _one(at.multiselect, OverlayKeys.F_GOALS).set_value([]).run()
    assert not at.exception
    assert _metrics(at)["Completion rate"] == "25%"  # only the outcome column converts: c1
    assert _funnel(at)["x"] == [4, 4, 4, 1]


def test_a_case_column_makes_one_journey_per_case_and_the_gap_warns_when_chosen(
    make_app: Callable[..., AppTest], map_id: int, tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS, encoding="utf-8")
    at = _read(make_app, map_id, path)
    assert _one(at.selectbox, OverlayKeys.M_CASE).value == "ticket_id"  # guessed from its name
    assert _one(at.radio, OverlayKeys.M_JOURNEYS).value == "case"
    _apply(at)
    kpis = _metrics(at)
    assert (kpis["Journeys"], kpis["Customers"], kpis["Completion rate"]) == ("2", "2", "50%")
    assert "Journeys: one per case (column 'ticket\\_id'), never cut by the gap or at the goal." in _captions(at)
    assert not at.warning
    with session_scope(engine) as session:
        mapping = json.loads(list_datasets(session=session)[0].mapping_json)
    assert (mapping["case"], mapping["journeys"]) == ("ticket_id", "case")

    # The same rows with journeys cut by the gap: the page says how many cases that splits.
    again = tmp_path / "tickets-again.csv"
    again.write_text(TICKETS, encoding="utf-8")
    at = _read(make_app, map_id, again)
    _one(at.radio, OverlayKeys.M_JOURNEYS).set_value("gap").run()
    _apply(at)
    assert _metrics(at)["Journeys"] == "3"
    assert [w.value for w in at.warning] == [
        "The 3-day gap splits 50% of the 2 cases; choose journeys by case in the column mapping to keep them whole."
    ]


def test_a_dataset_cached_in_the_older_format_is_ingested_again(map_id: int, tmp_path: Path, engine: Engine) -> None:
    """The cache of a log written before cases were kept (format 1) is not reused: the next apply ingests again."""
    import polars as pl

    from journeymap.access import Actor, Role
    from journeymap.events.ingest import LOG_FORMAT, log_format
    from journeymap.events.mapping import guess_mapping, mapping_to_json
    from journeymap.events.read import read_events
    from journeymap.services import data

    editor = Actor("Test", Role.EDITOR)
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS, encoding="utf-8")
    mapping_json = mapping_to_json(guess_mapping(read_events(path), goal_map()))
    source = data.read_server_file(engine, editor, path=str(path))
    with session_scope(engine) as session:
        base_revision_id = latest_revision(session=session, map_id=map_id).id

    def apply() -> data.Applied:
        return data.apply_mapping(
            engine, editor, source=source, mapping_json=mapping_json, map_id=map_id, base_revision_id=base_revision_id
        )

    first = apply()
    again = apply()
    assert (again.dataset_id, again.report) == (first.dataset_id, ())  # reused, nothing read
    with session_scope(engine) as session:
        cache = Path(list_datasets(session=session)[0].cache_path)
    assert log_format(cache) == LOG_FORMAT
    meta = json.loads(pl.read_parquet_metadata(cache)["journeymap.event_log"])
    old = pl.read_parquet(cache).drop("case")
    old.write_parquet(cache, metadata={"journeymap.event_log": json.dumps({**meta, "version": 1})})
    renewed = apply()
    assert renewed.report != ()  # read and ingested again
    with session_scope(engine) as session:
        newest = max(list_datasets(session=session), key=lambda d: d.id)
    assert log_format(newest.cache_path) == LOG_FORMAT
    assert "case" in pl.read_parquet_schema(newest.cache_path)
