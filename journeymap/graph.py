"""The designed journey as a directed graph, and its structural analysis.

A :class:`~journeymap.model.JourneyMap` becomes a :class:`networkx.DiGraph` whose nodes are
touchpoint ids and whose edges are the designed transitions. The analysis functions are
free functions over the map: they never change it and return plain values (lists of ids,
:class:`Handoff` records, a pandas frame) in the map's own order, so results are stable
from one run to the next.

Terms follow the project vocabulary: a *handoff* is a transition that crosses channels or
owner teams; a *silo handoff* is a handoff designed with context carry ``none``; a *dead
end* is a touchpoint with no way out that is not a designated end of the journey; a
touchpoint is *unreachable* when no path leads to it from the journey's entry touchpoints
(those of the first stage that has any).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import pandas as pd

from journeymap.model import ContextCarry, JourneyMap, Touchpoint, Transition

__all__ = [
    "SWITCH_MATRIX_COLUMNS",
    "Handoff",
    "StructureReport",
    "analyze_structure",
    "designed_integration_factor",
    "designed_switch_matrix",
    "entry_touchpoints",
    "find_dead_ends",
    "find_empty_stages",
    "find_handoffs",
    "find_silo_handoffs",
    "find_unreachable",
    "to_digraph",
]

SWITCH_MATRIX_COLUMNS = ("from_channel", "to_channel", "transitions", "full", "partial", "none")


@dataclass(frozen=True)
class Handoff:
    """A designed transition that crosses channels or owner teams.

    ``source_channel`` / ``target_channel`` are channel names (as shown to users); the
    touchpoint ids are ``source`` and ``target``.
    """

    source: str
    target: str
    source_name: str
    target_name: str
    source_channel: str
    target_channel: str
    source_owner: str
    target_owner: str
    cross_channel: bool
    cross_owner: bool
    context_carry: str
    note: str

    @property
    def is_silo(self) -> bool:
        """Whether the customer's context is lost on this handoff (carry ``none``)."""
        return self.context_carry == ContextCarry.NONE.value


@dataclass(frozen=True, eq=False)
class StructureReport:
    """Everything :func:`analyze_structure` finds in a map, in map order.

    Compared by identity (it holds a pandas frame); compare its fields instead.
    """

    handoffs: tuple[Handoff, ...]
    silo_handoffs: tuple[Handoff, ...]
    dead_ends: tuple[str, ...]
    unreachable: tuple[str, ...]
    empty_stages: tuple[str, ...]
    switch_matrix: pd.DataFrame
    integration_factor: float | None
    touchpoints: int
    transitions: int
    channels: int


class _Index:
    """Look-ups by id, built once per call (the model's own look-ups scan linearly)."""

    def __init__(self, m: JourneyMap) -> None:
        self.touchpoints = {tp.id: tp for tp in m.touchpoints}
        self.channels = {ch.id: ch for ch in m.channels}
        self.channel_order = {ch.id: i for i, ch in enumerate(m.channels)}
        self.stage_order = {st.id: i for i, st in enumerate(m.stages)}
        self.owners = {tp.id: tp.owner or self.channels[tp.channel].owner_team for tp in m.touchpoints}

    def crosses(self, tr: Transition) -> tuple[bool, bool]:
        """(cross_channel, cross_owner) of a transition."""
        source, target = self.touchpoints[tr.source], self.touchpoints[tr.target]
        return source.channel != target.channel, self.owners[tr.source] != self.owners[tr.target]


def to_digraph(m: JourneyMap) -> nx.DiGraph[str]:
    """The map as a directed graph: touchpoint ids as nodes, transitions as edges.

    Node attributes: ``name``, ``channel`` (id), ``channel_name``, ``channel_kind``, ``stage``
    (id), ``stage_index``, ``owner`` (the touchpoint's team, else its channel's),
    ``is_final``, ``requires_identification``, ``emotion``. Edge attributes:
    ``context_carry`` (``"full"``, ``"partial"`` or ``"none"``), ``note``, ``cross_channel``,
    ``cross_owner`` and ``is_handoff`` (either of the two).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="store", name="Store", kind="physical")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="desk", name="Desk", channel="store", stage="buy"),
    ...     ),
    ...     transitions=(Transition(source="cart", target="desk", context_carry="none"),),
    ... )
    >>> g = to_digraph(m)
    >>> g.nodes["desk"]["channel_kind"], g.edges["cart", "desk"]["is_handoff"]
    ('physical', True)
    """
    index = _Index(m)
    graph: nx.DiGraph[str] = nx.DiGraph(name=m.name)
    for tp in m.touchpoints:
        channel = index.channels[tp.channel]
        graph.add_node(
            tp.id,
            name=tp.name,
            channel=tp.channel,
            channel_name=channel.name,
            channel_kind=channel.kind.value,
            stage=tp.stage,
            stage_index=index.stage_order[tp.stage],
            owner=index.owners[tp.id],
            is_final=tp.is_final,
            requires_identification=tp.requires_identification,
            emotion=tp.emotion,
        )
    for tr in m.transitions:
        cross_channel, cross_owner = index.crosses(tr)
        graph.add_edge(
            tr.source,
            tr.target,
            context_carry=tr.context_carry.value,
            note=tr.note,
            cross_channel=cross_channel,
            cross_owner=cross_owner,
            is_handoff=cross_channel or cross_owner,
        )
    return graph


def _handoffs(m: JourneyMap, index: _Index) -> list[Handoff]:
    found: list[Handoff] = []
    for tr in m.transitions:
        cross_channel, cross_owner = index.crosses(tr)
        if not (cross_channel or cross_owner):
            continue
        source, target = index.touchpoints[tr.source], index.touchpoints[tr.target]
        found.append(
            Handoff(
                source=source.id,
                target=target.id,
                source_name=source.name,
                target_name=target.name,
                source_channel=index.channels[source.channel].name,
                target_channel=index.channels[target.channel].name,
                source_owner=index.owners[source.id],
                target_owner=index.owners[target.id],
                cross_channel=cross_channel,
                cross_owner=cross_owner,
                context_carry=tr.context_carry.value,
                note=tr.note,
            )
        )
    return found


def find_handoffs(m: JourneyMap) -> list[Handoff]:
    """Transitions that cross channels or owner teams, in map order.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website", owner_team="Digital"),),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="pay", name="Payment", channel="web", stage="buy", owner="Payments"),
    ...     ),
    ...     transitions=(Transition(source="cart", target="pay", context_carry="partial"),),
    ... )
    >>> [(h.source, h.target, h.cross_channel, h.cross_owner, h.context_carry) for h in find_handoffs(m)]
    [('cart', 'pay', False, True, 'partial')]
    """
    return _handoffs(m, _Index(m))


def find_silo_handoffs(m: JourneyMap) -> list[Handoff]:
    """Handoffs designed with context carry ``none``, in map order.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="help", name="Help line", channel="call", stage="buy"),
    ...     ),
    ...     transitions=(Transition(source="cart", target="help", context_carry="none"),),
    ... )
    >>> [(h.source_channel, h.target_channel) for h in find_silo_handoffs(m)]
    [('Website', 'Call center')]
    """
    return [h for h in find_handoffs(m) if h.is_silo]


def find_dead_ends(m: JourneyMap) -> list[str]:
    """Touchpoints with no outgoing transition that are not a designated end (``is_final``).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="faq", name="FAQ", channel="web", stage="buy"),
    ...         Touchpoint(id="done", name="Thanks", channel="web", stage="buy", is_final=True),
    ...     ),
    ...     transitions=(Transition(source="cart", target="faq"), Transition(source="cart", target="done")),
    ... )
    >>> find_dead_ends(m)
    ['faq']
    """
    has_way_out = {tr.source for tr in m.transitions}
    return [tp.id for tp in m.touchpoints if tp.id not in has_way_out and not tp.is_final]


def entry_touchpoints(m: JourneyMap) -> list[str]:
    """The touchpoints of the first stage (in stage order) that has any touchpoint.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="aware", name="Awareness"), Stage(id="buy", name="Purchase")),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),),
    ... )
    >>> entry_touchpoints(m)
    ['cart']
    """
    by_stage: dict[str, list[str]] = {}
    for tp in m.touchpoints:
        by_stage.setdefault(tp.stage, []).append(tp.id)
    for stage in m.stages:
        if stage.id in by_stage:
            return by_stage[stage.id]
    return []


def _reachable(m: JourneyMap, graph: nx.DiGraph[str]) -> set[str]:
    entries = entry_touchpoints(m)
    return set(entries).union(*(nx.descendants(graph, entry) for entry in entries))


def find_unreachable(m: JourneyMap) -> list[str]:
    """Touchpoints no path leads to from the entry touchpoints (see :func:`entry_touchpoints`).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="aware", name="Awareness"), Stage(id="buy", name="Purchase")),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(
    ...         Touchpoint(id="ad", name="Ad", channel="web", stage="aware"),
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="wishlist", name="Wish list", channel="web", stage="buy"),
    ...     ),
    ...     transitions=(Transition(source="ad", target="cart"), Transition(source="wishlist", target="cart")),
    ... )
    >>> find_unreachable(m)
    ['wishlist']
    """
    reached = _reachable(m, to_digraph(m))
    return [tp.id for tp in m.touchpoints if tp.id not in reached]


def find_empty_stages(m: JourneyMap) -> list[str]:
    """Stages without any touchpoint, in stage order.

    Examples
    --------
    >>> from journeymap.model import Stage
    >>> find_empty_stages(JourneyMap(name="Empty", stages=(Stage(id="a", name="Awareness"),)))
    ['a']
    """
    used = {tp.stage for tp in m.touchpoints}
    return [stage.id for stage in m.stages if stage.id not in used]


def _channel_labels(m: JourneyMap) -> dict[str, str]:
    """Channel names for display; a name two channels share is followed by the id."""
    counts: dict[str, int] = {}
    for ch in m.channels:
        counts[ch.name] = counts.get(ch.name, 0) + 1
    return {ch.id: ch.name if counts[ch.name] == 1 else f"{ch.name} ({ch.id})" for ch in m.channels}


def _cross_channel(m: JourneyMap, index: _Index) -> Iterable[tuple[Touchpoint, Touchpoint, Transition]]:
    for tr in m.transitions:
        source, target = index.touchpoints[tr.source], index.touchpoints[tr.target]
        if source.channel != target.channel:
            yield source, target, tr


def designed_switch_matrix(m: JourneyMap) -> pd.DataFrame:
    """Designed channel switches: one row per (from channel, to channel) pair with a transition.

    Long form with columns ``from_channel``, ``to_channel`` (channel names), ``transitions``
    and the counts by context carry ``full``, ``partial``, ``none``. Only cross-channel pairs
    appear; rows follow the map's channel order (from, then to).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="store", name="Store")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="pay", name="Payment", channel="web", stage="buy"),
    ...         Touchpoint(id="desk", name="Desk", channel="store", stage="buy"),
    ...     ),
    ...     transitions=(
    ...         Transition(source="cart", target="pay"),
    ...         Transition(source="cart", target="desk", context_carry="none"),
    ...         Transition(source="pay", target="desk", context_carry="partial"),
    ...     ),
    ... )
    >>> designed_switch_matrix(m).to_dict("records")
    [{'from_channel': 'Website', 'to_channel': 'Store', 'transitions': 2, 'full': 0, 'partial': 1, 'none': 1}]
    """
    index = _Index(m)
    labels = _channel_labels(m)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for source, target, tr in _cross_channel(m, index):
        cell = counts.setdefault((source.channel, target.channel), {"full": 0, "partial": 0, "none": 0})
        cell[tr.context_carry.value] += 1
    pairs = sorted(counts, key=lambda pair: (index.channel_order[pair[0]], index.channel_order[pair[1]]))
    rows = [
        {
            "from_channel": labels[a],
            "to_channel": labels[b],
            "transitions": sum(counts[a, b].values()),
            **counts[a, b],
        }
        for a, b in pairs
    ]
    frame = pd.DataFrame(rows, columns=list(SWITCH_MATRIX_COLUMNS))
    # Fixed dtypes, also for an empty frame, so callers can rely on them.
    return frame.astype(
        {"from_channel": "str", "to_channel": "str", **dict.fromkeys(SWITCH_MATRIX_COLUMNS[2:], "int64")}
    )


_CARRY_WEIGHT = {ContextCarry.FULL: 1.0, ContextCarry.PARTIAL: 0.5, ContextCarry.NONE: 0.0}


def designed_integration_factor(m: JourneyMap) -> float | None:
    """Share of cross-channel transitions whose context travels: full counts 1, partial 0.5.

    ``None`` when the map has no cross-channel transition (the factor is undefined, not 0).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="store", name="Store")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="desk", name="Desk", channel="store", stage="buy"),
    ...     ),
    ...     transitions=(
    ...         Transition(source="cart", target="desk", context_carry="partial"),
    ...         Transition(source="desk", target="cart", context_carry="full"),
    ...     ),
    ... )
    >>> designed_integration_factor(m)
    0.75
    """
    weights = [_CARRY_WEIGHT[tr.context_carry] for _, _, tr in _cross_channel(m, _Index(m))]
    return sum(weights) / len(weights) if weights else None


def analyze_structure(m: JourneyMap) -> StructureReport:
    """All structural findings of a map at once (builds the graph and look-ups a single time).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"), Stage(id="use", name="Use")),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),),
    ... )
    >>> report = analyze_structure(m)
    >>> report.dead_ends, report.empty_stages, report.integration_factor, report.touchpoints
    (('cart',), ('use',), None, 1)
    """
    index = _Index(m)
    graph = to_digraph(m)
    handoffs = tuple(_handoffs(m, index))
    reached = _reachable(m, graph)
    return StructureReport(
        handoffs=handoffs,
        silo_handoffs=tuple(h for h in handoffs if h.is_silo),
        dead_ends=tuple(find_dead_ends(m)),
        unreachable=tuple(tp.id for tp in m.touchpoints if tp.id not in reached),
        empty_stages=tuple(find_empty_stages(m)),
        switch_matrix=designed_switch_matrix(m),
        integration_factor=designed_integration_factor(m),
        touchpoints=len(m.touchpoints),
        transitions=len(m.transitions),
        channels=len(m.channels),
    )
