"""Maturity: how omnichannel are we? A workshop's answers, the evidence beside them, gaps and next steps."""

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from journeymap.access import Action, PermissionDenied
from journeymap.errors import UserInputError
from journeymap.events.goals import default_settings
from journeymap.maturity import (
    Answer,
    DimensionEvidence,
    Evidence,
    Framework,
    characteristics_rows,
    combine_evidence,
    current_levels,
    evidence_from_map,
    evidence_from_overlay,
    find_disagreements,
    framework_from_json,
    framework_to_json,
    load_builtin_framework,
    map_elements,
    radar_figure,
    recommend,
    recommendation_rows,
    score_dimensions,
    score_evidence,
    score_rows,
)
from journeymap.services import maturity
from journeymap.store.assessments import AssessmentInfo
from journeymap.ui import flash, init_page, md, show_flash
from journeymap.ui.access import current_actor
from journeymap.ui.overlay_state import cached_log, cached_overlay, overlay_key
from journeymap.ui.state import MaturityKeys
from journeymap.ui.whatif_panel import chosen_fixes, evidence_shift_section

NOT_ANSWERED = 0
DONT_KNOW = -1
NO_MAP = -1
NO_DATASET = -1

ctx = init_page()
st.title("Omnichannel maturity")
st.caption(
    "Score the organisation from multichannel (channels run as silos) to omnichannel (one connected journey): "
    "a workshop's answers, the evidence of the maps beside them, the gaps to the target and what to do next."
)


def select_assessment(assessment_id: int) -> None:
    """Open ``assessment_id`` on the next run."""
    st.session_state[MaturityKeys.ASSESSMENT_ID] = assessment_id
    st.session_state[MaturityKeys.PENDING] = assessment_id
    st.query_params[MaturityKeys.QUERY_ASSESSMENT] = str(assessment_id)


# --- writes: callbacks, each one service call with the actor as the database knows them now --------
def refused(section: str, exc: UserInputError) -> None:
    """Say why a write was refused: beside its form, or at the top when the actor may no longer write at all."""
    flash("maturity" if isinstance(exc, PermissionDenied) else section, "error", str(exc))


def on_create(engine: Engine) -> None:
    new_date = st.session_state.get(MaturityKeys.NEW_DATE)
    try:
        created = maturity.create_assessment(
            engine,
            current_actor(engine),
            name=str(st.session_state.get(MaturityKeys.NEW_NAME, "")),
            business_unit=str(st.session_state.get(MaturityKeys.NEW_UNIT, "")),
            assessed_on=new_date if isinstance(new_date, date) else date.today(),
            framework_key=str(st.session_state.get(MaturityKeys.NEW_FRAMEWORK, "")),
        )
    except UserInputError as exc:
        refused("maturity-choose", exc)
        return
    select_assessment(created.id)
    flash("maturity-choose", "success", f"Created '{created.label}'.")


def on_import(engine: Engine) -> None:
    upload = st.session_state.get(MaturityKeys.IMPORT_FILE)
    if upload is None:
        flash("maturity-files", "error", "Choose an exported assessment (JSON) first.")
        return
    try:
        imported = maturity.import_assessment(
            engine, current_actor(engine), data=upload.getvalue(), source=str(upload.name)
        )
    except UserInputError as exc:
        refused("maturity-files", exc)
        return
    select_assessment(imported.id)
    flash("maturity-choose", "success", f"Imported '{imported.label}'.")


def on_save_framework(engine: Engine) -> None:
    try:
        edited = framework_from_json(
            str(st.session_state.get(MaturityKeys.FRAMEWORK_TEXT, "")), source="framework document"
        )
        base_key, base_number = st.session_state[MaturityKeys.FRAMEWORK_BASE]
        saved = maturity.save_framework(
            engine,
            current_actor(engine),
            framework=edited,
            base_number=base_number if edited.key == base_key else None,
        )
    except UserInputError as exc:
        refused("maturity-framework", exc)
        return
    st.session_state.pop(MaturityKeys.FRAMEWORK_BASE, None)
    flash("maturity-framework", "success", f"Saved '{saved.framework_key}' revision {saved.number}.")


def on_save_answers(engine: Engine, assessment_id: int, keys: dict[str, str]) -> None:
    """Save the answers of the form whose widgets are ``keys`` (question id → key suffix)."""
    given: list[Answer] = []
    for question_id, suffix in keys.items():
        value = st.session_state.get(f"{MaturityKeys.ANSWER_PREFIX}{suffix}", NOT_ANSWERED)
        if value == NOT_ANSWERED:
            continue
        given.append(
            Answer(
                "",  # the service signs every answer with the acting account's name
                question_id,
                None if value == DONT_KNOW else int(value),
                str(st.session_state.get(f"{MaturityKeys.NOTE_PREFIX}{suffix}", "")),
                str(st.session_state.get(f"{MaturityKeys.LINK_PREFIX}{suffix}", "")),
            )
        )
    actor = current_actor(engine)
    try:
        count = maturity.save_answers(engine, actor, assessment_id=assessment_id, answers=given)
    except UserInputError as exc:
        refused("maturity-answer", exc)
        return
    flash("maturity-answer", "success", f"Saved {count} answer(s) for {actor.name}.")


def on_save_targets(engine: Engine, assessment_id: int, dimension_ids: tuple[str, ...]) -> None:
    targets = {d: int(st.session_state[f"{MaturityKeys.TARGET_PREFIX}{assessment_id}_{d}"]) for d in dimension_ids}
    try:
        maturity.set_targets(engine, current_actor(engine), assessment_id=assessment_id, targets=targets)
    except UserInputError as exc:
        refused("maturity-targets", exc)
        return
    flash("maturity-targets", "success", "Targets saved.")


# --- guard: the workspace's members only ----------------------------------------------------------------
show_flash("maturity")
if not ctx.actor.can(Action.READ_WORKSPACE):
    st.info(
        "Sign in to see the workspace's maturity assessments: they are read by its members only "
        "(a share link opens one map, not the assessments)."
    )
    st.stop()
may_assess = ctx.actor.can(Action.ASSESS)

# --- state: the workspace's frameworks and assessments -------------------------------------------------
frameworks = maturity.list_frameworks(ctx.engine, ctx.actor)
if may_assess and load_builtin_framework().key not in {f.framework_key for f in frameworks}:
    maturity.ensure_builtin_framework(ctx.engine, ctx.actor)
    frameworks = maturity.list_frameworks(ctx.engine, ctx.actor)
assessments = maturity.list_assessments(ctx.engine, ctx.actor)
by_id = {a.id: a for a in assessments}

# The picker's value lives in session state: a new or imported assessment is put there before the widget is drawn
# (the browser would otherwise send the old choice back); a refreshed page starts from the URL.
requested = st.query_params.get(MaturityKeys.QUERY_ASSESSMENT)
pending = st.session_state.pop(MaturityKeys.PENDING, None)
if pending in by_id:
    st.session_state[MaturityKeys.PICK] = pending
elif st.session_state.get(MaturityKeys.PICK) not in by_id:
    remembered = st.session_state.get(MaturityKeys.ASSESSMENT_ID)
    if requested is not None and requested.isdigit() and int(requested) in by_id:
        st.session_state[MaturityKeys.PICK] = int(requested)
    elif remembered in by_id:
        st.session_state[MaturityKeys.PICK] = remembered
    elif assessments:
        st.session_state[MaturityKeys.PICK] = assessments[0].id
chosen_id: int | None = st.session_state.get(MaturityKeys.PICK)

choose_area = st.container()
with choose_area:
    pick_col, new_col = st.columns([3, 2])
    with pick_col:
        st.subheader("Assessment")
        show_flash("maturity-choose")
        if assessments:
            chosen_id = st.selectbox(
                "Open an assessment (name · business unit · date)",
                options=list(by_id),
                format_func=lambda i: by_id[i].label,
                key=MaturityKeys.PICK,
            )
            if chosen_id is not None and requested != str(chosen_id):
                st.query_params[MaturityKeys.QUERY_ASSESSMENT] = str(chosen_id)
    if may_assess:
        with (
            new_col,
            st.expander("New assessment", expanded=not assessments),
            st.form(key=MaturityKeys.NEW_FORM, clear_on_submit=True),
        ):
            st.text_input("Name", key=MaturityKeys.NEW_NAME, max_chars=200, placeholder="e.g. Q3 review")
            st.text_input("Business unit", key=MaturityKeys.NEW_UNIT, max_chars=200)
            st.date_input("Assessed on", value=date.today(), key=MaturityKeys.NEW_DATE)
            fw_names = {f.framework_key: f"{f.name} (revision {f.number})" for f in frameworks}
            st.selectbox(
                "Framework",
                options=list(fw_names),
                format_func=fw_names.__getitem__,
                key=MaturityKeys.NEW_FRAMEWORK,
            )
            st.form_submit_button(
                "Create assessment",
                type="primary",
                key=MaturityKeys.NEW_SUBMIT,
                on_click=on_create,
                args=(ctx.engine,),
            )
    else:
        new_col.caption(f"{md(ctx.actor.name)} is {ctx.actor.role.value}: owners and editors record assessments.")

# --- guard ---------------------------------------------------------------------------------------------
if chosen_id is None:
    st.info("No assessment yet: create one above, or import an exported one on the 'Export and import' tab.")
assessment: AssessmentInfo | None = by_id.get(chosen_id) if chosen_id is not None else None

framework: Framework | None = None
answers: tuple[Answer, ...] = ()
if assessment is not None:
    st.session_state[MaturityKeys.ASSESSMENT_ID] = assessment.id
    try:
        opened = maturity.open_assessment(ctx.engine, ctx.actor, assessment_id=assessment.id)
        framework, answers = opened.framework, opened.answers
    except UserInputError as exc:
        st.error(md(str(exc)))
        assessment = None

tab_names = ["Answer", "Scores", "Evidence", "Compare", "Recommendations", "Export and import", "Framework"]
(answer_tab, score_tab, evidence_tab, compare_tab, recommend_tab, files_tab, framework_tab) = st.tabs(tab_names)


# --- export and import (available without an assessment) --------------------------------------------
with files_tab:
    show_flash("maturity-files")
    if assessment is not None:
        st.download_button(
            "Export assessment (JSON)",
            data=maturity.export_assessment(ctx.engine, ctx.actor, assessment_id=assessment.id),
            file_name=f"assessment-{assessment.id}.json",
            mime="application/json",
            key=MaturityKeys.EXPORT,
        )
    if may_assess:
        upload = st.file_uploader("Import an exported assessment", type=["json"], key=MaturityKeys.IMPORT_FILE)
        st.button(
            "Import as a new assessment",
            key=MaturityKeys.IMPORT_SUBMIT,
            disabled=upload is None,
            on_click=on_import,
            args=(ctx.engine,),
        )

# --- framework: view and edit as a new revision ----------------------------------------------------
with framework_tab:
    show_flash("maturity-framework")
    st.caption(
        "A framework is a JSON document: dimensions, levels with one descriptor each, questions, evidence "
        "thresholds and recommendations. Edit it here and save it as a new revision; existing assessments keep "
        "the revision they were answered against. Frameworks may use another number of levels, as long as every "
        "dimension describes each level and evidence thresholds number one fewer than the levels."
    )
    if frameworks:
        fw_by_key = {f.framework_key: f for f in frameworks}
        edit_key = st.selectbox(
            "Framework to edit",
            options=list(fw_by_key),
            format_func=lambda k: f"{fw_by_key[k].name} ({k}, revision {fw_by_key[k].number})",
            key=MaturityKeys.FRAMEWORK_PICK,
        )
        base = st.session_state.get(MaturityKeys.FRAMEWORK_BASE)
        if base is None or base[0] != edit_key:
            info, doc = maturity.get_framework(ctx.engine, ctx.actor, key=edit_key)
            st.session_state[MaturityKeys.FRAMEWORK_BASE] = (edit_key, info.number)
            st.session_state[MaturityKeys.FRAMEWORK_TEXT] = framework_to_json(doc)
        st.text_area(
            "Framework document (change 'key' to save it as a new framework)",
            key=MaturityKeys.FRAMEWORK_TEXT,
            height=360,
            disabled=not may_assess,
        )
        if may_assess:
            st.button(
                "Save framework revision",
                key=MaturityKeys.FRAMEWORK_SUBMIT,
                on_click=on_save_framework,
                args=(ctx.engine,),
            )

if assessment is None or framework is None:
    st.stop()

# --- evidence: a saved map, and an event dataset overlaid on it -------------------------------------
sources = maturity.evidence_sources(ctx.engine, ctx.actor)
saved_maps, datasets = sources.maps, sources.datasets
map_names = {s.id: s.name for s in saved_maps}
dataset_names = {d.id: f"{d.name} ({d.rows:,} events)" for d in datasets}
evidence = Evidence()
elements: dict[str, tuple[str, ...]] | None = None
with evidence_tab:
    st.caption(
        "Indicators are mapped to levels with the thresholds in the framework; the weakest indicator of a dimension "
        "sets its evidence level. The map gives the designed integration factor and the shares of cross-owner and "
        "silo handoffs; an event dataset overlaid on it (default overlay settings) adds the measured integration "
        "factor, repeat contacts, context loss at handoffs and conformance, and the identity-stitching rate measured "
        "when the file was imported (datasets imported before that rate was kept have none)."
    )
    evidence_map = st.selectbox(
        "Map to take evidence from",
        options=[NO_MAP, *map_names],
        format_func=lambda i: "no map" if i == NO_MAP else f"{map_names[i]} (#{i})",
        key=MaturityKeys.EVIDENCE_MAP,
    )
    if evidence_map != NO_MAP:
        try:
            revision = maturity.evidence_inputs(ctx.engine, ctx.actor, map_id=int(evidence_map)).revision
        except UserInputError as exc:
            st.error(md(str(exc)))
        else:
            evidence = evidence_from_map(revision.journey_map)
            elements = map_elements(revision.journey_map)
            dataset_id = st.selectbox(
                "Event dataset overlaid on that map",
                options=[NO_DATASET, *dataset_names],
                format_func=lambda i: "none" if i == NO_DATASET else dataset_names[i],
                key=MaturityKeys.EVIDENCE_DATASET,
                disabled=not datasets,
                help=None if datasets else "Load event data on the Overlay page first.",
            )
            if dataset_id != NO_DATASET:
                try:
                    inputs = maturity.evidence_inputs(
                        ctx.engine, ctx.actor, map_id=int(evidence_map), dataset_id=int(dataset_id)
                    )
                    dataset = inputs.dataset
                    assert dataset is not None
                    revision = inputs.revision
                    log = cached_log(dataset.content_hash, dataset.mapping_json, dataset.cache_path)
                    settings = default_settings(revision.journey_map)
                    overlay = cached_overlay(
                        log,
                        content_hash=dataset.content_hash,
                        mapping_json=dataset.mapping_json,
                        revision_id=revision.id,
                        journey_map=revision.journey_map,
                        settings=settings,
                    )
                except UserInputError as exc:
                    st.error(md(str(exc)))
                else:
                    evidence = combine_evidence(
                        evidence, evidence_from_overlay(overlay, stitching_rate=dataset.stitching_rate)
                    )
                    fixes = chosen_fixes(int(evidence_map))
                    if fixes:  # the Overlay page's What if panel has handoffs chosen for this map
                        evidence_shift_section(
                            overlay,
                            key=overlay_key(dataset.content_hash, dataset.mapping_json, revision.id, settings),
                            fixes=fixes,
                            journey_map=revision.journey_map,
                            framework=framework,
                        )
evidence_scores: tuple[DimensionEvidence, ...] = score_evidence(framework, evidence)
with evidence_tab:
    rows = [
        {
            "Dimension": e.name,
            "Indicator": i.label,
            "Value": round(i.value, 3),
            "Suggests level": i.level,
        }
        for e in evidence_scores
        for i in e.indicators
    ]
    if rows:
        st.dataframe(
            pd.DataFrame(rows, columns=["Dimension", "Indicator", "Value", "Suggests level"]),
            hide_index=True,
            key=MaturityKeys.EVIDENCE_TABLE,
            column_config={
                "Dimension": st.column_config.TextColumn(
                    "Dimension", help="The maturity dimension the indicator speaks to."
                ),
                "Indicator": st.column_config.TextColumn(
                    "Indicator", help="What was measured: on the map as designed, or in the event data overlaid on it."
                ),
                "Value": st.column_config.NumberColumn(
                    "Value", format="%.3f", help="The indicator's value, a share from 0 (none) to 1 (all)."
                ),
                "Suggests level": st.column_config.NumberColumn(
                    "Suggests level",
                    help="The level the framework's thresholds give this value; a dimension's weakest indicator "
                    "sets its evidence level.",
                ),
            },
        )
    else:
        st.info("No evidence yet: pick a map with handoffs, and an event dataset when one is loaded.")

# --- answer --------------------------------------------------------------------------------------------
assessor = ctx.actor.name
with answer_tab:
    show_flash("maturity-answer")
    if not may_assess:
        st.info(
            f"{md(assessor)} is {ctx.actor.role.value}: owners and editors answer. The Scores tab shows every answer."
        )
    else:
        mine = {a.question_id: a for a in answers if a.assessor == assessor}
        options = [NOT_ANSWERED, DONT_KNOW, *range(1, framework.level_count + 1)]
        st.caption(
            f"Answering as **{md(assessor)}**. Pick the level whose description fits best, or 'don't know'. "
            "Other assessors' answers are kept; the Scores tab shows the spread."
        )
        answer_keys = {q: f"{assessment.id}_{assessor}_{q}" for q in framework.question_ids}
        with st.form(key=f"{MaturityKeys.ANSWER_FORM}_{assessment.id}"):
            for dim in framework.dimensions:
                st.markdown(f"**{md(dim.name)}**")
                st.caption(f"Multichannel: {md(dim.multichannel)} Omnichannel: {md(dim.omnichannel)}")

                def label(value: int, levels: tuple[str, ...] = dim.levels, scale: Framework = framework) -> str:
                    if value == NOT_ANSWERED:
                        return "not answered"
                    if value == DONT_KNOW:
                        return "don't know"
                    return f"{value} · {scale.levels[value - 1].name}: {levels[value - 1]}"

                for question in dim.questions:
                    given = mine.get(question.id)
                    answered = NOT_ANSWERED if given is None else (DONT_KNOW if given.level is None else given.level)
                    suffix = answer_keys[question.id]
                    st.selectbox(
                        question.text,
                        options=options,
                        index=options.index(answered),
                        format_func=label,
                        key=f"{MaturityKeys.ANSWER_PREFIX}{suffix}",
                    )
                    note_col, link_col = st.columns(2)
                    note_col.text_input(
                        "Note",
                        value=given.note if given else "",
                        key=f"{MaturityKeys.NOTE_PREFIX}{suffix}",
                        max_chars=5000,
                    )
                    link_col.text_input(
                        "Evidence link",
                        value=given.evidence_link if given else "",
                        key=f"{MaturityKeys.LINK_PREFIX}{suffix}",
                        max_chars=2000,
                    )
            st.form_submit_button(
                "Save my answers",
                type="primary",
                key=MaturityKeys.ANSWER_SUBMIT,
                on_click=on_save_answers,
                args=(ctx.engine, assessment.id, answer_keys),
            )

# --- scores --------------------------------------------------------------------------------------------
scores = score_dimensions(framework, answers)
current = current_levels(scores)
disagreements = find_disagreements(scores, evidence_scores)
with score_tab:
    show_flash("maturity-targets")
    assessors = sorted({a.assessor for a in answers})
    st.caption(
        f"{len(assessors)} assessor(s): {', '.join(assessors) or 'none yet'}. Consensus is the median of the "
        "assessors' dimension scores; spread is their minimum, maximum and standard deviation. Dimensions nobody "
        "scored are 'not assessed'."
    )
    for flag in disagreements:
        st.warning(md(flag.message))
    st.dataframe(
        pd.DataFrame(
            score_rows(scores, targets=assessment.targets, evidence=evidence_scores, disagreements=disagreements)
        ),
        hide_index=True,
        key=MaturityKeys.SCORE_TABLE,
    )
    evidence_levels = {e.dimension_id: float(e.level) for e in evidence_scores if e.level is not None}
    profiles: list[tuple[str, dict[str, float]]] = [
        ("Current (consensus)", current),
        ("Target", {k: float(v) for k, v in assessment.targets.items()}),
    ]
    if evidence_levels:
        profiles.append(("Evidence", evidence_levels))
    st.plotly_chart(radar_figure(framework, profiles, title=assessment.label), key=MaturityKeys.RADAR)
    if may_assess:
        with st.expander("Target levels"), st.form(key=MaturityKeys.TARGET_FORM):
            for dim in framework.dimensions:
                st.select_slider(
                    dim.name,
                    options=list(range(1, framework.level_count + 1)),
                    value=assessment.targets.get(dim.id, framework.level_count),
                    key=f"{MaturityKeys.TARGET_PREFIX}{assessment.id}_{dim.id}",
                )
            st.form_submit_button(
                "Save targets",
                key=MaturityKeys.TARGET_SUBMIT,
                on_click=on_save_targets,
                args=(ctx.engine, assessment.id, tuple(d.id for d in framework.dimensions)),
            )

# --- compare -------------------------------------------------------------------------------------------
with compare_tab:
    comparable = [a for a in assessments if a.framework_key == assessment.framework_key]
    comparable.sort(key=lambda a: (a.assessed_on, a.id))
    labels = {a.id: a.label for a in comparable}
    picked_ids = st.multiselect(
        "Assessments to overlay (business units, or the same unit over time)",
        options=list(labels),
        default=[assessment.id],
        format_func=labels.__getitem__,
        key=f"{MaturityKeys.COMPARE_PICK}_{assessment.id}",
    )
    compared: list[tuple[str, dict[str, float]]] = []
    for other_id in picked_ids:
        other = maturity.open_assessment(ctx.engine, ctx.actor, assessment_id=other_id)
        if other.framework.level_count != framework.level_count:
            st.warning(md(f"'{other.info.label}' uses a {other.framework.level_count}-level scale and is left out."))
            continue
        compared.append((other.info.label, current_levels(score_dimensions(other.framework, other.answers))))
    st.plotly_chart(radar_figure(framework, compared), key=MaturityKeys.COMPARE_RADAR)
    st.dataframe(
        pd.DataFrame(
            [
                {"Assessment": name, **{d.name: levels.get(d.id) for d in framework.dimensions}}
                for name, levels in compared
            ]
        ),
        hide_index=True,
        key=MaturityKeys.COMPARE_TABLE,
    )
    st.markdown("**Multichannel versus omnichannel**")
    st.dataframe(pd.DataFrame(characteristics_rows(framework)), hide_index=True, key=MaturityKeys.CHARACTERISTICS_TABLE)

# --- recommendations ---------------------------------------------------------------------------------
with recommend_tab:
    largest = st.number_input(
        "Dimensions with the largest gaps to cover",
        min_value=1,
        max_value=len(framework.dimensions),
        value=min(3, len(framework.dimensions)),
        key=MaturityKeys.RECOMMEND_LARGEST,
    )
    actions = recommend(framework, current, assessment.targets, map_elements=elements, largest=int(largest))
    if not actions:
        st.info("No gap to close: every assessed dimension has reached its target (or nothing is assessed yet).")
    else:
        if elements is None:
            st.caption("Pick a map on the Evidence tab to list the touchpoints and handoffs each step concerns.")
        st.dataframe(pd.DataFrame(recommendation_rows(actions)), hide_index=True, key=MaturityKeys.RECOMMEND_TABLE)
        for action in actions:
            rec = action.recommendation
            st.markdown(
                f"**{md(rec.title)}** — {md(action.gap.name)}, "
                f"{round(action.gap.current, 2):g} → {action.gap.target}; "
                f"impact {rec.impact.value}, effort {rec.effort.value}"
            )
            st.markdown("\n".join(f"1. {md(step)}" for step in rec.steps))
            for kind, found in action.elements:
                if found:
                    with st.expander(f"{kind.capitalize()} on the map ({len(found)})"):
                        st.markdown("\n".join(f"- {md(item)}" for item in found))
                else:
                    st.caption(f"No {kind} on the selected map.")
