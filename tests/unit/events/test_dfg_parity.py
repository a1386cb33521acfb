"""Our transition counts equal pm4py's directly-follows graph (pm4py only where installed)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from journeymap.events.ingest import ingest
from journeymap.events.journeys import cut_journeys
from journeymap.events.mapping import ColumnMapping
from journeymap.events.metrics import transition_metrics
from journeymap.events.read import read_events
from journeymap.events.settings import OverlaySettings
from tests.fixtures import PM4PY_MISSING

pm4py = pytest.importorskip("pm4py", reason=PM4PY_MISSING)

HELPDESK = Path(__file__).resolve().parents[2] / "data" / "real" / "helpdesk.xes.gz"
# A gap far longer than any case: journeys are exactly the cases, as in process mining.
WHOLE_CASES = OverlaySettings(gap=timedelta(days=365 * 100))


def _ours(raw: pl.DataFrame, case: str, activity: str, timestamp: str) -> dict[tuple[str, str], int]:
    mapping = ColumnMapping(customer_ids=[case], timestamp=timestamp, touchpoint=activity, keep_duplicates=True)
    log, _, _ = ingest(raw, mapping, source="parity")
    cut, journeys = cut_journeys(log, WHOLE_CASES)
    assert journeys.height == raw[case].n_unique()
    transitions = transition_metrics(cut, journeys, None, WHOLE_CASES)
    return {(s, t): int(c) for s, t, c in transitions.select("source", "target", "count").iter_rows()}


def _theirs(frame: pl.DataFrame, case: str, activity: str, timestamp: str) -> dict[tuple[str, str], int]:
    df = frame.select(case, activity, timestamp).to_pandas()
    df = pm4py.format_dataframe(df, case_id=case, activity_key=activity, timestamp_key=timestamp)
    dfg, _start, _end = pm4py.discover_dfg(df)
    return {(str(a), str(b)): int(n) for (a, b), n in dfg.items()}


def test_helpdesk_dfg_matches_pm4py() -> None:
    raw = read_events(HELPDESK)
    ours = _ours(raw, "case:concept:name", "concept:name", "time:timestamp")
    theirs = _theirs(raw, "case:concept:name", "concept:name", "time:timestamp")
    assert ours == theirs
    assert sum(ours.values()) == 21_348 - 4_580


def test_generated_log_dfg_matches_pm4py() -> None:
    rng = np.random.default_rng(11)
    n = 5_000
    case = np.sort(rng.integers(0, 400, n))
    seconds = rng.integers(0, 30 * 86_400, n)  # distinct cases interleave in time; ties are rare
    frame = pl.DataFrame(
        {
            "case": [f"c{c}" for c in case],
            "activity": [f"a{a}" for a in rng.integers(0, 12, n)],
            "ts": pl.Series(seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        }
    )
    frame = frame.unique(subset=["case", "ts"], keep="first", maintain_order=True)  # no order ambiguity
    ours = _ours(frame, "case", "activity", "ts")
    theirs = _theirs(frame, "case", "activity", "ts")
    assert ours == theirs
    assert sum(ours.values()) == frame.height - frame["case"].n_unique()
