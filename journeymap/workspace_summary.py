"""The workspace home's figures: one row per saved map, from values the store and the overlay already hold.

Everything here is pure: the page gathers map summaries, review counts, friction headlines and
maturity levels (each cheap or cached) and these functions shape them into the table a manager
reads, and narrow it with the page's filters. Nothing is read from a database or an event file.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

__all__ = [
    "NO_DATA",
    "SUMMARY_COLUMNS",
    "MapCounts",
    "filter_workspace",
    "mean_level",
    "newest_dataset_by_map",
    "summarize_workspace",
    "top_finding",
]

NO_DATA = "—"
"""What a cell shows when the map has nothing to say there (no dataset, no assessment)."""

SUMMARY_COLUMNS = (
    "Name",
    "Owner",
    "Last change",
    "Revisions",
    "Touchpoints",
    "Silo handoffs",
    "Open comments",
    "Open opportunities",
    "Friction headline",
)
"""Columns of :func:`summarize_workspace`, in order (``"Maturity"`` follows when levels are given)."""


class MapCounts(Protocol):
    """Open review items of one map (``journeymap.store.reviews.ReviewCounts`` has this shape)."""

    @property
    def open_comments(self) -> int: ...

    @property
    def open_opportunities(self) -> int: ...


def summarize_workspace(
    maps: Sequence[Any],
    counts: Mapping[int, MapCounts],
    headlines: Mapping[int, str],
    levels: Mapping[int, float] | None = None,
) -> pd.DataFrame:
    """One row per map: owner, last change, revisions, structure, open review items, friction, maturity.

    Parameters
    ----------
    maps:
        Map summaries in display order, each with ``id``, ``name``, ``owner``, ``updated_at``
        (a datetime, shown in UTC), ``revision_count`` and ``latest_revision`` (with
        ``touchpoints`` and ``silo_handoffs``) — :class:`journeymap.store.MapSummary`.
    counts:
        Map id → open comments and opportunities; a map missing here has none open.
    headlines:
        Map id → the top finding of the friction ranking of the map's newest dataset; a map
        missing here has no dataset and shows :data:`NO_DATA`.
    levels:
        Map id → maturity level (1–5). ``None`` leaves the ``"Maturity"`` column out (no
        assessment belongs to a map); a map missing from a given mapping shows ``None``.

    Returns
    -------
    pd.DataFrame
        The columns of :data:`SUMMARY_COLUMNS` (then ``"Maturity"``), indexed by map id
        (index name ``"map_id"``).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from types import SimpleNamespace as NS
    >>> m = NS(id=7, name="Returns", owner="Ana", updated_at=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
    ...        revision_count=3, latest_revision=NS(touchpoints=6, silo_handoffs=2))
    >>> frame = summarize_workspace([m], {7: NS(open_comments=1, open_opportunities=4)}, {})
    >>> frame.reset_index().values.tolist()
    [[7, 'Returns', 'Ana', '2026-05-04 09:30 UTC', 3, 6, 2, 1, 4, '—']]
    """
    columns = list(SUMMARY_COLUMNS) + (["Maturity"] if levels is not None else [])
    rows = []
    for summary in maps:
        found = counts.get(summary.id)
        row: dict[str, Any] = {
            "Name": summary.name,
            "Owner": summary.owner,
            "Last change": summary.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
            "Revisions": int(summary.revision_count),
            "Touchpoints": int(summary.latest_revision.touchpoints),
            "Silo handoffs": int(summary.latest_revision.silo_handoffs),
            "Open comments": int(found.open_comments) if found is not None else 0,
            "Open opportunities": int(found.open_opportunities) if found is not None else 0,
            "Friction headline": headlines.get(summary.id, NO_DATA),
        }
        if levels is not None:
            level = levels.get(summary.id)
            row["Maturity"] = None if level is None else round(float(level), 1)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns, index=pd.Index([m.id for m in maps], name="map_id", dtype="int64"))
    for name in ("Revisions", "Touchpoints", "Silo handoffs", "Open comments", "Open opportunities"):
        frame[name] = frame[name].astype("int64")
    if levels is not None:
        frame["Maturity"] = frame["Maturity"].astype("float64")
    return frame


def filter_workspace(
    frame: pd.DataFrame,
    *,
    owners: Iterable[str] = (),
    with_silo_handoffs: bool = False,
    with_open_opportunities: bool = False,
) -> pd.DataFrame:
    """The rows of a :func:`summarize_workspace` frame that pass the home page's filters.

    ``owners`` empty keeps every owner; the two flags keep only maps with at least one silo
    handoff in their latest revision, or at least one open (or in-progress) opportunity.

    Examples
    --------
    >>> frame = pd.DataFrame({"Owner": ["Ana", "Bo", "Ana"], "Silo handoffs": [0, 2, 1],
    ...                       "Open opportunities": [1, 0, 0]}, index=[1, 2, 3])
    >>> filter_workspace(frame, owners=["Ana"], with_silo_handoffs=True).index.tolist()
    [3]
    >>> filter_workspace(frame, with_open_opportunities=True).index.tolist()
    [1]
    """
    keep = pd.Series(True, index=frame.index)
    chosen = set(owners)
    if chosen:
        keep &= frame["Owner"].isin(chosen)
    if with_silo_handoffs:
        keep &= frame["Silo handoffs"] > 0
    if with_open_opportunities:
        keep &= frame["Open opportunities"] > 0
    return frame[keep]


def newest_dataset_by_map(datasets: Iterable[Any]) -> dict[int, Any]:
    """Map id → its newest registered dataset, from datasets listed newest first (as the store lists them).

    Datasets registered without a map are left out.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> newest = newest_dataset_by_map([NS(id=9, map_id=1), NS(id=8, map_id=None), NS(id=5, map_id=1),
    ...                                 NS(id=4, map_id=2)])
    >>> {map_id: d.id for map_id, d in newest.items()}
    {1: 9, 2: 4}
    """
    newest: dict[int, Any] = {}
    for dataset in datasets:
        if dataset.map_id is not None and dataset.map_id not in newest:
            newest[int(dataset.map_id)] = dataset
    return newest


def top_finding(friction: Any, *, empty_text: str = "No friction above the map's baseline.") -> str:
    """The finding of the first row of a friction ranking (Polars or pandas, sorted worst first).

    Examples
    --------
    >>> import polars as pl
    >>> top_finding(pl.DataFrame({"finding": ["Half of the callers call again.", "Slow page."]}))
    'Half of the callers call again.'
    >>> top_finding(pl.DataFrame({"finding": []}, schema={"finding": pl.String}))
    "No friction above the map's baseline."
    """
    if friction is None or len(friction) == 0:
        return empty_text
    first = friction["finding"][0] if hasattr(friction, "to_dicts") else friction["finding"].iloc[0]
    return str(first) if first else empty_text


def mean_level(levels: Mapping[str, float]) -> float | None:
    """The mean of the assessed dimensions' consensus levels; ``None`` when nothing was assessed.

    Examples
    --------
    >>> mean_level({"customer_focus": 2.0, "data_integration": 3.5, "ownership": 2.5})
    2.6666666666666665
    >>> mean_level({}) is None
    True
    """
    values = [float(v) for v in levels.values()]
    return statistics.fmean(values) if values else None
