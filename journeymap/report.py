"""Reports on a journey map for review: a plain data structure, then HTML, PDF and PNG files.

:func:`build_report` gathers what a reviewer reads into a :class:`Report`: the key figures,
the journey graph, the structural analysis (handoffs, dead ends, unreachable touchpoints,
empty stages), the designed silo handoffs and the silo handoff matrix, and, when given, what
the event data showed (journey KPIs, observed silo handoffs, the friction board), what keeping
the context across chosen handoffs is predicted to change (:func:`journeymap.analysis.whatif.what_if`),
the maturity radar, open opportunities and review comments.

Renderers
---------
:func:`render_html`
    One self-contained HTML file: inline CSS, plotly.js inlined once, no external URL, so it
    opens offline and can be mailed. Every text that comes from data is HTML-escaped.
:func:`render_png_graph`
    The journey graph as a PNG, drawn with plotly and exported with kaleido.
:func:`render_pdf`
    A static variant of the HTML (figures as PNG images, no script) printed to PDF by a
    headless Chromium.

PNG and PDF need a Chromium or Chrome executable (``BROWSER_PATH``, else ``chromium`` on the
``PATH``). Without one they raise :class:`~journeymap.errors.UserInputError` saying so. All
figures of one export are drawn in one kaleido batch, so the browser starts once.

Optional inputs
---------------
The overlay, assessment, opportunities and comments are read by attribute, so any object of
the right shape works:

``overlay``
    ``kpis`` (with ``as_dict() -> dict[str, float | None]``; shares such as
    ``completion_rate`` or ``switch_journey_share`` are shown as percentages, the team-handoff
    KPIs only when measured), and the frames (Polars or pandas) ``friction`` (``kind``, ``id``,
    ``source``, ``target`` (a touchpoint's id in ``source``), ``score``, ``customers_affected``,
    ``finding``), ``silo_handoffs`` (``source``, ``target``, ``source_channel``, ``target_channel``,
    ``count``, ``context_loss_score``, ``finding``) and,
    optionally, ``switch_matrix`` (``from_channel``, ``to_channel``) and ``team_switch_matrix``
    (``from_team``, ``to_team``), each with ``count`` and optional ``journeys``, ``ping_pong``,
    ``median_wait_s``, ``context_loss_score``: their ten busiest pairs are listed —
    :class:`journeymap.events.overlay.Overlay`.
``assessment``
    ``framework`` (a :class:`journeymap.maturity.framework.Framework`), ``levels`` (dimension
    id → current level), optional ``name`` and ``targets`` (dimension id → target level);
    see :class:`AssessmentSummary`.
``opportunities``
    The map's backlog — items with ``title``, ``status`` and any of ``owner``, ``touchpoint_id``,
    ``due`` (:class:`journeymap.store.reviews.OpportunityInfo`), shown with the touchpoint's
    name — and/or recommended actions: items with ``gap.name`` and ``recommendation`` (``title``,
    ``impact``, ``effort``) like :class:`journeymap.maturity.recommend.PlannedAction`, or with
    ``title`` and optional ``dimension``, ``impact``, ``effort``. Each kind gets its own table;
    items whose ``status`` is ``done`` or ``closed`` are left out.
``comments``
    Items with ``author`` and ``text`` (or ``body``), optional ``created_at`` and either
    ``target`` or ``target_kind`` / ``target_id`` (:class:`journeymap.store.reviews.CommentInfo`);
    what a comment is about is shown by name.
"""

from __future__ import annotations

import base64
import html
import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import kaleido
import plotly.graph_objects as go

from journeymap.analysis.kpis import NO_GOAL
from journeymap.analysis.whatif import MIN_CROSSINGS, FixEstimate, GraphRerun, WhatIf, format_change, format_value
from journeymap.compare import key_figures
from journeymap.config import settings
from journeymap.errors import UserInputError
from journeymap.graph import analyze_structure, designed_switch_matrix, find_handoffs
from journeymap.model import JourneyMap
from journeymap.overlay_viz import format_duration
from journeymap.store.maps import RevisionInfo
from journeymap.viz import (
    CARRY_STYLES,
    COLUMN_WIDTH,
    PLAIN_STYLE,
    ROW_HEIGHT,
    channel_colors,
    node_positions,
    switch_matrix_figure,
    truncate_label,
)

__all__ = [
    "FRICTION_TOP_N",
    "SWITCH_TOP_N",
    "WHAT_IF_TOP_N",
    "AssessmentSummary",
    "Report",
    "ReportFigure",
    "Table",
    "build_report",
    "find_browser",
    "journey_figure",
    "render_html",
    "render_pdf",
    "render_png_graph",
    "render_static_html",
    "what_if_kpi_rows",
    "what_if_outcome_rows",
    "what_if_ranking_rows",
]

FRICTION_TOP_N = 10
"""Rows of the friction board in a report."""
SWITCH_TOP_N = 10
"""Rows of the channel-switch and team-handoff tables in a report."""
WHAT_IF_TOP_N = 10
"""Rows of the what-if ranking of handoffs in a report."""

_PDF_TIMEOUT_S = 120
_SYMBOLS = {"digital": "circle", "physical": "square", "assisted": "diamond", "messaging": "triangle-up"}
_DASHES = {"full": "solid", "partial": "dash", "none": "dot"}
_EDGE_KINDS = (
    ("plain", "Within one channel and team"),
    ("full", "Handoff, full context"),
    ("partial", "Handoff, partial context"),
    ("none", "Silo handoff (context lost)"),
)
_NODE_RADIUS = 14
_CURVE_ROUNDNESS = 0.15
_CURVE_STEPS = 16
_MAX_SIDE = 2400
_LABEL_MIN_SHRINK = 0.6
_MAX_EXPORT_PIXELS = 16_000_000
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


@dataclass(frozen=True)
class AssessmentSummary:
    """The maturity assessment as a report reads it (any object with these attributes works)."""

    framework: Any
    levels: Mapping[str, float]
    name: str = "Current"
    targets: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """A titled table of display strings; ``key`` names it for look-ups and anchors."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty_text: str = "None."
    note: str = ""


@dataclass(frozen=True, eq=False)
class ReportFigure:
    """A plotly figure with the pixel size it is exported at."""

    key: str
    title: str
    figure: go.Figure
    width: int
    height: int


@dataclass(frozen=True, eq=False)
class Report:
    """Everything a report shows, in reading order; renderers only lay it out."""

    title: str
    subtitle: str
    description: str
    journey_map: JourneyMap
    key_figures: tuple[tuple[str, str], ...]
    sections: tuple[Table | ReportFigure, ...]

    def table(self, key: str) -> Table:
        """The table called ``key``."""
        for section in self.sections:
            if isinstance(section, Table) and section.key == key:
                return section
        raise KeyError(f"no table '{key}' in this report")

    @property
    def figures(self) -> tuple[ReportFigure, ...]:
        """The report's figures, in order."""
        return tuple(s for s in self.sections if isinstance(s, ReportFigure))


# --- building -----------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.{digits}f}"
    return str(value)


def _records(frame: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """The first rows of a small Polars or pandas frame as dicts."""
    if frame is None:
        return []
    head = frame.head(limit) if limit is not None else frame
    if hasattr(head, "to_dicts"):
        return list(head.to_dicts())
    return list(head.to_dict("records"))


def _revision_line(revision: RevisionInfo | None) -> str:
    if revision is None:
        return "Unsaved map"
    when = revision.created_at.strftime("%Y-%m-%d %H:%M UTC")
    line = f"Revision {revision.number} by {revision.author}, {when}"
    return line + (f": {revision.message}" if revision.message else "")


def _structure_tables(m: JourneyMap) -> list[Table]:
    report = analyze_structure(m)
    names = {tp.id: tp.name for tp in m.touchpoints}
    stages = {st.id: st.name for st in m.stages}
    handoff_rows = tuple(
        (
            h.source_name,
            h.target_name,
            f"{h.source_channel} → {h.target_channel}" if h.cross_channel else h.source_channel,
            f"{h.source_owner} → {h.target_owner}" if h.cross_owner else h.source_owner,
            h.context_carry,
            h.note,
        )
        for h in report.handoffs
    )
    columns = ("From", "To", "Channels", "Owner teams", "Context carry", "Note")
    matrix = designed_switch_matrix(m)
    return [
        Table("handoffs", "Handoffs", columns, handoff_rows, "No handoffs: every transition stays in one channel."),
        Table(
            "silo_handoffs",
            "Silo handoffs (designed with no context carry)",
            columns,
            tuple(row for row, h in zip(handoff_rows, report.handoffs, strict=True) if h.is_silo),
            "No silo handoffs: context travels with every handoff."
            if report.handoffs
            else "No handoffs designed yet, so none can lose context.",
        ),
        Table(
            "silo_matrix",
            "Silo handoff matrix (designed channel switches by context carry)",
            ("From channel", "To channel", "Transitions", "Full", "Partial", "None (silo)"),
            tuple(
                (
                    str(r["from_channel"]),
                    str(r["to_channel"]),
                    _fmt(r["transitions"]),
                    _fmt(r["full"]),
                    _fmt(r["partial"]),
                    _fmt(r["none"]),
                )
                for r in _records(matrix)
            ),
            "No designed channel switches.",
        ),
        Table(
            "dead_ends",
            "Dead ends",
            ("Touchpoint", "Id"),
            tuple((names[i], i) for i in report.dead_ends),
            "No dead ends.",
            "Touchpoints with no way on that are not a designated end of the journey.",
        ),
        Table(
            "unreachable",
            "Unreachable touchpoints",
            ("Touchpoint", "Id"),
            tuple((names[i], i) for i in report.unreachable),
            "Every touchpoint can be reached from the first stage.",
        ),
        Table(
            "empty_stages",
            "Empty stages",
            ("Stage", "Id"),
            tuple((stages[i], i) for i in report.empty_stages),
            "Every stage has touchpoints.",
        ),
    ]


_KPI_NAMES: dict[str, str] = {
    "switches_per_journey": "Channel switches per journey",
    "switch_journey_share": "Journeys with a channel switch",
    "switch_ping_pong_share": "Channel switches back to a channel left before (ping-pong)",
    "handoffs_per_journey": "Team handoffs per journey",
    "handoff_journey_share": "Journeys with a team handoff",
    "handoff_ping_pong_share": "Team handoffs back to a team left before (ping-pong)",
}
_PERCENT_KPIS = frozenset(
    {
        "completion_rate",
        "repeat_contact_rate",
        "first_contact_resolution",
        "switch_journey_share",
        "switch_ping_pong_share",
        "handoff_journey_share",
        "handoff_ping_pong_share",
    }
)
"""KPIs that are shares: shown as percentages with one decimal (``12.5%``)."""
_HANDOFF_KPIS = ("handoffs_per_journey", "handoff_journey_share", "handoff_ping_pong_share")


def _percent(value: Any) -> str:
    """A share as a percentage with one decimal; ``–`` when unknown.

    Examples
    --------
    >>> _percent(0.125), _percent(1.0), _percent(None)
    ('12.5%', '100.0%', '–')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.1%}"


def _sorted_head(frame: Any, column: str, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` rows of a Polars or pandas frame with the largest ``column``, as dicts."""
    if frame is None or column not in getattr(frame, "columns", ()):
        return []
    if hasattr(frame, "sort_values"):
        return _records(frame.sort_values(column, ascending=False, kind="stable"), limit)
    return _records(frame.sort(column, descending=True, maintain_order=True), limit)


def _kpi_table(kpis: Mapping[str, Any], *, has_goal: bool = True) -> Table:
    has_teams = any(kpis.get(k) is not None for k in _HANDOFF_KPIS)
    rows = tuple(
        (
            _KPI_NAMES.get(str(k), str(k).replace("_", " ").capitalize()),
            NO_GOAL if k == "completion_rate" and not has_goal else _percent(v) if k in _PERCENT_KPIS else _fmt(v),
        )
        for k, v in kpis.items()
        if has_teams or k not in _HANDOFF_KPIS
    )
    return Table("kpis", "Journey KPIs (event data)", ("KPI", "Value"), rows)


def _switch_table(overlay: Any, *, kind: str, names: Mapping[str, str], has_teams: bool) -> Table:
    """The ``SWITCH_TOP_N`` busiest channel switches or team handoffs of the overlay."""
    source, target = ("from_channel", "to_channel") if kind == "channel" else ("from_team", "to_team")
    frame = getattr(overlay, "switch_matrix" if kind == "channel" else "team_switch_matrix", None)
    rows = tuple(
        (
            names.get(str(r.get(source)), str(r.get(source))),
            names.get(str(r.get(target)), str(r.get(target))),
            _fmt(r.get("count")),
            _fmt(r.get("journeys")),
            _fmt(r.get("ping_pong")),
            format_duration(r.get("median_wait_s")),
            _fmt(r.get("context_loss_score")),
        )
        for r in _sorted_head(frame, "count", SWITCH_TOP_N)
    )
    columns = ("From", "To", "Moves", "Journeys", "Ping-pong", "Median wait", "Context-loss score")
    if kind == "channel":
        return Table(
            "channel_switches",
            f"Channel switches (event data, top {SWITCH_TOP_N})",
            ("From channel", "To channel", *columns[2:]),
            rows,
            "No customer switched channel.",
            "A channel switch is a move between two consecutive events of one journey recorded in different "
            "channels; ping-pong counts the switches back to a channel the journey had already left.",
        )
    return Table(
        "team_handoffs",
        f"Team handoffs (event data, top {SWITCH_TOP_N})",
        ("From team", "To team", *columns[2:]),
        rows,
        "No team handed a journey to another." if has_teams else "No team column was mapped in the event data.",
        "A team handoff is a move between two consecutive events of one journey handled by different teams.",
    )


def _overlay_tables(overlay: Any, names: Mapping[str, str], channel_names: Mapping[str, str]) -> list[Table]:
    kpis = overlay.kpis.as_dict() if hasattr(overlay.kpis, "as_dict") else dict(overlay.kpis)
    kpi_table = _kpi_table(kpis, has_goal=bool(getattr(overlay.kpis, "has_goal", True)))
    has_teams = any(kpis.get(k) is not None for k in _HANDOFF_KPIS)
    switch_tables = [
        _switch_table(overlay, kind="channel", names=channel_names, has_teams=has_teams),
        _switch_table(overlay, kind="team", names={}, has_teams=has_teams),
    ]
    silo_rows = tuple(
        (
            names.get(str(r.get("source")), str(r.get("source"))),
            names.get(str(r.get("target")), str(r.get("target"))),
            f"{r.get('source_channel')} → {r.get('target_channel')}",
            _fmt(r.get("count")),
            _fmt(r.get("context_loss_score")),
            str(r.get("finding") or ""),
        )
        for r in _records(overlay.silo_handoffs, FRICTION_TOP_N)
    )
    silo_table = Table(
        "observed_silo_handoffs",
        "Observed silo handoffs (event data)",
        ("From", "To", "Channels", "Count", "Context-loss score", "Finding"),
        silo_rows,
        "No handoffs observed in the event data.",
    )

    def label(row: Mapping[str, Any]) -> str:
        source, target = str(row.get("source") or row.get("id") or ""), row.get("target")
        if row.get("kind") == "transition" and target is not None:
            return f"{names.get(source, source)} → {names.get(str(target), str(target))}"
        return names.get(source, source)

    friction_rows = tuple(
        (
            str(rank),
            str(r.get("kind", "")),
            label(r),
            _fmt(r.get("score")),
            _fmt(r.get("customers_affected")),
            str(r.get("finding") or ""),
        )
        for rank, r in enumerate(_records(overlay.friction, FRICTION_TOP_N), start=1)
    )
    friction_table = Table(
        "friction",
        f"Friction board (top {FRICTION_TOP_N})",
        ("Rank", "Kind", "Where", "Score", "Customers affected", "Finding"),
        friction_rows,
        "No friction above the map's baseline.",
    )
    return [kpi_table, *switch_tables, friction_table, silo_table]


def what_if_kpi_rows(rerun: GraphRerun) -> list[dict[str, str]]:
    """The journey graph re-run's KPIs as they read: observed, predicted with its 95% interval, the change with its.

    Keys: ``kpi``, ``observed``, ``predicted``, ``predicted_interval``, ``change``.
    """
    rows = []
    for kpi in rerun.kpis:
        low, high = (format_value(bound, kpi.unit) for bound in kpi.interval)
        change_low, change_high = (format_change(bound, kpi.unit) for bound in kpi.change_interval)
        rows.append(
            {
                "kpi": kpi.label,
                "observed": format_value(kpi.observed, kpi.unit),
                "predicted": format_value(kpi.predicted, kpi.unit),
                "predicted_interval": f"{low} to {high}",
                "change": f"{format_change(kpi.predicted - kpi.observed, kpi.unit)} ({change_low} to {change_high})",
            }
        )
    return rows


def what_if_outcome_rows(estimate: FixEstimate) -> list[dict[str, str]]:
    """One fix's outcomes as they read: kept vs lost, the effect of keeping the context, observed vs predicted.

    Keys: ``outcome``, ``kept_value``, ``lost_value``, ``effect`` (with its 95% interval, or "not enough
    evidence"), ``observed``, ``predicted``, ``compared``.
    """
    rows = []
    for outcome in estimate.outcomes:
        if outcome.effect is None or outcome.interval is None:
            effect = f"not enough evidence ({MIN_CROSSINGS} kept and {MIN_CROSSINGS} lost crossings needed)"
        else:
            low, high = (format_change(bound, outcome.unit) for bound in outcome.interval)
            effect = f"{format_change(outcome.effect, outcome.unit)} ({low} to {high})"
        rows.append(
            {
                "outcome": outcome.label,
                "kept_value": format_value(outcome.kept_mean, outcome.unit),
                "lost_value": format_value(outcome.lost_mean, outcome.unit),
                "effect": effect,
                "observed": format_value(outcome.observed, outcome.unit),
                "predicted": format_value(outcome.predicted, outcome.unit),
                "compared": f"{outcome.kept_crossings:,} kept, {outcome.lost_crossings:,} lost",
            }
        )
    return rows


def what_if_ranking_rows(ranking: Any, *, has_goal: bool, limit: int | None = None) -> list[dict[str, Any]]:
    """The ranking of handoffs (:func:`journeymap.analysis.whatif.rank_handoffs`) as it reads, the first ``limit``.

    Keys, best read first: ``handoff``, ``predicted_gain``, ``kpi_effect`` (text: on completion, or on effort
    without a goal), ``customers_losing_context``, ``lost_crossings``, ``crossings``, ``graph_gain`` (the gains
    are numbers or ``None``).
    """
    unit = "share" if has_goal else "events"
    return [
        {
            "handoff": row["label"],
            "predicted_gain": row["gain"],
            "kpi_effect": "not enough evidence" if row["effect"] is None else format_change(row["effect"], unit),
            "customers_losing_context": row["customers_affected"],
            "lost_crossings": row["lost"],
            "crossings": row["crossings"],
            "graph_gain": row["graph_gain"],
        }
        for row in _records(ranking, limit)
    ]


def _what_if_tables(result: WhatIf) -> list[Table]:
    rerun = result.rerun
    fixed = "; ".join(fix.label for fix in rerun.fixes)
    kpis = Table(
        "what_if_kpis",
        f"What if the context travelled across: {fixed}",
        ("KPI", "Observed", "Predicted", "95% interval", "Change (95% interval)"),
        tuple(tuple(row.values()) for row in what_if_kpi_rows(rerun)),
        rerun.assumptions[0] if rerun.assumptions else "No journey KPI could be predicted.",
        f"The journey graph re-run over {rerun.journeys:,} journeys that are over, with {rerun.fixed_crossings:,} "
        "crossings that lost the context sent to the context kept.",
    )
    fixes = Table(
        "what_if_fixes",
        "What if: the estimate per handoff, from its observed crossings",
        (
            "Handoff",
            "Crossings (lost / kept)",
            "Outcome",
            "Kept",
            "Lost",
            "Effect of keeping it (95% interval)",
            "Observed",
            "Predicted",
            "Crossings compared",
        ),
        tuple(
            (estimate.fix.label, f"{estimate.lost:,} / {estimate.kept:,}", *row.values())
            for estimate in result.estimates
            for row in what_if_outcome_rows(estimate)
        ),
        "No handoff was chosen.",
        "Crossings that kept the context compared with those that lost it, within strata; 'not enough evidence' "
        f"below {MIN_CROSSINGS} compared crossings of each.",
    )
    assumptions = Table(
        "what_if_assumptions",
        "What if: the assumptions behind each prediction",
        ("Applies to", "Assumption"),
        (
            *(("Journey graph re-run", text) for text in rerun.assumptions),
            *((estimate.fix.label, text) for estimate in result.estimates for text in estimate.assumptions),
        ),
    )
    gain = "customers completing" if result.has_goal else "events saved"
    ranking = Table(
        "what_if_ranking",
        f"What if: handoffs ranked by predicted gain (top {WHAT_IF_TOP_N})",
        (
            "Rank",
            "Handoff",
            "Crossings lost / all",
            "Customers affected",
            "Effect",
            f"Predicted gain ({gain})",
            "Journey graph re-run gain",
        ),
        tuple(
            (
                str(rank),
                row["handoff"],
                f"{row['lost_crossings']:,} / {row['crossings']:,}",
                f"{row['customers_losing_context']:,}",
                row["kpi_effect"],
                "–" if row["predicted_gain"] is None else f"{row['predicted_gain'] + 0.0:+,.1f}",
                "–" if row["graph_gain"] is None else f"{row['graph_gain'] + 0.0:+,.1f}",
            )
            for rank, row in enumerate(
                what_if_ranking_rows(result.ranking, has_goal=result.has_goal, limit=WHAT_IF_TOP_N), start=1
            )
        ),
        f"No handoff has {MIN_CROSSINGS} crossings that lost the context and {MIN_CROSSINGS} that kept it.",
        "Predicted gain = customers affected (with a crossing that lost the context) × effect on "
        + ("completion." if result.has_goal else "effort (events to the end)."),
    )
    return [kpis, fixes, assumptions, ranking]


def _assessment_parts(assessment: Any) -> list[Table | ReportFigure]:
    from journeymap.maturity.figures import radar_figure

    framework = assessment.framework
    levels: Mapping[str, float] = assessment.levels
    targets: Mapping[str, int] = getattr(assessment, "targets", None) or {}
    name = str(getattr(assessment, "name", "") or "Current")
    profiles: list[tuple[str, Mapping[str, float]]] = [(name, levels)]
    if targets:
        profiles.append(("Target", {k: float(v) for k, v in targets.items()}))
    figure = radar_figure(framework, profiles, template="plotly")
    # Room for the longest dimension names on both sides of the circle.
    figure.update_layout(margin={"l": 170, "r": 170})
    rows = tuple(
        (d.name, _fmt(levels.get(d.id), 1), _fmt(targets.get(d.id), 1) if targets else "–")
        for d in framework.dimensions
    )
    return [
        ReportFigure("radar", "Omnichannel maturity", figure, 900, 560),
        Table("maturity", "Maturity by dimension", ("Dimension", name, "Target"), rows, "Not assessed."),
    ]


def _is_backlog_item(item: Any) -> bool:
    """A map's opportunity backlog item (owner, touchpoint, due date), not a recommended maturity action."""
    return any(hasattr(item, name) for name in ("owner", "touchpoint_id", "due"))


def _action_table(actions: Sequence[Any]) -> Table:
    rows: list[tuple[str, ...]] = []
    for item in actions:
        recommendation = getattr(item, "recommendation", None)
        gap = getattr(item, "gap", None)
        source = recommendation if recommendation is not None else item
        elements = getattr(item, "elements", ()) or ()
        rows.append(
            (
                str(getattr(gap, "name", "") if gap is not None else getattr(item, "dimension", "") or ""),
                str(getattr(source, "title", None) or item),
                str(getattr(source, "impact", "") or ""),
                str(getattr(source, "effort", "") or ""),
                "; ".join(f"{kind}: {', '.join(found)}" for kind, found in elements if found),
            )
        )
    return Table(
        "actions",
        "Recommended actions",
        ("Dimension", "Action", "Impact", "Effort", "Where on the map"),
        tuple(rows),
        "No recommended action.",
    )


def _backlog_table(items: Sequence[Any], names: Mapping[str, str]) -> Table:
    rows: list[tuple[str, ...]] = []
    for item in items:
        touchpoint = str(getattr(item, "touchpoint_id", "") or "")
        due = getattr(item, "due", None)
        rows.append(
            (
                str(getattr(item, "title", "") or ""),
                names.get(touchpoint, touchpoint) if touchpoint else "Whole map",
                str(getattr(item, "owner", "") or "") or "–",
                str(getattr(item, "status", "") or "").replace("_", " "),
                due.isoformat() if isinstance(due, date) else "–",
            )
        )
    return Table(
        "opportunities",
        "Open opportunities",
        ("Opportunity", "Touchpoint", "Owner", "Status", "Due"),
        tuple(rows),
        "No open opportunities.",
    )


def _opportunity_tables(opportunities: Iterable[Any], names: Mapping[str, str]) -> list[Table]:
    """The backlog of the map (open items) and, when given, the recommended maturity actions, each in its own table."""
    items = [o for o in opportunities if str(getattr(o, "status", "") or "").lower() not in ("done", "closed")]
    backlog = [o for o in items if _is_backlog_item(o)]
    actions = [o for o in items if not _is_backlog_item(o)]
    tables = [_backlog_table(backlog, names)] if backlog or not actions else []
    return tables + ([_action_table(actions)] if actions else [])


def _comment_target(comment: Any, names: Mapping[str, str]) -> str:
    """What a comment is about, by name: its ``target``, or its ``target_kind`` and ``target_id``."""
    target = getattr(comment, "target", None)
    if target:
        return names.get(str(target), str(target))
    kind = str(getattr(comment, "target_kind", "") or "")
    target_id = str(getattr(comment, "target_id", "") or "")
    if kind == "touchpoint":
        return names.get(target_id, target_id)
    if kind == "handoff" and "->" in target_id:
        source, _, dest = target_id.partition("->")
        return f"{names.get(source, source)} → {names.get(dest, dest)}"
    return "Whole map" if kind == "map" or not target_id else target_id


def _comment_table(comments: Iterable[Any], names: Mapping[str, str]) -> Table:
    rows = []
    for c in comments:
        created = getattr(c, "created_at", None)
        rows.append(
            (
                str(getattr(c, "author", "") or ""),
                created.strftime("%Y-%m-%d %H:%M") if isinstance(created, datetime) else _fmt(created),
                _comment_target(c, names),
                str(getattr(c, "text", None) or getattr(c, "body", "") or ""),
            )
        )
    return Table("comments", "Review comments", ("Author", "When", "On", "Comment"), tuple(rows), "No comments.")


def build_report(
    journey_map: JourneyMap,
    *,
    revision: RevisionInfo | None,
    overlay: Any = None,
    what_if: WhatIf | None = None,
    assessment: Any = None,
    opportunities: Iterable[Any] | None = None,
    comments: Iterable[Any] | None = None,
) -> Report:
    """Gather a map's review report; optional parts are left out when not given (see the module docs).

    ``what_if`` is shown after the overlay when it fixes at least one handoff.

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Returns",
    ...     stages=(Stage(id="s", name="Service"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(
    ...         Touchpoint(id="form", name="Return form", channel="web", stage="s"),
    ...         Touchpoint(id="phone", name="Return call", channel="call", stage="s", is_final=True),
    ...     ),
    ...     transitions=(Transition(source="form", target="phone", context_carry="none"),),
    ... )
    >>> report = build_report(m, revision=None)
    >>> dict(report.key_figures)["Silo handoffs"], report.table("silo_handoffs").rows[0][:2]
    ('1', ('Return form', 'Return call'))
    >>> [s.key for s in report.sections]  # doctest: +NORMALIZE_WHITESPACE
    ['silo_handoffs', 'graph', 'handoffs', 'silo_matrix', 'switch_figure', 'dead_ends', 'unreachable',
     'empty_stages']
    """
    figures = key_figures(journey_map)
    shown = tuple(
        (name, _fmt(value) if name != "Designed integration factor" else _fmt(value, 2))
        for name, value in figures.items()
    )
    names = {tp.id: tp.name for tp in journey_map.touchpoints}
    graph = journey_figure(journey_map)
    handoffs, silo_handoffs, silo_matrix, *rest = _structure_tables(journey_map)
    # The silo handoffs are the findings a reader wants first: they share the first page with the key figures.
    sections: list[Table | ReportFigure] = [
        silo_handoffs,
        ReportFigure("graph", "Journey graph", graph, int(graph.layout.width), int(graph.layout.height)),
        handoffs,
        silo_matrix,
    ]
    sections.append(
        ReportFigure(
            "switch_figure",
            "Designed channel switches",
            switch_matrix_figure(designed_switch_matrix(journey_map), template="plotly"),
            760,
            520,
        )
    )
    sections += rest
    if overlay is not None:
        sections += _overlay_tables(overlay, names, {c.id: c.name for c in journey_map.channels})
    if what_if is not None and what_if.rerun.fixes:
        sections += _what_if_tables(what_if)
    if assessment is not None:
        sections += _assessment_parts(assessment)
    if opportunities is not None:
        sections += _opportunity_tables(opportunities, names)
    if comments is not None:
        sections.append(_comment_table(comments, names))
    return Report(
        title=journey_map.name,
        subtitle=_revision_line(revision),
        description=journey_map.description,
        journey_map=journey_map,
        key_figures=shown,
        sections=tuple(sections),
    )


# --- the journey graph as a plotly figure ---------------------------------------------------


def _edge_kind(m: JourneyMap) -> dict[tuple[str, str], str]:
    handoffs = {(h.source, h.target): h.context_carry for h in find_handoffs(m)}
    return {(tr.source, tr.target): handoffs.get((tr.source, tr.target), "plain") for tr in m.transitions}


def journey_figure(journey_map: JourneyMap) -> go.Figure:
    """The journey graph as a plotly figure for export (explicit ``template="plotly"``).

    Touchpoints sit at :func:`journeymap.viz.node_positions`, one marker trace per channel in
    its :func:`~journeymap.viz.channel_colors` colour, shaped by channel kind. Transitions are
    drawn as one line trace per kind (plain, then handoffs by context carry, styled like
    :data:`journeymap.viz.CARRY_STYLES`) plus one arrowhead trace per kind: a handful of traces
    whatever the size of the map. Labels are HTML-escaped (plotly reads tags in text).

    Examples
    --------
    >>> from journeymap.model import Channel, Stage, Touchpoint, Transition
    >>> m = JourneyMap(
    ...     name="Tiny",
    ...     stages=(Stage(id="buy", name="Purchase"),),
    ...     channels=(Channel(id="web", name="Website"), Channel(id="call", name="Call center")),
    ...     touchpoints=(
    ...         Touchpoint(id="cart", name="<b>Cart</b>", channel="web", stage="buy"),
    ...         Touchpoint(id="help", name="Help line", channel="call", stage="buy"),
    ...     ),
    ...     transitions=(Transition(source="cart", target="help", context_carry="none"),),
    ... )
    >>> fig = journey_figure(m)
    >>> [t.name for t in fig.data if t.showlegend is not False]
    ['Silo handoff (context lost)', 'Website', 'Call center']
    >>> fig.data[-2].text, fig.layout.template.layout.colorway[0]
    (('&lt;b&gt;Cart&lt;/b&gt;',), '#636efa')
    """
    m = journey_map
    positions = {tp: (float(x), -float(y)) for tp, (x, y) in node_positions(m).items()}
    colors = channel_colors(m)
    kinds = _edge_kind(m)
    lines: dict[str, tuple[list[float | None], list[float | None]]] = {k: ([], []) for k, _ in _EDGE_KINDS}
    heads: dict[str, tuple[list[float | None], list[float | None], list[float]]] = {
        k: ([], [], []) for k, _ in _EDGE_KINDS
    }
    for (source, target), kind in kinds.items():
        (x0, y0), (x1, y1) = positions[source], positions[target]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        # A clockwise curve, as on the page's graph: transitions stacked in one column, or running
        # both ways between two touchpoints, bend apart instead of drawing over each other.
        bend = _CURVE_ROUNDNESS * length
        cx, cy = (x0 + x1) / 2 + (y1 - y0) / length * bend, (y0 + y1) / 2 - (x1 - x0) / length * bend
        steps = [i / _CURVE_STEPS for i in range(_CURVE_STEPS + 1)]
        line_x, line_y = lines[kind]
        for t in steps:
            line_x.append((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1)
            line_y.append((1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1)
        line_x.append(None)
        line_y.append(None)
        hx, hy, sizes = heads[kind]
        tip = max(1 - (_NODE_RADIUS + 2) / length, 0.5)
        for t in (tip - 0.04, tip):
            hx.append((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1)
            hy.append((1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1)
        hx.append(None)
        hy.append(None)
        sizes += [0.0, 12.0, 0.0]
    figure = go.Figure(layout={"template": "plotly"})
    for kind, label in _EDGE_KINDS:
        if not lines[kind][0]:
            continue
        style = PLAIN_STYLE if kind == "plain" else CARRY_STYLES[kind]
        color, width = style["color"], float(style["width"])
        figure.add_trace(
            go.Scatter(
                x=lines[kind][0],
                y=lines[kind][1],
                mode="lines",
                name=label,
                line={"color": color, "width": width, "dash": "solid" if kind == "plain" else _DASHES[kind]},
                hoverinfo="skip",
                legendgroup=kind,
            )
        )
        figure.add_trace(
            go.Scatter(
                x=heads[kind][0],
                y=heads[kind][1],
                mode="markers",
                marker={"symbol": "arrow", "angleref": "previous", "size": heads[kind][2], "color": color},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=kind,
            )
        )
    structure = analyze_structure(m)
    flagged = set(structure.dead_ends) | set(structure.unreachable)
    for channel in m.channels:
        tps = [tp for tp in m.touchpoints if tp.channel == channel.id]
        if not tps:
            continue
        figure.add_trace(
            go.Scatter(
                x=[positions[tp.id][0] for tp in tps],
                y=[positions[tp.id][1] for tp in tps],
                mode="markers+text",
                meta="touchpoints",
                name=html.escape(channel.name),
                text=[html.escape(truncate_label(tp.name)) for tp in tps],
                textposition="bottom center",
                textfont={"size": 13, "color": "#1F2933"},
                hovertext=[html.escape(tp.name) for tp in tps],
                hoverinfo="text",
                marker={
                    "symbol": _SYMBOLS[channel.kind.value],
                    "size": 2 * _NODE_RADIUS,
                    "color": colors[channel.id],
                    "line": {
                        "width": [3 if tp.id in flagged else 1.5 for tp in tps],
                        "color": ["#C62828" if tp.id in flagged else "#FFFFFF" for tp in tps],
                    },
                },
            )
        )
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    top = max(ys) + 55
    for column, stage in enumerate(m.stages):
        figure.add_annotation(
            x=column * COLUMN_WIDTH,
            y=top,
            text=f"<b>{html.escape(truncate_label(stage.name))}</b>",
            showarrow=False,
            font={"size": 14, "color": "#1F2933"},
        )
    x_min, x_max = -COLUMN_WIDTH / 2, max(max(xs), (len(m.stages) - 1) * COLUMN_WIDTH) + COLUMN_WIDTH / 2
    y_min, y_max = min(ys) - ROW_HEIGHT / 2 - 20, top + 25
    width = int(x_max - x_min) + 40
    height = int(y_max - y_min) + 140
    # Big maps: shrink the whole drawing to a side of at most _MAX_SIDE pixels (an export stays a few
    # megapixels); once touchpoints sit closer than their labels are long, the labels are left to hovering.
    shrink = min(1.0, _MAX_SIDE / width, _MAX_SIDE / height)
    width, height = int(width * shrink), int(height * shrink)
    if shrink < _LABEL_MIN_SHRINK:
        figure.update_traces(
            mode="markers", marker_size=max(8, round(4 * _NODE_RADIUS * shrink)), selector={"meta": "touchpoints"}
        )
        figure.update_annotations(font_size=max(9, round(14 * shrink / _LABEL_MIN_SHRINK)))
    figure.update_layout(
        title={"text": html.escape(m.name), "x": 0.01},
        width=max(width, 700),
        height=max(height, 360),
        plot_bgcolor="#FFFFFF",
        paper_bgcolor="#FFFFFF",
        margin={"l": 20, "r": 20, "t": 60, "b": 80},
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "x": 0},
        xaxis={"visible": False, "range": [x_min, x_max]},
        yaxis={"visible": False, "range": [y_min, y_max], "scaleanchor": "x"},
    )
    return figure


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1F2933;
       margin: 2rem auto; max-width: 1100px; padding: 0 1rem; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #D9DEE3; padding-bottom: 0.2rem; }
.subtitle { color: #52606D; margin-top: 0; } .note { color: #52606D; font-size: 0.9rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 0.6rem; }
.figure { border: 1px solid #D9DEE3; border-radius: 6px; padding: 0.5rem 0.7rem; break-inside: avoid; }
.figure .label { font-size: 0.8rem; color: #52606D; } .figure .value { font-size: 1.5rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #E4E7EB; vertical-align: top; }
th { background: #F5F7FA; } tr { break-inside: avoid; }
img.chart { max-width: 100%; height: auto; }
section { break-inside: auto; }
footer { margin-top: 3rem; color: #7B8794; font-size: 0.8rem; }
@page { size: A4; margin: 12mm; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } h2 { break-after: avoid; }
               /* small enough that the journey graph shares the first page with the key figures */
               img.chart { max-height: 100mm; width: auto; display: block; margin: 0 auto; } }
"""


def _table_html(table: Table) -> str:
    parts = [f'<section id="{html.escape(table.key)}"><h2>{html.escape(table.title)}</h2>']
    if table.note:
        parts.append(f'<p class="note">{html.escape(table.note)}</p>')
    if not table.rows:
        parts.append(f"<p>{html.escape(table.empty_text)}</p></section>")
        return "".join(parts)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in table.rows)
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>")
    return "".join(parts)


def _document(report: Report, figure_html: Callable[[ReportFigure], str]) -> str:
    figures = "".join(
        f'<div class="figure"><div class="label">{html.escape(name)}</div>'
        f'<div class="value">{html.escape(value)}</div></div>'
        for name, value in report.key_figures
    )
    body = [
        f"<h1>{html.escape(report.title)}</h1>",
        f'<p class="subtitle">{html.escape(report.subtitle)}</p>',
    ]
    if report.description.strip():
        body.append(f"<p>{html.escape(report.description)}</p>")
    body.append(f'<section id="key-figures"><h2>Key figures</h2><div class="figures">{figures}</div></section>')
    for section in report.sections:
        if isinstance(section, Table):
            body.append(_table_html(section))
        else:
            body.append(
                f'<section id="{html.escape(section.key)}"><h2>{html.escape(section.title)}</h2>'
                f"{figure_html(section)}</section>"
            )
    body.append("<footer>Journeymap review report</footer>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(report.title)} · Journeymap report</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def render_html(report: Report) -> str:
    """The report as one self-contained, interactive HTML page (plotly.js inlined once, no external URL).

    Examples
    --------
    >>> from journeymap.model import Stage
    >>> page = render_html(build_report(JourneyMap(name="<Empty>", stages=(Stage(id="a", name="A"),)), revision=None))
    >>> "<h1>&lt;Empty&gt;</h1>" in page, page.count("<script") >= 1
    (True, True)
    """
    included: list[bool] = []

    def interactive(section: ReportFigure) -> str:
        first = not included
        included.append(True)
        # The page is narrower than an export: the figure follows the page width (its aspect is fixed).
        figure = go.Figure(section.figure)
        figure.update_layout(width=None, autosize=True)
        return str(
            figure.to_html(
                full_html=False,
                include_plotlyjs="inline" if first else False,
                config={"displaylogo": False, "responsive": True},
                default_width="100%",
                default_height=f"{section.height}px",
            )
        )

    return _document(report, interactive)


def render_static_html(report: Report, images: Mapping[str, bytes]) -> str:
    """The report as HTML without any script: each figure is the PNG in ``images`` under its key.

    Figures missing from ``images`` are left out. This is the page :func:`render_pdf` prints.

    Examples
    --------
    >>> from journeymap.model import Stage
    >>> page = render_static_html(build_report(JourneyMap(name="E", stages=(Stage(id="a", name="A"),)),
    ...                                        revision=None), {"graph": b"PNG"})
    >>> "<script" in page, 'src="data:image/png;base64,UE5H"' in page
    (False, True)
    """

    def static(section: ReportFigure) -> str:
        data = images.get(section.key)
        if data is None:
            return ""
        encoded = base64.b64encode(data).decode("ascii")
        return f'<img class="chart" alt="{html.escape(section.title)}" src="data:image/png;base64,{encoded}">'

    return _document(report, static)


# --- PNG and PDF ----------------------------------------------------------------------------


def find_browser() -> str:
    """The Chromium/Chrome executable for exports: ``BROWSER_PATH``, else the first one on the ``PATH``.

    Raises
    ------
    UserInputError
        When there is none: PNG and PDF export cannot work.
    """
    configured = settings().browser_path
    if configured and Path(configured).is_file():
        return configured
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise UserInputError(
        "PDF and PNG export need Chromium, which was not found on this machine",
        source="Export",
        hint="Install the Debian package chromium (apt-get install chromium), "
        "or set BROWSER_PATH to a Chromium or Chrome executable. JSON and HTML export work without it.",
    )


def _to_pngs(figures: Sequence[ReportFigure], *, scale: float) -> dict[str, bytes]:
    """Export figures in one kaleido batch (one browser start for all)."""
    if not figures:
        return {}
    browser = find_browser()
    # At most _MAX_EXPORT_PIXELS per image whatever the requested scale.
    scales = [min(scale, math.sqrt(_MAX_EXPORT_PIXELS / max(f.width * f.height, 1))) for f in figures]
    with tempfile.TemporaryDirectory(prefix="journeymap-png-") as tmp:
        paths = [Path(tmp) / f"{i}.png" for i in range(len(figures))]
        specs = [
            {
                "fig": f.figure.to_dict(),
                "path": path,
                "opts": {"format": "png", "width": f.width, "height": f.height, "scale": s},
            }
            for f, path, s in zip(figures, paths, scales, strict=True)
        ]
        try:
            # The browser goes to kaleido as an argument (choreographer's ``path``), never through the
            # process environment, which every session of the server shares.
            kaleido.write_fig_from_object_sync(specs, kopts={"path": browser})
        except RuntimeError as exc:
            if type(exc).__name__ in ("ChromeNotFoundError", "BrowserFailedError", "BrowserDepsError"):
                raise UserInputError(
                    f"PDF and PNG export need a working Chromium; starting {browser} failed ({exc})",
                    source="Export",
                    hint="Install the Debian package chromium (apt-get install chromium).",
                ) from None
            raise
        return {f.key: path.read_bytes() for f, path in zip(figures, paths, strict=True)}


def render_png_graph(journey_map: JourneyMap, *, scale: float = 2.0) -> bytes:
    """The journey graph (:func:`journey_figure`) as PNG bytes; needs Chromium (see :func:`find_browser`)."""
    figure = journey_figure(journey_map)
    section = ReportFigure("graph", "Journey graph", figure, int(figure.layout.width), int(figure.layout.height))
    return _to_pngs([section], scale=scale)["graph"]


def render_pdf(report: Report, *, timeout_s: float = _PDF_TIMEOUT_S) -> bytes:
    """The report as a PDF: :func:`render_static_html` printed by headless Chromium.

    Raises
    ------
    UserInputError
        Chromium is missing or failed to print.
    """
    images = _to_pngs(report.figures, scale=1.5)
    page = render_static_html(report, images)
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="journeymap-pdf-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise UserInputError(
                f"Chromium did not finish printing the PDF within {timeout_s:.0f} s",
                source="PDF export",
                hint="Try again; if it keeps failing, export the HTML report and print it from a browser.",
            ) from None
        if not target.is_file() or target.stat().st_size == 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise UserInputError(
                f"Chromium could not print the PDF ({detail[0]})",
                source="PDF export",
                hint="Check that the Debian package chromium is installed and works, or export the HTML report.",
            )
        return target.read_bytes()
