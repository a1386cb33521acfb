"""Every observed figure of the what-if, against a plain pandas reference, on the sample and on the real logs.

The reference starts where the what-if starts: the overlay's journeys (the cut log, tested against its own
references) and the signs of lost context of every move (:func:`transition_instances`, tested in the silo
tests). From there it is written independently with pandas: a move is a row and the next row of the same
journey; it crosses when the two rows' channels differ or both name a team and the teams differ; in a log of
coarse times a move between two rows of the same time is left out. Context is lost when the move shows a
repeated step, a re-identification or a bounce-back. The outcomes, the strata (source touchpoint, segment,
distinct channels so far capped at 3, identified so far) and the stratified comparison follow the module
docstring of :mod:`journeymap.analysis.whatif`.

The logs: the bundled retail sample with its map (a goal: the map's final touchpoints), and every real log
in ``tests/data/real`` as ``test_real_logs`` reads it (the case as the customer, no map, no goal), cut by a
30-day gap. For each, the three busiest touchpoint pairs, channel pairs and team pairs among the crossings
are estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeymap.analysis.silo import transition_instances
from journeymap.analysis.whatif import Fix, FixEstimate, estimate_fix, rank_handoffs, rerun_journey_graph
from journeymap.events.goals import final_touchpoints
from journeymap.events.ingest import ingest
from journeymap.events.mapping import mapping_from_json
from journeymap.events.overlay import PreparedOverlay, prepare_overlay
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap, map_from_json
from tests.unit.events.test_real_logs import LOGS, REAL, WHOLE_CASES

ROOT = Path(__file__).resolve().parents[3]
MONTH_GAP = replace(WHOLE_CASES, gap=timedelta(days=30))
"""Cases cut by a 30-day gap, so that most journeys are over (with the 100-year gap none would be)."""


@dataclass(frozen=True)
class Case:
    prepared: PreparedOverlay
    journey_map: JourneyMap | None
    settings: OverlaySettings


_cases: dict[str, Case] = {}


def _case(name: str) -> Case:
    if name not in _cases:
        if name == "retail-sample":
            journey_map = map_from_json((ROOT / "data/templates/retail-bopis.json").read_bytes())
            mapping = mapping_from_json((ROOT / "data/sample/retail_mapping.json").read_bytes())
            path = ROOT / "data/sample/retail_events.csv.gz"
            log, _, _ = ingest(read_events(path), mapping, journey_map, source=path.name)
            settings = OverlaySettings(goal_touchpoints=final_touchpoints(journey_map))
            _cases[name] = Case(prepare_overlay(log, journey_map, settings), journey_map, settings)
        else:
            real = LOGS[name]
            log, _, _ = ingest(read_events(REAL / real.file), real.mapping(), source=real.file)
            _cases[name] = Case(prepare_overlay(log, None, MONTH_GAP), None, MONTH_GAP)
    return _cases[name]


def reference_crossings(case: Case) -> pd.DataFrame:
    """One row per crossing whose order is known, with everything the what-if measures on it."""
    prepared = case.prepared
    log = prepared.log
    columns = ["customer", "journey", "ts", "touchpoint", "channel", "owner", "identified"]
    segment = "attr_segment" in log.events.columns
    ev = log.events.select(columns + (["attr_segment"] if segment else [])).to_pandas()
    ev["row"] = np.arange(len(ev))
    ev["identified"] = ev["identified"].fillna(False).astype(bool)
    # Distinct channels so far, and identified so far, in each journey.
    ev["channels_so_far"] = (~ev.duplicated(["journey", "channel"])).groupby(ev["journey"]).cumsum()
    ev["identified_so_far"] = ev.groupby("journey")["identified"].cummax()
    last_row = ev.groupby("journey")["row"].max()
    nxt = ev.shift(-1)
    is_move = (ev["journey"] == nxt["journey"]).to_numpy()
    src, tgt = ev[is_move].reset_index(drop=True), nxt[is_move].reset_index(drop=True)
    signs = transition_instances(log, prepared.journeys, case.journey_map, case.settings).to_pandas()
    assert len(signs) == len(src)
    channel_switch = src["channel"] != tgt["channel"]
    team_handoff = src["owner"].notna() & tgt["owner"].notna() & (src["owner"] != tgt["owner"])
    known = ~(src["ts"] == tgt["ts"]) if log.time_resolution is not None else pd.Series(True, index=src.index)
    outcome = prepared.journeys.to_pandas().set_index("journey")["outcome"]
    end = src["journey"].map(last_row)
    frame = pd.DataFrame(
        {
            "journey": src["journey"],
            "customer": src["customer"],
            "source": src["touchpoint"].map(lambda c: log.touchpoints[int(c)]),
            "target": tgt["touchpoint"].map(lambda c: log.touchpoints[int(c)]),
            "source_channel": src["channel"].map(lambda c: log.channels[int(c)]),
            "target_channel": tgt["channel"].map(lambda c: log.channels[int(c)]),
            "source_team": src["owner"].map(lambda c: None if pd.isna(c) else log.owners[int(c)]),
            "target_team": tgt["owner"].map(lambda c: None if pd.isna(c) else log.owners[int(c)]),
            "channel_switch": channel_switch,
            "team_handoff": team_handoff,
            "lost": signs[["repeat_step", "reidentify", "bounce_back"]].fillna(False).any(axis=1),
            "repeat_contact": signs["repeat_contact"].fillna(False).astype(float),
            "outcome": src["journey"].map(outcome),
            "effort": (end - src["row"]).astype(float),
            "went_on": end > src["row"] + 1,
            "hours": (ev["ts"].to_numpy()[end.to_numpy()] - tgt["ts"].to_numpy()) / np.timedelta64(1, "h"),
            "stratum": list(
                zip(
                    src["touchpoint"],
                    src["attr_segment"].astype(str) if segment else [""] * len(src),
                    src["channels_so_far"].clip(upper=3),
                    src["identified_so_far"],
                    strict=True,
                )
            ),
        }
    )
    return frame[(channel_switch | team_handoff) & known].reset_index(drop=True)


def reference_outcome(rows: pd.DataFrame, value: pd.Series, measured: pd.Series) -> dict[str, float | int | None]:
    """The observed mean, and kept vs lost within strata over the crossings that went on."""
    compared = rows[measured & rows["went_on"]].assign(value=value[measured & rows["went_on"]])
    sums = compared.groupby(["stratum", "lost"])["value"].sum().unstack("lost").reindex(columns=[False, True])
    counts = compared.groupby(["stratum", "lost"])["value"].size().unstack("lost").reindex(columns=[False, True])
    kept_n, lost_n = counts[False].fillna(0), counts[True].fillna(0)
    kept_sum, lost_sum = sums[False].fillna(0), sums[True].fillna(0)
    matched = (kept_n > 0) & (lost_n > 0)
    n_lost = int(lost_n[matched].sum())
    out: dict[str, float | int | None] = {
        "measured": int(measured.sum()),
        "observed": float(value[measured].mean()) if measured.any() else None,
        "lost_crossings": n_lost,
        "kept_crossings": int(kept_n[matched].sum()),
        "unmatched": int(lost_n[~matched].sum()),
        "lost_mean": None,
        "kept_mean": None,
    }
    if n_lost:
        out["lost_mean"] = float(lost_sum[matched].sum()) / n_lost
        out["kept_mean"] = float((lost_n * kept_sum / kept_n)[matched].sum()) / n_lost
    return out


def flat(figures: dict[str, object]) -> dict[str, object]:
    """``{"outcomes": {"completion": {"observed": x}}}`` as ``{"completion observed": x}`` (approx compares flat)."""
    outcomes = figures.pop("outcomes")
    assert isinstance(outcomes, dict)
    return figures | {f"{o} {name}": v for o, values in outcomes.items() for name, v in values.items()}


def reference_estimate(rows: pd.DataFrame, has_goal: bool) -> dict[str, object]:
    finished, converted = rows["outcome"] != "ongoing", rows["outcome"] == "converted"
    outcomes: dict[str, dict[str, float | int | None]] = {}
    if has_goal:
        outcomes["completion"] = reference_outcome(rows, converted.astype(float), finished)
    outcomes["repeat_contact"] = reference_outcome(rows, rows["repeat_contact"], pd.Series(True, index=rows.index))
    outcomes["effort"] = reference_outcome(rows, rows["effort"], converted if has_goal else finished)
    if has_goal:
        outcomes["time_to_goal"] = reference_outcome(rows, rows["hours"], converted)
    return {
        "crossings": len(rows),
        "lost": int(rows["lost"].sum()),
        "kept": int((~rows["lost"]).sum()),
        "ended_at_once": int((~rows["went_on"]).sum()),
        "customers_affected": int(rows.loc[rows["lost"], "customer"].nunique()),
        "outcomes": outcomes,
    }


def engine_estimate(estimate: FixEstimate) -> dict[str, object]:
    names = ("measured", "observed", "lost_crossings", "kept_crossings", "unmatched", "lost_mean", "kept_mean")
    return {
        "crossings": estimate.crossings,
        "lost": estimate.lost,
        "kept": estimate.kept,
        "ended_at_once": estimate.ended_at_once,
        "customers_affected": estimate.customers_affected,
        "outcomes": {o.outcome: {name: getattr(o, name) for name in names} for o in estimate.outcomes},
    }


def busiest(crossings: pd.DataFrame) -> list[tuple[Fix, pd.DataFrame]]:
    """The three busiest touchpoint, channel and team pairs, each with its crossings."""
    found = []
    for kind, a, b, only in (
        ("transition", "source", "target", None),
        ("channel", "source_channel", "target_channel", "channel_switch"),
        ("team", "source_team", "target_team", "team_handoff"),
    ):
        rows = crossings if only is None else crossings[crossings[only]]
        counts = (
            rows.groupby([a, b]).size().reset_index(name="n").sort_values(["n", a, b], ascending=[False, True, True])
        )
        for source, target in counts[[a, b]].head(3).itertuples(index=False):
            found.append((Fix(kind, source, target), rows[(rows[a] == source) & (rows[b] == target)]))  # type: ignore[arg-type]
    return found


CASES = ["retail-sample", *LOGS]


@pytest.mark.parametrize("name", CASES)
def test_every_observed_figure_equals_the_pandas_reference(name: str) -> None:
    case = _case(name)
    crossings = reference_crossings(case)
    fixes = busiest(crossings)
    assert fixes, "every log has crossings"
    for fix, rows in fixes:
        expected = flat(reference_estimate(rows, case.prepared.has_goal))
        got = flat(engine_estimate(estimate_fix(case.prepared, fix, draws=2, min_crossings=1)))
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), fix


def test_the_reference_is_not_trivially_empty() -> None:
    """The sample has lost and kept crossings in several strata, segments included; the real logs too."""
    sample = reference_crossings(_case("retail-sample"))
    assert (len(sample), int(sample["lost"].sum())) == (18_936, 5_274)
    assert sample["stratum"].map(lambda s: s[1]).nunique() == 3
    assert sample["went_on"].mean() < 1
    helpdesk = reference_crossings(_case("helpdesk-resource"))
    assert int(helpdesk["team_handoff"].sum()) > 5_000
    assert 0 < int(helpdesk["lost"].sum()) < len(helpdesk)
    assert 0 < int(helpdesk["went_on"].sum()) < len(helpdesk)
    complaints = reference_crossings(_case("complaints"))
    # Dates only: the switches between two contacts of the same day are left out (10 switches in all).
    assert len(complaints) < 10


@pytest.mark.parametrize("name", CASES)
def test_the_graph_re_run_as_is_predicts_what_was_observed(name: str) -> None:
    """With no fix the chain reproduces the observed figures (tolerance 1e-9), which equal the reference."""
    case = _case(name)
    prepared = case.prepared
    crossings = reference_crossings(case)
    journeys = prepared.journeys.to_pandas()
    finished = journeys[journeys["outcome"] != "ongoing"]
    events = prepared.log.events.select("journey", "channel", "owner").to_pandas()
    nxt = events.shift(-1)
    move = events["journey"] == nxt["journey"]
    crossing = move & (
        (events["channel"] != nxt["channel"])
        | (events["owner"].notna() & nxt["owner"].notna() & (events["owner"] != nxt["owner"]))
    )
    in_finished = events["journey"].isin(finished["journey"])
    lost = crossings[crossings["lost"] & crossings["went_on"] & (crossings["outcome"] != "ongoing")]
    n = len(finished)
    expected = {
        "events": float(in_finished.sum()) / n,
        "handoffs": float((crossing & in_finished).sum()) / n,
        "lost_handoffs": len(lost) / n,
    }
    if prepared.has_goal:
        expected["completion"] = float((finished["outcome"] == "converted").mean())
        expected["drop_off"] = float((finished["outcome"] == "abandoned").mean())
    rerun = rerun_journey_graph(prepared, [], draws=10)
    assert rerun.journeys == n
    assert {k.name: k.observed for k in rerun.kpis} == pytest.approx(expected, rel=1e-12)
    assert {k.name: k.predicted for k in rerun.kpis} == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_with_no_journey_over_there_is_no_graph_to_fit() -> None:
    """The 100-year gap leaves every case ongoing: the re-run says so and gives no KPI; the ranking no graph gain."""
    real = LOGS["helpdesk-resource"]
    log, _, _ = ingest(read_events(REAL / real.file), real.mapping(), source=real.file)
    prepared = prepare_overlay(log, None, WHOLE_CASES)
    assert set(prepared.journeys["outcome"]) == {"ongoing"}
    rerun = rerun_journey_graph(prepared, [Fix("transition", "Take in charge ticket", "Resolve ticket")])
    assert (rerun.kpis, rerun.journeys) == ((), 0)
    assert rerun.assumptions[0].startswith("No journey is over")
    ranking = rank_handoffs(prepared, None)
    assert ranking.height > 0
    assert ranking["graph_gain"].null_count() == ranking.height
