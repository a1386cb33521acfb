"""Edit operations: exact results on the named fixtures, exact error locations, and random edit sequences."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.editing import (
    TABLE_COLUMNS,
    add_stage,
    apply_table_edit,
    delete_channel,
    delete_persona,
    delete_stage,
    delete_touchpoint,
    delete_transition,
    move_stage,
    new_id,
    rename_stage,
    table_rows,
    transitions_using,
    upsert_channel,
    upsert_persona,
    upsert_touchpoint,
    upsert_transition,
)
from journeymap.errors import UserInputError
from journeymap.model import (
    Channel,
    ChannelKind,
    ContextCarry,
    JourneyMap,
    Persona,
    Touchpoint,
    Transition,
    map_from_json,
    map_to_json,
)
from tests.fixtures import bopis_map, linear_journey

PARTS = ("stages", "channels", "touchpoints", "transitions", "personas")


def _ids(items: tuple[Any, ...]) -> list[str]:
    return [item.id for item in items]


def _pairs(m: JourneyMap) -> list[tuple[str, str]]:
    return [(tr.source, tr.target) for tr in m.transitions]


# --- new_id --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "existing", "expected"),
    [
        ("Pick-up desk", [], "pick-up-desk"),
        ("  Pick-up   Desk (Store) ", [], "pick-up-desk-store"),
        ("Café crème", [], "cafe-creme"),
        ("Cart", ["cart"], "cart-2"),
        ("Cart", ["cart", "cart-2", "cart-3"], "cart-4"),
        ("<img src=x onerror=alert(1)>", [], "item"),
        ("Check <b>out</b> now", [], "check-out-now"),
        ("a < b and c > d", [], "a-b-and-c-d"),
        ("&lt;script&gt;", [], "script"),
        ("购物车", [], "item"),
        ("", ["item"], "item-2"),
        ("---", [], "item"),
        ("x" * 200, [], "x" * 60),
    ],
)
def test_new_id(name: str, existing: list[str], expected: str) -> None:
    assert new_id(name, existing) == expected


@given(st.text(max_size=100), st.lists(st.text(max_size=20), max_size=10))
def test_new_id_is_a_fresh_kebab_slug(name: str, existing: list[str]) -> None:
    result = new_id(name, existing)
    assert result not in existing
    assert result and len(result) <= 80
    assert all(part and part.isascii() and part.isalnum() and part == part.lower() for part in result.split("-"))


# --- stages --------------------------------------------------------------------------------------


def test_add_stage_at_end_and_position() -> None:
    m = add_stage(bopis_map(), "Advocacy")
    assert _ids(m.stages) == ["discover", "choose", "buy", "collect", "loyalty", "advocacy"]
    m = add_stage(m, "Discover", position=0)
    assert _ids(m.stages)[:2] == ["discover-2", "discover"]
    assert m.stages[0].name == "Discover"


@pytest.mark.parametrize(
    ("name", "position", "message"),
    [
        ("   ", None, "new stage: the name is empty. Type a name."),
        ("Later", 6, "new stage: position 6 is outside the stages (0 to 5). Choose a position from 0 (first) to 5"),
        ("Before", -1, "position -1 is outside the stages"),
        ("x" * 201, None, "new stage, field 'name': String should have at most 200 characters"),
    ],
)
def test_add_stage_refused(name: str, position: int | None, message: str) -> None:
    with pytest.raises(UserInputError) as caught:
        add_stage(bopis_map(), name, position=position)
    assert message in str(caught.value)
    assert "Nothing was changed." in str(caught.value)


def test_rename_stage_keeps_id() -> None:
    m = rename_stage(bopis_map(), "buy", "  Purchase ")
    assert [(s.id, s.name) for s in m.stages][2] == ("buy", "Purchase")
    assert m.touchpoint("checkout").stage == "buy"


def test_rename_stage_refused() -> None:
    with pytest.raises(UserInputError, match="there is no stage with id 'nope'"):
        rename_stage(bopis_map(), "nope", "X")
    with pytest.raises(UserInputError, match="stage 'Buy': the name is empty"):
        rename_stage(bopis_map(), "buy", "")


def test_delete_stage() -> None:
    assert _ids(delete_stage(bopis_map(), "loyalty").stages) == ["discover", "choose", "buy", "collect"]


def test_delete_stage_in_use_names_the_touchpoints() -> None:
    with pytest.raises(UserInputError) as caught:
        delete_stage(bopis_map(), "buy")
    assert str(caught.value) == (
        "stage 'Buy': cannot be deleted while 2 touchpoints use it: 'Online checkout' (checkout), "
        "'Delivery FAQ' (delivery-faq). Move those touchpoints to another stage or delete them first. "
        "Nothing was changed."
    )


@pytest.mark.parametrize(
    ("stage", "offset", "expected"),
    [
        ("buy", -1, ["discover", "buy", "choose", "collect", "loyalty"]),
        ("buy", 1, ["discover", "choose", "collect", "buy", "loyalty"]),
        ("buy", 0, ["discover", "choose", "buy", "collect", "loyalty"]),
        ("discover", -1, ["discover", "choose", "buy", "collect", "loyalty"]),
        ("discover", 99, ["choose", "buy", "collect", "loyalty", "discover"]),
        ("loyalty", -99, ["loyalty", "discover", "choose", "buy", "collect"]),
    ],
)
def test_move_stage(stage: str, offset: int, expected: list[str]) -> None:
    assert _ids(move_stage(bopis_map(), stage, offset).stages) == expected


# --- channels ------------------------------------------------------------------------------------


def test_upsert_channel_replaces_in_place_or_appends() -> None:
    m = upsert_channel(bopis_map(), Channel(id="app", name="App", kind=ChannelKind.DIGITAL, owner_team="Mobile"))
    assert _ids(m.channels) == ["web", "app", "store", "call"]
    assert (m.channel("app").name, m.channel("app").owner_team) == ("App", "Mobile")
    m = upsert_channel(m, Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING))
    assert _ids(m.channels) == ["web", "app", "store", "call", "chat"]


def test_delete_channel() -> None:
    m = upsert_channel(bopis_map(), Channel(id="chat", name="Chat"))
    assert _ids(delete_channel(m, "chat").channels) == ["web", "app", "store", "call"]
    with pytest.raises(UserInputError) as caught:
        delete_channel(m, "call")
    assert str(caught.value) == (
        "channel 'Call center': cannot be deleted while 1 touchpoint uses it: 'Order help line' (order-help). "
        "Move those touchpoints to another channel or delete them first. Nothing was changed."
    )
    with pytest.raises(UserInputError, match="there is no channel with id 'fax'"):
        delete_channel(m, "fax")


# --- touchpoints and transitions -----------------------------------------------------------------


def test_upsert_touchpoint_replaces_in_place_or_appends() -> None:
    m = bopis_map()
    renamed = m.touchpoint("checkout").model_copy(update={"name": "Checkout"})
    after = upsert_touchpoint(m, renamed)
    assert _ids(after.touchpoints) == _ids(m.touchpoints)
    assert after.touchpoint("checkout").name == "Checkout"
    added = upsert_touchpoint(m, Touchpoint(id="chatbot", name="Chatbot", channel="app", stage="loyalty"))
    assert _ids(added.touchpoints)[-1] == "chatbot"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "channel",
            "fax",
            "touchpoint 'Chatbot', field 'channel': unknown channel 'fax'. Choose one of: 'Website' (web)",
        ),
        ("stage", "later", "touchpoint 'Chatbot', field 'stage': unknown stage 'later'. Choose one of: 'Discover'"),
    ],
)
def test_upsert_touchpoint_refuses_unknown_references(field: str, value: str, message: str) -> None:
    tp = Touchpoint(id="chatbot", name="Chatbot", channel="app", stage="loyalty").model_copy(update={field: value})
    with pytest.raises(UserInputError) as caught:
        upsert_touchpoint(bopis_map(), tp)
    assert message in str(caught.value)


def test_transitions_using() -> None:
    assert [(t.source, t.target) for t in transitions_using(bopis_map(), "pickup-desk")] == [
        ("ready-notice", "pickup-desk"),
        ("order-help", "pickup-desk"),
        ("curbside", "pickup-desk"),
    ]
    assert transitions_using(bopis_map(), "nowhere") == []


def test_delete_touchpoint_removes_its_transitions() -> None:
    m = delete_touchpoint(bopis_map(), "ready-notice")
    assert "ready-notice" not in _ids(m.touchpoints)
    assert _pairs(m) == [
        ("search", "stock-check"),
        ("search", "checkout"),
        ("stock-check", "checkout"),
        ("checkout", "delivery-faq"),
        ("order-help", "pickup-desk"),
        ("curbside", "pickup-desk"),
    ]
    with pytest.raises(UserInputError, match="there is no touchpoint with id 'ready-notice'"):
        delete_touchpoint(m, "ready-notice")


def test_upsert_transition_replaces_or_appends() -> None:
    m = upsert_transition(bopis_map(), Transition(source="search", target="checkout", context_carry=ContextCarry.NONE))
    assert _pairs(m) == _pairs(bopis_map())
    assert m.transitions[1].context_carry is ContextCarry.NONE
    m = upsert_transition(m, Transition(source="delivery-faq", target="order-help", note="Call us"))
    assert _pairs(m)[-1] == ("delivery-faq", "order-help")


def test_upsert_transition_refuses_unknown_touchpoint() -> None:
    with pytest.raises(UserInputError) as caught:
        upsert_transition(bopis_map(), Transition(source="search", target="ghost"))
    assert "transition 'search' → 'ghost', field 'target': unknown touchpoint 'ghost'" in str(caught.value)


def test_delete_transition() -> None:
    m = delete_transition(bopis_map(), "search", "checkout")
    assert ("search", "checkout") not in _pairs(m)
    assert len(m.transitions) == 8
    with pytest.raises(UserInputError, match="there is no transition 'search' → 'checkout'"):
        delete_transition(m, "search", "checkout")


# --- personas ------------------------------------------------------------------------------------


def test_personas() -> None:
    m = upsert_persona(bopis_map(), Persona(id="student", name="Student"))
    assert _ids(m.personas) == ["busy-parent", "student"]
    m = upsert_persona(m, Persona(id="busy-parent", name="Parent", goals=("Speed",)))
    assert [(p.id, p.name, p.goals) for p in m.personas] == [
        ("busy-parent", "Parent", ("Speed",)),
        ("student", "Student", ()),
    ]
    assert _ids(delete_persona(m, "student").personas) == ["busy-parent"]
    with pytest.raises(UserInputError, match="there is no persona with id 'ghost'"):
        delete_persona(m, "ghost")


def test_a_refused_edit_leaves_the_map_unchanged() -> None:
    m = bopis_map()
    before = map_to_json(m)
    with pytest.raises(UserInputError):
        delete_stage(m, "collect")
    with pytest.raises(UserInputError):
        apply_table_edit(m, "touchpoints", [*table_rows(m, "touchpoints"), {"name": "X", "channel": "fax"}])
    assert map_to_json(m) == before


# --- table edits ---------------------------------------------------------------------------------


def test_table_rows_touchpoints() -> None:
    rows = table_rows(bopis_map(), "touchpoints")
    assert list(rows[5]) == list(TABLE_COLUMNS["touchpoints"])
    assert rows[5] == {
        "id": "pickup-desk",
        "name": "Pick-up desk",
        "channel": "store",
        "stage": "collect",
        "owner": "Fulfilment",
        "description": "",
        "emotion": -1,
        "pain_points": "Order number asked again; Queue",
        "requires_identification": True,
        "is_final": True,
    }
    assert rows[0]["owner"] == ""
    assert table_rows(bopis_map(), "transitions")[5] == {
        "source": "ready-notice",
        "target": "pickup-desk",
        "context_carry": "none",
        "note": "Desk cannot see the order",
    }


@pytest.mark.parametrize("part", PARTS)
def test_table_round_trip_is_identity(part: str) -> None:
    m = bopis_map()
    assert apply_table_edit(m, part, table_rows(m, part)) == m  # type: ignore[arg-type]


def test_table_edit_adds_rows_with_new_ids_and_defaults() -> None:
    m = bopis_map()
    rows = table_rows(m, "touchpoints") + [
        {"id": "", "name": "Checkout", "channel": "app", "stage": "buy", "owner": "", "emotion": None,
         "pain_points": "Slow ;  ; Fees", "requires_identification": None, "is_final": "yes"},
        {"id": None, "name": "Checkout", "channel": "Mobile app", "stage": "Buy", "emotion": "1",
         "pain_points": ["Tiny buttons", ""], "description": float("nan")},
    ]  # fmt: skip
    after = apply_table_edit(m, "touchpoints", rows)
    new = after.touchpoints[-2:]
    assert [(t.id, t.channel, t.stage, t.owner, t.emotion, t.pain_points, t.is_final) for t in new] == [
        ("checkout-2", "app", "buy", None, 0, ("Slow", "Fees"), True),
        ("checkout-3", "app", "buy", None, 1, ("Tiny buttons",), False),
    ]
    assert new[1].description == ""


def test_table_edit_reorders_and_renames_stages_keeping_ids() -> None:
    m = bopis_map()
    rows = list(reversed(table_rows(m, "stages")))
    rows[0]["name"] = "Advocacy"
    after = apply_table_edit(m, "stages", rows)
    assert [(s.id, s.name) for s in after.stages] == [
        ("loyalty", "Advocacy"),
        ("collect", "Collect"),
        ("buy", "Buy"),
        ("choose", "Choose"),
        ("discover", "Discover"),
    ]


def test_table_edit_skips_blank_rows() -> None:
    m = bopis_map()
    blank = {"id": None, "name": "", "channel": float("nan"), "emotion": 0, "is_final": False, "pain_points": []}
    assert apply_table_edit(m, "touchpoints", [*table_rows(m, "touchpoints"), blank]) == m


def _touchpoint_row(**changes: Any) -> dict[str, Any]:
    row = {"id": "", "name": "New", "channel": "web", "stage": "buy", "emotion": 0}
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("row", "location", "text"),
    [
        (_touchpoint_row(channel="fax"), "column 'channel'", "unknown channel 'fax'. Choose one of: 'Website' (web)"),
        (_touchpoint_row(channel=""), "column 'channel'", "no channel is given"),
        (_touchpoint_row(stage="later"), "column 'stage'", "unknown stage 'later'"),
        (_touchpoint_row(name="  "), "column 'name'", "the name is empty. Give every row a name"),
        (_touchpoint_row(emotion=3), "column 'emotion'", "3 is out of range. Use a whole number from -2"),
        (_touchpoint_row(emotion="-5"), "column 'emotion'", "-5 is out of range"),
        (_touchpoint_row(emotion=1.5), "column 'emotion'", "'1.5' is not a whole number"),
        (_touchpoint_row(emotion="sad"), "column 'emotion'", "'sad' is not a whole number"),
        (_touchpoint_row(is_final="maybe"), "column 'is_final'", "'maybe' is not yes or no"),
        (_touchpoint_row(id="search"), "column 'id'", "id 'search' is already used in row 1"),
        (_touchpoint_row(name="n" * 201), "column 'name'", "String should have at most 200 characters"),
        (_touchpoint_row(pain_points="p" * 201), "column 'pain_points'", "at most 200 characters"),
    ],
)
def test_table_edit_touchpoint_errors_name_row_and_column(row: dict[str, Any], location: str, text: str) -> None:
    m = bopis_map()
    rows = table_rows(m, "touchpoints")
    rows.insert(2, row)  # shown as row 3
    with pytest.raises(UserInputError) as caught:
        apply_table_edit(m, "touchpoints", rows)
    message = str(caught.value)
    assert message.startswith(f"touchpoints table, row 3, {location}: "), message
    assert text in message
    assert message.endswith("Nothing was changed.")


def test_table_edit_ambiguous_name_reference() -> None:
    m = upsert_channel(bopis_map(), Channel(id="web-2", name="Website"))
    with pytest.raises(UserInputError, match=r"row 1, column 'channel': 'Website' names 2 channels"):
        apply_table_edit(m, "touchpoints", [_touchpoint_row(channel="Website")])


def test_table_edit_refuses_removing_a_touchpoint_with_transitions() -> None:
    m = bopis_map()
    rows = [r for r in table_rows(m, "touchpoints") if r["id"] != "order-help"]
    with pytest.raises(UserInputError) as caught:
        apply_table_edit(m, "touchpoints", rows)
    assert str(caught.value) == (
        "touchpoints table: touchpoint 'Order help line' (order-help) (transitions "
        "'Ready-for-pickup notice' → 'Order help line', 'Order help line' → 'Pick-up desk') cannot be removed: "
        "it is still in use. Put the row back, then use 'Delete touchpoint', which asks to confirm and removes it "
        "with its transitions. Nothing was changed."
    )


def test_table_edit_removes_a_touchpoint_without_transitions() -> None:
    m = delete_transition(bopis_map(), "checkout", "delivery-faq")
    rows = [r for r in table_rows(m, "touchpoints") if r["id"] != "delivery-faq"]
    assert "delivery-faq" not in _ids(apply_table_edit(m, "touchpoints", rows).touchpoints)


def test_table_edit_refuses_removing_stage_or_channel_in_use() -> None:
    m = bopis_map()
    with pytest.raises(UserInputError) as caught:
        apply_table_edit(m, "stages", [r for r in table_rows(m, "stages") if r["id"] != "choose"])
    assert str(caught.value).startswith(
        "stages table: stage 'Choose' (used by 'Store stock check' (stock-check)) cannot be removed"
    )
    after = apply_table_edit(m, "stages", [r for r in table_rows(m, "stages") if r["id"] != "loyalty"])
    assert _ids(after.stages) == ["discover", "choose", "buy", "collect"]
    with pytest.raises(UserInputError, match="channels table: channel 'Call center' .* cannot be removed"):
        apply_table_edit(m, "channels", [r for r in table_rows(m, "channels") if r["id"] != "call"])


def test_table_edit_channels() -> None:
    m = bopis_map()
    rows = [*table_rows(m, "channels"), {"name": "Chat", "kind": "Messaging", "owner_team": ""}]
    chat = apply_table_edit(m, "channels", rows).channel("chat")
    assert (chat.kind, chat.owner_team) == (ChannelKind.MESSAGING, "Unassigned")
    rows[-1]["kind"] = "fax"
    with pytest.raises(UserInputError) as caught:
        apply_table_edit(m, "channels", rows)
    assert "channels table, row 5, column 'kind': 'fax' is not one of digital, physical, assisted, messaging" in str(
        caught.value
    )


def test_table_edit_transitions() -> None:
    m = bopis_map()
    rows = [*table_rows(m, "transitions"), {"source": "Delivery FAQ", "target": "order-help", "context_carry": ""}]
    after = apply_table_edit(m, "transitions", rows)
    assert after.transitions[-1] == Transition(source="delivery-faq", target="order-help")


@pytest.mark.parametrize(
    ("row", "location", "text"),
    [
        ({"source": "search", "target": "checkout"}, "row 10, column 'target'",
         "'search' → 'checkout' is already in row 2"),
        ({"source": "search", "target": "ghost"}, "row 10, column 'target'", "unknown touchpoint 'ghost'"),
        ({"source": "", "target": "search"}, "row 10, column 'source'", "no touchpoint is given"),
        ({"source": "search", "target": "curbside", "context_carry": "some"}, "row 10, column 'context_carry'",
         "'some' is not one of full, partial, none"),
    ],
)  # fmt: skip
def test_table_edit_transition_errors(row: dict[str, Any], location: str, text: str) -> None:
    m = bopis_map()
    with pytest.raises(UserInputError) as caught:
        apply_table_edit(m, "transitions", [*table_rows(m, "transitions"), row])
    assert str(caught.value).startswith(f"transitions table, {location}: ")
    assert text in str(caught.value)


def test_table_edit_personas() -> None:
    m = bopis_map()
    rows = [*table_rows(m, "personas"), {"id": "", "name": "Student", "goals": "Cheap; Fast", "description": None}]
    assert apply_table_edit(m, "personas", rows).personas[-1] == Persona(
        id="student", name="Student", goals=("Cheap", "Fast")
    )
    rows[0]["id"] = "student"
    rows[1]["id"] = "student"
    with pytest.raises(
        UserInputError, match="personas table, row 2, column 'id': id 'student' is already used in row 1"
    ):
        apply_table_edit(m, "personas", rows)


def test_table_edit_unknown_part() -> None:
    with pytest.raises(UserInputError, match="table editor: 'people' is not a part of the map"):
        apply_table_edit(bopis_map(), "people", [])  # type: ignore[arg-type]


def test_table_edit_accepts_missing_values_from_pandas() -> None:
    pd = pytest.importorskip("pandas")
    m = linear_journey()
    rows = [*table_rows(m, "touchpoints"), {"id": pd.NA, "name": "Help", "channel": "web", "stage": "use",
                                            "emotion": math.nan, "owner": pd.NA, "is_final": pd.NA}]  # fmt: skip
    help_tp = apply_table_edit(m, "touchpoints", rows).touchpoints[-1]
    assert (help_tp.id, help_tp.emotion, help_tp.owner, help_tp.is_final) == ("help", 0, None, False)


# --- random edit sequences -----------------------------------------------------------------------

_names = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and ";" not in s)
_texts = st.text(max_size=40)


def _edit(m: JourneyMap, data: st.DataObject) -> JourneyMap:
    """One random edit that a user could make without being refused."""
    pick = data.draw
    op = pick(st.sampled_from(["stage", "rename", "move", "channel", "touchpoint", "transition", "persona",
                               "delete", "table"]))  # fmt: skip
    if op == "stage":
        return add_stage(m, pick(_names), position=pick(st.integers(0, len(m.stages))))
    if op == "rename" and m.stages:
        stage = pick(st.sampled_from(m.stages))
        after = rename_stage(m, stage.id, pick(_names))
        assert _ids(after.stages) == _ids(m.stages)
        return after
    if op == "move" and m.stages:
        return move_stage(m, pick(st.sampled_from(m.stages)).id, pick(st.integers(-3, 3)))
    if op == "channel":
        name = pick(_names)
        channel_id = pick(st.sampled_from([*_ids(m.channels), new_id(name, _ids(m.channels))]))
        return upsert_channel(m, Channel(id=channel_id, name=name, kind=pick(st.sampled_from(list(ChannelKind)))))
    if op == "touchpoint" and m.channels and m.stages:
        name = pick(_names)
        tp = Touchpoint(
            id=pick(st.sampled_from([*_ids(m.touchpoints), new_id(name, _ids(m.touchpoints))])),
            name=name,
            channel=pick(st.sampled_from(m.channels)).id,
            stage=pick(st.sampled_from(m.stages)).id,
            emotion=pick(st.integers(-2, 2)),
            pain_points=tuple(pick(st.lists(_names, max_size=3))),
            description=pick(_texts),
            is_final=pick(st.booleans()),
        )
        return upsert_touchpoint(m, tp)
    if op == "transition" and m.touchpoints:
        source, target = (pick(st.sampled_from(m.touchpoints)).id for _ in range(2))
        carry = pick(st.sampled_from(list(ContextCarry)))
        return upsert_transition(m, Transition(source=source, target=target, context_carry=carry, note=pick(_texts)))
    if op == "persona":
        name = pick(_names)
        persona_id = pick(st.sampled_from([*_ids(m.personas), new_id(name, _ids(m.personas))]))
        return upsert_persona(m, Persona(id=persona_id, name=name, goals=tuple(pick(st.lists(_names, max_size=2)))))
    if op == "delete":
        kind = pick(st.sampled_from(["stage", "channel", "touchpoint", "transition", "persona"]))
        if kind == "touchpoint" and m.touchpoints:
            return delete_touchpoint(m, pick(st.sampled_from(m.touchpoints)).id)
        if kind == "transition" and m.transitions:
            tr = pick(st.sampled_from(m.transitions))
            return delete_transition(m, tr.source, tr.target)
        if kind == "persona" and m.personas:
            return delete_persona(m, pick(st.sampled_from(m.personas)).id)
        used_stages = {tp.stage for tp in m.touchpoints}
        used_channels = {tp.channel for tp in m.touchpoints}
        free_stages = [s.id for s in m.stages if s.id not in used_stages]
        free_channels = [c.id for c in m.channels if c.id not in used_channels]
        if kind == "stage" and free_stages:
            return delete_stage(m, pick(st.sampled_from(free_stages)))
        if kind == "channel" and free_channels:
            return delete_channel(m, pick(st.sampled_from(free_channels)))
        return m
    if op == "table":
        part = pick(st.sampled_from(PARTS))
        rows = table_rows(m, part)
        after = apply_table_edit(m, part, rows)
        assert after == m
        return after
    return m


@given(st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_valid_edits_keep_the_map_valid(data: st.DataObject) -> None:
    m = data.draw(st.sampled_from([bopis_map(), linear_journey(), JourneyMap(name="Empty")]))
    for _ in range(data.draw(st.integers(1, 15))):
        m = _edit(m, data)
        assert JourneyMap.model_validate(m.model_dump()) == m
        assert map_from_json(map_to_json(m)) == m
