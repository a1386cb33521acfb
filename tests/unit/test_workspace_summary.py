"""The workspace home's figures, on three named maps whose rows are written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pandas as pd
import polars as pl
import pytest

from journeymap.store import MapSummary, RevisionInfo
from journeymap.store.reviews import ReviewCounts
from journeymap.workspace_summary import (
    NO_DATA,
    SUMMARY_COLUMNS,
    filter_workspace,
    mean_level,
    newest_dataset_by_map,
    summarize_workspace,
    top_finding,
)


def _summary(map_id: int, name: str, owner: str, when: datetime, revisions: int, tps: int, silos: int) -> MapSummary:
    latest = RevisionInfo(
        id=map_id * 10 + revisions,
        map_id=map_id,
        number=revisions,
        parent_id=None,
        created_at=when,
        author=owner,
        message="",
        touchpoints=tps,
        transitions=tps,
        silo_handoffs=silos,
    )
    return MapSummary(
        id=map_id,
        name=name,
        owner=owner,
        created_at=when,
        updated_at=when,
        archived=False,
        revision_count=revisions,
        latest_revision=latest,
    )


def retail() -> MapSummary:
    """Ana's map: 3 revisions, 8 touchpoints, 2 silo handoffs, changed 2026-11-20 14:05."""
    return _summary(1, "Retail BOPIS", "Ana", datetime(2026, 11, 20, 14, 5, tzinfo=UTC), 3, 8, 2)


def telecom() -> MapSummary:
    """Bo's map: 1 revision, 5 touchpoints, no silo handoff."""
    return _summary(2, "Telecom support", "Bo", datetime(2026, 11, 21, 8, 0, tzinfo=UTC), 1, 5, 0)


def travel() -> MapSummary:
    """Ana's second map: 2 revisions, 6 touchpoints, 1 silo handoff."""
    return _summary(3, "Hotel stay", "Ana", datetime(2026, 11, 22, 23, 59, tzinfo=UTC), 2, 6, 1)


COUNTS = {
    1: ReviewCounts(open_comments=2, open_opportunities=0),
    3: ReviewCounts(open_comments=0, open_opportunities=3),
}
HEADLINES = {1: "Half of the pick-up desk visits end unconverted."}


@pytest.fixture
def workspace() -> pd.DataFrame:
    return summarize_workspace([retail(), telecom(), travel()], COUNTS, HEADLINES)


def test_one_row_per_map_with_every_figure(workspace: pd.DataFrame) -> None:
    assert list(workspace.columns) == list(SUMMARY_COLUMNS)
    assert workspace.index.name == "map_id"
    assert workspace.reset_index().values.tolist() == [
        [1, "Retail BOPIS", "Ana", "2026-11-20 14:05 UTC", 3, 8, 2, 2, 0, HEADLINES[1]],
        [2, "Telecom support", "Bo", "2026-11-21 08:00 UTC", 1, 5, 0, 0, 0, NO_DATA],
        [3, "Hotel stay", "Ana", "2026-11-22 23:59 UTC", 2, 6, 1, 0, 3, NO_DATA],
    ]
    counts = ["Revisions", "Touchpoints", "Silo handoffs", "Open comments", "Open opportunities"]
    assert {str(workspace[c].dtype) for c in counts} == {"int64"}


def test_maturity_column_only_when_levels_are_given() -> None:
    frame = summarize_workspace([retail(), telecom()], {}, {}, levels={2: 3.25})
    assert list(frame.columns) == [*SUMMARY_COLUMNS, "Maturity"]
    assert frame["Maturity"].tolist()[1] == 3.2  # rounded to one decimal (banker's rounding of 3.25)
    assert pd.isna(frame.loc[1, "Maturity"])


def test_an_empty_workspace_has_the_columns_and_no_rows() -> None:
    frame = summarize_workspace([], {}, {})
    assert list(frame.columns) == list(SUMMARY_COLUMNS)
    assert frame.empty


@pytest.mark.parametrize(
    ("owners", "silo", "opportunities", "expected"),
    [
        ((), False, False, [1, 2, 3]),
        (("Ana",), False, False, [1, 3]),
        (("Bo",), False, False, [2]),
        (("Ana", "Bo"), False, False, [1, 2, 3]),
        ((), True, False, [1, 3]),
        ((), False, True, [3]),
        ((), True, True, [3]),
        (("Bo",), True, False, []),
        (("Nobody",), False, False, []),
    ],
)
def test_filters(
    workspace: pd.DataFrame, owners: tuple[str, ...], silo: bool, opportunities: bool, expected: list[int]
) -> None:
    shown = filter_workspace(workspace, owners=owners, with_silo_handoffs=silo, with_open_opportunities=opportunities)
    assert shown.index.tolist() == expected
    assert list(shown.columns) == list(SUMMARY_COLUMNS)


def test_newest_dataset_per_map_from_a_newest_first_list() -> None:
    datasets = [
        SimpleNamespace(id=12, map_id=3),
        SimpleNamespace(id=11, map_id=None),
        SimpleNamespace(id=10, map_id=1),
        SimpleNamespace(id=9, map_id=3),
        SimpleNamespace(id=8, map_id=1),
    ]
    assert {k: v.id for k, v in newest_dataset_by_map(datasets).items()} == {3: 12, 1: 10}
    assert newest_dataset_by_map([]) == {}


def test_top_finding_of_polars_and_pandas_rankings() -> None:
    ranking = {"kind": ["transition", "touchpoint"], "finding": ["Customers repeat the step.", "Long wait."]}
    assert top_finding(pl.DataFrame(ranking)) == "Customers repeat the step."
    assert top_finding(pd.DataFrame(ranking, index=[5, 4])) == "Customers repeat the step."
    assert top_finding(pl.DataFrame({"finding": []}, schema={"finding": pl.String})) == (
        "No friction above the map's baseline."
    )
    assert top_finding(None, empty_text="none") == "none"


def test_mean_level_of_assessed_dimensions() -> None:
    assert mean_level({"a": 2.0, "b": 3.0, "c": 4.5}) == pytest.approx(9.5 / 3)
    assert mean_level({"a": 1.0}) == 1.0
    assert mean_level({}) is None
