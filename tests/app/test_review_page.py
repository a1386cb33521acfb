"""The review page under AppTest: history, restore, comparison values and the export controls."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from journeymap.compare import ADDED_COLOR, CHANGED_COLOR, REMOVED_COLOR
from journeymap.events.goals import default_settings
from journeymap.events.ingest import load_log
from journeymap.events.overlay import Overlay, compute_overlay
from journeymap.maturity import Answer, load_builtin_framework
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Touchpoint, Transition
from journeymap.store import (
    create_map,
    init_db,
    latest_revision,
    list_datasets,
    list_revisions,
    save_revision,
    session_scope,
)
from journeymap.store.assessments import create_assessment, ensure_framework, save_answers
from journeymap.ui.editor_forms import file_name_for
from journeymap.ui.state import OverlayKeys
from tests.fixtures import bopis_map

MakeApp = Callable[..., AppTest]
PAGE = "views/review.py"


def revised_bopis() -> JourneyMap:
    """bopis_map() with a chat channel and touchpoint, the desk's silo handoff fixed and curbside removed."""
    m = bopis_map()
    return m.model_copy(
        update={
            "channels": (*m.channels, Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING)),
            "touchpoints": (
                *(tp for tp in m.touchpoints if tp.id != "curbside"),
                Touchpoint(id="chat-help", name="Chat help", channel="chat", stage="collect", is_final=True),
            ),
            "transitions": (
                *(
                    tr.model_copy(update={"context_carry": ContextCarry.FULL})
                    if (tr.source, tr.target) == ("ready-notice", "pickup-desk")
                    else tr
                    for tr in m.transitions
                    if tr.source != "curbside"
                ),
                Transition(source="order-help", target="chat-help", context_carry=ContextCarry.PARTIAL),
            ),
        }
    )


@pytest.fixture
def two_revisions(engine: Engine) -> int:
    """The only saved map: bopis_map() as revision 1, revised_bopis() as revision 2."""
    init_db(engine)
    with session_scope(engine) as session:
        first = create_map(session=session, journey_map=bopis_map(), author="Ana", message="First draft")
        save_revision(
            session=session,
            map_id=first.map_id,
            journey_map=revised_bopis(),
            author="Bo",
            message="Chat added",
            base_revision_id=first.id,
        )
    return first.map_id


def graphs(at: AppTest) -> list[dict[str, Any]]:
    found = [el for el in at.get("component_instance") if el.proto.component_name == "streamlit_agraph.agraph"]  # type: ignore[attr-defined]
    out = []
    for el in found:
        args = json.loads(el.proto.json_args)  # type: ignore[attr-defined]
        out.append(json.loads(args["data"]))
    return out


TABLE_COLUMNS = {
    "history": ("Revision", "Author"),
    "touchpoints": ("Change", "Touchpoint"),
    "transitions": ("Change", "From"),
    "handoffs": ("From", "To", "Older carry"),
    "parts": ("Kind", "Change"),
}


def table(at: AppTest, name: str) -> Any:
    """The one table the page shows under ``name`` (tables are told apart by their first columns)."""
    columns = list(TABLE_COLUMNS[name])
    (match,) = [df.value for df in at.dataframe if list(df.value.columns)[: len(columns)] == columns]
    return match


def test_history_lists_revisions_with_key_figures(make_app: MakeApp, two_revisions: int) -> None:
    at = make_app(PAGE).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Review"]
    history = table(at, "history")
    assert history[
        ["Revision", "Author", "Message", "Touchpoints", "Transitions", "Silo handoffs"]
    ].values.tolist() == [
        [2, "Bo", "Chat added", 8, 9, 1],
        [1, "Ana", "First draft", 8, 9, 2],
    ]


def test_compares_revision_1_with_2_by_default(make_app: MakeApp, two_revisions: int) -> None:
    at = make_app(PAGE).run()
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    # -curbside +chat-help; -T9 +order-help->chat-help; T6 none->full; curbside was unreachable.
    assert metrics == {
        "Touchpoints": ("8", ""),
        "Transitions": ("9", ""),
        "Handoffs": ("7", ""),
        "Silo handoffs": ("1", "-1"),
        "Dead ends": ("1", ""),
        "Unreachable": ("0", "-1"),
        # cross-channel: T1 .5, T3 1, T5 1, T6 1 (was 0), T7 .5, T8 0, order-help -> chat-help .5: 4.5 / 7
        "Integration factor": ("0.64", "+0.14"),
    }
    summary = at.markdown[0].value
    assert "Channel 'Chat' added" in summary
    assert "no longer a silo handoff \\(carry none → full\\)" in summary
    touchpoints = table(at, "touchpoints")
    assert touchpoints[["Change", "Touchpoint", "Channel"]].values.tolist() == [
        ["added", "Chat help", "Chat"],
        ["removed", "Curbside hand-over", "Store"],
    ]
    assert "Id" not in touchpoints.columns  # names, not ids
    handoffs = table(at, "handoffs")
    assert handoffs.values.tolist() == [["Ready-for-pickup notice", "Pick-up desk", "none", "full", "no longer"]]
    transitions = table(at, "transitions")
    assert transitions[["Change", "From", "To"]].values.tolist() == [
        ["added", "Order help line", "Chat help"],
        ["removed", "Curbside hand-over", "Pick-up desk"],
        ["changed", "Ready-for-pickup notice", "Pick-up desk"],
    ]


def test_compare_graphs_highlight_differences(make_app: MakeApp, two_revisions: int) -> None:
    at = make_app(PAGE).run()
    old, new = graphs(at)
    old_nodes = {n["id"]: n for n in old["nodes"]}
    new_nodes = {n["id"]: n for n in new["nodes"]}
    assert old_nodes["curbside"]["color"]["border"] == REMOVED_COLOR
    assert new_nodes["chat-help"]["color"]["border"] == ADDED_COLOR
    assert "curbside" not in new_nodes
    new_edges = {(e["from"], e["to"]): e["color"]["color"] for e in new["edges"]}
    assert new_edges["ready-notice", "pickup-desk"] == CHANGED_COLOR
    assert new_edges["order-help", "chat-help"] == ADDED_COLOR


def test_restore_adds_a_revision_and_overwrites_nothing(make_app: MakeApp, two_revisions: int, engine: Engine) -> None:
    at = make_app(PAGE).run()
    (restore,) = [sb for sb in at.selectbox if sb.key.startswith("jm_review_restore_choice")]
    assert len(restore.options) == 1  # only revision 1 is older than the latest
    at.button(key="jm_review_restore_submit").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Revision 1 restored as revision 3\\."]
    with session_scope(engine) as session:
        history = list_revisions(session=session, map_id=two_revisions)
    assert [(r.number, r.message, r.silo_handoffs) for r in history] == [
        (3, "Restored revision 1", 2),
        (2, "Chat added", 1),
        (1, "First draft", 2),
    ]
    assert table(at, "history")["Revision"].tolist() == [3, 2, 1]


def test_compare_with_another_map_matches_by_name(make_app: MakeApp, two_revisions: int, engine: Engine) -> None:
    other = revised_bopis()
    # Another region's copy: other touchpoint ids, same names in the same channels.
    renamed = {"chat-help": "region-chat"}
    other = other.model_copy(
        update={
            "name": "Region B",
            "touchpoints": tuple(tp.model_copy(update={"id": renamed.get(tp.id, tp.id)}) for tp in other.touchpoints),
            "transitions": tuple(
                tr.model_copy(
                    update={"source": renamed.get(tr.source, tr.source), "target": renamed.get(tr.target, tr.target)}
                )
                for tr in other.transitions
            ),
        }
    )
    with session_scope(engine) as session:
        region = create_map(session=session, journey_map=other, author="Cy")
    at = make_app(PAGE).run()
    at.selectbox(key="jm_review_map").set_value(two_revisions).run()
    at.selectbox(key=f"jm_review_other_map_{two_revisions}").set_value(region.map_id).run()
    assert not at.exception, at.exception
    # Older side: revision 2 of the first map (the latest), identical up to the ids.
    at.selectbox(key=f"jm_review_old_revision_{two_revisions}").set_value(
        list_revisions_ids(engine, two_revisions)[0]
    ).run()
    assert at.markdown[0].value == "- No differences in stages, channels, personas, touchpoints or transitions\\."
    assert {m.label: m.delta for m in at.metric}["Silo handoffs"] == ""


def list_revisions_ids(engine: Engine, map_id: int) -> list[int]:
    with session_scope(engine) as session:
        return [r.id for r in list_revisions(session=session, map_id=map_id)]


def test_exports_without_chromium_say_what_to_install(
    make_app: MakeApp, two_revisions: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    at = make_app(PAGE).run()
    assert any("Install the Debian package chromium" in i.value for i in at.info)
    assert at.button(key="jm_review_build_pdf").disabled
    assert at.button(key="jm_review_build_png").disabled
    labels = [b.proto.label for b in at.get("download_button")]  # type: ignore[attr-defined]
    assert labels == ["Download JSON", "Download HTML report"]


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_png_and_pdf_are_prepared_on_click(make_app: MakeApp, two_revisions: int) -> None:
    at = make_app(PAGE).run()
    labels = [b.proto.label for b in at.get("download_button")]  # type: ignore[attr-defined]
    assert labels == ["Download JSON", "Download HTML report"]
    at.button(key="jm_review_build_png").click().run(timeout=120)
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]  # type: ignore[attr-defined]
    assert labels == ["Download JSON", "Download HTML report", "Download PNG of the graph"]
    at.button(key="jm_review_build_pdf").click().run(timeout=120)
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]  # type: ignore[attr-defined]
    assert labels == ["Download JSON", "Download HTML report", "Download PDF report", "Download PNG of the graph"]
    assert not at.error


# --- reports with the overlay and a maturity assessment ------------------------------------------------------


class Downloads:
    """The deferred downloads a page registered, by file name: ``downloads.text("x.html")`` runs the generator."""

    def __init__(self) -> None:
        self.generators: dict[str, Callable[[], Any]] = {}

    def text(self, file_name: str) -> str:
        data = self.generators[file_name]()
        return data.decode() if isinstance(data, bytes) else str(data)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """Catch the callables behind ``st.download_button(data=callable)`` (generated on click in a browser)."""
    caught = Downloads()
    original = MediaFileManager.add_deferred

    def add_deferred(self: MediaFileManager, data_callable: Callable[[], Any], *args: Any, **kwargs: Any) -> str:
        file_name = kwargs.get("file_name", args[2] if len(args) > 2 else None)
        caught.generators[str(file_name)] = data_callable
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return caught


def _load_demo_dataset(at: AppTest, engine: Engine) -> tuple[int, Overlay]:
    """Click 'Use the demo dataset' on the overlay page; the retail map's id and its overlay computed here."""
    at.switch_page("views/overlay.py").run()
    at.button(key=OverlayKeys.DEMO).click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        (dataset,) = list_datasets(session=session)
        assert dataset.map_id is not None
        journey_map = latest_revision(session=session, map_id=dataset.map_id).journey_map
    # Computed apart from the page: the stored log read directly, the Overlay page's defaults (its goal included).
    return dataset.map_id, compute_overlay(load_log(dataset.cache_path), journey_map, default_settings(journey_map))


def _html_file(downloads: Downloads, map_name: str | None = None) -> str:
    """The HTML report's file name: the only one, or that of the map named ``map_name`` (the page may have
    offered another map's report before the test picked this one)."""
    prefix = file_name_for(map_name).removesuffix(".json") if map_name else ""
    (name,) = [n for n in downloads.generators if n.endswith(".html") and n.startswith(prefix)]
    return name


DEMO_MAP = "Retail: buy online, pick up in store"


@pytest.fixture
def assessment_id(engine: Engine) -> int:
    """An assessment of the built-in framework: customer focus Ana 2.5 / Ben 4.0 (consensus 3.25), target 4."""
    init_db(engine)
    framework = load_builtin_framework()
    with session_scope(engine) as session:
        saved = ensure_framework(session=session, framework=framework)
        info = create_assessment(
            session=session,
            name="Autumn review",
            business_unit="Retail",
            assessed_on=date(2026, 10, 1),
            framework_key=framework.key,
            framework_revision=saved.number,
            targets={"customer_focus": 4},
        )
        save_answers(
            session=session,
            assessment_id=info.id,
            answers=[
                Answer("Ana", "cf_journeys_mapped", 2),
                Answer("Ana", "cf_priorities", 3),
                Answer("Ben", "cf_journeys_mapped", 4),
                Answer("Ana", "di_profile", 2),
            ],
        )
    return info.id


def test_report_of_a_map_with_a_dataset_holds_the_friction_board_and_kpis(
    make_app: MakeApp, engine: Engine, downloads: Downloads
) -> None:
    at = make_app().run()
    map_id, overlay = _load_demo_dataset(at, engine)
    at.switch_page(PAGE).run()
    at.selectbox(key="jm_review_map").set_value(map_id).run()
    assert not at.exception, at.exception
    captions = [c.value.replace("\\", "") for c in at.caption]  # the page escapes markdown in names
    assert (
        "Reports include the overlay of retail_events.csv.gz, the newest dataset registered for this map "
        in " ".join(captions)
    )
    assert at.selectbox(key="jm_review_export_assessment").value is None  # no assessment unless chosen
    report = downloads.text(_html_file(downloads, DEMO_MAP))
    first_finding = overlay.friction["finding"][0]
    assert first_finding and html.escape(first_finding) in report
    assert '<section id="friction"><h2>Friction board (top 10)</h2>' in report
    # The demo data's journey KPIs (default settings: a 3-day gap).
    assert "<tr><td>Journeys</td><td>7,089</td></tr>" in report
    assert "<tr><td>Customers</td><td>3,128</td></tr>" in report
    assert f"<tr><td>Completion rate</td><td>{overlay.kpis.as_dict()['completion_rate']:.1%}</td></tr>" in report
    assert "<tr><td>Completion rate</td><td>39.0%</td></tr>" in report
    assert 'id="radar"' not in report


def test_report_without_a_dataset_has_no_event_sections(
    make_app: MakeApp, two_revisions: int, downloads: Downloads
) -> None:
    at = make_app(PAGE).run()
    report = downloads.text(_html_file(downloads))
    assert 'id="friction"' not in report and 'id="kpis"' not in report
    assert not any("newest dataset registered" in c.value for c in at.caption)


def test_report_with_an_assessment_has_the_radar_and_levels(
    make_app: MakeApp, two_revisions: int, assessment_id: int, downloads: Downloads
) -> None:
    at = make_app(PAGE).run()
    choice = at.selectbox(key="jm_review_export_assessment")
    assert choice.options == ["None", "Autumn review · Retail · 2026-10-01"]
    choice.set_value(assessment_id).run()
    assert not at.exception, at.exception
    report = downloads.text(_html_file(downloads))
    assert '<section id="radar"><h2>Omnichannel maturity</h2>' in report
    assert "<th>Dimension</th><th>Autumn review</th><th>Target</th>" in report
    # Consensus = median of the assessors' means: Ana (2 + 3) / 2 = 2.5, Ben 4 → 3.25, shown as 3.2; target 4.
    assert "<tr><td>Customer focus</td><td>3.2</td><td>4</td></tr>" in report
    assert "<tr><td>Data integration</td><td>2.0</td><td>–</td></tr>" in report
    assert "<tr><td>Ownership</td><td>–</td><td>–</td></tr>" in report


def test_report_without_the_dataset_cache_says_why_and_still_exports(
    make_app: MakeApp, engine: Engine, downloads: Downloads
) -> None:
    at = make_app().run()
    map_id, _ = _load_demo_dataset(at, engine)
    with session_scope(engine) as session:
        (dataset,) = list_datasets(session=session)
    Path(dataset.cache_path).unlink()
    st.cache_data.clear()
    st.cache_resource.clear()
    at.switch_page(PAGE).run()
    at.selectbox(key="jm_review_map").set_value(map_id).run()
    assert not at.exception, at.exception
    (warning,) = [w.value.replace("\\", "") for w in at.warning]
    assert warning.startswith("The report leaves the event data out: ")
    assert "Ingest the raw export again." in warning
    report = downloads.text(_html_file(downloads, DEMO_MAP))
    assert 'id="friction"' not in report and '<section id="graph">' in report
