"""Review: everything a manager reviews about a saved map, in one place.

Its history and restoring an old revision, its comments and opportunity backlog, comparing revisions or
maps, exports, and the read-only links that share it. Members review every map: viewers read and comment,
editors also resolve, keep the backlog, restore and share. A session that opened a share link reviews that
one map, reads its comments and backlog and exports its report, and nothing else; a visitor who is not
signed in is asked to sign in or open their link.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from journeymap.access import Action
from journeymap.analysis.whatif import WhatIf
from journeymap.compare import KEY_FIGURES, MapDiff, diff_graph_elements, diff_maps, diff_summary
from journeymap.errors import UserInputError
from journeymap.events.goals import default_settings
from journeymap.events.overlay import Overlay
from journeymap.model import JourneyMap, map_from_json, map_to_json
from journeymap.report import AssessmentSummary, build_report, find_browser, render_html, render_pdf, render_png_graph
from journeymap.services import maps, maturity, reviews
from journeymap.store import Revision, RevisionInfo
from journeymap.store.assessments import AssessmentInfo
from journeymap.store.datasets import DatasetInfo
from journeymap.store.reviews import CommentInfo, OpportunityInfo
from journeymap.ui import flash, init_page, md, render_graph, show_flash
from journeymap.ui.access import can_edit, current_actor, show_access_flash
from journeymap.ui.editor_forms import file_name_for
from journeymap.ui.overlay_state import cached_log, cached_overlay, overlay_key
from journeymap.ui.page import preselect_map
from journeymap.ui.review_panels import comments_panel, opportunities_panel, share_links_panel
from journeymap.ui.state import ReviewKeys, StateKeys
from journeymap.ui.whatif_panel import cached_what_if, chosen_fixes
from journeymap.viz import agraph_config_kwargs

GRAPH_HEIGHT = 480


ctx = init_page()
st.title("Review")
st.caption(
    "A saved map's history, its comments and opportunities, comparing revisions or two maps, "
    "reports to export, and read-only links to share it."
)

# Fixed placeholders, in the order shown: whatever fills one later never inserts anything above a graph.
pick_area = st.container()
history_area = st.container()
comments_area = st.container()
opportunities_area = st.container()
compare_area = st.container()
graphs_area = st.container()
details_area = st.container()
export_area = st.container()
share_area = st.container()

actor = ctx.actor
if not (actor.can(Action.READ_WORKSPACE) or actor.map_scope is not None):
    with pick_area:
        show_flash("review")  # why a control drawn before a sign-out refused its write
        show_access_flash()
        st.info("Sign in (in the sidebar) to review maps, or open the share link you were sent.")
    st.stop()
try:
    listed = maps.list_maps(ctx.engine, actor)
except UserInputError as exc:
    with pick_area:
        st.error(md(str(exc)))
    st.stop()
if not listed:
    with pick_area:
        st.info("No saved maps yet. Create one on the Maps page, then come back to review it.")
    st.stop()
by_id = {s.id: s for s in listed}


def _map_label(map_id: int) -> str:
    summary = by_id[map_id]
    return f"{summary.name} (#{map_id}, {summary.revision_count} revisions)"


def _revision_label(info: RevisionInfo) -> str:
    return f"Revision {info.number}: {info.author}, {info.created_at:%Y-%m-%d %H:%M} UTC" + (
        f" ({info.message})" if info.message else ""
    )


def _history(map_id: int) -> list[RevisionInfo]:
    return maps.list_revisions(ctx.engine, actor, map_id=map_id)


def _load(revision_id: int) -> Revision:
    return maps.get_revision(ctx.engine, actor, revision_id=revision_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _compare(old_json: str, new_json: str) -> tuple[MapDiff, list[str], tuple[Any, Any], tuple[Any, Any]]:
    old, new = map_from_json(old_json), map_from_json(new_json)
    diff = diff_maps(old, new)
    return diff, diff_summary(diff), diff_graph_elements(old, new, "old"), diff_graph_elements(old, new, "new")


def _backlog_json(inputs: reviews.ReportInputs) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The report's open opportunities and unresolved comments, as JSON texts (hashable cache arguments)."""
    return tuple(o.model_dump_json() for o in inputs.opportunities), tuple(c.model_dump_json() for c in inputs.comments)


def _report(
    map_json: str,
    revision_json: str,
    backlog: tuple[tuple[str, ...], tuple[str, ...]],
    overlay: Overlay | None = None,
    assessment: AssessmentSummary | None = None,
    what_if: WhatIf | None = None,
) -> Any:
    return build_report(
        map_from_json(map_json),
        revision=RevisionInfo.model_validate_json(revision_json),
        overlay=overlay,
        what_if=what_if,
        assessment=assessment,
        opportunities=[OpportunityInfo.model_validate_json(text) for text in backlog[0]],
        comments=[CommentInfo.model_validate_json(text) for text in backlog[1]],
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _pdf(
    map_json: str,
    revision_json: str,
    backlog: tuple[tuple[str, ...], tuple[str, ...]],
    extras: tuple[str | None, int | None, tuple[str, ...]],
    *,
    _overlay: Overlay | None,
    _assessment: AssessmentSummary | None,
    _what_if: WhatIf | None = None,
) -> bytes:
    del extras  # the overlay key, the assessment id and the what-if fixes: what the unhashed arguments are
    return render_pdf(_report(map_json, revision_json, backlog, _overlay, _assessment, _what_if))


def _export_overlay(
    dataset: DatasetInfo | None, revision_id: int, journey_map: JourneyMap
) -> tuple[str, str, Overlay] | None:
    """The map's newest dataset overlaid on the exported revision with the Overlay page's defaults.

    Returns the dataset's name, the overlay's cache key and the overlay; ``None`` when the map has no dataset.
    """
    if dataset is None:
        return None
    settings = default_settings(journey_map)  # the Overlay page's goal: the map's final touchpoints
    log = cached_log(dataset.content_hash, dataset.mapping_json, dataset.cache_path)
    overlay = cached_overlay(
        log,
        content_hash=dataset.content_hash,
        mapping_json=dataset.mapping_json,
        revision_id=revision_id,
        journey_map=journey_map,
        settings=settings,
    )
    return dataset.name, overlay_key(dataset.content_hash, dataset.mapping_json, revision_id, settings), overlay


@st.cache_data(show_spinner=False, max_entries=8)
def _png(map_json: str) -> bytes:
    return render_png_graph(map_from_json(map_json))


def _on_restore(map_id: int, base_revision_id: int, numbers: dict[int, int]) -> None:
    chosen = st.session_state.get(f"{ReviewKeys.RESTORE_CHOICE}_{map_id}")
    if not isinstance(chosen, int):
        return
    try:  # asked again: the sign-in may have ended since the button was drawn
        restored = maps.restore_revision(
            ctx.engine, current_actor(ctx.engine), map_id=map_id, revision_id=chosen, base_revision_id=base_revision_id
        )
    except UserInputError as exc:
        flash("review", "error", str(exc))
    else:
        flash("review", "success", f"Revision {numbers.get(chosen, '?')} restored as revision {restored.number}.")


# --- which map ------------------------------------------------------------------------------------------
def _refuse_unlisted(requested: object) -> None:
    """Say why a map id asked for (in the URL's session, or forced into the picker) is not offered here."""
    if not isinstance(requested, int) or requested in by_id:
        return
    try:
        maps.get_map(ctx.engine, actor, map_id=requested)
    except UserInputError as exc:  # not this visitor's map (refused), or gone
        st.error(md(str(exc)))
    else:  # readable but not listed (archived): nothing to refuse
        return


with pick_area:
    show_flash("review")
    picked = st.session_state.get(ReviewKeys.PICK_MAP)
    _refuse_unlisted(picked if picked is not None else st.session_state.get(StateKeys.MAP_ID))
    preselect_map(ReviewKeys.PICK_MAP, list(by_id))
    map_id = int(st.selectbox("Map to review", options=list(by_id), format_func=_map_label, key=ReviewKeys.PICK_MAP))
    try:
        history = _history(map_id)
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    revisions = {r.id: r for r in history}
    try:
        latest_map: JourneyMap | None = _load(history[0].id).journey_map
    except UserInputError:  # a damaged latest revision: the comparison says which, and an older one can be restored
        latest_map = None
    if latest_map is not None:
        ctx.show_picked_map(map_id, latest_map)

# --- history and restore ----------------------------------------------------------------------------------
with history_area:
    st.subheader("History")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Revision": r.number,
                    "Author": r.author,
                    "Message": r.message,
                    "Saved (UTC)": r.created_at.strftime("%Y-%m-%d %H:%M"),
                    "Touchpoints": r.touchpoints,
                    "Transitions": r.transitions,
                    "Silo handoffs": r.silo_handoffs,
                }
                for r in history
            ],
            columns=["Revision", "Author", "Message", "Saved (UTC)", "Touchpoints", "Transitions", "Silo handoffs"],
        ),
        hide_index=True,
        key=ReviewKeys.HISTORY_TABLE,
    )
    older = [r.id for r in history[1:]]
    editable = actor.is_editor and can_edit(ctx.engine, map_id=map_id)
    if not editable:
        st.caption("Restoring needs an editor (and the map not locked by a workshop).")
    restore_col, restore_button_col = st.columns([3, 1], vertical_alignment="bottom")
    restore_col.selectbox(
        "Restore an earlier revision as a new revision (nothing is overwritten)",
        options=older,
        format_func=lambda rid: _revision_label(revisions[rid]),
        key=f"{ReviewKeys.RESTORE_CHOICE}_{map_id}",
        placeholder="This map has only one revision",
        disabled=not older or not editable,
    )
    restore_button_col.button(
        "Restore",
        key=ReviewKeys.RESTORE_SUBMIT,
        disabled=not older or not editable,
        on_click=_on_restore,
        args=(map_id, history[0].id, {r.id: r.number for r in history}),
    )

# --- comments, opportunities and share links ----------------------------------------------------------------
# Filled before the comparison and the export, which stop the page on a damaged revision; the share links
# are still drawn last, beside the export.
if latest_map is not None:  # comments and opportunities point at the latest revision's parts
    with comments_area:
        comments_panel(ctx.engine, map_id, latest_map)
    with opportunities_area:
        opportunities_panel(ctx.engine, map_id, latest_map)
with share_area:
    share_links_panel(ctx.engine, map_id)

# --- compare --------------------------------------------------------------------------------------------
with compare_area:
    st.subheader("Compare")
    other_col, old_col, new_col = st.columns(3)
    other_options: list[int | None] = [None, *[mid for mid in by_id if mid != map_id]]
    other_id = other_col.selectbox(
        "Compare with",
        options=other_options,
        format_func=lambda mid: "Another revision of this map" if mid is None else _map_label(mid),
        key=f"{ReviewKeys.OTHER_MAP}_{map_id}",
    )
    new_history = history if other_id is None else _history(int(other_id))
    new_revisions = {r.id: r for r in new_history}
    old_id = old_col.selectbox(
        "Older revision",
        options=list(revisions),
        index=1 if other_id is None and len(history) > 1 else 0,
        format_func=lambda rid: _revision_label(revisions[rid]),
        key=f"{ReviewKeys.OLD_REVISION}_{map_id}",
    )
    new_id = new_col.selectbox(
        "Newer revision" if other_id is None else "Revision of the other map",
        options=list(new_revisions),
        index=0,
        format_func=lambda rid: _revision_label(new_revisions[rid]),
        key=f"{ReviewKeys.NEW_REVISION}_{map_id}_{other_id}",
    )
    try:
        old_rev, new_rev = _load(int(old_id)), _load(int(new_id))
    except UserInputError as exc:  # a damaged stored revision: say which, never a traceback
        st.error(md(str(exc)))
        st.stop()
    diff, summary, old_graph, new_graph = _compare(map_to_json(old_rev.journey_map), map_to_json(new_rev.journey_map))
    metric_cols = st.columns(len(KEY_FIGURES))
    for column, name in zip(metric_cols, KEY_FIGURES, strict=True):
        fig = diff.figure(name)
        is_factor = name == "Designed integration factor"
        value = "–" if fig.new is None else f"{fig.new:.2f}" if is_factor else f"{fig.new:g}"
        delta = None if fig.delta is None or fig.delta == 0 else f"{fig.delta:+.2f}" if is_factor else f"{fig.delta:+g}"
        worse_when_up = name in ("Silo handoffs", "Dead ends", "Unreachable")
        column.metric(
            "Integration factor" if is_factor else name,
            value,
            delta,
            delta_color="inverse" if worse_when_up else "normal" if is_factor else "off",
            help=f"Older: {'–' if fig.old is None else f'{fig.old:g}'}",
        )
    st.markdown("\n".join(f"- {md(line)}" for line in summary))

with graphs_area:
    # One above the other, each as wide as the page: side by side, a map's labels are too small to read.
    config = agraph_config_kwargs(GRAPH_HEIGHT)
    st.caption(f"Older: revision {old_rev.number} of {md(old_rev.journey_map.name)} (red: removed, amber: changed)")
    render_graph(old_graph[0], old_graph[1], config, key=ReviewKeys.GRAPH_OLD)
    st.caption(f"Newer: revision {new_rev.number} of {md(new_rev.journey_map.name)} (green: added, amber: changed)")
    render_graph(new_graph[0], new_graph[1], config, key=ReviewKeys.GRAPH_NEW)


def _table(title: str, key: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    st.markdown(f"**{title}**")
    st.dataframe(pd.DataFrame(rows, columns=columns), hide_index=True, key=f"{ReviewKeys.DIFF_TABLE_PREFIX}_{key}")


with details_area:
    st.subheader("Differences")
    tp_tab, tr_tab, handoff_tab, part_tab = st.tabs(["Touchpoints", "Transitions", "Handoffs", "Stages and channels"])
    with tp_tab:
        # Touchpoints by name and channel name (two of one name are told apart by their channel), never by id.
        old_map, new_map = old_rev.journey_map, new_rev.journey_map
        old_channel = {tp.id: old_map.channel(tp.channel).name for tp in old_map.touchpoints}
        new_channel = {tp.id: new_map.channel(tp.channel).name for tp in new_map.touchpoints}
        _table(
            "Touchpoints added, removed or changed",
            "touchpoints",
            [{"Change": "added", "Touchpoint": tp.name, "Channel": new_channel[tp.id], "Field": "", "Older": "",
              "Newer": ""} for tp in diff.touchpoints_added]
            + [{"Change": "removed", "Touchpoint": tp.name, "Channel": old_channel[tp.id], "Field": "", "Older": "",
                "Newer": ""} for tp in diff.touchpoints_removed]
            + [{"Change": "changed", "Touchpoint": c.name, "Channel": new_channel[c.new_id], "Field": f.field,
                "Older": f.old, "Newer": f.new} for c in diff.touchpoints_changed for f in c.changes],
            ["Change", "Touchpoint", "Channel", "Field", "Older", "Newer"],
        )  # fmt: skip
    with tr_tab:
        _table(
            "Transitions added, removed or changed",
            "transitions",
            [{"Change": "added", "From": r.source_name, "To": r.target_name, "Field": "context carry", "Older": "",
              "Newer": r.context_carry} for r in diff.transitions_added]
            + [{"Change": "removed", "From": r.source_name, "To": r.target_name, "Field": "context carry",
                "Older": r.context_carry, "Newer": ""} for r in diff.transitions_removed]
            + [{"Change": "changed", "From": c.source_name, "To": c.target_name, "Field": f.field, "Older": f.old,
                "Newer": f.new} for c in diff.transitions_changed for f in c.changes],
            ["Change", "From", "To", "Field", "Older", "Newer"],
        )  # fmt: skip
    with handoff_tab:
        _table(
            "Handoffs whose context carry changed",
            "handoffs",
            [
                {
                    "From": c.source_name,
                    "To": c.target_name,
                    "Older carry": c.old_carry,
                    "Newer carry": c.new_carry,
                    "Silo handoff": "became one" if c.became_silo else "no longer" if c.stopped_silo else "",
                }
                for c in diff.carry_changes
            ],
            ["From", "To", "Older carry", "Newer carry", "Silo handoff"],
        )
    with part_tab:
        _table(
            "Stages, channels and personas",
            "parts",
            [
                {
                    "Kind": p.kind,
                    "Change": p.change,
                    "Older name": p.old_name or "",
                    "Newer name": p.new_name or "",
                    "Details": "; ".join(f"{d.field}: {d.old} → {d.new}" for d in p.details),
                }
                for p in diff.parts
            ],
            ["Kind", "Change", "Older name", "Newer name", "Details"],
        )

# --- export ---------------------------------------------------------------------------------------------
with export_area:
    st.subheader("Export")
    export_id = st.selectbox(
        "Revision to export",
        options=list(revisions),
        format_func=lambda rid: _revision_label(revisions[rid]),
        key=f"{ReviewKeys.EXPORT_REVISION}_{map_id}",
    )
    export_info = revisions[int(export_id)]
    # Assessments are the workspace's: offered to members only (a share-link visitor exports their map alone).
    assessments: dict[int, AssessmentInfo] = (
        {a.id: a for a in maturity.list_assessments(ctx.engine, actor)} if actor.can(Action.READ_WORKSPACE) else {}
    )
    assessment_id = st.selectbox(
        "Maturity assessment to include",
        options=[None, *assessments],
        format_func=lambda aid: "None" if aid is None else assessments[aid].label,
        key=ReviewKeys.EXPORT_ASSESSMENT,
        help="Adds the maturity radar and the levels by dimension (consensus of the answers, and the targets).",
        disabled=not assessments,
    )
    chosen_assessment = int(assessment_id) if assessment_id in assessments else None
    try:
        try:
            inputs = reviews.export_report(
                ctx.engine, actor, map_id=map_id, revision_id=export_info.id, assessment_id=chosen_assessment
            )
        except UserInputError as exc:
            if chosen_assessment is None:
                raise
            st.error(md(str(exc)))  # a damaged assessment: export without it, and say why
            chosen_assessment = None
            inputs = reviews.export_report(ctx.engine, actor, map_id=map_id, revision_id=export_info.id)
    except UserInputError as exc:
        st.error(md(str(exc)))
        st.stop()
    export_map = inputs.revision.journey_map
    export_assessment = inputs.assessment
    export_json = map_to_json(export_map)
    backlog = _backlog_json(inputs)
    base_name = file_name_for(export_map.name).removesuffix(".json") + f"-r{export_info.number}"

    try:
        found_overlay = _export_overlay(inputs.dataset, export_info.id, export_map)
    except UserInputError as exc:  # a deleted or damaged dataset cache: export without event data, and say why
        found_overlay = None
        st.warning(md(f"The report leaves the event data out: {exc}"))
    export_overlay = found_overlay[2] if found_overlay else None
    overlay_cache_key = found_overlay[1] if found_overlay else None
    if found_overlay:
        st.caption(
            md(
                f"Reports include the overlay of {found_overlay[0]}, the newest dataset registered for this map "
                "(default overlay settings)."
            )
        )
    # The handoffs chosen in the Overlay page's What if panel for this map, predicted on the exported overlay.
    fixes = chosen_fixes(map_id) if export_overlay is not None else ()
    export_what_if = None
    if fixes and export_overlay is not None and overlay_cache_key:
        export_what_if = cached_what_if(overlay_cache_key, fixes, overlay=export_overlay, journey_map=export_map)
        st.caption(
            md(f"Reports include what keeping the context would change across: {'; '.join(f.label for f in fixes)}.")
        )
    extras = (
        overlay_cache_key,
        chosen_assessment if export_assessment is not None else None,
        tuple(f"{f.kind}:{f.source}->{f.target}" for f in fixes),
    )

    def _html_report() -> str:
        # Runs when the button is clicked (on a worker thread): plain functions only.
        return render_html(
            _report(
                export_json, export_info.model_dump_json(), backlog, export_overlay, export_assessment, export_what_if
            )
        )

    try:
        find_browser()
        browser_problem = None
    except UserInputError as exc:
        browser_problem = str(exc)
    json_col, html_col, pdf_col, png_col = st.columns(4)
    json_col.download_button(
        "Download JSON",
        data=export_json,
        file_name=f"{base_name}.json",
        mime="application/json",
        key=ReviewKeys.EXPORT_JSON,
        on_click="ignore",
    )
    html_col.download_button(
        "Download HTML report",
        data=_html_report,
        file_name=f"{base_name}.html",
        mime="text/html",
        key=ReviewKeys.EXPORT_HTML,
        on_click="ignore",
    )
    for column, kind, build_key, download_key, state_key, mime in (
        (pdf_col, "PDF report", ReviewKeys.BUILD_PDF, ReviewKeys.EXPORT_PDF, ReviewKeys.PDF_FOR, "application/pdf"),
        (png_col, "PNG of the graph", ReviewKeys.BUILD_PNG, ReviewKeys.EXPORT_PNG, ReviewKeys.PNG_FOR, "image/png"),
    ):
        with column:
            if st.button(f"Prepare {kind}", key=build_key, disabled=browser_problem is not None):
                st.session_state[state_key] = export_info.id
            if st.session_state.get(state_key) != export_info.id or browser_problem:
                continue
            try:
                with st.spinner(f"Drawing the {kind}…"):
                    data = (
                        _pdf(
                            export_json,
                            export_info.model_dump_json(),
                            backlog,
                            extras,
                            _overlay=export_overlay,
                            _assessment=export_assessment,
                            _what_if=export_what_if,
                        )
                        if state_key == ReviewKeys.PDF_FOR
                        else _png(export_json)
                    )
            except UserInputError as exc:
                st.session_state.pop(state_key, None)
                st.error(md(str(exc)))
                continue
            st.download_button(
                f"Download {kind}",
                data=data,
                file_name=f"{base_name}.{'pdf' if state_key == ReviewKeys.PDF_FOR else 'png'}",
                mime=mime,
                key=download_key,
                on_click="ignore",
                type="primary",
            )
    if browser_problem:
        st.info(md(browser_problem))
