"""Overlay: what customers actually did, drawn on the designed journey — friction, silo handoffs, flows."""

from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

import pandas as pd
import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.uploaded_file_manager import UploadedFile

from journeymap.access import Action, Actor
from journeymap.errors import UserInputError
from journeymap.events.goals import final_touchpoints
from journeymap.events.ingest import DUPLICATE_CHOICES
from journeymap.events.journeys import format_gap
from journeymap.events.mapping import (
    FIELD_WORDS,
    ColumnMapping,
    MappingGuess,
    count_template_labels,
    customer_is_case,
    mapping_from_json,
)
from journeymap.events.settings import OverlaySettings
from journeymap.model import JourneyMap
from journeymap.overlay_viz import (
    CONTEXT_LOSS_BINS,
    FRICTION_BINS,
    csv_bytes,
    designed_handoff_table,
    filter_rows,
    flow_sankey,
    heatmap_data,
    journey_timeline,
    kpi_strip,
    outcome_funnel,
    overlay_graph,
    overlay_graph_config,
    pair_ends,
    pair_table,
    sankey_data,
    switch_heatmap,
    team_table,
    touchpoint_channels,
)
from journeymap.services import data as data_services
from journeymap.services.data import DEMO_EVENTS, NewTouchpoints, RawSource
from journeymap.store import MappingInfo
from journeymap.ui import EDITOR_PAGE, QueryParams, StateKeys, init_page, md, render_graph
from journeymap.ui.access import can_edit, current_actor
from journeymap.ui.labels import show_table
from journeymap.ui.overlay_state import (
    SAMPLE_ROWS,
    FindingRef,
    MappingForm,
    cached_behind,
    cached_guess,
    cached_label_counts,
    cached_log,
    cached_log_facts,
    cached_overlay,
    cached_paths,
    cached_raw,
    cached_reach,
    cached_split_warning,
    cached_timeline,
    mapping_json_from_form,
    overlay_key,
    prepared_key,
    release_upload,
)
from journeymap.ui.state import OverlayKeys
from journeymap.ui.whatif_panel import what_if_section

GRAPH_HEIGHT = 560
VIEWS = {"both": "Designed + observed", "designed": "Designed only", "observed": "Observed only"}
COLORS = {"context_loss": "Context loss", "friction": "Friction"}
KEEP_RAW = "(keep the raw label)"
NO_COLUMN = "(none)"
ONE_CHANNEL = "(one channel for the whole file)"
SANKEY_LEVELS = {"stage": "Stage by stage", "touchpoint": "Step by step"}
JOURNEY_CHOICES = {"case": "One per case, never cut", "gap": "Cut by the inactivity gap"}
HeatmapMetric = Literal["count", "context_loss"]
HEATMAP_METRICS: list[HeatmapMetric] = ["count", "context_loss"]
EDITORS_ONLY = "Only editors can register event data: sign in with an editor account."

ctx = init_page()
actor = current_actor(ctx.engine)
manages_data = actor.can(Action.MANAGE_DATA)
st.title("Overlay")
st.caption(
    "Real event data on the designed journey: where customers struggle, and where a channel switch drops the context."
)
if not actor.can(Action.READ_WORKSPACE):
    st.info(
        "The overlay reads the workspace's event data: sign in with an account to see it."
        if actor.map_scope is None
        else "A share link opens its one map, not the workspace's event data: the overlay is for signed-in accounts."
    )
    st.stop()

# Stable layout: every section has its place before anything is drawn, so the graph iframe is never recreated.
data_area = st.container()
mapping_area = st.container()
kpi_area = st.container()
filter_area = st.container()
graph_area = st.container()
board_area = st.container()
drill_area = st.container()
tabs_area = st.container()
whatif_area = st.container()


def _k(base: str, scope: object) -> str:
    return f"{base}{scope}"


def _fresh_actor() -> Actor:
    """Who acts in a callback: callbacks run before the page script, so the actor is asked again."""
    return current_actor(ctx.engine)


# --- which map ---------------------------------------------------------------------------------

maps = data_services.overlay_maps(ctx.engine, actor)
map_names = {m.id: m.name for m in maps}
if st.session_state.get(OverlayKeys.MAP_ID) not in map_names:
    editor_map = st.session_state.get(StateKeys.MAP_ID)
    st.session_state[OverlayKeys.MAP_ID] = editor_map if editor_map in map_names else (maps[0].id if maps else None)
if st.session_state.get(OverlayKeys.MAP_CHOICE) != st.session_state[OverlayKeys.MAP_ID]:
    st.session_state[OverlayKeys.MAP_CHOICE] = st.session_state[OverlayKeys.MAP_ID]


def _map_chosen() -> None:
    st.session_state[OverlayKeys.MAP_ID] = st.session_state[OverlayKeys.MAP_CHOICE]


def _use_demo() -> None:
    try:
        applied = data_services.use_demo(ctx.engine, _fresh_actor())
    except UserInputError as exc:
        st.session_state[OverlayKeys.NOTICE] = ("error", str(exc))
        return
    st.session_state[OverlayKeys.MAP_ID] = applied.map_id
    st.session_state[OverlayKeys.DATASET_ID] = applied.dataset_id
    st.session_state[OverlayKeys.INGEST_REPORT] = list(applied.report)
    st.session_state[OverlayKeys.SOURCE] = None


def _source_chosen(source: RawSource) -> None:
    st.session_state[OverlayKeys.SOURCE] = source
    st.session_state[OverlayKeys.INGEST_REPORT] = None


def _upload_section() -> None:
    upload_limit_mb = int(st.get_option("server.maxUploadSize"))
    # A new uploader after each stored upload, so no widget keeps the stored file's bytes in memory.
    upload_generation = int(st.session_state.get(OverlayKeys.UPLOAD_GENERATION, 0))
    upload_key = OverlayKeys.UPLOAD if not upload_generation else f"{OverlayKeys.UPLOAD}_{upload_generation}"
    upload: UploadedFile | None = st.file_uploader(
        "Event file (CSV, Parquet, XES, XES.gz, JSON lines)",
        type=["csv", "tsv", "txt", "parquet", "pq", "xes", "gz", "jsonl", "ndjson"],
        key=upload_key,
        help=f"Up to {upload_limit_mb:,} MB. For a larger file, or to avoid sending it through the browser, "
        "give its path on the server in the next tab.",
    )
    if not st.button("Read the uploaded file", key=OverlayKeys.UPLOAD_SUBMIT, disabled=upload is None) or not upload:
        return
    upload_name = upload.name
    bar = st.progress(0.0, text=f"Storing {upload_name}…")

    def _received(share: float) -> None:
        bar.progress(share, text=f"Storing {upload_name}… {share:.0%}")

    try:
        source = data_services.store_upload(
            ctx.engine, _fresh_actor(), upload=upload, name=upload_name, size=upload.size, progress=_received
        )
    except UserInputError as exc:
        st.error(md(str(exc)))
    except OSError as exc:
        st.error(md(f"{upload_name}: could not be stored on the server ({exc.strerror}). Try again."))
    else:
        _source_chosen(source)
        release_upload(upload, upload_key)
        bar.empty()
        st.rerun()
    bar.empty()


def _server_file_section() -> None:
    path_text = st.text_input(
        "Path of an event file on the server (for files larger than the upload limit)",
        key=OverlayKeys.PATH,
        placeholder="/data/exports/events.parquet",
    )
    if not st.button("Read this file", key=OverlayKeys.PATH_SUBMIT):
        return
    hash_bar = st.progress(0.0, text="Checking the file…")

    def _hashed(share: float) -> None:
        hash_bar.progress(share, text=f"Checking the file… {share:.0%}")

    try:
        _source_chosen(data_services.read_server_file(ctx.engine, _fresh_actor(), path=path_text, progress=_hashed))
    except UserInputError as exc:
        st.error(md(str(exc)))
    hash_bar.empty()


def _saved_dataset_section() -> None:
    datasets = data_services.list_datasets(ctx.engine, actor)
    if not datasets:
        st.info("No dataset has been ingested yet.")
        return
    by_dataset = {d.id: d for d in datasets}
    chosen_dataset = st.selectbox(
        "Dataset",
        options=list(by_dataset),
        format_func=lambda i: (
            f"{by_dataset[i].name} · {by_dataset[i].rows:,} events · {by_dataset[i].created_at:%Y-%m-%d %H:%M}"
        ),
        key=OverlayKeys.SAVED_CHOICE,
    )
    if st.button("Open dataset", key=OverlayKeys.SAVED_OPEN) and chosen_dataset is not None:
        picked = by_dataset[int(chosen_dataset)]
        st.session_state[OverlayKeys.DATASET_ID] = picked.id
        st.session_state[OverlayKeys.SOURCE] = None
        if picked.map_id in map_names:
            st.session_state[OverlayKeys.MAP_ID] = picked.map_id
        st.rerun()


if st.session_state.pop(OverlayKeys.DEMO_ON_ARRIVAL, False) and manages_data:
    _use_demo()  # asked for on the Start page
    st.session_state[OverlayKeys.MAP_CHOICE] = st.session_state[OverlayKeys.MAP_ID]  # the picker shows the demo map

with data_area:
    st.subheader("1 · Event data")
    col_demo, col_map = st.columns([2, 3], vertical_alignment="bottom")
    col_demo.button(
        "Use the demo dataset",
        key=OverlayKeys.DEMO,
        type="primary",
        on_click=_use_demo,
        disabled=not DEMO_EVENTS.is_file() or not manages_data,
        help="Retail click & collect events on the 'Retail: buy online, pick up in store' map."
        if manages_data
        else EDITORS_ONLY,
    )
    col_map.selectbox(
        "Journey map to overlay",
        options=list(map_names),
        format_func=lambda map_id: f"{map_names.get(map_id, map_id)} (#{map_id})",
        key=OverlayKeys.MAP_CHOICE,
        on_change=_map_chosen,
    )
    notice = st.session_state.pop(OverlayKeys.NOTICE, None)
    if notice:
        (st.error if notice[0] == "error" else st.success)(md(notice[1]))
    if manages_data:
        upload_tab, path_tab, saved_tab_container = st.tabs(["Upload a file", "File on the server", "Saved dataset"])
        saved_tab: DeltaGenerator = saved_tab_container
        with upload_tab:
            _upload_section()
        with path_tab:
            _server_file_section()
    else:
        st.caption(EDITORS_ONLY + " Datasets already ingested can be opened below.")
        saved_tab = st.container()
    with saved_tab:
        _saved_dataset_section()

chosen_map = st.session_state.get(OverlayKeys.MAP_ID)
if chosen_map is None:
    with mapping_area:
        st.info("There is no journey map yet: create one on the Maps page first.")
    st.stop()
map_id = int(chosen_map)
try:
    revision = data_services.overlay_revision(ctx.engine, actor, map_id=map_id)
except UserInputError as exc:  # a damaged map names its last readable revision; the editor can restore it
    with mapping_area:
        st.error(md(str(exc)))
        st.page_link(
            EDITOR_PAGE,
            label="Open this map in the editor",
            query_params={QueryParams.MAP: str(map_id), QueryParams.CLIENT: ctx.client_key},
        )
    st.stop()
journey_map: JourneyMap = revision.journey_map
ctx.show_picked_map(map_id, journey_map)
tp_names = {tp.id: tp.name for tp in journey_map.touchpoints}
channel_names = {c.id: c.name for c in journey_map.channels}


# --- mapping step: sections over one service call ------------------------------------------------


def _option(value: str | None, options: list[str]) -> str:
    """``value`` when it is one of ``options``, else the first option."""
    return value if value in options else options[0]


def _reason(where: DeltaGenerator, guess: MappingGuess | None, field: str) -> None:
    """The guess's reason under a field: why this column, or, for an empty field, what to choose."""
    if guess is None:
        return
    found = guess.field(field)
    if found.column is None:
        where.caption(md(f"Not found: {found.reason}."))
    else:
        where.caption(md(f"Guessed ({found.confidence} confidence): {found.reason}."))


def _starting_mapping(source: RawSource, saved: MappingInfo | None) -> tuple[ColumnMapping, MappingGuess | None]:
    """The saved mapping for these columns, else the guess (with its reasons)."""
    if saved:
        try:
            base = mapping_from_json(saved.mapping_json, source=f"saved mapping '{saved.name}'")
        except UserInputError as exc:  # a broken saved mapping falls back to the guess, never to a dead end
            st.warning(md(f"{exc} The columns were guessed instead."))
        else:
            st.info(
                md(f"Using the saved mapping '{saved.name}', made for files with these columns. Adjust it if needed.")
            )
            return base, None
    guess = cached_guess(source, revision.id, journey_map)
    st.caption("Journeymap guessed the meaning of each column from its name and values; correct what is wrong.")
    # Fields the guess could not fill stay empty (None) in the form instead of stopping it.
    return ColumnMapping.model_construct(**guess.values), guess


def _preview(raw: pl.DataFrame, guess: MappingGuess | None, form: MappingForm) -> None:
    st.dataframe(raw.head(20).to_pandas(), hide_index=True, key=form.key(OverlayKeys.M_PREFIX + "preview"))
    if raw.height < SAMPLE_ROWS:
        st.caption(f"{raw.height:,} rows, {len(raw.columns)} columns.")
    else:
        st.caption(
            f"{len(raw.columns)} columns. The guess and this preview use the first {SAMPLE_ROWS:,} rows; "
            "value counts below cover the whole file."
        )
    if guess is not None and guess.rejected:
        with st.expander(f"Columns considered and left out ({len(guess.rejected)})"):
            for refused in guess.rejected:
                what = FIELD_WORDS.get(refused.field, refused.field)
                st.caption(md(f"Not the {what}: '{refused.column}', {refused.reason}."))


def _core_fields(
    base: ColumnMapping, guess: MappingGuess | None, columns: list[str], form: MappingForm
) -> dict[str, Any]:
    """Customer, time, activity (and its template) and channel."""
    c1, c2, c3 = st.columns(3)
    customer_ids = c1.multiselect(
        "Customer identifier column(s)",
        columns,
        key=form.kept(OverlayKeys.M_CUSTOMER, [c for c in base.customer_ids or [] if c in columns]),
        placeholder="Choose the customer (or case) id column",
        help="Events sharing any of these values are one customer (email, device id, loyalty id…).",
    )
    _reason(c1, guess, "customer_ids")
    timestamp = c2.selectbox(
        "Event time",
        columns,
        index=None,
        key=form.kept(OverlayKeys.M_TIME, base.timestamp if base.timestamp in columns else None),
        placeholder="Choose the event time column",
    )
    _reason(c2, guess, "timestamp")
    timestamp_format = c2.text_input(
        "Time format (optional)",
        key=form.kept(OverlayKeys.M_PREFIX + "time_format", base.timestamp_format or ""),
        placeholder="detected; e.g. %d-%b-%Y %H:%M",
        help="Only for times Journeymap cannot read by itself: strftime codes such as %d/%m/%Y %H:%M, "
        "or %s for epoch seconds. Leave empty to detect the format.",
    )
    touchpoint = c3.selectbox(
        "Activity / touchpoint",
        columns,
        index=None,
        key=form.kept(OverlayKeys.M_TOUCHPOINT, base.touchpoint if base.touchpoint in columns else None),
        placeholder="Choose the activity column",
    )
    _reason(c3, guess, "touchpoint")
    template = base.touchpoint_template
    if template:
        template = c3.text_input(
            "Touchpoint label (template)",
            key=form.kept(OverlayKeys.M_PREFIX + "template", template),
            help="Raw columns in braces make each touchpoint's label; {event} is the activity column. "
            "Empty: the activity alone.",
        ).strip()
    return {
        "customer_ids": customer_ids,
        "timestamp": timestamp,
        "timestamp_format": timestamp_format.strip() or None,
        "touchpoint": touchpoint,
        "touchpoint_template": template or None,
    }


def _context_fields(
    source: RawSource, base: ColumnMapping, guess: MappingGuess | None, columns: list[str], form: MappingForm
) -> dict[str, Any]:
    """Channel, owner team, outcome and its converting values, case and what a journey is."""
    optional = [NO_COLUMN, *columns]
    c4, c5, c6 = st.columns(3)
    channel_options = [ONE_CHANNEL, *columns]
    channel = c4.selectbox(
        "Channel", channel_options, key=form.kept(OverlayKeys.M_CHANNEL, _option(base.channel, channel_options))
    )
    channel_constant = None
    if channel == ONE_CHANNEL:
        constant_options = [c.id for c in journey_map.channels] or ["default"]
        channel_constant = c4.selectbox(
            "Channel of every event",
            constant_options,
            format_func=lambda c: channel_names.get(c, c),
            key=form.kept(OverlayKeys.M_CHANNEL_CONST, _option(base.channel_constant, constant_options)),
        )
    _reason(c4, guess, "channel")
    owner = c5.selectbox(
        "Resource / owner team", optional, key=form.kept(OverlayKeys.M_OWNER, _option(base.owner, optional))
    )
    _reason(c5, guess, "owner")
    outcome = c6.selectbox(
        "Outcome column (optional)",
        optional,
        key=form.kept(OverlayKeys.M_OUTCOME, _option(base.outcome, optional)),
    )
    conversion_values: list[str] = []
    if outcome != NO_COLUMN:
        present = [v for v, _ in cached_label_counts(source, outcome, 200)]
        conversion_values = c6.multiselect(
            "Values that mean converted",
            present,
            key=form.kept(OverlayKeys.M_CONVERSION, [v for v in base.conversion_values if v in present], outcome),
        )
    j1, j2 = st.columns(2)
    case = j1.selectbox(
        "Case / ticket / order column (optional)",
        optional,
        key=form.kept(OverlayKeys.M_CASE, _option(base.case, optional)),
        help="A case, ticket, order, session or application id. Each case can be one journey; without one, "
        "each customer's events are cut into journeys by an inactivity gap.",
    )
    _reason(j1, guess, "case")
    journeys_by = "gap"
    if case != NO_COLUMN:
        by_case = base.case is None or base.journeys == "case"  # a case column chosen by hand makes the journeys
        journeys_by = str(
            j2.radio(
                "Journeys",
                list(JOURNEY_CHOICES),
                format_func=JOURNEY_CHOICES.__getitem__,
                horizontal=True,
                key=form.kept(OverlayKeys.M_JOURNEYS, "case" if by_case else "gap"),
                help="Cut by the gap, the overlay says how many cases the gap splits.",
            )
        )
    return {
        "channel": None if channel == ONE_CHANNEL else channel,
        "channel_constant": channel_constant,
        "owner": None if owner == NO_COLUMN else owner,
        "outcome": None if outcome == NO_COLUMN else outcome,
        "conversion_values": conversion_values,
        "case": None if case == NO_COLUMN else case,
        "journeys": journeys_by,
    }


def _extra_fields(base: ColumnMapping, columns: list[str], taken: set[str], form: MappingForm) -> dict[str, Any]:
    """Segment columns and what to do with repeated rows."""
    attributes = st.multiselect(
        "Segment / persona columns (become filters)",
        [c for c in columns if c not in taken],
        key=form.kept(OverlayKeys.M_ATTRIBUTES, [c for c in base.attributes if c in columns and c not in taken]),
    )
    duplicates = st.selectbox(
        "Repeated rows",
        list(DUPLICATE_CHOICES),
        format_func=DUPLICATE_CHOICES.__getitem__,
        key=form.kept(OverlayKeys.M_DUPLICATES, base.duplicates),
        help="A row equal to an earlier one in every column of the file is a duplicate. Rows equal only in the "
        "mapped columns (two lines of one basket, two complaints of one day) are real events: kept by default, "
        "and counted in the ingest report.",
    )
    return {"attributes": attributes, "duplicates": duplicates}


def _label_table(
    form: MappingForm,
    key: str,
    counts: list[tuple[str, int]],
    start: dict[str, str],
    options: dict[str, str],
    column: str,
) -> dict[str, str]:
    """Raw value → id of the map, edited in a table of the raw values with their event counts.

    A value the table does not list (not in this file, or beyond its most frequent values) keeps its choice.
    """
    rows = form.table_rows(key, start)
    label_of = {v: k for k, v in options.items()}
    edited = st.data_editor(
        pd.DataFrame(
            {
                "Raw value": [label for label, _ in counts],
                "Events": [count for _, count in counts],
                column: [label_of.get(rows.get(label, label), KEEP_RAW) for label, _ in counts],
            }
        ),
        hide_index=True,
        disabled=["Raw value", "Events"],
        column_config={column: st.column_config.SelectboxColumn(column, options=[KEEP_RAW, *options], required=True)},
        key=key,
    )
    listed = {label for label, _ in counts}
    chosen = {label: target for label, target in rows.items() if label not in listed}
    chosen.update(
        (str(row["Raw value"]), options[row[column]])
        for _, row in edited.iterrows()
        if row[column] in options and options[row[column]] != row["Raw value"]
    )
    form.keep_table(key, chosen)
    return chosen


def _value_fields(
    source: RawSource, raw: pl.DataFrame, base: ColumnMapping, fields: dict[str, Any], form: MappingForm
) -> tuple[dict[str, Any], list[str]]:
    """Raw activity values → touchpoints and raw channels → channels; also the raw labels left unmapped."""
    st.markdown("**Raw values → touchpoints of the map**")
    touchpoint, template = fields["touchpoint"], fields["touchpoint_template"]
    if touchpoint is None:
        label_counts: list[tuple[str, int]] = []
        st.caption("Choose the activity column above to map its values to the map's touchpoints.")
    elif template:  # the labels the template makes, counted over the preview rows
        label_counts = count_template_labels(raw, touchpoint, template)[:300]
    else:
        label_counts = cached_label_counts(source, touchpoint, 300)
    tp_option = {f"{tp.name} [{tp.id}]": tp.id for tp in journey_map.touchpoints}
    value_key = form.key(OverlayKeys.M_VALUES, f"{touchpoint}{template or ''}")
    value_map = _label_table(form, value_key, label_counts, base.value_map, tp_option, "Touchpoint")
    channel_map: dict[str, str] = {}
    if fields["channel"] is not None:
        st.markdown("**Raw channels → channels of the map**")
        ch_option = {f"{c.name} [{c.id}]": c.id for c in journey_map.channels}
        counts = cached_label_counts(source, fields["channel"], 100)
        channel_key = form.key(OverlayKeys.M_CHANNELS, fields["channel"])
        channel_map = _label_table(form, channel_key, counts, base.channel_map, ch_option, "Channel")
    unmapped = [label for label, _ in label_counts if label not in value_map and label not in tp_names]
    return {"value_map": value_map, "channel_map": channel_map}, unmapped


def _new_touchpoints_choice(unmapped: list[str], form: MappingForm) -> NewTouchpoints | None:
    """Whether to add the unmapped raw values to the map (an edit of the map: editors, map not locked)."""
    may_edit_map = can_edit(ctx.engine, map_id=map_id)
    why_not = (
        "Only an editor can add touchpoints to a map no workshop has locked."
        if not may_edit_map
        else "Every value of the activity column already names a touchpoint of the map: there is nothing to add."
        if not unmapped
        else "The map needs at least one stage and one channel first: add them in the Map editor."
        if not journey_map.stages or not journey_map.channels
        else None
    )
    create = st.checkbox(
        f"Create touchpoints from data: add the {len(unmapped)} raw value(s) kept as they are to a new map revision",
        key=form.kept(OverlayKeys.M_CREATE, False),
        disabled=why_not is not None,
        help=why_not or "A new revision of the map gets one touchpoint per value, in the stage and channel below.",
    )
    if why_not is not None:
        st.caption(md(why_not))  # said on the page, not only on hover
    if not create:
        return None
    s1, s2 = st.columns(2)
    stage_id = s1.selectbox(
        "Stage of the new touchpoints",
        [s.id for s in journey_map.stages],
        format_func=lambda s: journey_map.stage(s).name,
        key=form.kept(OverlayKeys.M_CREATE_STAGE, journey_map.stages[0].id),
    )
    fallback = s2.selectbox(
        "Channel when the data names none of the map's channels",
        [c.id for c in journey_map.channels],
        format_func=lambda c: channel_names.get(c, c),
        key=form.kept(OverlayKeys.M_CREATE_CHANNEL, journey_map.channels[0].id),
    )
    return NewTouchpoints(tuple(unmapped), str(stage_id), str(fallback))


def _apply(
    source: RawSource, values: dict[str, Any], create: NewTouchpoints | None, save_name: str, form: MappingForm
) -> None:
    """Validate the form, then ingest and register through one service call; a refusal is a message."""
    ingest_bar = st.progress(0.0, text="Ingesting the events…")

    def _ingesting(share: float, step: str) -> None:
        ingest_bar.progress(min(share, 1.0), text=f"{step}…")

    try:
        applied = data_services.apply_mapping(
            ctx.engine,
            _fresh_actor(),
            source=source,
            mapping_json=mapping_json_from_form(values),
            map_id=map_id,
            base_revision_id=revision.id,
            new_touchpoints=create,
            save_as=save_name,
            progress=_ingesting,
        )
    except UserInputError as exc:
        ingest_bar.empty()
        st.error(md(str(exc)))
        return
    ingest_bar.empty()
    form.forget()  # applied and saved: a next reading of this file starts from the saved mapping
    st.session_state[OverlayKeys.INGEST_REPORT] = list(applied.report)
    st.session_state[OverlayKeys.DATASET_ID] = applied.dataset_id
    st.session_state[OverlayKeys.SOURCE] = None
    st.rerun()


def _mapping_step(source: RawSource) -> None:
    form = MappingForm.open(f"{source.content_hash[:12]}_{map_id}")
    st.subheader(f"2 · Map the columns of {md(source.name)}")
    try:
        raw = cached_raw(source)
        saved = data_services.find_saved_mapping(ctx.engine, actor, columns=list(raw.columns))
    except UserInputError as exc:  # the file itself cannot be read: nothing to map
        st.error(md(str(exc)))
        return
    base, guess = _starting_mapping(source, saved)
    _preview(raw, guess, form)
    columns = list(raw.columns)
    core = _core_fields(base, guess, columns, form)
    context = _context_fields(source, base, guess, columns, form)
    extra = _extra_fields(base, columns, {*core["customer_ids"], core["timestamp"], core["touchpoint"]}, form)
    labels, unmapped = _value_fields(source, raw, base, core | context, form)
    create = _new_touchpoints_choice(unmapped, form)
    save_name = st.text_input(
        "Save this mapping as (reused for the next file with the same columns)",
        key=form.kept(OverlayKeys.M_SAVE_NAME, saved.name if saved else source.name.split(".")[0]),
        max_chars=200,
    )
    chosen = {"customer column": core["customer_ids"], "event time": core["timestamp"], "activity": core["touchpoint"]}
    missing = [label for label, value in chosen.items() if not value]
    b1, b2 = st.columns([1, 4])
    if missing:
        b2.caption(f"Choose the {' and the '.join(missing)} to compute the overlay.")
    if b1.button(
        "Apply and compute the overlay", type="primary", key=form.key(OverlayKeys.M_APPLY), disabled=bool(missing)
    ):
        values = {**base.model_dump(warnings=False), **core, **context, **extra, **labels}
        _apply(source, values, create, save_name, form)
    if b2.button("Cancel", key=form.key(OverlayKeys.M_CANCEL)):
        form.forget()
        st.session_state[OverlayKeys.SOURCE] = None
        st.rerun()


chosen_source: RawSource | None = st.session_state.get(OverlayKeys.SOURCE)
with mapping_area:
    if chosen_source is not None and manages_data:
        _mapping_step(chosen_source)
    elif chosen_source is not None:
        st.warning(EDITORS_ONLY)
    report = st.session_state.get(OverlayKeys.INGEST_REPORT)
    if report:
        with st.expander("Ingest report", expanded=len(report[0].splitlines()) > 1):
            for line in report:
                st.text(line)

dataset_id = st.session_state.get(OverlayKeys.DATASET_ID)
if dataset_id is None or st.session_state.get(OverlayKeys.SOURCE) is not None:
    if dataset_id is None and st.session_state.get(OverlayKeys.SOURCE) is None:
        with kpi_area:
            st.info(
                "Choose event data above — or one click: **Use the demo dataset**."
                if manages_data
                else "Open a saved dataset above."
            )
    st.stop()

try:
    dataset = data_services.get_dataset(ctx.engine, actor, dataset_id=int(dataset_id))
    log = cached_log(dataset.content_hash, dataset.mapping_json, dataset.cache_path)
except UserInputError as exc:
    with kpi_area:
        st.error(md(str(exc)))
    st.stop()

# --- filters -----------------------------------------------------------------------------------

ds_scope = f"{dataset.id}_{map_id}"
with filter_area:
    # The column mapping (step 2) is done once the overlay shows, so the overlay is the second step on screen.
    st.subheader(f"2 · Overlay of {md(dataset.name)} on {md(journey_map.name)}")
    first_day, last_day, attribute_values = cached_log_facts(
        dataset.content_hash, dataset.mapping_json, dataset.cache_path
    )
    f1, f2, f3, f4 = st.columns([2, 3, 1, 1])
    picked_dates = f1.date_input(
        "Date range",
        value=(first_day, last_day),
        min_value=first_day,
        max_value=last_day,
        key=_k(OverlayKeys.F_DATES, ds_scope),
        help="Journeys that started in this range, each counted whole (also the events after the last day).",
    )
    picked_channels = f2.multiselect(
        "Channels (empty = all)",
        list(log.channels),
        format_func=lambda c: channel_names.get(c, c),
        key=_k(OverlayKeys.F_CHANNELS, ds_scope),
        help="Journeys that used at least one of these channels, with all their steps.",
    )
    min_volume = int(
        f3.number_input("Min. volume", min_value=1, value=1, step=1, key=_k(OverlayKeys.F_MIN_VOLUME, ds_scope))
    )
    gap_hours = float(
        f4.number_input(
            "Journey gap (h)",
            min_value=0.5,
            value=72.0,
            step=12.0,
            key=_k(OverlayKeys.F_GAP_HOURS, ds_scope),
            help="Inactivity after which a customer's next event starts a new journey. Journeys by case are "
            "never cut; either way a journey whose last event is within one gap of the data's end is ongoing.",
        )
    )
    attribute_filters: list[tuple[str, tuple[str, ...]]] = []
    if log.attributes:
        attr_cols = st.columns(min(len(log.attributes), 4))
        for i, attr in enumerate(log.attributes):
            chosen = attr_cols[i % len(attr_cols)].multiselect(
                f"{attr} (segment)",
                attribute_values.get(attr, []),
                help=f"Journeys with at least one event whose {attr} is one of these values.",
                key=_k(OverlayKeys.F_ATTR_PREFIX + attr + "_", ds_scope),
            )
            if chosen:
                attribute_filters.append((attr, tuple(chosen)))
    goal_options = [*tp_names, *(label for label in log.touchpoints if label not in tp_names)]
    picked_goals = st.multiselect(
        "Goal: a journey converts when it reaches one of these touchpoints",
        goal_options,
        default=[tp for tp in final_touchpoints(journey_map) if tp in goal_options],
        format_func=lambda t: tp_names.get(t, t),
        key=_k(OverlayKeys.F_GOALS, f"{ds_scope}_{revision.id}"),
        help="By default the map's final touchpoints. Events whose outcome the column mapping counts as "
        "converted also reach the goal.",
    )
    journey_note = st.empty()  # always one element: what a journey is, or how many cases the gap splits
    v1, v2 = st.columns(2)
    view = v1.radio(
        "Transitions shown", list(VIEWS), format_func=VIEWS.__getitem__, horizontal=True, key=OverlayKeys.F_VIEW
    )
    color_by = v2.radio(
        "Edge colour", list(COLORS), format_func=COLORS.__getitem__, horizontal=True, key=OverlayKeys.F_COLOR
    )

start = end = None
if isinstance(picked_dates, tuple) and len(picked_dates) == 2:
    if picked_dates[0] > first_day:
        start = datetime.combine(picked_dates[0], time(), tzinfo=UTC)
    if picked_dates[1] < last_day:
        end = datetime.combine(picked_dates[1] + timedelta(days=1), time(), tzinfo=UTC)
settings = OverlaySettings(
    gap=timedelta(hours=gap_hours),
    start=start,
    end=end,
    channels=tuple(sorted(picked_channels)),
    attribute_filters=tuple(attribute_filters),
    min_volume=min_volume,
    goal_touchpoints=tuple(picked_goals),
)
try:
    overlay = cached_overlay(
        log,
        content_hash=dataset.content_hash,
        mapping_json=dataset.mapping_json,
        revision_id=revision.id,
        journey_map=journey_map,
        settings=settings,
    )
except UserInputError as exc:
    with kpi_area:
        st.error(md(str(exc)))
    st.stop()
okey = overlay_key(dataset.content_hash, dataset.mapping_json, revision.id, settings)
pkey = prepared_key(dataset.content_hash, dataset.mapping_json, revision.id, settings)

with journey_note:
    dataset_mapping = mapping_from_json(dataset.mapping_json, source=f"column mapping of {dataset.name}")
    split_warning = cached_split_warning(pkey, customer_is_case(dataset_mapping), _overlay=overlay)
    if split_warning:
        st.warning(split_warning[0].upper() + split_warning[1:] + ".")  # figures and fixed words only
    else:
        journey_text = (
            f"Journeys: one per case (column '{md(dataset_mapping.case or '')}'), never cut by the gap or at the goal."
            if log.case_journeys
            else f"Journeys: each customer's events, cut by a {format_gap(settings.gap)} gap and at the goal."
        )
        if not picked_goals and not (dataset_mapping.outcome and dataset_mapping.conversion_values):
            journey_text += " No goal is chosen: no completion rate, drop-off or abandon is measured until one is set."
        st.caption(journey_text)

# --- KPI strip ---------------------------------------------------------------------------------

with kpi_area:
    items = kpi_strip(overlay.kpis.as_dict(), has_goal=overlay.kpis.has_goal)
    journey_kpis = [kpi for kpi in items if kpi.group == "journey"]
    for group_items in (
        journey_kpis[:4],
        journey_kpis[4:],
        [kpi for kpi in items if kpi.group == "switch"],
        [kpi for kpi in items if kpi.group == "handoff"],
    ):
        if group_items:
            for column, kpi in zip(st.columns(4), group_items, strict=False):
                column.metric(kpi.label, kpi.value, help=kpi.help)
    if not log.owners:
        st.caption("Team handoffs: map a resource / owner team column to measure them.")

# --- findings (read before the graph so the graph can highlight the chosen one) -------------------

friction = overlay.friction


top_refs = FindingRef.rows(friction.head(200))
drill_key = _k(OverlayKeys.DRILL_CHOICE, ds_scope)
if st.session_state.get(drill_key) not in (None, *top_refs):
    st.session_state[drill_key] = None
chosen_finding: FindingRef | None = st.session_state.get(drill_key)
highlight = chosen_finding.item if chosen_finding else None

# --- the journey graph -------------------------------------------------------------------------

with graph_area:
    if color_by == "friction":
        transitions_f = friction.filter(pl.col("kind") == "transition")
        scores = {
            (str(a), str(b)): float(s)
            for a, b, s in zip(transitions_f["source"], transitions_f["target"], transitions_f["score"], strict=True)
            if s is not None
        }
        bins = FRICTION_BINS
    else:
        silo = overlay.silo_handoffs
        scores = {
            (str(a), str(b)): float(s)
            for a, b, s in zip(silo["source"], silo["target"], silo["context_loss_score"], strict=True)
            if s is not None
        }
        bins = CONTEXT_LOSS_BINS
    nodes, edges = overlay_graph(
        journey_map,
        overlay.touchpoints,
        overlay.transitions,
        edge_scores=scores,
        score_bins=bins,
        view="designed" if view == "designed" else "observed" if view == "observed" else "both",
        min_volume=min_volume,
        highlight=highlight,
    )
    clicked = render_graph(nodes, edges, overlay_graph_config(GRAPH_HEIGHT), key=OverlayKeys.GRAPH)
    legend = "green < {} ≤ amber < {} ≤ orange < {} ≤ red".format(*bins)
    st.caption(
        f"Edge width = transitions observed; colour = {COLORS[color_by].lower()} score ({legend}); node size = visits; "
        "▼ = drop-off rate; dashed = observed but not on the map; pale grey = designed, never observed."
    )
    conf = overlay.conformance
    if conf is not None:
        share = conf.conforming_journey_share
        if share is not None:
            conforming = f"{share:.0%} of the journeys that move follow designed transitions only"
        else:
            conforming = "the map designs no transition" if not journey_map.transitions else "no journey moves"
        st.caption(
            f"{conforming[0].upper()}{conforming[1:]} · {conf.undesigned.height:,} undesigned transitions observed · "
            f"{len(conf.unobserved):,} designed transitions never observed · "
            f"{conf.unknown_touchpoints.height:,} touchpoint labels not on the map"
        )
if clicked and clicked != st.session_state.get(OverlayKeys.FINDING):
    st.session_state[OverlayKeys.FINDING] = clicked
    if FindingRef("touchpoint", clicked) in top_refs:
        st.session_state[drill_key] = FindingRef("touchpoint", clicked)
        st.rerun()

# --- friction board ----------------------------------------------------------------------------


def _board_selected() -> None:
    state = st.session_state.get(_k(OverlayKeys.BOARD, ds_scope))
    rows = state.selection.rows if state is not None else []
    if rows and rows[0] < len(top_refs):
        st.session_state[drill_key] = top_refs[rows[0]]


with board_area:
    st.subheader("Friction board")
    st.caption(
        "Components compare each item with the map's baseline (the median of its kind): 0 = at the baseline, "
        "1 = twice it. Select a row to highlight it on the graph and see the journeys behind it."
    )
    top = friction.head(200)
    tp_channels = touchpoint_channels(journey_map, overlay.touchpoints, channel_names)
    board_tps = [ref.source if ref.target is None else "" for ref in top_refs]
    board = top.with_columns(
        pl.Series("item", [ref.label(tp_names) for ref in top_refs], dtype=pl.String),
        pl.Series("designed_channel", [tp_channels.get(i, ("", ""))[0] for i in board_tps], dtype=pl.String),
        pl.Series("seen_in", [tp_channels.get(i, ("", ""))[1] for i in board_tps], dtype=pl.String),
    )
    show_table(
        board.select(
            "kind", "item", "score", "customers_affected", "finding", "dropoff", "repeat", "wait", "context_loss",
            "designed_channel", "seen_in",
        ),
        key=_k(OverlayKeys.BOARD, ds_scope),
        on_select=_board_selected,
        selection_mode="single-row",
    )  # fmt: skip
    st.selectbox(
        "Finding to inspect",
        top_refs,
        index=None,
        format_func=lambda ref: f"{ref.kind}: {ref.label(tp_names)}",
        placeholder="Choose a finding (or select a row above)",
        key=drill_key,
    )

# --- drill-down --------------------------------------------------------------------------------

with drill_area:
    st.subheader("Journey drill-down")
    if chosen_finding:
        sentence = top["finding"].to_list()[top_refs.index(chosen_finding)]
        st.markdown(md(str(sentence)))
        unmask = st.toggle("Show customer identifiers", value=False, key=OverlayKeys.DRILL_UNMASK)
        journey_ids = cached_behind(okey, chosen_finding.item, _overlay=overlay)
        if journey_ids:
            timeline = cached_timeline(okey, tuple(journey_ids), not unmask, _overlay=overlay, _names=tp_names)
            order = [c.id for c in journey_map.channels]
            named_timeline = timeline.with_columns(pl.col("channel").replace(channel_names))
            st.plotly_chart(
                journey_timeline(
                    named_timeline,
                    channel_order=[channel_names.get(c, c) for c in order],
                    title=f"{len(journey_ids)} sample journeys behind this finding",
                ),
                key=OverlayKeys.TIMELINE,
            )
            show_table(named_timeline, key=_k(OverlayKeys.TIMELINE, "_table"))
        else:
            st.info("No journey in the filtered data goes through this item.")
    else:
        st.caption("Choose a finding on the board to see sample journeys behind it.")

# --- handoffs and flows ------------------------------------------------------------------------

SILO_ROW_COLUMNS = [
    "source", "target", "count", "customers", "channel_switches", "team_handoffs", "repeat_step_rate",
    "reidentify_rate", "bounce_back_rate", "repeat_contact_rate", "abandon_rate", "context_loss_score",
    "declared_carry", "finding",
]  # fmt: skip


def _pair_listing(
    table: pl.DataFrame, search: str, kind: Literal["channel", "team"], *, keys: tuple[str, str], file_name: str
) -> None:
    """Every pair of one kind: the rows matching the search, how many of all are shown, and all as CSV."""
    shown = filter_rows(table, search, pair_ends(kind))
    show_table(shown, key=_k(keys[0], ds_scope))
    c1, c2 = st.columns([3, 1], vertical_alignment="center")
    c1.caption(f"{shown.height:,} of {table.height:,} {kind} pairs shown.")
    c2.download_button(
        "Download all (CSV)", csv_bytes(table), file_name=file_name, mime="text/csv", key=_k(keys[1], ds_scope)
    )


def _channel_section(metric: HeatmapMetric) -> None:
    st.subheader("Channel switches")
    st.caption(
        "A channel switch is a move between two consecutive events of one journey that were recorded in "
        "different channels. Every pair is in the table; the heatmap shows the busiest channels."
    )
    if not overlay.switch_matrix.height:
        st.info("No customer switched channel in the filtered data.")
        return
    search = st.text_input(
        "Find a channel", key=_k(OverlayKeys.CH_SEARCH, ds_scope), placeholder="Part of a channel name"
    )
    _pair_listing(
        pair_table(overlay.switch_matrix, kind="channel", names=channel_names),
        search,
        "channel",
        keys=(OverlayKeys.CH_TABLE, OverlayKeys.CH_DOWNLOAD),
        file_name="channel_switches.csv",
    )
    hm = heatmap_data(
        overlay.switch_matrix,
        kind="channel",
        metric=metric,
        order=[c.id for c in journey_map.channels],
        names=channel_names,
    )
    event = st.plotly_chart(
        switch_heatmap(hm, kind="channel", metric=metric),
        on_select="rerun",
        selection_mode="points",
        key=_k(OverlayKeys.HEATMAP, ds_scope),
    )
    pairs = [(str(a), str(b)) for a, b in overlay.switch_matrix.sort("count", descending=True).select(
        "from_channel", "to_channel").iter_rows()]  # fmt: skip
    pair_key = _k(OverlayKeys.PAIR_CHOICE, ds_scope)
    points = list(event.selection.points) if event is not None else []
    if points:
        custom = points[0].get("customdata")
        picked_pair = (str(custom[0]), str(custom[1])) if isinstance(custom, list) and len(custom) == 2 else None
        if picked_pair in pairs and picked_pair != st.session_state.get(OverlayKeys.PAIR):
            st.session_state[OverlayKeys.PAIR] = picked_pair
            st.session_state[pair_key] = picked_pair
    pair = st.selectbox(
        "Channel switch to list",
        pairs,
        index=0 if pairs else None,
        format_func=lambda p: f"{channel_names.get(p[0], p[0])} → {channel_names.get(p[1], p[1])}",
        key=pair_key,
        help="Or click a cell of the heatmap: the silo handoffs between touchpoints behind that switch.",
    )
    if pair is not None:
        rows = overlay.silo_handoffs.filter(
            (pl.col("source_channel") == pair[0]) & (pl.col("target_channel") == pair[1])
        ).sort("count", descending=True)
        show_table(
            rows.select([c for c in SILO_ROW_COLUMNS if c in rows.columns]).with_columns(
                pl.col("source", "target").cast(pl.String).replace(tp_names)
            ),
            key=_k(OverlayKeys.HEATMAP, "_pairs"),
        )


def _team_section(metric: HeatmapMetric) -> None:
    st.subheader("Team handoffs")
    st.caption(
        "A team handoff is a move between two consecutive events of one journey that were handled by "
        "different teams (the mapped resource / owner column)."
    )
    if not log.owners:
        st.info("No team column is mapped: choose a resource / owner team column when mapping the file.")
        return
    search = st.text_input("Find a team", key=_k(OverlayKeys.TEAM_SEARCH, ds_scope), placeholder="Part of a team name")
    if overlay.team_switch_matrix.height:
        _pair_listing(
            pair_table(overlay.team_switch_matrix, kind="team"),
            search,
            "team",
            keys=(OverlayKeys.TEAM_TABLE, OverlayKeys.TEAM_DOWNLOAD),
            file_name="team_handoffs.csv",
        )
        hm = heatmap_data(overlay.team_switch_matrix, kind="team", metric=metric)
        st.plotly_chart(
            switch_heatmap(hm, kind="team", metric=metric),
            key=_k(OverlayKeys.TEAM_HEATMAP, ds_scope),
        )
    else:
        st.info("No journey was handed from one team to another in the filtered data.")
    if overlay.teams.height:
        st.markdown("**Per team**")
        teams = team_table(overlay.teams)
        teams_shown = filter_rows(teams, search, ["team"])
        show_table(teams_shown, key=_k(OverlayKeys.TEAMS_TABLE, ds_scope))
        t1, t2 = st.columns([3, 1], vertical_alignment="center")
        t1.caption(f"{teams_shown.height:,} of {teams.height:,} teams shown.")
        t2.download_button(
            "Download all (CSV)",
            csv_bytes(teams),
            file_name="teams.csv",
            mime="text/csv",
            key=_k(OverlayKeys.TEAMS_DOWNLOAD, ds_scope),
        )


def _designed_section() -> None:
    st.subheader("Designed handoffs: declared vs measured")
    table = designed_handoff_table(overlay.designed_handoffs, tp_names)
    if not table.height:
        st.info("The map designs no handoff: no transition crosses channels or owner teams.")
        return
    contradicted = int(overlay.designed_handoffs["contradicts_declaration"].sum())
    st.caption(
        "Each transition of the map that crosses channels or teams: the context carry it declares beside the "
        f"context-loss score measured on the moves along it. {contradicted} of {table.height} contradict "
        "their declaration."
    )
    show_table(table, key=_k(OverlayKeys.DESIGNED_TABLE, ds_scope))


with tabs_area:
    handoff_tab, flow_tab = st.tabs(["Handoffs", "Flows"])
    with handoff_tab:
        heatmap_metric: HeatmapMetric = st.radio(
            "Heatmap cells",
            HEATMAP_METRICS,
            horizontal=True,
            key=OverlayKeys.HEATMAP_METRIC,
            format_func=lambda m: "Volume" if m == "count" else "Context-loss score",
        )
        channel_area, team_area, designed_area = st.container(), st.container(), st.container()
        with channel_area:
            _channel_section(heatmap_metric)
        with team_area:
            _team_section(heatmap_metric)
        with designed_area:
            _designed_section()
    with flow_tab:
        l1, l2 = st.columns(2)
        level = l1.radio(
            "Paths",
            list(SANKEY_LEVELS),
            format_func=SANKEY_LEVELS.__getitem__,
            horizontal=True,
            key=OverlayKeys.SANKEY_LEVEL,
        )
        top_n = int(l2.slider("Top paths", min_value=3, max_value=30, value=8, key=OverlayKeys.SANKEY_TOP))
        paths = cached_paths(okey, pkey, str(level), _overlay=overlay, _journey_map=journey_map)
        st.plotly_chart(
            flow_sankey(sankey_data(paths, top_n=top_n), title=f"Top {top_n} journey paths, the rest as Other"),
            key=OverlayKeys.SANKEY,
        )
        reach = cached_reach(okey, pkey, _overlay=overlay, _journey_map=journey_map)
        st.plotly_chart(outcome_funnel(reach), key=OverlayKeys.FUNNEL)

# --- what if -----------------------------------------------------------------------------------

with whatif_area:
    what_if_section(
        overlay,
        key=okey,
        engine=ctx.engine,
        journey_map=journey_map,
        map_id=map_id,
        revision_id=revision.id,
        scope=ds_scope,
        finding=chosen_finding,
    )
