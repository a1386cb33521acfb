"""``journeymap what-if`` on the bundled retail sample: what it prints is what the library computes."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeymap.analysis.whatif import Fix, format_change, format_value, shift_evidence, what_if
from journeymap.cli import main
from journeymap.events.goals import final_touchpoints
from journeymap.events.ingest import ingest
from journeymap.events.mapping import mapping_from_json
from journeymap.events.overlay import compute_overlay
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from journeymap.model import map_from_json

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "data/sample/retail_events.csv.gz"
MAP = ROOT / "data/templates/retail-bopis.json"
MAPPING = ROOT / "data/sample/retail_mapping.json"
READ = [str(EVENTS), "--map", str(MAP), "--mapping", str(MAPPING), "--draws", "60"]
FIXES = ["product-page->store-browse", "Browse in store -> Associate checks stock"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["what-if", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def library_result() -> tuple[object, object]:
    journey_map = map_from_json(MAP.read_bytes())
    log, _, _ = ingest(read_events(EVENTS), mapping_from_json(MAPPING.read_bytes()), journey_map, source=EVENTS.name)
    overlay = compute_overlay(log, journey_map, OverlaySettings(goal_touchpoints=final_touchpoints(journey_map)))
    fixes = [Fix.parse(text, journey_map, log) for text in FIXES]
    return what_if(overlay.prepared, fixes, journey_map, draws=60), shift_evidence(overlay, fixes, journey_map)


def test_what_if_prints_the_predictions_with_intervals_assumptions_and_crossings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines, err = run(capsys, *READ, "--fix", FIXES[0], "--fix", FIXES[1])
    assert code == 0, err
    result, shift = library_result()
    rerun = result.rerun  # type: ignore[attr-defined]
    assert (
        "What if the context travelled across: Product page with store stock → Browse in store; "
        "Browse in store → Associate checks stock"
    ) in lines
    # Every KPI of the graph re-run, observed, predicted, both intervals, as the library has them.
    for kpi in rerun.kpis:
        row = next(line for line in lines if line.startswith(f"  {kpi.label} "))
        low, high = (format_value(bound, kpi.unit) for bound in kpi.interval)
        change_low, change_high = (format_change(bound, kpi.unit) for bound in kpi.change_interval)
        change = format_change(kpi.predicted - kpi.observed, kpi.unit)
        observed, predicted = format_value(kpi.observed, kpi.unit), format_value(kpi.predicted, kpi.unit)
        expected = f"{kpi.label} {observed} {predicted} {low} to {high} {change} ({change_low} to {change_high})"
        assert row.split() == expected.split()
    assert [kpi.name for kpi in rerun.kpis] == ["completion", "drop_off", "events", "handoffs", "lost_handoffs"]
    # Each fix: its crossings, every outcome with its effect and interval, and every assumption.
    for estimate in result.estimates:  # type: ignore[attr-defined]
        header = (
            f"{estimate.fix.label}: {estimate.crossings:,} crossings, {estimate.lost:,} lost the context, "
            f"{estimate.kept:,} kept it; {estimate.customers_affected:,} customers affected"
        )
        assert header in lines
        for outcome in estimate.outcomes:
            row = next(line for line in lines[lines.index(header) :] if line.startswith(f"  {outcome.label}: "))
            if outcome.enough:
                low, high = (format_change(bound, outcome.unit) for bound in outcome.interval)
                assert (
                    f"effect of keeping it {format_change(outcome.effect, outcome.unit)} (95% {low} to {high})" in row
                )
            else:
                assert "not enough evidence" in row
        for text in estimate.assumptions:
            assert f"    - {text}" in lines[lines.index(header) :]
    assert (
        f"Context carried across channels: {shift.kept_share_before:.1%} of channel switches kept it, "  # type: ignore[attr-defined]
        f"{shift.kept_share_after:.1%} with the fixes"  # type: ignore[attr-defined]
    ) in lines
    # The ranking, best predicted gain first.
    ranking = result.ranking  # type: ignore[attr-defined]
    first = ranking.row(0, named=True)
    assert any(line.startswith(f"   1. {first['label']}: ") for line in lines)


def test_the_crossings_of_a_fix_are_the_sample_s(capsys: pytest.CaptureFixture[str]) -> None:
    """The designed handoff planted in the sample (re-identify at the associate's tablet), as counted by the
    pandas reference in ``test_whatif_reference``."""
    code, lines, _ = run(capsys, *READ, "--fix", FIXES[1])
    assert code == 0
    estimate_line = next(line for line in lines if line.startswith("Browse in store → Associate checks stock: "))
    assert estimate_line == (
        "Browse in store → Associate checks stock: 1,426 crossings, 692 lost the context, 734 kept it; "
        "509 customers affected"
    )


def test_without_a_fix_the_handoffs_are_ranked(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, *READ)
    assert code == 0
    assert not any(line.startswith("What if the context travelled across") for line in lines)
    assert any(line.startswith("Handoffs ranked by predicted gain") for line in lines)
    assert lines[-1] == 'choose handoffs with --fix "FROM->TO" (repeatable) to see what fixing them would change'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--fix", "product-page->nowhere"],
            "journeymap: error: handoff 'product-page->nowhere': 'nowhere' is not a touchpoint, channel or team of the "
            "map or the events.",
        ),
        (["--fix", "product-page"], "journeymap: error: handoff 'product-page': is not a handoff."),
        (["--draws", "0"], "journeymap: error: --draws: is 0. Take at least one draw (200 is usual)."),
    ],
)
def test_a_bad_handoff_ends_with_a_message_not_a_traceback(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = run(capsys, *READ, *extra)
    assert code == 2
    assert err.startswith(message)
    assert "Traceback" not in err
    assert not any(line.startswith("What if") for line in lines)
