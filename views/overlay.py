"""Overlay: what customers actually did, drawn on the designed journey — friction, silo handoffs, flows."""

from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

import pandas as pd
import polars as pl
import streamlit as st

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
from journeymap.store import get_dataset, latest_revision, list_datasets, list_maps, session_scope
from journeymap.ui import EDITOR_PAGE, QueryParams, StateKeys, init_page, md, render_graph
from journeymap.ui.access import can_edit
from journeymap.ui.overlay_state import (
    DEMO_EVENTS,
    SAMPLE_ROWS,
    OverlayKeys,
    apply_mapping,
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
    demo_source,
    ensure_demo_map,
    overlay_key,
    prepared_key,
    release_upload,
    saved_mapping_for,
    source_from_path,
    store_upload,
)

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

ctx = init_page()
st.title("Overlay")
st.caption(
    "Real event data on the designed journey: where customers struggle, and where a channel switch drops the context."
)

# Stable layout: every section has its place before anything is drawn, so the graph iframe is never recreated.
data_area = st.container()
mapping_area = st.container()
kpi_area = st.container()
filter_area = st.container()
graph_area = st.container()
board_area = st.container()
drill_area = st.container()
tabs_area = st.container()


def _k(base: str, scope: object) -> str:
    return f"{base}{scope}"


# --- which map ---------------------------------------------------------------------------------

with session_scope(ctx.engine) as session:
    maps = list_maps(session=session)
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
        map_id = ensure_demo_map(ctx.engine, author=ctx.author)
        with session_scope(ctx.engine) as session:
            revision = latest_revision(session=session, map_id=map_id)
        dataset_id = apply_mapping(
            ctx.engine,
            demo_source(),
            None,
            revision.journey_map,
            map_id=map_id,
            revision_id=revision.id,
            author=ctx.author,
            create=None,
            save_name=None,
        )
    except UserInputError as exc:
        st.session_state[OverlayKeys.NOTICE] = ("error", str(exc))
        return
    st.session_state[OverlayKeys.MAP_ID] = map_id
    st.session_state[OverlayKeys.DATASET_ID] = dataset_id
    st.session_state[OverlayKeys.SOURCE] = None


with data_area:
    st.subheader("1 · Event data")
    col_demo, col_map = st.columns([2, 3], vertical_alignment="bottom")
    col_demo.button(
        "Use the demo dataset",
        key=OverlayKeys.DEMO,
        type="primary",
        on_click=_use_demo,
        disabled=not DEMO_EVENTS.is_file(),
        help="Retail click & collect events on the 'Retail: buy online, pick up in store' map.",
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
    upload_tab, path_tab, saved_tab = st.tabs(["Upload a file", "File on the server", "Saved dataset"])
    with upload_tab:
        upload_limit_mb = int(st.get_option("server.maxUploadSize"))
        # A new uploader after each stored upload, so no widget keeps the stored file's bytes in memory.
        upload_generation = int(st.session_state.get(OverlayKeys.UPLOAD_GENERATION, 0))
        upload_key = OverlayKeys.UPLOAD if not upload_generation else f"{OverlayKeys.UPLOAD}_{upload_generation}"
        upload = st.file_uploader(
            "Event file (CSV, Parquet, XES, XES.gz, JSON lines)",
            type=["csv", "tsv", "txt", "parquet", "pq", "xes", "gz", "jsonl", "ndjson"],
            key=upload_key,
            help=f"Up to {upload_limit_mb:,} MB. For a larger file, or to avoid sending it through the browser, "
            "give its path on the server in the next tab.",
        )
        if st.button("Read the uploaded file", key=OverlayKeys.UPLOAD_SUBMIT, disabled=upload is None) and upload:
            upload_name = upload.name
            bar = st.progress(0.0, text=f"Storing {upload_name}…")
            try:

                def _received(share: float) -> None:
                    bar.progress(share, text=f"Storing {upload_name}… {share:.0%}")

                source = store_upload(upload, upload.name, upload.size, _received)
            except OSError as exc:
                st.error(md(f"{upload.name}: could not be stored on the server ({exc.strerror}). Try again."))
            else:
                st.session_state[OverlayKeys.SOURCE] = source
                st.session_state[OverlayKeys.INGEST_REPORT] = None
                release_upload(upload, upload_key)
                del upload
                bar.empty()
                st.rerun()
            bar.empty()
    with path_tab:
        path_text = st.text_input(
            "Path of an event file on the server (for files larger than the upload limit)",
            key=OverlayKeys.PATH,
            placeholder="/data/exports/events.parquet",
        )
        if st.button("Read this file", key=OverlayKeys.PATH_SUBMIT):
            hash_bar = st.progress(0.0, text="Checking the file…")

            def _hashed(share: float) -> None:
                hash_bar.progress(share, text=f"Checking the file… {share:.0%}")

            try:
                st.session_state[OverlayKeys.SOURCE] = source_from_path(path_text, progress=_hashed)
                st.session_state[OverlayKeys.INGEST_REPORT] = None
            except UserInputError as exc:
                st.error(md(str(exc)))
            hash_bar.empty()
    with saved_tab:
        with session_scope(ctx.engine) as session:
            datasets = list_datasets(session=session)
        if datasets:
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
        else:
            st.info("No dataset has been ingested yet.")

chosen_map = st.session_state.get(OverlayKeys.MAP_ID)
if chosen_map is None:
    with mapping_area:
        st.info("There is no journey map yet: create one on the Maps page first.")
    st.stop()
map_id = int(chosen_map)
try:
    with session_scope(ctx.engine) as session:
        revision = latest_revision(session=session, map_id=map_id)
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
tp_names = {tp.id: tp.name for tp in journey_map.touchpoints}
channel_names = {c.id: c.name for c in journey_map.channels}


# --- mapping step ------------------------------------------------------------------------------


def _mapping_step() -> None:
    source = st.session_state.get(OverlayKeys.SOURCE)
    if source is None:
        return
    scope = f"{source.content_hash[:12]}_{map_id}"
    st.subheader(f"2 · Map the columns of {md(source.name)}")
    try:
        raw = cached_raw(source)
        saved = saved_mapping_for(ctx.engine, raw.columns)
    except UserInputError as exc:  # the file itself cannot be read: nothing to map
        st.error(md(str(exc)))
        return
    guess: MappingGuess | None = None
    base: ColumnMapping | None = None
    if saved:
        try:
            base = mapping_from_json(saved.mapping_json, source=f"saved mapping '{saved.name}'")
            st.info(
                md(f"Using the saved mapping '{saved.name}', made for files with these columns. Adjust it if needed.")
            )
        except UserInputError as exc:  # a broken saved mapping falls back to the guess, never to a dead end
            st.warning(md(f"{exc} The columns were guessed instead."))
    if base is None:
        guess = cached_guess(source, revision.id, journey_map)
        # Fields the guess could not fill stay empty (None) in the form instead of stopping it.
        base = ColumnMapping.model_construct(**guess.values)
        st.caption("Journeymap guessed the meaning of each column from its name and values; correct what is wrong.")
    st.dataframe(raw.head(20).to_pandas(), hide_index=True, key=_k(OverlayKeys.M_PREFIX + "preview", scope))
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
                st.caption(md(f"Not the {FIELD_WORDS.get(refused.field, refused.field)}: '{refused.column}', "
                              f"{refused.reason}."))  # fmt: skip
    columns = list(raw.columns)
    optional = [NO_COLUMN, *columns]

    def index_of(value: str | None, options: list[str]) -> int:
        return options.index(value) if value in options else 0

    def reason(where: Any, field: str) -> None:
        """The guess's reason under a field: why this column, or, for an empty field, what to choose."""
        if guess is None:
            return
        found = guess.field(field)
        if found.column is None:
            where.caption(md(f"Not found: {found.reason}."))
        else:
            where.caption(md(f"Guessed ({found.confidence} confidence): {found.reason}."))

    c1, c2, c3 = st.columns(3)
    customer_ids = c1.multiselect(
        "Customer identifier column(s)",
        columns,
        default=[c for c in base.customer_ids or [] if c in columns],
        key=_k(OverlayKeys.M_CUSTOMER, scope),
        placeholder="Choose the customer (or case) id column",
        help="Events sharing any of these values are one customer (email, device id, loyalty id…).",
    )
    reason(c1, "customer_ids")
    timestamp = c2.selectbox(
        "Event time",
        columns,
        index=columns.index(base.timestamp) if base.timestamp in columns else None,
        key=_k(OverlayKeys.M_TIME, scope),
        placeholder="Choose the event time column",
    )
    reason(c2, "timestamp")
    timestamp_format = c2.text_input(
        "Time format (optional)",
        value=base.timestamp_format or "",
        key=_k(OverlayKeys.M_PREFIX + "time_format", scope),
        placeholder="detected; e.g. %d-%b-%Y %H:%M",
        help="Only for times Journeymap cannot read by itself: strftime codes such as %d/%m/%Y %H:%M, "
        "or %s for epoch seconds. Leave empty to detect the format.",
    )
    touchpoint = c3.selectbox(
        "Activity / touchpoint",
        columns,
        index=columns.index(base.touchpoint) if base.touchpoint in columns else None,
        key=_k(OverlayKeys.M_TOUCHPOINT, scope),
        placeholder="Choose the activity column",
    )
    reason(c3, "touchpoint")
    touchpoint_template = base.touchpoint_template
    if touchpoint_template:
        touchpoint_template = c3.text_input(
            "Touchpoint label (template)",
            value=touchpoint_template,
            key=_k(OverlayKeys.M_PREFIX + "template", scope),
            help="Raw columns in braces make each touchpoint's label; {event} is the activity column. "
            "Empty: the activity alone.",
        ).strip()
    c4, c5, c6 = st.columns(3)
    channel_options = [ONE_CHANNEL, *columns]
    channel = c4.selectbox(
        "Channel", channel_options, index=index_of(base.channel, channel_options), key=_k(OverlayKeys.M_CHANNEL, scope)
    )
    channel_constant = None
    if channel == ONE_CHANNEL:
        channel_ids = [c.id for c in journey_map.channels] or ["default"]
        channel_constant = c4.selectbox(
            "Channel of every event",
            channel_ids,
            format_func=lambda c: channel_names.get(c, c),
            key=_k(OverlayKeys.M_CHANNEL_CONST, scope),
        )
    reason(c4, "channel")
    owner = c5.selectbox(
        "Resource / owner team", optional, index=index_of(base.owner, optional), key=_k(OverlayKeys.M_OWNER, scope)
    )
    reason(c5, "owner")
    outcome = c6.selectbox(
        "Outcome column (optional)",
        optional,
        index=index_of(base.outcome, optional),
        key=_k(OverlayKeys.M_OUTCOME, scope),
    )
    j1, j2 = st.columns(2)
    case = j1.selectbox(
        "Case / ticket / order column (optional)",
        optional,
        index=index_of(base.case, optional),
        key=_k(OverlayKeys.M_CASE, scope),
        help="A case, ticket, order, session or application id. Each case can be one journey; without one, "
        "each customer's events are cut into journeys by an inactivity gap.",
    )
    reason(j1, "case")
    journeys_by = "gap"
    if case != NO_COLUMN:
        journeys_by = str(
            j2.radio(
                "Journeys",
                list(JOURNEY_CHOICES),
                index=0 if base.case is None or base.journeys == "case" else 1,
                format_func=JOURNEY_CHOICES.__getitem__,
                horizontal=True,
                key=_k(OverlayKeys.M_JOURNEYS, scope),
                help="Cut by the gap, the overlay says how many cases the gap splits.",
            )
        )
    conversion_values: list[str] = []
    if outcome != NO_COLUMN:
        present = [v for v, _ in cached_label_counts(source, outcome, 200)]
        conversion_values = c6.multiselect(
            "Values that mean converted",
            present,
            default=[v for v in base.conversion_values if v in present],
            key=_k(OverlayKeys.M_CONVERSION, scope + outcome),
        )
    attributes = st.multiselect(
        "Segment / persona columns (become filters)",
        [c for c in columns if c not in {*customer_ids, timestamp, touchpoint}],
        default=[c for c in base.attributes if c in columns and c not in {*customer_ids, timestamp, touchpoint}],
        key=_k(OverlayKeys.M_ATTRIBUTES, scope),
    )
    duplicates = st.selectbox(
        "Repeated rows",
        list(DUPLICATE_CHOICES),
        index=list(DUPLICATE_CHOICES).index(base.duplicates),
        format_func=DUPLICATE_CHOICES.__getitem__,
        key=_k(OverlayKeys.M_DUPLICATES, scope),
        help="A row equal to an earlier one in every column of the file is a duplicate. Rows equal only in the "
        "mapped columns (two lines of one basket, two complaints of one day) are real events: kept by default, "
        "and counted in the ingest report.",
    )

    st.markdown("**Raw values → touchpoints of the map**")
    tp_option = {f"{tp.name} [{tp.id}]": tp.id for tp in journey_map.touchpoints}
    tp_label_of = {v: k for k, v in tp_option.items()}
    if touchpoint is None:
        label_counts: list[tuple[str, int]] = []
        st.caption("Choose the activity column above to map its values to the map's touchpoints.")
    elif touchpoint_template:  # the labels the template makes, counted over the preview rows
        label_counts = count_template_labels(raw, touchpoint, touchpoint_template)[:300]
    else:
        label_counts = cached_label_counts(source, touchpoint, 300)
    values_frame = pd.DataFrame(
        {
            "Raw value": [label for label, _ in label_counts],
            "Events": [count for _, count in label_counts],
            "Touchpoint": [tp_label_of.get(base.value_map.get(label, label), KEEP_RAW) for label, _ in label_counts],
        }
    )
    edited_values = st.data_editor(
        values_frame,
        hide_index=True,
        disabled=["Raw value", "Events"],
        column_config={
            "Touchpoint": st.column_config.SelectboxColumn("Touchpoint", options=[KEEP_RAW, *tp_option], required=True)
        },
        key=_k(OverlayKeys.M_VALUES, f"{scope}{touchpoint}{touchpoint_template or ''}"),
    )
    value_map = {
        str(row["Raw value"]): tp_option[row["Touchpoint"]]
        for _, row in edited_values.iterrows()
        if row["Touchpoint"] in tp_option and tp_option[row["Touchpoint"]] != row["Raw value"]
    }
    channel_map: dict[str, str] = {}
    if channel != ONE_CHANNEL:
        st.markdown("**Raw channels → channels of the map**")
        ch_option = {f"{c.name} [{c.id}]": c.id for c in journey_map.channels}
        ch_label_of = {v: k for k, v in ch_option.items()}
        channel_counts = cached_label_counts(source, channel, 100)
        edited_channels = st.data_editor(
            pd.DataFrame(
                {
                    "Raw value": [label for label, _ in channel_counts],
                    "Events": [count for _, count in channel_counts],
                    "Channel": [ch_label_of.get(base.channel_map.get(v, v), KEEP_RAW) for v, _ in channel_counts],
                }
            ),
            hide_index=True,
            disabled=["Raw value", "Events"],
            column_config={
                "Channel": st.column_config.SelectboxColumn("Channel", options=[KEEP_RAW, *ch_option], required=True)
            },
            key=_k(OverlayKeys.M_CHANNELS, scope + channel),
        )
        channel_map = {
            str(row["Raw value"]): ch_option[row["Channel"]]
            for _, row in edited_channels.iterrows()
            if row["Channel"] in ch_option and ch_option[row["Channel"]] != row["Raw value"]
        }

    unmapped = [label for label, _ in label_counts if label not in value_map and label not in tp_names]
    may_edit_map = can_edit(ctx.engine, map_id=map_id)
    create = st.checkbox(
        f"Create touchpoints from data: add the {len(unmapped)} raw value(s) kept as they are to a new map revision",
        key=_k(OverlayKeys.M_CREATE, scope),
        disabled=not unmapped or not journey_map.stages or not journey_map.channels or not may_edit_map,
        help=None if may_edit_map else "Only an editor can add touchpoints to the map: sign in first.",
    )
    create_choice = None
    if create:
        s1, s2 = st.columns(2)
        stage_id = s1.selectbox(
            "Stage of the new touchpoints",
            [s.id for s in journey_map.stages],
            format_func=lambda s: journey_map.stage(s).name,
            key=_k(OverlayKeys.M_CREATE_STAGE, scope),
        )
        fallback = s2.selectbox(
            "Channel when the data names none of the map's channels",
            [c.id for c in journey_map.channels],
            format_func=lambda c: channel_names.get(c, c),
            key=_k(OverlayKeys.M_CREATE_CHANNEL, scope),
        )
        create_choice = (unmapped, str(stage_id), str(fallback))
    save_name = st.text_input(
        "Save this mapping as (reused for the next file with the same columns)",
        value=saved.name if saved else source.name.split(".")[0],
        key=_k(OverlayKeys.M_SAVE_NAME, scope),
        max_chars=200,
    )
    updates: dict[str, Any] = {
        "customer_ids": customer_ids,
        "timestamp": timestamp,
        "timestamp_format": timestamp_format.strip() or None,
        "touchpoint": touchpoint,
        "touchpoint_template": touchpoint_template or None,
        "channel": None if channel == ONE_CHANNEL else channel,
        "channel_constant": channel_constant,
        "owner": None if owner == NO_COLUMN else owner,
        "outcome": None if outcome == NO_COLUMN else outcome,
        "conversion_values": conversion_values,
        "case": None if case == NO_COLUMN else case,
        "journeys": journeys_by,
        "attributes": attributes,
        "duplicates": duplicates,
        "value_map": value_map,
        "channel_map": channel_map,
    }
    missing = [
        label
        for label, chosen in (("customer column", customer_ids), ("event time", timestamp), ("activity", touchpoint))
        if not chosen
    ]
    b1, b2 = st.columns([1, 4])
    if missing:
        b2.caption(f"Choose the {' and the '.join(missing)} to compute the overlay.")
    if b1.button(
        "Apply and compute the overlay",
        type="primary",
        key=_k(OverlayKeys.M_APPLY, scope),
        disabled=bool(missing),
    ):
        ingest_bar = st.progress(0.0, text="Ingesting the events…")

        def _ingesting(share: float, step: str) -> None:
            ingest_bar.progress(min(share, 1.0), text=f"{step}…")

        try:
            dataset_id = apply_mapping(
                ctx.engine,
                source,
                {**base.model_dump(warnings=False), **updates},
                journey_map,
                map_id=map_id,
                revision_id=revision.id,
                author=ctx.author,
                create=create_choice,
                save_name=save_name,
                progress=_ingesting,
            )
        except UserInputError as exc:
            ingest_bar.empty()
            st.error(md(str(exc)))
            return
        ingest_bar.empty()
        st.session_state[OverlayKeys.DATASET_ID] = dataset_id
        st.session_state[OverlayKeys.SOURCE] = None
        st.rerun()
    if b2.button("Cancel", key=_k(OverlayKeys.M_CANCEL, scope)):
        st.session_state[OverlayKeys.SOURCE] = None
        st.rerun()


with mapping_area:
    _mapping_step()
    report = st.session_state.get(OverlayKeys.INGEST_REPORT)
    if report:
        with st.expander("Ingest report", expanded=len(report[0].splitlines()) > 1):
            for line in report:
                st.text(line)

dataset_id = st.session_state.get(OverlayKeys.DATASET_ID)
if dataset_id is None or st.session_state.get(OverlayKeys.SOURCE) is not None:
    if dataset_id is None and st.session_state.get(OverlayKeys.SOURCE) is None:
        with kpi_area:
            st.info("Choose event data above — or one click: **Use the demo dataset**.")
    st.stop()

try:
    with session_scope(ctx.engine) as session:
        dataset = get_dataset(session=session, dataset_id=int(dataset_id))
    log = cached_log(dataset.content_hash, dataset.mapping_json, dataset.cache_path)
except UserInputError as exc:
    with kpi_area:
        st.error(md(str(exc)))
    st.stop()

# --- filters -----------------------------------------------------------------------------------

ds_scope = f"{dataset.id}_{map_id}"
with filter_area:
    st.subheader(f"3 · Overlay of {md(dataset.name)} on {md(journey_map.name)}")
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


def _item_label(kind: str, item_id: str) -> str:
    if kind == "transition" and " → " in item_id:
        source, target = item_id.split(" → ", 1)
        return f"{tp_names.get(source, source)} → {tp_names.get(target, target)}"
    return tp_names.get(item_id, item_id)


finding_ids = [f"{row['kind']}|{row['id']}" for row in friction.head(200).select("kind", "id").iter_rows(named=True)]
drill_key = _k(OverlayKeys.DRILL_CHOICE, ds_scope)
if st.session_state.get(drill_key) not in (None, *finding_ids):
    st.session_state[drill_key] = None
chosen_finding: str | None = st.session_state.get(drill_key)
highlight: str | tuple[str, str] | None = None
if chosen_finding:
    kind, item_id = chosen_finding.split("|", 1)
    highlight = tuple(item_id.split(" → ", 1)) if kind == "transition" else item_id  # type: ignore[assignment]

# --- the journey graph -------------------------------------------------------------------------

with graph_area:
    if color_by == "friction":
        transitions_f = friction.filter(pl.col("kind") == "transition")
        scores = {
            tuple(str(i).split(" → ", 1)): float(s)
            for i, s in zip(transitions_f["id"].to_list(), transitions_f["score"].to_list(), strict=True)
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
        edge_scores=scores,  # type: ignore[arg-type]
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
        st.caption(
            f"{conf.conforming_journey_share:.0%} of journeys follow designed transitions only · "
            f"{conf.undesigned.height:,} undesigned transitions observed · {len(conf.unobserved):,} designed "
            f"transitions never observed · {conf.unknown_touchpoints.height:,} touchpoint labels not on the map"
        )
if clicked and clicked != st.session_state.get(OverlayKeys.FINDING):
    st.session_state[OverlayKeys.FINDING] = clicked
    if f"touchpoint|{clicked}" in finding_ids:
        st.session_state[drill_key] = f"touchpoint|{clicked}"
        st.rerun()

# --- friction board ----------------------------------------------------------------------------


def _board_selected() -> None:
    state = st.session_state.get(_k(OverlayKeys.BOARD, ds_scope))
    rows = state.selection.rows if state is not None else []
    if rows and rows[0] < len(finding_ids):
        st.session_state[drill_key] = finding_ids[rows[0]]


with board_area:
    st.subheader("Friction board")
    st.caption(
        "Components compare each item with the map's baseline (the median of its kind): 0 = at the baseline, "
        "1 = twice it. Select a row to highlight it on the graph and see the journeys behind it."
    )
    top = friction.head(200)
    tp_channels = touchpoint_channels(journey_map, overlay.touchpoints, channel_names)
    board_tps = [(i if k == "touchpoint" else "") for k, i in zip(top["kind"], top["id"], strict=True)]
    board = top.with_columns(
        pl.Series("item", [_item_label(k, i) for k, i in zip(top["kind"], top["id"], strict=True)], dtype=pl.String),
        pl.Series("designed_channel", [tp_channels.get(i, ("", ""))[0] for i in board_tps], dtype=pl.String),
        pl.Series("seen_in", [tp_channels.get(i, ("", ""))[1] for i in board_tps], dtype=pl.String),
    )
    shown = board.select(
        "kind", "item", "score", "customers_affected", "finding", "dropoff", "repeat", "wait", "context_loss",
        "designed_channel", "seen_in",
    ).to_pandas()  # fmt: skip
    st.dataframe(
        shown,
        hide_index=True,
        on_select=_board_selected,
        selection_mode="single-row",
        key=_k(OverlayKeys.BOARD, ds_scope),
        column_config={
            "kind": st.column_config.TextColumn("Kind", width="small"),
            "item": st.column_config.TextColumn("Touchpoint / transition"),
            "score": st.column_config.NumberColumn("Score", format="%.2f"),
            "dropoff": st.column_config.NumberColumn("Drop-off", format="%.2f"),
            "repeat": st.column_config.NumberColumn("Repeat", format="%.2f"),
            "wait": st.column_config.NumberColumn("Wait", format="%.2f"),
            "context_loss": st.column_config.NumberColumn("Context loss", format="%.2f"),
            "customers_affected": st.column_config.NumberColumn("Customers", format="%d"),
            "finding": st.column_config.TextColumn("Finding", width="large"),
            "designed_channel": st.column_config.TextColumn("Designed channel"),
            "seen_in": st.column_config.TextColumn(
                "Seen in", help="Channels the touchpoint's events recorded, share of its visits"
            ),
        },
    )
    labels_by_finding = {fid: f"{fid.split('|', 1)[0]}: {_item_label(*fid.split('|', 1))}" for fid in finding_ids}
    st.selectbox(
        "Finding to inspect",
        finding_ids,
        index=None,
        format_func=lambda fid: labels_by_finding.get(fid, fid),
        placeholder="Choose a finding (or select a row above)",
        key=drill_key,
    )

# --- drill-down --------------------------------------------------------------------------------

with drill_area:
    st.subheader("Journey drill-down")
    if chosen_finding:
        kind, item_id = chosen_finding.split("|", 1)
        sentence = friction.filter((pl.col("kind") == kind) & (pl.col("id") == item_id))["finding"]
        if sentence.len():
            st.markdown(md(str(sentence[0])))
        unmask = st.toggle("Show customer identifiers", value=False, key=OverlayKeys.DRILL_UNMASK)
        source_target = item_id.split(" → ", 1)
        behind: str | tuple[str, str] = (
            (source_target[0], source_target[1]) if kind == "transition" and len(source_target) == 2 else item_id
        )
        journey_ids = cached_behind(okey, behind, _overlay=overlay)
        if journey_ids:
            timeline = cached_timeline(okey, tuple(journey_ids), not unmask, _overlay=overlay, _names=tp_names)
            order = [c.id for c in journey_map.channels]
            st.plotly_chart(
                journey_timeline(
                    timeline.with_columns(pl.col("channel").replace(channel_names)),
                    channel_order=[channel_names.get(c, c) for c in order],
                    title=f"{len(journey_ids)} sample journeys behind this finding",
                ),
                key=OverlayKeys.TIMELINE,
            )
            st.dataframe(timeline.to_pandas(), hide_index=True, key=_k(OverlayKeys.TIMELINE, "_table"))
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


def _rate(label: str, help_text: str) -> Any:
    return st.column_config.NumberColumn(label, format="percent", help=help_text)


SIGN_COLUMNS: dict[str, Any] = {
    "context_loss_score": st.column_config.NumberColumn(
        "Context-loss score", format="%.2f", help="Weighted signs of lost context, 0 (none) to 1"
    ),
    "repeat_step_rate": _rate("Repeat step", "Moves after which the customer repeats a step already done"),
    "reidentify_rate": _rate("Re-identify", "Moves after which the customer has to identify again"),
    "bounce_back_rate": _rate("Bounce back", "Moves after which the customer goes back to the first channel"),
    "repeat_contact_rate": _rate("Repeat contact", "Moves followed by another assisted contact soon"),
    "abandon_rate": _rate("Abandon", "Moves after which the journey ends unconverted"),
}


def _pair_columns(kind: Literal["channel", "team"]) -> dict[str, Any]:
    source, target = pair_ends(kind)
    return {
        source: st.column_config.TextColumn(f"From {kind}"),
        target: st.column_config.TextColumn(f"To {kind}"),
        "count": st.column_config.NumberColumn("Moves", format="localized"),
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "journeys": st.column_config.NumberColumn("Journeys", format="localized"),
        "ping_pong": st.column_config.NumberColumn(
            "Ping-pong", format="localized", help=f"Moves that return to a {kind} the journey had already left"
        ),
        "median_wait_s": st.column_config.NumberColumn(
            "Median wait", format="duration", help="Median time between the two events of the move"
        ),
        **SIGN_COLUMNS,
    }


def _pair_listing(
    table: pl.DataFrame, search: str, kind: Literal["channel", "team"], *, keys: tuple[str, str], file_name: str
) -> None:
    """Every pair of one kind: the rows matching the search, how many of all are shown, and all as CSV."""
    shown = filter_rows(table, search, pair_ends(kind))
    st.dataframe(shown.to_pandas(), hide_index=True, column_config=_pair_columns(kind), key=_k(keys[0], ds_scope))
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
        st.dataframe(
            rows.select([c for c in SILO_ROW_COLUMNS if c in rows.columns]).to_pandas(),
            hide_index=True,
            column_config={
                "source": st.column_config.TextColumn("From touchpoint"),
                "target": st.column_config.TextColumn("To touchpoint"),
                "count": st.column_config.NumberColumn("Moves", format="localized"),
                "customers": st.column_config.NumberColumn("Customers", format="localized"),
                "channel_switches": st.column_config.NumberColumn("Channel switches", format="localized"),
                "team_handoffs": st.column_config.NumberColumn("Team handoffs", format="localized"),
                "declared_carry": st.column_config.TextColumn("Declared carry"),
                "finding": st.column_config.TextColumn("Finding", width="large"),
                **SIGN_COLUMNS,
            },
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
        st.dataframe(
            teams_shown.to_pandas(),
            hide_index=True,
            column_config={
                "team": st.column_config.TextColumn("Team"),
                "events": st.column_config.NumberColumn("Events", format="localized"),
                "handoffs_in": st.column_config.NumberColumn("Handoffs in", format="localized"),
                "handoffs_out": st.column_config.NumberColumn("Handoffs out", format="localized"),
                "ping_pong_in": st.column_config.NumberColumn(
                    "Ping-pong in", format="localized", help="Handoffs in that return the journey to this team"
                ),
                "median_wait_after_handoff_s": st.column_config.NumberColumn(
                    "Median wait after a handoff", format="duration"
                ),
            },
            key=_k(OverlayKeys.TEAMS_TABLE, ds_scope),
        )
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
    st.dataframe(
        table.to_pandas(),
        hide_index=True,
        column_config={
            "from": st.column_config.TextColumn("From"),
            "to": st.column_config.TextColumn("To"),
            "declared_carry": st.column_config.TextColumn("Declared carry", help="Context carry the map declares"),
            "context_loss_score": st.column_config.NumberColumn(
                "Measured loss", format="%.2f", help="Context-loss score measured on the moves along it, 0 to 1"
            ),
            "verdict": st.column_config.TextColumn("Verdict", width="large"),
            "crossing": st.column_config.TextColumn("Crosses"),
            "moves": st.column_config.NumberColumn("Moves", format="localized"),
            "channel_switches": st.column_config.NumberColumn("Channel switches", format="localized"),
            "team_handoffs": st.column_config.NumberColumn("Team handoffs", format="localized"),
        },
        key=_k(OverlayKeys.DESIGNED_TABLE, ds_scope),
    )


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
