"""The column mapping keeps every choice the user made: across a visit to another page, and in a saved mapping
opened again for the next file with the same columns.

``desk.csv`` has two columns that could be the activity: ``activity``, whose values are the map's touchpoint
ids (the guess takes it), and ``step``, the help desk's own words (``view``, ``chat``, ``dial``: 3, 2 and 1
events), which the user chooses. The ``desk`` map's first channel is *Website*, so a field that falls back to
its default shows Website instead of the chosen *Call center*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.access import Actor, Role
from journeymap.events.mapping import ColumnMapping, mapping_from_json, mapping_to_json
from journeymap.model import Channel, ChannelKind, JourneyMap, Stage, Touchpoint, Transition
from journeymap.services import data as data_services
from journeymap.store import create_map, init_db, latest_revision, list_datasets, list_mappings, session_scope
from journeymap.ui.state import OverlayKeys

PAGE = "views/overlay.py"
EDITOR = "views/editor.py"
SAVE_AS = "Save this mapping as (reused for the next file with the same columns)"
KEEP = "(keep the raw label)"

DESK = """customer_id,timestamp,ticket,channel,activity,step,team,outcome,segment
c1,01.05.2024 09:00,t1,web,browse,view,front,,vip
c1,01.05.2024 09:10,t1,chat,ask,chat,front,,vip
c1,01.05.2024 09:30,t1,phone,call,dial,back,solved,vip
c2,01.05.2024 10:00,t2,web,browse,view,front,,regular
c2,01.05.2024 10:05,t2,chat,ask,chat,back,,regular
c3,01.05.2024 11:00,t3,web,browse,view,front,,regular
"""

CHOSEN = ColumnMapping(
    customer_ids=["customer_id"],
    timestamp="timestamp",
    timestamp_format="%d.%m.%Y %H:%M",
    case="ticket",
    journeys="gap",
    channel_constant="call_center",
    touchpoint="step",
    value_map={"view": "browse", "chat": "ask", "dial": "call", "fax": "call"},  # no fax in desk.csv
    owner="team",
    outcome="outcome",
    conversion_values=["solved"],
    attributes=["segment"],
    duplicates="keep",
)
"""A mapping where every field differs from the guess and from the form's defaults."""


def desk_map() -> JourneyMap:
    return JourneyMap(
        name="Desk",
        stages=(Stage(id="look", name="Look"), Stage(id="help", name="Help")),
        channels=(
            Channel(id="web", name="Website"),
            Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING),
            Channel(id="call_center", name="Call center", kind=ChannelKind.ASSISTED),
        ),
        touchpoints=(
            Touchpoint(id="browse", name="Browse", channel="web", stage="look"),
            Touchpoint(id="ask", name="Ask in chat", channel="chat", stage="help"),
            Touchpoint(id="call", name="Call", channel="call_center", stage="help"),
        ),
        transitions=(Transition(source="browse", target="ask"), Transition(source="ask", target="call")),
    )


@pytest.fixture
def map_id(engine: Engine) -> int:
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=desk_map(), author="Test").map_id


@pytest.fixture
def desk_csv(tmp_path: Path) -> Path:
    path = tmp_path / "desk.csv"
    path.write_text(DESK, encoding="utf-8")
    return path


def _field(widgets: Sequence[Any], label: str) -> Any:
    """The one widget of the mapping form with this label."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, f"expected one widget labelled {label!r}, found {[w.label for w in widgets]}"
    return found[0]


def _shown(widgets: Sequence[Any], label: str) -> Any:
    """The value of the widget with this label, ``None`` when the form does not show it."""
    found = [w.value for w in widgets if w.label == label]
    assert len(found) <= 1, f"{len(found)} widgets labelled {label!r}"
    return found[0] if found else None


def _read(at: AppTest, path: Path) -> AppTest:
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _form(at: AppTest) -> dict[str, Any]:
    """What the mapping form shows, field by field."""
    return {
        "customer_ids": _shown(at.multiselect, "Customer identifier column(s)"),
        "timestamp": _shown(at.selectbox, "Event time"),
        "timestamp_format": _shown(at.text_input, "Time format (optional)"),
        "touchpoint": _shown(at.selectbox, "Activity / touchpoint"),
        "channel": _shown(at.selectbox, "Channel"),
        "channel_constant": _shown(at.selectbox, "Channel of every event"),
        "owner": _shown(at.selectbox, "Resource / owner team"),
        "outcome": _shown(at.selectbox, "Outcome column (optional)"),
        "conversion_values": _shown(at.multiselect, "Values that mean converted"),
        "case": _shown(at.selectbox, "Case / ticket / order column (optional)"),
        "journeys": _shown(at.radio, "Journeys"),
        "attributes": _shown(at.multiselect, "Segment / persona columns (become filters)"),
        "duplicates": _shown(at.selectbox, "Repeated rows"),
        "save_as": _shown(at.text_input, SAVE_AS),
    }


FORM_OF_CHOSEN = {
    "customer_ids": ["customer_id"],
    "timestamp": "timestamp",
    "timestamp_format": "%d.%m.%Y %H:%M",
    "touchpoint": "step",
    "channel": "(one channel for the whole file)",
    "channel_constant": "call_center",
    "owner": "team",
    "outcome": "outcome",
    "conversion_values": ["solved"],
    "case": "ticket",
    "journeys": "gap",
    "attributes": ["segment"],
    "duplicates": "keep",
    "save_as": "Desk",
}


def _value_rows(at: AppTest) -> dict[str, str]:
    """The table of raw activity values: raw value → what the Touchpoint column shows."""
    (table,) = [df.value for df in at.dataframe if list(df.value.columns) == ["Raw value", "Events", "Touchpoint"]]
    return dict(zip(table["Raw value"], table["Touchpoint"], strict=True))


def test_every_choice_survives_a_visit_to_the_map_editor(
    make_app: Callable[..., AppTest], map_id: int, desk_csv: Path, engine: Engine
) -> None:
    at = make_app().run()
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.switch_page(PAGE).run()
    _read(at, desk_csv)
    assert _field(at.selectbox, "Activity / touchpoint").value == "activity"  # the guess: values are the map's ids
    assert _field(at.selectbox, "Channel").value == "channel"

    _field(at.selectbox, "Activity / touchpoint").select("step").run()
    _field(at.text_input, "Time format (optional)").input("%d.%m.%Y %H:%M").run()
    _field(at.selectbox, "Channel").select("(one channel for the whole file)").run()
    _field(at.selectbox, "Channel of every event").select("call_center").run()
    _field(at.selectbox, "Resource / owner team").select("team").run()
    _field(at.selectbox, "Outcome column (optional)").select("outcome").run()
    _field(at.multiselect, "Values that mean converted").set_value(["solved"]).run()
    _field(at.selectbox, "Case / ticket / order column (optional)").select("ticket").run()
    _field(at.radio, "Journeys").set_value("gap").run()
    _field(at.multiselect, "Segment / persona columns (become filters)").set_value(["segment"]).run()
    _field(at.selectbox, "Repeated rows").select("keep").run()
    _field(at.text_input, SAVE_AS).input("Desk").run()
    assert _form(at) == FORM_OF_CHOSEN

    at.switch_page(EDITOR).run()
    assert not at.exception, at.exception
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception

    assert _form(at) == FORM_OF_CHOSEN
    assert _value_rows(at) == {"view": KEEP, "chat": KEEP, "dial": KEEP}

    # Applied as shown: the dataset is read with the chosen columns.
    _field(at.button, "Apply and compute the overlay").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    with session_scope(engine) as session:
        (dataset,) = list_datasets(session=session)
    applied = mapping_from_json(dataset.mapping_json)
    expected = CHOSEN.model_copy(update={"value_map": {}})
    assert applied == expected


def test_cancel_forgets_the_choices(make_app: Callable[..., AppTest], map_id: int, desk_csv: Path) -> None:
    """Cancelled, the next reading of the file starts from the guess again, not from the abandoned choices."""
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    _read(at, desk_csv)
    _field(at.selectbox, "Activity / touchpoint").select("step").run()
    _field(at.button, "Cancel").click().run()
    _read(at, desk_csv)
    assert _field(at.selectbox, "Activity / touchpoint").value == "activity"


def test_a_saved_mapping_opens_again_with_every_choice(
    make_app: Callable[..., AppTest], map_id: int, desk_csv: Path, engine: Engine
) -> None:
    editor = Actor("Test", Role.EDITOR)
    with session_scope(engine) as session:
        revision_id = latest_revision(session=session, map_id=map_id).id
    data_services.apply_mapping(
        engine,
        editor,
        source=data_services.read_server_file(engine, editor, path=str(desk_csv)),
        mapping_json=mapping_to_json(CHOSEN),
        map_id=map_id,
        base_revision_id=revision_id,
        save_as="Desk",
    )

    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    _read(at, desk_csv)
    assert [i.value for i in at.info][0].startswith("Using the saved mapping 'Desk'")
    assert _form(at) == FORM_OF_CHOSEN
    assert _value_rows(at) == {"view": "Browse [browse]", "chat": "Ask in chat [ask]", "dial": "Call [call]"}

    # Applied again unchanged, the saved mapping keeps every choice, also for a value this file does not have.
    _field(at.button, "Apply and compute the overlay").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    with session_scope(engine) as session:
        (saved,) = list_mappings(session=session)
    assert mapping_from_json(saved.mapping_json) == CHOSEN
