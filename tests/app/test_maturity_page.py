"""The maturity page under AppTest: answer as an assessor, read the scores, the radar, evidence and imports."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.access import Role
from journeymap.events.goals import default_settings
from journeymap.events.ingest import save_log
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.overlay import compute_overlay
from journeymap.maturity import Answer, assessment_to_json, load_builtin_framework
from journeymap.model import Channel, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.store import create_map, init_db, register_dataset, session_scope
from journeymap.store.assessments import (
    create_assessment,
    ensure_framework,
    export_assessment,
    get_framework,
    list_answers,
    list_assessments,
    save_answers,
)
from tests.app.signing import add_account, sign_in

MakeApp = Callable[..., AppTest]
PAGE = "views/maturity.py"
NOT_ANSWERED, DONT_KNOW, NO_MAP = 0, -1, -1


def returns_map() -> JourneyMap:
    """Handoffs: form → call (carry none, Digital → Care) and call → refund (full, Care → Digital).

    Evidence: designed integration factor 0.5 (level 3), cross-owner share 1.0 (ownership level 1),
    silo share 0.5 (channel switching level 2).
    """
    return JourneyMap(
        name="Returns",
        stages=(Stage(id="service", name="Onboarding/Service"),),
        channels=(
            Channel(id="web", name="Website", owner_team="Digital"),
            Channel(id="call", name="Call center", kind="assisted", owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="form", name="Return form", channel="web", stage="service"),
            Touchpoint(id="phone", name="Return call", channel="call", stage="service"),
            Touchpoint(id="refund", name="Refund", channel="web", stage="service", is_final=True),
        ),
        transitions=(
            Transition(source="form", target="phone", context_carry=ContextCarry.NONE),
            Transition(source="phone", target="refund", context_carry=ContextCarry.FULL),
        ),
    )


def _setup(engine: Engine, *, unit: str = "Retail", day: int = 30, answers: list[Answer] | None = None) -> int:
    init_db(engine)
    with session_scope(engine) as session:
        fw = ensure_framework(session=session, framework=load_builtin_framework())
        created = create_assessment(
            session=session,
            name="Q3 review",
            business_unit=unit,
            assessed_on=date(2026, 9, day),
            framework_key=fw.framework_key,
            framework_revision=fw.number,
            targets={d.id: 4 for d in load_builtin_framework().dimensions},
        )
        if answers:
            save_answers(session=session, assessment_id=created.id, answers=answers)
        return created.id


def _open(
    make_app: MakeApp, engine: Engine, assessment_id: int | None, author: str = "Ana", role: Role = Role.EDITOR
) -> AppTest:
    """The page opened by ``author``, signed in (an editor unless ``role`` says otherwise)."""
    at = make_app(PAGE)
    if assessment_id is not None:
        at.query_params["assessment"] = str(assessment_id)
    sign_in(at, engine, author, role)
    at.run()
    assert not at.exception, at.exception
    return at


def _radar(at: AppTest, key: str) -> list[tuple[str, list[float | None]]]:
    """Trace names and r values of the plotly chart with widget ``key``, from its figure JSON."""
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]  # type: ignore[attr-defined]
    figure = json.loads(chart.proto.spec)  # type: ignore[attr-defined]
    return [(trace["name"], trace["r"]) for trace in figure["data"]]


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page with ``column`` (tables without selection carry no key)."""
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def _score_row(at: AppTest, dimension: str) -> dict[str, Any]:
    table = _table(at, "Consensus (median)")
    row = table[table["Dimension"] == dimension]
    assert len(row) == 1
    return dict(row.iloc[0])


def _answer(at: AppTest, assessment_id: int, assessor: str, question: str, level: int) -> None:
    at.selectbox(key=f"jm_maturity_answer_{assessment_id}_{assessor}_{question}").set_value(level)


def test_answering_shows_consensus_spread_and_radar(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _setup(engine, answers=[Answer("Ben", "di_profile", 4), Answer("Ben", "di_history", 4)])
    at = _open(make_app, engine, assessment_id, author="Ana")
    _answer(at, assessment_id, "Ana", "di_profile", 2)
    _answer(at, assessment_id, "Ana", "di_history", 3)
    _answer(at, assessment_id, "Ana", "di_latency", DONT_KNOW)
    at.text_input(key=f"jm_maturity_note_{assessment_id}_Ana_di_profile").input("nightly batch")
    at.button(key="jm_maturity_answer_submit").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Saved 3 answer\\(s\\) for Ana\\."]

    # Ana 2.5 (don't know left out), Ben 4: median 3.25, population stdev 0.75, one "don't know".
    assert _score_row(at, "Data integration") == {
        "Dimension": "Data integration",
        "Consensus (median)": "3.25",
        "Min": "2.5",
        "Max": "4",
        "Stdev": "0.75",
        "Assessors": 2,
        "Don't know": 1,
        "Target": "4",
        "Gap": "0.75",
        "Evidence": "no evidence",
        "Flag": "",
    }
    assert _score_row(at, "Ownership")["Consensus (median)"] == "not assessed"

    traces = _radar(at, "jm_maturity_radar")
    assert [name for name, _ in traces] == [
        "Current (consensus)",
        "Target",
        "Multichannel (all 2)",
        "Omnichannel (all 4)",
    ]
    current = traces[0][1]
    assert len(current) == 10 and current[1] == 3.25 and current[0] is None and current[2] is None
    assert traces[1][1] == [4] * 10 and traces[2][1] == [2] * 10 and traces[3][1] == [4] * 10

    with session_scope(engine) as session:
        saved = list_answers(session=session, assessment_id=assessment_id)
    assert Answer("Ana", "di_profile", 2, "nightly batch") in saved
    assert Answer("Ana", "di_latency", None) in saved
    assert Answer("Ben", "di_profile", 4) in saved


def test_answers_reload_after_a_refresh(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _setup(engine, answers=[Answer("Ana", "ow_owner", 3, "shared KPIs", "https://wiki/kpi")])
    at = _open(make_app, engine, assessment_id, author="Ana")
    assert at.selectbox(key=f"jm_maturity_answer_{assessment_id}_Ana_ow_owner").value == 3
    assert at.text_input(key=f"jm_maturity_link_{assessment_id}_Ana_ow_owner").value == "https://wiki/kpi"


def test_a_viewer_reads_the_scores_but_gets_no_answer_form(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _setup(engine, answers=[Answer("Ben", "di_profile", 4)])
    add_account(engine, "Olive")  # the workspace's owner
    at = _open(make_app, engine, assessment_id, author="Vera", role=Role.VIEWER)
    assert "Vera is viewer: owners and editors answer" in at.info[0].value
    assert [s.key for s in at.selectbox if (s.key or "").startswith("jm_maturity_answer_")] == []
    assert "jm_maturity_answer_submit" not in [b.key for b in at.button]
    assert _score_row(at, "Data integration")["Consensus (median)"] == "4"


def test_map_evidence_beside_the_self_assessment_and_flags(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _setup(engine, answers=[Answer("Ana", "ow_owner", 4), Answer("Ana", "ow_incentives", 4)])
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=returns_map(), author="Ana").map_id
    at = _open(make_app, engine, assessment_id)
    at.selectbox(key="jm_maturity_evidence_map").set_value(map_id).run()
    assert not at.exception, at.exception

    evidence = _table(at, "Suggests level")
    assert evidence.to_dict("records") == [
        {
            "Dimension": "Data integration",
            "Indicator": "designed integration factor",
            "Value": 0.5,
            "Suggests level": 3,
        },
        {"Dimension": "Ownership", "Indicator": "share of cross-owner handoffs", "Value": 1.0, "Suggests level": 1},
        {
            "Dimension": "Channel switching and context carry",
            "Indicator": "share of silo handoffs on the map",
            "Value": 0.5,
            "Suggests level": 2,
        },
    ]
    assert [w.value for w in at.warning] == [
        "self\\-assessed 4 on ownership; share of cross\\-owner handoffs suggests 1"
    ]
    assert _score_row(at, "Ownership")["Evidence"] == "1 (share of cross-owner handoffs 1)"
    names = [name for name, _ in _radar(at, "jm_maturity_radar")]
    assert names[2] == "Evidence"
    assert _radar(at, "jm_maturity_radar")[2][1][:4] == [None, 3, 1, 2]

    # Ownership already meets its target (4) and nothing else is assessed: nothing to recommend.
    at.session_state["jm_maturity_recommend_largest"] = 9
    at.run()
    assert at.info[-1].value.startswith("No gap to close")


def test_recommendations_list_the_maps_carry_none_handoffs(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _setup(engine, answers=[Answer("Ana", "cs_repeat", 2), Answer("Ana", "cs_resume", 2)])
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=returns_map(), author="Ana").map_id
    at = _open(make_app, engine, assessment_id)
    at.selectbox(key="jm_maturity_evidence_map").set_value(map_id).run()
    table = _table(at, "Recommendation")
    assert table.to_dict("records") == [
        {
            "Dimension": "Channel switching and context carry",
            "Gap": "2 → 4",
            "Recommendation": "Remove start-over at the silo handoffs",
            "Impact": "high",
            "Effort": "medium",
            "Concerns": "handoffs with carry none: 1",
        },
        {
            "Dimension": "Channel switching and context carry",
            "Gap": "2 → 4",
            "Recommendation": "Let customers resume any request in any channel",
            "Impact": "high",
            "Effort": "high",
            "Concerns": "handoffs with carry partial: 0",
        },
    ]
    text = "\n".join(m.value for m in at.markdown)
    assert "Return form (Website) → Return call (Call center), carry none" in text.replace("\\", "")


def test_compare_two_business_units(make_app: MakeApp, engine: Engine) -> None:
    retail = _setup(engine, unit="Retail", day=1, answers=[Answer("Ana", "cf_priorities", 2)])
    online = _setup(
        engine, unit="Online", day=2, answers=[Answer("Bo", "cf_priorities", 4), Answer("Bo", "ir_link", 5)]
    )
    at = _open(make_app, engine, retail)
    at.multiselect(key=f"jm_maturity_compare_pick_{retail}").set_value([retail, online]).run()
    assert not at.exception, at.exception
    traces = _radar(at, "jm_maturity_compare_radar")
    assert [name for name, _ in traces] == [
        "Q3 review · Retail · 2026-09-01",
        "Q3 review · Online · 2026-09-02",
        "Multichannel (all 2)",
        "Omnichannel (all 4)",
    ]
    assert traces[0][1][0] == 2 and traces[1][1][0] == 4 and traces[1][1][4] == 5
    characteristics = _table(at, "Omnichannel")
    assert characteristics.iloc[1].to_dict() == {
        "Dimension": "Data integration",
        "Multichannel": "Siloed data: each channel keeps its own records.",
        "Omnichannel": "Unified profiles and shared context available to every channel.",
    }


def test_create_then_import_and_refuse_a_broken_file(make_app: MakeApp, engine: Engine) -> None:
    at = _open(make_app, engine, None)
    with session_scope(engine) as session:
        demo = {a.id for a in list_assessments(session=session)}
    assert len(demo) == 2  # the demo workspace's retail baseline and follow-up
    at.text_input(key="jm_maturity_new_name").input("Workshop")
    at.text_input(key="jm_maturity_new_unit").input("Stores")
    at.button(key="jm_maturity_new_submit").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        (created,) = [a for a in list_assessments(session=session) if a.id not in demo]
        save_answers(session=session, assessment_id=created.id, answers=[Answer("Ana", "me_kpis", 3)])
        exported = assessment_to_json(export_assessment(session=session, assessment_id=created.id))
    assert (created.name, created.business_unit) == ("Workshop", "Stores")
    assert created.targets == {d.id: 4 for d in load_builtin_framework().dimensions}

    at.file_uploader(key="jm_maturity_import_file").set_value(("bad.json", b'{"format": "x"}', "application/json"))
    at.run()
    at.button(key="jm_maturity_import_submit").click().run()
    assert "bad.json: is not a Journeymap maturity assessment" in at.error[0].value.replace("\\", "")

    at.file_uploader(key="jm_maturity_import_file").set_value(("q.json", exported.encode(), "application/json"))
    at.run()
    at.button(key="jm_maturity_import_submit").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        ids = [a.id for a in list_assessments(session=session) if a.id not in demo]
        assert len(ids) == 2
        assert list_answers(session=session, assessment_id=max(ids)) == (Answer("Ana", "me_kpis", 3),)
    assert _score_row(at, "Measurement")["Consensus (median)"] == "3"


def test_invalid_framework_edit_names_the_field(make_app: MakeApp, engine: Engine) -> None:
    at = _open(make_app, engine, _setup(engine))
    document = json.loads(at.text_area(key="jm_maturity_framework_text").value)
    document["dimensions"][0]["levels"].pop()
    at.text_area(key="jm_maturity_framework_text").input(json.dumps(document))
    at.button(key="jm_maturity_framework_submit").click().run()
    message = at.error[0].value.replace("\\", "")
    assert message.startswith("framework document, field 'dimensions[0].levels': 'Customer focus' describes 4 levels")


def test_overlay_evidence_from_a_saved_dataset(make_app: MakeApp, engine: Engine, tmp_path: Path) -> None:
    # c0 follows the design (form → call → refund); c1 calls and fills the form again; c2 calls and gives up.
    steps = [(0, 0, False), (0, 1, False), (0, 2, True), (1, 0, False), (1, 1, False), (1, 0, False)]
    steps += [(2, 0, False), (2, 1, False)]
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    channel_of = {0: 0, 1: 1, 2: 0}
    n = len(steps)
    events = pl.DataFrame(
        {
            "customer": [c for c, _, _ in steps],
            "ts": [start + timedelta(minutes=10 * i) for i in range(n)],
            "seq": list(range(n)),
            "touchpoint": [t for _, t, _ in steps],
            "channel": [channel_of[t] for _, t, _ in steps],
            "owner": [channel_of[t] for _, t, _ in steps],
            "converted": [v for _, _, v in steps],
            "identified": [False] * n,
            "value": [None] * n,
            "sentiment": [None] * n,
        },
        schema=EVENT_SCHEMA,
    )
    log = EventLog(events, ("form", "phone", "refund"), ("web", "call"), ("Digital", "Care"))
    save_log(log, tmp_path / "returns.parquet")
    expected = compute_overlay(log, returns_map(), default_settings(returns_map()))  # the Overlay page's goal
    assessment_id = _setup(engine)
    with session_scope(engine) as session:
        map_id = create_map(session=session, journey_map=returns_map(), author="Ana").map_id
        dataset_id = register_dataset(
            session=session,
            name="Returns events",
            source_filename="returns.csv",
            content_hash="5e" * 32,
            cache_path=str(tmp_path / "returns.parquet"),
            rows=n,
            customers=3,
            mapping_json='{"customer": "cid"}',
            created_by="Ana",
            stitching_rate=0.62,
        ).id
        # The same events registered before the stitching rate was kept: no identity evidence.
        unmeasured_id = register_dataset(
            session=session,
            name="Returns events (old)",
            source_filename="returns.csv",
            content_hash="5f" * 32,
            cache_path=str(tmp_path / "returns.parquet"),
            rows=n,
            customers=3,
            mapping_json='{"customer": "cid"}',
            created_by="Ana",
        ).id
    at = _open(make_app, engine, assessment_id)
    at.selectbox(key="jm_maturity_evidence_map").set_value(map_id).run()
    at.selectbox(key="jm_maturity_evidence_dataset").set_value(dataset_id).run()
    assert not at.exception, at.exception
    rows = {(r["Dimension"], r["Indicator"]): r["Value"] for r in _table(at, "Suggests level").to_dict("records")}
    factor = expected.kpis.measured_integration_factor
    assert factor is not None and expected.conformance is not None
    assert rows[("Data integration", "measured integration factor")] == round(factor, 3)
    assert rows[("Customer focus", "share of conforming journeys")] == round(
        expected.conformance.conforming_journey_share, 3
    )
    assert ("Channel switching and context carry", "measured context loss") in rows
    assert ("Data integration", "designed integration factor") in rows
    # Thresholds 0.2 / 0.4 / 0.6 / 0.8, higher is better: 0.62 suggests level 4.
    (identity_row,) = [
        r for r in _table(at, "Suggests level").to_dict("records") if r["Dimension"] == "Identity resolution"
    ]
    assert identity_row == {
        "Dimension": "Identity resolution",
        "Indicator": "identity-stitching rate",
        "Value": 0.62,
        "Suggests level": 4,
    }

    at.selectbox(key="jm_maturity_evidence_dataset").set_value(unmeasured_id).run()
    assert not at.exception, at.exception
    indicators = [r["Indicator"] for r in _table(at, "Suggests level").to_dict("records")]
    assert "measured integration factor" in indicators and "identity-stitching rate" not in indicators


def test_a_custom_framework_is_saved_as_a_new_key(make_app: MakeApp, engine: Engine) -> None:
    at = _open(make_app, engine, _setup(engine))
    document = json.loads(at.text_area(key="jm_maturity_framework_text").value)
    document["key"] = "ours"
    document["name"] = "Our maturity"
    document["dimensions"][0]["questions"].append({"id": "cf_new", "text": "Do we map journeys with customers?"})
    at.text_area(key="jm_maturity_framework_text").input(json.dumps(document))
    at.button(key="jm_maturity_framework_submit").click().run()
    assert not at.exception, at.exception
    assert [s.value.replace("\\", "") for s in at.success] == ["Saved 'ours' revision 1."]
    with session_scope(engine) as session:
        info, framework = get_framework(session=session, key="ours")
    assert (info.number, info.author, framework.dimensions[0].questions[-1].id) == (1, "Ana", "cf_new")
    assert "Our maturity (revision 1)" in at.selectbox(key="jm_maturity_new_framework").options


def test_targets_change_the_gap(make_app: MakeApp, engine: Engine) -> None:
    assessment_id = _setup(engine, answers=[Answer("Ana", "ow_owner", 2)])
    at = _open(make_app, engine, assessment_id)
    assert _score_row(at, "Ownership")["Gap"] == "2"
    at.select_slider(key=f"jm_maturity_target_{assessment_id}_ownership").set_value(5)
    at.button(key="jm_maturity_target_submit").click().run()
    assert not at.exception, at.exception
    row = _score_row(at, "Ownership")
    assert (row["Target"], row["Gap"]) == ("5", "3")
