"""The Overlay page's "What if" panel: pick handoffs, see what keeping their context would change, save the to-be map.

The figures come from :mod:`journeymap.analysis.whatif`, each cached per overlay key (dataset, mapping, map
revision and settings, :func:`journeymap.ui.overlay_state.overlay_key`): the ranking once per overlay, each
fix's estimate once per fix, the journey graph re-run once per set of fixes, so a rerun recomputes nothing.
The chosen handoffs are kept per map under :attr:`OverlayKeys.WHATIF_FIXES` (:func:`chosen_fixes`), where the
Review page's report and the Maturity page's evidence (:func:`evidence_shift_section`) find them.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.analysis.whatif import (
    EvidenceShift,
    Fix,
    FixEstimate,
    GraphRerun,
    WhatIf,
    estimate_fix,
    rank_handoffs,
    shift_evidence,
)
from journeymap.analysis.whatif import rerun_journey_graph as _rerun
from journeymap.errors import UserInputError
from journeymap.events.overlay import Overlay
from journeymap.maturity.framework import Framework
from journeymap.model import JourneyMap
from journeymap.report import what_if_kpi_rows, what_if_outcome_rows, what_if_ranking_rows
from journeymap.services import maps as map_services
from journeymap.ui import access
from journeymap.ui.labels import show_table
from journeymap.ui.navigation import REVIEW_PAGE
from journeymap.ui.overlay_state import FindingRef
from journeymap.ui.state import OverlayKeys
from journeymap.ui.text import md

__all__ = ["cached_what_if", "chosen_fixes", "evidence_shift_section", "what_if_section"]

SPINNER = "Predicting what keeping the context across these handoffs would change…"


def chosen_fixes(map_id: int) -> tuple[Fix, ...]:
    """The handoffs chosen in the What if panel for this map (none when nothing was chosen in this browser tab)."""
    chosen: dict[int, tuple[Fix, ...]] = st.session_state.get(OverlayKeys.WHATIF_FIXES, {})
    return chosen.get(map_id, ())


def _choose(map_id: int, fixes: Sequence[Fix]) -> None:
    chosen: dict[int, tuple[Fix, ...]] = dict(st.session_state.get(OverlayKeys.WHATIF_FIXES, {}))
    chosen[map_id] = tuple(fixes)
    st.session_state[OverlayKeys.WHATIF_FIXES] = chosen


@st.cache_data(show_spinner=False, max_entries=16)
def _ranking(key: str, *, _overlay: Overlay, _journey_map: JourneyMap) -> pl.DataFrame:
    del key
    return rank_handoffs(_overlay.prepared, _journey_map, keep=_overlay.keep)


@st.cache_data(show_spinner=False, max_entries=64)
def _estimate(key: str, fix: Fix, *, _overlay: Overlay) -> FixEstimate:
    del key
    return estimate_fix(_overlay.prepared, fix, keep=_overlay.keep)


@st.cache_data(show_spinner=False, max_entries=32)
def _rerun_cached(key: str, fixes: tuple[Fix, ...], *, _overlay: Overlay) -> GraphRerun:
    del key
    return _rerun(_overlay.prepared, fixes, keep=_overlay.keep)


def cached_what_if(key: str, fixes: Sequence[Fix], *, overlay: Overlay, journey_map: JourneyMap) -> WhatIf:
    """:func:`journeymap.analysis.whatif.what_if` of an overlay (``key``: its overlay key), each part cached."""
    return WhatIf(
        tuple(_estimate(key, fix, _overlay=overlay) for fix in fixes),
        _rerun_cached(key, tuple(fixes), _overlay=overlay),
        _ranking(key, _overlay=overlay, _journey_map=journey_map),
        overlay.prepared.has_goal,
    )


def _add(map_id: int, pick_key: str, fix: Fix) -> None:
    picked = [*st.session_state.get(pick_key, []), fix]
    st.session_state[pick_key] = picked
    _choose(map_id, picked)


def _save_to_be(engine: Engine, map_id: int, revision_id: int, fixes: tuple[Fix, ...]) -> None:
    try:
        saved = map_services.save_to_be_map(
            engine, access.current_actor(engine), map_id=map_id, base_revision_id=revision_id, fixes=fixes
        )
    except UserInputError as exc:  # a stale revision, a lock, a refusal, a handoff the map does not design
        st.session_state[OverlayKeys.WHATIF_NOTICE] = ("error", str(exc))
        return
    st.session_state[OverlayKeys.WHATIF_NOTICE] = (
        "success",
        f"Saved the to-be map as revision {saved.number}: context carried in full across "
        f"{'; '.join(fix.label for fix in fixes)}. The overlay now shows it; the Review page compares it with "
        f"revision {saved.number - 1}, the map as is.",
    )


def _picker(ranking: pl.DataFrame, *, map_id: int, scope: str, suggested: Sequence[tuple[str, Fix]]) -> tuple[Fix, ...]:
    """The multiselect of candidate handoffs, and a button per handoff picked elsewhere on the page."""
    candidates = [Fix(*row) for row in ranking.select("kind", "source", "target", "label").iter_rows()]
    saved = chosen_fixes(map_id)
    options = [*candidates, *(fix for fix in (*saved, *(f for _, f in suggested)) if fix not in candidates)]
    options = list(dict.fromkeys(options))
    pick_key = f"{OverlayKeys.WHATIF_PICK}{scope}"
    if pick_key not in st.session_state:  # drawn anew (another page was visited): the choice kept per map
        st.session_state[pick_key] = [fix for fix in saved if fix in options]
    picked: list[Fix] = st.multiselect(
        "Handoffs to fix",
        options,
        format_func=lambda fix: fix.label,
        key=pick_key,
        placeholder="Choose handoffs: the ranked candidates below, best predicted gain first",
        help="Designed transitions that cross channels or teams, and the channel and team pairs seen in the events "
        "with enough crossings that kept and lost the context.",
    )
    if picked != list(saved):
        _choose(map_id, picked)
    for index, (where, fix) in enumerate(suggested):
        if fix not in picked:
            st.button(
                f"Add {fix.label} ({where})",
                key=f"{OverlayKeys.WHATIF_ADD}{scope}_{index}",
                on_click=_add,
                args=(map_id, pick_key, fix),
            )
    return tuple(picked)


def _kpis(rerun: GraphRerun, scope: str) -> None:
    st.markdown("**Journey KPIs, observed and predicted**")
    if not rerun.kpis:
        st.info(md(rerun.assumptions[0]))
        return
    st.caption(
        f"The journey graph re-run over {rerun.journeys:,} journeys that are over, with {rerun.fixed_crossings:,} "
        "crossings that lost the context sent to the context kept; 95% intervals."
    )
    show_table(pl.DataFrame(what_if_kpi_rows(rerun)), key=f"{OverlayKeys.WHATIF_KPIS}{scope}")
    with st.expander("Assumptions of the journey graph re-run"):
        st.markdown("\n".join(f"- {md(text)}" for text in rerun.assumptions))


def _estimate_part(estimate: FixEstimate, scope: str, index: int) -> None:
    st.markdown(
        f"**{md(estimate.fix.label)}**: {estimate.crossings:,} crossings, {estimate.lost:,} lost the context, "
        f"{estimate.kept:,} kept it; {estimate.customers_affected:,} customers affected"
    )
    if not any(outcome.enough for outcome in estimate.outcomes):
        st.warning("Not enough evidence: too few crossings that kept and lost the context could be compared.")
    show_table(pl.DataFrame(what_if_outcome_rows(estimate)), key=f"{OverlayKeys.WHATIF_OUTCOMES}{scope}_{index}")
    with st.expander("Assumptions of this estimate"):
        st.markdown("\n".join(f"- {md(text)}" for text in estimate.assumptions))


def what_if_section(
    overlay: Overlay,
    *,
    key: str,
    engine: Engine,
    journey_map: JourneyMap,
    map_id: int,
    revision_id: int,
    scope: str,
    finding: FindingRef | None = None,
) -> None:
    """The What if panel of one overlay (``key``: its overlay key; ``scope``: its widgets' key suffix).

    The transition chosen on the friction board (``finding``) and the channel switch clicked on the heatmap
    are offered with a button each.
    """
    st.subheader("What if")
    st.caption(
        "What would change if the context travelled across some handoffs: crossings where the customer kept the "
        "context compared with those where they had to re-identify, repeat a step or bounce back, and the journey "
        "graph re-run with the lost crossings kept."
    )
    with st.spinner("Ranking the handoffs by predicted gain…"):
        ranking = _ranking(key, _overlay=overlay, _journey_map=journey_map)
    suggested = []
    if finding is not None and finding.target is not None:
        fix = Fix.named("transition", finding.source, finding.target, journey_map)
        suggested.append(("chosen on the friction board", fix))
    pair = st.session_state.get(OverlayKeys.PAIR)
    if pair is not None:
        suggested.append(("clicked on the heatmap", Fix.named("channel", pair[0], pair[1], journey_map)))
    fixes = _picker(ranking, map_id=map_id, scope=scope, suggested=suggested)
    if fixes:
        with st.spinner(SPINNER):
            result = cached_what_if(key, fixes, overlay=overlay, journey_map=journey_map)
        _kpis(result.rerun, scope)
        for index, estimate in enumerate(result.estimates):
            _estimate_part(estimate, scope, index)
        if access.can_edit(engine, map_id=map_id):
            st.button(
                "Save as to-be map",
                key=f"{OverlayKeys.WHATIF_SAVE}{scope}",
                on_click=_save_to_be,
                args=(engine, map_id, revision_id, fixes),
                help="A new revision of the map with these handoffs' context carry set to full.",
            )
    else:
        st.caption("Choose one or more handoffs above to see what keeping their context would change.")
    notice = st.session_state.pop(OverlayKeys.WHATIF_NOTICE, None)
    if notice is not None:
        kind, text = notice
        (st.success if kind == "success" else st.error)(md(text))
        if kind == "success":
            st.page_link(REVIEW_PAGE, label="Compare as is and to be on the Review page")
    st.markdown("**Handoffs ranked by predicted gain**")
    if ranking.height:
        gain = "customers more completing" if overlay.prepared.has_goal else "events saved"
        st.caption(f"Predicted gain = customers affected × effect, in {gain}; best first.")
        show_table(
            pl.DataFrame(what_if_ranking_rows(ranking, has_goal=overlay.prepared.has_goal)),
            key=f"{OverlayKeys.WHATIF_RANKING}{scope}",
        )
    else:
        st.info("No handoff has enough crossings that kept and that lost the context to be ranked.")


@st.cache_data(show_spinner=False, max_entries=16)
def _shift(
    key: str,
    fixes: tuple[Fix, ...],
    framework_json: str,
    *,
    _overlay: Overlay,
    _journey_map: JourneyMap,
    _framework: Framework,
) -> EvidenceShift:
    del key, framework_json
    return shift_evidence(_overlay, fixes, _journey_map, _framework)


def evidence_shift_section(
    overlay: Overlay, *, key: str, fixes: Sequence[Fix], journey_map: JourneyMap, framework: Framework
) -> None:
    """The maturity evidence the chosen fixes would move (``key``: the overlay's key), e.g. context carried across
    channels 72% → 80% of crossings, and each indicator that changes with the level it suggests."""
    with st.spinner("Measuring the evidence with the chosen handoffs fixed…"):
        shift = _shift(
            key,
            tuple(fixes),
            framework.model_dump_json(),
            _overlay=overlay,
            _journey_map=journey_map,
            _framework=framework,
        )
    labels = md("; ".join(fix.label for fix in fixes))
    if shift.kept_share_before is None or shift.kept_share_after is None:
        st.markdown(
            f"**What if** ({labels}, chosen on the Overlay page): context carried across channels is not measured "
            "(no channel switch in these events)."
        )
        return
    st.markdown(
        f"**What if** ({labels}, chosen on the Overlay page): context carried across channels "
        f"{shift.kept_share_before:.0%} → {shift.kept_share_after:.0%} of crossings"
    )
    if shift.changes:
        st.markdown("\n".join(f"- {md(change.message)}" for change in shift.changes))
    st.caption(" ".join(md(text) for text in shift.assumptions))
