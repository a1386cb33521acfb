"""The overlay page shows, for every vendored real log read as it comes, the switch and handoff figures of a
plain pandas reference.

Each log goes through "File on the server" with the guessed mapping, nothing renamed. The reference
(:func:`tests.unit.events.test_real_logs._reference`) is computed on the raw rows with full-row duplicates
removed (the page's default) and journeys as the page cuts them: one per case for the XES and Parquet logs
(their trace id is the case), one per customer for the complaints CSV (no case column; the journey gap is set
longer than the log).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from journeymap.events.read import read_events
from journeymap.overlay_viz import kpi_strip
from journeymap.store import create_map, init_db, session_scope
from journeymap.ui.state import OverlayKeys
from tests.app.test_overlay_page import PAGE, _by_key_prefix, _metrics, support_map
from tests.unit.events.test_real_logs import REAL, RealLog, _raw_cache, _reference, _rows

# file: (case column, time column, channel column, team column the guess picks)
LOGS = {
    "helpdesk.xes.gz": ("case:concept:name", "time:timestamp", None, "workgroup"),
    "receipt.parquet": ("case:concept:name", "time:timestamp", "case:channel", "org:group"),
    "bpic2012.xes.gz": ("case:concept:name", "time:timestamp", None, "org:resource"),
    "BPI2016_Complaints.csv": ("CustomerID", "ContactDate", "ContactChannelID", None),
}


def _deduplicated(file: str, case: str, time: str) -> RealLog:
    """The log as the page reads it by default: a row repeating an earlier one in every column is dropped."""
    key = f"{file} without full-row copies"
    if key not in _raw_cache:
        raw = read_events(REAL / file).to_pandas()
        keep = ~raw.astype(str).duplicated(keep="first")
        rows = _rows(RealLog(file, case, time, ""))
        _raw_cache[key] = rows[keep.to_numpy()[rows["_row"].to_numpy()]].reset_index(drop=True)
    return RealLog(key, case, time, "")


def _expected(log: RealLog, channel: str | None, team: str | None) -> dict[str, str]:
    kpis: dict[str, float | None] = {}
    for column, prefix in ((channel, "switch"), (team, "handoff")):
        if prefix == "handoff" and column is None:
            continue
        per_case = _reference(log, column).per_case
        total = sum(n for n, _ in per_case.values())
        back = sum(p for _, p in per_case.values())
        kpis[f"{prefix}es_per_journey" if prefix == "switch" else "handoffs_per_journey"] = total / len(per_case)
        kpis[f"{prefix}_journey_share"] = sum(n > 0 for n, _ in per_case.values()) / len(per_case)
        kpis[f"{prefix}_ping_pong_share"] = back / total if total else None
    return {item.label: item.value for item in kpi_strip(kpis) if item.group in ("switch", "handoff")}


@pytest.mark.slow
@pytest.mark.parametrize("file", list(LOGS))
def test_the_page_shows_the_reference_switches_and_handoffs(
    make_app: Callable[..., AppTest], engine: object, file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(REAL))  # "File on the server" reads under the data roots
    case, time, channel, team = LOGS[file]
    init_db(engine)  # type: ignore[arg-type]
    with session_scope(engine) as session:  # type: ignore[arg-type]
        map_id = create_map(session=session, journey_map=support_map(), author="Test").map_id
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    at.text_input(key=OverlayKeys.PATH).input(str(Path(REAL / file)))
    at.button(key=OverlayKeys.PATH_SUBMIT).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _by_key_prefix(at.button, OverlayKeys.M_APPLY).click().run()
    assert not at.exception, at.exception
    if file.endswith(".csv"):  # journeys by customer: a gap longer than the log keeps each customer's whole
        _by_key_prefix(at.number_input, OverlayKeys.F_GAP_HOURS).set_value(1_000_000.0).run()
    shown = _metrics(at)
    expected = _expected(_deduplicated(file, case, time), channel, team)
    assert {label: shown.get(label) for label in expected} == expected
    if team is None:
        assert "Team handoffs per journey" not in shown
