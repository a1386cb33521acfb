"""The ``journeymap`` command: headless overlays and column-mapping guesses.

Examples (shell)::

    journeymap overlay events.csv --map map.json --mapping mapping.json --out overlay/ --gap 3d
    journeymap overlay tickets.xes.gz --map map.json --goal closed --goal "Problem solved"
    journeymap mapping guess events.csv > mapping.json

Problems in the user's files end with a one-line message on stderr and exit code 2,
never a traceback. Heavy modules are imported inside the commands so that ``--help``
stays instant.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from journeymap.errors import UserInputError

if TYPE_CHECKING:
    import polars as pl

    from journeymap.analysis.whatif import EvidenceShift, WhatIf
    from journeymap.events.goals import Goals
    from journeymap.events.log import EventLog
    from journeymap.events.mapping import ColumnMapping, MappingGuess
    from journeymap.events.overlay import Overlay
    from journeymap.model import JourneyMap

__all__ = ["main", "parse_duration"]

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PROGRESS_MIN_BYTES = 5 * 1024 * 1024


def parse_duration(text: str) -> timedelta:
    """``"3d"``, ``"12h"``, ``"1d12h"``, ``"30m"``, ``"90s"``, ``"2w"`` as a timedelta.

    Examples
    --------
    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: --gap: 'soon' is not a duration. Write it like 3d, 12h, 1d12h, 30m or 90s.
    """
    parts = re.fullmatch(r"\s*((?:\d+(?:\.\d+)?\s*[wdhms]\s*)+)", text.lower())
    if not parts:
        raise UserInputError(
            f"{text!r} is not a duration", source="--gap", hint="Write it like 3d, 12h, 1d12h, 30m or 90s."
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([wdhms])", text.lower()))
    return timedelta(seconds=seconds)


def _progress_printer(path: Path) -> Callable[[float], None] | None:
    try:
        if path.stat().st_size < _PROGRESS_MIN_BYTES:
            return None
    except OSError:
        return None
    shown = [-1]

    def show(share: float) -> None:
        percent = int(share * 100)
        if percent // 5 != shown[0] // 5 or percent == 100:
            shown[0] = percent
            bar = "#" * (percent // 5)
            end = "\n" if percent >= 100 else ""
            print(f"\rreading {path.name} [{bar:<20}] {percent:3d}%", end=end, file=sys.stderr, flush=True)

    return show


def _read_map(path: str | None) -> JourneyMap | None:
    if path is None:
        return None
    from journeymap.model import map_from_json

    p = Path(path)
    if not p.is_file():
        raise UserInputError("file not found", source=str(p), hint="Check the --map path.")
    return map_from_json(p.read_bytes(), source=p.name)


def _distinct(raw: pl.DataFrame, column: str | None) -> list[str]:
    """The distinct trimmed values of a raw column (none without the column)."""
    import polars as pl

    if column is None or column not in raw.columns:
        return []
    values = raw.get_column(column).unique().cast(pl.String).str.strip_chars().drop_nulls()
    return [str(v) for v in values.to_list()]


def _load_events(
    args: argparse.Namespace, journey_map: JourneyMap | None
) -> tuple[EventLog, str, ColumnMapping | None, Goals | None]:
    """The event log: a cached log as is, else read + map + ingest.

    Returns it, a report text, the column mapping (``None`` for a cached log) and the goals named
    with ``--goal`` (``None`` without): their outcome values replace the mapping's conversion values.
    """
    import polars as pl

    from journeymap.events.goals import resolve_goals
    from journeymap.events.ingest import ingest, load_log, read_mapped
    from journeymap.events.mapping import FIELD_WORDS, mapping_from_json
    from journeymap.events.read import read_events

    path = Path(args.events)
    if path.suffix.lower() in (".parquet", ".pq") and path.is_file():
        try:
            is_cached = "journeymap.event_log" in pl.read_parquet_metadata(path)
        except Exception:  # a damaged file is reported by read_events below
            is_cached = False
        if is_cached:
            log = load_log(path)
            goals = None
            if args.goal:
                goals = resolve_goals(args.goal, journey_map=journey_map, touchpoint_labels=log.touchpoints)
                _refuse_unknown_goals(goals, log, journey_map, "outcome values need the raw export")
            return log, f"{path.name}: cached event log, {log.events.height:,} events.", None, goals
    if args.mapping:
        mapping_path = Path(args.mapping)
        if not mapping_path.is_file():
            raise UserInputError("file not found", source=str(mapping_path), hint="Check the --mapping path.")
        mapping = mapping_from_json(mapping_path.read_bytes(), source=mapping_path.name)
        note = ""
        # Only the mapped columns; labels as dictionary codes, identifiers as text that ingest hashes.
        raw = read_mapped(
            path,
            mapping,
            progress=_progress_printer(path),
            encoding=args.encoding,
            delimiter=args.delimiter,
            fmt=args.fmt,
            identifiers_as_text=True,
        )
    else:
        raw = read_events(
            path, encoding=args.encoding, delimiter=args.delimiter, progress=_progress_printer(path), fmt=args.fmt
        )
        guess = _guess(raw, path, args, journey_map)
        mapping = guess.to_mapping()
        chosen = ", ".join(
            f"{FIELD_WORDS[f.field]} {f.column!r} ({f.confidence})" for f in guess.fields if f.column is not None
        )
        note = (
            f"\ncolumns guessed: {chosen}"
            "\n(no --mapping given: columns were guessed; 'journeymap mapping guess' says why and saves one)"
        )
    if getattr(args, "duplicates", None):
        mapping = mapping.model_copy(update={"duplicates": args.duplicates})
    goals = None
    if args.goal:
        goals = resolve_goals(
            args.goal,
            journey_map=journey_map,
            value_map=mapping.value_map,
            touchpoint_labels=_distinct(raw, mapping.touchpoint),
            outcome_values=_distinct(raw, mapping.outcome),
        )
        # The goal replaces the mapping's: its outcome values are the conversion values (maybe none).
        mapping = mapping.model_copy(update={"conversion_values": list(goals.outcome_values)})
    log, report, _identity = ingest(raw, mapping, journey_map, source=path.name)
    if goals is not None:
        # Labels made by templates or rules exist only once ingested.
        late = resolve_goals(goals.unknown, touchpoint_labels=log.touchpoints)
        goals = replace(goals, touchpoints=(*goals.touchpoints, *late.touchpoints), unknown=late.unknown)
        outcome = f"a value of the outcome column '{mapping.outcome}'" if mapping.outcome else "map an outcome column"
        _refuse_unknown_goals(goals, log, journey_map, outcome)
    return log, report.summary() + note, mapping, goals


def _refuse_unknown_goals(goals: Goals, log: EventLog, journey_map: JourneyMap | None, outcome: str) -> None:
    """Stop on goal names that are neither a touchpoint nor an outcome value (``outcome`` says how to name one)."""
    if not goals.unknown:
        return
    known = [tp.id for tp in journey_map.touchpoints] if journey_map is not None else list(log.touchpoints)
    raise UserInputError(
        f"{', '.join(repr(g) for g in goals.unknown)} is neither a touchpoint nor an outcome value",
        source="--goal",
        hint=f"Name a touchpoint of the map or an event label of the file ({outcome}); "
        f"touchpoints: {', '.join(known[:10]) or 'none'}.",
    )


def _write_frames(frames: dict[str, pl.DataFrame], out: Path, fmt: str, extra: dict[str, str]) -> list[Path]:
    """Write all frames into a fresh sibling directory, then move them in: no half-written output."""
    from journeymap.csv_export import write_csv

    out.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.{os.getpid()}.partial"
    staging.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for name, frame in frames.items():
            target = staging / f"{name}.{fmt}"
            if fmt == "parquet":
                frame.write_parquet(target)
            elif fmt == "csv":
                write_csv(frame, target)  # labels that a spreadsheet would run as formulas are quoted
            else:
                frame.write_json(target)
        for name, text in extra.items():
            (staging / name).write_text(text, encoding="utf-8")
        for item in sorted(staging.iterdir()):
            final = out / item.name
            os.replace(item, final)
            written.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _summary(overlay: Overlay, *, has_goal: bool = True, notes: Sequence[str] = ()) -> str:
    import polars as pl

    from journeymap.analysis.kpis import NO_GOAL

    kpis = overlay.kpis
    completion = _percent(kpis.completion_rate) if has_goal and kpis.has_goal else NO_GOAL
    lines = [
        f"events {overlay.log.events.height:,} · customers {kpis.customers:,} · journeys {kpis.journeys:,} · "
        f"completion rate {completion}",
        *notes,
    ]
    lines.extend(_switch_lines(overlay))
    friction = overlay.friction
    if friction.height and "finding" in friction.columns:
        lines.append("Top friction:")
        lines.extend(f"  {i}. {text}" for i, text in enumerate(friction.get_column("finding").head(5).to_list(), 1))
    silo = overlay.silo_handoffs
    if silo.height and "headline" in silo.columns:
        headlines = silo.filter(pl.col("headline")).get_column("finding").head(5).to_list()
        if headlines:
            lines.append("Silo handoffs that break the map's promise:")
            lines.extend(f"  - {text}" for text in headlines)
    return "\n".join(lines)


def _switch_lines(overlay: Overlay) -> list[str]:
    """Channel switches (always) and team handoffs (when the events carry a team), counted from the events."""
    journeys = overlay.journeys
    n = journeys.height
    lines = []
    kinds: list[tuple[str, str, float | None]] = [("switches", "channel switches", None)]
    if overlay.prepared.log.owners:
        kinds.append(("team_handoffs", "team handoffs", overlay.kpis.handoff_ping_pong_share))
    for column, label, ping_pong in kinds:
        total = int(journeys.get_column(column).sum()) if n else 0
        with_one = int((journeys.get_column(column) > 0).sum()) if n else 0
        parts = [
            f"{total / n if n else 0:.2f} per journey",
            f"{with_one / n if n else 0:.1%} of journeys with at least one",
        ]
        if column == "team_handoffs":
            parts.append(f"{ping_pong or 0:.1%} ping-pong")
        lines.append(f"{label}: {total:,} ({'; '.join(parts)})")
    return lines


def _journey_notes(
    overlay: Overlay, mapping: ColumnMapping | None, goals: Sequence[str], outcome_values: Sequence[str]
) -> tuple[list[str], bool]:
    """What a journey is and what its goal is, a warning when the gap splits cases; and whether there is a goal."""
    from journeymap.events.journeys import format_gap, split_cases_warning
    from journeymap.events.mapping import customer_is_case

    log, gap = overlay.prepared.log, overlay.settings.gap
    if log.case_journeys:
        case = f" ('{mapping.case}')" if mapping is not None and mapping.case else ""
        lines = [f"journeys: one per case{case}"]
    else:
        lines = [f"journeys: each customer's events cut by a {format_gap(gap)} gap and at the goal"]
    parts = []
    if goals:
        parts.append(f"touchpoints {', '.join(goals)}")
    if outcome_values:
        column = f" (column '{mapping.outcome}')" if mapping is not None and mapping.outcome else ""
        parts.append(f"outcome values {', '.join(outcome_values)}{column}")
    if mapping is None and bool(log.events.get_column("converted").any()):
        parts.append("the converted events of the cached log")  # set at ingest; --goal cannot change them
    if parts:
        lines.append(f"goal: {'; '.join(parts)}")
    else:
        lines.append("goal: none, so no completion rate (name one with --goal, or mark final touchpoints on the map)")
    warning = split_cases_warning(log, gap, customer_is_case=mapping is not None and customer_is_case(mapping))
    if warning:
        lines.append(f"warning: {warning}")
    return lines, bool(parts)


def _overlay_of(args: argparse.Namespace) -> tuple[Overlay, JourneyMap | None, str, list[str], bool]:
    """The overlay the reading options describe: it, the map, the ingest report, the journey notes, whether a goal."""
    from journeymap.events.goals import final_touchpoints
    from journeymap.events.overlay import compute_overlay
    from journeymap.events.settings import OverlaySettings

    journey_map = _read_map(args.map)
    log, report, mapping, goals = _load_events(args, journey_map)
    goal_touchpoints = goals.touchpoints if goals is not None else final_touchpoints(journey_map)
    if mapping is None or not mapping.outcome:
        outcome_values: tuple[str, ...] = ()
    else:
        outcome_values = goals.outcome_values if goals is not None else tuple(mapping.conversion_values)
    settings = OverlaySettings(goal_touchpoints=goal_touchpoints)
    if args.gap:
        settings = replace(settings, gap=parse_duration(args.gap))
    overlay = compute_overlay(log, journey_map, settings)
    notes, has_goal = _journey_notes(overlay, mapping, goal_touchpoints, outcome_values)
    return overlay, journey_map, report, notes, has_goal


def _cmd_overlay(args: argparse.Namespace) -> int:
    overlay, _map, report, notes, has_goal = _overlay_of(args)
    summary = _summary(overlay, has_goal=has_goal, notes=notes)
    out = Path(args.out)
    written = _write_frames(
        overlay.frames(), out, args.format, {"summary.txt": summary + "\n", "validation.txt": report + "\n"}
    )
    print(report)
    print(summary)
    print(f"wrote {len(written)} files to {out}/")
    return 0


def _cmd_what_if(args: argparse.Namespace) -> int:
    from journeymap.analysis.whatif import Fix, shift_evidence, what_if

    if args.draws < 1:
        raise UserInputError(f"is {args.draws}", source="--draws", hint="Take at least one draw (200 is usual).")
    overlay, journey_map, report, notes, _has_goal = _overlay_of(args)
    fixes = [Fix.parse(text, journey_map, overlay.prepared.log) for text in args.fix or ()]
    result = what_if(overlay.prepared, fixes, journey_map, keep=overlay.keep, draws=args.draws, seed=args.seed)
    print(report)
    print("\n".join(notes))
    if fixes:
        print("\n".join(_what_if_lines(result)))
        shift = shift_evidence(overlay, fixes, journey_map)
        print("\n".join(_evidence_lines(shift)))
    print("\n".join(_ranking_lines(result, args.top)))
    if not fixes:
        print('choose handoffs with --fix "FROM->TO" (repeatable) to see what fixing them would change')
    return 0


def _what_if_lines(result: WhatIf) -> list[str]:
    """The graph re-run's KPIs, then each fix's estimate, each with its assumptions and crossings."""
    from journeymap.analysis.whatif import MIN_CROSSINGS, format_change, format_value

    rerun = result.rerun
    lines = [
        "",
        f"What if the context travelled across: {'; '.join(fix.label for fix in rerun.fixes)}",
        f"Journey KPIs: the journey graph re-run over {rerun.journeys:,} journeys that are over, "
        f"{rerun.fixed_crossings:,} lost crossings fixed",
        f"  {'KPI':<38}{'observed':>10}{'predicted':>11}  {'95% interval':<18}change (95% interval)",
    ]
    for kpi in rerun.kpis:
        low, high = (format_value(bound, kpi.unit) for bound in kpi.interval)
        change = format_change(kpi.predicted - kpi.observed, kpi.unit)
        change_low, change_high = (format_change(bound, kpi.unit) for bound in kpi.change_interval)
        lines.append(
            f"  {kpi.label:<38}{format_value(kpi.observed, kpi.unit):>10}{format_value(kpi.predicted, kpi.unit):>11}"
            f"  {f'{low} to {high}':<18}{change} ({change_low} to {change_high})"
        )
    lines.append("  assumptions:")
    lines.extend(f"    - {text}" for text in rerun.assumptions)
    for estimate in result.estimates:
        lines += [
            "",
            f"{estimate.fix.label}: {estimate.crossings:,} crossings, {estimate.lost:,} lost the context, "
            f"{estimate.kept:,} kept it; {estimate.customers_affected:,} customers affected",
        ]
        for outcome in estimate.outcomes:
            compared = f"{outcome.kept_crossings:,} kept and {outcome.lost_crossings:,} lost crossings compared"
            if not outcome.enough or outcome.effect is None or outcome.interval is None:
                lines.append(f"  {outcome.label}: not enough evidence ({compared}; {MIN_CROSSINGS} of each needed)")
                continue
            low, high = (format_change(bound, outcome.unit) for bound in outcome.interval)
            lines.append(
                f"  {outcome.label}: kept {format_value(outcome.kept_mean, outcome.unit)}, "
                f"lost {format_value(outcome.lost_mean, outcome.unit)}; effect of keeping it "
                f"{format_change(outcome.effect, outcome.unit)} (95% {low} to {high}); "
                f"{format_value(outcome.observed, outcome.unit)} observed, "
                f"{format_value(outcome.predicted, outcome.unit)} predicted ({compared})"
            )
        lines.append("  assumptions:")
        lines.extend(f"    - {text}" for text in estimate.assumptions)
    return lines


def _evidence_lines(shift: EvidenceShift) -> list[str]:
    """The maturity evidence the fixes would move."""
    if shift.kept_share_before is None or shift.kept_share_after is None:
        return ["", "Context carried across channels: not measured (no channel switch in these events)"]
    lines = [
        "",
        f"Context carried across channels: {shift.kept_share_before:.1%} of channel switches kept it, "
        f"{shift.kept_share_after:.1%} with the fixes",
    ]
    lines.extend(f"  {change.message}" for change in shift.changes)
    lines.extend(f"  ({text})" for text in shift.assumptions)
    return lines


def _ranking_lines(result: WhatIf, top: int) -> list[str]:
    """The candidate handoffs, best predicted gain first."""
    from journeymap.analysis.whatif import MIN_CROSSINGS, format_change

    ranking = result.ranking
    kpi, unit = ("completion", "share") if result.has_goal else ("effort", "events")
    gain_word = "customers completing" if result.has_goal else "events saved"
    graph_word = "completed journeys" if result.has_goal else "events saved"
    lines = [
        "",
        f"Handoffs ranked by predicted gain = customers affected × effect on {kpi} "
        f"({ranking.height:,} with enough crossings; the journey graph re-run's gain beside it):",
    ]
    for rank, row in enumerate(ranking.head(top).iter_rows(named=True), 1):
        if row["gain"] is None:
            estimate = f"{row['customers_affected']:,} customers affected, not enough evidence for an effect"
        else:
            estimate = (
                f"{row['customers_affected']:,} customers × {format_change(row['effect'], unit)} = "
                f"{row['gain'] + 0.0:+,.1f} {gain_word}"
            )
        graph = "" if row["graph_gain"] is None else f"; graph re-run {row['graph_gain'] + 0.0:+,.1f} {graph_word}"
        lost = f"{row['lost']:,} of {row['crossings']:,} crossings lost the context"
        lines.append(f"  {rank:>2}. {row['label']}: {lost}; {estimate}{graph}")
    if ranking.height == 0:
        lines.append(
            f"  none: no handoff has {MIN_CROSSINGS} crossings that lost the context and {MIN_CROSSINGS} that kept it"
        )
    return lines


def _guess(raw: pl.DataFrame, path: Path, args: argparse.Namespace, journey_map: JourneyMap | None) -> MappingGuess:
    """The column guess for a file read whole, honouring an XES file's declared event classifiers."""
    from journeymap.events.mapping import guess_columns
    from journeymap.events.read import detect_format, xes_classifiers

    is_xes = (args.fmt or detect_format(path)) == "xes"
    classifiers = [c.keys for c in xes_classifiers(path)] if is_xes else []
    return guess_columns(raw, journey_map, source=path.name, classifiers=classifiers)


def _cmd_mapping_guess(args: argparse.Namespace) -> int:
    from journeymap.events.mapping import mapping_to_json
    from journeymap.events.read import read_events

    journey_map = _read_map(args.map)
    path = Path(args.events)
    raw = read_events(
        path, encoding=args.encoding, delimiter=args.delimiter, fmt=args.fmt, progress=_progress_printer(path)
    )
    guess = _guess(raw, path, args, journey_map)
    # The reasons go to stderr so that stdout stays the JSON to save.
    print("\n".join(guess.explain()), file=sys.stderr)
    print(mapping_to_json(guess.to_mapping()))
    return 0


def _add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", help="event export: CSV, Parquet, XES (.xes/.xes.gz) or JSON lines")
    parser.add_argument(
        "--format-in",
        dest="fmt",
        choices=["csv", "parquet", "xes", "jsonl"],
        default=None,
        help="input format (default: from the file name)",
    )
    parser.add_argument("--encoding", default=None, help="CSV text encoding (default: detected)")
    parser.add_argument("--delimiter", default=None, help="CSV delimiter (default: sniffed)")


def _add_overlay_options(overlay: argparse.ArgumentParser) -> None:
    """What reads an export into an overlay: the file options, the map, the mapping, journeys and goals."""
    _add_read_options(overlay)
    overlay.add_argument("--map", default=None, help="journey map JSON (exported from Journeymap)")
    overlay.add_argument("--mapping", default=None, help="column mapping JSON (default: guessed)")
    overlay.add_argument(
        "--gap",
        default=None,
        help="inactivity gap that cuts journeys when no case column is mapped, e.g. 3d, 12h (default 3d); "
        "journeys whose last event is within one gap of the log's end are ongoing",
    )
    overlay.add_argument(
        "--goal",
        action="append",
        default=None,
        metavar="GOAL",
        help="what success is (repeatable): a touchpoint id or name of the map, an event label of the file, or a "
        "value of the mapped outcome column. Default: the map's final touchpoints and the mapping's "
        "conversion values",
    )
    overlay.add_argument(
        "--duplicates",
        choices=["drop-exact", "drop-mapped", "keep"],
        default=None,
        help="repeated rows: drop-exact leaves out rows equal to an earlier one in every column of the file; "
        "drop-mapped also rows equal in every mapped column only; keep keeps all "
        "(default: the mapping's choice, else drop-exact)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeymap", description="Journey maps, event overlays and silo handoffs.")
    commands = parser.add_subparsers(dest="command", required=True)
    overlay = commands.add_parser("overlay", help="overlay an event export on a journey map and write every table")
    _add_overlay_options(overlay)
    overlay.add_argument("--out", default="overlay", help="output directory (default: ./overlay)")
    overlay.add_argument("--format", choices=["parquet", "csv", "json"], default="parquet", help="output file format")
    overlay.set_defaults(run=_cmd_overlay)
    what_if = commands.add_parser(
        "what-if", help="predict what keeping the context across handoffs would change, with 95%% intervals"
    )
    _add_overlay_options(what_if)
    what_if.add_argument(
        "--fix",
        action="append",
        default=None,
        metavar="FROM->TO",
        help="a handoff whose context is to travel (repeatable): two touchpoints (ids or names) of a transition, "
        "else two channels, else two teams. Without --fix, the handoffs are ranked",
    )
    what_if.add_argument("--draws", type=int, default=200, help="draws behind each interval (default 200)")
    what_if.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    what_if.add_argument("--top", type=int, default=10, help="ranked handoffs to print (default 10)")
    what_if.set_defaults(run=_cmd_what_if)
    mapping = commands.add_parser("mapping", help="column mappings")
    mapping_commands = mapping.add_subparsers(dest="mapping_command", required=True)
    guess = mapping_commands.add_parser("guess", help="print a guessed column mapping as JSON")
    _add_read_options(guess)
    guess.add_argument("--map", default=None, help="journey map JSON, to map labels to its touchpoints")
    guess.set_defaults(run=_cmd_mapping_guess)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for problems in the user's input)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except UserInputError as exc:
        print(f"journeymap: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
