"""The overlay page on a tiny event file whose answer is worked out by hand.

Map ``support``: Browse (web) → Ask in chat (chat) → Call (phone), both designed with full context.
Events (``events.csv``), all on 2024-05-01 except c5:

====  ===========================  =========================
c1    browse → ask → call          converts at the call
c2    browse → ask → call          abandons
c3    browse → ask                 abandons
c4    browse → call                abandons (browse → call is not on the map)
c5    browse on 2024-06-01         ongoing (last event of the file)
====  ===========================  =========================

So: 5 journeys, 5 customers, 4 finished of which 1 converted (25%). Transitions browse → ask 3,
ask → call 2, browse → call 1; channel switches web → chat 3, chat → phone 2, web → phone 1. Call is
reached by 3 journeys, 2 of which end there unconverted (drop-off 67%); Ask by 3, 1 ends there (33%).
Context loss of browse → ask: 2 of 3 switchers give up within 24 h (abandon 0.20 weight) and 2 of 3
need another assisted contact (phone) within 7 days (0.15 weight): 0.2 × 2/3 + 0.15 × 2/3 = 0.233.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.events.ingest import ingest
from journeymap.events.mapping import mapping_from_json
from journeymap.events.read import detect_format, read_events
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.overlay_viz import HIGHLIGHT_COLOR, SCORE_COLORS
from journeymap.services.data import DEMO_EVENTS, DEMO_MAPPING, DEMO_TEMPLATE
from journeymap.store import create_map, latest_revision, list_datasets, list_mappings, make_engine, session_scope
from journeymap.templates import load_template
from journeymap.ui.overlay_state import FindingRef
from journeymap.ui.state import OverlayKeys

PAGE = "views/overlay.py"


@pytest.fixture(autouse=True)
def _files_in_tmp_path_are_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "File on the server" reads only under the data roots: the test's own folder is one."""
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(tmp_path))


EVENTS = """customer_id,timestamp,channel,activity,outcome,segment
c1,2024-05-01T09:00:00Z,web,browse,,vip
c1,2024-05-01T09:10:00Z,chat,ask,,vip
c1,2024-05-01T09:30:00Z,phone,call,converted,vip
c2,2024-05-01T10:00:00Z,web,browse,,vip
c2,2024-05-01T10:05:00Z,chat,ask,,vip
c2,2024-05-01T10:20:00Z,phone,call,,vip
c3,2024-05-01T11:00:00Z,web,browse,,regular
c3,2024-05-01T11:10:00Z,chat,ask,,regular
c4,2024-05-01T12:00:00Z,web,browse,,regular
c4,2024-05-01T12:30:00Z,phone,call,,regular
c5,2024-06-01T08:00:00Z,web,browse,,regular
"""


def support_map() -> JourneyMap:
    return JourneyMap(
        name="Support",
        stages=(Stage(id="look", name="Look"), Stage(id="help", name="Help")),
        channels=(
            Channel(id="web", name="Website"),
            Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED),
        ),
        touchpoints=(
            Touchpoint(id="browse", name="Browse", channel="web", stage="look"),
            Touchpoint(id="ask", name="Ask in chat", channel="chat", stage="help"),
            Touchpoint(id="call", name="Call", channel="phone", stage="help"),
        ),
        transitions=(
            Transition(source="browse", target="ask", context_carry=ContextCarry.FULL),
            Transition(source="ask", target="call", context_carry=ContextCarry.FULL),
        ),
    )


@pytest.fixture
def support_map_id(engine: Engine) -> int:
    from journeymap.store import init_db

    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=support_map(), author="Test").map_id


@pytest.fixture
def events_csv(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def _by_key_prefix(elements: Any, prefix: str) -> Any:
    found = [el for el in elements if el.key and el.key.startswith(prefix)]
    assert len(found) == 1, f"expected one widget with key {prefix}*, found {[el.key for el in elements]}"
    return found[0]


def _read(make_app: Callable[..., AppTest], map_id: int, path: Path) -> AppTest:
    """The page at its column mapping step, the file read through the server-side path."""
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click()
    at.run()
    assert not at.exception and not at.error
    return at


def _open(make_app: Callable[..., AppTest], map_id: int, path: Path) -> AppTest:
    """The page with the file read through the server-side path and the guessed mapping applied."""
    at = _read(make_app, map_id, path)
    _by_key_prefix(at.button, OverlayKeys.M_APPLY).click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _figures(at: AppTest) -> dict[str, dict[str, Any]]:
    """Plotly figures on the page by their first trace type."""
    out: dict[str, dict[str, Any]] = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)  # type: ignore[attr-defined]
        out[spec["data"][0]["type"] if spec["data"] else "empty"] = spec
    return out


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """Plotly figures on the page by title."""
    out: dict[str, dict[str, Any]] = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)  # type: ignore[attr-defined]
        title = spec["layout"].get("title", {})
        out[title.get("text", "") if isinstance(title, dict) else str(title)] = spec
    return out


def _edges(graph_payload: Callable[[AppTest], dict[str, Any]], at: AppTest) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["from"], e["to"]): e for e in graph_payload(at)["edges"]}


def test_path_input_to_overlay_shows_kpis_graph_board_and_heatmap(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    events_csv: Path,
    graph_payload: Callable[[AppTest], dict[str, Any]],
    frame: Callable[..., Any],
    engine: Engine,
) -> None:
    at = _open(make_app, support_map_id, events_csv)

    kpis = _metrics(at)
    assert kpis["Journeys"] == "5"
    assert kpis["Customers"] == "5"
    assert kpis["Completion rate"] == "25%"
    assert kpis["Effort"] == "3.0 steps"  # the one converted journey has 3 events

    edges = _edges(graph_payload, at)
    assert list(edges) == [("browse", "ask"), ("ask", "call"), ("browse", "call")]
    # Width 1 + 11 × count / 3.
    assert [edges[p]["width"] for p in edges] == [12.0, 8.33, 4.67]
    assert [edges[p]["dashes"] for p in edges] == [False, False, True]
    assert edges[("browse", "ask")]["color"] == SCORE_COLORS[1]  # context loss 0.233: amber bin [0.1, 0.25)
    nodes = {n["id"]: n for n in graph_payload(at)["nodes"]}
    assert nodes["browse"]["size"] == 40.0  # 5 visits, the most
    assert nodes["call"]["label"] == "Call ▼ 67%"
    assert nodes["ask"]["label"] == "Ask in chat ▼ 33%"

    board = frame(at, "kind", "item")
    first = board.iloc[0]
    assert (first["kind"], first["item"], first["customers_affected"]) == ("touchpoint", "Call", 3)
    assert first["finding"].startswith("67% of journeys that reach Call end there unconverted")
    assert set(board["item"]) == {"Browse", "Ask in chat", "Call", "Browse → Ask in chat", "Ask in chat → Call",
                                  "Browse → Call"}  # fmt: skip

    heatmap = _charts(at)["Channel switches (count)"]["data"][0]
    assert heatmap["x"] == ["Website", "Chat", "Phone"]
    assert heatmap["z"] == [[None, 3, 1], [None, None, 2], [None, None, None]]  # None: nobody moved that way

    pairs = frame(at, "source", "target", "count")
    assert pairs.iloc[0][["source", "target", "count"]].tolist() == ["Browse", "Ask in chat", 3]  # names, not ids
    assert round(float(pairs.iloc[0]["context_loss_score"]), 3) == 0.233

    sankey = _figures(at)["sankey"]["data"][0]
    assert "Look" in sankey["node"]["label"] and "converted" in sankey["node"]["label"]
    funnel = _figures(at)["funnel"]["data"][0]
    assert funnel["y"] == ["Finished journeys", "Look", "Help", "Converted"]
    assert funnel["x"] == [4, 4, 4, 1]  # c5 is ongoing; 1 of the 4 finished converts, the completion rate

    with session_scope(engine) as session:
        datasets = list_datasets(session=session)
        mappings = list_mappings(session=session)
    assert [(d.name, d.rows, d.customers) for d in datasets] == [("events.csv", 11, 5)]
    assert datasets[0].stitching_rate == 0.0  # one identifier per customer: nothing to stitch
    assert [m.name for m in mappings] == ["events"]
    assert Path(datasets[0].cache_path).is_file()


def test_filters_and_view_toggle_change_the_graph(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    events_csv: Path,
    graph_payload: Callable[[AppTest], dict[str, Any]],
    frame: Callable[..., Any],
) -> None:
    at = _open(make_app, support_map_id, events_csv)
    _by_key_prefix(at.number_input, OverlayKeys.F_MIN_VOLUME).set_value(2).run()
    assert list(_edges(graph_payload, at)) == [("browse", "ask"), ("ask", "call")]  # browse → call seen once
    assert "Browse → Call" not in set(frame(at, "kind", "item")["item"])  # left out of the ranking too

    at.radio(key=OverlayKeys.F_VIEW).set_value("observed").run()
    assert list(_edges(graph_payload, at)) == [("browse", "ask"), ("ask", "call")]
    _by_key_prefix(at.number_input, OverlayKeys.F_MIN_VOLUME).set_value(1).run()
    at.radio(key=OverlayKeys.F_VIEW).set_value("designed").run()
    edges = _edges(graph_payload, at)
    assert list(edges) == [("browse", "ask"), ("ask", "call")]
    assert not any(e["dashes"] for e in edges.values())

    at.radio(key=OverlayKeys.F_VIEW).set_value("both").run()
    _by_key_prefix(at.multiselect, OverlayKeys.F_CHANNELS).set_value(["chat"]).run()
    assert not at.exception
    edges = _edges(graph_payload, at)
    # The journeys that used the chat (c1, c2, c3) stay whole, their calls included; c4's
    # browse → call and c5 are gone.
    assert (edges[("browse", "ask")]["width"], edges[("ask", "call")]["width"]) == (12.0, 8.33)
    assert ("browse", "call") not in edges
    assert _metrics(at)["Journeys"] == "3"

    at.radio(key=OverlayKeys.F_COLOR).set_value("friction").run()
    assert not at.exception

    _by_key_prefix(at.multiselect, OverlayKeys.F_CHANNELS).set_value([]).run()
    _by_key_prefix(at.multiselect, OverlayKeys.F_ATTR_PREFIX + "segment").set_value(["vip"]).run()
    assert _metrics(at)["Journeys"] == "2"  # c1 and c2
    # Outcomes come from the whole file: c2's journey ended a month before its last event, so it
    # was abandoned: 1 converted of 2 finished.
    assert _metrics(at)["Completion rate"] == "50%"
    edges = _edges(graph_payload, at)
    assert [edges[p]["width"] for p in (("browse", "ask"), ("ask", "call"))] == [12.0, 12.0]


def test_choosing_a_finding_highlights_it_and_shows_masked_journeys(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    events_csv: Path,
    graph_payload: Callable[[AppTest], dict[str, Any]],
) -> None:
    at = _open(make_app, support_map_id, events_csv)
    choice = _by_key_prefix(at.selectbox, OverlayKeys.DRILL_CHOICE)
    choice.set_value(FindingRef("transition", "browse", "call")).run()
    edges = _edges(graph_payload, at)
    assert edges[("browse", "call")]["color"] == HIGHLIGHT_COLOR
    assert edges[("browse", "ask")]["color"] != HIGHLIGHT_COLOR

    timeline = _figures(at)["scatter"]
    assert timeline["layout"]["yaxis"]["categoryarray"] == ["Website", "Phone"]
    assert len(timeline["data"]) == 1  # only c4 went browse → call
    assert timeline["data"][0]["y"] == ["Website", "Phone"]
    name = timeline["data"][0]["name"]
    assert name.startswith("c-") and "c4" not in name

    at.toggle(key=OverlayKeys.DRILL_UNMASK).set_value(True).run()
    unmasked = _figures(at)["scatter"]["data"][0]["name"]
    # The customer's own identifier from the file, same journey as the masked line.
    assert unmasked == f"c4 · journey {name.rsplit(' ', 1)[1]}"

    # A touchpoint finding highlights the node.
    _by_key_prefix(at.selectbox, OverlayKeys.DRILL_CHOICE).set_value(FindingRef("touchpoint", "call")).run()
    nodes = {n["id"]: n for n in graph_payload(at)["nodes"]}
    assert nodes["call"]["color"] == HIGHLIGHT_COLOR
    assert "67% of journeys that reach Call" in " ".join(m.value for m in at.markdown)


def test_saved_mapping_is_offered_for_the_same_columns(
    make_app: Callable[..., AppTest], support_map_id: int, events_csv: Path, tmp_path: Path
) -> None:
    _open(make_app, support_map_id, events_csv)
    other = tmp_path / "later.csv"
    other.write_text(EVENTS.replace("2024-06-01", "2024-06-02"), encoding="utf-8")
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(other))
    at.button(key=OverlayKeys.PATH_SUBMIT).click()
    at.run()
    assert any("Using the saved mapping 'events'" in i.value for i in at.info)


def test_create_touchpoints_from_data_adds_a_revision(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    tmp_path: Path,
    engine: Engine,
    graph_payload: Callable[[AppTest], dict[str, Any]],
) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(EVENTS + "c3,2024-05-01T11:20:00Z,web,Read FAQ,,regular\n", encoding="utf-8")
    at = _read(make_app, support_map_id, path)
    _by_key_prefix(at.checkbox, OverlayKeys.M_CREATE).check().run()
    _by_key_prefix(at.button, OverlayKeys.M_APPLY).click().run()
    assert not at.exception and not at.error
    with session_scope(engine) as session:
        latest = latest_revision(session=session, map_id=support_map_id)
    assert latest.number == 2
    added = latest.journey_map.touchpoint("read-faq")
    assert (added.name, added.channel, added.stage) == ("Read FAQ", "web", "look")
    assert "read-faq" in {n["id"] for n in graph_payload(at)["nodes"]}
    assert ("ask", "read-faq") in _edges(graph_payload, at)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "is not a file on the server"),
        ("customer_id,timestamp,activity\nc1,yesterday-ish,browse\nc1,not a date,ask\n", "timestamp"),
    ],
)
def test_bad_input_shows_a_readable_error(
    make_app: Callable[..., AppTest], support_map_id: int, tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click()
    at.run()
    if content is not None:
        _by_key_prefix(at.button, OverlayKeys.M_APPLY).click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value.replace("\\", "")  # the page escapes markdown in user text
    assert expected in message
    assert "bad.csv" in message
    assert not at.metric  # nothing half-computed is shown


def test_demo_dataset_is_one_click(
    make_app: Callable[..., AppTest], graph_payload: Callable[[AppTest], dict[str, Any]], engine: Engine
) -> None:
    at = make_app(PAGE)
    at.run()
    at.button(key=OverlayKeys.DEMO).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    with session_scope(engine) as session:
        datasets = list_datasets(session=session)
    assert [d.name for d in datasets] == ["retail_events.csv.gz"]
    # The identity report's stitching rate is kept with the dataset: the very value ingest computes.
    raw = read_events(DEMO_EVENTS, fmt=detect_format(DEMO_EVENTS.name))
    mapping = mapping_from_json(DEMO_MAPPING.read_text(encoding="utf-8"), source="demo mapping")
    _, _, identity = ingest(raw, mapping, load_template(DEMO_TEMPLATE), source=DEMO_EVENTS.name)
    assert datasets[0].stitching_rate == identity.stitching_rate
    assert round(identity.stitching_rate, 3) == 0.965
    assert int(_metrics(at)["Journeys"].replace(",", "")) > 100
    payload = graph_payload(at)
    ids = {n["id"] for n in payload["nodes"]}
    assert {"web-checkout", "pickup-counter", "wismo-call"} <= ids  # the retail template's touchpoints
    assert sum(1 for e in payload["edges"] if e["width"] > 1.0) > 10  # observed volumes drawn
    assert "heatmap" in _figures(at)
    # The steps on screen are numbered as they appear: event data, then the overlay (no missing "2").
    steps = [h.value.replace("\\", "") for h in at.main.subheader if " · " in h.value and h.value[0].isdigit()]
    assert [step.split(" · ")[0] for step in steps] == ["1", "2"]
    assert steps[1].startswith("2 · Overlay of retail_events.csv.gz on ")


def test_create_touchpoints_from_data_says_why_it_is_off(
    make_app: Callable[..., AppTest], support_map_id: int, events_csv: Path
) -> None:
    at = _read(make_app, support_map_id, events_csv)
    create = _by_key_prefix(at.checkbox, OverlayKeys.M_CREATE)
    reason = "Every value of the activity column already names a touchpoint of the map: there is nothing to add."
    assert create.disabled and create.help == reason
    assert reason in [c.value.replace("\\", "") for c in at.caption]  # on the page, not only on hover


def test_ingest_report_and_channel_pair_listing(
    make_app: Callable[..., AppTest], support_map_id: int, events_csv: Path, frame: Callable[..., Any]
) -> None:
    at = _open(make_app, support_map_id, events_csv)
    report = [line for t in at.text for line in t.value.splitlines()]
    assert "events.csv: 11 rows read, 11 kept." in report
    identity = [line for line in report if "5 customers from 5 identifier values (customer_id)" in line]
    assert len(identity) == 1  # shown once, not again under the validation summary

    _by_key_prefix(at.selectbox, OverlayKeys.PAIR_CHOICE).set_value(("chat", "phone")).run()
    pairs = frame(at, "source", "target", "count")
    assert pairs[["source", "target", "count", "customers"]].values.tolist() == [["Ask in chat", "Call", 2, 2]]


def test_clicking_a_graph_node_opens_its_finding(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    events_csv: Path,
    graph_payload: Callable[[AppTest], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = _open(make_app, support_map_id, events_csv)
    import journeymap.ui.graph as graph_module

    draw = graph_module._call_component
    monkeypatch.setattr(graph_module, "_call_component", lambda **kwargs: (draw(**kwargs), "ask")[1])
    at.run()
    assert _by_key_prefix(at.selectbox, OverlayKeys.DRILL_CHOICE).value == FindingRef("touchpoint", "ask")
    nodes = {n["id"]: n for n in graph_payload(at)["nodes"]}
    assert nodes["ask"]["color"] == HIGHLIGHT_COLOR
    timeline = _figures(at)["scatter"]
    assert len(timeline["data"]) == 3  # c1, c2 and c3 asked in chat


def test_saved_dataset_reopens_without_reading_the_file(
    make_app: Callable[..., AppTest], support_map_id: int, events_csv: Path
) -> None:
    _open(make_app, support_map_id, events_csv)
    events_csv.unlink()  # the cached, encoded log is all a saved dataset needs
    at = make_app(PAGE)
    at.run()
    assert at.selectbox(key=OverlayKeys.SAVED_CHOICE).value is not None
    at.button(key=OverlayKeys.SAVED_OPEN).click().run()
    assert not at.exception and not at.error
    assert at.session_state[OverlayKeys.MAP_ID] == support_map_id  # the dataset remembers its map
    assert _metrics(at)["Journeys"] == "5"


def test_store_upload_copies_hashes_and_reports_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import io

    from journeymap.access import Actor, Role
    from journeymap.services import data

    monkeypatch.setenv("JOURNEYMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(data, "_CHUNK", 4)
    content = EVENTS.encode()
    shares: list[float] = []
    editor = Actor("Ana", Role.EDITOR)
    engine = make_engine(f"sqlite:///{tmp_path / 'journeymap.db'}")
    upload = io.BytesIO(content)
    source = data.store_upload(
        engine, editor, upload=upload, name="events.csv.gz", size=len(content), progress=shares.append
    )
    assert source.content_hash == hashlib.sha256(content).hexdigest()
    assert Path(source.path) == tmp_path / "data" / "uploads" / f"{source.content_hash[:32]}.csv.gz"
    assert Path(source.path).read_bytes() == content
    assert shares[-1] == 1.0 and shares == sorted(shares) and len(shares) == -(-len(content) // 4)
    again = data.store_upload(engine, editor, upload=io.BytesIO(content), name="copy.csv.gz", size=len(content))
    assert (again.path, again.name) == (source.path, "copy.csv.gz")
    assert [p.name for p in (tmp_path / "data" / "uploads").iterdir()] == [Path(source.path).name]  # no .part left


def test_a_large_file_is_previewed_from_its_head_and_counted_whole(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    frame: Callable[..., Any],
) -> None:
    from journeymap.ui import overlay_state

    monkeypatch.setattr(overlay_state, "SAMPLE_ROWS", 4)  # the page reads 4 rows for the guess and preview
    path = tmp_path / "head.csv"
    path.write_text(EVENTS + "c6,2024-06-02T08:00:00Z,web,browse,,regular\n", encoding="utf-8")
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = support_map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click().run()
    assert not at.exception and not at.error
    assert any("use the first 4 rows; value counts below cover the whole file" in c.value for c in at.caption)
    preview = frame(at, "customer_id", "timestamp")
    assert preview["customer_id"].tolist() == ["c1", "c1", "c1", "c2"]
    # Counted over all 12 rows, not over the 4 of the sample.
    values = frame(at, "Raw value", "Events", "Touchpoint")
    assert values[["Raw value", "Events"]].values.tolist() == [["browse", 6], ["ask", 3], ["call", 3]]
    channels = frame(at, "Raw value", "Events", "Channel")
    assert channels[["Raw value", "Events"]].values.tolist() == [["web", 6], ["chat", 3], ["phone", 3]]
    _by_key_prefix(at.button, OverlayKeys.M_APPLY).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    kpis = _metrics(at)
    assert (kpis["Customers"], kpis["Journeys"]) == ("6", "6")  # the whole file was ingested


# --- handoffs: channel switches and team handoffs --------------------------------------------------

TEAM_EVENTS = """customer_id,timestamp,channel,activity,team
c1,2024-05-01T09:00:00Z,web,browse,Sales
c1,2024-05-01T09:10:00Z,chat,ask,Support
c1,2024-05-01T09:30:00Z,phone,call,Sales
c2,2024-05-01T10:00:00Z,web,browse,Sales
c2,2024-05-01T10:05:00Z,chat,ask,Support
c2,2024-05-01T10:20:00Z,phone,call,Billing
c2,2024-05-01T10:40:00Z,chat,ask,Support
c3,2024-05-01T11:00:00Z,web,browse,Sales
c3,2024-05-01T11:10:00Z,web,ask,Sales
c4,2024-05-01T12:00:00Z,web,browse,Sales
c4,2024-05-01T12:30:00Z,phone,call,Billing
c5,2024-06-01T08:00:00Z,web,browse,Sales
"""
"""The support file with a team per event, worked by hand.

Channels: c1 web → chat → phone (2 switches), c2 web → chat → phone → chat (3, the last back to chat:
ping-pong), c3 web → web (none: its ask was recorded on the website), c4 web → phone (1), c5 alone.
6 switches in 5 journeys: 1.2 per journey, 3 of 5 journeys (60%) switch, 1 of 6 (17%) ping-pong.
Teams: c1 Sales → Support → Sales (2, back to Sales), c2 Sales → Support → Billing → Support (3, back to
Support), c4 Sales → Billing (1): 6 handoffs, 1.2 per journey, 60% of journeys, 2 of 6 (33%) ping-pong.
Ask is recorded 3 times in chat and once on the website: chat 75% · web 25%. Browse → ask is designed
"full" and walked 3 times, 2 of which switch channel and team. There is no goal (no outcome column, no
final touchpoint), so the journeys' ends are no abandons (not measured); 2 of 3 reach the phone within 7
days (0.15 weight): score 0.10, below 0.15, consistent with "full". (Counting every unconverted end as an
abandon, 0.20 more, made it 0.30 and a contradiction that only said no goal was set.)
"""


def _reference_moves(csv_text: str, column: str, *, gap_hours: float = 72.0) -> list[dict[str, Any]]:
    """Every move that changes ``column``, worked out in plain Python over polars-read rows.

    Events sorted by customer then time (file order on ties), cut into journeys after a pause of more
    than ``gap_hours``; a move is two consecutive events of one journey, and it is ping-pong when its
    second value already occurred earlier in the journey.
    """
    events = (
        pl.read_csv(io.StringIO(csv_text))
        .with_row_index("row")
        .with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC"))
        .sort("customer_id", "timestamp", "row")
    )
    moves: list[dict[str, Any]] = []
    journey = -1
    previous: dict[str, Any] | None = None
    seen: list[Any] = []
    for event in events.iter_rows(named=True):
        same = (
            previous is not None
            and previous["customer_id"] == event["customer_id"]
            and event["timestamp"] - previous["timestamp"] <= timedelta(hours=gap_hours)
        )
        if not same:
            journey += 1
            seen = []
        elif previous is not None and previous[column] != event[column]:
            moves.append(
                {
                    "journey": journey,
                    "customer": event["customer_id"],
                    "from": previous[column],
                    "to": event[column],
                    "ping_pong": event[column] in seen,
                }
            )
        seen.append(event[column])
        previous = event
    return moves


def _journey_count(csv_text: str, *, gap_hours: float = 72.0) -> int:
    events = pl.read_csv(io.StringIO(csv_text)).with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC"))
    gaps = events.sort("customer_id", "timestamp").select(
        (pl.col("timestamp").diff().over("customer_id") > timedelta(hours=gap_hours)).fill_null(True).sum()
    )
    return int(gaps.item())


def _pair_rows(
    moves: list[dict[str, Any]], names: dict[str, str] | None = None, *, customers: bool = True
) -> list[tuple[Any, ...]]:
    """``(from, to, moves, [customers,] journeys, ping-pong)`` per pair, busiest first, then by name."""
    names = names or {}
    frame = pl.DataFrame(moves).with_columns(pl.col("from").replace(names), pl.col("to").replace(names))
    grouped = frame.group_by("from", "to").agg(
        pl.len().alias("count"),
        *([pl.col("customer").n_unique().alias("customers")] if customers else []),
        pl.col("journey").n_unique().alias("journeys"),
        pl.col("ping_pong").sum().alias("ping_pong"),
    )
    return grouped.sort(["count", "from", "to"], descending=[True, False, False]).rows()


def _open_with(make_app: Callable[..., AppTest], map_id: int, path: Path, owner: str | None) -> AppTest:
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    at.button(key=OverlayKeys.PATH_SUBMIT).click().run()
    assert not at.exception and not at.error
    if owner is not None:
        _by_key_prefix(at.selectbox, OverlayKeys.M_OWNER).set_value(owner).run()
    _by_key_prefix(at.button, OverlayKeys.M_APPLY).click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _table(at: AppTest, *columns: str) -> Any:
    """The one table whose columns start with these (tables without row selection have no key under AppTest)."""
    found = [df.value for df in at.dataframe if list(df.value.columns)[: len(columns)] == list(columns)]
    assert len(found) == 1, f"expected one table starting with {columns}, found {len(found)}"
    return found[0]


CHANNEL_PAIRS = ("from_channel", "to_channel", "count")
TEAM_PAIRS = ("from_team", "to_team", "count")
TEAMS = ("team", "events")
DESIGNED = ("from", "to", "declared_carry", "context_loss_score", "verdict")


def test_switch_kpis_and_channel_pairs_are_counted_from_the_events(
    make_app: Callable[..., AppTest], support_map_id: int, events_csv: Path
) -> None:
    at = _open(make_app, support_map_id, events_csv)
    moves = _reference_moves(EVENTS, "channel")
    journeys = _journey_count(EVENTS)
    kpis = _metrics(at)
    assert kpis["Channel switches per journey"] == f"{len(moves) / journeys:.1f}" == "1.2"
    assert kpis["Journeys with a channel switch"] == f"{len({m['journey'] for m in moves}) / journeys:.0%}" == "80%"
    assert kpis["Channel ping-pong"] == f"{sum(m['ping_pong'] for m in moves) / len(moves):.0%}" == "0%"
    assert "Team handoffs per journey" not in kpis  # no team column mapped
    assert any("map a resource / owner team column" in c.value for c in at.caption)

    names = {c.id: c.name for c in support_map().channels}
    pairs = _table(at, *CHANNEL_PAIRS)
    shown = pairs[[*CHANNEL_PAIRS, "customers", "journeys", "ping_pong"]].values.tolist()
    assert [tuple(r) for r in shown] == _pair_rows(moves, names)
    assert not any("No customer switched channel" in i.value for i in at.info)
    assert any("No team column is mapped" in i.value for i in at.info)

    _by_key_prefix(at.text_input, OverlayKeys.CH_SEARCH).input("PHO").run()
    assert _table(at, *CHANNEL_PAIRS)[list(CHANNEL_PAIRS[:2])].values.tolist() == [
        [a, b] for a, b, *_ in _pair_rows(moves, names) if "Phone" in (a, b)
    ]
    assert any(c.value == "2 of 3 channel pairs shown." for c in at.caption)
    assert [b.proto.label for b in at.get("download_button")] == ["Download all (CSV)"]  # type: ignore[attr-defined]


def test_team_handoffs_kpis_tables_and_designed_evidence(
    make_app: Callable[..., AppTest],
    support_map_id: int,
    tmp_path: Path,
    graph_payload: Callable[[AppTest], dict[str, Any]],
) -> None:
    path = tmp_path / "teams.csv"
    path.write_text(TEAM_EVENTS, encoding="utf-8")
    at = _open_with(make_app, support_map_id, path, owner="team")
    journeys = _journey_count(TEAM_EVENTS)
    switches = _reference_moves(TEAM_EVENTS, "channel")
    handoffs = _reference_moves(TEAM_EVENTS, "team")

    kpis = _metrics(at)
    for prefix, moves in (("Channel switches", switches), ("Team handoffs", handoffs)):
        assert kpis[f"{prefix} per journey"] == f"{len(moves) / journeys:.1f}"
    assert kpis["Journeys with a channel switch"] == f"{len({m['journey'] for m in switches}) / journeys:.0%}"
    assert kpis["Journeys with a team handoff"] == f"{len({m['journey'] for m in handoffs}) / journeys:.0%}"
    assert kpis["Channel ping-pong"] == f"{sum(m['ping_pong'] for m in switches) / len(switches):.0%}"
    assert kpis["Team ping-pong"] == f"{sum(m['ping_pong'] for m in handoffs) / len(handoffs):.0%}"
    assert [kpis[k] for k in ("Team handoffs per journey", "Journeys with a team handoff", "Team ping-pong")] == [
        "1.2", "60%", "33%"
    ]  # fmt: skip
    help_text = next(m.help for m in at.metric if m.label == "Team ping-pong")
    assert "back to a team" in help_text

    team_pairs = _table(at, *TEAM_PAIRS)
    # Team pairs count distinct journeys, not customers (teams run to the hundreds).
    rows = team_pairs[[*TEAM_PAIRS, "journeys", "ping_pong"]].values.tolist()
    assert [tuple(r) for r in rows] == _pair_rows(handoffs, customers=False)
    assert not any("No customer switched channel" in i.value for i in at.info)

    raw = pl.read_csv(io.StringIO(TEAM_EVENTS))
    moved = pl.DataFrame(handoffs)
    expected_teams = {
        team: (
            int(raw.filter(pl.col("team") == team).height),
            int(moved.filter(pl.col("to") == team).height),
            int(moved.filter(pl.col("from") == team).height),
            int(moved.filter((pl.col("to") == team) & pl.col("ping_pong")).height),
        )
        for team in raw["team"].unique()
    }
    teams = _table(at, *TEAMS)
    shown_teams = teams[["team", "events", "handoffs_in", "handoffs_out", "ping_pong_in"]].values.tolist()
    assert {r[0]: tuple(r[1:]) for r in shown_teams} == expected_teams
    totals = [expected_teams[t][1] + expected_teams[t][2] for t in teams["team"]]
    assert totals == sorted(totals, reverse=True)  # busiest in handoffs first

    heatmap = _charts(at)["Team handoffs (count)"]["data"]
    assert [t["type"] for t in heatmap] == ["heatmap", "scatter"]

    _by_key_prefix(at.text_input, OverlayKeys.TEAM_SEARCH).input("bill").run()
    assert _table(at, *TEAMS)["team"].tolist() == ["Billing"]
    assert sorted(map(tuple, _table(at, *TEAM_PAIRS)[list(TEAM_PAIRS[:2])].values.tolist())) == sorted(
        (a, b) for a, b, *_ in _pair_rows(handoffs) if "Billing" in (a, b)
    )

    designed = _table(at, *DESIGNED)
    browse_ask = designed[designed["from"] == "Browse"].iloc[0]
    walked = [m for m in _reference_moves(TEAM_EVENTS, "activity") if (m["from"], m["to"]) == ("browse", "ask")]
    assert browse_ask["moves"] == len(walked) == 3
    assert browse_ask["declared_carry"] == "full"
    assert round(float(browse_ask["context_loss_score"]), 3) == 0.1
    assert browse_ask["verdict"] == "Consistent with the declared context carry."

    # Ask's events: 3 in chat, 1 on the website (channels by their names on the map).
    asks = raw.filter(pl.col("activity") == "ask")["channel"].value_counts(sort=True)
    names = {c.id: c.name for c in support_map().channels}
    mix = " · ".join(f"{names[c]} {n / asks['count'].sum():.0%}" for c, n in asks.iter_rows())
    assert mix == "Chat 75% · Website 25%"
    ask = next(n for n in graph_payload(at)["nodes"] if n["id"] == "ask")
    assert "designed channel: Chat" in ask["title"] and f"seen in: {mix}" in ask["title"]
    board = _by_key_prefix(at.dataframe, OverlayKeys.BOARD).value
    ask_row = board[(board["kind"] == "touchpoint") & (board["item"] == "Ask in chat")].iloc[0]
    assert (ask_row["designed_channel"], ask_row["seen_in"]) == ("Chat", mix)


def test_hundreds_of_teams_are_all_listed_and_the_heatmap_says_it_is_limited(
    make_app: Callable[..., AppTest], support_map_id: int, tmp_path: Path
) -> None:
    lines = ["customer_id,timestamp,channel,activity,team"]
    for i in range(600):
        teams = (f"T{i % 300:03d}", f"T{i % 17:03d}", f"T{(i * 7 + 3) % 300:03d}")
        for step, (activity, team) in enumerate(zip(("browse", "ask", "call"), teams, strict=True)):
            lines.append(f"k{i},2024-05-01T{8 + step:02d}:00:00Z,web,{activity},{team}")
    text = "\n".join(lines) + "\n"
    path = tmp_path / "many_teams.csv"
    path.write_text(text, encoding="utf-8")
    at = _open_with(make_app, support_map_id, path, owner="team")

    # One channel for every event: the channel section says so, the team section is full.
    assert any(i.value == "No customer switched channel in the filtered data." for i in at.info)
    handoffs = _reference_moves(text, "team")
    expected = _pair_rows(handoffs)
    pairs = _table(at, *TEAM_PAIRS)
    assert len(pairs) == len(expected) > 500
    assert [tuple(r) for r in pairs[list(TEAM_PAIRS)].values.tolist()] == [r[:3] for r in expected]
    assert len(_table(at, *TEAMS)) == 300

    volume: dict[str, int] = {}
    for m in handoffs:
        volume[m["from"]] = volume.get(m["from"], 0) + 1
        volume[m["to"]] = volume.get(m["to"], 0) + 1
    top = sorted(volume, key=lambda t: (-volume[t], t))[:25]
    inside = sum(1 for m in handoffs if m["from"] in top and m["to"] in top)
    share = inside / len(handoffs)
    title = f"Team handoffs (count) · top 25 of {len(volume)} teams by volume ({share:.0%} of team handoffs)"
    figure = _charts(at)[title]
    assert [t["type"] for t in figure["data"]] == ["heatmap", "scatter"]  # one trace per kind, not per cell
    assert figure["data"][0]["y"] == top
    assert len(figure["data"][1]["x"]) == 25 * 25

    _by_key_prefix(at.text_input, OverlayKeys.TEAM_SEARCH).input("t016").run()
    found = _table(at, *TEAM_PAIRS)
    assert len(found) == sum(1 for r in expected if "T016" in r[:2]) > 0
    assert _table(at, *TEAMS)["team"].tolist() == ["T016"]
