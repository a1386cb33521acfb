"""The Overlay page's What if panel on the demo data, against the domain's own answer for the same overlay.

The reference is :func:`journeymap.analysis.whatif.what_if` on the demo log as ingested, overlaid on the demo
map with the page's default settings (the map's final touchpoints as the goal). Two handoffs are chosen:
"Browse in store → Associate checks stock", with enough crossings of each kind, and the channel switch
"Store → Loyalty app", whose lost crossings all sit in strata without kept ones, so the domain says "not
enough evidence" for every outcome of it (asserted below, so the test cannot pass on a data change).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

import journeymap.ui.whatif_panel as panel
from journeymap.analysis.whatif import Fix, WhatIf, format_change, format_value, shift_evidence, what_if
from journeymap.events.goals import default_settings
from journeymap.events.ingest import load_log
from journeymap.events.overlay import compute_overlay
from journeymap.maturity import load_builtin_framework
from journeymap.store import latest_revision, list_datasets, list_revisions, session_scope
from journeymap.ui.state import MaturityKeys, OverlayKeys
from tests.app.test_maturity_page import _setup

PAGE = "views/overlay.py"
BROWSE = "Browse in store → Associate checks stock"
STORE_APP = "Store → Loyalty app (channel switch)"


def _reference(engine: Engine, labels: list[str]) -> WhatIf:
    with session_scope(engine) as session:
        dataset = list_datasets(session=session)[0]
        revision = latest_revision(session=session, map_id=dataset.map_id)
    journey_map = revision.journey_map
    overlay = compute_overlay(load_log(dataset.cache_path), journey_map, default_settings(journey_map))
    log = overlay.prepared.log
    chosen = [Fix.parse(label.removesuffix(" (channel switch)"), journey_map, log) for label in labels]
    return what_if(overlay.prepared, chosen, journey_map, keep=overlay.keep)


def _demo(make_app: Callable[..., AppTest]) -> AppTest:
    st.cache_data.clear()
    at = make_app()  # through the app's navigation, so the panel's link to the Review page resolves
    at.run()
    at.switch_page(PAGE).run()
    at.button(key=OverlayKeys.DEMO).click().run()
    assert not at.exception, at.exception
    return at


def _choose(at: AppTest, labels: list[str]) -> AppTest:
    """Pick handoffs by the labels the picker shows (the widget sends the chosen labels' positions)."""
    picker = next(m for m in at.multiselect if m.key.startswith(OverlayKeys.WHATIF_PICK))
    assert set(labels) <= set(picker.options)
    picker.set_value([Fix("transition", "", "", label) for label in labels]).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, first_column: str) -> Any:
    """The panel's tables whose first column is ``first_column`` (ranking: handoff, KPIs: kpi, fixes: outcome)."""
    return [df.value for df in at.dataframe if list(df.value.columns)[:1] == [first_column]]


def test_the_panel_shows_the_domain_predictions_and_says_not_enough_evidence(
    make_app: Callable[..., AppTest], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _demo(make_app)
    expected = _reference(engine, [BROWSE, STORE_APP])
    # The ranking: every candidate the domain ranks, in its order, in plain words.
    ranking = _table(at, "handoff")[0]
    assert list(ranking.columns) == [
        "handoff", "predicted_gain", "kpi_effect", "customers_losing_context", "lost_crossings", "crossings",
        "graph_gain",
    ]  # fmt: skip
    assert ranking["handoff"].tolist() == expected.ranking["label"].to_list()
    assert ranking["customers_losing_context"].tolist() == expected.ranking["customers_affected"].to_list()
    assert ranking["kpi_effect"].iloc[0] == format_change(expected.ranking["effect"][0], "share") == "+14.6 pp"

    _choose(at, [BROWSE, STORE_APP])
    kpis = _table(at, "kpi")[0]
    rerun = expected.rerun
    assert kpis["kpi"].tolist() == [k.label for k in rerun.kpis]
    assert kpis["observed"].tolist() == [format_value(k.observed, k.unit) for k in rerun.kpis]
    assert kpis["predicted"].tolist() == [format_value(k.predicted, k.unit) for k in rerun.kpis]
    low, high = rerun.kpis[0].change_interval
    assert kpis["change"].iloc[0] == (
        f"{format_change(rerun.kpis[0].predicted - rerun.kpis[0].observed, 'share')} "
        f"({format_change(low, 'share')} to {format_change(high, 'share')})"
    )
    assert (kpis["kpi"].iloc[0], kpis["observed"].iloc[0], kpis["predicted"].iloc[0]) == (
        "completion rate",
        "39.0%",
        "40.2%",
    )

    browse, store_app = _table(at, "outcome")
    estimate = expected.estimates[0]
    completion = estimate.outcome("completion")
    assert completion is not None and completion.effect is not None and completion.interval is not None
    assert browse["outcome"].tolist() == [o.label for o in estimate.outcomes]
    assert browse["effect"].iloc[0] == (
        f"{format_change(completion.effect, 'share')} ({format_change(completion.interval[0], 'share')} to "
        f"{format_change(completion.interval[1], 'share')})"
    )
    assert browse["predicted"].iloc[0] == format_value(completion.predicted, "share")
    headline = f"**{panel.md(BROWSE)}**: {estimate.crossings:,} crossings, {estimate.lost:,} lost the context"
    assert any(m.value.startswith(headline) for m in at.markdown)

    # Where the domain gives no number, the page says so.
    assert not any(o.enough for o in expected.estimates[1].outcomes)
    assert store_app["effect"].tolist() == ["not enough evidence (30 kept and 30 lost crossings needed)"] * 4
    assert store_app["predicted"].tolist() == ["n/a"] * 4
    assert [w.value for w in at.warning] == [
        "Not enough evidence: too few crossings that kept and lost the context could be compared."
    ]
    assumptions = " ".join(e.markdown[0].value for e in at.expander if e.label.startswith("Assumptions"))
    assert panel.md(rerun.assumptions[0]) in assumptions
    assert panel.md(estimate.assumptions[-1]) in assumptions

    # A rerun recomputes nothing: the cached figures are used.
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("recomputed on a rerun")

    monkeypatch.setattr(panel, "estimate_fix", refuse)
    monkeypatch.setattr(panel, "_rerun", refuse)
    monkeypatch.setattr(panel, "rank_handoffs", refuse)
    at.run()
    assert not at.exception, at.exception
    assert _table(at, "kpi")[0]["predicted"].tolist() == kpis["predicted"].tolist()


def test_save_as_to_be_map_saves_a_revision_the_review_page_compares(
    make_app: Callable[..., AppTest], engine: Engine
) -> None:
    at = _choose(_demo(make_app), [BROWSE, STORE_APP])
    save = next(b for b in at.button if b.key.startswith(OverlayKeys.WHATIF_SAVE))
    save.click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as session:
        map_id = list_datasets(session=session)[0].map_id
        history = list_revisions(session=session, map_id=map_id)
        to_be = latest_revision(session=session, map_id=map_id)
    assert [s.value for s in at.success] == [
        f"Saved the to\\-be map as revision {to_be.number}\\: context carried in full across Browse in store → "
        f"Associate checks stock; Store → Loyalty app \\(channel switch\\)\\. The overlay now shows it; the Review "
        f"page compares it with revision {to_be.number - 1}, the map as is\\."
    ]
    assert to_be.message == (
        f"To-be map: context carried in full across {BROWSE}; {STORE_APP} (3 designed transitions set to full)"
    )
    carries = {(t.source, t.target): t.context_carry.value for t in to_be.journey_map.transitions}
    assert (carries[("store-till", "points-credited")], carries[("store-browse", "stock-check")]) == ("full", "full")
    assert carries[("product-page", "store-browse")] == "partial"  # not fixed: as it was

    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    pickers = {s.label: s.value for s in at.selectbox if s.label in ("Older revision", "Newer revision")}
    assert pickers == {"Older revision": history[1].id, "Newer revision": history[0].id}


def test_a_viewer_sees_the_predictions_but_no_save_button(
    make_app: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _choose(_demo(make_app), [BROWSE])
    assert [b.label for b in at.button if b.key.startswith(OverlayKeys.WHATIF_SAVE)] == ["Save as to-be map"]
    monkeypatch.setattr(panel.access, "can_edit", lambda engine, map_id=None: False)
    at.run()
    assert _table(at, "kpi")
    assert [b for b in at.button if b.key.startswith(OverlayKeys.WHATIF_SAVE)] == []


def test_the_maturity_page_shows_the_evidence_the_chosen_fixes_would_move(
    make_app: Callable[..., AppTest], engine: Engine
) -> None:
    at = _choose(_demo(make_app), [BROWSE, STORE_APP])
    with session_scope(engine) as session:
        dataset = list_datasets(session=session)[0]
        revision = latest_revision(session=session, map_id=dataset.map_id)
    journey_map = revision.journey_map
    overlay = compute_overlay(load_log(dataset.cache_path), journey_map, default_settings(journey_map))
    fixes = [Fix.parse(text, journey_map, overlay.prepared.log) for text in ("store-browse->stock-check", "store->app")]
    shift = shift_evidence(overlay, fixes, journey_map, load_builtin_framework())
    assert shift.kept_share_before is not None and shift.kept_share_after is not None

    at.query_params["assessment"] = str(_setup(engine))
    at.switch_page("views/maturity.py").run()
    at.selectbox(key=MaturityKeys.EVIDENCE_MAP).set_value(dataset.map_id).run()
    at.selectbox(key=MaturityKeys.EVIDENCE_DATASET).set_value(dataset.id).run()
    assert not at.exception, at.exception
    line = next(m.value for m in at.markdown if m.value.startswith("**What if**"))
    assert line == (
        f"**What if** ({panel.md(BROWSE + '; ' + STORE_APP)}, chosen on the Overlay page): context carried across "
        f"channels {shift.kept_share_before:.0%} → {shift.kept_share_after:.0%} of crossings"
    )
    assert line.endswith("channels 72% → 80% of crossings")
    changes = next(m.value for m in at.markdown if m.value.startswith("- ") and "measured" in m.value)
    assert changes.split("\n") == [f"- {panel.md(change.message)}" for change in shift.changes]
    assert shift.changes  # the fixes move at least one indicator
