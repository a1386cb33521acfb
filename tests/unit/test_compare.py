"""Map comparison on the named fixtures: every expected value worked out from tests/fixtures.py."""

from __future__ import annotations

import pytest

from journeymap.compare import (
    ADDED_COLOR,
    CHANGED_COLOR,
    KEY_FIGURES,
    REMOVED_COLOR,
    CarryChange,
    FieldChange,
    PartChange,
    TransitionRef,
    diff_graph_elements,
    diff_maps,
    diff_summary,
    key_figures,
)
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from journeymap.viz import HEADER_PREFIX, graph_edges, graph_nodes, header_nodes, node_positions
from tests.fixtures import bopis_map, linear_journey


def edited_bopis() -> JourneyMap:
    """bopis_map() after a review round.

    - curbside removed (with T9 curbside -> pickup-desk);
    - chat channel added with touchpoint chat-help; ready-notice -> chat-help (partial) and
      chat-help -> pickup-desk (full) added;
    - pickup-desk: emotion -1 -> +1, pain points cleared;
    - T6 ready-notice -> pickup-desk: carry none -> full (no longer a silo handoff);
    - T7 ready-notice -> order-help: carry partial -> none (becomes a silo handoff);
    - T4 checkout -> delivery-faq: note added;
    - stage loyalty renamed Retention; persona busy-parent removed.
    """
    m = bopis_map()
    touchpoints = []
    for tp in m.touchpoints:
        if tp.id == "curbside":
            continue
        if tp.id == "pickup-desk":
            tp = tp.model_copy(update={"emotion": 1, "pain_points": ()})
        touchpoints.append(tp)
    touchpoints.append(Touchpoint(id="chat-help", name="Chat help", channel="chat", stage="collect"))
    transitions = []
    for tr in m.transitions:
        pair = (tr.source, tr.target)
        if pair == ("curbside", "pickup-desk"):
            continue
        if pair == ("ready-notice", "pickup-desk"):
            tr = tr.model_copy(update={"context_carry": ContextCarry.FULL})
        if pair == ("ready-notice", "order-help"):
            tr = tr.model_copy(update={"context_carry": ContextCarry.NONE})
        if pair == ("checkout", "delivery-faq"):
            tr = tr.model_copy(update={"note": "Link from the confirmation"})
        transitions.append(tr)
    transitions += [
        Transition(source="ready-notice", target="chat-help", context_carry=ContextCarry.PARTIAL),
        Transition(source="chat-help", target="pickup-desk", context_carry=ContextCarry.FULL),
    ]
    return m.model_copy(
        update={
            "stages": tuple(Stage(id="loyalty", name="Retention") if st.id == "loyalty" else st for st in m.stages),
            "channels": (
                *m.channels,
                Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING, owner_team="Customer service"),
            ),
            "touchpoints": tuple(touchpoints),
            "transitions": tuple(transitions),
            "personas": (),
        }
    )


def test_key_figures_of_bopis_match_the_fixture_notes() -> None:
    assert key_figures(bopis_map()) == {
        "Touchpoints": 8,
        "Transitions": 9,
        "Handoffs": 7,
        "Silo handoffs": 2,
        "Dead ends": 1,
        "Unreachable": 1,
        "Designed integration factor": 0.5,
    }
    assert list(key_figures(bopis_map())) == list(KEY_FIGURES)


def test_identical_maps_have_no_differences() -> None:
    diff = diff_maps(bopis_map(), bopis_map())
    assert diff.is_empty
    assert [f.delta for f in diff.figures] == [0.0] * 7
    assert diff_summary(diff) == ["No differences in stages, channels, personas, touchpoints or transitions."]
    assert len(diff.touchpoint_matches) == 8


def test_revision_diff_lists_every_change() -> None:
    diff = diff_maps(bopis_map(), edited_bopis())
    assert [tp.id for tp in diff.touchpoints_added] == ["chat-help"]
    assert [tp.id for tp in diff.touchpoints_removed] == ["curbside"]
    assert [(c.old_id, c.new_id, c.matched_by, c.changes) for c in diff.touchpoints_changed] == [
        (
            "pickup-desk",
            "pickup-desk",
            "id",
            (
                FieldChange("emotion", "-1", "+1"),
                FieldChange("pain points", "Order number asked again; Queue", "(none)"),
            ),
        )
    ]
    assert diff.transitions_added == (
        TransitionRef("ready-notice", "chat-help", "Ready-for-pickup notice", "Chat help", "partial", ""),
        TransitionRef("chat-help", "pickup-desk", "Chat help", "Pick-up desk", "full", ""),
    )
    assert diff.transitions_removed == (
        TransitionRef("curbside", "pickup-desk", "Curbside hand-over", "Pick-up desk", "full", ""),
    )
    assert [(c.source, c.target, c.changes) for c in diff.transitions_changed] == [
        ("checkout", "delivery-faq", (FieldChange("note", "", "Link from the confirmation"),)),
        ("ready-notice", "pickup-desk", (FieldChange("context carry", "none", "full"),)),
        ("ready-notice", "order-help", (FieldChange("context carry", "partial", "none"),)),
    ]
    assert diff.carry_changes == (
        CarryChange(
            "ready-notice", "pickup-desk", "Ready-for-pickup notice", "Pick-up desk", "none", "full", True, False
        ),
        CarryChange(
            "ready-notice", "order-help", "Ready-for-pickup notice", "Order help line", "partial", "none", False, True
        ),
    )
    assert [(c.stopped_silo, c.became_silo) for c in diff.carry_changes] == [(True, False), (False, True)]
    assert diff.parts == (
        PartChange("stage", "renamed", "loyalty", "Loyalty", "Retention"),
        PartChange("channel", "added", "chat", None, "Chat"),
        PartChange("persona", "removed", "busy-parent", "Busy parent", None),
    )
    # Handoffs: T1 T3 T5 T6 T7 T8 + the two chat ones; silo: T7, T8; integration (.5+1+1+1+0+0+.5+1)/8.
    assert {f.name: (f.old, f.new, f.delta) for f in diff.figures} == {
        "Touchpoints": (8, 8, 0.0),
        "Transitions": (9, 10, 1.0),
        "Handoffs": (7, 8, 1.0),
        "Silo handoffs": (2, 2, 0.0),
        "Dead ends": (1, 1, 0.0),
        "Unreachable": (1, 0, -1.0),
        "Designed integration factor": (0.5, 0.625, 0.125),
    }


def test_summary_sentences_of_a_revision_diff() -> None:
    assert diff_summary(diff_maps(bopis_map(), edited_bopis())) == [
        "Stage 'Loyalty' renamed to 'Retention'.",
        "Channel 'Chat' added.",
        "Persona 'Busy parent' removed.",
        "1 touchpoint added: Chat help.",
        "1 touchpoint removed: Curbside hand-over.",
        "1 touchpoint changed: Pick-up desk (emotion, pain points).",
        "2 transitions added: Ready-for-pickup notice → Chat help, Chat help → Pick-up desk.",
        "1 transition removed: Curbside hand-over → Pick-up desk.",
        "3 transitions changed: Online checkout → Delivery FAQ (note), "
        "Ready-for-pickup notice → Pick-up desk (context carry), Ready-for-pickup notice → Order help line "
        "(context carry).",
        "Handoff Ready-for-pickup notice → Pick-up desk is no longer a silo handoff (carry none → full).",
        "Handoff Ready-for-pickup notice → Order help line became a silo handoff (carry partial → none).",
        "Transitions: 9 → 10 (+1).",
        "Handoffs: 7 → 8 (+1).",
        "Unreachable: 1 → 0 (-1).",
        "Designed integration factor: 0.50 → 0.62 (+0.12).",
    ]


def _region_b() -> JourneyMap:
    """linear_journey() as another team saved it: other ids, other letter case, same channel name."""
    return JourneyMap(
        name="Region B",
        stages=(
            Stage(id="s1", name="discover"),
            Stage(id="s2", name="Buy"),
            Stage(id="s3", name="Use"),
        ),
        channels=(Channel(id="site", name="WEBSITE", owner_team="E-commerce"),),
        touchpoints=(
            Touchpoint(id="lp", name="landing PAGE ", channel="site", stage="s1", emotion=1),
            Touchpoint(id="basket", name="Cart", channel="site", stage="s2", emotion=-1),
            Touchpoint(id="done", name="Order confirmation", channel="site", stage="s3", is_final=True),
        ),
        transitions=(
            Transition(source="lp", target="basket"),
            Transition(source="basket", target="done", context_carry=ContextCarry.PARTIAL),
        ),
    )


def test_two_maps_match_by_name_within_the_same_channel_name() -> None:
    diff = diff_maps(linear_journey(), _region_b())
    assert diff.touchpoint_matches == (("landing", "lp"), ("cart", "basket"), ("confirmation", "done"))
    assert diff.touchpoints_added == () and diff.touchpoints_removed == ()
    assert [(c.old_id, c.new_id, c.matched_by, c.changes) for c in diff.touchpoints_changed] == [
        ("landing", "lp", "name", (FieldChange("name", "Landing page", "landing PAGE"),)),
        ("cart", "basket", "name", (FieldChange("emotion", "0", "-1"),)),
    ]
    assert diff.transitions_added == () and diff.transitions_removed == ()
    assert [(c.source, c.target, c.changes) for c in diff.transitions_changed] == [
        ("basket", "done", (FieldChange("context carry", "full", "partial"),))
    ]
    # Stages and channels matched by name: the letter case of a name is a rename, the ids are not.
    assert diff.parts == (
        PartChange("stage", "renamed", "s1", "Discover", "discover"),
        PartChange("channel", "renamed", "site", "Website", "WEBSITE"),
    )
    assert diff.carry_changes == ()  # the transition stays within one channel and team: no handoff


def test_same_name_in_another_channel_does_not_match() -> None:
    old = linear_journey()
    moved = old.model_copy(
        update={
            "channels": (*old.channels, Channel(id="app", name="Mobile app", owner_team="E-commerce")),
            "touchpoints": (
                old.touchpoints[0],
                Touchpoint(id="app-cart", name="Cart", channel="app", stage="buy"),
                old.touchpoints[2],
            ),
            "transitions": (),
        }
    )
    diff = diff_maps(old, moved)
    assert [tp.id for tp in diff.touchpoints_removed] == ["cart"]
    assert [tp.id for tp in diff.touchpoints_added] == ["app-cart"]


def test_ambiguous_names_match_nothing() -> None:
    old = linear_journey()
    twice = old.model_copy(
        update={
            "touchpoints": (
                Touchpoint(id="a", name="Cart", channel="web", stage="buy"),
                Touchpoint(id="b", name="cart", channel="web", stage="buy"),
            ),
            "transitions": (),
        }
    )
    diff = diff_maps(old, twice)
    assert [tp.id for tp in diff.touchpoints_added] == ["a", "b"]
    assert [tp.id for tp in diff.touchpoints_removed] == ["landing", "cart", "confirmation"]


def test_moving_a_touchpoint_to_another_stage_and_channel_is_a_change() -> None:
    old = bopis_map()
    new = old.model_copy(
        update={
            "touchpoints": tuple(
                tp.model_copy(update={"channel": "app", "stage": "choose"}) if tp.id == "delivery-faq" else tp
                for tp in old.touchpoints
            )
        }
    )
    (change,) = diff_maps(old, new).touchpoints_changed
    assert change.changes == (FieldChange("channel", "Website", "Mobile app"), FieldChange("stage", "Buy", "Choose"))
    # checkout -> delivery-faq now crosses channels with full carry: a handoff, but no silo.
    assert diff_maps(old, new).figure("Handoffs").delta == 1.0


def test_channel_owner_change_turns_a_transition_into_a_silo_handoff() -> None:
    old = linear_journey().model_copy(
        update={
            "transitions": (
                Transition(source="landing", target="cart", context_carry=ContextCarry.NONE),
                Transition(source="cart", target="confirmation"),
            )
        }
    )
    new = old.model_copy(
        update={
            "touchpoints": tuple(
                tp.model_copy(update={"owner": "Payments"}) if tp.id == "cart" else tp for tp in old.touchpoints
            )
        }
    )
    diff = diff_maps(old, new)
    assert diff.carry_changes == (CarryChange("landing", "cart", "Landing page", "Cart", "none", "none", False, True),)
    assert diff.transitions_changed == ()
    assert "Handoff Landing page → Cart became a silo handoff (carry none → none)." in diff_summary(diff)


def test_new_side_graph_highlights_added_and_changed() -> None:
    old, new = bopis_map(), edited_bopis()
    nodes, edges = diff_graph_elements(old, new, "new")
    plain_nodes = {n["id"]: n for n in graph_nodes(new)}
    by_id = {n["id"]: n for n in nodes}
    assert (by_id["chat-help"]["color"]["border"], by_id["chat-help"]["label"]) == (ADDED_COLOR, "+ Chat help")
    assert (by_id["pickup-desk"]["color"]["border"], by_id["pickup-desk"]["label"]) == (CHANGED_COLOR, "± Pick-up desk")
    assert by_id["pickup-desk"]["title"].endswith("\nChanged in this version")
    # A glow in the status colour, so an added node reads as added even when its channel's fill is green.
    assert by_id["chat-help"]["shadow"] == {"enabled": True, "color": ADDED_COLOR, "size": 22, "x": 0, "y": 0}
    assert "shadow" not in by_id["search"]
    # Untouched parts are exactly what the editor's graph shows.
    assert by_id["search"] == plain_nodes["search"]
    assert by_id["chat-help"]["color"]["background"] == plain_nodes["chat-help"]["color"]["background"]
    colours = {(e["source"], e["target"]): e["color"]["color"] for e in edges}
    plain = {(e["source"], e["target"]): e["color"]["color"] for e in graph_edges(new)}
    marked = {pair: colour for pair, colour in colours.items() if colour != plain[pair]}
    assert marked == {
        ("ready-notice", "chat-help"): ADDED_COLOR,
        ("chat-help", "pickup-desk"): ADDED_COLOR,
        ("checkout", "delivery-faq"): CHANGED_COLOR,
        ("ready-notice", "pickup-desk"): CHANGED_COLOR,
        ("ready-notice", "order-help"): CHANGED_COLOR,
    }


def test_old_side_graph_highlights_removed_and_changed() -> None:
    nodes, edges = diff_graph_elements(bopis_map(), edited_bopis(), "old")
    by_id = {n["id"]: n for n in nodes}
    stages = [f"{HEADER_PREFIX}stage:{s.id}" for s in bopis_map().stages]
    lanes = [
        f"{HEADER_PREFIX}lane:{c.id}"
        for c in bopis_map().channels
        if any(t.channel == c.id for t in bopis_map().touchpoints)
    ]
    assert [n["id"] for n in nodes] == [tp.id for tp in bopis_map().touchpoints] + stages + lanes
    assert (by_id["curbside"]["color"]["border"], by_id["curbside"]["label"]) == (REMOVED_COLOR, "− Curbside hand-over")
    assert by_id["curbside"]["borderWidth"] == 6
    assert by_id["pickup-desk"]["color"]["border"] == CHANGED_COLOR
    edge = {(e["source"], e["target"]): e for e in edges}
    assert edge["curbside", "pickup-desk"]["color"]["color"] == REMOVED_COLOR
    assert edge["ready-notice", "order-help"]["color"]["color"] == CHANGED_COLOR
    assert (
        edge["search", "checkout"] == {e["source"] + e["target"]: e for e in graph_edges(bopis_map())}["searchcheckout"]
    )


def test_old_side_follows_touchpoints_matched_by_name() -> None:
    _, edges = diff_graph_elements(linear_journey(), _region_b(), "old")
    assert {(e["source"], e["target"]): e["color"]["color"] for e in edges}["cart", "confirmation"] == CHANGED_COLOR


@pytest.mark.parametrize("side", ["old", "new"])
def test_graph_of_identical_maps_is_the_plain_graph(side: str) -> None:
    nodes, edges = diff_graph_elements(bopis_map(), bopis_map(), side)  # type: ignore[arg-type]
    assert nodes == graph_nodes(bopis_map()) + header_nodes(bopis_map(), node_positions(bopis_map()))
    assert edges == graph_edges(bopis_map())
