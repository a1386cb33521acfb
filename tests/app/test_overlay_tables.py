"""The overlay's result tables in a CX team's words: every column labelled and defined, rates as percentages,
touchpoints and channels by their names on the map.

The files are those of ``test_overlay_page.py``, whose docstrings work their figures out by hand. On the support
file (``EVENTS``) three journeys move from the website to chat (browse → ask: c1, c2, c3). Two of the three give
up within 24 h without converting (c2 ends at the call, c3 at the chat) and two of the three need another assisted
contact, the call (c1, c2); nobody repeats a step, identifies again or bounces back. So the Website → Chat row
reads "Give up 67%", "Contact again 67%", 0% for the other signs, and a context-loss score of
0.2 × 2/3 + 0.15 × 2/3 = 0.23.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from journeymap.ui.state import OverlayKeys
from tests.app.test_overlay_page import EVENTS, TEAM_EVENTS, _by_key_prefix, _open_with, support_map

MakeApp = Callable[..., AppTest]
IDS = {tp.id for tp in support_map().touchpoints} | {c.id for c in support_map().channels}
"""Touchpoint and channel ids of the map (browse, ask, call, web, chat, phone): never a cell of a table."""


@pytest.fixture
def support_map_id(engine: Any) -> int:
    from journeymap.store import create_map, init_db, session_scope

    init_db(engine)
    with session_scope(engine) as session:
        return create_map(session=session, journey_map=support_map(), author="Test").map_id


def _open_file(make_app: MakeApp, map_id: int, tmp_path: Path, text: str, owner: str | None = None) -> AppTest:
    path = tmp_path / "events.csv"
    path.write_text(text, encoding="utf-8")
    return _open_with(make_app, map_id, path, owner=owner)


def _tables(at: AppTest) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """Every table on the page by its first column: the values shown and each column's configuration."""
    out: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {}
    for df in at.dataframe:
        frame = df.value
        out[str(frame.columns[0])] = (frame, json.loads(df.proto.columns or "{}"))  # type: ignore[attr-defined]
    return out


def test_every_column_of_every_result_table_has_a_plain_label_and_a_definition(
    make_app: MakeApp, support_map_id: int, tmp_path: Path
) -> None:
    at = _open_file(make_app, support_map_id, tmp_path, TEAM_EVENTS, owner="team")
    _by_key_prefix(at.selectbox, OverlayKeys.DRILL_CHOICE).select_index(0).run()  # the drill-down's events too
    tables = _tables(at)
    # Friction board, journeys behind a finding, channel pairs, the switches behind one, team pairs, teams,
    # designed handoffs.
    assert set(tables) == {"kind", "journey", "from_channel", "source", "from_team", "team", "from"}
    for first, (frame, config) in tables.items():
        for column in frame.columns:
            shown = config.get(column, {})
            label, definition = shown.get("label", ""), shown.get("help", "")
            assert label and "_" not in label and label != column, (first, column, shown)
            assert len(definition) > 20, (first, column, shown)
            if column.endswith("_rate"):  # a share of moves: a whole percentage of 0 to 100
                assert shown["type_config"]["format"] == "%.0f%%", (first, column, shown)
                assert frame[column].dropna().between(0, 100).all(), (first, column, frame[column].tolist())


def test_rates_read_as_whole_percentages_worked_by_hand(make_app: MakeApp, support_map_id: int, tmp_path: Path) -> None:
    at = _open_file(make_app, support_map_id, tmp_path, EVENTS)
    frame, config = _tables(at)["from_channel"]
    row = frame[(frame["from_channel"] == "Website") & (frame["to_channel"] == "Chat")].iloc[0]
    assert row["count"] == 3
    assert row["abandon_rate"] == pytest.approx(100 * 2 / 3)  # shown as 67%
    assert row["repeat_contact_rate"] == pytest.approx(100 * 2 / 3)
    assert [row[c] for c in ("repeat_step_rate", "reidentify_rate", "bounce_back_rate")] == [0, 0, 0]
    assert f"{row['context_loss_score']:.2f}" == f"{0.2 * 2 / 3 + 0.15 * 2 / 3:.2f}" == "0.23"
    assert {c: (config[c]["label"], config[c]["type_config"]["format"]) for c in (
        "abandon_rate", "repeat_contact_rate", "context_loss_score")} == {
        "abandon_rate": ("Give up", "%.0f%%"),
        "repeat_contact_rate": ("Contact again", "%.0f%%"),
        "context_loss_score": ("Context-loss score", "%.2f"),
    }  # fmt: skip
    assert "without reaching the goal" in config["abandon_rate"]["help"]


def test_touchpoints_and_channels_are_shown_by_name(
    make_app: MakeApp, support_map_id: int, tmp_path: Path, graph_payload: Callable[[AppTest], dict[str, Any]]
) -> None:
    at = _open_file(make_app, support_map_id, tmp_path, TEAM_EVENTS, owner="team")
    _by_key_prefix(at.selectbox, OverlayKeys.DRILL_CHOICE).select_index(0).run()
    tables = _tables(at)

    # The switches behind the busiest channel pair (Chat → Phone: ask → call, c1 and c2), by touchpoint name.
    switches, _ = tables["source"]
    assert switches[["source", "target", "count"]].values.tolist() == [["Ask in chat", "Call", 2]]
    # Ask's events: three in chat, c3's on the website; by channel name beside its designed channel.
    board, _ = tables["kind"]
    ask = board[(board["kind"] == "touchpoint") & (board["item"] == "Ask in chat")].iloc[0]
    assert (ask["designed_channel"], ask["seen_in"]) == ("Chat", "Chat 75% · Website 25%")
    events, _ = tables["journey"]
    assert set(events["channel"]) <= {"Website", "Chat", "Phone"} and set(events["touchpoint"]) <= {
        "Browse", "Ask in chat", "Call"}  # fmt: skip
    for first, (frame, _) in tables.items():
        cells = {str(v) for column in frame.columns for v in frame[column].tolist()}
        assert not cells & IDS, (first, cells & IDS)

    # Hovering an edge of the graph names its touchpoints too.
    edge = next(e for e in graph_payload(at)["edges"] if (e["from"], e["to"]) == ("browse", "ask"))
    assert edge["title"].startswith("Browse → Ask in chat")
