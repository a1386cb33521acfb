"""The what-if predictions in the HTML report: on the bundled demo events, when handoffs were chosen.

Two handoffs are fixed: "Browse in store → Associate checks stock" (enough crossings of each kind) and the
channel switch "Store → Loyalty app", for which the estimate has not enough evidence. The figures written
out below are those ``journeymap what-if`` prints for the same events, map and fixes.
"""

from __future__ import annotations

import html
import re

import pytest

from journeymap.analysis.whatif import Fix, GraphRerun, WhatIf, what_if
from journeymap.events.goals import default_settings
from journeymap.events.ingest import ingest
from journeymap.events.mapping import mapping_from_json
from journeymap.events.overlay import compute_overlay
from journeymap.events.read import detect_format, read_events
from journeymap.model import JourneyMap
from journeymap.report import build_report, render_html
from journeymap.services.data import DEMO_EVENTS, DEMO_MAPPING, DEMO_TEMPLATE
from journeymap.templates import load_template


@pytest.fixture(scope="module")
def demo() -> tuple[JourneyMap, object, WhatIf]:
    journey_map = load_template(DEMO_TEMPLATE)
    mapping = mapping_from_json(DEMO_MAPPING.read_text(encoding="utf-8"), source="demo mapping")
    log, _, _ = ingest(
        read_events(DEMO_EVENTS, fmt=detect_format(DEMO_EVENTS.name)), mapping, journey_map, source=DEMO_EVENTS.name
    )
    overlay = compute_overlay(log, journey_map, default_settings(journey_map))
    fixes = [Fix.parse(text, journey_map, log) for text in ("Browse in store->Associate checks stock", "store->app")]
    return journey_map, overlay, what_if(overlay.prepared, fixes, journey_map, keep=overlay.keep)


def _rows(page: str, section: str) -> list[list[str]]:
    """The body rows of one section's table, as the cells' text."""
    found = re.search(rf'<section id="{section}">(.*?)</section>', page, re.S)
    assert found is not None, f"no section {section}"
    return [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1))
        if "<td>" in row
    ]


def test_the_html_report_has_the_predictions_the_fixes_and_the_assumptions(
    demo: tuple[JourneyMap, object, WhatIf],
) -> None:
    journey_map, overlay, result = demo
    page = render_html(build_report(journey_map, revision=None, overlay=overlay, what_if=result))
    assert "What if the context travelled across: Browse in store → Associate checks stock; Store → Loyalty app " in (
        html.unescape(page)
    )
    assert _rows(page, "what_if_kpis")[0] == [
        "completion rate", "39.0%", "40.2%", "39.1% to 41.3%", "+1.2 pp (+0.7 pp to +1.7 pp)",
    ]  # fmt: skip
    assert _rows(page, "what_if_kpis")[4][:3] == ["handoffs losing context per journey", "0.71", "0.44"]
    fixes = _rows(page, "what_if_fixes")
    assert fixes[0] == [
        "Browse in store → Associate checks stock", "692 / 734", "completion", "52.0%", "46.6%",
        "+5.3 pp (-1.6 pp to +12.2 pp)", "51.3%", "53.9%", "696 kept, 684 lost",
    ]  # fmt: skip
    assert [row[5] for row in fixes[4:]] == ["not enough evidence (30 kept and 30 lost crossings needed)"] * 4
    assumptions = _rows(page, "what_if_assumptions")
    assert [row[0] for row in assumptions].count("Journey graph re-run") == len(result.rerun.assumptions) == 4
    assert assumptions[4] == [
        "Browse in store → Associate checks stock",
        "A crossing is a move of this handoff whose two events were recorded in different channels or by different "
        "teams.",
    ]
    ranking = _rows(page, "what_if_ranking")
    assert len(ranking) == 10
    assert ranking[0] == [
        "1", "Customer service phone line → Order notifications (email & SMS) (channel switch)", "389 / 1,100",
        "279", "+14.6 pp", "+40.7", "+29.7",
    ]  # fmt: skip
    assert "(email &amp; SMS)" in page  # labels from data are escaped


def test_no_what_if_section_without_chosen_fixes(demo: tuple[JourneyMap, object, WhatIf]) -> None:
    journey_map, overlay, result = demo
    nothing_fixed = WhatIf((), GraphRerun((), (), 0, 0, 0, 0, 0, 0, ()), result.ranking, True)
    for chosen in (None, nothing_fixed):
        keys = [s.key for s in build_report(journey_map, revision=None, overlay=overlay, what_if=chosen).sections]
        assert not [key for key in keys if key.startswith("what_if")]
        assert "friction" in keys
