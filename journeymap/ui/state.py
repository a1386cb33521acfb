"""Every session-state and widget key used by the pages, in one place.

Session state holds the user's choices (which map, which touchpoint, who is the author) and the
working copy of the map being edited; the working copy is also written to the database as a draft
after every accepted edit, so a browser refresh never loses it.
"""

from __future__ import annotations

__all__ = ["QueryParams", "StateKeys"]


class QueryParams:
    """Names of the URL query parameters (they survive a browser refresh, session state does not)."""

    MAP = "map"
    CLIENT = "client"


class StateKeys:
    """Session-state keys. Widget keys are built from these too, so no page spells a key as a literal."""

    # Choices that outlive one page.
    CLIENT_KEY = "jm_client_key"
    MAP_ID = "jm_map_id"
    AUTHOR = "jm_author"

    # The working copy of the open map.
    WORKING_MAP = "jm_working_map"
    WORKING_MAP_ID = "jm_working_map_id"
    BASE_REVISION_ID = "jm_base_revision_id"
    DRAFT_NOTICE = "jm_draft_notice"
    DIRTY = "jm_dirty"
    LAST_GRAPH_VALUE = "jm_last_graph_value"
    SELECTED_NODE = "jm_selected_node"
    PENDING_DELETE = "jm_pending_delete"
    TABLE_VERSION = "jm_table_version"
    FLASH = "jm_flash"

    # Sidebar widgets.
    SIDEBAR_AUTHOR = "jm_sidebar_author"

    # Maps page widgets.
    MAPS_SEARCH = "jm_maps_search"
    MAPS_NEW_NAME = "jm_maps_new_name"
    MAPS_NEW_SUBMIT = "jm_maps_new_submit"
    MAPS_TEMPLATE = "jm_maps_template"
    MAPS_TEMPLATE_NAME = "jm_maps_template_name"
    MAPS_TEMPLATE_SUBMIT = "jm_maps_template_submit"
    MAPS_IMPORT_FILE = "jm_maps_import_file"
    MAPS_IMPORT_SUBMIT = "jm_maps_import_submit"
    MAPS_OPEN_CHOICE = "jm_maps_open_choice"
    MAPS_OPEN_SUBMIT = "jm_maps_open_submit"
    MAPS_TABLE = "jm_maps_table"

    # Editor page widgets.
    EDITOR_GRAPH = "jm_editor_graph"
    GRAPH_LAYOUT = "jm_graph_layout"
    EDITOR_SELECT_NODE = "jm_editor_select_node"
    TP_FORM = "jm_tp_form"
    TP_NAME = "jm_tp_name"
    TP_CHANNEL = "jm_tp_channel"
    TP_STAGE = "jm_tp_stage"
    TP_OWNER = "jm_tp_owner"
    TP_DESCRIPTION = "jm_tp_description"
    TP_EMOTION = "jm_tp_emotion"
    TP_PAIN_POINTS = "jm_tp_pain_points"
    TP_IDENTIFY = "jm_tp_identify"
    TP_FINAL = "jm_tp_final"
    TP_SUBMIT = "jm_tp_submit"
    TP_DELETE = "jm_tp_delete"
    TP_DELETE_CONFIRM = "jm_tp_delete_confirm"
    TP_DELETE_CANCEL = "jm_tp_delete_cancel"
    TP_NEW_FORM = "jm_tp_new_form"
    TP_NEW_PREFIX = "jm_tp_new"
    TR_FORM = "jm_tr_form"
    TR_SOURCE = "jm_tr_source"
    TR_TARGET = "jm_tr_target"
    TR_CARRY = "jm_tr_carry"
    TR_NOTE = "jm_tr_note"
    TR_SUBMIT = "jm_tr_submit"
    STAGE_FORM = "jm_stage_form"
    STAGE_CHOICE = "jm_stage_choice"
    STAGE_NAME = "jm_stage_name"
    STAGE_ADD = "jm_stage_add"
    STAGE_RENAME = "jm_stage_rename"
    STAGE_UP = "jm_stage_up"
    STAGE_DOWN = "jm_stage_down"
    STAGE_DELETE = "jm_stage_delete"
    CH_FORM = "jm_ch_form"
    CH_ID = "jm_ch_id"
    CH_NAME = "jm_ch_name"
    CH_KIND = "jm_ch_kind"
    CH_OWNER = "jm_ch_owner"
    CH_SUBMIT = "jm_ch_submit"
    TABLE_PREFIX = "jm_table"
    SAVE_FORM = "jm_save_form"
    RESTORE_READABLE = "jm_restore_readable"
    SAVE_MESSAGE = "jm_save_message"
    SAVE_SUBMIT = "jm_save_submit"
    DISCARD_DRAFT = "jm_discard_draft"
    EXPORT_JSON = "jm_export_json"
    IMPORT_FILE = "jm_import_file"
    IMPORT_SUBMIT = "jm_import_submit"
