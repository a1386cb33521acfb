"""Review reports: the data structure, the HTML page, and the PNG and PDF files as a reader gets them.

PNG and PDF need Debian's Chromium; each export starts it once, so the files are made once per
module and every test reads them.
"""

from __future__ import annotations

import html
import io
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import polars as pl
import pytest

# The trap the exports must survive: importing Streamlit switches plotly's default template.
import streamlit  # noqa: F401
from PIL import Image

from journeymap.errors import UserInputError
from journeymap.maturity.framework import load_builtin_framework
from journeymap.model import JourneyMap, Stage
from journeymap.report import (
    AssessmentSummary,
    build_report,
    journey_figure,
    render_html,
    render_pdf,
    render_png_graph,
    render_static_html,
)
from journeymap.store import RevisionInfo
from journeymap.viz import channel_colors
from tests.fixtures import big_map, bopis_map

EVIL = "<img src=x onerror=alert(1)>"
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def evil_bopis():  # type: ignore[no-untyped-def]
    m = bopis_map()
    return m.model_copy(
        update={
            "touchpoints": tuple(
                tp.model_copy(update={"name": EVIL}) if tp.id == "order-help" else tp for tp in m.touchpoints
            )
        }
    )


def revision() -> RevisionInfo:
    return RevisionInfo(
        id=7,
        map_id=3,
        number=2,
        parent_id=6,
        author="Ana",
        message="Silo handoffs marked",
        created_at=datetime(2026, 3, 4, 9, 30, tzinfo=UTC),
        touchpoints=8,
        transitions=9,
        silo_handoffs=2,
    )


def fake_kpis(*, teams: bool = True) -> dict[str, float | None]:
    """120 journeys: 150 channel switches in 96 of them, 15 back to a channel left before; 45 team handoffs
    in 30 journeys, 9 back to a team left before."""
    return {
        "journeys": 120,
        "completion_rate": 0.625,
        "effort_steps": None,
        "switches_per_journey": 150 / 120,
        "switch_journey_share": 96 / 120,
        "switch_ping_pong_share": 15 / 150,
        "handoffs_per_journey": 45 / 120 if teams else None,
        "handoff_journey_share": 30 / 120 if teams else None,
        "handoff_ping_pong_share": 9 / 45 if teams else None,
    }


def channel_switches() -> pl.DataFrame:
    """Twelve channel pairs, quietest first: pair i has 5 + i moves, so 'kiosk → store' (16) is the busiest.

    ``kiosk`` is not a channel of the map: it is shown as recorded.
    """
    channels = ["web", "app", "store", "kiosk"]
    pairs = [(a, b) for a in channels for b in channels if a != b]
    return pl.DataFrame(
        {
            "from_channel": [a for a, _ in pairs],
            "to_channel": [b for _, b in pairs],
            "count": [5 + i for i in range(len(pairs))],
            "journeys": [4 + i for i in range(len(pairs))],
            "ping_pong": [i % 3 for i in range(len(pairs))],
            "median_wait_s": [30.0 + 3600 * i for i in range(len(pairs))],
            "context_loss_score": [round(0.05 * i, 2) for i in range(len(pairs))],
        }
    )


def team_handoffs() -> pd.DataFrame:
    """A pandas frame works too: three team pairs, the busiest last."""
    return pd.DataFrame(
        {
            "from_team": ["L1", "L2", "<b>Field</b>"],
            "to_team": ["L2", "L1", "L1"],
            "count": [12, 3, 30],
            "journeys": [10, 3, 25],
            "ping_pong": [0, 3, 1],
            "median_wait_s": [86400.0 * 2, 600.0, None],
            "context_loss_score": [0.25, 0.5, 0.1],
        }
    )


def fake_overlay(*, teams: bool = True) -> SimpleNamespace:
    values = fake_kpis(teams=teams)
    kpis = SimpleNamespace(as_dict=lambda: values)
    friction = pl.DataFrame(
        {
            "kind": ["transition", "touchpoint"],
            "id": ["ready-notice → pickup-desk", "order-help"],
            "source": ["ready-notice", "order-help"],
            "target": ["pickup-desk", None],
            "score": [1.75, 0.5],
            "customers_affected": [40, 12],
            "finding": ["Customers repeat the order number", "Long waits"],
        }
    )
    silo = pl.DataFrame(
        {
            "source": ["ready-notice"],
            "target": ["pickup-desk"],
            "source_channel": ["app"],
            "target_channel": ["store"],
            "count": [55],
            "context_loss_score": [0.4],
            "finding": ["Half re-identify at the desk"],
        }
    )
    return SimpleNamespace(
        kpis=kpis,
        friction=friction,
        silo_handoffs=silo,
        switch_matrix=channel_switches(),
        team_switch_matrix=team_handoffs() if teams else pd.DataFrame(columns=["from_team", "to_team", "count"]),
    )


def test_report_of_bopis_has_the_structure_tables() -> None:
    report = build_report(bopis_map(), revision=revision())
    assert report.title == "Buy online, pick up in store"
    assert report.subtitle == "Revision 2 by Ana, 2026-03-04 09:30 UTC: Silo handoffs marked"
    assert report.key_figures == (
        ("Touchpoints", "8"),
        ("Transitions", "9"),
        ("Handoffs", "7"),
        ("Silo handoffs", "2"),
        ("Dead ends", "1"),
        ("Unreachable", "1"),
        ("Designed integration factor", "0.50"),
    )
    assert report.table("silo_handoffs").rows == (
        ("Ready-for-pickup notice", "Pick-up desk", "Mobile app → Store", "E-commerce → Fulfilment", "none",
         "Desk cannot see the order"),
        ("Order help line", "Pick-up desk", "Call center → Store", "Customer service → Fulfilment", "none", ""),
    )  # fmt: skip
    assert report.table("silo_matrix").rows == (
        ("Website", "Mobile app", "2", "1", "1", "0"),  # T1 partial, T5 full
        ("Mobile app", "Website", "1", "1", "0", "0"),
        ("Mobile app", "Store", "1", "0", "0", "1"),
        ("Mobile app", "Call center", "1", "0", "1", "0"),
        ("Call center", "Store", "1", "0", "0", "1"),
    )
    assert report.table("dead_ends").rows == (("Delivery FAQ", "delivery-faq"),)
    assert report.table("unreachable").rows == (("Curbside hand-over", "curbside"),)
    assert report.table("empty_stages").rows == (("Loyalty", "loyalty"),)
    assert len(report.table("handoffs").rows) == 7
    assert [f.key for f in report.figures] == ["graph", "switch_figure"]


def test_optional_parts_are_read_by_attribute() -> None:
    framework = load_builtin_framework()
    first, second = framework.dimensions[0], framework.dimensions[1]
    report = build_report(
        bopis_map(),
        revision=None,
        overlay=fake_overlay(),
        assessment=AssessmentSummary(framework, {first.id: 2.5, second.id: 3.0}, "Workshop", {first.id: 4}),
        opportunities=[
            SimpleNamespace(title="Share the order with the desk", dimension="Data integration", impact="high",
                            effort="medium"),
            SimpleNamespace(title="Desk sees the order", touchpoint_id="pickup-desk", owner="Store ops",
                            status="in_progress", due=date(2026, 4, 1)),
            SimpleNamespace(title="Whole-map idea", touchpoint_id=None, owner="", status="open", due=None),
            SimpleNamespace(title="Old idea", touchpoint_id="pickup-desk", owner="Ana", status="done", due=None),
        ],
        comments=[
            SimpleNamespace(author="Bo", text="Desk needs the order", created_at=datetime(2026, 3, 5, 8, 0),
                            target_kind="touchpoint", target_id="pickup-desk"),
            SimpleNamespace(author="Cy", body="Lost here", created_at=None, target_kind="handoff",
                            target_id="ready-notice->pickup-desk"),
            SimpleNamespace(author="Di", body="Overall fine", created_at=None, target_kind="map", target_id=""),
        ],
    )  # fmt: skip
    assert report.subtitle == "Unsaved map"
    assert report.table("kpis").rows == (
        ("Journeys", "120"),
        ("Completion rate", "62.5%"),
        ("Effort steps", "–"),
        ("Channel switches per journey", "1.25"),  # 150 / 120
        ("Journeys with a channel switch", "80.0%"),  # 96 / 120
        ("Channel switches back to a channel left before (ping-pong)", "10.0%"),  # 15 / 150
        ("Team handoffs per journey", "0.38"),  # 45 / 120 = 0.375
        ("Journeys with a team handoff", "25.0%"),  # 30 / 120
        ("Team handoffs back to a team left before (ping-pong)", "20.0%"),  # 9 / 45
    )
    keys = [s.key for s in report.sections]
    assert keys[keys.index("kpis") : keys.index("kpis") + 3] == ["kpis", "channel_switches", "team_handoffs"]
    channels = report.table("channel_switches")
    assert channels.title == "Channel switches (event data, top 10)"
    assert channels.columns[:3] == ("From channel", "To channel", "Moves")
    # 12 pairs, pair i with 5 + i moves: the ten busiest are pairs 11 down to 2.
    assert [row[2] for row in channels.rows] == [str(5 + i) for i in range(11, 1, -1)]
    # 30 s + 11 h; ping-pong 11 % 3; score 0.05 x 11. Channels the map knows are shown by name.
    assert channels.rows[0] == ("kiosk", "Store", "16", "15", "2", "11.0 h", "0.55")
    assert channels.rows[-1] == ("Website", "kiosk", "7", "6", "2", "2.0 h", "0.10")
    teams = report.table("team_handoffs")
    assert teams.rows == (
        ("<b>Field</b>", "L1", "30", "25", "1", "–", "0.10"),
        ("L1", "L2", "12", "10", "0", "2.0 d", "0.25"),
        ("L2", "L1", "3", "3", "3", "10 min", "0.50"),
    )
    assert report.table("friction").rows == (
        (
            "1",
            "transition",
            "Ready-for-pickup notice → Pick-up desk",
            "1.75",
            "40",
            "Customers repeat the order number",
        ),
        ("2", "touchpoint", "Order help line", "0.50", "12", "Long waits"),
    )
    assert report.table("observed_silo_handoffs").rows == (
        ("Ready-for-pickup notice", "Pick-up desk", "app → store", "55", "0.40", "Half re-identify at the desk"),
    )
    assert report.table("maturity").rows[:2] == ((first.name, "2.5", "4"), (second.name, "3.0", "–"))
    assert report.table("opportunities").columns == ("Opportunity", "Touchpoint", "Owner", "Status", "Due")
    assert report.table("opportunities").rows == (
        ("Desk sees the order", "Pick-up desk", "Store ops", "in progress", "2026-04-01"),
        ("Whole-map idea", "Whole map", "–", "open", "–"),
    )
    assert report.table("actions").rows == (
        ("Data integration", "Share the order with the desk", "high", "medium", ""),
    )
    assert report.table("comments").rows == (
        ("Bo", "2026-03-05 08:00", "Pick-up desk", "Desk needs the order"),
        ("Cy", "–", "Ready-for-pickup notice → Pick-up desk", "Lost here"),
        ("Di", "–", "Whole map", "Overall fine"),
    )
    radar = next(f for f in report.figures if f.key == "radar").figure
    assert [t.name for t in radar.data][:2] == ["Workshop", "Target"]
    assert radar.data[0].r[:2] == (2.5, 3.0)


def test_without_a_team_column_the_report_says_so_and_omits_team_kpis() -> None:
    report = build_report(bopis_map(), revision=None, overlay=fake_overlay(teams=False))
    assert [name for name, _ in report.table("kpis").rows if "eam" in name] == []
    teams = report.table("team_handoffs")
    assert teams.rows == () and teams.empty_text == "No team column was mapped in the event data."
    assert len(report.table("channel_switches").rows) == 10


def test_html_shows_switch_tables_with_labels_escaped() -> None:
    page = render_html(build_report(bopis_map(), revision=None, overlay=fake_overlay()))
    assert "<b>Field</b>" not in page and "&lt;b&gt;Field&lt;/b&gt;" in page
    assert "Team handoffs (event data, top 10)" in page and "62.5%" in page


def test_html_escapes_labels_and_shows_key_figures() -> None:
    page = render_html(build_report(evil_bopis(), revision=revision()))
    assert EVIL not in page
    assert html.escape(EVIL) in page  # in the handoff tables, as text
    figures = re.findall(r'<div class="label">([^<]*)</div><div class="value">([^<]*)</div>', page)
    assert figures == [
        ("Touchpoints", "8"),
        ("Transitions", "9"),
        ("Handoffs", "7"),
        ("Silo handoffs", "2"),
        ("Dead ends", "1"),
        ("Unreachable", "1"),
        ("Designed integration factor", "0.50"),
    ]
    assert "<h1>Buy online, pick up in store</h1>" in page


def test_html_is_self_contained() -> None:
    page = render_html(build_report(bopis_map(), revision=None))
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    library = [s for s in scripts if s.lstrip().startswith("/**\n* plotly.js v")]
    assert len(library) == 1, "plotly.js is inlined exactly once"
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link\b", page)
    # plotly.js mentions URLs of map tile servers it never loads here; nothing else may mention any.
    outside_library = page.replace(library[0], "")
    assert "http" not in outside_library
    assert "//" not in re.sub(r"<script.*?</script>", "", outside_library, flags=re.S)


def test_static_html_has_no_script_and_embeds_the_images() -> None:
    report = build_report(evil_bopis(), revision=None)
    page = render_static_html(report, {"graph": b"\x89PNG-graph", "switch_figure": b"\x89PNG-matrix"})
    assert "<script" not in page and "http" not in page
    assert page.count('src="data:image/png;base64,') == 2
    assert EVIL not in page


def test_graph_figure_draws_edges_per_kind_not_per_edge() -> None:
    figure = journey_figure(evil_bopis())
    names = [t.name for t in figure.data]
    # plain, full, partial, none: one line trace and one arrowhead trace each; then 4 channels.
    assert len(figure.data) == 12
    assert names[0::2][:4] == [
        "Within one channel and team",
        "Handoff, full context",
        "Handoff, partial context",
        "Silo handoff (context lost)",
    ]
    call = next(t for t in figure.data if t.name == "Call center")
    assert call.text == ("&lt;img src=x onerror=alert(1)&gt;",)
    assert figure.layout.template.layout.paper_bgcolor is not None  # an explicit, real template


def test_big_maps_are_drawn_smaller_with_the_same_traces() -> None:
    figure = journey_figure(big_map())
    assert (figure.layout.width, figure.layout.height) == (700, 2400)  # 1440 x 7585 shrunk, at least 700 wide
    # 4 edge kinds x (lines + arrowheads) + 8 channels, whatever the 1,000 transitions.
    assert len(figure.data) == 16
    touchpoints = [t for t in figure.data if t.meta == "touchpoints"]
    assert {t.mode for t in touchpoints} == {"markers"}  # labels would overlap: left to hovering
    assert sum(len(t.x) for t in touchpoints) == 300


def test_missing_chromium_is_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    with pytest.raises(UserInputError, match="need Chromium.*Install the Debian package chromium"):
        render_png_graph(bopis_map())
    with pytest.raises(UserInputError, match="need Chromium"):
        render_pdf(build_report(bopis_map(), revision=None))


@pytest.fixture(scope="module")
def graph_png() -> bytes:
    return render_png_graph(evil_bopis())


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    framework = load_builtin_framework()
    report = build_report(
        evil_bopis(),
        revision=revision(),
        overlay=fake_overlay(),
        assessment=AssessmentSummary(framework, {d.id: 2.0 + i % 3 for i, d in enumerate(framework.dimensions)}),
        opportunities=[
            SimpleNamespace(title="Share the order with the desk", touchpoint_id="pickup-desk", owner="", status="open",
                            due=None)
        ],
    )  # fmt: skip
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(render_pdf(report))
    return path


@needs_chromium
def test_png_graph_shows_channel_colours_on_white(graph_png: bytes) -> None:
    image = Image.open(io.BytesIO(graph_png)).convert("RGB")
    width, height = image.size
    assert width > 1000 and height > 600
    assert image.getpixel((5, 5)) == (255, 255, 255)
    pixels = np.asarray(image, dtype=np.int16).reshape(-1, 3)
    dark = int((pixels.sum(axis=1) < 60).sum())
    assert dark < len(pixels) * 0.05, "mostly black: the export lost its template"
    for channel_id, colour in channel_colors(bopis_map()).items():
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        count = int((np.abs(pixels - rgb).max(axis=1) <= 8).sum())
        assert count > 400, f"channel {channel_id} ({colour}) hardly drawn: {count} pixels"


@needs_chromium
def test_pdf_has_pages_with_the_map_name_and_key_figures(report_pdf: Path, tmp_path: Path) -> None:
    text = subprocess.run(["pdftotext", str(report_pdf), "-"], capture_output=True, check=True).stdout
    words = " ".join(text.decode().split())
    assert "Buy online, pick up in store" in words
    assert "Revision 2 by Ana" in words
    for label, value in (("Touchpoints", "8"), ("Transitions", "9"), ("Silo handoffs", "2")):
        assert re.search(rf"{label}\s+(\S+\s+)*?{value}\b", words), label
    assert "Designed integration factor" in words and "0.50" in words
    assert "<img src=x" in words and "onerror=alert(1)>" in words  # shown as text (table cells wrap), not markup
    assert "Friction board" in words and "Customers repeat the order number" in words
    assert "Open opportunities" in words and "Share the order with the desk" in words
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(report_pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    first = Image.open(pages[0]).convert("RGB")
    assert first.getpixel((3, 3)) == (255, 255, 255)
    page_one = subprocess.run(["pdftotext", "-l", "1", str(report_pdf), "-"], capture_output=True, check=True).stdout
    assert "Silo handoffs (designed with no context carry)" in page_one.decode()  # findings on page one
    ink = np.asarray(first.convert("L")) < 200
    rows_with_ink = np.flatnonzero(ink.any(axis=1))
    assert rows_with_ink[-1] > ink.shape[0] * 0.6, "the first page is mostly empty"


def test_an_empty_map_does_not_claim_context_travels() -> None:
    """No handoff at all is not good news about handoffs: the report says there is nothing to judge."""
    empty = build_report(JourneyMap(name="New", stages=(Stage(id="a", name="A"),)), revision=None)
    assert empty.table("silo_handoffs").empty_text == "No handoffs designed yet, so none can lose context."
    assert build_report(bopis_map(), revision=None).table("silo_handoffs").rows  # a real map still lists its own
