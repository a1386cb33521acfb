"""Plain words for the overlay's tables: one label and one definition for every column a page shows.

The domain frames keep their contract column names (``repeat_step_rate``, ``context_loss_score``,
``median_wait_s``...): the command line and the CSV downloads use them. A page shows such a frame
through :func:`show_table`, which looks every column up in :data:`COLUMNS`: the header a CX team
reads, the definition one hover away, and the format its kind asks for. Rates are shown as whole
percentages (a display copy scaled to 0–100, the frame itself unchanged); a column without words
is refused, so no contract name reaches the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import polars as pl
import streamlit as st

__all__ = ["COLUMNS", "ColumnWords", "column_config", "for_display", "show_table"]

Kind = Literal["text", "count", "rate", "score", "whole", "component", "duration", "time"]


@dataclass(frozen=True)
class ColumnWords:
    """How one column reads: its header, its definition (shown on hover), and what kind of value it holds."""

    label: str
    help: str
    kind: Kind = "text"


_COMPONENT = "0 = at or below the map's baseline (the median of its kind), 1 = twice it, 2 = four times."
_MOVE = "a move is two consecutive events of one journey"

COLUMNS: Mapping[str, ColumnWords] = {
    # friction board
    "kind": ColumnWords(
        "Kind", "Touchpoint: one moment of the journey. Transition: a move from one touchpoint to the next."
    ),
    "item": ColumnWords("Touchpoint / transition", "Where the friction is, by the names on the map."),
    "score": ColumnWords(
        "Friction score",
        "Weighted sum of the drop-off, repeat, wait and context-loss components; higher is worse.",
        "score",
    ),
    "customers_affected": ColumnWords(
        "Customers", "Customers who went through this touchpoint or transition.", "count"
    ),
    "finding": ColumnWords("Finding", "The strongest sign, in one sentence."),
    "dropoff": ColumnWords(
        "Drop-off", f"Journeys that end here or after this move without reaching the goal. {_COMPONENT}", "component"
    ),
    "repeat": ColumnWords(
        "Repeat",
        f"Repeat visits (touchpoints) or steps done again after the move (transitions). {_COMPONENT}",
        "component",
    ),
    "wait": ColumnWords("Wait", f"Median time to the next event. {_COMPONENT}", "component"),
    "context_loss": ColumnWords(
        "Context loss", f"Context-loss score of a move between channels or teams. {_COMPONENT}", "component"
    ),
    "designed_channel": ColumnWords("Designed channel", "The channel the map places this touchpoint in."),
    "seen_in": ColumnWords(
        "Seen in", "Channels this touchpoint's events were recorded in, with their share of its visits."
    ),
    # the two ends of a move
    "from_channel": ColumnWords("From channel", f"Channel of the first event of the move ({_MOVE})."),
    "to_channel": ColumnWords("To channel", "Channel of the second event of the move."),
    "from_team": ColumnWords("From team", f"Team that handled the first event of the move ({_MOVE})."),
    "to_team": ColumnWords("To team", "Team that handled the second event of the move."),
    "source": ColumnWords("From touchpoint", f"Touchpoint of the first event of the move ({_MOVE})."),
    "target": ColumnWords("To touchpoint", "Touchpoint of the second event of the move."),
    "from": ColumnWords("From", "Touchpoint the designed transition starts from."),
    "to": ColumnWords("To", "Touchpoint the designed transition leads to."),
    # volumes
    "count": ColumnWords("Moves", f"How many times customers made this move ({_MOVE}).", "count"),
    "moves": ColumnWords("Moves", f"How many times customers made this move ({_MOVE}).", "count"),
    "customers": ColumnWords("Customers", "Customers who made this move at least once.", "count"),
    "journeys": ColumnWords("Journeys", "Journeys with this move at least once.", "count"),
    "channel_switches": ColumnWords("Channel switches", "Moves whose two events were in different channels.", "count"),
    "team_handoffs": ColumnWords("Team handoffs", "Moves whose two events were handled by different teams.", "count"),
    "ping_pong": ColumnWords(
        "Ping-pong", "Moves that take the journey back to a channel or team it had already left.", "count"
    ),
    "median_wait_s": ColumnWords("Median wait", "Median time between the two events of the move.", "duration"),
    # signs that the customer had to start over
    "context_loss_score": ColumnWords(
        "Context-loss score",
        "Signs that customers had to start over after the move, weighted: repeat a step and identify again weigh "
        "most, then bounce back, contact again and give up. 0 = no sign, 1 = every sign after every move.",
        "score",
    ),
    "repeat_step_rate": ColumnWords(
        "Repeat a step", "Share of the moves after which the customer does again a step already done.", "rate"
    ),
    "reidentify_rate": ColumnWords(
        "Identify again",
        "Share of the moves after which the customer has to identify again, having done so earlier in the journey.",
        "rate",
    ),
    "bounce_back_rate": ColumnWords(
        "Bounce back",
        "Share of the moves after which the customer soon goes back to the first channel, off the map.",
        "rate",
    ),
    "repeat_contact_rate": ColumnWords(
        "Contact again", "Share of the moves followed soon by another assisted contact (call, chat, desk).", "rate"
    ),
    "abandon_rate": ColumnWords(
        "Give up", "Share of the moves after which the journey soon ends without reaching the goal.", "rate"
    ),
    "declared_carry": ColumnWords(
        "Declared carry",
        "Context carry the map declares for this transition (full, partial, none); empty when it is not on the map.",
    ),
    "verdict": ColumnWords("Verdict", "Whether the context loss measured on the moves agrees with the declared carry."),
    "crossing": ColumnWords("Crosses", "What the designed transition crosses: a channel, a team, or both."),
    # teams
    "team": ColumnWords("Team", "The team (resource / owner column of the events)."),
    "events": ColumnWords("Events", "Events this team handled.", "count"),
    "handoffs_in": ColumnWords("Handoffs in", "Moves that hand the journey to this team from another.", "count"),
    "handoffs_out": ColumnWords("Handoffs out", "Moves that hand the journey from this team to another.", "count"),
    "ping_pong_in": ColumnWords(
        "Ping-pong in", "Handoffs in that bring the journey back to this team after it had left it.", "count"
    ),
    "median_wait_after_handoff_s": ColumnWords(
        "Median wait after a handoff",
        "Median time from the event before a handoff in to this team's event.",
        "duration",
    ),
    # one journey's events
    "journey": ColumnWords("Journey", "Number of the journey in this dataset: the events of one journey share it."),
    "customer": ColumnWords("Customer", "The customer; masked unless identifiers are shown."),
    "ts": ColumnWords("Time", "When the event happened (UTC).", "time"),
    "touchpoint": ColumnWords("Touchpoint", "Touchpoint of the event, by its name on the map."),
    "channel": ColumnWords("Channel", "Channel the event was recorded in."),
    # what if the context travelled across some handoffs
    "kpi": ColumnWords("KPI", "A journey KPI over the journeys that are over."),
    "observed": ColumnWords("Observed", "As measured in the event data."),
    "predicted": ColumnWords("Predicted", "With the context kept across the chosen handoffs."),
    "predicted_interval": ColumnWords(
        "95% interval", "Where the predicted value lies with 95% confidence, from draws of the journey graph."
    ),
    "change": ColumnWords(
        "Change (95% interval)", "Predicted minus observed (percentage points for shares), with its 95% interval."
    ),
    "outcome": ColumnWords("Outcome", "What followed each crossing of the handoff."),
    "kept_value": ColumnWords("Context kept", "Mean after the crossings where the context was kept."),
    "lost_value": ColumnWords(
        "Context lost", "Mean after the crossings where the customer re-identified, repeated a step or bounced back."
    ),
    "effect": ColumnWords(
        "Effect of keeping it",
        "Kept minus lost, compared within strata (source touchpoint, segment, channels and identification before), "
        "with its 95% bootstrap interval; 'not enough evidence' when too few crossings could be compared.",
    ),
    "compared": ColumnWords("Crossings compared", "Crossings that kept and that lost the context, compared."),
    "handoff": ColumnWords("Handoff", "A designed transition, or a channel or team pair observed in the events."),
    "crossings": ColumnWords(
        "Crossings", "Moves of this handoff whose two events were in different channels or teams.", "count"
    ),
    "lost_crossings": ColumnWords(
        "Lost the context",
        "Crossings after which the customer re-identified, repeated a step or bounced back.",
        "count",
    ),
    "customers_losing_context": ColumnWords(
        "Customers affected", "Customers with at least one crossing of this handoff that lost the context.", "count"
    ),
    "kpi_effect": ColumnWords(
        "Effect",
        "Effect of keeping the context on completion (percentage points), or on effort (events to the end) when no "
        "goal is chosen; 'not enough evidence' when too few crossings could be compared.",
    ),
    "predicted_gain": ColumnWords(
        "Predicted gain",
        "Customers affected × effect: customers more completing (with a goal), or events saved (without one).",
        "whole",
    ),
    "graph_gain": ColumnWords(
        "Journey graph gain",
        "The same gain from the journey graph re-run with this handoff alone fixed: completed journeys more (with a "
        "goal), or events saved (without one).",
        "whole",
    ),
}
"""Words for every column an overlay table shows, by contract column name."""


_WIDE = frozenset({"finding", "verdict"})
"""Sentences: the widest columns."""

_NUMBER_FORMATS: Mapping[Kind, Any] = {
    "rate": "%.0f%%",
    "score": "%.2f",
    "whole": "%.0f",
    "component": "%.2f",
    "count": "localized",
    "duration": "duration",
}


def _words(column: str) -> ColumnWords:
    try:
        return COLUMNS[column]
    except KeyError:
        raise LookupError(f"column '{column}' has no plain label: add it to journeymap.ui.labels.COLUMNS") from None


def column_config(columns: Iterable[str]) -> dict[str, Any]:
    """``st.dataframe``'s ``column_config`` for these columns: label, definition on hover, format by kind.

    Raises ``LookupError`` for a column without words in :data:`COLUMNS`.

    Examples
    --------
    >>> config = column_config(["repeat_step_rate"])["repeat_step_rate"]
    >>> config["label"], config["type_config"]["format"]
    ('Repeat a step', '%.0f%%')
    """
    config: dict[str, Any] = {}
    for column in columns:
        words = _words(column)
        label, help_text = words.label, words.help
        if words.kind == "time":
            config[column] = st.column_config.DatetimeColumn(label, help=help_text, format="YYYY-MM-DD HH:mm")
        elif words.kind == "text":
            wide = column in _WIDE
            config[column] = st.column_config.TextColumn(label, help=help_text, width="large" if wide else None)
        else:
            config[column] = st.column_config.NumberColumn(label, help=help_text, format=_NUMBER_FORMATS[words.kind])
    return config


def for_display(frame: pl.DataFrame) -> pd.DataFrame:
    """The frame as pandas for a table, its rates as percentages (0–100); the frame itself is unchanged.

    Examples
    --------
    >>> for_display(pl.DataFrame({"count": [4], "abandon_rate": [0.25]})).to_dict("records")
    [{'count': 4, 'abandon_rate': 25.0}]
    """
    rates = [c for c in frame.columns if c in COLUMNS and COLUMNS[c].kind == "rate"]
    return frame.with_columns(pl.col(c).cast(pl.Float64) * 100 for c in rates).to_pandas()


def show_table(frame: pl.DataFrame, *, key: str, **kwargs: Any) -> Any:
    """``st.dataframe`` of a contract frame in plain words (:func:`column_config`, :func:`for_display`).

    Other keyword arguments (a row selection, say) go to ``st.dataframe`` as they are.
    """
    return st.dataframe(
        for_display(frame), hide_index=True, column_config=column_config(frame.columns), key=key, **kwargs
    )
