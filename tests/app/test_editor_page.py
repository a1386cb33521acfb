"""The map editor page under AppTest, on the bopis fixture whose analysis is worked out in tests/fixtures.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap import editing
from journeymap.access import Actor, Role
from journeymap.model import JourneyMap, map_to_json
from journeymap.services import reviews as review_services
from journeymap.store import create_map, get_draft, init_db, list_revisions, save_revision, session_scope
from journeymap.store.access import create_user, start_sign_in
from journeymap.store.reviews import TargetKind, handoff_target, list_comments
from journeymap.templates import blank_map, list_templates, load_template
from journeymap.ui import graph as graph_module
from journeymap.ui.access import LOCAL_USER
from journeymap.ui.state import QueryParams, ReviewKeys, StateKeys
from journeymap.viz import CARRY_STYLES, COLUMN_WIDTH, HEADER_PREFIX, PLAIN_STYLE, channel_colors, truncate_label
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
Payload = Callable[[AppTest], dict[str, Any]]
Frame = Callable[..., Any]

BOPIS_IDS = [
    "search",
    "stock-check",
    "checkout",
    "delivery-faq",
    "ready-notice",
    "pickup-desk",
    "order-help",
    "curbside",
]


def _save_fixture(engine: Engine, journey_map: JourneyMap) -> int:
    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=journey_map, author="Ana", message="fixture").map_id


def _open(make_app: MakeApp, map_id: int, *, client: str = "test-client", account: Account | None = None) -> AppTest:
    """The editor on ``map_id``: in open local mode (the local owner), or signed in with ``account``."""
    at = make_app("views/editor.py")
    at.query_params[QueryParams.MAP] = str(map_id)
    at.query_params[QueryParams.CLIENT] = client
    if account is not None:
        at.session_state[ReviewKeys.ACCOUNT] = {"id": account.id}  # the run refreshes it from the sign-in
        at.session_state[ReviewKeys.SIGN_IN_TOKEN] = account.token
    at.run()
    assert not at.exception, at.exception
    return at


@dataclass(frozen=True)
class Account:
    """An account and a running sign-in token of it."""

    id: int
    token: str


def _account(engine: Engine, username: str, role: Role) -> Account:
    """A local account named ``username.title()`` (the first one is the owner), signed in."""
    with session_scope(engine) as session:
        made = create_user(
            session=session, username=username, password="correct horse", role=role, display_name=username.title()
        )
        return Account(made.id, start_sign_in(session=session, account_id=made.id))


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


class Clicker:
    """Makes the graph component report a click on a node, as the browser would; ``release()`` stops."""

    def __init__(self) -> None:
        self.node: str | None = None

    def __call__(self, node_id: str) -> None:
        self.node = node_id

    def release(self) -> None:
        self.node = None


@pytest.fixture
def click(monkeypatch: pytest.MonkeyPatch) -> Clicker:
    clicker = Clicker()
    original = graph_module._call_component

    def fake(**kwargs: Any) -> Any:
        return clicker.node if clicker.node is not None else original(**kwargs)

    monkeypatch.setattr(graph_module, "_call_component", fake)
    return clicker


@pytest.fixture
def bopis_id(engine: Engine) -> int:
    return _save_fixture(engine, bopis_map())


def test_the_editor_opens_the_retail_demo_map_by_default(make_app: MakeApp, graph_payload: Payload) -> None:
    at = make_app("views/editor.py").run()
    assert not at.exception
    assert at.title[0].value == "Map editor"
    retail = next(info for info in list_templates() if info.id == "retail-bopis")
    assert at.subheader[0].value.replace("\\", "") == retail.name
    metrics = _metrics(at)
    assert (metrics["Touchpoints"], metrics["Transitions"], metrics["Channels"]) == (
        str(retail.touchpoints),
        str(retail.transitions),
        str(retail.channels),
    )
    payload = graph_payload(at)
    assert len(payload["nodes"]) == retail.touchpoints
    # One header per stage, above its column, in stage order; the compact layout has no channel lanes to name.
    headers = [(h["label"], h["x"]) for h in payload["headers"] if h["id"].startswith(HEADER_PREFIX + "stage:")]
    assert len(headers) == len(payload["headers"])
    assert [label for label, _ in headers] == [s.name for s in load_template("retail-bopis").stages]
    assert [x for _, x in headers] == [i * COLUMN_WIDTH for i in range(len(headers))]
    assert max(h["y"] for h in payload["headers"]) < min(n["y"] for n in payload["nodes"])
    # The lanes layout names each channel's lane on its left, level with the lane.
    at.radio(key=StateKeys.GRAPH_LAYOUT).set_value("lanes").run()
    lanes = graph_payload(at)
    lane_headers = [h for h in lanes["headers"] if h["id"].startswith(HEADER_PREFIX + "lane:")]
    used = {tp.channel for tp in load_template("retail-bopis").touchpoints}
    names = [c.name for c in load_template("retail-bopis").channels if c.id in used]
    assert [h["label"] for h in lane_headers] == [truncate_label(name, 24) for name in names]
    assert all(name in h["title"] for h, name in zip(lane_headers, names, strict=True))  # the whole name on hover
    left = min(n["x"] for n in lanes["nodes"])
    assert all(h["x"] < left for h in lane_headers)
    for header in lane_headers:
        channel = header["id"].removeprefix(HEADER_PREFIX + "lane:")
        ys = [
            n["y"]
            for n in lanes["nodes"]
            if n["id"] in {t.id for t in load_template("retail-bopis").touchpoints if t.channel == channel}
        ]
        assert min(ys) <= header["y"] <= max(ys)


def test_counts_of_the_bopis_fixture(make_app: MakeApp, bopis_id: int) -> None:
    metrics = _metrics(_open(make_app, bopis_id))
    assert metrics["Touchpoints"] == "8"
    assert metrics["Transitions"] == "9"
    assert metrics["Channels"] == "4"
    assert metrics["Stages"] == "5"
    assert metrics["Handoffs"] == "7"  # T1, T3, T5, T6, T7, T8, T9
    assert metrics["Silo handoffs"] == "2"  # T6, T8
    assert metrics["Designed integration factor"] == "0.50"  # (2 full + 2 x 0.5 partial) / 6 cross-channel
    assert metrics["Dead ends"] == "1"
    assert metrics["Unreachable touchpoints"] == "1"


def test_graph_component_holds_nodes_colours_and_carry_styles(
    make_app: MakeApp, bopis_id: int, graph_payload: Payload
) -> None:
    payload = graph_payload(_open(make_app, bopis_id))
    colors = channel_colors(bopis_map())
    channel_of = {tp.id: tp.channel for tp in bopis_map().touchpoints}
    assert [n["id"] for n in payload["nodes"]] == BOPIS_IDS
    assert {n["id"]: n["color"]["background"] for n in payload["nodes"]} == {
        i: colors[channel_of[i]] for i in BOPIS_IDS
    }
    edge_colors = {(e["from"], e["to"]): e["color"]["color"] for e in payload["edges"]}
    warning = CARRY_STYLES["none"]["color"]
    assert {pair for pair, color in edge_colors.items() if color == warning} == {
        ("ready-notice", "pickup-desk"),
        ("order-help", "pickup-desk"),
    }
    assert edge_colors["search", "checkout"] == PLAIN_STYLE["color"]  # same channel and team
    assert edge_colors["search", "stock-check"] == CARRY_STYLES["partial"]["color"]
    # stages left to right: x grows with the stage index
    x = {n["id"]: n["x"] for n in payload["nodes"]}
    assert x["search"] < x["stock-check"] < x["checkout"] < x["pickup-desk"]
    assert payload["config"]["physics"]["enabled"] is False


def test_analysis_panel_lists_silo_handoffs_and_structural_problems(
    make_app: MakeApp, bopis_id: int, frame: Frame
) -> None:
    at = _open(make_app, bopis_id)
    silo = frame(at, "From", "To", "From channel")
    assert silo[["From", "To", "Context carry"]].values.tolist() == [
        ["Ready-for-pickup notice", "Pick-up desk", "none"],
        ["Order help line", "Pick-up desk", "none"],
    ]
    problems = frame(at, "Problem", "Where")
    assert problems.values.tolist() == [
        ["Dead end", "Delivery FAQ"],
        ["Unreachable", "Curbside hand-over"],
        ["Empty stage", "Loyalty"],
    ]
    handoffs = frame(at, "Context carry", "From")
    assert handoffs["Context carry"].tolist() == ["partial", "full", "full", "none", "partial", "none", "full"]
    matrix = frame(at, "From", "To", "Transitions")
    assert matrix.to_dict("records")[0] == {
        "From": "Website",
        "To": "Mobile app",
        "Transitions": 2,
        "full": 1,
        "partial": 1,
        "none": 0,
    }
    [chart] = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert figure["data"][0]["type"] == "heatmap"


def test_clicking_a_node_opens_its_form(make_app: MakeApp, bopis_id: int, click: Clicker) -> None:
    click("pickup-desk")
    at = _open(make_app, bopis_id)
    assert at.session_state[StateKeys.SELECTED_NODE] == "pickup-desk"
    prefix = f"{StateKeys.TP_FORM}_pickup-desk"
    assert at.text_input(key=f"{prefix}_name").value == "Pick-up desk"
    assert at.slider(key=f"{prefix}_emotion").value == -1
    assert at.checkbox(key=f"{prefix}_final").value is True
    assert at.text_area(key=f"{prefix}_pains").value == "Order number asked again\nQueue"


def test_editing_a_touchpoint_updates_graph_and_keeps_a_draft(
    make_app: MakeApp, bopis_id: int, engine: Engine, graph_payload: Payload, click: Clicker
) -> None:
    click("curbside")
    at = _open(make_app, bopis_id)
    prefix = f"{StateKeys.TP_FORM}_curbside"
    at.text_input(key=f"{prefix}_name").set_value("Curbside pick-up")
    at.slider(key=f"{prefix}_emotion").set_value(2)
    at.button(key=StateKeys.TP_SUBMIT).click().run()
    assert not at.exception
    click.release()
    at.run()
    labels = {n["id"]: n["label"] for n in graph_payload(at)["nodes"]}
    assert labels["curbside"] == "Curbside pick-up"
    with session_scope(engine) as session:
        draft = get_draft(session=session, map_id=bopis_id, client_key="test-client")
    assert draft is not None
    assert draft.journey_map.touchpoint("curbside").name == "Curbside pick-up"
    assert draft.journey_map.touchpoint("curbside").emotion == 2


def test_adding_a_touchpoint_adds_a_node(make_app: MakeApp, bopis_id: int, graph_payload: Payload) -> None:
    at = _open(make_app, bopis_id)
    prefix = StateKeys.TP_NEW_PREFIX
    at.text_input(key=f"{prefix}_name").set_value("Loyalty e-mail")
    at.selectbox(key=f"{prefix}_channel").set_value("web")
    at.selectbox(key=f"{prefix}_stage").set_value("loyalty")
    at.button(key=f"{prefix}_submit").click().run()
    assert not at.exception
    nodes = graph_payload(at)["nodes"]
    assert len(nodes) == 9
    added = [n for n in nodes if n["id"] not in BOPIS_IDS]
    assert [n["label"] for n in added] == ["Loyalty e-mail"]
    assert _metrics(at)["Touchpoints"] == "9"
    assert _metrics(at)["Dead ends"] == "2"  # the new touchpoint leads nowhere yet


def test_deleting_a_used_touchpoint_asks_then_removes_its_transitions(
    make_app: MakeApp, bopis_id: int, graph_payload: Payload, click: Clicker
) -> None:
    click("checkout")
    at = _open(make_app, bopis_id)
    at.button(key=StateKeys.TP_DELETE).click().run()
    assert not at.exception
    [warning] = [w.value.replace("\\", "") for w in at.warning if "deleting it removes them too" in w.value]
    assert warning.splitlines() == [
        "'Online checkout' is used by 4 transition(s); deleting it removes them too:",
        "- Product search → Online checkout (full)",
        "- Store stock check → Online checkout (full)",
        "- Online checkout → Delivery FAQ (full)",
        "- Online checkout → Ready-for-pickup notice (full)",
    ]
    assert _metrics(at)["Touchpoints"] == "8"  # nothing removed before confirming
    at.button(key=StateKeys.TP_DELETE_CONFIRM).click().run()
    click.release()
    at.run()
    assert not at.exception
    payload = graph_payload(at)
    assert "checkout" not in [n["id"] for n in payload["nodes"]]
    assert len(payload["edges"]) == 5
    assert all("checkout" not in (e["from"], e["to"]) for e in payload["edges"])
    assert (_metrics(at)["Touchpoints"], _metrics(at)["Transitions"]) == ("7", "5")


def test_cancelling_a_delete_keeps_the_touchpoint(make_app: MakeApp, bopis_id: int, click: Clicker) -> None:
    click("checkout")
    at = _open(make_app, bopis_id)
    at.button(key=StateKeys.TP_DELETE).click().run()
    at.button(key=StateKeys.TP_DELETE_CANCEL).click().run()
    assert _metrics(at)["Touchpoints"] == "8"
    assert at.session_state[StateKeys.PENDING_DELETE] is None


def test_save_creates_a_revision_and_clears_the_draft(
    make_app: MakeApp, bopis_id: int, engine: Engine, click: Clicker, frame: Frame
) -> None:
    click("curbside")
    _account(engine, "olive", Role.OWNER)
    at = _open(make_app, bopis_id, account=_account(engine, "carla", Role.EDITOR))
    at.text_input(key=f"{StateKeys.TP_FORM}_curbside_name").set_value("Curbside")
    at.button(key=StateKeys.TP_SUBMIT).click().run()
    at.text_input(key=StateKeys.SAVE_MESSAGE).set_value("Shorter name")
    at.button(key=StateKeys.SAVE_SUBMIT).click().run()
    assert not at.exception
    assert any("Saved revision 2" in s.value for s in at.success)
    with session_scope(engine) as session:
        history = list_revisions(session=session, map_id=bopis_id)
        assert get_draft(session=session, map_id=bopis_id, client_key="test-client") is None
    assert [(r.number, r.author, r.message) for r in history] == [(2, "Carla", "Shorter name"), (1, "Ana", "fixture")]
    shown = frame(at, "Revision", "Author")
    assert shown[["Revision", "Author", "Message"]].values.tolist() == [
        [2, "Carla", "Shorter name"],
        [1, "Ana", "fixture"],
    ]


def test_stale_save_is_refused_and_edits_stay(make_app: MakeApp, bopis_id: int, engine: Engine, click: Clicker) -> None:
    click("curbside")
    at = _open(make_app, bopis_id)
    at.text_input(key=f"{StateKeys.TP_FORM}_curbside_name").set_value("Curbside (mine)")
    at.button(key=StateKeys.TP_SUBMIT).click().run()
    # Someone else saves revision 2 meanwhile.
    with session_scope(engine) as session:
        first = list_revisions(session=session, map_id=bopis_id)[0]
        theirs = bopis_map().model_copy(update={"description": "their change"})
        save_revision(
            session=session, map_id=bopis_id, journey_map=theirs, author="Dana", message="x", base_revision_id=first.id
        )
    at.text_input(key=StateKeys.SAVE_MESSAGE).set_value("my change")
    at.button(key=StateKeys.SAVE_SUBMIT).click().run()
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("was changed by Dana" in e and "revision 2" in e and "edits are kept" in e for e in errors), errors
    assert at.session_state[StateKeys.WORKING_MAP].touchpoint("curbside").name == "Curbside (mine)"
    with session_scope(engine) as session:
        assert len(list_revisions(session=session, map_id=bopis_id)) == 2
        draft = get_draft(session=session, map_id=bopis_id, client_key="test-client")
    assert draft is not None and draft.journey_map.touchpoint("curbside").name == "Curbside (mine)"


def _conflicting_save(make_app: MakeApp, map_id: int, engine: Engine, click: Clicker) -> AppTest:
    """The local user renames the curbside touchpoint while Dana saves revision 2 (the search touchpoint
    renamed); the local user's save is refused."""
    click("curbside")
    at = _open(make_app, map_id)
    at.text_input(key=f"{StateKeys.TP_FORM}_curbside_name").set_value("Curbside (mine)")
    at.button(key=StateKeys.TP_SUBMIT).click().run()
    click.release()
    base = bopis_map()
    theirs = editing.upsert_touchpoint(base, base.touchpoint("search").model_copy(update={"name": "Site search"}))
    with session_scope(engine) as session:
        first = list_revisions(session=session, map_id=map_id)[0]
        save_revision(
            session=session, map_id=map_id, journey_map=theirs, author="Dana", message="x", base_revision_id=first.id
        )
    at.button(key=StateKeys.SAVE_SUBMIT).click().run()
    assert not at.exception
    return at


def test_after_a_refused_save_the_edits_are_kept_on_top_of_the_newer_revision(
    make_app: MakeApp, bopis_id: int, engine: Engine, click: Clicker
) -> None:
    at = _conflicting_save(make_app, bopis_id, engine, click)
    offer = [w.value.replace("\\", "") for w in at.warning if "is newer than the revision" in w.value]
    assert offer == [
        "Revision 2, saved by Dana, is newer than the revision your edits started from. What it changed:\n"
        "- 1 touchpoint changed: Site search (name)."
    ]
    [download] = [b for b in at.get("download_button") if b.proto.label == "Download my version (JSON)"]
    assert download.proto.label == "Download my version (JSON)"
    # Saving again from the old revision is still refused: the user has to choose.
    at.button(key=StateKeys.SAVE_SUBMIT).click().run()
    assert any("was changed by Dana" in e.value.replace("\\", "") for e in at.error)
    at.button(key=StateKeys.CONFLICT_REBASE).click().run()
    assert not at.exception
    assert [i.value.replace("\\", "") for i in at.info if "now start from" in i.value] == [
        "Your edits now start from revision 2 (Dana's): save them to make revision 3."
    ]
    assert StateKeys.CONFLICT_REBASE not in {b.key for b in at.button}
    at.text_input(key=StateKeys.SAVE_MESSAGE).set_value("my change")
    at.button(key=StateKeys.SAVE_SUBMIT).click().run()
    assert not at.exception
    assert any("Saved revision 3" in s.value for s in at.success)
    with session_scope(engine) as session:
        history = list_revisions(session=session, map_id=bopis_id)
        assert get_draft(session=session, map_id=bopis_id, client_key="test-client") is None
    assert [(r.number, r.author, r.message) for r in history] == [
        (3, LOCAL_USER, "my change"),
        (2, "Dana", "x"),
        (1, "Ana", "fixture"),
    ]
    assert history[0].parent_id == history[1].id
    assert at.session_state[StateKeys.WORKING_MAP].touchpoint("curbside").name == "Curbside (mine)"


def test_after_a_refused_save_the_newer_revision_can_be_opened_instead(
    make_app: MakeApp, bopis_id: int, engine: Engine, click: Clicker
) -> None:
    at = _conflicting_save(make_app, bopis_id, engine, click)
    at.button(key=StateKeys.CONFLICT_DISCARD).click().run()
    assert not at.exception
    working = at.session_state[StateKeys.WORKING_MAP]
    assert (working.touchpoint("curbside").name, working.touchpoint("search").name) == (
        "Curbside hand-over",
        "Site search",
    )
    assert not [w for w in at.warning if "is newer than the revision" in w.value]
    with session_scope(engine) as session:
        assert [r.number for r in list_revisions(session=session, map_id=bopis_id)] == [2, 1]
        assert get_draft(session=session, map_id=bopis_id, client_key="test-client") is None


def test_unsaved_edits_are_restored_after_a_refresh(make_app: MakeApp, bopis_id: int, click: Clicker) -> None:
    click("curbside")
    at = _open(make_app, bopis_id, client="tab-1")
    at.text_input(key=f"{StateKeys.TP_FORM}_curbside_name").set_value("Kerbside")
    at.button(key=StateKeys.TP_SUBMIT).click().run()
    click.release()
    # A refresh is a new session with the same URL.
    again = _open(make_app, bopis_id, client="tab-1")
    notices = [i.value for i in again.info if "Restored unsaved edits from" in i.value]
    assert len(notices) == 1 and "Save or Discard" in notices[0]
    assert again.session_state[StateKeys.WORKING_MAP].touchpoint("curbside").name == "Kerbside"
    # Another browser (client key) sees the saved revision only.
    other = _open(make_app, bopis_id, client="tab-2")
    assert other.session_state[StateKeys.WORKING_MAP].touchpoint("curbside").name == "Curbside hand-over"
    # Discard brings the saved revision back in the first browser too.
    again.button(key=StateKeys.DISCARD_DRAFT).click().run()
    assert again.session_state[StateKeys.WORKING_MAP].touchpoint("curbside").name == "Curbside hand-over"
    assert not [i for i in again.info if "Restored unsaved edits" in i.value]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "broken.json, line 1, column 2: is not valid JSON"),
        (b'{"name": "x"}', "broken.json: is not a Journeymap map document (no 'schema_version' field)"),
        (
            json.dumps(
                {**json.loads(map_to_json(bopis_map())), "transitions": [{"source": "search", "target": "nowhere"}]}
            ).encode(),
            "broken.json, field 'transitions[0].target': unknown touchpoint 'nowhere'",
        ),
    ],
)
def test_import_of_a_broken_file_names_the_problem_and_writes_nothing(
    make_app: MakeApp, bopis_id: int, engine: Engine, content: bytes, expected: str
) -> None:
    at = _open(make_app, bopis_id)
    with session_scope(engine) as session:
        before = len(list_revisions(session=session, map_id=bopis_id))
    at.file_uploader(key=StateKeys.IMPORT_FILE).set_value(("broken.json", content, "application/json"))
    at.run()
    at.button(key=StateKeys.IMPORT_SUBMIT).click().run()
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any(expected in e for e in errors), errors
    with session_scope(engine) as session:
        assert len(list_revisions(session=session, map_id=bopis_id)) == before == 1
    assert _metrics(at)["Touchpoints"] == "8"


def test_import_of_a_valid_file_becomes_the_next_revision(make_app: MakeApp, bopis_id: int, engine: Engine) -> None:
    at = _open(make_app, bopis_id)
    imported = bopis_map().model_copy(update={"name": "BOPIS v2"})
    at.file_uploader(key=StateKeys.IMPORT_FILE).set_value(
        ("v2.json", map_to_json(imported).encode(), "application/json")
    )
    at.run()
    at.button(key=StateKeys.IMPORT_SUBMIT).click().run()
    assert not at.exception
    with session_scope(engine) as session:
        history = list_revisions(session=session, map_id=bopis_id)
    assert [(r.number, r.message) for r in history] == [(2, "Imported from v2.json"), (1, "fixture")]
    assert at.subheader[0].value.replace("\\", "") == "BOPIS v2"


def test_export_offers_the_map_json(make_app: MakeApp, bopis_id: int) -> None:
    at = _open(make_app, bopis_id)
    [button] = [b for b in at.get("download_button") if b.proto.label == "Export JSON"]
    assert button.proto.label == "Export JSON"


def test_untrusted_names_stay_text(
    make_app: MakeApp, engine: Engine, graph_payload: Payload, click: Clicker, frame: Frame
) -> None:
    evil = "<img src=x onerror=alert(1)>"
    base = bopis_map()
    tps = tuple(tp.model_copy(update={"name": evil}) if tp.id == "curbside" else tp for tp in base.touchpoints)
    map_id = _save_fixture(engine, base.model_copy(update={"touchpoints": tps, "name": "**bold** " + evil}))
    at = _open(make_app, map_id)
    node = next(n for n in graph_payload(at)["nodes"] if n["id"] == "curbside")
    assert node["label"] == evil  # drawn on the canvas as text
    assert "<img" not in node["title"] and "<\u2060img src=x onerror=alert(1)>" in node["title"]
    click("curbside")
    at.run()
    assert at.text_input(key=f"{StateKeys.TP_FORM}_curbside_name").value == evil
    # Markdown elements carry the name escaped, never as markup.
    for element in [*at.markdown, *at.subheader, *at.warning, *at.info, *at.success, *at.error]:
        assert "<img" not in element.value.replace("\\<", ""), element.value
    assert at.subheader[0].value == r"\*\*bold\*\* \<img src=x onerror=alert\(1\)\>"
    # Tables show the literal text (curbside is unreachable in the fixture).
    problems = frame(at, "Problem", "Where")
    assert ["Unreachable", evil] in problems.values.tolist()


def test_transition_form_adds_a_silo_handoff(make_app: MakeApp, bopis_id: int, graph_payload: Payload) -> None:
    at = _open(make_app, bopis_id)
    at.selectbox(key=StateKeys.TR_SOURCE).set_value("delivery-faq")
    at.selectbox(key=StateKeys.TR_TARGET).set_value("order-help")
    at.radio(key=StateKeys.TR_CARRY).set_value("none")
    at.text_input(key=StateKeys.TR_NOTE).set_value("FAQ has no order lookup")
    at.button(key=StateKeys.TR_SUBMIT).click().run()
    assert not at.exception
    edges = {(e["from"], e["to"]): e for e in graph_payload(at)["edges"]}
    assert len(edges) == 10
    assert edges["delivery-faq", "order-help"]["color"]["color"] == CARRY_STYLES["none"]["color"]
    metrics = _metrics(at)
    assert (metrics["Silo handoffs"], metrics["Dead ends"]) == ("3", "0")


def test_stage_controls_rename_move_and_refuse_deleting_a_used_stage(
    make_app: MakeApp, bopis_id: int, graph_payload: Payload
) -> None:
    at = _open(make_app, bopis_id)
    at.selectbox(key=StateKeys.STAGE_CHOICE).set_value("loyalty")
    at.text_input(key=StateKeys.STAGE_NAME).set_value("Retention")
    at.button(key=StateKeys.STAGE_RENAME).click().run()
    at.button(key=StateKeys.STAGE_UP).click().run()
    assert not at.exception
    stages = at.session_state[StateKeys.WORKING_MAP].stages
    assert [(s.id, s.name) for s in stages] == [
        ("discover", "Discover"),
        ("choose", "Choose"),
        ("buy", "Buy"),
        ("loyalty", "Retention"),
        ("collect", "Collect"),
    ]
    x = {n["id"]: n["x"] for n in graph_payload(at)["nodes"]}
    assert x["pickup-desk"] > x["checkout"]  # collect moved one column right, behind the empty stage
    at.selectbox(key=StateKeys.STAGE_CHOICE).set_value("collect")
    at.button(key=StateKeys.STAGE_DELETE).click().run()
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any("cannot be deleted while 4 touchpoints use it" in e for e in errors), errors
    assert len(at.session_state[StateKeys.WORKING_MAP].stages) == 5


# --- comments and opportunities while editing ------------------------------------------------------------


def test_comment_on_a_touchpoint_is_listed(make_app: MakeApp, bopis_id: int, engine: Engine) -> None:
    at = _open(make_app, bopis_id)
    assert "Comments and opportunities" in [s.value for s in at.subheader]
    assert "Comments (0 open)" in [s.value for s in at.subheader]
    about = at.selectbox(key=ReviewKeys.COMMENT_TARGET)
    assert about.options[:2] == ["The whole map", "Touchpoint: Product search"]
    assert "Touchpoint: Pick-up desk" in about.options
    about.set_value("touchpoint|pickup-desk")
    at.text_area(key=ReviewKeys.COMMENT_BODY).set_value("Customers wait here without their order number.")
    at.button(key=ReviewKeys.COMMENT_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert "Comments (1 open)" in [s.value for s in at.subheader]
    listed = [t.value for t in at.text]
    assert f"Touchpoint: Pick-up desk · {LOCAL_USER}: Customers wait here without their order number." in listed
    with session_scope(engine) as session:
        (comment,) = list_comments(session=session, map_id=bopis_id)
    assert (comment.target_kind, comment.target_id, comment.author) == (
        TargetKind.TOUCHPOINT,
        "pickup-desk",
        LOCAL_USER,
    )


def test_comment_on_a_handoff_and_an_opportunity_reach_the_maps_page(
    make_app: MakeApp, bopis_id: int, engine: Engine, frame: Frame
) -> None:
    at = _open(make_app, bopis_id)
    at.selectbox(key=ReviewKeys.COMMENT_TARGET).set_value(f"handoff|{handoff_target('ready-notice', 'pickup-desk')}")
    at.text_area(key=ReviewKeys.COMMENT_BODY).set_value("The desk never sees the notice.")
    at.button(key=ReviewKeys.COMMENT_SUBMIT).click().run()
    at.text_input(key=ReviewKeys.OPP_TITLE).set_value("Show the order on the desk screen")
    at.selectbox(key=ReviewKeys.OPP_TOUCHPOINT).set_value("pickup-desk")
    at.text_input(key=ReviewKeys.OPP_OWNER).set_value("Store ops")
    at.button(key=ReviewKeys.OPP_SUBMIT).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    texts = [t.value for t in at.text]
    assert (
        f"Transition: Ready-for-pickup notice → Pick-up desk · {LOCAL_USER}: The desk never sees the notice." in texts
    )
    assert "Show the order on the desk screen · Pick-up desk · owner Store ops" in texts
    assert at.selectbox(key=f"{ReviewKeys.OPP_STATUS_PREFIX}_1").value == "open"

    home = make_app("views/maps.py").run()
    assert not home.exception, home.exception
    row = frame(home, "Name", "Owner").set_index("Name").loc[bopis_map().name]
    assert (row["Open comments"], row["Open opportunities"]) == (1, 1)


def test_review_panels_offer_only_saved_parts_while_edits_are_unsaved(make_app: MakeApp, bopis_id: int) -> None:
    at = _open(make_app, bopis_id)
    before = at.selectbox(key=ReviewKeys.COMMENT_TARGET).options
    at.text_input(key=f"{StateKeys.TP_NEW_PREFIX}_name").set_value("Parking spot")
    at.button(key=f"{StateKeys.TP_NEW_PREFIX}_submit").click().run()
    assert not at.exception, at.exception
    assert "Comments and opportunities refer to the saved map: save new touchpoints to comment on them." in [
        c.value for c in at.caption
    ]
    assert at.selectbox(key=ReviewKeys.COMMENT_TARGET).options == before


def test_a_new_map_is_told_what_it_lacks_not_praised(make_app: MakeApp, engine: Engine) -> None:
    """A blank map has the five default stages and no channel: it is asked for a channel only, and with no
    handoff yet it is not told that context travels on every handoff."""
    blank = blank_map("New journey")
    assert len(blank.stages) == 5 and not blank.channels
    at = _open(make_app, _save_fixture(engine, blank))
    assert not at.exception, at.exception
    infos = [i.value for i in at.info]
    assert "A touchpoint needs a channel: add one first (tab Channels)." in infos
    assert not any("stage" in i and "needs" in i for i in infos)
    assert "No handoffs yet: add transitions between channels or teams to see where context must travel." in infos
    assert not any("No silo handoffs" in s.value for s in at.success)


def test_a_map_locked_by_a_workshop_is_shown_read_only_with_the_reason(
    make_app: MakeApp, engine: Engine, graph_payload: Payload
) -> None:
    map_id = _save_fixture(engine, bopis_map())
    facilitator = Actor(LOCAL_USER, Role.OWNER)
    workshop = review_services.start_workshop(engine, facilitator, map_id=map_id, title="Room 4")
    review_services.set_workshop_locked(engine, facilitator, workshop_id=workshop.id, locked=True)
    at = make_app()
    at.switch_page("views/editor.py")
    at.query_params[QueryParams.MAP] = str(map_id)
    at.run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [
        "A workshop has locked this map: edits are refused until the facilitator unlocks it. "
        "Below is the map as saved, read-only."
    ]
    assert at.main.subheader[0].value == bopis_map().name
    assert len(graph_payload(at)["nodes"]) == len(bopis_map().touchpoints)  # the map, not an empty page
    assert StateKeys.SAVE_SUBMIT not in {b.key for b in at.button}
