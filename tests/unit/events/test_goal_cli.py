"""``journeymap overlay``: journeys by case, ``--goal``, and the warning when a gap splits cases.

Expected figures come from the pandas references of ``test_case_journeys`` (outcomes per case,
cases with a pause longer than the gap) or from the overlay computed directly with the settings
the option stands for.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from journeymap.cli import main
from journeymap.events.ingest import ingest, save_log
from journeymap.events.mapping import mapping_from_json, mapping_to_json
from journeymap.events.overlay import compute_overlay
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from journeymap.templates import load_template
from tests.unit.events.test_case_journeys import LOGS, case_mapping, outcome_reference, split_reference

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / "tests" / "data" / "real"
SAMPLE = ROOT / "data" / "sample" / "retail_events.csv.gz"
SAMPLE_MAPPING = ROOT / "data" / "sample" / "retail_mapping.json"
RETAIL_MAP = ROOT / "data" / "templates" / "retail-bopis.json"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def completion_line(printed: list[str]) -> str:
    return next(line for line in printed if line.startswith("events "))


def test_guessed_xes_mapping_makes_one_journey_per_ticket_and_goal_names_the_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed, _ = run(
        ["overlay", str(REAL / "helpdesk.xes.gz"), "--goal", "Closed", "--out", str(tmp_path / "o")], capsys
    )
    assert code == 0
    outcomes = outcome_reference(LOGS["helpdesk-resource"], ("Closed",), timedelta(days=3))
    converted = sum(o == "converted" for o in outcomes.values())
    abandoned = sum(o == "abandoned" for o in outcomes.values())
    assert completion_line(printed).endswith(
        f"journeys 4,580 · completion rate {converted / (converted + abandoned):.1%}"
    )
    assert "journeys: one per case ('case:concept:name')" in printed
    assert "goal: touchpoints Closed" in printed
    assert not [line for line in printed if line.startswith("warning:")]
    journeys = pl.read_parquet(tmp_path / "o" / "journeys.parquet")
    assert journeys.height == 4_580 and int((journeys["outcome"] == "converted").sum()) == converted


def test_without_a_goal_there_is_no_completion_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, _ = run(["overlay", str(REAL / "receipt.parquet"), "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    assert completion_line(printed).endswith("journeys 1,434 · completion rate n/a — set a goal")
    assert any(line.startswith("goal: none, so no completion rate") for line in printed)


@pytest.mark.parametrize(
    ("mapping_of", "hint"),
    [
        ("customer is the case", "map the case column to keep them whole"),
        ("gap journeys", "choose journeys by case in the column mapping to keep them whole"),
    ],
)
def test_the_summary_warns_how_many_cases_the_gap_splits(
    mapping_of: str, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = LOGS["helpdesk-resource"]
    mapping = log.mapping() if mapping_of == "customer is the case" else case_mapping(log, journeys="gap")
    path = tmp_path / "mapping.json"
    path.write_text(mapping_to_json(mapping), encoding="utf-8")
    split, cases = split_reference(log, timedelta(days=30))
    code, printed, _ = run(
        ["overlay", str(REAL / log.file), "--mapping", str(path), "--gap", "30d", "--out", str(tmp_path / "o")],
        capsys,
    )
    assert code == 0
    assert f"warning: the 30-day gap splits {split / cases:.0%} of the 4,580 cases; {hint}" in printed
    assert "journeys: each customer's events cut by a 30-day gap and at the goal" in printed
    summary = (tmp_path / "o" / "summary.txt").read_text(encoding="utf-8")
    assert "warning: the 30-day gap splits 58% of the 4,580 cases" in summary


def _sample_overlay(conversion_values: list[str], goals: tuple[str, ...]) -> float | None:
    mapping = mapping_from_json(SAMPLE_MAPPING.read_text(encoding="utf-8"))
    mapping = mapping.model_copy(update={"conversion_values": conversion_values})
    retail = load_template("retail-bopis")
    log = ingest(read_events(SAMPLE), mapping, retail, source=SAMPLE.name)[0]
    return compute_overlay(log, retail, OverlaySettings(goal_touchpoints=goals)).kpis.completion_rate


@pytest.mark.parametrize(
    ("goal_args", "goal_line", "conversion_values", "goals"),
    [
        (
            [],
            "goal: touchpoints order-picked-up, parcel-delivered, refund-issued, review-posted; "
            "outcome values goal_reached (column 'outcome')",
            ["goal_reached"],
            ("order-picked-up", "parcel-delivered", "refund-issued", "review-posted"),
        ),
        (["--goal", "goal_reached"], "goal: outcome values goal_reached (column 'outcome')", ["goal_reached"], ()),
        (
            ["--goal", "Order picked up", "--goal", "EVT_STORE_RETURN"],
            "goal: touchpoints order-picked-up, store-return",
            [],
            ("order-picked-up", "store-return"),
        ),
    ],
    ids=["default: the map's final touchpoints and the mapping's values", "an outcome value", "touchpoints"],
)
def test_goal_option_on_the_sample(
    goal_args: list[str],
    goal_line: str,
    conversion_values: list[str],
    goals: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["overlay", str(SAMPLE), "--map", str(RETAIL_MAP), "--mapping", str(SAMPLE_MAPPING)]
    code, printed, _ = run([*args, *goal_args, "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    assert goal_line in printed
    expected = _sample_overlay(conversion_values, goals)
    assert expected is not None
    assert completion_line(printed).endswith(f"completion rate {expected:.1%}")


def test_an_unknown_goal_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["overlay", str(SAMPLE), "--map", str(RETAIL_MAP), "--mapping", str(SAMPLE_MAPPING)]
    code, _, err = run([*args, "--goal", "goal_reached", "--goal", "tea", "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert err.startswith("journeymap: error: --goal: 'tea' is neither a touchpoint nor an outcome value.")
    assert "a value of the outcome column 'outcome'" in err
    assert not (tmp_path / "o").exists()


def test_a_cached_log_takes_touchpoint_goals_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = mapping_from_json(SAMPLE_MAPPING.read_text(encoding="utf-8"))
    retail = load_template("retail-bopis")
    cached = tmp_path / "log.parquet"
    save_log(ingest(read_events(SAMPLE), mapping, retail, source=SAMPLE.name)[0], cached)
    code, _, err = run(["overlay", str(cached), "--goal", "goal_reached", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "outcome values need the raw export" in err
    code, printed, _ = run(
        ["overlay", str(cached), "--map", str(RETAIL_MAP), "--goal", "order-picked-up", "--out", str(tmp_path / "o")],
        capsys,
    )
    assert code == 0
    assert "goal: touchpoints order-picked-up; the converted events of the cached log" in printed
