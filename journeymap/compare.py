"""What changed between two journey maps: two revisions of one map, or two different maps.

:func:`diff_maps` compares an *old* and a *new* map and returns a :class:`MapDiff`: touchpoints
and transitions added, removed or changed, handoffs whose context carry changed (and whether
they became or stopped being silo handoffs), stages, channels and personas added, removed or
renamed, and the key figures of both maps side by side. :func:`diff_summary` says the same in
plain sentences, and :func:`diff_graph_elements` builds the journey graph of either side with
the differences highlighted.

Matching parts of two maps
--------------------------
Two revisions of one map share ids, so parts are matched by id. Two different maps (as-is
against to-be, region A against region B) often do not: a touchpoint the other map calls
``checkout-2`` may be the same "Online checkout" of the same website. Parts are therefore
matched in two steps:

1. by id: an id present on both sides is the same part;
2. the remaining ones by name, ignoring case and surrounding spaces: stages by stage name,
   channels by channel name, personas by persona name, and touchpoints by touchpoint name
   *within the same channel name* ("Checkout" on "Website" never matches "Checkout" in the
   "Mobile app"). A name shared by two unmatched parts on either side is ambiguous and
   matches nothing.

Transitions are keyed by their ``(source, target)`` pair after the old side's touchpoint ids
are translated to the new side's through that matching. A touchpoint's channel and stage are
compared through the channel and stage matching too, so moving a touchpoint to another
channel is a change but a channel id that differs only between two maps is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from journeymap.graph import analyze_structure
from journeymap.model import JourneyMap, Touchpoint, Transition
from journeymap.viz import Layout, graph_edges, graph_nodes, header_nodes, node_positions

__all__ = [
    "ADDED_COLOR",
    "CHANGED_COLOR",
    "KEY_FIGURES",
    "REMOVED_COLOR",
    "CarryChange",
    "FieldChange",
    "FigureDelta",
    "MapDiff",
    "PartChange",
    "TouchpointChange",
    "TransitionChange",
    "TransitionRef",
    "diff_graph_elements",
    "diff_maps",
    "diff_summary",
    "key_figures",
]

ADDED_COLOR = "#2E7D32"
"""Green: added on the new side."""
REMOVED_COLOR = "#C62828"
"""Red: removed, shown on the old side."""
CHANGED_COLOR = "#F9A825"
"""Amber: present on both sides with a difference."""

KEY_FIGURES = (
    "Touchpoints",
    "Transitions",
    "Handoffs",
    "Silo handoffs",
    "Dead ends",
    "Unreachable",
    "Designed integration factor",
)
"""The key figures of a map, in the order they are shown."""

_TOUCHPOINT_FIELDS = (
    "name",
    "channel",
    "stage",
    "owner",
    "description",
    "emotion",
    "pain_points",
    "requires_identification",
    "is_final",
)
_LABEL_MARKS = {"added": "+ ", "removed": "− ", "changed": "± "}
_SUMMARY_NAMES = 5


@dataclass(frozen=True)
class FieldChange:
    """One field that differs, with both values as shown to users."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class TouchpointChange:
    """A touchpoint present on both sides whose fields differ.

    ``matched_by`` says how the two were paired: ``"id"`` or ``"name"`` (see the module docs).
    """

    old_id: str
    new_id: str
    name: str
    matched_by: Literal["id", "name"]
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class TransitionRef:
    """A transition with its touchpoint names, on the side it belongs to."""

    source: str
    target: str
    source_name: str
    target_name: str
    context_carry: str
    note: str


@dataclass(frozen=True)
class TransitionChange:
    """A transition on both sides (same source and target) whose carry or note differs; ids of the new side."""

    source: str
    target: str
    source_name: str
    target_name: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class CarryChange:
    """A handoff (on either side) whose context carry or silo status changed; ids of the new side."""

    source: str
    target: str
    source_name: str
    target_name: str
    old_carry: str
    new_carry: str
    old_is_silo: bool
    new_is_silo: bool

    @property
    def became_silo(self) -> bool:
        """Context was kept (or it was no handoff) before and is now lost."""
        return self.new_is_silo and not self.old_is_silo

    @property
    def stopped_silo(self) -> bool:
        """Context was lost before and now travels (or it is no handoff any more)."""
        return self.old_is_silo and not self.new_is_silo


@dataclass(frozen=True)
class PartChange:
    """A stage, channel or persona added, removed, renamed or (channels only) changed in kind or owner team."""

    kind: Literal["stage", "channel", "persona"]
    change: Literal["added", "removed", "renamed", "changed"]
    id: str
    old_name: str | None
    new_name: str | None
    details: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class FigureDelta:
    """One key figure on both sides; ``None`` when undefined (the integration factor without switches)."""

    name: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        """``new - old``, or ``None`` when either side is undefined."""
        if self.old is None or self.new is None:
            return None
        return float(round(self.new - self.old, 6))


@dataclass(frozen=True)
class MapDiff:
    """Everything :func:`diff_maps` found, each list in map order (old map order for removals)."""

    old_name: str
    new_name: str
    touchpoints_added: tuple[Touchpoint, ...]
    touchpoints_removed: tuple[Touchpoint, ...]
    touchpoints_changed: tuple[TouchpointChange, ...]
    transitions_added: tuple[TransitionRef, ...]
    transitions_removed: tuple[TransitionRef, ...]
    transitions_changed: tuple[TransitionChange, ...]
    carry_changes: tuple[CarryChange, ...]
    parts: tuple[PartChange, ...]
    figures: tuple[FigureDelta, ...]
    touchpoint_matches: tuple[tuple[str, str], ...]
    """(old id, new id) of every touchpoint present on both sides."""

    @property
    def is_empty(self) -> bool:
        """Whether the two maps have the same parts (the map name and description aside)."""
        return not (
            self.touchpoints_added
            or self.touchpoints_removed
            or self.touchpoints_changed
            or self.transitions_added
            or self.transitions_removed
            or self.transitions_changed
            or self.carry_changes
            or self.parts
        )

    def figure(self, name: str) -> FigureDelta:
        """The key figure called ``name`` (one of :data:`KEY_FIGURES`)."""
        for fig in self.figures:
            if fig.name == name:
                return fig
        raise KeyError(f"no key figure called '{name}'")


def key_figures(journey_map: JourneyMap) -> dict[str, float | None]:
    """The map's key figures by name, in :data:`KEY_FIGURES` order.

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
    >>> key_figures(m)
    {'Touchpoints': 2, 'Transitions': 1, 'Handoffs': 1, 'Silo handoffs': 1, 'Dead ends': 1, 'Unreachable': 0, \
'Designed integration factor': 0.0}
    """
    report = analyze_structure(journey_map)
    values: tuple[float | None, ...] = (
        report.touchpoints,
        report.transitions,
        len(report.handoffs),
        len(report.silo_handoffs),
        len(report.dead_ends),
        len(report.unreachable),
        report.integration_factor,
    )
    return dict(zip(KEY_FIGURES, values, strict=True))


# --- matching -----------------------------------------------------------------------------

_K = TypeVar("_K")
_T = TypeVar("_T")


def _norm(text: str) -> str:
    return text.strip().casefold()


def _match(
    old: Sequence[_T],
    new: Sequence[_T],
    ident: Callable[[_T], str],
    old_key: Callable[[_T], _K],
    new_key: Callable[[_T], _K] | None = None,
) -> dict[str, tuple[str, Literal["id", "name"]]]:
    """old id -> (new id, how): by id first, then by a name key that is unique among the unmatched on both sides."""
    new_ids = {ident(item) for item in new}
    matches: dict[str, tuple[str, Literal["id", "name"]]] = {
        ident(item): (ident(item), "id") for item in old if ident(item) in new_ids
    }
    taken = {new_id for new_id, _ in matches.values()}
    old_left = [item for item in old if ident(item) not in matches]
    new_left = [item for item in new if ident(item) not in taken]

    def unique(items: list[_T], name_key: Callable[[_T], _K]) -> dict[_K, str]:
        seen: dict[_K, list[str]] = {}
        for item in items:
            seen.setdefault(name_key(item), []).append(ident(item))
        return {key: ids[0] for key, ids in seen.items() if len(ids) == 1}

    old_by_name, new_by_name = unique(old_left, old_key), unique(new_left, new_key or old_key)
    for key, old_id in old_by_name.items():
        if key in new_by_name:
            matches[old_id] = (new_by_name[key], "name")
    return matches


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "(none)"
    if isinstance(value, int):
        return f"{value:+d}" if value else "0"
    return str(value)


class _Side:
    """Look-ups of one map, built once."""

    def __init__(self, m: JourneyMap) -> None:
        self.map = m
        self.touchpoints = {tp.id: tp for tp in m.touchpoints}
        self.channels = {ch.id: ch for ch in m.channels}
        self.stages = {st.id: st for st in m.stages}
        self.owners = {tp.id: m.owner_of(tp) for tp in m.touchpoints}

    def is_handoff(self, tr: Transition) -> bool:
        source, target = self.touchpoints[tr.source], self.touchpoints[tr.target]
        return source.channel != target.channel or self.owners[tr.source] != self.owners[tr.target]

    def is_silo(self, tr: Transition) -> bool:
        return tr.context_carry.value == "none" and self.is_handoff(tr)

    def ref(self, tr: Transition) -> TransitionRef:
        return TransitionRef(
            source=tr.source,
            target=tr.target,
            source_name=self.touchpoints[tr.source].name,
            target_name=self.touchpoints[tr.target].name,
            context_carry=tr.context_carry.value,
            note=tr.note,
        )


def _part_changes(
    kind: Literal["stage", "channel", "persona"],
    old: Sequence[Any],
    new: Sequence[Any],
    matches: dict[str, tuple[str, Literal["id", "name"]]],
) -> list[PartChange]:
    new_by_id = {item.id: item for item in new}
    matched_new = {new_id for new_id, _ in matches.values()}
    found: list[PartChange] = []
    for item in old:
        if item.id not in matches:
            found.append(PartChange(kind, "removed", item.id, item.name, None))
            continue
        other = new_by_id[matches[item.id][0]]
        if item.name != other.name:
            found.append(PartChange(kind, "renamed", other.id, item.name, other.name))
        if kind == "channel":
            details = tuple(
                FieldChange(label, str(getattr(item, attr)), str(getattr(other, attr)))
                for attr, label in (("kind", "kind"), ("owner_team", "owner team"))
                if getattr(item, attr) != getattr(other, attr)
            )
            if details:
                found.append(PartChange(kind, "changed", other.id, item.name, other.name, details))
    found.extend(PartChange(kind, "added", item.id, None, item.name) for item in new if item.id not in matched_new)
    return found


def diff_maps(old: JourneyMap, new: JourneyMap) -> MapDiff:
    """Compare two maps: what the ``new`` one adds, removes and changes relative to ``old``.

    Parts are matched by id, then by case-insensitive name (touchpoints within the same
    channel name); see the module documentation.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> old = JourneyMap(
    ...     name="As-is",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="store", name="Store")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
    ...         Touchpoint(id="desk", name="Desk", channel="store", stage="buy", is_final=True),
    ...     ),
    ...     transitions=(Transition(source="cart", target="desk", context_carry="none"),),
    ... )
    >>> new = old.model_copy(update={
    ...     "name": "To-be",
    ...     "touchpoints": (
    ...         Touchpoint(id="basket", name="cart", channel="web", stage="buy", emotion=1),
    ...         Touchpoint(id="desk", name="Desk", channel="store", stage="buy", is_final=True),
    ...     ),
    ...     "transitions": (Transition(source="basket", target="desk", context_carry="full"),),
    ... })
    >>> d = diff_maps(old, new)
    >>> [(c.old_id, c.new_id, c.matched_by, [(f.field, f.old, f.new) for f in c.changes])
    ...  for c in d.touchpoints_changed]
    [('cart', 'basket', 'name', [('name', 'Cart', 'cart'), ('emotion', '0', '+1')])]
    >>> [(c.source, c.target, c.old_carry, c.new_carry, c.stopped_silo) for c in d.carry_changes]
    [('basket', 'desk', 'none', 'full', True)]
    >>> d.figure("Silo handoffs").delta
    -1.0
    """
    old_side, new_side = _Side(old), _Side(new)
    stage_matches = _match(old.stages, new.stages, lambda s: s.id, lambda s: _norm(s.name))
    channel_matches = _match(old.channels, new.channels, lambda c: c.id, lambda c: _norm(c.name))
    persona_matches = _match(old.personas, new.personas, lambda p: p.id, lambda p: _norm(p.name))
    tp_matches = _match(
        old.touchpoints,
        new.touchpoints,
        lambda t: t.id,
        lambda t: (_norm(old_side.channels[t.channel].name), _norm(t.name)),
        lambda t: (_norm(new_side.channels[t.channel].name), _norm(t.name)),
    )
    matched_new = {new_id for new_id, _ in tp_matches.values()}

    changed: list[TouchpointChange] = []
    for tp in old.touchpoints:
        if tp.id not in tp_matches:
            continue
        new_id, how = tp_matches[tp.id]
        other = new_side.touchpoints[new_id]
        fields: list[FieldChange] = []
        for name in _TOUCHPOINT_FIELDS:
            before, after = getattr(tp, name), getattr(other, name)
            if name == "channel":
                if channel_matches.get(before, ("",))[0] != after:
                    fields.append(FieldChange(name, old_side.channels[before].name, new_side.channels[after].name))
            elif name == "stage":
                if stage_matches.get(before, ("",))[0] != after:
                    fields.append(FieldChange(name, old_side.stages[before].name, new_side.stages[after].name))
            elif before != after:
                fields.append(FieldChange(name.replace("_", " "), _show(before), _show(after)))
        if fields:
            changed.append(TouchpointChange(tp.id, new_id, other.name, how, tuple(fields)))

    def translate(tr: Transition) -> tuple[str, str] | None:
        if tr.source in tp_matches and tr.target in tp_matches:
            return tp_matches[tr.source][0], tp_matches[tr.target][0]
        return None

    new_transitions = {(tr.source, tr.target): tr for tr in new.transitions}
    seen_new: set[tuple[str, str]] = set()
    removed: list[TransitionRef] = []
    tr_changed: list[TransitionChange] = []
    carry: list[CarryChange] = []
    for tr in old.transitions:
        key = translate(tr)
        other_tr = new_transitions.get(key) if key else None
        if key is None or other_tr is None:
            removed.append(old_side.ref(tr))
            continue
        seen_new.add(key)
        ref = new_side.ref(other_tr)
        fields = [
            FieldChange(label, before, after)
            for label, before, after in (
                ("context carry", tr.context_carry.value, other_tr.context_carry.value),
                ("note", tr.note, other_tr.note),
            )
            if before != after
        ]
        if fields:
            tr_changed.append(TransitionChange(ref.source, ref.target, ref.source_name, ref.target_name, tuple(fields)))
        was_handoff, is_handoff = old_side.is_handoff(tr), new_side.is_handoff(other_tr)
        was_silo, is_silo = old_side.is_silo(tr), new_side.is_silo(other_tr)
        carry_moved = tr.context_carry != other_tr.context_carry and (was_handoff or is_handoff)
        if carry_moved or was_silo != is_silo:
            carry.append(
                CarryChange(
                    ref.source,
                    ref.target,
                    ref.source_name,
                    ref.target_name,
                    tr.context_carry.value,
                    other_tr.context_carry.value,
                    was_silo,
                    is_silo,
                )
            )
    added = [new_side.ref(tr) for tr in new.transitions if (tr.source, tr.target) not in seen_new]

    old_figures, new_figures = key_figures(old), key_figures(new)
    return MapDiff(
        old_name=old.name,
        new_name=new.name,
        touchpoints_added=tuple(tp for tp in new.touchpoints if tp.id not in matched_new),
        touchpoints_removed=tuple(tp for tp in old.touchpoints if tp.id not in tp_matches),
        touchpoints_changed=tuple(changed),
        transitions_added=tuple(added),
        transitions_removed=tuple(removed),
        transitions_changed=tuple(tr_changed),
        carry_changes=tuple(carry),
        parts=tuple(
            _part_changes("stage", old.stages, new.stages, stage_matches)
            + _part_changes("channel", old.channels, new.channels, channel_matches)
            + _part_changes("persona", old.personas, new.personas, persona_matches)
        ),
        figures=tuple(FigureDelta(name, old_figures[name], new_figures[name]) for name in KEY_FIGURES),
        touchpoint_matches=tuple((old_id, new_id) for old_id, (new_id, _) in tp_matches.items()),
    )


# --- sentences ----------------------------------------------------------------------------


def _names(names: Iterable[str]) -> str:
    items = list(names)
    shown = ", ".join(items[:_SUMMARY_NAMES])
    return shown + (f" and {len(items) - _SUMMARY_NAMES} more" if len(items) > _SUMMARY_NAMES else "")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _figure_text(value: float | None, name: str) -> str:
    if value is None:
        return "undefined"
    return f"{value:.2f}" if name == "Designed integration factor" else f"{value:g}"


def diff_summary(diff: MapDiff) -> list[str]:
    """The differences as plain sentences, most structural first (names are not escaped: plain text).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> old = JourneyMap(
    ...     name="A",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),),
    ... )
    >>> new = old.model_copy(update={"stages": (Stage(id="buy", name="Buy"),)})
    >>> diff_summary(diff_maps(old, new))
    ["Stage 'Purchase' renamed to 'Buy'."]
    >>> diff_summary(diff_maps(old, old))
    ['No differences in stages, channels, personas, touchpoints or transitions.']
    """
    lines: list[str] = []
    for part in diff.parts:
        label = part.kind.capitalize()
        if part.change == "added":
            lines.append(f"{label} '{part.new_name}' added.")
        elif part.change == "removed":
            lines.append(f"{label} '{part.old_name}' removed.")
        elif part.change == "renamed":
            lines.append(f"{label} '{part.old_name}' renamed to '{part.new_name}'.")
        else:
            details = "; ".join(f"{d.field} {d.old} → {d.new}" for d in part.details)
            lines.append(f"{label} '{part.new_name}' changed: {details}.")
    if diff.touchpoints_added:
        n = len(diff.touchpoints_added)
        lines.append(f"{_count(n, 'touchpoint')} added: {_names(tp.name for tp in diff.touchpoints_added)}.")
    if diff.touchpoints_removed:
        n = len(diff.touchpoints_removed)
        lines.append(f"{_count(n, 'touchpoint')} removed: {_names(tp.name for tp in diff.touchpoints_removed)}.")
    if diff.touchpoints_changed:
        n = len(diff.touchpoints_changed)
        names = _names(f"{c.name} ({', '.join(f.field for f in c.changes)})" for c in diff.touchpoints_changed)
        lines.append(f"{_count(n, 'touchpoint')} changed: {names}.")
    for refs, verb in ((diff.transitions_added, "added"), (diff.transitions_removed, "removed")):
        if refs:
            names = _names(f"{r.source_name} → {r.target_name}" for r in refs)
            lines.append(f"{_count(len(refs), 'transition')} {verb}: {names}.")
    if diff.transitions_changed:
        names = _names(
            f"{c.source_name} → {c.target_name} ({', '.join(f.field for f in c.changes)})"
            for c in diff.transitions_changed
        )
        lines.append(f"{_count(len(diff.transitions_changed), 'transition')} changed: {names}.")
    for change in diff.carry_changes:
        edge = f"{change.source_name} → {change.target_name}"
        if change.became_silo:
            lines.append(f"Handoff {edge} became a silo handoff (carry {change.old_carry} → {change.new_carry}).")
        elif change.stopped_silo:
            lines.append(f"Handoff {edge} is no longer a silo handoff (carry {change.old_carry} → {change.new_carry}).")
        else:
            lines.append(f"Handoff {edge} now carries {change.new_carry} context (was {change.old_carry}).")
    if not lines:
        lines.append("No differences in stages, channels, personas, touchpoints or transitions.")
    for fig in diff.figures:
        if fig.old != fig.new:
            delta = fig.delta
            if delta is None:
                delta_text = ""
            elif fig.name == "Designed integration factor":
                delta_text = f" ({delta:+.2f})"
            else:
                delta_text = f" ({delta:+g})"
            lines.append(
                f"{fig.name}: {_figure_text(fig.old, fig.name)} → {_figure_text(fig.new, fig.name)}{delta_text}."
            )
    return lines


# --- graphs -------------------------------------------------------------------------------


def _mark_node(node: dict[str, Any], status: str, note: str) -> None:
    color = {"added": ADDED_COLOR, "removed": REMOVED_COLOR, "changed": CHANGED_COLOR}[status]
    node["color"] = {**node["color"], "border": color}
    node["borderWidth"] = 6
    node["shapeProperties"] = {"borderDashes": False}
    # A glow in the status colour: a channel's own colour can be close to it (a green channel, an added node).
    node["shadow"] = {"enabled": True, "color": color, "size": 22, "x": 0, "y": 0}
    node["label"] = _LABEL_MARKS[status] + node["label"]
    node["title"] = f"{node['title']}\n{note}"


def _mark_edge(edge: dict[str, Any], status: str, note: str) -> None:
    color = {"added": ADDED_COLOR, "removed": REMOVED_COLOR, "changed": CHANGED_COLOR}[status]
    edge["color"] = {"color": color, "highlight": color, "hover": color}
    edge["width"] = max(float(edge["width"]), 3.5)
    edge["title"] = f"{edge['title']}\n{note}"


def diff_graph_elements(
    old: JourneyMap, new: JourneyMap, side: Literal["old", "new"], *, layout: Layout = "lanes"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Node and edge keyword dicts (see :func:`journeymap.viz.graph_nodes`) of one side, differences highlighted.

    The ``"new"`` side marks added touchpoints and transitions green (:data:`ADDED_COLOR`) and
    changed ones amber (:data:`CHANGED_COLOR`); the ``"old"`` side marks removed ones red
    (:data:`REMOVED_COLOR`) and changed ones amber. Marked nodes get a thick border, a glow in
    that colour (a channel's fill may be green too) and a label prefix (``+``, ``−``, ``±``), so
    the difference does not rest on a fill colour alone; a
    handoff whose carry changed counts as a changed transition.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint
    >>> old = JourneyMap(
    ...     name="A",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"),),
    ...     touchpoints=(Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),),
    ... )
    >>> new = old.model_copy(update={"touchpoints": (*old.touchpoints,
    ...     Touchpoint(id="pay", name="Payment", channel="web", stage="buy"))})
    >>> nodes, _ = diff_graph_elements(old, new, "new")
    >>> [(n["id"], n["label"], n["color"]["border"]) for n in nodes]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('cart', 'Cart', '#C62828'), ('pay', '+ Payment', '#2E7D32'), ('header:stage:buy', 'Purchase', '#9AA5B1'),
     ('header:lane:web', 'Website', '#CBD2D9')]
    """
    diff = diff_maps(old, new)
    if side == "new":
        m = new
        node_status = {tp.id: "added" for tp in diff.touchpoints_added}
        node_status.update({c.new_id: "changed" for c in diff.touchpoints_changed})
        edge_status = {(r.source, r.target): "added" for r in diff.transitions_added}
        edge_status.update({(c.source, c.target): "changed" for c in diff.transitions_changed})
        edge_status.update({(c.source, c.target): "changed" for c in diff.carry_changes})
        notes = {"added": "Added in this version", "changed": "Changed in this version"}
    else:
        m = old
        back = {new_id: old_id for old_id, new_id in diff.touchpoint_matches}
        node_status = {tp.id: "removed" for tp in diff.touchpoints_removed}
        node_status.update({c.old_id: "changed" for c in diff.touchpoints_changed})
        edge_status = {(r.source, r.target): "removed" for r in diff.transitions_removed}
        for pair in [(c.source, c.target) for c in diff.transitions_changed] + [
            (c.source, c.target) for c in diff.carry_changes
        ]:
            edge_status[(back[pair[0]], back[pair[1]])] = "changed"
        notes = {"removed": "Removed in the newer version", "changed": "Changed in the newer version"}
    nodes = graph_nodes(m, layout=layout)
    edges = graph_edges(m)
    for node in nodes:
        status = node_status.get(node["id"])
        if status:
            _mark_node(node, status, notes[status])
    for edge in edges:
        status = edge_status.get((edge["source"], edge["target"]))
        if status:
            _mark_edge(edge, status, notes[status])
    return nodes + header_nodes(m, node_positions(m, layout=layout), layout=layout), edges
