"""Built-in templates: every one loads, is structurally clean and has its designed size."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from journeymap.errors import UserInputError
from journeymap.model import DEFAULT_STAGES, ChannelKind, ContextCarry, JourneyMap, map_from_json, map_to_json
from journeymap.templates import TEMPLATE_DIR, TemplateInfo, blank_map, list_templates, load_template

# id: (touchpoints, transitions, channels, silo handoffs, name of the 4th stage)
EXPECTED = {
    "bank-account-opening": (24, 33, 8, 3, "Onboarding"),
    "retail-bopis": (25, 36, 9, 2, "Pickup & service"),
    "saas-subscription": (27, 40, 9, 2, "Onboarding & support"),
    "telecom-support": (26, 36, 9, 2, "Service & support"),
    "travel-hotel": (25, 39, 9, 3, "Stay"),
}
TEMPLATE_IDS = sorted(EXPECTED)


def _digraph(m: JourneyMap) -> nx.DiGraph[str]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(tp.id for tp in m.touchpoints)
    graph.add_edges_from((tr.source, tr.target) for tr in m.transitions)
    return graph


def _is_handoff(m: JourneyMap, source: str, target: str) -> bool:
    a, b = m.touchpoint(source), m.touchpoint(target)
    return a.channel != b.channel or m.owner_of(a) != m.owner_of(b)


@pytest.fixture(scope="module", params=TEMPLATE_IDS)
def template(request: pytest.FixtureRequest) -> tuple[str, JourneyMap]:
    return request.param, load_template(request.param)


def test_the_built_in_folder_holds_exactly_the_five_templates() -> None:
    assert sorted(path.stem for path in TEMPLATE_DIR.glob("*.json")) == TEMPLATE_IDS


def test_list_templates_is_sorted_by_name_with_counts() -> None:
    infos = list_templates()
    assert [info.name for info in infos] == [
        "Banking: current account opening",
        "Retail: buy online, pick up in store",
        "SaaS: subscription lifecycle",
        "Telecom: broadband support",
        "Travel: hotel stay",
    ]
    retail = next(info for info in infos if info.id == "retail-bopis")
    assert retail == TemplateInfo(
        id="retail-bopis",
        name="Retail: buy online, pick up in store",
        description=load_template("retail-bopis").description,
        touchpoints=25,
        channels=9,
        transitions=36,
    )
    assert {info.id: (info.touchpoints, info.transitions, info.channels) for info in infos} == {
        tid: counts[:3] for tid, counts in EXPECTED.items()
    }


@pytest.mark.parametrize(("template_id", "expected"), sorted(EXPECTED.items()))
def test_template_has_its_designed_counts(template_id: str, expected: tuple[int, int, int, int, str]) -> None:
    touchpoints, transitions, channels, silos, fourth_stage = expected
    m = load_template(template_id)
    silo_count = sum(1 for tr in m.transitions if tr.context_carry is ContextCarry.NONE)
    assert (len(m.touchpoints), len(m.transitions), len(m.channels), silo_count) == (
        touchpoints,
        transitions,
        channels,
        silos,
    )
    assert [s.name for s in m.stages] == ["Awareness", "Consideration", "Purchase", fourth_stage, "Loyalty"]
    assert [s.id for s in m.stages] == ["awareness", "consideration", "purchase", "service", "loyalty"]


def test_template_size_is_within_the_template_rules(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    assert 15 <= len(m.touchpoints) <= 40
    assert 5 <= len(m.channels) <= 9
    assert len(m.personas) >= 2
    assert all(p.description and p.goals for p in m.personas)


def test_every_touchpoint_is_reachable_from_the_first_stage(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    graph = _digraph(m)
    entries = {tp.id for tp in m.touchpoints if tp.stage == m.stages[0].id}
    assert entries
    reached = set(entries).union(*(nx.descendants(graph, entry) for entry in entries))
    assert sorted(tp.id for tp in m.touchpoints if tp.id not in reached) == []


def test_only_final_touchpoints_are_dead_ends(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    graph = _digraph(m)
    dead_ends = [tp.id for tp in m.touchpoints if graph.out_degree(tp.id) == 0 and not tp.is_final]
    assert dead_ends == []
    assert any(tp.is_final for tp in m.touchpoints)


def test_every_stage_is_used(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    used = {tp.stage for tp in m.touchpoints}
    assert [s.id for s in m.stages if s.id not in used] == []


def test_silo_handoffs_are_explained_handoffs(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    silos = [tr for tr in m.transitions if tr.context_carry is ContextCarry.NONE]
    assert len(silos) >= 2
    for tr in silos:
        assert _is_handoff(m, tr.source, tr.target), (tr.source, tr.target)
        assert tr.note.startswith("Silo: "), (tr.source, tr.target)


def test_handoffs_mix_all_three_context_carries(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    carries = {tr.context_carry for tr in m.transitions if _is_handoff(m, tr.source, tr.target)}
    assert carries == {ContextCarry.FULL, ContextCarry.PARTIAL, ContextCarry.NONE}
    # Context is only lost where the customer switches channel or team.
    inside = [tr for tr in m.transitions if not _is_handoff(m, tr.source, tr.target)]
    assert [(tr.source, tr.target) for tr in inside if tr.context_carry is not ContextCarry.FULL] == []


def test_template_content_is_filled_in(template: tuple[str, JourneyMap]) -> None:
    _, m = template
    assert {c.kind for c in m.channels} >= {ChannelKind.DIGITAL, ChannelKind.ASSISTED, ChannelKind.MESSAGING}
    assert all(c.owner_team != "Unassigned" for c in m.channels)
    assert all(tp.description for tp in m.touchpoints)
    assert [tp.id for tp in m.touchpoints if tp.emotion < 0 and not tp.pain_points] == []
    assert any(tp.requires_identification for tp in m.touchpoints)
    assert any(tp.emotion <= -2 for tp in m.touchpoints)
    ids = [tp.id for tp in m.touchpoints] + [c.id for c in m.channels] + [p.id for p in m.personas]
    assert [i for i in ids if i != i.lower() or " " in i or not i.replace("-", "").isalnum()] == []


def test_json_round_trip_is_lossless(template: tuple[str, JourneyMap]) -> None:
    template_id, m = template
    assert map_from_json(map_to_json(m)) == m
    # The committed file is exactly what map_to_json writes, so edits in the app diff cleanly.
    assert (TEMPLATE_DIR / f"{template_id}.json").read_text(encoding="utf-8") == map_to_json(m) + "\n"


def test_named_silo_handoffs_of_the_retail_template() -> None:
    m = load_template("retail-bopis")
    silos = [(tr.source, tr.target) for tr in m.transitions if tr.context_carry is ContextCarry.NONE]
    assert silos == [("delivery-tracking", "wismo-call"), ("parcel-delivered", "store-return")]
    assert m.touchpoint("endless-aisle-order").channel == "associate"
    assert m.channel("associate").kind is ChannelKind.ASSISTED


def test_telecom_chatbot_to_phone_switch_is_a_silo() -> None:
    m = load_template("telecom-support")
    switch = next(tr for tr in m.transitions if (tr.source, tr.target) == ("chatbot-triage", "call-ivr"))
    assert switch.context_carry is ContextCarry.NONE
    assert "repeats their story" in switch.note
    assert m.touchpoint("call-ivr").requires_identification


def test_unknown_template_id_raises_user_input_error_naming_it() -> None:
    with pytest.raises(UserInputError) as caught:
        load_template("pet-shop")
    assert "unknown template 'pet-shop'" in str(caught.value)
    assert "retail-bopis" in str(caught.value)


def test_template_id_cannot_escape_the_template_folder(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "secret.json").write_text('{"schema_version": 1, "name": "Outside"}', encoding="utf-8")
    with pytest.raises(UserInputError, match="unknown template '../secret'"):
        load_template("../secret", directory=tmp_path / "inner")


def test_broken_template_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text('{"schema_version": 1, "name": "Good"}', encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"schema_version": 1, "name": ', encoding="utf-8")
    with pytest.raises(UserInputError, match=r"^template broken\.json, line 1, column 31: is not valid JSON"):
        list_templates(directory=tmp_path)
    assert load_template("good", directory=tmp_path).name == "Good"


def test_list_templates_of_an_empty_folder_is_empty(tmp_path: Path) -> None:
    assert list_templates(directory=tmp_path) == []
    with pytest.raises(UserInputError, match=r"Choose one of: \(none installed\)"):
        load_template("retail-bopis", directory=tmp_path)


def test_blank_map_has_the_five_default_stages_and_nothing_else() -> None:
    m = blank_map("  Claims journey ")
    assert m.name == "Claims journey"
    assert [(s.id, s.name) for s in m.stages] == [
        ("awareness", "Awareness"),
        ("consideration", "Consideration"),
        ("purchase", "Purchase"),
        ("service", "Onboarding/Service"),
        ("loyalty", "Loyalty"),
    ]
    assert tuple(s.name for s in m.stages) == DEFAULT_STAGES
    assert (m.channels, m.touchpoints, m.transitions, m.personas) == ((), (), (), ())
    assert m.description == ""


def test_blank_map_refuses_an_empty_name() -> None:
    with pytest.raises(UserInputError) as caught:
        blank_map("   ")
    assert str(caught.value) == (
        "new map, field 'name': String should have at least 1 character. Give the map a name of 1 to 200 characters."
    )
